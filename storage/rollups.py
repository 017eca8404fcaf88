"""Per-day rollups and the delivery funnel, maintained in the caller's transaction.

Reports read these instead of scanning every answer. The raw surveys stay the
source of truth: `storage.reports.rebuild_rollups` recomputes them from scratch.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.database import Connection

CES_EASY_MIN = 5


@dataclass(frozen=True, slots=True)
class Segment:
    """The key of a rollup row: a business day and where the visit happened."""

    day: str
    location: str
    staff: str
    touchpoint: str


def nps_bucket(score: int) -> str:
    """promoters (9-10), passives (7-8) or detractors (0-6): the rollup column."""
    if score >= 9:
        return "promoters"
    if score >= 7:
        return "passives"
    return "detractors"


async def _bump(conn: Connection, segment: Segment, columns: dict[str, int]) -> None:
    """Add to the day's row and to its month's row (long periods read months)."""
    names = ", ".join(columns)
    values = ", ".join(f":{name}" for name in columns)
    params = {
        "day": segment.day,
        "month": segment.day[:7],
        "location": segment.location,
        "staff": segment.staff,
        "touchpoint": segment.touchpoint,
        **columns,
    }
    for table, period in (("daily_rollups", "day"), ("monthly_rollups", "month")):
        updates = ", ".join(f"{name} = {table}.{name} + excluded.{name}" for name in columns)
        await conn.execute(
            f"INSERT INTO {table} ({period}, location, staff, touchpoint, {names})"
            f" VALUES (:{period}, :location, :staff, :touchpoint, {values})"
            f" ON CONFLICT ({period}, location, staff, touchpoint) DO UPDATE SET {updates}",
            params,
        )


async def add_sent(conn: Connection, segment: Segment) -> None:
    """A survey reached the customer (Telegram accepted it)."""
    await _bump(conn, segment, {"sent": 1})


async def add_nps(conn: Connection, segment: Segment, score: int) -> None:
    """An NPS answer: counts the survey as answered and in its bucket."""
    await _bump(conn, segment, {"answered": 1, nps_bucket(score): 1})


async def add_ces(conn: Connection, segment: Segment, score: int) -> None:
    """A CES answer (1..7); 5..7 counts as easy."""
    await _bump(
        conn,
        segment,
        {"ces_sum": score, "ces_count": 1, "ces_easy": int(score >= CES_EASY_MIN)},
    )


async def add_funnel(
    conn: Connection, day: str, location: str, event: str, count: int = 1
) -> None:
    """Count a delivery-funnel event: reported, scheduled, skipped:<reason>, sent,
    answered, failed, blocked, expired."""
    await conn.execute(
        "INSERT INTO funnel_daily (day, location, event, count)"
        " VALUES (:day, :location, :event, :count)"
        " ON CONFLICT (day, location, event) DO UPDATE SET count = funnel_daily.count + :count",
        {"day": day, "location": location, "event": event, "count": count},
    )
