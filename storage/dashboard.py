"""The dashboard's queries: the answers with their filters (a topic among them) and
cases, the values the filters offer, the open cases by SLA, and the single use of a
login link.

Report figures are not here: the dashboard reads them through storage.reports like
/stats and /api/v1/stats, so they always agree.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum

from storage.db import Connection, Row, id_in
from storage.models import _FromRow
from storage.reports import ResponseRow, rollup_totals
from storage.topics import of_surveys

FACET_LIMIT = 200


class ScoreBand(StrEnum):
    PROMOTER = "promoter"
    PASSIVE = "passive"
    DETRACTOR = "detractor"


_BANDS = {
    ScoreBand.PROMOTER: "s.nps >= 9",
    ScoreBand.PASSIVE: "s.nps BETWEEN 7 AND 8",
    ScoreBand.DETRACTOR: "s.nps <= 6",
}


@dataclass(frozen=True, slots=True)
class ResponseFilter:
    """What the Responses screen narrows the answers to. `locations` is the viewer's
    scope (None: every location); `location`, `staff`, `touchpoint` are exact values."""

    start: date
    end: date
    locations: Sequence[str] | None = None
    location: str | None = None
    staff: str | None = None
    touchpoint: str | None = None
    band: ScoreBand | None = None
    text: str | None = None
    # A topic id (bot/topics): answers whose reason mentions it (survey_topics).
    topic: str | None = None
    # Only answers with words in their reason (the Topics screen's examples).
    with_reason: bool = False


@dataclass(frozen=True, slots=True)
class Response:
    """One answered survey with its case (if any)."""

    row: ResponseRow
    case_id: int | None


_RESPONSES_SQL = """
SELECT s.id AS survey_id, v.visit_key, v.visited_at, s.day, s.location, s.staff,
       s.touchpoint, s.status, s.nps, s.ces, s.reason, s.sent_at, s.nps_at, s.ces_at,
       s.completed_at, c.status AS case_status, c.id AS case_id, s.csat, s.csat_at
FROM surveys AS s
JOIN visits AS v ON v.id = s.visit_id
LEFT JOIN cases AS c ON c.survey_id = s.id
WHERE {where}
ORDER BY s.day DESC, s.id DESC
LIMIT :limit
"""


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _where(
    conn: Connection,
    query: ResponseFilter,
    params: dict[str, object],
    before: Cursor | None = None,
    floor: Cursor | None = None,
) -> str:
    clauses = [
        _window_where(conn, query, params, before, floor),
        "(s.nps IS NOT NULL OR s.ces IS NOT NULL OR s.csat IS NOT NULL OR s.reason IS NOT NULL)",
    ]
    if query.locations is not None and len(query.locations) != 1:
        clause, params["ids"] = id_in(conn, "s.location", list(query.locations))
        # On SQLite a '+' keeps the IN list off the (location, day, id) index: a page
        # of several locations is read along (day, id), newest first, with no sort.
        clauses.append(f"+{clause}" if conn.dialect == "sqlite" else clause)
    for column in ("staff", "touchpoint"):
        value = getattr(query, column)
        if value is not None:
            clauses.append(f"s.{column} = :{column}")
            params[column] = value
    if query.band is not None:
        clauses.append(_BANDS[query.band])
    if query.text:
        clauses.append(_text_clause(conn, query.text, params))
    if query.with_reason:
        clauses.append("s.reason IS NOT NULL AND s.reason <> ''")
    if query.topic is not None:
        # One probe of survey_topics' primary key per answer read along (day, id).
        clauses.append(
            "EXISTS (SELECT 1 FROM survey_topics AS st"
            " WHERE st.survey_id = s.id AND st.topic = :topic)"
        )
        params["topic"] = query.topic
    return " AND ".join(clauses)


def _window_where(
    conn: Connection,
    query: ResponseFilter,
    params: dict[str, object],
    before: Cursor | None = None,
    floor: Cursor | None = None,
) -> str:
    """The part of the filter an index answers in (day, id) order: the period and one
    location (the `location` filter, or a scope of one location) along
    surveys_location_day; the rest is checked row by row. Answers before `before`
    and from `floor` on: the day range itself is narrowed to them, so that the index
    range ends there (a row value alone beside BETWEEN does not bound SQLite's)."""
    start, end = query.start.isoformat(), query.end.isoformat()
    clauses = ["s.day BETWEEN :start AND :end"]
    if before is not None:
        end = min(end, before.day)
        clauses.append("(s.day, s.id) < (:before_day, :before_id)")
        params["before_day"], params["before_id"] = before.day, before.survey_id
    if floor is not None:
        start = max(start, floor.day)
        clauses.append("(s.day, s.id) >= (:floor_day, :floor_id)")
        params["floor_day"], params["floor_id"] = floor.day, floor.survey_id
    params["start"], params["end"] = start, end
    if query.locations is not None and len(query.locations) == 1:
        clauses.append("s.location = :scope_location")
        params["scope_location"] = query.locations[0]
    if query.location is not None:
        clauses.append("s.location = :location")
        params["location"] = query.location
    return " AND ".join(clauses)


def _text_clause(conn: Connection, text: str, params: dict[str, object]) -> str:
    if conn.dialect == "postgresql":
        params["q"] = _like(text)
        return "s.reason ILIKE :q ESCAPE '\\'"
    # SQLite folds only ASCII case: the usual spellings of a Cyrillic word are tried too.
    variants = dict.fromkeys((text, text.lower(), text.capitalize(), text.upper()))
    parts = []
    for index, variant in enumerate(variants):
        params[f"q{index}"] = _like(variant)
        parts.append(f"s.reason LIKE :q{index} ESCAPE '\\'")
    return "(" + " OR ".join(parts) + ")"


def _response(row: Row, topics: dict[int, tuple[str, ...]]) -> Response:
    data = dict(row)
    case_id = data.pop("case_id")
    answer = ResponseRow(**data, topics=topics.get(int(data["survey_id"]), ()))
    return Response(answer, None if case_id is None else int(case_id))


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a page of answers ended: the next page holds those before it."""

    day: str
    survey_id: int

    def __str__(self) -> str:
        return f"{self.day}.{self.survey_id}"

    @classmethod
    def parse(cls, text: str) -> Cursor | None:
        """The cursor of `str(cursor)`; None for anything else."""
        day, _, number = text.partition(".")
        if not number.isdigit() or len(day) != 10:
            return None
        try:
            return cls(date.fromisoformat(day).isoformat(), int(number))
        except ValueError:
            return None


async def responses_page(
    conn: Connection, query: ResponseFilter, *, before: Cursor | None = None, limit: int = 50
) -> list[Response]:
    """Answers matching `query`, newest first (by day, then as they came), those before
    `before`. The order follows the (day, id) index (or (location, day, id) for one
    location), so a page reads about as many rows as it shows when matches are common;
    a rare match reads the whole period (see `responses_window` for a bounded read)."""
    params: dict[str, object] = {"limit": limit}
    where = _where(conn, query, params, before)
    rows = await conn.fetch_all(_RESPONSES_SQL.format(where=where), params)
    # The page's topics in one query (the screen's labels, the CSV's topics column).
    topics = await of_surveys(conn, [int(row["survey_id"]) for row in rows])
    return [_response(row, topics) for row in rows]


@dataclass(frozen=True, slots=True)
class Window:
    """A page of answers read within at most `scan` surveys. `items` are the matches;
    when fewer than a page were found before the scan ran out, `resume` is where the
    next read goes on (older surveys remain); otherwise None."""

    items: list[Response]
    resume: Cursor | None


async def responses_window(
    conn: Connection,
    query: ResponseFilter,
    *,
    before: Cursor | None = None,
    limit: int = 50,
    scan: int = 20_000,
) -> Window:
    """Like `responses_page`, but reading at most the `scan` newest surveys of the
    period (before `before`, at the filter's one location if any) however rare the
    matches are (a text search, a topic, a staff member seen once): the screen's time
    is bounded at any size. First the scan's floor is found on the index alone (its
    `scan`-th survey), then the page is read above it."""
    params: dict[str, object] = {"offset": scan - 1}
    window = _window_where(conn, query, params, before)
    edge = await conn.fetch_all(
        f"SELECT s.day, s.id FROM surveys AS s WHERE {window}"
        " ORDER BY s.day DESC, s.id DESC LIMIT 2 OFFSET :offset",
        params,
    )
    floor = Cursor(str(edge[0]["day"]), int(edge[0]["id"])) if len(edge) == 2 else None
    params = {"limit": limit}
    where = _where(conn, query, params, before, floor)
    rows = await conn.fetch_all(_RESPONSES_SQL.format(where=where), params)
    topics = await of_surveys(conn, [int(row["survey_id"]) for row in rows])
    items = [_response(row, topics) for row in rows]
    return Window(items, floor if len(items) < limit else None)


# The Topics screen's examples are looked for among this many of the period's latest
# surveys (at the filter's one location if any), along the (day, id) or (location, day,
# id) index, whatever the period and however rare a topic: the screen's time is bounded
# at any size (as `responses_window` bounds a Responses page).
EXAMPLES_SCAN = 5_000


async def topic_examples(
    conn: Connection,
    query: ResponseFilter,
    topics: Sequence[str],
    limit: int = 3,
    scan: int = EXAMPLES_SCAN,
) -> dict[str, list[Response]]:
    """Up to `limit` of the latest answers (by day, then id) with words in their reason
    mentioning each of `topics`, among those `query` selects within the `scan` latest
    surveys of its period: the scan's floor found on the index alone, the topics of the
    answers above it through survey_topics' primary key, then the chosen answers read
    whole by id. A topic without a mention in that stretch gets no entry."""
    wanted = set(topics)
    if not wanted:
        return {}
    params: dict[str, object] = {"offset": scan - 1}
    window = _window_where(conn, query, params)
    edge = await conn.fetch_all(
        f"SELECT s.day, s.id FROM surveys AS s WHERE {window}"
        " ORDER BY s.day DESC, s.id DESC LIMIT 2 OFFSET :offset",
        params,
    )
    floor = Cursor(str(edge[0]["day"]), int(edge[0]["id"])) if len(edge) == 2 else None
    params = {}
    where = _where(conn, replace(query, topic=None, with_reason=True), params, floor=floor)
    pairs = await conn.fetch_all(
        "SELECT s.id, s.day, st.topic FROM surveys AS s"
        " JOIN survey_topics AS st ON st.survey_id = s.id"
        f" WHERE {where} ORDER BY s.day DESC, s.id DESC",
        params,
    )
    chosen: dict[str, list[int]] = {}
    for pair in pairs:
        topic = str(pair["topic"])
        ids = chosen.setdefault(topic, [])
        if topic in wanted and len(ids) < limit:
            ids.append(int(pair["id"]))
    every = sorted({survey_id for ids in chosen.values() for survey_id in ids})
    if not every:
        return {}
    clause, ids_param = id_in(conn, "s.id", every, param="example_ids")
    rows = await conn.fetch_all(
        _RESPONSES_SQL.format(where=clause), {"example_ids": ids_param, "limit": len(every)}
    )
    found = await of_surveys(conn, every)
    by_id = {int(row["survey_id"]): _response(row, found) for row in rows}
    return {
        topic: [by_id[survey_id] for survey_id in ids if survey_id in by_id]
        for topic, ids in chosen.items()
        if topic in wanted and ids
    }


def cursor_after(page: Sequence[Response]) -> Cursor:
    last = page[-1].row
    return Cursor(last.day, last.survey_id)


async def iter_filtered(
    conn: Connection, query: ResponseFilter, page_size: int = 1000
) -> AsyncIterator[ResponseRow]:
    """Every answer matching `query`, newest first, page by page (for the CSV)."""
    before: Cursor | None = None
    while True:
        page = await responses_page(conn, query, before=before, limit=page_size)
        for item in page:
            yield item.row
        if len(page) < page_size:
            return
        before = cursor_after(page)


@dataclass(frozen=True, slots=True)
class Facets:
    """The values the filters offer for a period: those counted in it."""

    locations: list[str]
    staff: list[str]
    touchpoints: list[str]


async def facets(
    conn: Connection, start: date, end: date, locations: Sequence[str] | None
) -> Facets:
    """Distinct locations, staff and touchpoints with counters in [start, end], of
    `locations` only when given. Locations (and, for everything, staff and
    touchpoints) come from the per-kind counters that reports read, whole months from
    the monthly tier, so a year costs about (12 + 16) x values rows; a scope's staff
    and touchpoints from daily_rollups along its (location, day) index."""
    found: dict[str, list[str]] = {}
    for column in ("location", "staff", "touchpoint"):
        if column != "location" and locations is not None:
            continue
        totals = await rollup_totals(conn, start, end, column)
        keys = [row.key for row in totals]
        if locations is not None:
            mine = set(locations)
            keys = [key for key in keys if key in mine]
        found[column] = keys[:FACET_LIMIT]
    if locations is not None:
        params: dict[str, object] = {"start": start.isoformat(), "end": end.isoformat()}
        clause, params["ids"] = id_in(conn, "location", list(locations))
        rows = await conn.fetch_all(
            "SELECT DISTINCT staff, touchpoint FROM daily_rollups"
            f" WHERE {clause} AND day BETWEEN :start AND :end",
            params,
        )
        found["staff"] = sorted({str(row["staff"]) for row in rows})[:FACET_LIMIT]
        found["touchpoint"] = sorted({str(row["touchpoint"]) for row in rows})[:FACET_LIMIT]
    return Facets(found["location"], found["staff"], found["touchpoint"])


@dataclass(slots=True)
class OpenCase(_FromRow):
    """One open case as the Cases screen lists it; `due_at` is the SLA deadline that
    runs now (taking for a new case, resolving for a taken one)."""

    id: int
    status: str
    owner_id: int | None
    owner_name: str | None
    opened_at: int
    taken_at: int | None
    due_at: int
    location: str
    nps: int | None
    ces: int | None
    reason: str | None
    customer_name: str | None
    # Unprompted feedback (no survey, no score): `reason` is the customer's first message.
    unprompted: bool = False


# The SLA deadline running now: taking for a new case, resolving for a taken one.
_DUE = (
    "CASE WHEN c.status = 'new' THEN c.take_due_at"
    " ELSE COALESCE(c.resolve_due_at, c.take_due_at) END"
)


def _open_cases(
    conn: Connection, locations: Sequence[str] | None, params: dict[str, object]
) -> str:
    """FROM and WHERE of the open cases (at `locations`: their surveys', or unprompted
    feedback's own)."""
    if locations is None:
        return "cases c WHERE c.status IN ('new', 'taken')"
    clause, params["ids"] = id_in(
        conn, "COALESCE(s.location, c.unprompted_location, '')", list(locations)
    )
    return (
        "cases c LEFT JOIN surveys s ON s.id = c.survey_id"
        f" WHERE c.status IN ('new', 'taken') AND {clause}"
    )


@dataclass(frozen=True, slots=True)
class OpenCounts:
    open: int
    overdue: int


# An open case as the screen shows it, from a `page` of (id, due_at) in its order.
_CASE_PAGE = (
    "SELECT c.id, c.status, c.owner_id, c.owner_name, c.opened_at, c.taken_at,"
    " page.due_at, COALESCE(s.location, c.unprompted_location, '') AS location,"
    " s.nps, s.ces, cu.name AS customer_name,"
    " CASE WHEN c.survey_id IS NULL THEN 1 ELSE 0 END AS unprompted,"
    " CASE WHEN c.survey_id IS NULL THEN (SELECT e.text FROM case_events e"
    " WHERE e.case_id = c.id AND e.kind = 'message_in' ORDER BY e.at, e.id LIMIT 1)"
    " ELSE s.reason END AS reason{extra}"
    " FROM ({page}) AS page"
    " JOIN cases c ON c.id = page.id"
    " LEFT JOIN surveys s ON s.id = c.survey_id"
    " JOIN customers cu ON cu.id = c.customer_id"
    " ORDER BY page.due_at, page.id"
)


def _open_case(row: Row) -> OpenCase:
    return OpenCase.from_row({**row, "unprompted": bool(row["unprompted"])})


async def open_cases_by_due(
    conn: Connection, locations: Sequence[str] | None, limit: int = 50
) -> list[OpenCase]:
    """New and taken cases, the earliest SLA deadline (so the overdue) first; at
    `locations` only when given. The order is found on the cases (and their surveys'
    locations) alone; only the page's rows are joined to their answers and customers."""
    params: dict[str, object] = {"limit": limit}
    source = _open_cases(conn, locations, params)
    page = f"SELECT c.id, {_DUE} AS due_at FROM {source} ORDER BY due_at, c.id LIMIT :limit"
    rows = await conn.fetch_all(_CASE_PAGE.format(extra="", page=page), params)
    return [_open_case(row) for row in rows]


async def count_open_cases(
    conn: Connection, locations: Sequence[str] | None, now: int
) -> OpenCounts:
    """How many cases are open, and how many of them past their SLA deadline."""
    params: dict[str, object] = {"now": now}
    source = _open_cases(conn, locations, params)
    row = await conn.fetch_one(
        f"SELECT COUNT(*) AS open, SUM(CASE WHEN {_DUE} < :now THEN 1 ELSE 0 END) AS overdue"
        f" FROM {source}",
        params,
    )
    if row is None:
        return OpenCounts(0, 0)
    return OpenCounts(int(row["open"] or 0), int(row["overdue"] or 0))


async def open_cases_page(
    conn: Connection, locations: Sequence[str] | None, now: int, limit: int = 50
) -> tuple[list[OpenCase], OpenCounts]:
    """The Cases screen: `open_cases_by_due` and `count_open_cases` together. For
    everything the cases' own indexes answer both; for a scope, finding the open cases'
    locations (through their surveys) is the cost, so one pass gives the page and the
    counts (window sums over the same rows)."""
    if locations is None:
        return (
            await open_cases_by_due(conn, None, limit),
            await count_open_cases(conn, None, now),
        )
    params: dict[str, object] = {"limit": limit, "now": now}
    source = _open_cases(conn, locations, params)
    page = (
        f"SELECT c.id, {_DUE} AS due_at, COUNT(*) OVER () AS open_count,"
        f" SUM(CASE WHEN {_DUE} < :now THEN 1 ELSE 0 END) OVER () AS overdue_count"
        f" FROM {source} ORDER BY due_at, c.id LIMIT :limit"
    )
    extra = ", page.open_count, page.overdue_count"
    rows = await conn.fetch_all(_CASE_PAGE.format(extra=extra, page=page), params)
    if not rows:
        return [], OpenCounts(0, 0)
    counts = OpenCounts(int(rows[0]["open_count"]), int(rows[0]["overdue_count"] or 0))
    return [_open_case(row) for row in rows], counts


async def use_login(
    conn: Connection, nonce: str, user_id: int, *, now: int, expires_at: int
) -> bool:
    """Record a login link's nonce as used; False when it was used already. Nonces of
    links that have expired anyway are forgotten here."""
    await conn.execute("DELETE FROM dashboard_logins WHERE expires_at < :now", {"now": now})
    inserted = await conn.execute(
        "INSERT INTO dashboard_logins (nonce, user_id, used_at, expires_at)"
        " VALUES (:nonce, :user_id, :now, :expires_at) ON CONFLICT (nonce) DO NOTHING",
        {"nonce": nonce, "user_id": user_id, "now": now, "expires_at": expires_at},
    )
    return inserted == 1
