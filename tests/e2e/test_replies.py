"""Replies to a customer's or a manager's own action (bot/outbox/replies.py), end to end:
paced with the outbox's sends and ahead of them, retried, given up only after retries.

The fake enforces Telegram's flood limits in these tests (`flood_limits=True`), so a
reply sent too early would be answered 429 and counted in `fake.too_many_requests`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from aiogram.exceptions import TelegramBadRequest

from bot.core.clock import to_ms
from bot.outbox.replies import already_paced
from bot.outbox.worker import RetryPolicy
from storage import customers
from storage.customers import TelegramProfile
from tests.support.fake_telegram import FakeTelegram, RecordedRequest, SentMessage
from tests.support.harness import BotHarness, running_bot
from tests.support.settings import BOT_TOKEN

FIRST = 30_001
ANN = 601
WELCOME = "Hello, "
PHONE = "share your phone number"


async def _all_answered(h: BotHarness, users: range, timeout: float) -> None:  # noqa: ASYNC109
    """Every user got the answer to /start: the welcome with the offer to share the phone."""

    def asked_for_phone(user_id: int) -> Callable[[SentMessage], bool]:
        return lambda m: m.chat_id == user_id and PHONE in m.text

    for user_id in users:
        await h.fake.wait_for(asked_for_phone(user_id), timeout=timeout)


async def test_a_rush_of_start_is_answered_every_customer_once_and_within_the_limits(
    tmp_path: Path,
) -> None:
    users = range(FIRST, FIRST + 60)
    # 60 answers at SEND_RATE_PER_SECOND=25 against Telegram's 30 a second.
    async with running_bot(tmp_path, flood_limits=True) as h:
        for user_id in users:
            h.fake.user(user_id, "Ann", "en")
        # Three replies meet a 429 anyway (say another bot on the same token): each
        # waits retry_after and is sent again.
        h.fake.fail_next(
            "sendMessage",
            error_code=429,
            description="Too Many Requests: retry after 1",
            retry_after=1,
            times=3,
        )
        for user_id in users:
            await h.fake.send_text(user_id, "/start")
        await _all_answered(h, users, timeout=30)

        for user_id in users:
            texts = [m.text for m in h.fake.messages_to(user_id)]
            assert len(texts) == 1, (user_id, texts)
            assert texts[0].startswith(WELCOME) and PHONE in texts[0]
        assert h.fake.too_many_requests == 0  # none caused by the bot's own pace
        injected = [r for r in h.fake.calls("sendMessage") if r.error_code == 429]
        assert len(injected) == 3
        assert h.app.services.replies.floods == 3
        assert h.app.services.replies.given_up == 0


async def test_replies_go_ahead_of_the_queued_surveys(tmp_path: Path) -> None:
    guests = range(FIRST, FIRST + 40)
    async with running_bot(tmp_path, flood_limits=True, send_rate_per_second=20) as h:
        now = to_ms(h.clock.now())
        async with h.app.db.transaction() as conn:
            for user_id in guests:
                h.fake.user(user_id, "Guest", "en")
                await customers.upsert_telegram(
                    conn, TelegramProfile(user_id, "Guest", None, "en"), now
                )
        for user_id in guests:
            await h.post_visit(user_id, f"visit-{user_id}")
        # Two seconds of surveys are queued; a customer presses Start meanwhile.
        await h.fake.wait_for(lambda m: m.chat_id in guests)
        h.fake.user(ANN, "Ann", "en")
        pressed = len(h.fake.sent)
        await h.fake.send_text(ANN, "/start")
        welcome = await h.fake.wait_for(lambda m: m.chat_id == ANN, since=pressed, timeout=10)
        surveys_before = [m for m in h.fake.sent[pressed : welcome.seq] if m.chat_id in guests]
        await h.fake.wait_for(lambda m: m.chat_id == ANN and PHONE in m.text, timeout=10)
        await h.settled(timeout=10)
        surveys_after = [m for m in h.fake.sent[welcome.seq :] if m.chat_id in guests]
        # Only what the worker had already booked (half a second: 10 at 20/s) went
        # between the press and the welcome; the rest of the queue waited.
        assert len(surveys_before) <= 11
        assert len(surveys_after) >= 10
        assert len({m.chat_id for m in h.fake.sent if m.chat_id in guests}) == len(guests)
        assert h.fake.too_many_requests == 0


def _sent_to(fake: FakeTelegram, chat_id: int) -> list[RecordedRequest]:
    return [r for r in fake.calls("sendMessage") if r.params.get("chat_id") == chat_id]


async def test_a_reply_that_meets_a_429_arrives_after_retry_after(tmp_path: Path) -> None:
    async with running_bot(tmp_path, flood_limits=True) as h:
        h.fake.user(ANN, "Ann", "en")
        h.fake.fail_next(
            "sendMessage",
            error_code=429,
            description="Too Many Requests: retry after 1",
            retry_after=1,
            chat_id=ANN,
        )
        await h.start_customer(ANN)
        # The next reply to the same chat keeps Telegram's second after the last.
        await h.fake.send_text(ANN, "/help")
        await h.fake.wait_for_message(ANN, text_contains="/stop")
        calls = _sent_to(h.fake, ANN)
        assert [r.error_code for r in calls] == [429, None, None]
        assert calls[1].time - calls[0].time >= 1.0
        assert calls[2].time - calls[1].time >= 1.0
        welcome = h.fake.messages_to(ANN)[0]
        assert welcome.text.startswith(WELCOME) and PHONE in welcome.text
        assert h.fake.too_many_requests == 0


async def test_a_reply_given_up_after_its_retries_is_logged_once_without_a_traceback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_bot(tmp_path) as h:
        h.app.services.replies.retry = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.02)
        h.fake.user(ANN, "Ann", "en")
        h.fake.fail_next(
            "sendMessage",
            error_code=500,
            description="Internal Server Error",
            chat_id=ANN,
            times=3,
        )
        caplog.set_level(logging.INFO)
        update = await h.fake.send_text(ANN, "/start")
        for _ in range(200):
            if h.app.services.replies.given_up:
                break
            await asyncio.sleep(0.02)
        # The next customer is answered as usual.
        await h.start_customer(ANN + 1)

    assert [r.error_code for r in _sent_to(h.fake, ANN)] == [500, 500, 500]
    assert h.fake.messages_to(ANN) == []
    gave_up = [r for r in caplog.records if "reply not sent" in r.getMessage()]
    assert len(gave_up) == 1
    message = gave_up[0].getMessage()
    assert gave_up[0].levelno == logging.WARNING
    assert "sendMessage to chat 601 given up after 3 tries" in message
    assert "TelegramServerError: Internal Server Error" in message
    assert BOT_TOKEN not in message
    # No traceback for the update, from aiogram or the bot.
    assert not [r for r in caplog.records if r.exc_info is not None]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert update["update_id"] > 0


async def test_answers_to_taps_and_the_workers_own_sends_pass_straight_through(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path, flood_limits=True) as h:
        h.fake.user(ANN, "Ann", "en")
        h.app.limiter.pause(30)  # every slot is 30 s away
        bot = h.app.bot
        # A tap's answer and a read are never held up.
        with pytest.raises(TelegramBadRequest):
            await asyncio.wait_for(bot.answer_callback_query("no-such-query"), 2)
        await asyncio.wait_for(bot.get_chat_member(ANN, ANN), 2)
        # The worker's calls are paced by the worker already.
        with already_paced():
            await asyncio.wait_for(bot.send_message(ANN, "from the outbox"), 2)
        # A handler's reply waits for its slot.
        reply = asyncio.create_task(bot.send_message(ANN, "a reply"))
        await asyncio.sleep(0.2)
        assert not reply.done()
        assert h.app.limiter.replies_waiting == 1
        reply.cancel()
        await asyncio.gather(reply, return_exceptions=True)
        assert [m.text for m in h.fake.messages_to(ANN)] == ["from the outbox"]
