"""Alert bursts into the managers' group: the first alerts go out as cards, the ones
that would wait for the group's 20-per-minute limit are folded into one message that
lists them in order, each still actionable; nothing is dropped."""

from __future__ import annotations

import asyncio
import html
import re
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.cases.keyboards import fold_keyboard
from bot.cases.service import FoldEntry
from bot.cases.texts import format_fold
from bot.core.clock import to_ms
from bot.i18n import Texts, load_translator
from bot.outbox.limiter import RateLimiter
from storage import alert_folds, customers
from storage.customers import TelegramProfile
from tests.support.fake_telegram import SentMessage
from tests.support.harness import BotHarness, running_bot
from tests.support.settings import MANAGER_CHAT_ID

ALICE, BOB = 701, 702
FIRST_GUEST = 20_001
GROUP_LIMIT = 20
FINAL = {"sent", "failed", "expired"}
ALERT_KINDS = ("alert", "alert_edit", "case_card", "alert_fold", "alert_fold_edit")


def _follow_the_fake_clock(h: BotHarness) -> None:
    """The group's minute is counted on the test's clock (plus real time, so that the
    global pacing still moves), so a test can let a minute pass without waiting it."""
    started = time.monotonic()

    def monotonic() -> float:
        return h.clock.now().timestamp() + (time.monotonic() - started)

    limiter = RateLimiter(h.settings.send_rate_per_second, monotonic=monotonic)
    h.app.worker.limiter = limiter
    h.app.services.replies.limiter = limiter
    h.app.limiter = limiter


def _managers(h: BotHarness) -> None:
    for uid, name in ((ALICE, "Alice"), (BOB, "Bob")):
        h.fake.user(uid, name)
        h.fake.add_member(MANAGER_CHAT_ID, uid)


async def _surveys(h: BotHarness, guests: range) -> dict[int, SentMessage]:
    """Each guest has started the bot (a customer row, as /start leaves it) and visits."""
    now = to_ms(h.clock.now())
    async with h.app.db.transaction() as conn:
        for uid in guests:
            name = f"Guest{uid - FIRST_GUEST + 1}"
            h.fake.user(uid, name, "en")
            await customers.upsert_telegram(conn, TelegramProfile(uid, name, None, "en"), now)
    for uid in guests:
        await h.post_visit(uid, f"visit-{uid}", location="Main St", staff="Olga")
    return {uid: await h.survey_for(uid) for uid in guests}


async def _answer_nps(h: BotHarness, uid: int, survey: SentMessage, score: str) -> None:
    """Press a score and wait until the bot has handled it (the CES question shows)."""
    await h.press(uid, survey, score)
    await h.fake.wait_for(
        lambda m: (
            m.chat_id == uid and m.message_id == survey.message_id and len(m.callback_data) == 7
        )
    )


async def _press(h: BotHarness, user_id: int, message: SentMessage, label: str) -> str:
    button = message.button(label)
    update = await h.fake.press(
        user_id, message.message_id, button["callback_data"], chat_id=message.chat_id
    )
    query_id = update["callback_query"]["id"]
    answer = await h.fake.wait_for_call(
        "answerCallbackQuery", lambda r: str(r.params.get("callback_query_id")) == query_id
    )
    return str(answer.params.get("text") or "")


async def _rows(h: BotHarness, sql: str, **params: Any) -> list[dict[str, Any]]:
    async with h.app.db.read() as conn:
        return await conn.fetch_all(sql, params)


async def _settled(h: BotHarness) -> None:
    """Wait until every alert row has been sent, held, or pushed back to a later time
    by the group limit: nothing is queued for now or on its way."""
    for _ in range(250):
        await h.app.worker.drain()
        busy = await _rows(
            h,
            "SELECT id FROM outbox WHERE kind IN ('alert', 'alert_fold', 'alert_fold_edit')"
            " AND status NOT IN ('sent', 'failed', 'expired', 'held')"
            " AND NOT (status = 'pending' AND due_at > :now)",
            now=to_ms(h.clock.now()),
        )
        if not busy:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("alert rows still queued or in flight")


def _cases_in(message: SentMessage) -> list[int]:
    """The case numbers a message shows: a card's "Case #N", a fold's "#N · " lines."""
    card = re.findall(r"Case #(\d+)", message.text)
    if card:
        return [int(n) for n in card]
    return [int(n) for n in re.findall(r"^#(\d+) · ", message.text, flags=re.MULTILINE)]


def _fold_line(message: SentMessage, case_id: int) -> str:
    return next(line for line in message.text.splitlines() if line.startswith(f"#{case_id} · "))


async def test_a_burst_of_40_goes_out_as_20_cards_and_one_fold(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        _follow_the_fake_clock(h)
        _managers(h)
        guests = range(FIRST_GUEST, FIRST_GUEST + 41)
        surveys = await _surveys(h, guests)

        # 40 detractors within the same minute, each answer handled before the next.
        for uid in guests[:40]:
            await _answer_nps(h, uid, surveys[uid], "3")
            await _settled(h)

        # The group's minute is used up by the first 20 cards (and nothing more was
        # sent into it); the rest are held.
        chat = h.fake.messages_to(MANAGER_CHAT_ID)
        assert [_cases_in(m) for m in chat] == [[n] for n in range(1, 21)]
        assert all(m.button("Take") for m in chat)
        held = await _rows(h, "SELECT id FROM outbox WHERE kind = 'alert' AND status = 'held'")
        assert len(held) == 20

        # A minute later the held alerts go out as one message, in order.
        h.clock.advance(timedelta(seconds=61))
        h.app.worker.kick()
        fold = await h.fake.wait_for(
            lambda m: m.chat_id == MANAGER_CHAT_ID and "folded" in m.text, timeout=10
        )
        await _settled(h)
        assert _cases_in(fold) == list(range(21, 41))
        assert "20 more unhappy customers" in fold.text
        assert "Guest25" in _fold_line(fold, 25) and "NPS 3" in _fold_line(fold, 25)
        assert [b["text"] for b in fold.buttons] == [f"🙋 #{n}" for n in range(21, 41)]

        # Every case is in exactly one message; nothing was dropped or sent twice.
        chat = h.fake.messages_to(MANAGER_CHAT_ID)
        shown = [n for m in chat for n in _cases_in(m)]
        assert shown == list(range(1, 41))
        alerts = await _rows(
            h, "SELECT status, message_id, last_error FROM outbox WHERE kind = 'alert' ORDER BY id"
        )
        assert [a["status"] for a in alerts] == ["sent"] * 40
        folded = alerts[20:]
        assert {a["message_id"] for a in folded} == {fold.message_id}
        assert {a["last_error"] for a in folded} == {f"folded into message {fold.message_id}"}

        # Take from the fold works as on a card; the fold shows who took which.
        assert await _press(h, ALICE, fold, "🙋 #25") == "The case is yours."
        fold = await h.fake.wait_for(
            lambda m: m.message_id == fold.message_id and "Alice" in m.text, timeout=10
        )
        assert "👤 Alice" in _fold_line(fold, 25) and "🆕" in _fold_line(fold, 26)
        labels = [b["text"] for b in fold.buttons]
        assert "📋 #25" in labels and "🙋 #25" not in labels
        async with h.app.db.read() as conn:
            case = await h.app.cases.get(25, conn=conn)
        assert case is not None and (case.status, case.owner_id) == ("taken", ALICE)
        assert case.alert_message_id == fold.message_id

        # A second manager pressing a stale Take #25 is refused with the owner's name.
        update = await h.fake.press(
            BOB,
            fold.message_id,
            fold.button("📋 #25")["callback_data"].replace(":o", ":t"),
            chat_id=MANAGER_CHAT_ID,
            check_button=False,
        )
        answer = await h.fake.wait_for_call(
            "answerCallbackQuery",
            lambda r: str(r.params.get("callback_query_id")) == update["callback_query"]["id"],
        )
        assert "Alice has already taken" in str(answer.params.get("text"))

        # 📋 opens the case's own card with every button a single alert has.
        since = len(h.fake.sent)
        await _press(h, ALICE, fold, "📋 #25")
        card = await h.fake.wait_for_message(
            MANAGER_CHAT_ID, text_contains="Case #25", since=since
        )
        assert any("Write" in b["text"] for b in card.buttons)
        assert any("Resolve" in b["text"] for b in card.buttons)

        # A later answer of a folded customer edits the fold, not a card that never was.
        guest30 = guests[29]
        await h.press(guest30, h.fake.message(guest30, surveys[guest30].message_id), "2")
        await h.fake.wait_for(lambda m: m.chat_id == guest30 and "went wrong" in m.text)
        await h.fake.send_text(guest30, "Cold soup")
        fold = await h.fake.wait_for(
            lambda m: m.message_id == fold.message_id and "Cold soup" in m.text, timeout=10
        )
        assert "“Cold soup”" in _fold_line(fold, 30)

        # The customer's reply to the manager lands in the thread as a reply to the fold.
        await h.fake.send_text(guest30, "Please call me")
        thread = await h.fake.wait_for_message(MANAGER_CHAT_ID, text_contains="Please call me")
        assert thread.reply_to_message_id == fold.message_id and "#30" in thread.text

        # After a quiet spell, a single detractor gets a normal card again.
        h.clock.advance(timedelta(minutes=5))
        last = guests[40]
        await _answer_nps(h, last, surveys[last], "2")
        single = await h.fake.wait_for_message(MANAGER_CHAT_ID, text_contains="Guest41")
        assert single.button("Take") and single.button("Close")

        await _settled(h)
        rows = await _rows(
            h,
            "SELECT kind, status, last_error FROM outbox"
            " WHERE kind IN ('alert', 'alert_edit', 'case_card', 'alert_fold', 'alert_fold_edit')",
        )
        assert {r["status"] for r in rows} <= FINAL, rows
        assert all(r["last_error"] for r in rows if r["status"] != "sent")


def _entry(case_id: int, **fields: Any) -> FoldEntry:
    values: dict[str, Any] = {
        "position": case_id,
        "case_id": case_id,
        "status": "new",
        "owner_name": None,
        "nps": 2,
        "ces": None,
        "reason": "The queue was long",
        "location": "Main St",
        "staff": "Olga",
        "customer_name": "Ann",
    }
    values.update(fields)
    return FoldEntry(**values)


def test_a_full_fold_fits_one_telegram_message_in_every_language() -> None:
    translator = load_translator()
    huge = "&<ы>" * 400
    entries = [
        _entry(
            100_000 + n,
            reason=huge,
            location=huge,
            staff=huge,
            customer_name=huge,
            status="taken",
            owner_name=huge,
        )
        for n in range(40)
    ]
    for language in ("en", "ru", "uk"):
        text = format_fold(translator, language, entries, escape=html.escape)
        assert len(text) <= 4096
        assert all(f"#{100_000 + n} · " in text for n in range(40))


def test_a_short_fold_shows_reasons_owners_and_a_button_per_open_case() -> None:
    translator = load_translator()
    entries = [
        _entry(7),
        _entry(12_345, status="taken", owner_name="Alice", nps=None, ces=2),
        _entry(12_346, status="closed", owner_name="Bob"),
    ]
    text = format_fold(translator, "en", entries)
    lines = text.splitlines()
    assert lines[0].startswith("🚨 3 more unhappy customers")
    assert "#7 · NPS 2 · Main St / Olga · Ann · “The queue was long” — 🆕 new" in lines
    assert "#12345 · CES 2 of 7 · Main St / Olga · Ann · “The queue was long” — 👤 Alice" in lines
    assert "#12346 · NPS 2 · Main St / Olga · Ann · “The queue was long” — ⛔ Bob" in lines
    keyboard = fold_keyboard(entries, Texts(translator, "ru"))
    assert keyboard is not None
    assert [b.text for row in keyboard.inline_keyboard for b in row] == ["🙋 #7", "📋 #12345"]


async def test_the_sweep_folds_pushed_back_alerts_and_a_failed_fold_fails_them(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path) as h:
        _follow_the_fake_clock(h)
        guests = range(FIRST_GUEST, FIRST_GUEST + GROUP_LIMIT + 4)
        surveys = await _surveys(h, guests)
        # Answers faster than the worker sends: the group limit pushes the last alerts
        # back before anyone decides to fold them.
        for uid in guests:
            await _answer_nps(h, uid, surveys[uid], "1")
        await _settled(h)
        assert len(h.fake.messages_to(MANAGER_CHAT_ID)) == GROUP_LIMIT

        # Maintenance folds what waits for the group.
        await h.app.maintenance()
        opened = await _rows(
            h, "SELECT id FROM outbox WHERE kind = 'alert_fold' AND finished_at IS NULL"
        )
        held = await _rows(h, "SELECT id FROM outbox WHERE kind = 'alert' AND status = 'held'")
        assert (len(opened), len(held)) == (1, 4)

        # The fold row ends without its alerts (as when a chat's pending rows expire):
        # the next sweep gives them a new fold.
        async with h.app.db.transaction() as conn:
            await conn.execute(
                "UPDATE outbox SET status = 'expired', last_error = 'chat unreachable',"
                " finished_at = :now WHERE id = :id",
                {"id": opened[0]["id"], "now": to_ms(h.clock.now())},
            )
        await h.app.maintenance()
        reopened = await _rows(
            h, "SELECT id FROM outbox WHERE kind = 'alert_fold' AND finished_at IS NULL"
        )
        assert len(reopened) == 1 and reopened[0]["id"] != opened[0]["id"]

        # That fold is refused by Telegram: its alerts end failed, with the reason.
        h.fake.fail_next(
            "sendMessage",
            error_code=400,
            description="Bad Request: message is too long",
            chat_id=MANAGER_CHAT_ID,
        )
        h.clock.advance(timedelta(seconds=61))
        h.app.worker.kick()
        await _settled(h)
        rows = await _rows(h, "SELECT status, last_error FROM outbox WHERE kind = 'alert'")
        assert sorted(r["status"] for r in rows) == ["failed"] * 4 + ["sent"] * GROUP_LIMIT
        failed = [r["last_error"] for r in rows if r["status"] == "failed"]
        assert all("which failed: " in e and "too long" in e for e in failed), failed
        async with h.app.db.read() as conn:
            assert await alert_folds.chats_with_stranded_alerts(conn) == []


async def test_a_burst_longer_than_one_fold_drains_at_the_groups_pace(tmp_path: Path) -> None:
    """Full folds do not wait out the interval: once the group's minute frees, the
    backlog goes out fold after fold instead of one fold a minute."""
    async with running_bot(tmp_path, alert_fold_max_cases=5) as h:
        _follow_the_fake_clock(h)
        _managers(h)
        guests = range(FIRST_GUEST, FIRST_GUEST + 40)
        surveys = await _surveys(h, guests)
        for uid in guests:
            await _answer_nps(h, uid, surveys[uid], "3")
            await _settled(h)
        assert len(h.fake.messages_to(MANAGER_CHAT_ID)) == GROUP_LIMIT

        h.clock.advance(timedelta(seconds=61))
        for _ in range(6):
            h.app.worker.kick()
            await _settled(h)
        chat = h.fake.messages_to(MANAGER_CHAT_ID)
        shown = [n for m in chat for n in _cases_in(m)]
        assert shown == list(range(1, 41))
        folds = [m for m in chat if "folded" in m.text]
        assert [len(_cases_in(m)) for m in folds] == [5, 5, 5, 5]
