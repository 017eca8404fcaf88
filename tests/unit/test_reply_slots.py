"""The limiter's reply gate (bot/outbox/limiter.py): replies are served in order, one
global slot each, once their chat is free, ahead of the worker's next bookings.

Times are asserted only as lower bounds (a busy machine makes gaps longer, never
shorter), and rates are high so that each test waits a few hundred ms at most."""

from __future__ import annotations

import asyncio
import itertools
import time

from bot.outbox.limiter import RateLimiter


async def _serve(limiter: RateLimiter, chats: list[int | None]) -> list[tuple[int | None, float]]:
    """Ask for a slot for each chat at once; returns (chat, moment granted) in grant order."""
    granted: list[tuple[int | None, float]] = []

    async def one(chat_id: int | None) -> None:
        at = await limiter.reply_slot(chat_id)
        granted.append((chat_id, at))

    tasks = []
    for chat_id in chats:
        tasks.append(asyncio.create_task(one(chat_id)))
        await asyncio.sleep(0)  # arrival order = list order
    await asyncio.gather(*tasks)
    return granted


async def test_replies_are_served_in_arrival_order_one_global_slot_apart() -> None:
    limiter = RateLimiter(50)
    granted = await _serve(limiter, [1, 2, 3, 4, 5, None])
    assert [chat for chat, _ in granted] == [1, 2, 3, 4, 5, None]
    moments = [at for _, at in granted]
    gaps = [later - earlier for earlier, later in itertools.pairwise(moments)]
    assert min(gaps) >= limiter.interval - 1e-9
    assert not limiter.replies_ready()
    assert limiter.replies_waiting == 0


async def test_a_reply_waits_for_its_own_chat_and_lets_the_others_by() -> None:
    limiter = RateLimiter(200, chat_interval=0.2)
    limiter.book_chat(7)  # a message just went to chat 7
    booked = time.monotonic()
    granted = await _serve(limiter, [7, 8, 9])
    assert [chat for chat, _ in granted] == [8, 9, 7]
    assert granted[-1][1] - booked >= 0.2 - 1e-9


async def test_two_replies_to_one_chat_are_a_chat_interval_apart() -> None:
    limiter = RateLimiter(200, chat_interval=0.15)
    granted = await _serve(limiter, [7, 7])
    assert granted[1][1] - granted[0][1] >= 0.15 - 1e-9


async def test_a_group_gets_no_more_than_its_minute_allows() -> None:
    limiter = RateLimiter(200, group_per_minute=3)
    waiter = asyncio.create_task(_serve(limiter, [-100, -100, -100, -100, 5]))
    await asyncio.sleep(0.2)
    # Three went to the group, and chat 5 was not held up behind the fourth.
    assert not waiter.done()
    assert limiter.chat_wait(-100) > 50
    assert limiter.chat_wait(5) > 0  # booked: its reply went
    waiter.cancel()
    await asyncio.gather(waiter, return_exceptions=True)
    await asyncio.sleep(0.02)
    assert limiter.replies_waiting == 0  # the cancelled reply left the queue


async def test_the_worker_is_told_to_wait_while_a_reply_is_ready() -> None:
    limiter = RateLimiter(200)
    limiter.pause(0.2)  # everything waits, say after a 429
    reply = asyncio.create_task(limiter.reply_slot(3))
    await asyncio.sleep(0)
    assert limiter.replies_ready()
    quiet = asyncio.create_task(limiter.replies_quiet())
    await asyncio.sleep(0.05)
    assert not quiet.done()
    await reply
    await asyncio.wait_for(quiet, 1.0)
    assert not limiter.replies_ready()


async def test_a_reply_waiting_only_for_its_chat_does_not_hold_the_worker() -> None:
    limiter = RateLimiter(200, chat_interval=0.3)
    limiter.book_chat(3)
    reply = asyncio.create_task(limiter.reply_slot(3))
    await asyncio.sleep(0.05)
    assert not reply.done()
    assert not limiter.replies_ready()  # the worker may use the global slots meanwhile
    await reply


async def test_a_reply_comes_after_slots_the_worker_has_booked_not_before() -> None:
    limiter = RateLimiter(100)
    booked = [limiter.reserve_global() for _ in range(5)]  # the worker's next 50 ms
    start = time.monotonic()
    at = await limiter.reply_slot(4)
    assert at - start >= booked[-1] + limiter.interval - 0.005
    # And the worker's next booking comes after the reply.
    assert limiter.reserve_global() >= limiter.interval - 0.005


async def test_a_retry_goes_before_the_replies_already_waiting() -> None:
    limiter = RateLimiter(50)
    limiter.pause(0.05)
    order: list[str] = []

    async def ask(name: str, chat_id: int, again: bool) -> None:
        await limiter.reply_slot(chat_id, again=again)
        order.append(name)

    first = asyncio.create_task(ask("first", 1, False))
    await asyncio.sleep(0)
    second = asyncio.create_task(ask("second", 2, False))
    await asyncio.sleep(0)
    retry = asyncio.create_task(ask("retry", 3, True))
    await asyncio.gather(first, second, retry)
    assert order == ["retry", "first", "second"]


async def test_an_answered_reply_counts_in_its_chat_from_the_answer() -> None:
    moments = iter([10.0, 10.0, 10.0, 10.5, 10.5, 10.5])
    limiter = RateLimiter(25, group_per_minute=1, monotonic=lambda: next(moments))
    limiter.book_chat(-5)  # granted at 10.0
    limiter.reply_answered(-5, 10.0)  # Telegram answered at 10.5
    assert limiter.chat_wait(-5) == 60.0  # a minute from 10.5, not from 10.0


async def test_an_answered_reply_to_a_private_chat_is_spaced_from_the_answer() -> None:
    moments = iter([10.0, 10.4, 10.4])
    limiter = RateLimiter(25, monotonic=lambda: next(moments))
    limiter.book_chat(5)  # granted at 10.0: free again at 11.0
    limiter.reply_answered(5, 10.0)  # answered at 10.4: free again at 11.4
    assert limiter.chat_wait(5) == 1.0


async def test_a_reply_whose_wait_is_given_up_frees_the_worker_at_once() -> None:
    limiter = RateLimiter(200)
    limiter.pause(30)  # the gate would sleep half a minute for this reply
    reply = asyncio.create_task(limiter.reply_slot(3))
    await asyncio.sleep(0.01)
    assert limiter.replies_ready()
    reply.cancel()  # its handler was cancelled, say by a stop
    await asyncio.gather(reply, return_exceptions=True)
    await asyncio.wait_for(limiter.replies_quiet(), 1.0)
    assert limiter.replies_waiting == 0
