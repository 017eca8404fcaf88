"""The case state machine: a detractor's complaint from alert to "thanks to you".

new -> taken -> resolved, or new/taken -> closed (without a fix, with a reason).
Every operation is one transaction and returns a `CaseResult` that says what
happened or why it was refused; a refused operation changes nothing. Every step
writes a case_events row with who and when. Handlers only translate buttons and
messages into these calls, and texts into the formatting helpers at the bottom.

Each mutating method takes an optional `conn`: pass the caller's transaction to
enqueue outbox rows (an alert edit, a message to the customer) atomically with
the state change; without it the method opens and commits its own transaction.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.clock import Clock, from_ms, to_ms
from bot.locations.hours import working_deadline
from bot.webhooks import events as webhooks
from bot.webhooks.events import Event
from storage import cases as repo
from storage import locations, recovery
from storage.alert_folds import FoldEntry
from storage.cases import Case, CaseCard, CaseEvent, CaseListItem, FollowupTarget, Prompt
from storage.db import Connection, Database
from storage.models import CaseStatus

__all__ = [
    "Case",
    "CaseAction",
    "CaseCard",
    "CaseEvent",
    "CaseListItem",
    "CaseResult",
    "CaseService",
    "CaseStatus",
    "Direction",
    "DueEscalation",
    "EscalationStage",
    "EventKind",
    "FoldEntry",
    "FoldPolicy",
    "FollowupTarget",
    "Pending",
    "PendingAction",
    "PendingOutcome",
    "Prompt",
    "Refusal",
    "Template",
]

DEFAULT_PENDING_TTL = timedelta(minutes=15)
DEFAULT_ACK_QUIET = timedelta(hours=1)


class EventKind(StrEnum):
    OPENED = "opened"
    TAKEN = "taken"
    MESSAGE_OUT = "message_out"
    MESSAGE_IN = "message_in"
    ESCALATED = "escalated"
    RESOLVED = "resolved"
    CLOSED = "closed"
    FOLLOWUP_SENT = "followup_sent"
    FOLLOWUP_ANSWER = "followup_answer"
    REOPENED = "reopened"
    NOTE = "note"


class Direction(StrEnum):
    IN = "in"
    OUT = "out"


class EscalationStage(StrEnum):
    TAKE = "take"
    RESOLVE = "resolve"


class PendingAction(StrEnum):
    """What a manager's next text message in the manager chat means."""

    MESSAGE = "message"
    RESOLVE_NOTIFY = "resolve_notify"
    RESOLVE_SILENT = "resolve_silent"
    CLOSE_REASON = "close_reason"
    # A template waits for the value it needs (bot/cases/templates.py) ...
    TEMPLATE_VALUE = "template_value"
    # ... then its exact text waits for Send (a typed text is sent instead, as MESSAGE).
    TEMPLATE_CONFIRM = "template_confirm"


class Refusal(StrEnum):
    NOT_FOUND = "not_found"
    NOT_ALLOWED = "not_allowed"
    ALREADY_TAKEN_BY = "already_taken_by"
    NOT_TAKEN = "not_taken"
    ALREADY_CLOSED = "already_closed"
    INVALID_TRANSITION = "invalid_transition"
    TEXT_REQUIRED = "text_required"
    FOLLOWUP_NOT_SENT = "followup_not_sent"
    ALREADY_ANSWERED = "already_answered"
    NOT_YOUR_PROMPT = "not_your_prompt"
    NOTHING_TO_SEND = "nothing_to_send"

    @property
    def key(self) -> str:
        """The Fluent key of the answer to show (`owner` is its only argument)."""
        return "case-refused-" + self.value.replace("_", "-")


class CaseAction(StrEnum):
    """The buttons under an alert; `available_actions` says which apply now."""

    TAKE = "take"
    WRITE = "write"
    TEMPLATES = "templates"
    RESOLVE = "resolve"
    CLOSE = "close"

    @property
    def label_key(self) -> str:
        return f"case-button-{self.value}"


class Template(StrEnum):
    """The five steps of handling a complaint, as editable texts for the customer."""

    THANK = "thank"
    APOLOGISE = "apologise"
    APOLOGISE_BONUS = "apologise_bonus"
    PROMISE_FIX = "promise_fix"
    CANNOT_FIX = "cannot_fix"
    IMPROVED = "improved"

    @property
    def key(self) -> str:
        return "case-template-" + self.value.replace("_", "-")

    @property
    def label_key(self) -> str:
        return "case-template-button-" + self.value.replace("_", "-")


@dataclass(frozen=True, slots=True)
class CaseResult:
    """What an operation did. `changed` is False for a harmless repeat (the owner
    pressing Take again, an idempotent open); `owner_name` names who holds the case
    when the refusal is ALREADY_TAKEN_BY; `acknowledge` says a customer's message
    should be answered with "passed to the team" (see `needs_acknowledgement`);
    `retired` lists prompts whose buttons no longer apply because the pending action
    they asked for ended (take their buttons away); `reopened` says the customer's
    "not fixed" reopened the case (tell its owner, see `reopen`)."""

    case: Case | None
    refusal: Refusal | None = None
    changed: bool = False
    owner_name: str | None = None
    acknowledge: bool = False
    retired: tuple[Prompt, ...] = ()
    reopened: bool = False

    @property
    def ok(self) -> bool:
        return self.refusal is None


@dataclass(frozen=True, slots=True)
class FoldPolicy:
    """When alerts for the managers' group fold into one message. Once `threshold`
    alerts wait for the group (Telegram allows 20 messages a minute there), the waiting
    ones and those that follow go out together, at most `max_cases` per message (it
    must fit Telegram's 4096 characters) and one message per `interval`, so the
    group's budget keeps room for card edits and case messages."""

    threshold: int = 3
    interval: timedelta = timedelta(seconds=60)
    max_cases: int = 30

    @classmethod
    def from_settings(cls, settings: Any) -> FoldPolicy:
        """ALERT_FOLD_THRESHOLD, ALERT_FOLD_INTERVAL_SECONDS, ALERT_FOLD_MAX_CASES."""
        return cls(
            threshold=settings.alert_fold_threshold,
            interval=timedelta(seconds=settings.alert_fold_interval_seconds),
            max_cases=settings.alert_fold_max_cases,
        )

    def payload(self) -> dict[str, int]:
        """What a fold row carries, so that its renderer applies the same rules."""
        return {"max_cases": self.max_cases, "interval_ms": _ms(self.interval)}

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> FoldPolicy:
        default = cls()
        return cls(
            max_cases=int(data.get("max_cases", default.max_cases)),
            interval=timedelta(milliseconds=int(data.get("interval_ms", _ms(default.interval)))),
        )


@dataclass(frozen=True, slots=True)
class DueEscalation:
    case: Case
    stage: EscalationStage


@dataclass(frozen=True, slots=True)
class Pending:
    case: Case
    action: PendingAction


@dataclass(frozen=True, slots=True)
class PendingOutcome:
    action: PendingAction
    result: CaseResult


def _done(case: Case | None, changed: bool = True) -> CaseResult:
    return CaseResult(case=case, changed=changed)


def _refused(refusal: Refusal, case: Case | None = None) -> CaseResult:
    owner = case.owner_name if case is not None and refusal is Refusal.ALREADY_TAKEN_BY else None
    return CaseResult(case=case, refusal=refusal, owner_name=owner)


def _owner_refusal(case: Case, actor_id: int, is_admin: bool) -> Refusal | None:
    """Why `actor_id` may not act on a taken case as its owner, or None if they may."""
    if case.status in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
        return Refusal.ALREADY_CLOSED
    if case.status == CaseStatus.NEW:
        return Refusal.NOT_TAKEN
    if case.owner_id != actor_id and not is_admin:
        return Refusal.NOT_ALLOWED
    return None


def _close_refusal(case: Case, actor_id: int, is_admin: bool) -> Refusal | None:
    if case.status == CaseStatus.NEW:
        return None
    return _owner_refusal(case, actor_id, is_admin)


def _take_refusal(case: Case, actor_id: int) -> Refusal | None:
    if case.status in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
        return Refusal.ALREADY_CLOSED
    if case.status == CaseStatus.TAKEN and case.owner_id != actor_id:
        return Refusal.ALREADY_TAKEN_BY
    return None


def needs_case(nps: int | None, ces: int | None, ces_max: int) -> bool:
    """A detractor: NPS 0..6, or CES 1..ces_max (DETRACTOR_CES_MAX; 0 turns CES off)."""
    return (nps is not None and nps <= 6) or (ces is not None and 1 <= ces <= ces_max)


def needs_acknowledgement(previous: CaseEvent | None, now: int, quiet: timedelta) -> bool:
    """Whether a customer's message gets "thank you, passed to the team": once per turn
    of the conversation. It does when it is their first in the case, when the team has
    written to them (a message, or the resolution) since their previous one, or when
    that previous one is at least `quiet` old (DEFAULT_ACK_QUIET, an hour). Five
    messages in a row get one acknowledgement; coming back the next day gets another.
    `previous` is the conversation's latest step before this message (repo.last_turn)."""
    if previous is None or previous.kind != EventKind.MESSAGE_IN:
        return True
    return now - previous.at >= _ms(quiet)


def available_actions(case: Case) -> tuple[CaseAction, ...]:
    """The buttons the alert should carry in the case's current state."""
    if case.status == CaseStatus.NEW:
        return (CaseAction.TAKE, CaseAction.CLOSE)
    if case.status == CaseStatus.TAKEN:
        return (CaseAction.WRITE, CaseAction.TEMPLATES, CaseAction.RESOLVE, CaseAction.CLOSE)
    return ()


class CaseService:
    """Operations on cases. SLAs come from settings: CASE_TAKE_SLA_MINUTES,
    CASE_RESOLVE_SLA_HOURS (counted from taking), CASE_FOLLOWUP_DAYS (0 = no follow-up;
    a follow-up is scheduled only when the customer was told of the resolution).
    `ack_quiet`: see `needs_acknowledgement`."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        take_sla_minutes: int = 30,
        resolve_sla_hours: int = 48,
        followup_days: int = 14,
        pending_ttl: timedelta = DEFAULT_PENDING_TTL,
        fold: FoldPolicy | None = None,
        ack_quiet: timedelta = DEFAULT_ACK_QUIET,
        zone: ZoneInfo | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        # The business TIMEZONE: a location's opening hours without a zone of its own.
        self._zone = zone or ZoneInfo("UTC")
        self.take_sla = timedelta(minutes=take_sla_minutes)
        self.resolve_sla = timedelta(hours=resolve_sla_hours)
        self.followup_after = timedelta(days=followup_days) if followup_days > 0 else None
        self.pending_ttl = pending_ttl
        self.fold = fold or FoldPolicy()
        self.ack_quiet = ack_quiet

    @classmethod
    def from_settings(cls, db: Database, clock: Clock, settings: Any) -> CaseService:
        return cls(
            db,
            clock,
            take_sla_minutes=settings.case_take_sla_minutes,
            resolve_sla_hours=settings.case_resolve_sla_hours,
            followup_days=settings.case_followup_days,
            fold=FoldPolicy.from_settings(settings),
            zone=settings.zone,
        )

    async def _sla_deadline(
        self, conn: Connection, location: str | None, start: datetime, sla: timedelta
    ) -> int:
        """When an SLA started at `start` runs out: by the location's opening hours when
        it has them (working time, in its time zone), else plain time."""
        found = await locations.get(conn, location) if location else None
        if found is None or not found.hours:
            return to_ms(start + sla)
        zone = ZoneInfo(found.time_zone) if found.time_zone else self._zone
        return to_ms(working_deadline(start, sla, found.hours, zone))

    def _now(self) -> int:
        return to_ms(self._clock.now())

    @asynccontextmanager
    async def _tx(self, conn: Connection | None) -> AsyncIterator[Connection]:
        if conn is not None:
            yield conn
        else:
            async with self._db.transaction() as own:
                yield own

    @asynccontextmanager
    async def _reader(self, conn: Connection | None) -> AsyncIterator[Connection]:
        if conn is not None:
            yield conn
        else:
            async with self._db.read() as own:
                yield own

    # --- the state machine ------------------------------------------------------

    async def open_for_survey(
        self, conn: Connection, survey_id: int, customer_id: int, now: datetime
    ) -> CaseResult:
        """Open the survey's case inside the caller's (answer) transaction. Idempotent:
        a second call returns the existing case with changed=False."""
        case_id = await self.open_case(conn, survey_id, customer_id, now)
        if case_id is None:
            return _done(await repo.get_by_survey(conn, survey_id), changed=False)
        return _done(await repo.get(conn, case_id))

    async def open_case(
        self,
        conn: Connection,
        survey_id: int,
        customer_id: int,
        now: datetime,
        *,
        location: str = "",
    ) -> int | None:
        """open_for_survey without reading the case back (the detractor hook needs no
        more): the new case's id, or None when the survey has its case already. The
        take SLA runs by the `location`'s opening hours."""
        now_ms = to_ms(now)
        case_id = await repo.insert(
            conn,
            survey_id=survey_id,
            customer_id=customer_id,
            now=now_ms,
            take_due_at=await self._sla_deadline(conn, location, now, self.take_sla),
        )
        if case_id is not None:
            await repo.add_event(conn, case_id, at=now_ms, kind=EventKind.OPENED)
            await webhooks.case(conn, Event.CASE_OPENED, case_id, now_ms)
            await recovery.count(conn, case_id, {recovery.OPENED: 1})
        return case_id

    async def open_unprompted(
        self, conn: Connection, customer_id: int, location: str, now: datetime
    ) -> int | None:
        """Unprompted feedback: a case without a survey for the customer, heard at
        `location` ('' for the head office); None when one of theirs is open already.
        No score and no closing-the-loop counter: those are about detractors."""
        now_ms = to_ms(now)
        case_id = await repo.insert_unprompted(
            conn,
            customer_id=customer_id,
            location=location,
            now=now_ms,
            take_due_at=await self._sla_deadline(conn, location, now, self.take_sla),
        )
        if case_id is not None:
            await repo.add_event(conn, case_id, at=now_ms, kind=EventKind.OPENED)
            await webhooks.case(conn, Event.CASE_OPENED, case_id, now_ms)
        return case_id

    async def take(
        self,
        case_id: int,
        manager_id: int,
        manager_name: str,
        *,
        conn: Connection | None = None,
    ) -> CaseResult:
        """new -> taken by this manager. Racing presses yield one owner; the loser is
        refused ALREADY_TAKEN_BY with the owner's name; the owner's repeat is a no-op."""
        now = self._now()
        async with self._tx(conn) as tx:
            location = await repo.location_of(tx, case_id)
            resolve_due_at = await self._sla_deadline(tx, location, from_ms(now), self.resolve_sla)
            won = await repo.try_take(
                tx,
                case_id,
                owner_id=manager_id,
                owner_name=manager_name,
                now=now,
                resolve_due_at=resolve_due_at,
            )
            case = await repo.get(tx, case_id)
            if case is None:
                return _refused(Refusal.NOT_FOUND)
            if not won:
                refusal = _take_refusal(case, manager_id)
                return _refused(refusal, case) if refusal else _done(case, changed=False)
            await repo.add_event(
                tx,
                case_id,
                at=now,
                kind=EventKind.TAKEN,
                actor_id=manager_id,
                actor_name=manager_name,
            )
            await webhooks.case(tx, Event.CASE_TAKEN, case_id, now)
            if case.taken_at == now:  # the first take; a reopened case keeps its first
                await _count_timed(tx, case, recovery.Stage.TAKE, now)
            return _done(case)

    async def record_message(
        self,
        case_id: int,
        direction: Direction,
        actor_id: int,
        actor_name: str | None,
        text: str,
        *,
        is_admin: bool = False,
        conn: Connection | None = None,
    ) -> CaseResult:
        """Store a message of the case thread. OUT (manager -> customer) only by the
        owner or an admin while the case is taken; IN only from the case's customer
        (actor_id = their Telegram id), in any state, so late replies are kept, with
        `acknowledge` set when the customer should hear it reached the team."""
        if not text.strip():
            return _refused(Refusal.TEXT_REQUIRED)
        now = self._now()
        acknowledge = False
        retired: list[Prompt] = []
        async with self._tx(conn) as tx:
            if direction == Direction.OUT:
                retired = await repo.prompts(tx, case_id=case_id, actor_id=actor_id)
                allowed = await repo.try_touch_for_message(
                    tx, case_id, actor_id=actor_id, is_admin=is_admin, now=now
                )
                case = await repo.get(tx, case_id)
                if case is None:
                    return _refused(Refusal.NOT_FOUND)
                if not allowed:
                    refusal = _owner_refusal(case, actor_id, is_admin)
                    return _refused(refusal or Refusal.INVALID_TRANSITION, case)
                await _first_contact(tx, case, now)
                kind = EventKind.MESSAGE_OUT
            else:
                case = await repo.get(tx, case_id)
                if case is None:
                    return _refused(Refusal.NOT_FOUND)
                if await repo.customer_telegram_id(tx, case.customer_id) != actor_id:
                    return _refused(Refusal.NOT_ALLOWED, case)
                # Locked before reading the turn: two quick messages must not both see
                # themselves as its first.
                await repo.touch(tx, case_id, now)
                previous = await repo.last_turn(tx, case_id)
                acknowledge = needs_acknowledgement(previous, now, self.ack_quiet)
                kind = EventKind.MESSAGE_IN
            await repo.add_event(
                tx,
                case_id,
                at=now,
                kind=kind,
                actor_id=actor_id,
                actor_name=actor_name,
                text=text,
            )
            return CaseResult(
                case=case, changed=True, acknowledge=acknowledge, retired=tuple(retired)
            )

    async def resolve(
        self,
        case_id: int,
        manager_id: int,
        note: str,
        notify_customer: bool,
        *,
        manager_name: str | None = None,
        is_admin: bool = False,
        conn: Connection | None = None,
    ) -> CaseResult:
        """taken -> resolved, by the owner or an admin, with a resolution note. When
        notify_customer, the caller sends Template.IMPROVED and a follow-up is scheduled."""
        now = self._now()
        followup_due = (
            now + _ms(self.followup_after) if notify_customer and self.followup_after else None
        )
        async with self._tx(conn) as tx:
            retired = await repo.prompts(tx, case_id=case_id)
            done = bool(note.strip()) and await repo.try_resolve(
                tx,
                case_id,
                actor_id=manager_id,
                is_admin=is_admin,
                now=now,
                note=note.strip(),
                notify_customer=notify_customer,
                followup_due_at=followup_due,
            )
            case = await repo.get(tx, case_id)
            if case is None:
                return _refused(Refusal.NOT_FOUND)
            if not done:
                refusal = _owner_refusal(case, manager_id, is_admin)
                return _refused(refusal or _text_or_invalid(note), case)
            if notify_customer:
                await _first_contact(tx, case, now)
            resolution = recovery.resolution_of(case.status, int(notify_customer))
            await _count_timed(tx, case, recovery.Stage.RESOLVE, now, resolution)
            await repo.add_event(
                tx,
                case_id,
                at=now,
                kind=EventKind.RESOLVED,
                actor_id=manager_id,
                actor_name=_actor_name(case, manager_id, manager_name),
                text=note.strip(),
            )
            await webhooks.case(tx, Event.CASE_RESOLVED, case_id, now)
            return CaseResult(case=case, changed=True, retired=tuple(retired))

    async def close_without_fix(
        self,
        case_id: int,
        manager_id: int,
        reason: str,
        *,
        manager_name: str | None = None,
        is_admin: bool = False,
        conn: Connection | None = None,
    ) -> CaseResult:
        """new/taken -> closed with a reason. An untaken case may be closed by any
        manager (who becomes its owner of record); a taken one by its owner or an admin."""
        now = self._now()
        async with self._tx(conn) as tx:
            retired = await repo.prompts(tx, case_id=case_id)
            done = bool(reason.strip()) and await repo.try_close(
                tx,
                case_id,
                actor_id=manager_id,
                actor_name=manager_name or str(manager_id),
                is_admin=is_admin,
                now=now,
                reason=reason.strip(),
            )
            case = await repo.get(tx, case_id)
            if case is None:
                return _refused(Refusal.NOT_FOUND)
            if not done:
                refusal = _close_refusal(case, manager_id, is_admin)
                return _refused(refusal or _text_or_invalid(reason), case)
            await _count_timed(tx, case, recovery.Stage.RESOLVE, now, recovery.Resolution.CLOSED)
            await repo.add_event(
                tx,
                case_id,
                at=now,
                kind=EventKind.CLOSED,
                actor_id=manager_id,
                actor_name=_actor_name(case, manager_id, manager_name),
                text=reason.strip(),
            )
            await webhooks.case(tx, Event.CASE_CLOSED, case_id, now)
            return CaseResult(case=case, changed=True, retired=tuple(retired))

    async def add_note(
        self,
        case_id: int,
        actor_id: int,
        actor_name: str | None,
        text: str,
        *,
        conn: Connection | None = None,
    ) -> CaseResult:
        """An internal note in the history, by any manager, in any state."""
        if not text.strip():
            return _refused(Refusal.TEXT_REQUIRED)
        now = self._now()
        async with self._tx(conn) as tx:
            case = await repo.get(tx, case_id)
            if case is None:
                return _refused(Refusal.NOT_FOUND)
            await repo.add_event(
                tx,
                case_id,
                at=now,
                kind=EventKind.NOTE,
                actor_id=actor_id,
                actor_name=actor_name,
                text=text.strip(),
            )
            return _done(case)

    # --- "the manager is writing": the next text message belongs to a case -------

    async def start_pending(
        self,
        case_id: int,
        manager_id: int,
        action: PendingAction,
        *,
        is_admin: bool = False,
        template: str | None = None,
        draft: str | None = None,
        conn: Connection | None = None,
    ) -> CaseResult:
        """Route this manager's next text (within pending_ttl) to the case as `action`;
        refused if they could not perform the action now. Replaces their earlier one (and
        anyone's on this case), whose prompts come back as `retired`; record the new
        prompt with `set_prompt` once it is sent. `template` and `draft` go with the
        template actions: the template waiting for its value, the text waiting for Send."""
        now = self._now()
        async with self._tx(conn) as tx:
            case = await repo.get(tx, case_id)
            if case is None:
                return _refused(Refusal.NOT_FOUND)
            if action == PendingAction.CLOSE_REASON:
                refusal = _close_refusal(case, manager_id, is_admin)
            else:
                refusal = _owner_refusal(case, manager_id, is_admin)
            if refusal:
                return _refused(refusal, case)
            mine = await repo.prompts(tx, actor_id=manager_id)
            retired = tuple(dict.fromkeys(mine + await repo.prompts(tx, case_id=case_id)))
            await repo.set_pending(
                tx,
                case_id,
                actor_id=manager_id,
                action=action,
                now=now,
                template=template,
                draft=draft,
            )
            return CaseResult(case=await repo.get(tx, case_id), changed=True, retired=retired)

    async def send_draft(
        self,
        case_id: int,
        manager_id: int,
        manager_name: str | None,
        *,
        is_admin: bool = False,
        conn: Connection | None = None,
    ) -> tuple[CaseResult, str | None]:
        """Send confirmed: the previewed template text becomes the manager's message,
        once. The pending is claimed first (a conditional update), so a second tap, on
        this instance or another, finds nothing to send. Returns the text sent."""
        now = self._now()
        since = now - _ms(self.pending_ttl)
        async with self._tx(conn) as tx:
            retired = await repo.prompts(tx, case_id=case_id, actor_id=manager_id)
            claimed = await repo.clear_pending_of(
                tx,
                manager_id,
                now,
                case_id=case_id,
                action=PendingAction.TEMPLATE_CONFIRM,
                since=since,
            )
            case = await repo.get(tx, case_id)
            if not claimed or case is None or not case.pending_draft:
                return _refused(Refusal.NOTHING_TO_SEND, case), None
            draft = case.pending_draft
            result = await self.record_message(
                case_id, Direction.OUT, manager_id, manager_name, draft, is_admin=is_admin, conn=tx
            )
            if not result.ok:
                return result, None
            return replace(result, retired=tuple(retired)), draft

    async def set_prompt(
        self, case_id: int, manager_id: int, prompt: Prompt, *, conn: Connection | None = None
    ) -> bool:
        """Remember the message that asked for this manager's pending text, so that its
        buttons go when the pending ends. False when it ended already or a racing press
        recorded its own prompt: then this one is stale at birth (retire it)."""
        async with self._tx(conn) as tx:
            return await repo.set_prompt(
                tx,
                case_id,
                actor_id=manager_id,
                chat_id=prompt.chat_id,
                message_id=prompt.message_id,
                now=self._now(),
            )

    async def pending_for(
        self, manager_id: int, *, conn: Connection | None = None
    ) -> Pending | None:
        """The case waiting for this manager's text, unless it expired or moved on."""
        since = self._now() - _ms(self.pending_ttl)
        async with self._reader(conn) as reader:
            case = await repo.pending_of(reader, manager_id, since)
        if case is None or case.pending_action is None:
            return None
        return Pending(case=case, action=PendingAction(case.pending_action))

    async def cancel_pending(
        self,
        manager_id: int,
        case_id: int,
        *,
        pressed: Prompt | None = None,
        conn: Connection | None = None,
    ) -> CaseResult:
        """End this manager's pending action on this case (an old Cancel under another
        case never touches the current one); changed=True when there was one, with its
        prompt in `retired`. Refused NOT_YOUR_PROMPT, changing nothing, when they had none
        and `pressed` (the message whose Cancel they pressed) is another manager's live
        prompt. Otherwise the pressed message is a menu or a stale prompt: close it."""
        now = self._now()
        async with self._tx(conn) as tx:
            retired = await repo.prompts(tx, case_id=case_id, actor_id=manager_id)
            cancelled = await repo.clear_pending_of(tx, manager_id, now, case_id=case_id) > 0
            case = await repo.get(tx, case_id)
            if cancelled:
                return CaseResult(case=case, changed=True, retired=tuple(retired))
            live = await self.pending_prompt(case_id, conn=tx)
            if pressed is not None and live == pressed:
                return _refused(Refusal.NOT_YOUR_PROMPT, case)
            return _done(case, changed=False)

    async def pending_prompt(
        self, case_id: int, *, conn: Connection | None = None
    ) -> Prompt | None:
        """The prompt of the case's pending action, while that action is still live."""
        since = self._now() - _ms(self.pending_ttl)
        async with self._reader(conn) as reader:
            case = await repo.get(reader, case_id)
        if (
            case is None
            or case.pending_action is None
            or (case.pending_at or 0) < since
            or case.pending_prompt_chat_id is None
            or case.pending_prompt_message_id is None
        ):
            return None
        return Prompt(case.pending_prompt_chat_id, case.pending_prompt_message_id)

    async def submit_pending(
        self,
        manager_id: int,
        manager_name: str,
        text: str,
        *,
        is_admin: bool = False,
        conn: Connection | None = None,
    ) -> PendingOutcome | None:
        """Apply the manager's text to their pending action: a message out, a resolution
        note, or a close reason. None when nothing is pending (the text is not ours)."""
        pending = await self.pending_for(manager_id, conn=conn)
        if pending is None:
            return None
        case_id, action = pending.case.id, pending.action
        result: CaseResult
        if action == PendingAction.TEMPLATE_VALUE:
            # The value a template asked for: the handler renders the preview with it.
            return PendingOutcome(action=action, result=_done(pending.case, changed=False))
        if action in (PendingAction.MESSAGE, PendingAction.TEMPLATE_CONFIRM):
            # Under a template's preview, a typed text is the manager's own version.
            action = PendingAction.MESSAGE
            result = await self.record_message(
                case_id,
                Direction.OUT,
                manager_id,
                manager_name,
                text,
                is_admin=is_admin,
                conn=conn,
            )
        elif action == PendingAction.CLOSE_REASON:
            result = await self.close_without_fix(
                case_id,
                manager_id,
                text,
                manager_name=manager_name,
                is_admin=is_admin,
                conn=conn,
            )
        else:
            result = await self.resolve(
                case_id,
                manager_id,
                text,
                action == PendingAction.RESOLVE_NOTIFY,
                manager_name=manager_name,
                is_admin=is_admin,
                conn=conn,
            )
        return PendingOutcome(action=action, result=result)

    # --- SLA escalation ----------------------------------------------------------

    async def due_escalations(
        self, now: datetime | None = None, *, limit: int = 100
    ) -> list[DueEscalation]:
        """Cases past their take SLA (still new) or resolve SLA (still taken) that were
        not escalated for that stage yet, most overdue first."""
        now_ms = to_ms(now or self._clock.now())
        async with self._db.read() as reader:
            takes = await repo.due_take_escalations(reader, now_ms, limit)
            resolves = await repo.due_resolve_escalations(reader, now_ms, limit)
        due = [DueEscalation(case, EscalationStage.TAKE) for case in takes]
        due += [DueEscalation(case, EscalationStage.RESOLVE) for case in resolves]
        due.sort(key=lambda item: (_due_at(item), item.case.id))
        return due[:limit]

    async def mark_escalated(
        self, case_id: int, stage: EscalationStage, *, conn: Connection | None = None
    ) -> CaseResult:
        """Record the escalation of `stage`; changed=True only for the call that did it.
        Refused (INVALID_TRANSITION) when already escalated or the case moved on."""
        now = self._now()
        async with self._tx(conn) as tx:
            marked = await repo.try_mark_escalated(tx, case_id, stage.value, now)
            case = await repo.get(tx, case_id)
            if case is None:
                return _refused(Refusal.NOT_FOUND)
            if not marked:
                return _refused(Refusal.INVALID_TRANSITION, case)
            await repo.add_event(tx, case_id, at=now, kind=EventKind.ESCALATED, text=stage.value)
            return _done(case)

    # --- follow-up: "did we fix it?" ---------------------------------------------

    async def due_followups(
        self, now: datetime | None = None, *, limit: int = 100
    ) -> list[FollowupTarget]:
        now_ms = to_ms(now or self._clock.now())
        async with self._db.read() as reader:
            return await repo.due_followups(reader, now_ms, limit)

    async def mark_followup_sent(
        self, case_id: int, *, conn: Connection | None = None
    ) -> CaseResult:
        """changed=True only for the call that recorded it (enqueue the question then)."""
        now = self._now()
        async with self._tx(conn) as tx:
            marked = await repo.try_mark_followup_sent(tx, case_id, now)
            case = await repo.get(tx, case_id)
            if case is None:
                return _refused(Refusal.NOT_FOUND)
            if not marked:
                return _refused(Refusal.INVALID_TRANSITION, case)
            await repo.add_event(tx, case_id, at=now, kind=EventKind.FOLLOWUP_SENT)
            await recovery.count(tx, case_id, {recovery.FOLLOWUP_ASKED: 1})
            return _done(case)

    async def answer_followup(
        self,
        case_id: int,
        customer_telegram_id: int | None,
        fixed: bool,
        *,
        conn: Connection | None = None,
    ) -> CaseResult:
        """Store the customer's yes/no once. With customer_telegram_id, only the case's
        customer may answer (pass None only for trusted callers such as the API). A
        "no" reopens the case (`reopen`): the result then has reopened=True."""
        now = self._now()
        answer = "yes" if fixed else "no"
        async with self._tx(conn) as tx:
            case = await repo.get(tx, case_id)
            if case is None:
                return _refused(Refusal.NOT_FOUND)
            if customer_telegram_id is not None and (
                await repo.customer_telegram_id(tx, case.customer_id) != customer_telegram_id
            ):
                return _refused(Refusal.NOT_ALLOWED, case)
            if not await repo.try_answer_followup(tx, case_id, answer, now):
                sent = case.followup_sent_at is not None
                return _refused(
                    Refusal.ALREADY_ANSWERED if sent else Refusal.FOLLOWUP_NOT_SENT, case
                )
            await repo.add_event(
                tx,
                case_id,
                at=now,
                kind=EventKind.FOLLOWUP_ANSWER,
                actor_id=customer_telegram_id,
                text=answer,
            )
            event = recovery.FOLLOWUP_YES if fixed else recovery.FOLLOWUP_NO
            await recovery.count(tx, case_id, {event: 1})
            if not fixed:
                reopened = await self.reopen(case_id, actor_id=customer_telegram_id, conn=tx)
                if reopened.changed:
                    return CaseResult(case=reopened.case, changed=True, reopened=True)
            return _done(await repo.get(tx, case_id))

    async def reopen(
        self, case_id: int, *, actor_id: int | None = None, conn: Connection | None = None
    ) -> CaseResult:
        """resolved -> open again, because the customer says it is not fixed: back to
        its owner as taken with the resolve SLA restarting now (with no owner: new, the
        take SLA restarting), in the history as `reopened`, in the figures as a reopen
        that takes the resolution back. The one place a case reopens: the caller tells
        the owner (CaseOutbox.notify_reopened). Refused INVALID_TRANSITION unless the
        case is resolved."""
        now = self._now()
        async with self._tx(conn) as tx:
            case = await repo.get(tx, case_id)
            if case is None:
                return _refused(Refusal.NOT_FOUND)
            location = await repo.location_of(tx, case_id)
            start = from_ms(now)
            reopened = await repo.try_reopen(
                tx,
                case_id,
                now=now,
                take_due_at=await self._sla_deadline(tx, location, start, self.take_sla),
                resolve_due_at=await self._sla_deadline(tx, location, start, self.resolve_sla),
            )
            if not reopened:
                return _refused(Refusal.INVALID_TRANSITION, case)
            events = {recovery.REOPENED: 1}
            resolution = recovery.resolution_of(case.status, case.notify_customer)
            if resolution is not None and case.resolved_at is not None:
                taken_back = case.resolved_at - case.opened_at
                events[recovery.timed_event(recovery.Stage.RESOLVE, taken_back, resolution)] = -1
            await recovery.count(tx, case_id, events)
            await repo.add_event(tx, case_id, at=now, kind=EventKind.REOPENED, actor_id=actor_id)
            await webhooks.case(tx, Event.CASE_REOPENED, case_id, now)
            return _done(await repo.get(tx, case_id))

    # --- reads and the alert message ---------------------------------------------

    async def get(self, case_id: int, *, conn: Connection | None = None) -> Case | None:
        async with self._reader(conn) as reader:
            return await repo.get(reader, case_id)

    async def card(self, case_id: int, *, conn: Connection | None = None) -> CaseCard | None:
        """The case with the answer, customer and visit: what the alert shows."""
        async with self._reader(conn) as reader:
            return await repo.card(reader, case_id)

    async def history(self, case_id: int, *, conn: Connection | None = None) -> list[CaseEvent]:
        """Every step of the case, in order."""
        async with self._reader(conn) as reader:
            return await repo.events(reader, case_id)

    async def open_cases(
        self, *, limit: int = 100, locations: Sequence[str] | None = None
    ) -> list[CaseListItem]:
        """New and taken cases, oldest first (only at `locations` when given); `age_ms` is
        measured at the clock's now."""
        async with self._db.read() as reader:
            return await repo.open_cases(reader, self._now(), limit, locations)

    async def location_of(self, case_id: int, *, conn: Connection | None = None) -> str | None:
        """The location the case's visit was at; None for no such case."""
        async with self._reader(conn) as reader:
            return await repo.location_of(reader, case_id)

    async def find_by_alert(
        self, chat_id: int, message_id: int, *, conn: Connection | None = None
    ) -> Case | None:
        """The case whose alert a manager replied to."""
        async with self._reader(conn) as reader:
            return await repo.find_by_alert(reader, chat_id, message_id)

    async def set_alert_message(
        self, case_id: int, chat_id: int, message_id: int, *, conn: Connection | None = None
    ) -> bool:
        """Remember the alert message (call from the outbox renderer's on_sent)."""
        async with self._tx(conn) as tx:
            return await repo.set_alert(tx, case_id, chat_id, message_id, self._now()) == 1

    async def active_case_for_customer(
        self,
        customer_id: int,
        *,
        resolved_within: timedelta | None = None,
        conn: Connection | None = None,
    ) -> Case | None:
        """The case a customer's free text belongs to: their newest open case, else
        (with resolved_within) one resolved that recently, so a "thanks" is kept too."""
        async with self._reader(conn) as reader:
            case = await repo.latest_for_customer(reader, customer_id, repo.OPEN_STATUSES)
            if case is None and resolved_within is not None:
                since = self._now() - _ms(resolved_within)
                case = await repo.latest_resolved_for_customer(reader, customer_id, since)
        return case


def _ms(delta: timedelta) -> int:
    return int(delta.total_seconds() * 1000)


async def _count_timed(
    conn: Connection,
    case: Case,
    stage: recovery.Stage,
    now: int,
    resolution: recovery.Resolution | None = None,
) -> None:
    """Count a timed step of the case, `now - opened_at` after it opened."""
    event = recovery.timed_event(stage, now - case.opened_at, resolution)
    await recovery.count(conn, case.id, {event: 1})


async def _first_contact(conn: Connection, case: Case, now: int) -> None:
    """The team writes to the customer: counted the first time only."""
    if await repo.try_set_first_contact(conn, case.id, now):
        await _count_timed(conn, case, recovery.Stage.CONTACT, now)


def _due_at(item: DueEscalation) -> int:
    if item.stage == EscalationStage.TAKE:
        return item.case.take_due_at
    return item.case.resolve_due_at or 0


def _actor_name(case: Case, actor_id: int, given: str | None) -> str | None:
    """The name to record: the one given, else the owner's when the actor owns the case."""
    if given:
        return given
    return case.owner_name if case.owner_id == actor_id else None


def _text_or_invalid(text: str) -> Refusal:
    return Refusal.TEXT_REQUIRED if not text.strip() else Refusal.INVALID_TRANSITION
