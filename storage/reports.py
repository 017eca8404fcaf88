"""Report queries: sums over the rollup tiers, the rebuild, the CSV rows, the funnel.

A report reads one segment kind at a time from the per-kind tiers (whole months
from monthly_segment_rollups, the days at the edges from daily_segment_rollups),
so its cost follows months x segment values, not the number of answers nor the
location x staff x touchpoint combinations. `rebuild_rollups` recomputes every tier
from the raw surveys, which stay the source of truth.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from storage.db import Connection, Row, id_in
from storage.rollups import ROLLUP_COUNTERS, SEGMENT_KINDS

# The segment names a report can group by; "none" means one total row. The value
# is interpolated into SQL, so only these names are ever accepted.
SEGMENT_COLUMNS = ("location", "staff", "touchpoint")
SEGMENTS = (*SEGMENT_COLUMNS, "none")

COUNTERS = ROLLUP_COUNTERS
_SUMS = ", ".join(f"SUM({name}) AS {name}" for name in COUNTERS)
_COLUMNS = ", ".join(COUNTERS)

DayLike = date | str


@dataclass(frozen=True, slots=True)
class RollupTotals:
    """Counters summed over some days for one segment value (`key`)."""

    key: str
    sent: int = 0
    answered: int = 0
    promoters: int = 0
    passives: int = 0
    detractors: int = 0
    ces_sum: int = 0
    ces_count: int = 0
    ces_easy: int = 0
    csat_sum: int = 0
    csat_count: int = 0
    csat_satisfied: int = 0

    @classmethod
    def from_row(cls, key: str, row: Row) -> RollupTotals:
        return cls(key, **{name: int(row.get(name) or 0) for name in COUNTERS})

    def plus(self, other: RollupTotals) -> RollupTotals:
        """The sum of two totals, keeping this one's key."""
        return replace(
            self, **{name: getattr(self, name) + getattr(other, name) for name in COUNTERS}
        )

    @property
    def is_empty(self) -> bool:
        return all(getattr(self, name) == 0 for name in COUNTERS)


@dataclass(frozen=True, slots=True)
class WeekTotals:
    """One ISO week (Monday `week_start`) of totals; `totals.key` is like '2026-W43'."""

    week_start: date
    totals: RollupTotals


@dataclass(frozen=True, slots=True)
class ResponseRow:
    """One survey as the CSV export shows it."""

    survey_id: int
    visit_key: str
    visited_at: int
    day: str
    location: str
    staff: str
    touchpoint: str
    status: str
    nps: int | None
    ces: int | None
    reason: str | None
    sent_at: int | None
    nps_at: int | None
    ces_at: int | None
    completed_at: int | None
    case_status: str | None
    # The reason's topics (storage/topics.py), by id.
    topics: tuple[str, ...] = ()
    csat: int | None = None
    csat_at: int | None = None


@dataclass(frozen=True, slots=True)
class FunnelCounts:
    """Delivery-funnel events of one location over a period."""

    location: str
    events: dict[str, int] = field(default_factory=dict)

    def get(self, event: str) -> int:
        return self.events.get(event, 0)

    @property
    def skipped(self) -> dict[str, int]:
        """skipped:<reason> events by reason."""
        return {
            name.removeprefix("skipped:"): count
            for name, count in self.events.items()
            if name.startswith("skipped:")
        }


def _day(value: DayLike) -> str:
    return value.isoformat() if isinstance(value, date) else value


def _as_date(value: DayLike) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _segment_column(segment: str) -> str | None:
    if segment == "none":
        return None
    if segment not in SEGMENT_COLUMNS:
        raise ValueError(f"unknown segment {segment!r}; expected one of {SEGMENTS}")
    return segment


def _segment_kind(segment: str) -> str:
    """The `kind` of the segment tiers: the column name, or total for none."""
    return _segment_column(segment) or "total"


# --- the period plan: whole months from a monthly tier, edges from a daily one -----------


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


@dataclass(frozen=True, slots=True)
class PeriodPlan:
    """How to sum [start, end] cheaply: whole months from a monthly tier (a
    contiguous range, or none), plus or minus a few day ranges of the daily tier."""

    months: tuple[date, date] | None
    days: tuple[tuple[date, date, int], ...]


def _month_plan(month: date, start: date, end: date) -> tuple[bool, list[tuple[date, date, int]]]:
    """For one calendar month overlapping [start, end]: (use the month's row, day
    ranges with their sign). A partial month costs at most half a month of days:
    past half, the month's row minus the days outside the period is cheaper."""
    last = _next_month(month) - timedelta(days=1)
    low, high = max(start, month), min(end, last)
    if (low, high) == (month, last):
        return True, []
    inside = (high - low).days + 1
    if inside * 2 <= (last - month).days + 1:
        return False, [(low, high, 1)]
    outside = [(month, low - timedelta(days=1), -1), (high + timedelta(days=1), last, -1)]
    return True, [piece for piece in outside if piece[0] <= piece[1]]


def plan_period(start: date, end: date) -> PeriodPlan:
    """The plan for [start, end]; without any month row, one day range."""
    monthly: list[date] = []
    days: list[tuple[date, date, int]] = []
    month = _month_start(start)
    while month <= end:
        use_month, pieces = _month_plan(month, start, end)
        if use_month:
            monthly.append(month)
        days += pieces
        month = _next_month(month)
    if not monthly:
        return PeriodPlan(None, ((start, end, 1),))
    return PeriodPlan((monthly[0], monthly[-1]), tuple(days))


@dataclass(frozen=True, slots=True)
class _Tiers:
    """A pair of tables holding the same counters per day and per month."""

    daily: str
    monthly: str
    # What identifies a row besides its day or month, and the summed columns.
    keys: str
    values: tuple[str, ...]
    where: str = ""


def _tiered_query(tiers: _Tiers, plan: PeriodPlan, params: dict[str, object]) -> str:
    """A UNION ALL of the plan's pieces (negated where subtracted) to be summed by
    the caller; adds the pieces' parameters to `params`."""
    filter_ = f"{tiers.where} AND " if tiers.where else ""
    columns = ", ".join(tiers.values)
    parts = []
    if plan.months is not None:
        params["m_start"] = plan.months[0].isoformat()[:7]
        params["m_end"] = plan.months[1].isoformat()[:7]
        parts.append(
            f"SELECT {tiers.keys}, {columns} FROM {tiers.monthly}"
            f" WHERE {filter_}month BETWEEN :m_start AND :m_end"
        )
    for index, (low, high, sign) in enumerate(plan.days):
        values = columns if sign > 0 else ", ".join(f"-{name} AS {name}" for name in tiers.values)
        parts.append(
            f"SELECT {tiers.keys}, {values} FROM {tiers.daily}"
            f" WHERE {filter_}day BETWEEN :d{index}_start AND :d{index}_end"
        )
        params[f"d{index}_start"] = low.isoformat()
        params[f"d{index}_end"] = high.isoformat()
    return " UNION ALL ".join(parts)


_SEGMENT_TIERS = _Tiers(
    "daily_segment_rollups", "monthly_segment_rollups", "segment_key", COUNTERS, "kind = :kind"
)
_FUNNEL_TIERS = _Tiers("funnel_daily", "funnel_monthly", "location, event", ("count",))


async def rollup_totals(
    conn: Connection,
    start_day: DayLike,
    end_day: DayLike,
    segment: str,
    keys: Sequence[str] | None = None,
) -> list[RollupTotals]:
    """Sums over [start_day, end_day] (inclusive) per segment value: what every report reads.

    `segment` is location, staff, touchpoint or none; with none the list holds at
    most one row (key ''), and it is empty when nothing was counted in the period.
    Rows are ordered by key. Reads the per-kind tiers: whole months from
    monthly_segment_rollups, at most about half a month of days per edge from
    daily_segment_rollups, so a year by location costs about (12 + 16) x locations
    rows, however many answers there are. With `keys`, only those segment values (a
    chat's locations), read along the tiers' (kind, day, segment_key) keys.
    """
    params: dict[str, object] = {"kind": _segment_kind(segment)}
    tiers = _SEGMENT_TIERS
    if keys is not None:
        if not keys:
            return []
        where, params["ids"] = id_in(conn, "segment_key", list(keys))
        tiers = replace(tiers, where=f"{tiers.where} AND {where}")
    union = _tiered_query(tiers, plan_period(_as_date(start_day), _as_date(end_day)), params)
    rows = await conn.fetch_all(
        f"SELECT segment_key, {_SUMS} FROM ({union}) AS tiers"
        " GROUP BY segment_key ORDER BY segment_key",
        params,
    )
    totals = [RollupTotals.from_row(row["segment_key"], row) for row in rows]
    # Subtracted days can cancel a segment out entirely; the daily sums would not list it.
    return [row for row in totals if not row.is_empty]


async def daily_rollup_totals(
    conn: Connection, start_day: DayLike, end_day: DayLike, segment: str
) -> list[RollupTotals]:
    """The same sums as `rollup_totals`, straight from the full-key daily_rollups.

    The reference the tiers are checked against (and the benchmark's baseline): its
    cost grows with days x locations x staff x touchpoints.
    """
    column = _segment_column(segment)
    params = {"start": _day(start_day), "end": _day(end_day)}
    if column is None:
        # PostgreSQL rejects GROUP BY of a constant; HAVING drops the all-NULL row.
        rows = await conn.fetch_all(
            f"SELECT {_SUMS} FROM daily_rollups WHERE day BETWEEN :start AND :end"
            " HAVING COUNT(*) > 0",
            params,
        )
        return [RollupTotals.from_row("", row) for row in rows]
    rows = await conn.fetch_all(
        f"SELECT {column} AS segment_key, {_SUMS} FROM daily_rollups"
        f" WHERE day BETWEEN :start AND :end GROUP BY {column} ORDER BY {column}",
        params,
    )
    return [RollupTotals.from_row(row["segment_key"], row) for row in rows]


async def daily_totals(
    conn: Connection,
    start_day: DayLike,
    end_day: DayLike,
    locations: Sequence[str] | None = None,
) -> list[Row]:
    """One row per day that has counters: day plus the summed counters; of `locations`
    only when given (summed from their per-location counters)."""
    params: dict[str, object] = {"start": _day(start_day), "end": _day(end_day)}
    if locations is None:
        return await conn.fetch_all(
            f"SELECT day, {_COLUMNS} FROM daily_segment_rollups"
            " WHERE kind = 'total' AND day BETWEEN :start AND :end ORDER BY day",
            params,
        )
    where, params["ids"] = id_in(conn, "segment_key", list(locations))
    return await conn.fetch_all(
        f"SELECT day, {_SUMS} FROM daily_segment_rollups"
        f" WHERE kind = 'location' AND {where} AND day BETWEEN :start AND :end"
        " GROUP BY day ORDER BY day",
        params,
    )


def iso_week_key(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


async def weekly_totals(
    conn: Connection, start_day: date, end_day: date, locations: Sequence[str] | None = None
) -> list[WeekTotals]:
    """Totals per ISO week (Monday to Sunday) for every week touching the period,
    empty weeks included so a chart shows the gap. Only days inside the period count.

    Weeks are grouped in Python because ISO-week SQL differs between backends, and
    there is only one (total) row per day to group.
    """
    monday = start_day - timedelta(days=start_day.weekday())
    weeks: dict[date, RollupTotals] = {}
    while monday <= end_day:
        weeks[monday] = RollupTotals(iso_week_key(monday))
        monday += timedelta(days=7)
    for row in await daily_totals(conn, start_day, end_day, locations):
        day = date.fromisoformat(row["day"])
        week = day - timedelta(days=day.weekday())
        weeks[week] = weeks[week].plus(RollupTotals.from_row("", row))
    return [WeekTotals(week, totals) for week, totals in weeks.items()]


_REBUILD_SELECT = """
SELECT day, location, staff, touchpoint,
       SUM(CASE WHEN sent_at IS NOT NULL THEN 1 ELSE 0 END) AS sent,
       SUM(CASE WHEN nps IS NOT NULL THEN 1 ELSE 0 END) AS answered,
       SUM(CASE WHEN nps >= 9 THEN 1 ELSE 0 END) AS promoters,
       SUM(CASE WHEN nps BETWEEN 7 AND 8 THEN 1 ELSE 0 END) AS passives,
       SUM(CASE WHEN nps <= 6 THEN 1 ELSE 0 END) AS detractors,
       SUM(COALESCE(ces, 0)) AS ces_sum,
       SUM(CASE WHEN ces IS NOT NULL THEN 1 ELSE 0 END) AS ces_count,
       SUM(CASE WHEN ces >= 5 THEN 1 ELSE 0 END) AS ces_easy,
       SUM(COALESCE(csat, 0)) AS csat_sum,
       SUM(CASE WHEN csat IS NOT NULL THEN 1 ELSE 0 END) AS csat_count,
       SUM(CASE WHEN csat >= 4 THEN 1 ELSE 0 END) AS csat_satisfied
FROM surveys
WHERE sent_at IS NOT NULL OR nps IS NOT NULL OR ces IS NOT NULL OR csat IS NOT NULL
GROUP BY day, location, staff, touchpoint
"""


async def rebuild_rollups(conn: Connection) -> int:
    """Recompute daily_rollups from surveys and every tier above it, in the caller's
    transaction; returns the number of daily rows written.

    Mirrors storage.rollups: sent = sent_at set, answered = an NPS score, the CES
    columns from ces (5..7 easy), the CSAT ones from csat (4..5 satisfied). Surveys
    with none of these leave no row, exactly
    as the maintained counters would. funnel_daily has no raw source (skips are not
    stored), so only its monthly tier is recomputed.
    """
    if conn.dialect == "postgresql":
        # Answers arriving meanwhile wait at their counter upserts and add on top of
        # the rebuilt rows, instead of racing the DELETE (SQLite has one writer anyway).
        await conn.execute(
            "LOCK TABLE daily_rollups, daily_segment_rollups, monthly_segment_rollups,"
            " funnel_monthly IN EXCLUSIVE MODE"
        )
    await conn.execute("DELETE FROM daily_rollups")
    await conn.execute(
        f"INSERT INTO daily_rollups (day, location, staff, touchpoint, {_COLUMNS})"
        f"{_REBUILD_SELECT}"
    )
    await refresh_tiers(conn)
    row = await conn.fetch_one("SELECT COUNT(*) AS n FROM daily_rollups")
    return int(row["n"]) if row else 0


def _kind_select(kind: str) -> str:
    key = "''" if kind == "total" else kind
    return f"SELECT '{kind}' AS kind, day, {key} AS segment_key, {_COLUMNS} FROM daily_rollups"


async def refresh_tiers(conn: Connection) -> None:
    """Recompute the per-kind tiers from daily_rollups and funnel_monthly from
    funnel_daily (what migration 0007 did once for an existing database)."""
    kinds = " UNION ALL ".join(_kind_select(kind) for kind in SEGMENT_KINDS)
    await conn.execute("DELETE FROM daily_segment_rollups")
    await conn.execute(
        f"INSERT INTO daily_segment_rollups (kind, day, segment_key, {_COLUMNS})"
        f" SELECT kind, day, segment_key, {_SUMS} FROM ({kinds}) AS kinds"
        " GROUP BY kind, day, segment_key"
    )
    await conn.execute("DELETE FROM monthly_segment_rollups")
    await conn.execute(
        f"INSERT INTO monthly_segment_rollups (kind, month, segment_key, {_COLUMNS})"
        f" SELECT kind, SUBSTR(day, 1, 7), segment_key, {_SUMS} FROM daily_segment_rollups"
        " GROUP BY kind, SUBSTR(day, 1, 7), segment_key"
    )
    await conn.execute("DELETE FROM funnel_monthly")
    await conn.execute(
        "INSERT INTO funnel_monthly (month, location, event, count)"
        " SELECT SUBSTR(day, 1, 7), location, event, SUM(count) FROM funnel_daily"
        " GROUP BY SUBSTR(day, 1, 7), location, event"
    )


_RESPONSES_SQL = """
SELECT s.id AS survey_id, v.visit_key, v.visited_at, s.day, s.location, s.staff,
       s.touchpoint, s.status, s.nps, s.ces, s.reason, s.sent_at, s.nps_at, s.ces_at,
       s.completed_at, c.status AS case_status, s.csat, s.csat_at
FROM surveys AS s
JOIN visits AS v ON v.id = s.visit_id
LEFT JOIN cases AS c ON c.survey_id = s.id
WHERE s.day BETWEEN :start AND :end AND s.id > :after {answered} {located}
ORDER BY s.id
LIMIT :limit
"""
_ANSWERED = (
    "AND (s.nps IS NOT NULL OR s.ces IS NOT NULL OR s.csat IS NOT NULL OR s.reason IS NOT NULL)"
)


async def fetch_responses(
    conn: Connection,
    start_day: DayLike,
    end_day: DayLike,
    *,
    after_id: int = 0,
    limit: int = 1000,
    answered_only: bool = True,
    locations: Sequence[str] | None = None,
) -> list[ResponseRow]:
    """One page of surveys of the period ordered by id, those with id > after_id.

    With answered_only (the default) only surveys with an NPS, a CES or a reason;
    with `locations` only theirs.
    """
    params: dict[str, object] = {
        "start": _day(start_day),
        "end": _day(end_day),
        "after": after_id,
        "limit": limit,
    }
    located = ""
    if locations is not None:
        where, params["ids"] = id_in(conn, "s.location", list(locations))
        located = f"AND {where}"
    sql = _RESPONSES_SQL.format(answered=_ANSWERED if answered_only else "", located=located)
    rows = await conn.fetch_all(sql, params)
    topics = await _page_topics(conn, [int(row["survey_id"]) for row in rows])
    return [ResponseRow(**row, topics=topics.get(int(row["survey_id"]), ())) for row in rows]


async def _page_topics(conn: Connection, survey_ids: list[int]) -> dict[int, tuple[str, ...]]:
    """The topics of a page's surveys (survey_topics), in one query."""
    if not survey_ids:
        return {}
    where, ids = id_in(conn, "survey_id", survey_ids)
    rows = await conn.fetch_all(
        f"SELECT survey_id, topic FROM survey_topics WHERE {where} ORDER BY survey_id, topic",
        {"ids": ids},
    )
    found: dict[int, tuple[str, ...]] = {}
    for row in rows:
        key = int(row["survey_id"])
        found[key] = (*found.get(key, ()), str(row["topic"]))
    return found


async def iter_responses(
    conn: Connection,
    start_day: DayLike,
    end_day: DayLike,
    *,
    page_size: int = 1000,
    answered_only: bool = True,
    locations: Sequence[str] | None = None,
) -> AsyncIterator[ResponseRow]:
    """Every survey of the period (of `locations` when given), page by page (keyset on
    id), so memory stays flat."""
    after = 0
    while True:
        page = await fetch_responses(
            conn,
            start_day,
            end_day,
            after_id=after,
            limit=page_size,
            answered_only=answered_only,
            locations=locations,
        )
        for row in page:
            yield row
        if len(page) < page_size:
            return
        after = page[-1].survey_id


async def funnel_totals(
    conn: Connection, start_day: DayLike, end_day: DayLike
) -> list[FunnelCounts]:
    """Delivery-funnel events per location over the period, ordered by location;
    whole months come from funnel_monthly, like `rollup_totals`."""
    return await _event_totals(conn, _FUNNEL_TIERS, start_day, end_day)


_RECOVERY_TIERS = _Tiers("recovery_daily", "recovery_monthly", "location, event", ("count",))


async def recovery_totals(
    conn: Connection, start_day: DayLike, end_day: DayLike
) -> list[FunnelCounts]:
    """Closing-the-loop events (storage/recovery.py) per location over the period,
    ordered by location; read like `funnel_totals`."""
    return await _event_totals(conn, _RECOVERY_TIERS, start_day, end_day)


async def _event_totals(
    conn: Connection, tiers: _Tiers, start_day: DayLike, end_day: DayLike
) -> list[FunnelCounts]:
    params: dict[str, object] = {}
    union = _tiered_query(tiers, plan_period(_as_date(start_day), _as_date(end_day)), params)
    rows = await conn.fetch_all(
        f"SELECT location, event, SUM(count) AS total FROM ({union}) AS tiers"
        " GROUP BY location, event ORDER BY location, event",
        params,
    )
    by_location: dict[str, FunnelCounts] = {}
    for row in rows:
        total = int(row["total"])
        if total:
            counts = by_location.setdefault(row["location"], FunnelCounts(row["location"]))
            counts.events[row["event"]] = total
    return list(by_location.values())
