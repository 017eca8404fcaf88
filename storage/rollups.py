"""Rollups and the delivery funnel, maintained in the caller's transaction.

Every counted event goes to daily_rollups (day x location x staff x touchpoint,
the finest grain) and to the per-kind tiers reports read (daily_segment_rollups and
monthly_segment_rollups: one row per location, staff, touchpoint and total). The
raw surveys stay the source of truth: `storage.reports.rebuild_rollups` recomputes
every tier from scratch.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from storage.db import Connection

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


# The kinds a report groups by; "total" has the one key ''. storage.reports reads these.
SEGMENT_KINDS = ("location", "staff", "touchpoint", "total")


@lru_cache(maxsize=64)
def _upsert_sql(
    table: str, key_columns: tuple[str, ...], names: tuple[str, ...], rows: int
) -> str:
    """INSERT .. ON CONFLICT DO UPDATE adding `names` to `rows` rows of `table`, whose
    row i takes key parameters `<key column><i>` and the shared counter parameters."""
    values = ", ".join(f":{name}" for name in names)
    tuples = ", ".join(
        "(" + ", ".join(f":{column}{index}" for column in key_columns) + f", {values})"
        for index in range(rows)
    )
    updates = ", ".join(f"{name} = {table}.{name} + excluded.{name}" for name in names)
    return (
        f"INSERT INTO {table} ({', '.join(key_columns)}, {', '.join(names)}) VALUES {tuples}"
        f" ON CONFLICT ({', '.join(key_columns)}) DO UPDATE SET {updates}"
    )


async def _bump(conn: Connection, segment: Segment, columns: dict[str, int]) -> None:
    """Add to the day's full-key row and to the day's and month's row of every segment
    kind: three statements, sent together."""
    names = tuple(columns)
    statements: list[tuple[str, dict[str, object]]] = [
        (
            _upsert_sql("daily_rollups", ("day", "location", "staff", "touchpoint"), names, 1),
            {
                "day0": segment.day,
                "location0": segment.location,
                "staff0": segment.staff,
                "touchpoint0": segment.touchpoint,
                **columns,
            },
        )
    ]
    keys = (segment.location, segment.staff, segment.touchpoint, "")
    for table, period_column, period in (
        ("daily_segment_rollups", "day", segment.day),
        ("monthly_segment_rollups", "month", segment.day[:7]),
    ):
        params: dict[str, object] = dict(columns)
        for index, (kind, key) in enumerate(zip(SEGMENT_KINDS, keys, strict=True)):
            params[f"kind{index}"] = kind
            params[f"{period_column}{index}"] = period
            params[f"segment_key{index}"] = key
        sql = _upsert_sql(table, ("kind", period_column, "segment_key"), names, len(SEGMENT_KINDS))
        statements.append((sql, params))
    await conn.execute_each(statements)


async def add_sent(conn: Connection, segment: Segment, count: int = 1) -> None:
    """Surveys reached the customer (Telegram accepted them)."""
    await _bump(conn, segment, {"sent": count})


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
    """Count a delivery-funnel event (reported, scheduled, skipped:<reason>, sent,
    answered, failed, blocked, expired) in its day's and its month's row."""
    await conn.execute_each(
        [
            (
                _upsert_sql(table, (period_column, "location", "event"), ("count",), 1),
                {
                    f"{period_column}0": period,
                    "location0": location,
                    "event0": event,
                    "count": count,
                },
            )
            for table, period_column, period in (
                ("funnel_daily", "day", day),
                ("funnel_monthly", "month", day[:7]),
            )
        ]
    )
