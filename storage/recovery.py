"""Closing the loop, measured: the recovery counters of cases and detractors' comebacks.

Every change to a case adds to `recovery_daily` / `recovery_monthly` (through
`storage.rollups.Tally`) in the change's own transaction, on the business day and
location of the case's visit, so a period's figures read a few counter rows per
location whatever the number of cases (`storage.reports.recovery_totals`). The
events are:

- `opened`: a case was opened;
- `take:<bucket>`: it was taken (the first time), after that long;
- `contact:<bucket>`: the team first wrote to the customer through the bot;
- `resolve:<resolution>:<bucket>`: it was resolved (the customer told or not) or
  closed without a fix, that long after opening; a reopen takes it back (-1);
- `followup_asked`, `followup_yes`, `followup_no`: "did we fix it?";
- `reopened`: the customer answered "No" and the case opened again;
- `next:<promoters|passives|detractors>`: a detractor's (NPS 0-6) next survey, on a
  later visit, scored 9-10, 7-8 or 0-6 (counted on the detractor's day and location).

Durations are counted in fixed histogram buckets (`DURATION_BOUNDS`): the label of
a bucket is its upper bound in seconds, `inf` above the last. Each bound is at most
twice the one before (mostly 1.5x), so a percentile read from the counters (the
bound of the bucket holding it) is the true value rounded up by less than that.
`rebuild` recomputes every counter from the cases, their history and the surveys.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from storage.db import Connection, id_in
from storage.rollups import Tally, nps_bucket

# Upper bounds of the duration buckets, in seconds: 1, 2, 3, 5, 10, 15, 20, 30, 45
# minutes; 1, 1.5, 2, 3, 4, 6, 8, 12, 18 hours; 1, 1.5, 2, 3, 4, 5, 7, 10, 14, 21, 30 days.
DURATION_BOUNDS = (
    60,
    120,
    180,
    300,
    600,
    900,
    1200,
    1800,
    2700,
    3600,
    5400,
    7200,
    10800,
    14400,
    21600,
    28800,
    43200,
    64800,
    86400,
    129600,
    172800,
    259200,
    345600,
    432000,
    604800,
    864000,
    1209600,
    1814400,
    2592000,
)
OVER = "inf"

OPENED = "opened"
FOLLOWUP_ASKED = "followup_asked"
FOLLOWUP_YES = "followup_yes"
FOLLOWUP_NO = "followup_no"
REOPENED = "reopened"


class Stage(StrEnum):
    """The timed steps of a case, each counted in duration buckets."""

    TAKE = "take"
    CONTACT = "contact"
    RESOLVE = "resolve"


class Resolution(StrEnum):
    """How a case ended: fixed and the customer told, fixed silently, or closed
    without a fix."""

    NOTIFIED = "notified"
    SILENT = "silent"
    CLOSED = "closed"


def duration_bucket(ms: int) -> str:
    """The label of the bucket holding a duration in milliseconds."""
    for bound in DURATION_BOUNDS:
        if ms <= bound * 1000:
            return str(bound)
    return OVER


def timed_event(stage: Stage, ms: int, resolution: Resolution | None = None) -> str:
    """take:<bucket>, contact:<bucket> or resolve:<resolution>:<bucket>."""
    if stage is Stage.RESOLVE:
        if resolution is None:
            raise ValueError("a resolve event needs its resolution")
        return f"{stage}:{resolution}:{duration_bucket(ms)}"
    return f"{stage}:{duration_bucket(ms)}"


def next_event(score: int) -> str:
    """next:promoters, next:passives or next:detractors for a comeback's score."""
    return f"next:{nps_bucket(score)}"


def resolution_of(status: str, notify_customer: int) -> Resolution | None:
    """How a case with this status ended; None while it is open."""
    if status == "closed":
        return Resolution.CLOSED
    if status == "resolved":
        return Resolution.NOTIFIED if notify_customer else Resolution.SILENT
    return None


async def case_key(conn: Connection, case_id: int) -> tuple[str, str] | None:
    """(business day, location) of the case's visit: where its counters go."""
    row = await conn.fetch_one(
        "SELECT s.day, s.location FROM cases c JOIN surveys s ON s.id = c.survey_id"
        " WHERE c.id = :id",
        {"id": case_id},
    )
    return None if row is None else (str(row["day"]), str(row["location"]))


async def count(conn: Connection, case_id: int, events: Mapping[str, int]) -> None:
    """Add `events` to the case's counters, in the caller's transaction."""
    key = await case_key(conn, case_id)
    if key is None or not events:
        return
    tally = Tally()
    for event, amount in events.items():
        tally.add_recovery(key[0], key[1], event, amount)
    await tally.write(conn)


async def note_comeback(
    conn: Connection, tally: Tally, survey_id: int, customer_id: int, score: int
) -> bool:
    """A survey was just answered with `score`: when the customer's previous answered
    survey (by visit time) was a detractor's, record this as its next survey (once)
    and count it in `tally`. True when counted."""
    row = await conn.fetch_one(
        "SELECT p.id, p.day, p.location, p.nps FROM surveys p"
        " JOIN visits pv ON pv.id = p.visit_id"
        " WHERE p.customer_id = :customer AND p.id <> :id AND p.nps IS NOT NULL"
        " AND pv.visited_at < (SELECT v.visited_at FROM surveys s"
        " JOIN visits v ON v.id = s.visit_id WHERE s.id = :id)"
        " ORDER BY pv.visited_at DESC, p.id DESC LIMIT 1",
        {"customer": customer_id, "id": survey_id},
    )
    if row is None or int(row["nps"]) > 6:
        return False
    marked = await conn.execute(
        "UPDATE surveys SET next_survey_id = :next, next_nps = :score"
        " WHERE id = :id AND next_survey_id IS NULL",
        {"next": survey_id, "score": score, "id": int(row["id"])},
    )
    if marked != 1:
        return False
    tally.add_recovery(str(row["day"]), str(row["location"]), next_event(score))
    return True


# --- one row per case, for the cases CSV ---------------------------------------------


@dataclass(frozen=True, slots=True)
class CaseRow:
    """One case with its timings, as the cases CSV shows it."""

    case_id: int
    survey_id: int
    day: str
    location: str
    staff: str
    touchpoint: str
    nps: int | None
    ces: int | None
    status: str
    notify_customer: int
    owner_name: str | None
    opened_at: int
    taken_at: int | None
    first_contact_at: int | None
    resolved_at: int | None
    closed_at: int | None
    escalated_take_at: int | None
    escalated_resolve_at: int | None
    followup_sent_at: int | None
    followup_answer: str | None
    reopened_count: int
    reopened_at: int | None
    next_nps: int | None

    @property
    def resolution(self) -> Resolution | None:
        return resolution_of(self.status, self.notify_customer)

    @property
    def finished_at(self) -> int | None:
        return self.closed_at if self.status == "closed" else self.resolved_at


_CASE_ROWS_SQL = """
SELECT c.id AS case_id, c.survey_id, s.day, s.location, s.staff, s.touchpoint, s.nps, s.ces,
       c.status, c.notify_customer, c.owner_name, c.opened_at, c.taken_at,
       c.first_contact_at, c.resolved_at, c.closed_at, c.escalated_take_at,
       c.escalated_resolve_at, c.followup_sent_at, c.followup_answer, c.reopened_count,
       c.reopened_at, s.next_nps
FROM cases AS c
JOIN surveys AS s ON s.id = c.survey_id
WHERE s.day BETWEEN :start AND :end AND c.id > :after {located}
ORDER BY c.id
LIMIT :limit
"""


async def iter_case_rows(
    conn: Connection,
    start_day: str,
    end_day: str,
    *,
    locations: Sequence[str] | None = None,
    page_size: int = 1000,
) -> AsyncIterator[CaseRow]:
    """Every case whose visit's business day is in [start_day, end_day] (of
    `locations` when given), by id, page by page (keyset), so memory stays flat."""
    params: dict[str, object] = {"start": start_day, "end": end_day, "limit": page_size}
    located = ""
    if locations is not None:
        where, params["ids"] = id_in(conn, "s.location", list(locations))
        located = f"AND {where}"
    sql = _CASE_ROWS_SQL.format(located=located)
    after = 0
    while True:
        rows = await conn.fetch_all(sql, {**params, "after": after})
        for row in rows:
            yield CaseRow(**row)
        if len(rows) < page_size:
            return
        after = int(rows[-1]["case_id"])


# --- the rebuild ------------------------------------------------------------------------


def case_events(row: CaseRow, followups: Mapping[str, int]) -> dict[str, int]:
    """Every counter a case holds as it now is; `followups` counts its history's
    followup_sent, followup_yes, followup_no and reopened steps."""
    events = {OPENED: 1}
    if row.taken_at is not None:
        events[timed_event(Stage.TAKE, row.taken_at - row.opened_at)] = 1
    if row.first_contact_at is not None:
        events[timed_event(Stage.CONTACT, row.first_contact_at - row.opened_at)] = 1
    resolution, finished = row.resolution, row.finished_at
    if resolution is not None and finished is not None:
        events[timed_event(Stage.RESOLVE, finished - row.opened_at, resolution)] = 1
    for name in (FOLLOWUP_ASKED, FOLLOWUP_YES, FOLLOWUP_NO, REOPENED):
        if followups.get(name):
            events[name] = followups[name]
    return events


async def rebuild(conn: Connection, page_size: int = 1000) -> int:
    """Recompute the recovery counters from the cases, their history and the surveys,
    in the caller's transaction; returns the number of daily rows written."""
    if conn.dialect == "postgresql":
        await conn.execute("LOCK TABLE recovery_daily, recovery_monthly IN EXCLUSIVE MODE")
    await conn.execute("DELETE FROM recovery_daily")
    await conn.execute("DELETE FROM recovery_monthly")
    history = await conn.fetch_all(
        "SELECT case_id, kind, text, COUNT(*) AS n FROM case_events"
        " WHERE kind IN ('followup_sent', 'followup_answer', 'reopened')"
        " GROUP BY case_id, kind, text"
    )
    steps: dict[int, dict[str, int]] = {}
    for step in history:
        name = {"followup_sent": FOLLOWUP_ASKED, "reopened": REOPENED}.get(step["kind"])
        if name is None:
            name = FOLLOWUP_YES if step["text"] == "yes" else FOLLOWUP_NO
        found = steps.setdefault(int(step["case_id"]), {})
        found[name] = found.get(name, 0) + int(step["n"])
    tally = Tally()
    async for row in iter_case_rows(conn, "0000-00-00", "9999-99-99", page_size=page_size):
        for event, amount in case_events(row, steps.get(row.case_id, {})).items():
            tally.add_recovery(row.day, row.location, event, amount)
    comebacks = await conn.fetch_all(
        "SELECT day, location, next_nps, COUNT(*) AS n FROM surveys"
        " WHERE next_nps IS NOT NULL AND nps IS NOT NULL AND nps <= 6"
        " GROUP BY day, location, next_nps"
    )
    for comeback in comebacks:
        tally.add_recovery(
            str(comeback["day"]),
            str(comeback["location"]),
            next_event(int(comeback["next_nps"])),
            int(comeback["n"]),
        )
    await tally.write(conn)
    written = await conn.fetch_one("SELECT COUNT(*) AS n FROM recovery_daily")
    return int(written["n"]) if written else 0
