"""Writing a demo plan straight into the tables, in large batches: the benchmark's
million answers in minutes instead of hours.

Each day's rows go in with `storage.bulk` and its counters with `storage.rollups.Tally`
in the same transaction, counted exactly as the services count them live (a survey
sent, an answer, an expiry, a funnel event), so the reports read the same numbers as
if the plan had been played live; `tests/storage/test_demo.py` checks that both
writers leave the same counters, surveys and cases. What no report or page reads
(outbox rows, reminders, customer_since) is left out.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.cases.service import EventKind
from bot.core.clock import from_ms, to_ms
from bot.core.policy import SURVEY_DEADLINE
from bot.demo.chain import REGIONS, Branch
from bot.demo.live import JOINED_BEFORE
from bot.demo.plan import (
    MINUTE,
    REPORT_DELAY,
    Delivery,
    DemoDay,
    DemoPlan,
    Ending,
    VisitPlan,
    ceil_tick,
)
from bot.locations.hours import working_deadline
from bot.survey.service import MAX_REASON_LENGTH
from bot.topics import TopicClassifier, load_taxonomy
from storage import bulk, rollups
from storage import locations as catalogue
from storage.db import Connection, Database
from storage.locations import LocationFields, LocationSource
from storage.models import CaseStatus, SurveyStatus, SurveyStep

Row = dict[str, Any]
BLOCKED = "Forbidden: bot was blocked by the user"
FAILED = "Bad Request: message is too long"
EXPIRED = "not answered in time"


def _ms(delta: timedelta) -> int:
    return int(delta / timedelta(milliseconds=1))


@dataclass(slots=True)
class BulkSummary:
    visits: int = 0
    surveys: int = 0
    answers: int = 0
    cases: int = 0


class _Counts:
    """A batch's counts by segment and by funnel row, summed in plain dicts and handed
    to a `rollups.Tally` once per row (a Tally's own add_* touch nine rows per call,
    too slow for millions of answers); counted as the add_* methods count."""

    def __init__(self) -> None:
        self.segments: dict[rollups.Segment, Counter[str]] = defaultdict(Counter)
        self.funnel: Counter[tuple[str, str, str]] = Counter()
        self.topics: Counter[tuple[str, str, str, int]] = Counter()

    def add_sent(self, segment: rollups.Segment) -> None:
        self.segments[segment]["sent"] += 1

    def add_nps(self, segment: rollups.Segment, score: int) -> None:
        counts = self.segments[segment]
        counts["answered"] += 1
        counts[rollups.nps_bucket(score)] += 1

    def add_ces(self, segment: rollups.Segment, score: int) -> None:
        counts = self.segments[segment]
        counts["ces_sum"] += score
        counts["ces_count"] += 1
        counts["ces_easy"] += int(score >= rollups.CES_EASY_MIN)

    def add_funnel(self, day: str, location: str, event: str) -> None:
        self.funnel[day, location, event] += 1

    def add_topic(self, day: str, location: str, topic: str, score: int) -> None:
        self.topics[day, location, topic, score] += 1

    def tally(self) -> rollups.Tally:
        tally = rollups.Tally()
        for segment, counts in self.segments.items():
            tally.add_counts(segment, dict(counts))
        for (day, location, event), count in self.funnel.items():
            tally.add_funnel(day, location, event, count)
        for (day, location, topic, score), count in self.topics.items():
            tally.add_topic(day, location, topic, score, count)
        return tally


@dataclass(slots=True)
class _Batch:
    visits: list[Row] = field(default_factory=list)
    surveys: list[Row] = field(default_factory=list)
    cases: list[Row] = field(default_factory=list)
    events: list[Row] = field(default_factory=list)
    topics: list[Row] = field(default_factory=list)
    tally: _Counts = field(default_factory=_Counts)


class BulkWriter:
    """Writes `plan` into `db` (migrated, with no customers, visits or cases yet). The
    reasons' topics come from the classifier of the plan's settings (TOPICS_FILE), as the
    services would classify them."""

    def __init__(self, db: Database, plan: DemoPlan) -> None:
        self._db = db
        self._plan = plan
        settings = plan.settings
        self._classifier = TopicClassifier(load_taxonomy(settings.topics_file))
        # The demo's reasons come from a few texts: each is classified once.
        self._topics: dict[str, tuple[str, ...]] = {}
        self._expires_after = _ms(settings.survey_expires_after)
        self._take_sla = timedelta(minutes=settings.case_take_sla_minutes)
        self._resolve_sla = timedelta(hours=settings.case_resolve_sla_hours)
        self._followup = (
            _ms(timedelta(days=settings.case_followup_days))
            if settings.case_followup_days
            else None
        )
        self._branches: dict[str, Branch] = {branch.code: branch for branch in plan.branches}
        self._customer_ids: dict[int, int] = {}
        self._blocked: dict[int, int] = {}
        self._message_ids = itertools.count(1)
        self.summary = BulkSummary()

    async def write(
        self, *, days_per_transaction: int = 1, progress: Callable[[int], None] | None = None
    ) -> BulkSummary:
        plan = self._plan
        start = plan.day_start(plan.start_day) - JOINED_BEFORE
        async with self._db.transaction() as conn:
            self._ids = await bulk.next_ids(conn)
            await self._catalogue(conn, start)
            await bulk.insert(conn, "customers", self._customers(start))
        batch = _Batch()
        pending = 0
        for number, day in enumerate(plan.days(), 1):
            self._day(day, batch)
            pending += 1
            if pending >= days_per_transaction:
                await self._flush(batch)
                batch, pending = _Batch(), 0
            if progress is not None:
                progress(number)
        await self._flush(batch)
        async with self._db.transaction() as conn:
            await bulk.mark_unreachable(
                conn,
                [(self._customer_ids[number], at) for number, at in self._blocked.items()],
                BLOCKED,
            )
            await bulk.set_last_surveyed(conn)
            await bulk.finish(conn)
        return self.summary

    async def _flush(self, batch: _Batch) -> None:
        async with self._db.transaction() as conn:
            await bulk.insert(conn, "visits", batch.visits)
            await bulk.insert(conn, "surveys", batch.surveys)
            await bulk.insert(conn, "cases", batch.cases)
            await bulk.insert(conn, "case_events", batch.events)
            await bulk.insert(conn, "survey_topics", batch.topics)
            await batch.tally.tally().write(conn)

    async def _catalogue(self, conn: Connection, now: int) -> None:
        for region in REGIONS:
            await catalogue.upsert_region(
                conn, region.code, region.name, region.manager_chat_id, now
            )
        for branch in self._plan.branches:
            fields = LocationFields(
                name=branch.name,
                time_zone=branch.time_zone,
                manager_chat_id=branch.manager_chat_id,
                region=branch.region,
                opening_hours=branch.opening_hours,
            )
            await catalogue.upsert(conn, branch.code, fields, LocationSource.IMPORT, now)

    def _customers(self, now: int) -> list[Row]:
        rows: list[Row] = []
        for customer in self._plan.all_customers():
            customer_id = self._ids["customers"] + len(rows)
            self._customer_ids[customer.number] = customer_id
            crm = customer.telegram_id is None
            rows.append(
                {
                    "id": customer_id,
                    "telegram_id": customer.telegram_id,
                    "external_id": f"crm-{customer.number}" if crm else None,
                    "phone": customer.phone,
                    "name": customer.name,
                    "language": customer.language,
                    "link_token": f"demo-{customer.number}" if crm else None,
                    "opted_out": int(customer.opted_out),
                    "unreachable": 0,
                    "unreachable_reason": None,
                    "last_surveyed_at": None,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        return rows

    # --- one day -------------------------------------------------------------------

    def _day(self, day: DemoDay, batch: _Batch) -> None:
        for visit in day.visits:
            visit_id = self._ids["visits"]
            self._ids["visits"] += 1
            self.summary.visits += 1
            customer = visit.customer
            customer_id = self._customer_ids[customer.number] if customer else None
            outcome = "skipped" if visit.skip else "scheduled"
            batch.visits.append(
                {
                    "id": visit_id,
                    "visit_key": visit.key,
                    # An unknown phone, or a CRM record: the visit names no customer
                    # only when nobody was found.
                    "customer_id": customer_id,
                    "visited_at": visit.at,
                    "utc_offset_minutes": visit.offset,
                    "location": visit.location,
                    "staff": visit.staff,
                    "touchpoint": visit.touchpoint,
                    "source": "demo",
                    "outcome": outcome,
                    "skip_reason": visit.skip,
                    "day": visit.day,
                    "created_at": visit.at + REPORT_DELAY,
                }
            )
            tally = batch.tally
            tally.add_funnel(visit.day, visit.location, "reported")
            if visit.skip is not None or customer_id is None:
                tally.add_funnel(visit.day, visit.location, f"skipped:{visit.skip}")
                continue
            tally.add_funnel(visit.day, visit.location, "scheduled")
            self._survey(visit, visit_id, customer_id, batch)

    def _survey(self, visit: VisitPlan, visit_id: int, customer_id: int, batch: _Batch) -> None:
        now = self._plan.now
        survey_id = self._ids["surveys"]
        self._ids["surveys"] += 1
        self.summary.surveys += 1
        customer = visit.customer
        assert customer is not None
        row: Row = {
            "id": survey_id,
            "visit_id": visit_id,
            "customer_id": customer_id,
            "location": visit.location,
            "staff": visit.staff,
            "touchpoint": visit.touchpoint,
            "day": visit.day,
            "status": SurveyStatus.SCHEDULED,
            "step": SurveyStep.NPS,
            "due_at": visit.at + visit.delay,
            "deadline_at": visit.at + _ms(SURVEY_DEADLINE),
            "created_at": visit.at + REPORT_DELAY,
            **dict.fromkeys(
                (
                    "sent_at",
                    "expires_at",
                    "chat_id",
                    "message_id",
                    "language",
                    "nps",
                    "ces",
                    "reason",
                    "nps_at",
                    "ces_at",
                    "reason_at",
                    "completed_at",
                    "reminded_at",
                    "closed_reason",
                    # The demo asks the default steps (nps, ces, reason): no CSAT.
                    "csat",
                    "csat_at",
                )
            ),
        }
        batch.surveys.append(row)
        if visit.delivery is None:
            return
        segment = rollups.Segment(visit.day, visit.location, visit.staff, visit.touchpoint)
        tally = batch.tally
        if visit.delivery != Delivery.SENT:
            blocked = visit.delivery == Delivery.BLOCKED
            row.update(
                status=SurveyStatus.FAILED,
                closed_reason=BLOCKED if blocked else FAILED,
                completed_at=visit.sent_at,
            )
            if blocked:
                self._blocked.setdefault(customer.number, visit.sent_at)
            tally.add_funnel(visit.day, visit.location, str(visit.delivery))
            return
        row.update(
            status=SurveyStatus.SENT,
            chat_id=customer.telegram_id,
            message_id=next(self._message_ids),
            language=customer.language,
            sent_at=visit.sent_at,
            expires_at=visit.sent_at + self._expires_after,
        )
        tally.add_sent(segment)
        tally.add_funnel(visit.day, visit.location, "sent")
        if visit.nps is not None and visit.nps_at <= now:
            row.update(nps=visit.nps, nps_at=visit.nps_at, step=SurveyStep.CES)
            tally.add_nps(segment, visit.nps)
            tally.add_funnel(visit.day, visit.location, "answered")
            self.summary.answers += 1
        if visit.ces is not None and visit.ces_at <= now:
            row.update(ces=visit.ces, ces_at=visit.ces_at, step=SurveyStep.REASON)
            tally.add_ces(segment, visit.ces)
        if visit.reason_step and visit.reason_at <= now:
            row.update(
                reason=visit.reason,
                reason_at=visit.reason_at,
                step=SurveyStep.DONE,
                status=SurveyStatus.COMPLETED,
                completed_at=visit.reason_at,
            )
            if visit.reason:
                self._reason_topics(visit, survey_id, row["nps"], batch)
        elif row["expires_at"] <= now:
            row.update(
                status=SurveyStatus.EXPIRED,
                closed_reason=EXPIRED,
                completed_at=min(ceil_tick(row["expires_at"]), now),
            )
            tally.add_funnel(visit.day, visit.location, "expired")
        if visit.case is not None and visit.case_opened_at <= now:
            self._case(visit, survey_id, customer_id, batch)

    def _reason_topics(
        self, visit: VisitPlan, survey_id: int, nps: int | None, batch: _Batch
    ) -> None:
        """The reason's topics, stored and counted as `storage.topics.store` does."""
        assert visit.reason is not None
        text = visit.reason.strip()[:MAX_REASON_LENGTH]
        found = self._topics.get(text)
        if found is None:
            found = self._topics[text] = self._classifier.classify(text).topics
        for topic in sorted(found):
            batch.topics.append({"survey_id": survey_id, "topic": topic})
            if nps is not None:
                batch.tally.add_topic(visit.day, visit.location, topic, nps)

    # --- its case ------------------------------------------------------------------

    def _case(self, visit: VisitPlan, survey_id: int, customer_id: int, batch: _Batch) -> None:
        plan = visit.case
        assert plan is not None and visit.customer is not None
        now = self._plan.now
        case_id = self._ids["cases"]
        self._ids["cases"] += 1
        self.summary.cases += 1
        branch = self._branches[visit.location]
        zone = ZoneInfo(branch.time_zone)
        opened = visit.case_opened_at
        hours = branch.opening_hours
        take_due = to_ms(working_deadline(from_ms(opened), self._take_sla, hours, zone))
        manager = plan.manager
        events: list[tuple[int, str, int | None, str | None, str | None]] = [
            (opened, EventKind.OPENED, None, None, None)
        ]
        row: Row = {
            "id": case_id,
            "survey_id": survey_id,
            "customer_id": customer_id,
            "status": CaseStatus.NEW,
            "owner_id": None,
            "owner_name": None,
            "opened_at": opened,
            "taken_at": None,
            "resolved_at": None,
            "closed_at": None,
            "closed_reason": None,
            "resolution_note": None,
            "take_due_at": take_due,
            "resolve_due_at": None,
            "escalated_take_at": None,
            "escalated_resolve_at": None,
            "notify_customer": 0,
            "followup_due_at": None,
            "followup_sent_at": None,
            "followup_answer": None,
            "followup_at": None,
            "updated_at": opened,
        }
        batch.cases.append(row)
        taken = opened + plan.take_after if plan.take_after is not None else None
        if taken is not None and taken > now:
            taken = None
        escalated = _escalation(take_due, taken, now)
        if escalated is not None:
            row["escalated_take_at"] = escalated
            events.append((escalated, EventKind.ESCALATED, None, None, "take"))
        if taken is not None:
            resolve_due = to_ms(working_deadline(from_ms(taken), self._resolve_sla, hours, zone))
            row.update(
                status=CaseStatus.TAKEN,
                owner_id=manager.telegram_id,
                owner_name=manager.name,
                taken_at=taken,
                resolve_due_at=resolve_due,
                updated_at=taken,
            )
            events.append((taken, EventKind.TAKEN, manager.telegram_id, manager.name, None))
            self._talk(visit, taken, events)
            ended = taken + plan.end_after if plan.ending is not None else None
            if ended is not None and ended > now:
                ended = None
            escalated = _escalation(resolve_due, ended, now)
            if escalated is not None:
                row["escalated_resolve_at"] = escalated
                events.append((escalated, EventKind.ESCALATED, None, None, "resolve"))
            if ended is not None:
                self._end(visit, row, ended, events)
        batch.events.extend(
            {"case_id": case_id, "at": at, "actor_id": actor, "actor_name": name,
             "kind": str(kind), "text": text}
            for at, kind, actor, name, text in sorted(events, key=lambda event: event[0])
        )  # fmt: skip

    def _talk(self, visit: VisitPlan, taken: int, events: list[Any]) -> None:
        plan = visit.case
        assert plan is not None and visit.customer is not None
        if plan.message is None:
            return
        manager = plan.manager
        if taken + 5 * MINUTE <= self._plan.now:
            events.append(
                (taken + 5 * MINUTE, EventKind.MESSAGE_OUT, manager.telegram_id, manager.name,
                 plan.message)
            )  # fmt: skip
        if taken + 25 * MINUTE <= self._plan.now:
            events.append(
                (taken + 25 * MINUTE, EventKind.MESSAGE_IN, visit.customer.telegram_id, None,
                 plan.reply)
            )  # fmt: skip

    def _end(self, visit: VisitPlan, row: Row, ended: int, events: list[Any]) -> None:
        plan = visit.case
        assert plan is not None and visit.customer is not None
        manager = plan.manager
        row["updated_at"] = ended
        if plan.ending == Ending.CLOSED:
            row.update(status=CaseStatus.CLOSED, closed_at=ended, closed_reason=plan.text)
            events.append((ended, EventKind.CLOSED, manager.telegram_id, manager.name, plan.text))
            return
        notify = plan.ending == Ending.NOTIFY
        row.update(
            status=CaseStatus.RESOLVED,
            resolved_at=ended,
            resolution_note=plan.text,
            notify_customer=int(notify),
            followup_due_at=ended + self._followup if notify and self._followup else None,
        )
        events.append((ended, EventKind.RESOLVED, manager.telegram_id, manager.name, plan.text))
        due = row["followup_due_at"]
        if due is None or visit.customer.number in self._blocked or due > self._plan.now:
            return
        asked = min(ceil_tick(due), self._plan.now)
        row.update(followup_sent_at=asked, updated_at=asked)
        events.append((asked, EventKind.FOLLOWUP_SENT, None, None, None))
        answered = asked + plan.fixed_after
        if plan.fixed is None or answered > self._plan.now:
            return
        answer = "yes" if plan.fixed else "no"
        row.update(followup_answer=answer, followup_at=answered, updated_at=answered)
        events.append(
            (answered, EventKind.FOLLOWUP_ANSWER, visit.customer.telegram_id, None, answer)
        )


def _escalation(due: int, done: int | None, now: int) -> int | None:
    """When maintenance (every whole hour, and once at `now`) finds a deadline passed
    before the step that meets it (`done`, None when it has not come)."""
    tick = min(ceil_tick(due), now) if due <= now else None
    if tick is None or (done is not None and done < tick):
        return None
    return tick
