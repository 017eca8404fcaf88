"""Admin tools end to end through the fake Bot API: anniversaries (manual and
automatic, never twice), /broadcast_test, /qr, /customer, /forget, and silence
towards everyone who is not an admin."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.admin.keyboards import ForgetAction, ForgetCallback, SurveyPreviewCallback
from bot.anniversaries.keyboards import AnnivAction, AnnivCallback
from bot.cli import build_parser
from bot.cli.anniversaries import anniversaries_cli
from bot.core.clock import FakeClock
from bot.locations.qr import qr_key, qr_payload
from storage import anniversaries as store
from tests.support.admin import add_customer, admin_says, thank_yous
from tests.support.harness import BotHarness, running_bot
from tests.support.settings import ADMIN_ID

ANN = 501
BORIS = 502
CARL = 503
DORA = 504
STRANGER = 777
SECOND_ADMIN = 901
TODAY = "2026-11-23"  # FakeClock's default day (TIMEZONE=UTC)


async def add_four(h: BotHarness) -> None:
    await add_customer(h, ANN, "Ann", "en", "2025-11-23")
    await add_customer(h, BORIS, "Борис", "ru", "2021-11-23")
    await add_customer(h, CARL, "Carl", "en", "2020-11-23", opted_out=1)
    await add_customer(h, DORA, "Dora", "en", "2019-11-23", unreachable=1)


async def test_plan_preview_then_send_with_progress_and_summary(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        await add_four(h)
        h.fake.user(ADMIN_ID, "Admin")
        plan = await admin_says(h, "/anniversaries")
        assert f"Anniversaries on {TODAY}: 2 customers" in plan.text
        assert "1 year: 1 customer" in plan.text and "5 years: 1 customer" in plan.text
        assert "opted out 1, unreachable 1" in plan.text
        assert "Ann, thank you for being with us for 1 year!" in plan.text
        assert "5 лет" in plan.text and "Борис" in plan.text
        assert [b["text"] for b in plan.buttons] == ["✅ Send (2)", "✖️ Cancel"]

        await h.press(ADMIN_ID, plan, "✅ Send (2)")
        summary = await h.fake.wait_for(
            lambda m: m.message_id == plan.message_id and "are done" in m.text
        )
        assert "Sent: 2. Failed: 0." in summary.text
        assert any("left" in old for old in summary.history)
        assert summary.buttons == []
        assert len(thank_yous(h, ANN)) == 1 and len(thank_yous(h, BORIS)) == 1
        assert "5 лет" in thank_yous(h, BORIS)[0].text
        assert thank_yous(h, CARL) == [] and thank_yous(h, DORA) == []


async def test_a_date_argument_and_cancel(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        await add_customer(h, ANN, "Ann", "en", "2024-12-01")
        h.fake.user(ADMIN_ID, "Admin")
        assert "No anniversaries on 2026-11-23" in (await admin_says(h, "/anniversaries")).text
        bad = await admin_says(h, "/anniversaries 1st of May")
        assert "YYYY-MM-DD" in bad.text
        plan = await admin_says(h, "/anniversaries 2026-12-01")
        assert "2 years: 1 customer" in plan.text
        await h.press(ADMIN_ID, plan, "✖️ Cancel")
        await h.fake.wait_for(lambda m: m.message_id == plan.message_id and "Cancelled" in m.text)
        await asyncio.sleep(0.2)
        assert thank_yous(h, ANN) == []


async def test_send_pressed_twice_and_by_two_admins_thanks_nobody_twice(tmp_path: Path) -> None:
    async with running_bot(tmp_path, admin_ids=(ADMIN_ID, SECOND_ADMIN)) as h:
        await add_four(h)
        h.fake.user(ADMIN_ID, "Admin")
        h.fake.user(SECOND_ADMIN, "Other admin")
        first = await admin_says(h, "/anniversaries")
        second = await admin_says(h, "/anniversaries", SECOND_ADMIN)
        data = first.button("Send")["callback_data"]
        await h.fake.press(ADMIN_ID, first.message_id, data)
        await h.fake.press(ADMIN_ID, first.message_id, data, check_button=False)
        await h.fake.press(SECOND_ADMIN, second.message_id, second.button("Send")["callback_data"])
        await h.fake.wait_for(lambda m: m.message_id == first.message_id and "done" in m.text)
        await asyncio.sleep(0.3)
        await h.app.worker.drain()
        assert len(thank_yous(h, ANN)) == 1 and len(thank_yous(h, BORIS)) == 1
        async with h.app.db.read() as conn:
            rows = await conn.fetch_all("SELECT status FROM anniversary_sends")
        assert sorted(r["status"] for r in rows) == ["sent", "sent"]
        again = await admin_says(h, "/anniversaries")
        assert "already been thanked (2)" in again.text and again.buttons == []


async def test_automatic_send_once_a_day_with_a_summary_to_admins(tmp_path: Path) -> None:
    clock = FakeClock(datetime(2026, 11, 23, 7, 0, tzinfo=UTC))
    async with running_bot(
        tmp_path, clock, anniversary_auto_send_at="11:00", timezone="Europe/Moscow"
    ) as h:
        await add_four(h)
        await h.app.maintenance()  # 10:00 in Moscow: too early
        await asyncio.sleep(0.2)
        assert thank_yous(h, ANN) == []
        h.fake.user(ADMIN_ID, "Admin")
        clock.advance(timedelta(hours=1, minutes=1))
        await h.app.maintenance()
        summary = await h.fake.wait_for_message(ADMIN_ID, text_contains="are done")
        assert "Automatic anniversary send (11:00)" in summary.text
        assert "Sent: 2." in summary.text
        clock.advance(timedelta(hours=3))
        await h.app.maintenance()
        await asyncio.sleep(0.2)
        await h.app.worker.drain()
        assert len(thank_yous(h, ANN)) == 1 and len(thank_yous(h, BORIS)) == 1
        assert len([m for m in h.fake.messages_to(ADMIN_ID) if "are done" in m.text]) == 1
        async with h.app.db.read() as conn:
            runs = await store.runs_on(conn, clock.now().date(), store.AUTO)
        assert [run.status for run in runs] == ["done"]


async def test_qr_is_a_png_with_the_locations_signed_deep_link(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        h.fake.user(ADMIN_ID, "Admin")
        unknown = await admin_says(h, "/qr main-street")
        assert "not in the catalogue" in unknown.text
        await h.call("PUT", "/api/v1/locations/main-street", {"name": "Main Street"})
        photo = await admin_says(h, "/qr main-street")
        assert photo.media == "photo" and photo.photo is not None
        assert photo.photo.startswith(b"\x89PNG\r\n\x1a\n")
        location = await h.app.locations.get("main-street")
        assert location is not None
        key = qr_key(h.settings.bot_token.get_secret_value())
        link = f"https://t.me/{h.fake.bot_username}?start={qr_payload(key, location.id)}"
        assert link in (photo.caption or "") and "Main Street" in (photo.caption or "")
        usage = await admin_says(h, "/qr")
        assert "Usage: /qr" in usage.text


async def test_broadcast_test_shows_the_survey_and_records_nothing(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        h.fake.user(ADMIN_ID, "Admin")
        since = len(h.fake.sent)
        await h.fake.send_text(ADMIN_ID, "/broadcast_test")
        survey = await h.fake.wait_for(
            lambda m: m.chat_id == ADMIN_ID and len(m.callback_data) == 11, since=since
        )
        assert "How likely" in survey.text or "likely" in survey.text.lower()
        await h.press(ADMIN_ID, survey, "3")
        answer = await h.fake.wait_for_call("answerCallbackQuery")
        assert answer.params.get("text") == "test"
        async with h.app.db.read() as conn:
            row = await conn.fetch_one("SELECT COUNT(*) AS n FROM surveys")
            rollups = await conn.fetch_one("SELECT COUNT(*) AS n FROM daily_rollups")
        assert row is not None and row["n"] == 0
        assert rollups is not None and rollups["n"] == 0


async def answered_survey(h: BotHarness) -> None:
    await h.post_visit(ANN, "pos-1", location="Main St")
    message = await h.survey_for(ANN)
    await h.press(ANN, message, "9")
    ces = await h.fake.wait_for(
        lambda m: m.message_id == message.message_id and len(m.callback_data) == 7
    )
    await h.press(ANN, ces, "6")
    await h.fake.wait_for(lambda m: m.message_id == message.message_id and len(m.buttons) == 1)


async def snapshot(h: BotHarness) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    async with h.app.db.read() as conn:
        rollups = await conn.fetch_all("SELECT * FROM daily_rollups ORDER BY 1")
        customer = await conn.fetch_one("SELECT * FROM customers WHERE id = 1")
    return rollups, customer


async def test_customer_card_and_forget_keep_reports(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        await add_customer(h, ANN, "Ann", "en", "2024-03-01")
        await answered_survey(h)
        h.fake.user(ADMIN_ID, "Admin")
        card = await admin_says(h, f"/customer {ANN}")
        assert "Customer #1" in card.text and "Name: Ann" in card.text
        assert "Visits: 1" in card.text and "NPS 9, CES 6" in card.text
        assert "not-found" not in card.text
        nobody = await admin_says(h, "/customer +1 555 000 0000")
        assert "No customer matches" in nobody.text
        before, customer = await snapshot(h)
        assert customer is not None and customer["name"] == "Ann"

        confirm = await admin_says(h, f"/forget tg:{ANN}")
        assert "Erase the personal data of customer #1" in confirm.text
        await h.press(ADMIN_ID, confirm, "🗑 Yes, erase")
        await h.fake.wait_for(
            lambda m: m.message_id == confirm.message_id and "is erased" in m.text
        )
        after, customer = await snapshot(h)
        assert customer is not None
        assert (customer["name"], customer["telegram_id"]) == (None, None)
        assert after == before and after != []
        again = await admin_says(h, "/customer #1")
        assert "personal data erased" in again.text and again.buttons == []


async def test_customers_can_forget_themselves(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        await add_customer(h, ANN, "Ann", "en", "2024-03-01")
        confirm = await admin_says(h, "/forget", ANN)
        assert "Erase everything we know about you" in confirm.text
        await h.press(ANN, confirm, "🗑 Yes, erase")
        await h.fake.wait_for(
            lambda m: m.message_id == confirm.message_id and "is erased" in m.text
        )
        _, customer = await snapshot(h)
        assert customer is not None and customer["telegram_id"] is None
        nothing = await admin_says(h, "/forget", ANN)
        assert "We keep no personal data" in nothing.text


async def test_an_admins_bare_forget_explains_both_uses(tmp_path: Path) -> None:
    """An admin's /forget without an argument is a usage hint, not an offer to erase the
    admin; `/forget me` is how an admin who is also a customer erases their own data."""
    async with running_bot(tmp_path) as h:
        await add_customer(h, ANN, "Ann", "en", "2024-03-01")
        await h.start_customer(ADMIN_ID, "Admin")
        usage = await admin_says(h, "/forget")
        assert "/forget phone, Telegram id" in usage.text
        assert "your own data as a customer: /forget me" in usage.text
        assert usage.buttons == []
        help_text = await admin_says(h, "/admin")
        assert "/forget me" in help_text.text
        confirm = await admin_says(h, "/forget Me")
        assert "Erase everything we know about you" in confirm.text
        await h.press(ADMIN_ID, confirm, "🗑 Yes, erase")
        await h.fake.wait_for(
            lambda m: m.message_id == confirm.message_id and "is erased" in m.text
        )
        async with h.app.db.read() as conn:
            rows = await conn.fetch_all("SELECT name, forgotten_at FROM customers ORDER BY id")
        assert [(r["name"], r["forgotten_at"] is not None) for r in rows] == [
            ("Ann", False),
            (None, True),
        ]


async def test_every_admin_command_and_button_is_silent_for_others(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        await add_four(h)
        await h.start_customer(STRANGER, "Eve")
        own = await admin_says(h, "/forget", STRANGER)  # a message of her own to press on
        since = len(h.fake.sent)
        calls = len(h.fake.calls("answerCallbackQuery"))
        for command in (
            "/anniversaries",
            f"/anniversaries {TODAY}",
            "/broadcast_test",
            "/qr main-street",
            f"/customer {ANN}",
            f"/forget {ANN}",
            "/admin",
        ):
            await h.fake.send_text(STRANGER, command)
        forged = [
            AnnivCallback(action=AnnivAction.SEND, day=TODAY.replace("-", "")),
            AnnivCallback(action=AnnivAction.CANCEL, day=TODAY.replace("-", "")),
            ForgetCallback(action=ForgetAction.ASK, customer_id=1),
            ForgetCallback(action=ForgetAction.CONFIRM, customer_id=1),
            SurveyPreviewCallback(value=5),
        ]
        for data in forged:
            await h.fake.press(STRANGER, own.message_id, data.pack(), check_button=False)
        # Her own /forget (with or without an argument) is the customer's command: it
        # asks her to confirm. The last one marks the end of the updates sent above.
        await h.fake.send_text(STRANGER, "/forget")
        await h.fake.wait_for(
            lambda m: (
                m.chat_id == STRANGER
                and len([x for x in h.fake.sent[since:] if x.chat_id == STRANGER]) >= 2
            ),
            since=since,
        )
        while h.fake.pending_updates:  # noqa: ASYNC110 - polling the fake is the point
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        await h.app.worker.drain()
        replies = [m for m in h.fake.sent[since:] if m.chat_id == STRANGER]
        assert [m.text for m in replies] == [own.text, own.text]
        assert len(h.fake.calls("answerCallbackQuery")) == calls
        assert thank_yous(h, ANN) == [] and thank_yous(h, BORIS) == []
        _, customer = await snapshot(h)
        assert customer is not None and customer["name"] == "Ann"


async def test_cli_dry_run_then_send_through_the_running_bot(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        await add_four(h)
        h.fake.user(ADMIN_ID, "Admin")
        day = h.clock.now().date()
        preview = await anniversaries_cli(h.settings, day, send=False, clock=h.clock)
        assert "2 customers" in preview and "Ann, thank you" in preview
        await asyncio.sleep(0.2)
        assert thank_yous(h, ANN) == []
        assert "queued: 2" in await anniversaries_cli(h.settings, day, send=True, clock=h.clock)
        assert "Nothing to send" in await anniversaries_cli(
            h.settings, day, send=True, clock=h.clock
        )
        summary = await h.fake.wait_for_message(ADMIN_ID, text_contains="are done")
        assert "Sent: 2." in summary.text
        assert len(thank_yous(h, ANN)) == 1 and len(thank_yous(h, BORIS)) == 1


def test_cli_parses_the_anniversaries_command() -> None:
    args = build_parser().parse_args(["anniversaries", "--date", "2026-12-01", "--dry-run"])
    assert (args.date.isoformat(), args.dry_run, args.send) == ("2026-12-01", True, False)


async def test_a_blocked_customer_counts_as_failed_and_becomes_unreachable(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path) as h:
        await add_four(h)
        h.fake.user(ADMIN_ID, "Admin")
        plan = await admin_says(h, "/anniversaries")
        h.fake.block(BORIS)
        await h.press(ADMIN_ID, plan, "✅ Send (2)")
        summary = await h.fake.wait_for(
            lambda m: m.message_id == plan.message_id and "are done" in m.text
        )
        assert "Sent: 1. Failed: 1." in summary.text
        async with h.app.db.read() as conn:
            row = await conn.fetch_one(
                "SELECT unreachable FROM customers WHERE telegram_id = :id", {"id": BORIS}
            )
        assert row is not None and row["unreachable"] == 1


async def test_queued_while_the_bot_was_down_goes_out_once_after_a_restart(
    tmp_path: Path,
) -> None:
    clock = FakeClock()
    async with running_bot(tmp_path, clock) as h:
        await add_four(h)
        settings = h.settings
    assert "queued: 2" in await anniversaries_cli(
        settings, clock.now().date(), send=True, clock=clock
    )
    users = (ANN, BORIS, ADMIN_ID)
    async with running_bot(tmp_path, clock, users=users) as h:
        summary = await h.fake.wait_for_message(ADMIN_ID, text_contains="are done")
        assert "Sent: 2." in summary.text
        assert len(thank_yous(h, ANN)) == 1 and len(thank_yous(h, BORIS)) == 1
    async with running_bot(tmp_path, clock, users=users) as h:
        await h.app.maintenance()
        await asyncio.sleep(0.3)
        await h.app.worker.drain()
        assert h.fake.sent == []
