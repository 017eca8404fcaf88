"""The case state machine against a real SQLite file, with time injected."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.cases import service as svc
from bot.cases import texts
from bot.cases.service import (
    CaseAction,
    CaseResult,
    CaseService,
    CaseStatus,
    Direction,
    EscalationStage,
    EventKind,
    PendingAction,
    Refusal,
    Template,
)
from bot.cases.templates import template_book
from bot.core.clock import FakeClock, to_ms
from bot.i18n import load_translator
from storage.db import SqliteDatabase

ALICE, BOB, CAROL, ADMIN = 101, 102, 103, 900
CUSTOMER_TG = 5550001
ZONE = ZoneInfo("Europe/Kyiv")


# --- fixtures: a customer, a visit and a detractor survey, in plain SQL ------------


async def add_customer(
    db: SqliteDatabase, now: int, telegram_id: int | None = CUSTOMER_TG, **extra: Any
) -> int:
    values = {"telegram_id": telegram_id, "name": "Olena", "username": "olena", "now": now}
    values.update(extra)
    columns = ", ".join(key for key in values if key != "now")
    params = ", ".join(f":{key}" for key in values if key != "now")
    async with db.transaction() as conn:
        row = await conn.fetch_one(
            f"INSERT INTO customers ({columns}, created_at, updated_at)"
            f" VALUES ({params}, :now, :now) RETURNING id",
            values,
        )
    assert row is not None
    return int(row["id"])


async def add_survey(
    db: SqliteDatabase, customer_id: int, now: int, nps: int = 3, key: str = "v1"
) -> int:
    async with db.transaction() as conn:
        visit = await conn.fetch_one(
            "INSERT INTO visits (visit_key, customer_id, visited_at, location, staff, source,"
            " outcome, day, created_at)"
            " VALUES (:key, :customer_id, :now, 'Podil', 'Ivan', 'api', 'scheduled',"
            " '2026-11-23', :now) RETURNING id",
            {"key": key, "customer_id": customer_id, "now": now},
        )
        assert visit is not None
        survey = await conn.fetch_one(
            "INSERT INTO surveys (visit_id, customer_id, location, staff, day, status, step,"
            " due_at, deadline_at, language, nps, ces, reason, created_at)"
            " VALUES (:visit_id, :customer_id, 'Podil', 'Ivan', '2026-11-23', 'answered',"
            " 'reason', :now, :now, 'uk', :nps, 2, 'Waited 40 minutes', :now) RETURNING id",
            {"visit_id": visit["id"], "customer_id": customer_id, "now": now, "nps": nps},
        )
    assert survey is not None
    return int(survey["id"])


@pytest.fixture
def service(db: SqliteDatabase, clock: FakeClock) -> CaseService:
    return CaseService(db, clock, take_sla_minutes=30, resolve_sla_hours=48, followup_days=14)


async def open_case(
    db: SqliteDatabase, service: CaseService, clock: FakeClock, key: str = "v1"
) -> int:
    now = to_ms(clock.now())
    # Only the first customer has a Telegram id: the column is unique.
    customer_id = await add_customer(db, now, telegram_id=CUSTOMER_TG if key == "v1" else None)
    survey_id = await add_survey(db, customer_id, now, key=key)
    async with db.transaction() as conn:
        result = await service.open_for_survey(conn, survey_id, customer_id, clock.now())
    assert result.ok and result.changed and result.case is not None
    return result.case.id


async def snapshot(db: SqliteDatabase, case_id: int) -> tuple[dict[str, Any] | None, int]:
    async with db.read() as conn:
        row = await conn.fetch_one("SELECT * FROM cases WHERE id = :id", {"id": case_id})
        events = await conn.fetch_one(
            "SELECT COUNT(*) AS n FROM case_events WHERE case_id = :id", {"id": case_id}
        )
    assert events is not None
    return row, int(events["n"])


def kinds(events: list[svc.CaseEvent]) -> list[str]:
    return [event.kind for event in events]


# --- the lifecycle -------------------------------------------------------------------


async def test_full_lifecycle_from_alert_to_followup(
    db: SqliteDatabase, service: CaseService, clock: FakeClock
) -> None:
    case_id = await open_case(db, service, clock)
    assert await service.set_alert_message(case_id, -1001, 77)

    clock.advance(timedelta(minutes=5))
    taken = await service.take(case_id, ALICE, "Alice")
    assert taken.ok and taken.changed
    assert taken.case is not None and taken.case.status == "taken"
    assert taken.case.owner_id == ALICE and taken.case.owner_name == "Alice"

    replied_to = await service.find_by_alert(-1001, 77)
    assert replied_to is not None and replied_to.id == case_id
    out = await service.record_message(case_id, Direction.OUT, ALICE, "Alice", "Sorry!")
    assert out.ok
    active = await service.active_case_for_customer(taken.case.customer_id)
    assert active is not None and active.id == case_id
    back = await service.record_message(case_id, Direction.IN, CUSTOMER_TG, "Olena", "Ok")
    assert back.ok

    clock.advance(timedelta(hours=2))
    resolved = await service.resolve(case_id, ALICE, "Added a second cashier", True)
    assert resolved.ok and resolved.case is not None
    assert resolved.case.status == "resolved" and resolved.case.notify_customer == 1
    assert resolved.case.resolution_note == "Added a second cashier"

    clock.advance(timedelta(days=14))
    due = await service.due_followups()
    assert [target.case_id for target in due] == [case_id]
    assert due[0].telegram_id == CUSTOMER_TG and due[0].language == "uk"
    assert (await service.mark_followup_sent(case_id)).changed
    answered = await service.answer_followup(case_id, CUSTOMER_TG, True)
    assert answered.ok and answered.case is not None
    assert answered.case.followup_answer == "yes"

    history = await service.history(case_id)
    assert kinds(history) == [
        "opened",
        "taken",
        "message_out",
        "message_in",
        "resolved",
        "followup_sent",
        "followup_answer",
    ]
    assert [(e.actor_id, e.text) for e in history[2:4]] == [
        (ALICE, "Sorry!"),
        (CUSTOMER_TG, "Ok"),
    ]
    assert await service.open_cases() == []


async def test_open_for_survey_is_idempotent(
    db: SqliteDatabase, service: CaseService, clock: FakeClock
) -> None:
    now = to_ms(clock.now())
    customer_id = await add_customer(db, now)
    survey_id = await add_survey(db, customer_id, now)
    async with db.transaction() as conn:
        first = await service.open_for_survey(conn, survey_id, customer_id, clock.now())
        second = await service.open_for_survey(conn, survey_id, customer_id, clock.now())
    assert first.changed and not second.changed
    assert first.case is not None and second.case is not None
    assert first.case.id == second.case.id
    assert first.case.take_due_at == now + 30 * 60 * 1000
    assert kinds(await service.history(first.case.id)) == ["opened"]


# --- refusals change nothing ---------------------------------------------------------


async def assert_refused(
    db: SqliteDatabase, case_id: int, call: Awaitable[CaseResult], refusal: Refusal
) -> CaseResult:
    before = await snapshot(db, case_id)
    result = await call
    assert not result.ok and result.refusal is refusal
    assert await snapshot(db, case_id) == before
    return result


async def test_resolve_untaken_is_refused(
    db: SqliteDatabase, service: CaseService, clock: FakeClock
) -> None:
    case_id = await open_case(db, service, clock)
    await assert_refused(
        db, case_id, service.resolve(case_id, ALICE, "done", True), Refusal.NOT_TAKEN
    )
    await assert_refused(
        db,
        case_id,
        service.record_message(case_id, Direction.OUT, ALICE, "Alice", "hi"),
        Refusal.NOT_TAKEN,
    )


async def test_take_resolved_or_closed_is_refused(
    db: SqliteDatabase, service: CaseService, clock: FakeClock
) -> None:
    case_id = await open_case(db, service, clock)
    await service.take(case_id, ALICE, "Alice")
    assert (await service.resolve(case_id, ALICE, "fixed", False)).ok
    await assert_refused(db, case_id, service.take(case_id, BOB, "Bob"), Refusal.ALREADY_CLOSED)
    await assert_refused(
        db, case_id, service.take(case_id, ALICE, "Alice"), Refusal.ALREADY_CLOSED
    )
    await assert_refused(
        db, case_id, service.resolve(case_id, ALICE, "again", False), Refusal.ALREADY_CLOSED
    )
    await assert_refused(
        db, case_id, service.close_without_fix(case_id, ALICE, "why"), Refusal.ALREADY_CLOSED
    )


async def test_stranger_is_refused_and_admin_is_not(
    db: SqliteDatabase, service: CaseService, clock: FakeClock
) -> None:
    case_id = await open_case(db, service, clock)
    await service.take(case_id, ALICE, "Alice")
    await assert_refused(
        db, case_id, service.resolve(case_id, BOB, "x", True), Refusal.NOT_ALLOWED
    )
    await assert_refused(
        db,
        case_id,
        service.record_message(case_id, Direction.OUT, BOB, "Bob", "hi"),
        Refusal.NOT_ALLOWED,
    )
    await assert_refused(
        db, case_id, service.close_without_fix(case_id, BOB, "spam"), Refusal.NOT_ALLOWED
    )
    await assert_refused(
        db,
        case_id,
        service.start_pending(case_id, BOB, PendingAction.MESSAGE),
        Refusal.NOT_ALLOWED,
    )
    # Someone other than the case's customer cannot write into its thread either.
    await assert_refused(
        db,
        case_id,
        service.record_message(case_id, Direction.IN, 4242, "Mallory", "hi"),
        Refusal.NOT_ALLOWED,
    )
    by_admin = await service.resolve(
        case_id, ADMIN, "Handled by the admin", False, manager_name="Admin", is_admin=True
    )
    assert by_admin.ok and by_admin.case is not None
    assert by_admin.case.owner_name == "Alice"
    resolved = (await service.history(case_id))[-1]
    assert (resolved.kind, resolved.actor_id, resolved.actor_name) == ("resolved", ADMIN, "Admin")


async def test_second_taker_is_told_the_owner_and_double_press_is_harmless(
    db: SqliteDatabase, service: CaseService, clock: FakeClock
) -> None:
    case_id = await open_case(db, service, clock)
    assert (await service.take(case_id, ALICE, "Alice")).changed
    refused = await assert_refused(
        db, case_id, service.take(case_id, BOB, "Bob"), Refusal.ALREADY_TAKEN_BY
    )
    assert refused.owner_name == "Alice"
    text = texts.refusal_text(load_translator(), "en", refused)
    assert "Alice" in text

    before = await snapshot(db, case_id)
    again = await service.take(case_id, ALICE, "Alice")
    assert again.ok and not again.changed
    assert await snapshot(db, case_id) == before


async def test_unknown_case_and_empty_texts_are_refused(
    db: SqliteDatabase, service: CaseService, clock: FakeClock
) -> None:
    assert (await service.take(999, ALICE, "Alice")).refusal is Refusal.NOT_FOUND
    assert (await service.resolve(999, ALICE, "x", False)).refusal is Refusal.NOT_FOUND
    assert (await service.close_without_fix(999, ALICE, "x")).refusal is Refusal.NOT_FOUND
    assert (await service.answer_followup(999, CUSTOMER_TG, True)).refusal is Refusal.NOT_FOUND
    assert await service.get(999) is None
    case_id = await open_case(db, service, clock)
    await service.take(case_id, ALICE, "Alice")
    await assert_refused(
        db, case_id, service.resolve(case_id, ALICE, "  ", True), Refusal.TEXT_REQUIRED
    )
    await assert_refused(
        db, case_id, service.close_without_fix(case_id, ALICE, ""), Refusal.TEXT_REQUIRED
    )
    await assert_refused(
        db,
        case_id,
        service.record_message(case_id, Direction.OUT, ALICE, "Alice", " "),
        Refusal.TEXT_REQUIRED,
    )


async def test_close_without_fix_of_an_untaken_case_records_the_closer(
    db: SqliteDatabase, service: CaseService, clock: FakeClock
) -> None:
    case_id = await open_case(db, service, clock)
    closed = await service.close_without_fix(
        case_id, BOB, "Customer pressed by mistake", manager_name="Bob"
    )
    assert closed.ok and closed.case is not None
    assert (closed.case.status, closed.case.owner_name) == ("closed", "Bob")
    assert closed.case.closed_reason == "Customer pressed by mistake"
    assert svc.available_actions(closed.case) == ()
    assert kinds(await service.history(case_id)) == ["opened", "closed"]


async def test_concurrent_takes_yield_exactly_one_owner(
    db: SqliteDatabase, service: CaseService, clock: FakeClock
) -> None:
    case_id = await open_case(db, service, clock)
    managers = [(ALICE, "Alice"), (BOB, "Bob"), (CAROL, "Carol"), (104, "Dan"), (105, "Eve")]
    results = await asyncio.gather(*(service.take(case_id, mid, name) for mid, name in managers))
    winners = [result for result in results if result.changed]
    assert len(winners) == 1
    assert winners[0].case is not None
    owner = winners[0].case.owner_name
    losers = [result for result in results if not result.changed]
    assert {result.refusal for result in losers} == {Refusal.ALREADY_TAKEN_BY}
    assert {result.owner_name for result in losers} == {owner}
    case = await service.get(case_id)
    assert case is not None and case.owner_name == owner
    assert kinds(await service.history(case_id)).count("taken") == 1


# --- SLA escalation ------------------------------------------------------------------


async def test_take_then_resolve_sla_escalate_once_each_and_survive_restart(
    db: SqliteDatabase, service: CaseService, clock: FakeClock
) -> None:
    case_id = await open_case(db, service, clock)
    clock.advance(timedelta(minutes=29))
    assert await service.due_escalations() == []

    clock.advance(timedelta(minutes=2))
    due = await service.due_escalations()
    assert [(item.case.id, item.stage) for item in due] == [(case_id, EscalationStage.TAKE)]
    assert (await service.mark_escalated(case_id, EscalationStage.TAKE)).changed
    assert not (await service.mark_escalated(case_id, EscalationStage.TAKE)).ok
    # A fresh service on the same database (a restart) does not escalate again.
    restarted = CaseService(db, clock, take_sla_minutes=30, resolve_sla_hours=48)
    clock.advance(timedelta(hours=5))
    assert await restarted.due_escalations() == []

    await restarted.take(case_id, ALICE, "Alice")
    clock.advance(timedelta(hours=47, minutes=59))
    assert await restarted.due_escalations() == []
    clock.advance(timedelta(minutes=2))
    due = await restarted.due_escalations()
    assert [(item.case.id, item.stage) for item in due] == [(case_id, EscalationStage.RESOLVE)]
    text = texts.format_escalation(
        load_translator(), "en", due[0].case, due[0].stage, clock.now(), "@team"
    )
    assert "@team" in text and "Alice" in text and "2 days" in text
    assert (await restarted.mark_escalated(case_id, EscalationStage.RESOLVE)).changed
    assert not (await restarted.mark_escalated(case_id, EscalationStage.RESOLVE)).changed
    clock.advance(timedelta(days=3))
    assert await restarted.due_escalations() == []

    events = await service.history(case_id)
    assert [(e.kind, e.text) for e in events if e.kind == "escalated"] == [
        ("escalated", "take"),
        ("escalated", "resolve"),
    ]


async def test_a_case_taken_in_time_is_never_escalated_for_taking(
    db: SqliteDatabase, service: CaseService, clock: FakeClock
) -> None:
    case_id = await open_case(db, service, clock)
    clock.advance(timedelta(minutes=10))
    await service.take(case_id, ALICE, "Alice")
    clock.advance(timedelta(hours=1))
    assert await service.due_escalations() == []
    refused = await service.mark_escalated(case_id, EscalationStage.TAKE)
    assert refused.refusal is Refusal.INVALID_TRANSITION


# --- follow-up -----------------------------------------------------------------------


async def test_followup_is_due_once_and_answered_once(
    db: SqliteDatabase, service: CaseService, clock: FakeClock
) -> None:
    case_id = await open_case(db, service, clock)
    await service.take(case_id, ALICE, "Alice")
    await service.resolve(case_id, ALICE, "fixed", True)
    early = await service.answer_followup(case_id, CUSTOMER_TG, True)
    assert early.refusal is Refusal.FOLLOWUP_NOT_SENT

    clock.advance(timedelta(days=13, hours=23))
    assert await service.due_followups() == []
    clock.advance(timedelta(hours=2))
    assert [t.case_id for t in await service.due_followups()] == [case_id]
    assert (await service.mark_followup_sent(case_id)).changed
    assert not (await service.mark_followup_sent(case_id)).changed
    assert await service.due_followups() == []

    await assert_refused(
        db, case_id, service.answer_followup(case_id, 4242, False), Refusal.NOT_ALLOWED
    )
    assert (await service.answer_followup(case_id, CUSTOMER_TG, False)).ok
    await assert_refused(
        db, case_id, service.answer_followup(case_id, CUSTOMER_TG, True), Refusal.ALREADY_ANSWERED
    )
    case = await service.get(case_id)
    assert case is not None and case.followup_answer == "no"


async def test_no_followup_without_notifying_or_when_disabled(
    db: SqliteDatabase, service: CaseService, clock: FakeClock
) -> None:
    silent = await open_case(db, service, clock)
    await service.take(silent, ALICE, "Alice")
    await service.resolve(silent, ALICE, "fixed by phone", False)
    disabled = CaseService(db, clock, followup_days=0)
    other = await open_case(db, disabled, clock, key="v2")
    await disabled.take(other, ALICE, "Alice")
    await disabled.resolve(other, ALICE, "fixed", True)
    clock.advance(timedelta(days=60))
    assert await service.due_followups() == []


async def test_followup_skips_customers_who_opted_out(
    db: SqliteDatabase, service: CaseService, clock: FakeClock
) -> None:
    case_id = await open_case(db, service, clock)
    await service.take(case_id, ALICE, "Alice")
    await service.resolve(case_id, ALICE, "fixed", True)
    async with db.transaction() as conn:
        await conn.execute("UPDATE customers SET opted_out = 1")
    clock.advance(timedelta(days=15))
    assert await service.due_followups() == []


# --- "the manager is writing" ----------------------------------------------------------


async def test_pending_message_then_resolve_note(
    db: SqliteDatabase, service: CaseService, clock: FakeClock
) -> None:
    case_id = await open_case(db, service, clock)
    assert await service.submit_pending(ALICE, "Alice", "hello") is None
    refused = await service.start_pending(case_id, ALICE, PendingAction.MESSAGE)
    assert refused.refusal is Refusal.NOT_TAKEN
    await service.take(case_id, ALICE, "Alice")

    assert (await service.start_pending(case_id, ALICE, PendingAction.MESSAGE)).ok
    pending = await service.pending_for(ALICE)
    assert pending is not None and (pending.case.id, pending.action) == (
        case_id,
        PendingAction.MESSAGE,
    )
    assert await service.pending_for(BOB) is None
    outcome = await service.submit_pending(ALICE, "Alice", "We are on it")
    assert outcome is not None and outcome.action is PendingAction.MESSAGE and outcome.result.ok
    assert await service.pending_for(ALICE) is None

    await service.start_pending(case_id, ALICE, PendingAction.RESOLVE_NOTIFY)
    clock.advance(timedelta(minutes=16))
    assert await service.pending_for(ALICE) is None, "a forgotten prompt expires"
    await service.start_pending(case_id, ALICE, PendingAction.RESOLVE_NOTIFY)
    assert (await service.cancel_pending(ALICE, case_id)).changed
    assert await service.pending_for(ALICE) is None
    await service.start_pending(case_id, ALICE, PendingAction.RESOLVE_NOTIFY)
    outcome = await service.submit_pending(ALICE, "Alice", "Retrained the staff")
    assert outcome is not None and outcome.result.case is not None
    assert outcome.result.case.status == "resolved" and outcome.result.case.notify_customer == 1
    assert await service.pending_for(ALICE) is None
    history = await service.history(case_id)
    assert [(e.kind, e.text) for e in history[2:]] == [
        ("message_out", "We are on it"),
        ("resolved", "Retrained the staff"),
    ]


# --- prompts: the messages that ask for a pending text ------------------------------


async def ask(
    service: CaseService, case_id: int, manager: int, action: PendingAction, message_id: int
) -> CaseResult:
    """Start a pending action and record its prompt, as the handler does."""
    result = await service.start_pending(case_id, manager, action, is_admin=manager == ADMIN)
    assert result.ok
    assert await service.set_prompt(case_id, manager, svc.Prompt(-1001, message_id))
    return result


async def test_a_prompt_is_retired_when_its_pending_ends(
    db: SqliteDatabase, service: CaseService, clock: FakeClock
) -> None:
    case_id = await open_case(db, service, clock)
    await service.take(case_id, ALICE, "Alice")
    p = {n: svc.Prompt(-1001, n) for n in range(1, 9)}

    assert (await ask(service, case_id, ALICE, PendingAction.MESSAGE, 1)).retired == ()
    # Asked again (Write pressed twice, a template picked): the earlier prompt retires.
    assert (await ask(service, case_id, ALICE, PendingAction.MESSAGE, 2)).retired == (p[1],)
    assert not await service.set_prompt(case_id, ALICE, p[3]), "one prompt per pending"
    assert await service.pending_prompt(case_id) == p[2]
    outcome = await service.submit_pending(ALICE, "Alice", "We are on it")
    assert outcome is not None and outcome.result.retired == (p[2],)
    assert await service.pending_prompt(case_id) is None
    assert not await service.set_prompt(case_id, ALICE, p[3]), "nothing pending any more"

    # Cancelled: retired; a second Cancel changes nothing and is not refused.
    await ask(service, case_id, ALICE, PendingAction.CLOSE_REASON, 4)
    cancelled = await service.cancel_pending(ALICE, case_id, pressed=p[4])
    assert cancelled.changed and cancelled.retired == (p[4],)
    before = await snapshot(db, case_id)
    again = await service.cancel_pending(ALICE, case_id, pressed=p[4])
    assert again.ok and not again.changed and again.retired == ()
    assert await snapshot(db, case_id) == before

    # A reply to the card is the message the prompt asked for.
    await ask(service, case_id, ALICE, PendingAction.MESSAGE, 5)
    out = await service.record_message(case_id, Direction.OUT, ALICE, "Alice", "Hi")
    assert out.retired == (p[5],)

    # The case moves on under a prompt: an admin resolves it; the owner's prompt retires.
    await ask(service, case_id, ALICE, PendingAction.RESOLVE_SILENT, 6)
    by_admin = await service.resolve(case_id, ADMIN, "Done", False, is_admin=True)
    assert by_admin.ok and by_admin.retired == (p[6],)
    refused = await service.start_pending(case_id, ALICE, PendingAction.RESOLVE_NOTIFY)
    assert refused.refusal is Refusal.ALREADY_CLOSED and refused.retired == ()


async def test_cancel_touches_only_its_case_and_only_its_owner_prompt(
    db: SqliteDatabase, service: CaseService, clock: FakeClock
) -> None:
    first = await open_case(db, service, clock)
    second = await open_case(db, service, clock, key="v2")
    for case_id in (first, second):
        await service.take(case_id, ALICE, "Alice")
    await ask(service, first, ALICE, PendingAction.MESSAGE, 1)
    # Alice moves to the second case: her first prompt retires with its pending.
    moved = await ask(service, second, ALICE, PendingAction.MESSAGE, 2)
    assert moved.retired == (svc.Prompt(-1001, 1),)

    # An old Cancel under the first case leaves the second case's pending alone.
    old = await service.cancel_pending(ALICE, first, pressed=svc.Prompt(-1001, 1))
    assert old.ok and not old.changed
    pending = await service.pending_for(ALICE)
    assert pending is not None and pending.case.id == second

    # Bob cannot cancel Alice's live prompt, and nothing changes.
    before = await snapshot(db, second)
    bob = await service.cancel_pending(BOB, second, pressed=svc.Prompt(-1001, 2))
    assert bob.refusal is Refusal.NOT_YOUR_PROMPT
    assert await snapshot(db, second) == before
    # Once it has expired it is nobody's: his Cancel just closes it.
    clock.advance(service.pending_ttl + timedelta(seconds=1))
    assert (await service.cancel_pending(BOB, second, pressed=svc.Prompt(-1001, 2))).ok


# --- the customer's side ------------------------------------------------------------


async def customer_says(service: CaseService, case_id: int, text: str) -> CaseResult:
    result = await service.record_message(case_id, Direction.IN, CUSTOMER_TG, "Olena", text)
    assert result.ok
    return result


async def test_customer_messages_are_acknowledged_once_per_turn(
    db: SqliteDatabase, service: CaseService, clock: FakeClock
) -> None:
    case_id = await open_case(db, service, clock)
    await service.take(case_id, ALICE, "Alice")
    assert service.ack_quiet == timedelta(hours=1)

    # Five messages in a row, minutes apart: one acknowledgement.
    said = []
    for text in ("Hello?", "The queue was", "forty minutes", "long", "!!!"):
        said.append((await customer_says(service, case_id, text)).acknowledge)
        clock.advance(timedelta(minutes=10))
    assert said == [True, False, False, False, False]

    # The manager writes: the customer's next message starts a new turn.
    await service.record_message(case_id, Direction.OUT, ALICE, "Alice", "Sorry about it")
    assert (await customer_says(service, case_id, "Thanks")).acknowledge
    clock.advance(timedelta(minutes=59))
    assert not (await customer_says(service, case_id, "Any news?")).acknowledge
    # An hour of silence from the customer starts a new turn too.
    clock.advance(timedelta(hours=1))
    assert (await customer_says(service, case_id, "Hello again")).acknowledge

    # Someone else writing into the thread is refused and never acknowledged.
    stranger = await service.record_message(case_id, Direction.IN, 4242, "Mallory", "hi")
    assert stranger.refusal is Refusal.NOT_ALLOWED and not stranger.acknowledge
    # Managers' messages are never acknowledged to anyone.
    out = await service.record_message(case_id, Direction.OUT, ALICE, "Alice", "Fixed")
    assert out.ok and not out.acknowledge

    # The resolution told the customer too: their "thank you" after it is acknowledged.
    await customer_says(service, case_id, "ok")
    await service.resolve(case_id, ALICE, "Retrained the staff", True)
    assert (await customer_says(service, case_id, "Thank you!")).acknowledge


async def test_two_messages_at_once_are_acknowledged_once(
    db: SqliteDatabase, service: CaseService, clock: FakeClock
) -> None:
    case_id = await open_case(db, service, clock)
    # Enough open connections first, so the four really overlap on PostgreSQL.
    await asyncio.gather(*(service.history(case_id) for _ in range(4)))
    results = await asyncio.gather(
        *(customer_says(service, case_id, f"message {n}") for n in range(4))
    )
    assert sum(result.acknowledge for result in results) == 1


def test_acknowledgement_rule_on_its_own() -> None:
    quiet = timedelta(hours=1)
    hour = 3_600_000

    def step(kind: EventKind, at: int) -> svc.CaseEvent:
        return svc.CaseEvent(
            id=1, case_id=1, at=at, actor_id=None, actor_name=None, kind=kind, text=""
        )

    assert svc.needs_acknowledgement(None, 0, quiet)
    assert not svc.needs_acknowledgement(step(EventKind.MESSAGE_IN, 0), hour - 1, quiet)
    assert svc.needs_acknowledgement(step(EventKind.MESSAGE_IN, 0), hour, quiet)
    assert svc.needs_acknowledgement(step(EventKind.MESSAGE_OUT, 0), 1, quiet)
    assert svc.needs_acknowledgement(step(EventKind.RESOLVED, 0), 1, quiet)


# --- reads ---------------------------------------------------------------------------


async def test_history_is_in_order_with_who_and_when(
    db: SqliteDatabase, service: CaseService, clock: FakeClock
) -> None:
    start = clock.now()
    case_id = await open_case(db, service, clock)
    clock.advance(timedelta(minutes=1))
    await service.take(case_id, ALICE, "Alice")
    clock.advance(timedelta(minutes=1))
    await service.add_note(case_id, BOB, "Bob", "Called the branch")
    await service.record_message(case_id, Direction.OUT, ALICE, "Alice", "Sorry")
    clock.advance(timedelta(minutes=1))
    await service.close_without_fix(case_id, ALICE, "Cannot change the opening hours")
    events = await service.history(case_id)
    assert kinds(events) == ["opened", "taken", "note", "message_out", "closed"]
    minute = 60_000
    assert [e.at - to_ms(start) for e in events] == [0, minute, 2 * minute, 2 * minute, 3 * minute]
    assert [e.actor_id for e in events] == [None, ALICE, BOB, ALICE, ALICE]

    tr = load_translator()
    case = await service.get(case_id)
    assert case is not None
    pages = texts.format_history(tr, "ru", case, events, ZONE)
    assert len(pages) == 1
    assert pages[0].index("Called the branch") < pages[0].rindex("Cannot change")
    assert pages[0].endswith("Alice: Cannot change the opening hours")


async def test_open_cases_oldest_first_with_age(
    db: SqliteDatabase, service: CaseService, clock: FakeClock
) -> None:
    first = await open_case(db, service, clock)
    clock.advance(timedelta(hours=1))
    second = await open_case(db, service, clock, key="v2")
    clock.advance(timedelta(hours=1))
    third = await open_case(db, service, clock, key="v3")
    await service.take(second, ALICE, "Alice")
    await service.close_without_fix(third, BOB, "duplicate")
    clock.advance(timedelta(minutes=5))

    items = await service.open_cases()
    assert [(item.id, item.status, item.age_ms) for item in items] == [
        (first, "new", (2 * 60 + 5) * 60_000),
        (second, "taken", (60 + 5) * 60_000),
    ]
    text = "\n".join(texts.format_open_cases(load_translator(), "ru", items))
    assert "2 открытых кейса" in text and "2 часа" in text and "у Alice" in text
    assert texts.format_open_cases(load_translator(), "en", []) == ["No open cases. 🎉"]


async def test_card_shows_the_answer_customer_and_status(
    db: SqliteDatabase, service: CaseService, clock: FakeClock
) -> None:
    case_id = await open_case(db, service, clock)
    tr = load_translator()
    card = await service.card(case_id)
    assert card is not None and card.language == "uk"
    text = texts.format_card(tr, "en", card, ZONE)
    for part in ("#", "NPS 3", "2 of 7", "Waited 40 minutes", "Olena", "@olena", "Podil", "Ivan"):
        assert part in text
    assert "14:00" in text, "the visit is shown in the business zone"
    assert "nobody has taken it" in text
    assert svc.available_actions(card.case) == (CaseAction.TAKE, CaseAction.CLOSE)

    await service.take(case_id, ALICE, "<Alice>")
    card = await service.card(case_id)
    assert card is not None
    html = texts.format_card(tr, "en", card, ZONE, escape=lambda s: s.replace("<", "&lt;"))
    assert "Taken by &lt;Alice>" in html
    assert CaseAction.RESOLVE in svc.available_actions(card.case)


def test_needs_case_thresholds() -> None:
    assert svc.needs_case(6, None, 2) and not svc.needs_case(7, None, 2)
    assert svc.needs_case(8, 2, 2) and not svc.needs_case(8, 3, 2)
    assert not svc.needs_case(9, 1, 0), "DETRACTOR_CES_MAX=0 turns CES detractors off"


def test_format_age_uses_plural_forms() -> None:
    tr = load_translator()
    assert texts.format_age(tr, "ru", timedelta(minutes=21)) == "21 минуту"
    assert texts.format_age(tr, "uk", timedelta(hours=3)) == "3 години"
    assert texts.format_age(tr, "en", timedelta(days=2, hours=1)) == "2 days 1 hour"
    assert texts.format_age(tr, "ru", timedelta(days=5)) == "5 дней"


# --- texts ---------------------------------------------------------------------------


def case_keys(language: str) -> set[str]:
    return {key for key in load_translator().keys(language) if key.startswith("case-")}


@pytest.mark.parametrize("language", ["ru", "uk"])
def test_every_case_key_exists_in_all_languages(language: str) -> None:
    english = case_keys("en")
    assert english, "cases.ftl is missing"
    assert case_keys(language) == english


def test_every_key_the_code_uses_exists() -> None:
    used = {refusal.key for refusal in Refusal}
    used |= {action.label_key for action in CaseAction}
    used |= {template.key for template in Template} | {t.label_key for t in Template}
    used |= {"case-event-" + kind.value.replace("_", "-") for kind in EventKind}
    used |= {f"case-status-{status.value}" for status in CaseStatus}
    assert used <= case_keys("en")


def test_texts_format_without_errors(caplog: pytest.LogCaptureFixture) -> None:
    tr = load_translator()
    caplog.set_level(logging.WARNING, logger="bot.i18n")
    for language in ("en", "ru", "uk"):
        book = template_book(tr, None)
        for template in book:
            value = "1 Dec" if template.value else None
            text = book.draft(template, language, company="Kava", value=value)
            assert "case-" not in text and "{" not in text and text.strip()
            if template.value:
                assert "1 Dec" in text
                assert "1 Dec" not in book.draft(template, language, company="K", value=None)
        assert "Kava" in texts.customer_message_text(tr, language, "Kava", "Hi")
        for refusal in Refusal:
            assert "case-" not in texts.refusal_text(
                tr, language, CaseResult(case=None, refusal=refusal, owner_name="Alice")
            )
    assert "Alice" in tr.get("uk", "case-refused-already-taken-by", owner="Alice")
    assert caplog.records == []
