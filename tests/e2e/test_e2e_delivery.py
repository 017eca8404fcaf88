"""Delivery end to end: restarts, Telegram's errors, reminders, expiry, opt-out."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.core.clock import FakeClock, to_ms
from storage import outbox, surveys
from storage.models import Survey
from tests.support.harness import BotHarness, running_bot

ANN = 501


async def _survey(h: BotHarness, survey_id: int) -> Survey:
    async with h.app.db.read() as conn:
        found = await surveys.get(conn, survey_id)
    assert found is not None
    return found


async def _outbox_statuses(h: BotHarness) -> dict[str, int]:
    async with h.app.db.read() as conn:
        return await outbox.count_by_status(conn)


async def test_restart_sends_what_was_owed_exactly_once(tmp_path: Path) -> None:
    clock = FakeClock()
    async with running_bot(tmp_path, clock, survey_delay_seconds=600) as h:
        await h.start_customer(ANN)
        outcome = await h.post_visit(ANN, "pos-r")
        assert outcome["due_at"] == (clock.now() + timedelta(seconds=600)).isoformat()
        fake_state = h.fake
    # The bot is down when the survey falls due; nothing lives on but the database.
    assert [m for m in fake_state.sent if len(m.callback_data) == 11] == []
    clock.advance(timedelta(minutes=15))
    async with running_bot(tmp_path, clock, users=(ANN,), survey_delay_seconds=600) as h:
        survey_message = await h.survey_for(ANN)
        await h.app.worker.drain()
        assert survey_message.text
        assert [m.chat_id for m in h.fake.sent] == [ANN]
        assert (await _survey(h, outcome["survey_id"])).status == "sent"
    # A third start sends nothing again.
    async with running_bot(tmp_path, clock, users=(ANN,), survey_delay_seconds=600) as h:
        await h.app.maintenance()
        await h.app.worker.run_once()
        assert h.fake.sent == []


async def test_overdue_beyond_visit_max_age_is_skipped_after_downtime(tmp_path: Path) -> None:
    clock = FakeClock()
    async with running_bot(tmp_path, clock, survey_delay_seconds=600) as h:
        await h.start_customer(ANN)
        outcome = await h.post_visit(ANN, "pos-late")
    clock.advance(timedelta(hours=3))
    async with running_bot(tmp_path, clock, users=(ANN,), survey_delay_seconds=600) as h:
        await h.app.worker.run_once()
        await h.app.worker.drain()
        survey = await _survey(h, outcome["survey_id"])
        assert (survey.status, survey.closed_reason) == ("skipped", "too_old")
        assert h.fake.sent == []
        assert (await _outbox_statuses(h)) == {"expired": 1}


async def test_blocked_customer_is_marked_unreachable_and_never_retried(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        await h.start_customer(ANN)
        h.fake.block(ANN)
        outcome = await h.post_visit(ANN, "pos-b")
        await h.fake.wait_for_call("sendMessage", lambda r: r.error_code == 403)
        await h.app.worker.drain()
        survey = await _survey(h, outcome["survey_id"])
        assert survey.status == "failed" and "blocked" in (survey.closed_reason or "")
        async with h.app.db.read() as conn:
            row = await conn.fetch_one("SELECT unreachable FROM customers WHERE telegram_id=501")
        assert row is not None and row["unreachable"] == 1
        h.clock.advance(timedelta(days=40))
        assert (await h.post_visit(ANN, "pos-b2"))["reason"] == "unreachable"
        sends = [r for r in h.fake.calls("sendMessage") if r.chat_id == ANN]
        assert len([r for r in sends if r.error_code == 403]) == 1


async def test_server_errors_retry_with_backoff_then_succeed(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        await h.start_customer(ANN)
        h.fake.fail_next(
            "sendMessage", error_code=502, description="Bad Gateway", chat_id=ANN, times=2
        )
        outcome = await h.post_visit(ANN, "pos-5xx")
        await h.fake.wait_for_call("sendMessage", lambda r: r.error_code == 502)
        await h.app.worker.drain()
        async with h.app.db.read() as conn:
            row = await outbox.by_dedupe_key(conn, f"survey:{outcome['survey_id']}")
        assert (
            row is not None and row.status == "pending" and "Bad Gateway" in (row.last_error or "")
        )
        # The retry waits (backoff) on the injected clock, not on real time.
        h.clock.advance(timedelta(minutes=5))
        h.app.worker.kick()
        for _ in range(100):
            if len([r for r in h.fake.calls("sendMessage") if r.error_code == 502]) == 2:
                break
            await asyncio.sleep(0.02)
        await h.app.worker.drain()
        h.clock.advance(timedelta(minutes=5))
        h.app.worker.kick()
        await h.survey_for(ANN)
        async with h.app.db.read() as conn:
            row = await outbox.by_dedupe_key(conn, f"survey:{outcome['survey_id']}")
        assert row is not None and (row.status, row.attempts) == ("sent", 3)


async def test_retry_after_waits_and_resends(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        await h.start_customer(ANN)
        h.fake.fail_next(
            "sendMessage",
            error_code=429,
            description="Too Many Requests: retry after 1",
            retry_after=1,
            chat_id=ANN,
        )
        outcome = await h.post_visit(ANN, "pos-429")
        await h.fake.wait_for_call("sendMessage", lambda r: r.error_code == 429)
        await h.app.worker.drain()
        h.clock.advance(timedelta(seconds=2))
        h.app.worker.kick()
        await h.survey_for(ANN)
        assert (await _survey(h, outcome["survey_id"])).status == "sent"


async def test_reminder_once_then_expiry_removes_the_keyboard(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        await h.start_customer(ANN)
        outcome = await h.post_visit(ANN, "pos-rem", location="Main St")
        message = await h.survey_for(ANN)
        h.clock.advance(timedelta(hours=2, seconds=1))
        await h.app.maintenance()
        reminder = await h.fake.wait_for_message(ANN, text_contains="gentle reminder")
        assert reminder.reply_to_message_id == message.message_id
        h.clock.advance(timedelta(hours=1))
        await h.app.maintenance()
        h.clock.advance(timedelta(hours=22))
        await h.app.maintenance()
        await h.fake.wait_for(lambda m: m.message_id == message.message_id and not m.buttons)
        reminders = [m for m in h.fake.messages_to(ANN) if "gentle reminder" in m.text]
        assert len(reminders) == 1
        assert (await _survey(h, outcome["survey_id"])).status == "expired"
        # A press on the expired survey is refused and stores nothing.
        await h.fake.press(ANN, message.message_id, "sv1:1:n:5", check_button=False)
        await h.fake.wait_for_call(
            "answerCallbackQuery",
            lambda r: r.params.get("text") == "This survey is closed. Thank you!",
        )
        assert (await _survey(h, outcome["survey_id"])).nps is None


async def test_abandoned_survey_keeps_its_nps(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        await h.start_customer(ANN)
        outcome = await h.post_visit(ANN, "pos-ab")
        message = await h.survey_for(ANN)
        await h.press(ANN, message, "8")
        await h.fake.wait_for(lambda m: m.message_id == message.message_id and m.edits == 1)
        h.clock.advance(timedelta(hours=25))
        await h.app.maintenance()
        survey = await _survey(h, outcome["survey_id"])
        assert (survey.status, survey.nps, survey.ces) == ("expired", 8, None)


async def test_stop_opts_out_and_start_opts_back_in(tmp_path: Path) -> None:
    async with running_bot(tmp_path, survey_delay_seconds=600) as h:
        await h.start_customer(ANN)
        outcome = await h.post_visit(ANN, "pos-s1")
        await h.fake.send_text(ANN, "/stop")
        await h.fake.wait_for_message(ANN, text_contains="will not send you surveys")
        assert (await _survey(h, outcome["survey_id"])).status == "skipped"
        h.clock.advance(timedelta(days=40))
        assert (await h.post_visit(ANN, "pos-s2"))["reason"] == "opted_out"
        await h.fake.send_text(ANN, "/start")
        await h.fake.wait_for_message(ANN, text_contains="Welcome back")
        h.clock.advance(timedelta(days=40))
        assert (await h.post_visit(ANN, "pos-s3"))["status"] == "scheduled"
        assert not [m for m in h.fake.messages_to(ANN) if len(m.callback_data) == 11]


async def _wait_briefly_for_no_survey(h: BotHarness) -> None:
    await h.app.worker.run_once()
    await h.app.worker.drain()
    assert [m for m in h.fake.messages_to(ANN) if len(m.callback_data) == 11] == []


async def test_quiet_hours_hold_a_late_visit_until_morning_in_the_visits_offset(
    tmp_path: Path,
) -> None:
    """23:00 at the till (+03:00) is quiet there although the business zone (UTC) says
    20:00: the survey waits until 09:00 +03:00 and goes out then."""
    clock = FakeClock(datetime(2026, 11, 23, 20, 0, tzinfo=UTC))
    async with running_bot(
        tmp_path,
        clock,
        quiet_hours="22:00-09:00",
        timezone="UTC",
        visit_max_age=timedelta(hours=12),
    ) as h:
        await h.start_customer(ANN)
        outcome = await h.post_visit(ANN, "pos-q1", visited_at="2026-11-23T23:00:00+03:00")
        assert outcome["status"] == "scheduled"
        assert outcome["due_at"] == "2026-11-24T06:00:00+00:00"
        await _wait_briefly_for_no_survey(h)
        clock.set(datetime(2026, 11, 24, 5, 59, tzinfo=UTC))  # 08:59 at the till
        await h.app.maintenance()
        await _wait_briefly_for_no_survey(h)
        clock.set(datetime(2026, 11, 24, 6, 0, tzinfo=UTC))
        h.app.worker.kick()
        await h.survey_for(ANN)
        survey = await _survey(h, outcome["survey_id"])
        assert (survey.status, survey.sent_at) == ("sent", to_ms(clock.now()))


async def test_quiet_hours_skip_a_visit_that_would_be_stale_by_morning(tmp_path: Path) -> None:
    clock = FakeClock(datetime(2026, 11, 23, 20, 0, tzinfo=UTC))
    async with running_bot(
        tmp_path, clock, quiet_hours="22:00-09:00", timezone="UTC", quiet_hours_max_hold="8h"
    ) as h:
        await h.start_customer(ANN)
        # QUIET_HOURS_MAX_HOLD is 8 hours: by 09:00 the 23:00 visit is 10 hours old.
        outcome = await h.post_visit(ANN, "pos-q2", visited_at="2026-11-23T23:00:00+03:00")
        assert (outcome["status"], outcome["reason"]) == ("skipped", "quiet_hours")
        clock.set(datetime(2026, 11, 24, 6, 0, tzinfo=UTC))
        await h.app.maintenance()
        await _wait_briefly_for_no_survey(h)
        async with h.app.db.read() as conn:
            funnel = await conn.fetch_all("SELECT event, count FROM funnel_daily ORDER BY event")
            queued = await outbox.count_by_status(conn)
        assert {row["event"]: row["count"] for row in funnel} == {
            "reported": 1,
            "skipped:quiet_hours": 1,
        }
        assert queued == {}


async def test_an_evening_visit_is_asked_next_morning_about_yesterday(tmp_path: Path) -> None:
    """21:57 in Kyiv, quiet from 22:00, the survey 5 minutes after the visit: with the
    default 14-hour hold it goes at 09:00 Kyiv time the next morning and names the day;
    the location's zone is the customer's clock (the till sent no offset)."""
    clock = FakeClock(datetime(2026, 11, 23, 19, 57, tzinfo=UTC))  # 21:57 in Kyiv
    async with running_bot(
        tmp_path, clock, quiet_hours="22:00-09:00", timezone="UTC", survey_delay_seconds=300
    ) as h:
        status, _ = await h.call(
            "PUT", "/api/v1/locations/kyiv", {"name": "Kyiv", "time_zone": "Europe/Kyiv"}
        )
        assert status == 201
        await h.start_customer(ANN)
        outcome = await h.post_visit(ANN, "pos-evening", location="kyiv")
        assert outcome["status"] == "scheduled"
        assert outcome["due_at"] == "2026-11-24T07:00:00+00:00"  # 09:00 in Kyiv
        await _wait_briefly_for_no_survey(h)
        clock.set(datetime(2026, 11, 24, 7, 0, tzinfo=UTC))
        await h.app.maintenance()
        h.app.worker.kick()
        survey = await h.survey_for(ANN)
        assert "Thank you for visiting Kyiv yesterday! How was it?" in survey.text
        async with h.app.db.read() as conn:
            row = await conn.fetch_one("SELECT day FROM visits")
        assert row is not None and row["day"] == "2026-11-23"  # Kyiv's day, not UTC's


async def test_quiet_hours_follow_the_business_zone_without_an_offset_and_the_offset_wins(
    tmp_path: Path,
) -> None:
    """20:30 UTC is 23:30 in Moscow (TIMEZONE): a visit reported without its time waits
    for 09:00 Moscow; one whose till says 20:30+00:00 is not quiet and goes at once."""
    clock = FakeClock(datetime(2026, 11, 23, 20, 30, tzinfo=UTC))
    async with running_bot(
        tmp_path,
        clock,
        quiet_hours="22:00-09:00",
        timezone="Europe/Moscow",
        visit_max_age=timedelta(hours=12),
        survey_cooldown_days=0,
    ) as h:
        await h.start_customer(ANN)
        waiting = await h.post_visit(ANN, "pos-q3")
        assert waiting["due_at"] == "2026-11-24T06:00:00+00:00"
        at_once = await h.post_visit(ANN, "pos-q4", visited_at="2026-11-23T20:30:00+00:00")
        assert at_once["due_at"] == "2026-11-23T20:30:00+00:00"
        await h.survey_for(ANN)
        assert (await _survey(h, at_once["survey_id"])).status == "sent"
        assert (await _survey(h, waiting["survey_id"])).status == "scheduled"
