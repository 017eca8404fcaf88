"""Quiet hours for every message the bot sends a customer on its own initiative: the
survey's reminder, anniversary thank-yous (pressed or automatic) and the case
follow-up wait for the window's end on the customer's clock (their most recent
visit's offset, else TIMEZONE); a reminder that would outlive its survey is dropped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.config import QuietHours
from bot.core.clock import FakeClock, to_ms
from bot.core.quiet import CustomerQuietHours
from storage import surveys, visits
from storage.db import Connection, Database
from tests.support.admin import add_customer, admin_says, thank_yous
from tests.support.harness import BotHarness, running_bot
from tests.support.settings import ADMIN_ID

ANN = 501
BORIS = 502
QUIET = "22:00-09:00"
REMINDER = "gentle reminder"
THANKS = "thank you for being with us"


async def _customer(conn: Connection, telegram_id: int) -> int:
    row = await conn.fetch_one(
        "INSERT INTO customers (telegram_id, created_at, updated_at) VALUES (:tid, 0, 0)"
        " RETURNING id",
        {"tid": telegram_id},
    )
    assert row is not None
    return int(row["id"])


async def _visit(
    conn: Connection, customer_id: int, key: str, at: int, offset: int | None
) -> None:
    await visits.insert(
        conn,
        visits.NewVisit(key, customer_id, at, offset, "", "", "", "api", "2026-11-23"),
        "skipped",
        "too_old",
        0,
    )


async def test_the_customers_clock_is_their_most_recent_visits_offset(db: Database) -> None:
    """Recorded order does not matter, the visit's time does; the latest visit without
    an offset means the business zone; no visit at all means the business zone too."""
    moscow = ZoneInfo("Europe/Moscow")
    rule = CustomerQuietHours(QuietHours.parse(QUIET), moscow)
    async with db.transaction() as conn:
        far_west, unknown, no_visits = [await _customer(conn, tid) for tid in (1, 2, 3)]
        await _visit(conn, far_west, "a2", 2_000, -300)
        await _visit(conn, far_west, "a1", 1_000, 180)  # reported later, happened earlier
        await _visit(conn, unknown, "b1", 1_000, -300)
        await _visit(conn, unknown, "b2", 2_000, None)
        ids = [far_west, unknown, no_visits]
        assert await visits.latest_offsets(conn, ids) == {far_west: -300, unknown: None}
        # 21:00 UTC: 16:00 at -05:00, but midnight in Moscow.
        evening = to_ms(datetime(2026, 11, 23, 21, 0, tzinfo=UTC))
        moscow_morning = to_ms(datetime(2026, 11, 24, 6, 0, tzinfo=UTC))
        assert await rule.due_ats(conn, ids, evening) == {
            far_west: evening,
            unknown: moscow_morning,
            no_visits: moscow_morning,
        }
        assert await CustomerQuietHours(None, moscow).due_at(conn, unknown, evening) == evening


async def _due_at(h: BotHarness, kind: str, chat_id: int) -> list[int]:
    async with h.app.db.read() as conn:
        rows = await conn.fetch_all(
            "SELECT due_at FROM outbox WHERE kind = :kind AND chat_id = :chat ORDER BY id",
            {"kind": kind, "chat": chat_id},
        )
    return [int(row["due_at"]) for row in rows]


async def _settle(h: BotHarness) -> None:
    """Let the worker send whatever is due now."""
    await h.app.worker.run_once()
    await h.app.worker.drain()


def _texts(h: BotHarness, chat_id: int, part: str) -> list[str]:
    return [m.text for m in h.fake.messages_to(chat_id) if part in m.text]


async def test_reminder_waits_for_morning_on_the_customers_clock(tmp_path: Path) -> None:
    """Sent at 20:00 at a +03:00 till, the reminder falls due at 22:00 there (19:00 in
    the business zone, UTC, which is not quiet): it goes at 09:00 +03:00 instead."""
    clock = FakeClock(datetime(2026, 11, 23, 17, 0, tzinfo=UTC))
    async with running_bot(tmp_path, clock, quiet_hours=QUIET, timezone="UTC") as h:
        await h.start_customer(ANN)
        outcome = await h.post_visit(ANN, "pos-1", visited_at="2026-11-23T20:00:00+03:00")
        await h.survey_for(ANN)
        clock.advance(timedelta(hours=2, seconds=1))
        await h.app.maintenance()
        morning = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
        assert await _due_at(h, "reminder", ANN) == [to_ms(morning)]
        await _settle(h)
        assert _texts(h, ANN, REMINDER) == []
        clock.set(morning - timedelta(minutes=1))
        await h.app.maintenance()
        await _settle(h)
        assert _texts(h, ANN, REMINDER) == []
        clock.set(morning)
        h.app.worker.kick()
        await h.fake.wait_for_message(ANN, text_contains=REMINDER)
        async with h.app.db.read() as conn:
            survey = await surveys.get(conn, outcome["survey_id"])
        assert survey is not None and survey.status == "sent"


async def test_reminder_that_would_outlive_its_survey_is_dropped(tmp_path: Path) -> None:
    """The survey expires at 02:00 +03:00, before quiet hours end: no reminder at all,
    and the survey is not weighed again at every tick."""
    clock = FakeClock(datetime(2026, 11, 23, 17, 0, tzinfo=UTC))
    async with running_bot(
        tmp_path, clock, quiet_hours=QUIET, timezone="UTC", survey_expires_after="6h"
    ) as h:
        await h.start_customer(ANN)
        outcome = await h.post_visit(ANN, "pos-1", visited_at="2026-11-23T20:00:00+03:00")
        message = await h.survey_for(ANN)
        clock.advance(timedelta(hours=2, seconds=1))
        await h.app.maintenance()
        assert await _due_at(h, "reminder", ANN) == []
        async with h.app.db.read() as conn:
            survey = await surveys.get(conn, outcome["survey_id"])
            assert survey is not None and survey.reminded_at == to_ms(clock.now())
            assert await surveys.due_for_reminder(conn, to_ms(clock.now())) == []
        clock.set(datetime(2026, 11, 24, 6, 0, tzinfo=UTC))
        await h.app.maintenance()
        await h.fake.wait_for(lambda m: m.message_id == message.message_id and not m.buttons)
        await _settle(h)
        assert _texts(h, ANN, REMINDER) == []
        async with h.app.db.read() as conn:
            survey = await surveys.get(conn, outcome["survey_id"])
        assert survey is not None and survey.status == "expired"


async def test_reminder_outside_quiet_hours_goes_at_once(tmp_path: Path) -> None:
    """The rule defers only what falls inside the window."""
    clock = FakeClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    async with running_bot(tmp_path, clock, quiet_hours=QUIET, timezone="UTC") as h:
        await h.start_customer(ANN)
        await h.post_visit(ANN, "pos-1", visited_at="2026-11-23T12:00:00+03:00")
        await h.survey_for(ANN)
        clock.advance(timedelta(hours=2, seconds=1))
        await h.app.maintenance()
        assert await _due_at(h, "reminder", ANN) == [to_ms(clock.now())]
        await h.fake.wait_for_message(ANN, text_contains=REMINDER)


async def test_thank_you_sent_late_at_night_waits_for_each_customers_morning(
    tmp_path: Path,
) -> None:
    """An admin presses Send at 23:30 in Moscow (TIMEZONE). Ann has no visit, so her
    clock is Moscow's: her thank-you waits until 09:00 there. Boris last visited a
    till at -05:00, where it is 15:30: his goes at once."""
    clock = FakeClock(datetime(2026, 11, 23, 18, 0, tzinfo=UTC))
    async with running_bot(
        tmp_path, clock, quiet_hours=QUIET, timezone="Europe/Moscow", survey_cooldown_days=0
    ) as h:
        await add_customer(h, ANN, "Ann", "en", "2025-11-23")
        await add_customer(h, BORIS, "Boris", "en", "2024-11-23")
        await h.post_visit(BORIS, "pos-b", visited_at="2026-11-23T13:00:00-05:00")
        await h.survey_for(BORIS)
        clock.set(datetime(2026, 11, 23, 20, 30, tzinfo=UTC))
        h.fake.user(ADMIN_ID, "Admin")
        plan = await admin_says(h, "/anniversaries")
        assert "2 customers" in plan.text
        await h.press(ADMIN_ID, plan, "✅ Send (2)")
        await h.fake.wait_for(lambda m: m.chat_id == BORIS and THANKS in m.text)
        morning = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
        assert await _due_at(h, "anniversary", ANN) == [to_ms(morning)]
        await _settle(h)
        assert thank_yous(h, ANN) == []
        clock.set(morning)
        h.app.worker.kick()
        await h.fake.wait_for(lambda m: m.chat_id == ANN and THANKS in m.text)
        summary = await h.fake.wait_for(
            lambda m: m.message_id == plan.message_id and "are done" in m.text
        )
        assert "Sent: 2. Failed: 0." in summary.text


async def test_automatic_thank_you_waits_for_a_customer_whose_clock_says_night(
    tmp_path: Path,
) -> None:
    """The automatic send at 11:00 Moscow is 03:00 at Boris's -05:00 till."""
    clock = FakeClock(datetime(2026, 11, 23, 7, 0, tzinfo=UTC))
    async with running_bot(
        tmp_path,
        clock,
        quiet_hours=QUIET,
        timezone="Europe/Moscow",
        anniversary_auto_send_at="11:00",
        visit_max_age="12h",
    ) as h:
        await add_customer(h, ANN, "Ann", "en", "2025-11-23")
        await add_customer(h, BORIS, "Boris", "en", "2024-11-23")
        # Reported from the till at 01:00 its time: quiet there, so its survey waits too.
        await h.post_visit(BORIS, "pos-b", visited_at="2026-11-23T01:00:00-05:00")
        clock.set(datetime(2026, 11, 23, 8, 0, tzinfo=UTC))
        await h.app.maintenance()
        await h.fake.wait_for(lambda m: m.chat_id == ANN and THANKS in m.text)
        boris_morning = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
        assert await _due_at(h, "anniversary", BORIS) == [to_ms(boris_morning)]
        await _settle(h)
        assert thank_yous(h, BORIS) == []
        clock.set(boris_morning)
        h.app.worker.kick()
        await h.fake.wait_for(lambda m: m.chat_id == BORIS and THANKS in m.text)


async def test_case_follow_up_waits_for_morning_but_the_managers_do_not(
    tmp_path: Path,
) -> None:
    """A detractor's case is resolved at 23:30 at their +03:00 till; a day later the
    "did we fix it?" question is due there at 23:30 and waits until 09:00. The alert to
    the managers, at the same quiet hour, went out at once."""
    clock = FakeClock(datetime(2026, 11, 23, 14, 0, tzinfo=UTC))
    async with running_bot(
        tmp_path, clock, quiet_hours=QUIET, timezone="UTC", case_followup_days=1
    ) as h:
        await h.start_customer(ANN)
        await h.post_visit(ANN, "pos-1", visited_at="2026-11-23T17:00:00+03:00")
        survey = await h.survey_for(ANN)
        clock.set(datetime(2026, 11, 23, 20, 30, tzinfo=UTC))
        await h.press(ANN, survey, "2")
        alert = await h.fake.wait_for(lambda m: m.chat_id < 0)
        assert alert.chat_id == h.settings.manager_chat_id
        cases = h.app.cases
        assert (await cases.take(1, 42, "Mia")).changed
        assert (await cases.resolve(1, 42, "New chairs", notify_customer=True)).changed
        clock.advance(timedelta(days=1))
        await h.app.maintenance()
        morning = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
        assert await _due_at(h, "case_followup", ANN) == [to_ms(morning)]
        await _settle(h)
        assert _texts(h, ANN, "Did we fix it?") == []
        clock.set(morning)
        h.app.worker.kick()
        await h.fake.wait_for_message(ANN, text_contains="Did we fix it?")
