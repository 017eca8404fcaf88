"""Rollups and the delivery funnel, maintained in the caller's transaction.

Every counted event goes to daily_rollups (day x location x staff x touchpoint,
the finest grain) and to the per-kind tiers reports read (daily_segment_rollups and
monthly_segment_rollups: one row per location, staff, touchpoint and total). The
raw surveys stay the source of truth: `storage.reports.rebuild_rollups` recomputes
every tier from scratch.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from storage.db import Connection, Params, multi_row

CES_EASY_MIN = 5
# CSAT 4-5 counts as satisfied.
CSAT_SATISFIED_MIN = 4


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
# The counter columns of every rollup table.
ROLLUP_COUNTERS = (
    "sent",
    "answered",
    "promoters",
    "passives",
    "detractors",
    "ces_sum",
    "ces_count",
    "ces_easy",
    "csat_sum",
    "csat_count",
    "csat_satisfied",
)


# Each table's key and counter columns. A write names every counter column (zero for
# those not counted), so a table has few statement texts whatever was counted.
_COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "daily_rollups": (("day", "location", "staff", "touchpoint"), ROLLUP_COUNTERS),
    "daily_segment_rollups": (("kind", "day", "segment_key"), ROLLUP_COUNTERS),
    "monthly_segment_rollups": (("kind", "month", "segment_key"), ROLLUP_COUNTERS),
    "funnel_daily": (("day", "location", "event"), ("count",)),
    "funnel_monthly": (("month", "location", "event"), ("count",)),
    # Closing the loop (storage/recovery.py): per day and month of the case's visit.
    "recovery_daily": (("day", "location", "event"), ("count",)),
    "recovery_monthly": (("month", "location", "event"), ("count",)),
    # What the reasons say (storage/topics.py): per day and month of the survey.
    "topic_daily": (("day", "location", "topic", "band"), ("count",)),
    "topic_monthly": (("month", "location", "topic", "band"), ("count",)),
    "topic_total_daily": (("day", "topic", "band"), ("count",)),
    "topic_total_monthly": (("month", "topic", "band"), ("count",)),
}
# Rows are written in this table order and in key order within a table, so that
# concurrent transactions (PostgreSQL, several instances) lock shared rows alike.
_TABLES = tuple(_COLUMNS)
# Rows per statement: a batch is split into chunks of these sizes (largest first), so
# each table has at most this many statement texts to prepare and cache.
_CHUNKS = (64, 32, 16, 8, 4, 2, 1)


@lru_cache(maxsize=64)
def _upsert_sql(table: str, values: str) -> str:
    """INSERT .. ON CONFLICT DO UPDATE adding the rows of `values` (multi_row's) to
    `table`."""
    keys, counters = _COLUMNS[table]
    updates = ", ".join(f"{name} = {table}.{name} + excluded.{name}" for name in counters)
    return (
        f"INSERT INTO {table} ({', '.join(keys + counters)}) VALUES {values}"
        f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}"
    )


class Tally:
    """Counts to add to the rollup and funnel rows, summed per row and written by
    `write` with a few statements per table, in the caller's transaction. The answers
    of a batch share one: a counter row touched by all of them (the total, a busy
    location) is written once per batch, not once per answer."""

    __slots__ = ("_rows",)

    def __init__(self) -> None:
        self._rows: dict[str, dict[tuple[str, ...], Counter[str]]] = {}

    def __bool__(self) -> bool:
        return bool(self._rows)

    def _add(self, table: str, key: tuple[str, ...], counts: dict[str, int]) -> None:
        self._rows.setdefault(table, {}).setdefault(key, Counter()).update(counts)

    def add_counts(self, segment: Segment, counts: dict[str, int]) -> None:
        """Counter columns summed beforehand (a bulk writer counting many answers of one
        segment with `nps_bucket`, CES_EASY_MIN and CSAT_SATISFIED_MIN): the same rows
        the add_* methods touch."""
        self._bump(segment, counts)

    def _bump(self, segment: Segment, counts: dict[str, int]) -> None:
        """The day's full-key row, and the day's and month's row of every segment kind."""
        day, month = segment.day, segment.day[:7]
        self._add(
            "daily_rollups", (day, segment.location, segment.staff, segment.touchpoint), counts
        )
        keys = (segment.location, segment.staff, segment.touchpoint, "")
        for kind, key in zip(SEGMENT_KINDS, keys, strict=True):
            self._add("daily_segment_rollups", (kind, day, key), counts)
            self._add("monthly_segment_rollups", (kind, month, key), counts)

    def add_sent(self, segment: Segment, count: int = 1) -> None:
        """Surveys reached the customer (Telegram accepted them)."""
        self._bump(segment, {"sent": count})

    def add_nps(self, segment: Segment, score: int) -> None:
        """An NPS answer: counts the survey as answered and in its bucket."""
        self._bump(segment, {"answered": 1, nps_bucket(score): 1})

    def add_ces(self, segment: Segment, score: int) -> None:
        """A CES answer (1..7); 5..7 counts as easy."""
        self._bump(
            segment, {"ces_sum": score, "ces_count": 1, "ces_easy": int(score >= CES_EASY_MIN)}
        )

    def add_csat(self, segment: Segment, score: int) -> None:
        """A CSAT answer (1..5); 4..5 counts as satisfied."""
        self._bump(
            segment,
            {
                "csat_sum": score,
                "csat_count": 1,
                "csat_satisfied": int(score >= CSAT_SATISFIED_MIN),
            },
        )

    def add_funnel(self, day: str, location: str, event: str, count: int = 1) -> None:
        """A delivery-funnel event (reported, scheduled, skipped:<reason>, sent, answered,
        failed, blocked, expired) in its day's and its month's row."""
        self._add("funnel_daily", (day, location, event), {"count": count})
        self._add("funnel_monthly", (day[:7], location, event), {"count": count})

    def add_recovery(self, day: str, location: str, event: str, count: int = 1) -> None:
        """A closing-the-loop event (storage/recovery.py names them) of a case or a
        detractor's survey, counted on the business day of its visit and on its month."""
        self._add("recovery_daily", (day, location, event), {"count": count})
        self._add("recovery_monthly", (day[:7], location, event), {"count": count})

    def add_topic(self, day: str, location: str, topic: str, score: int, count: int = 1) -> None:
        """A survey's reason mentions `topic` (count -1 when a new reading drops it),
        counted in the band of its NPS `score`, on its day's and its month's row, of its
        location and of the chain."""
        band = nps_bucket(score)
        self._add("topic_daily", (day, location, topic, band), {"count": count})
        self._add("topic_monthly", (day[:7], location, topic, band), {"count": count})
        self._add("topic_total_daily", (day, topic, band), {"count": count})
        self._add("topic_total_monthly", (day[:7], topic, band), {"count": count})

    async def write(self, conn: Connection) -> None:
        """Add everything counted so far, in one execute_each; the tally is then empty."""
        statements: list[tuple[str, Params]] = []
        for table in _TABLES:
            keys, counters = _COLUMNS[table]
            rows = [
                (*key, *(counts.get(name, 0) for name in counters))
                for key, counts in sorted(self._rows.get(table, {}).items())
            ]
            for values, params in multi_row(keys + counters, rows, _CHUNKS):
                statements.append((_upsert_sql(table, values), params))
        self._rows.clear()
        if statements:
            await conn.execute_each(statements)


async def add_sent(conn: Connection, segment: Segment, count: int = 1) -> None:
    """Surveys reached the customer (Telegram accepted them)."""
    tally = Tally()
    tally.add_sent(segment, count)
    await tally.write(conn)


async def add_nps(conn: Connection, segment: Segment, score: int) -> None:
    """An NPS answer: counts the survey as answered and in its bucket."""
    tally = Tally()
    tally.add_nps(segment, score)
    await tally.write(conn)


async def add_ces(conn: Connection, segment: Segment, score: int) -> None:
    """A CES answer (1..7); 5..7 counts as easy."""
    tally = Tally()
    tally.add_ces(segment, score)
    await tally.write(conn)


async def add_funnel(
    conn: Connection, day: str, location: str, event: str, count: int = 1
) -> None:
    """Count a delivery-funnel event (reported, scheduled, skipped:<reason>, sent,
    answered, failed, blocked, expired) in its day's and its month's row."""
    tally = Tally()
    tally.add_funnel(day, location, event, count)
    await tally.write(conn)
