"""The one outbound queue: claims due outbox rows and sends them within Telegram's limits.

Telegram allows a bot about 30 messages per second overall, about one per second
into one private chat and 20 per minute into one group, and answers 429 above that.
The limiter paces sends below those limits so that 429 is the exception; when one
comes anyway, the scope it names (one chat, or everything) pauses for retry_after.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bot.services.clock import Clock, to_ms
from bot.services.outbound import (
    Outgoing,
    Rejected,
    Renderer,
    RetryAfter,
    Sender,
    SendError,
    SendResult,
    Transient,
    Unreachable,
)
from storage import outbox
from storage.database import Database
from storage.models import OutboxItem

logger = logging.getLogger(__name__)

Monotonic = Callable[[], float]


class RateLimiter:
    """Pacing for one bot: a global rate, one message per second per private chat,
    `group_per_minute` per group (negative chat ids). Time comes from `monotonic`,
    so tests drive it without sleeping."""

    def __init__(
        self,
        rate_per_second: float,
        *,
        chat_interval: float = 1.0,
        group_per_minute: int = 20,
        monotonic: Monotonic = time.monotonic,
    ) -> None:
        self.interval = 1.0 / rate_per_second
        self.chat_interval = chat_interval
        self.group_per_minute = group_per_minute
        self._monotonic = monotonic
        self._next_global = 0.0
        self._paused_until = 0.0
        self._chat_next: dict[int, float] = {}
        self._group_hits: dict[int, deque[float]] = {}
        self._last_flood: tuple[int, float] | None = None
        self.floods = 0  # 429s seen: the benchmark's "never the cause of a 429" figure

    def chat_wait(self, chat_id: int) -> float:
        """Seconds until this chat may receive another message (0 = now)."""
        now = self._monotonic()
        if chat_id < 0:
            hits = self._group_hits.get(chat_id)
            if hits is None:
                return max(0.0, self._chat_next.get(chat_id, 0.0) - now)
            while hits and hits[0] <= now - 60.0:
                hits.popleft()
            wait = 0.0
            if len(hits) >= self.group_per_minute:
                wait = hits[0] + 60.0 - now
            return max(wait, self._chat_next.get(chat_id, 0.0) - now, 0.0)
        return max(0.0, self._chat_next.get(chat_id, 0.0) - now)

    def group_backlog_full(self, chat_id: int) -> bool:
        return self.chat_wait(chat_id) > 0

    def book_chat(self, chat_id: int, after: float = 0.0) -> None:
        """Count a message into its chat's limit, `after` seconds from now."""
        now = self._monotonic()
        if chat_id < 0:
            self._group_hits.setdefault(chat_id, deque()).append(now + after)
        else:
            self._chat_next[chat_id] = now + after + self.chat_interval
        self._forget_idle(now)

    def reserve_global(self) -> float:
        """Take the next global slot; returns seconds to wait for it."""
        now = self._monotonic()
        slot = max(now, self._next_global, self._paused_until)
        self._next_global = slot + self.interval
        return slot - now

    def pause(self, seconds: float, chat_id: int | None = None) -> None:
        """Stop one chat, or everything when chat_id is None, for `seconds`."""
        until = self._monotonic() + seconds
        if chat_id is None:
            self._paused_until = max(self._paused_until, until)
        else:
            self._chat_next[chat_id] = max(self._chat_next.get(chat_id, 0.0), until)

    def on_retry_after(self, chat_id: int, seconds: float) -> str:
        """A 429 does not say which limit it was. The first pauses its chat; a second
        one for another chat while the first still holds means the global limit, so
        everything pauses. Returns the scope paused: "chat" or "global"."""
        self.floods += 1
        now = self._monotonic()
        last = self._last_flood
        self._last_flood = (chat_id, now + seconds)
        self.pause(seconds, chat_id)
        if last is not None and last[0] != chat_id and last[1] > now:
            self.pause(seconds)
            return "global"
        return "chat"

    def _forget_idle(self, now: float) -> None:
        # Keep memory flat under a broadcast to many chats: drop chats that are free again.
        if len(self._chat_next) > 10_000:
            self._chat_next = {c: t for c, t in self._chat_next.items() if t > now}


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 6
    base_delay: float = 1.0
    max_delay: float = 300.0

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Exponential backoff with full jitter (AWS' recommendation)."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** max(0, attempt - 1))
        return rng.uniform(ceiling / 2, ceiling)


class DeliveryWorker:
    """Claims due rows, renders them, sends them paced, and records each outcome."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        sender: Sender,
        renderers: Mapping[str, Renderer],
        limiter: RateLimiter,
        *,
        owner: str = "main",
        retry: RetryPolicy | None = None,
        lease_seconds: float = 60.0,
        max_in_flight: int = 64,
        idle_poll: float = 1.0,
        max_inline_wait: float = 2.0,
        rng: random.Random | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._sender = sender
        self._renderers = renderers
        self.limiter = limiter
        self._owner = owner
        self._retry = retry or RetryPolicy()
        self._lease_ms = int(lease_seconds * 1000)
        self._slots = asyncio.Semaphore(max_in_flight)
        self._idle_poll = idle_poll
        self._rng = rng or random.Random()
        # Longer waits (a group's minute limit, a 429 pause) go back to the database.
        self._max_inline_wait = max_inline_wait
        self._wakeup = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False
        # Claim about half a second of sends at a time, so that a more urgent row
        # arriving meanwhile waits at most that long.
        self._batch = max(1, min(500, int(0.5 / limiter.interval)))

    def kick(self) -> None:
        """Something was enqueued: look now instead of at the next poll."""
        self._wakeup.set()

    async def run(self) -> None:
        """Deliver until stop(); survives any single failure."""
        while not self._stopping:
            try:
                handled = await self.run_once()
            except Exception:
                logger.exception("delivery: a round failed; retrying")
                handled = 0
            if handled == 0 and not self._stopping:
                await self._sleep_until_due()

    async def stop(self) -> None:
        self._stopping = True
        self._wakeup.set()
        await self.drain()

    async def drain(self) -> None:
        """Wait until every send in flight has been recorded."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _sleep_until_due(self) -> None:
        async with self._db.read() as conn:
            due = await outbox.next_due_at(conn)
        timeout = self._idle_poll
        if due is not None:
            timeout = min(timeout, max(0.0, (due - to_ms(self._clock.now())) / 1000))
        self._wakeup.clear()
        if timeout > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), timeout)

    async def run_once(self) -> int:
        """Claim one batch and start its sends; returns how many rows it took."""
        now = to_ms(self._clock.now())
        async with self._db.transaction() as conn:
            items = await outbox.claim_due(
                conn, now=now, owner=self._owner, lease_ms=self._lease_ms, limit=self._batch
            )
        deferred: list[tuple[OutboxItem, float]] = []
        for item in items:
            chat_wait = self.limiter.chat_wait(item.chat_id)
            if chat_wait > self._max_inline_wait:
                deferred.append((item, chat_wait))
                continue
            self.limiter.book_chat(item.chat_id, chat_wait)
            if chat_wait == 0:
                # Pace this loop on the global rate, so claims follow the send rate.
                delay = self.limiter.reserve_global()
                if delay > 0:
                    await asyncio.sleep(delay)
            await self._slots.acquire()
            task = asyncio.create_task(self._deliver(item, chat_wait))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        if deferred:
            await self._defer(deferred)
        return len(items) - len(deferred)

    async def _defer(self, deferred: list[tuple[OutboxItem, float]]) -> None:
        """A busy chat's rows go back to the queue until the chat is free."""
        now = to_ms(self._clock.now())
        async with self._db.transaction() as conn:
            for item, wait in deferred:
                await outbox.retry_later(
                    conn,
                    item.id,
                    now + int(wait * 1000) + 1,
                    item.last_error or "",
                    count_attempt=False,
                )

    async def _deliver(self, item: OutboxItem, chat_wait: float) -> None:
        try:
            if chat_wait > 0:
                # A chat that got a message a moment ago: wait for it without holding up
                # other chats, then take a global slot like everyone else.
                await asyncio.sleep(chat_wait)
                await asyncio.sleep(self.limiter.reserve_global())
            await self._deliver_one(item)
        except Exception:
            logger.exception("delivery: outbox row %s could not be recorded", item.id)
        finally:
            self._slots.release()

    async def _deliver_one(self, item: OutboxItem) -> None:
        renderer = self._renderers.get(item.kind)
        if renderer is None:
            await self._finish(item, "failed", f"no renderer for kind {item.kind!r}")
            return
        message = await renderer.render(item)
        if message is None:
            await self._finish(item, "expired", "no longer wanted when due")
            return
        try:
            result = await self._sender.send(message)
        except RetryAfter as error:
            self.limiter.on_retry_after(item.chat_id, error.retry_after)
            await self._retry_later(item, error.retry_after, error, count=False)
        except Transient as error:
            attempt = item.attempts + 1
            if attempt >= self._retry.max_attempts:
                await self._fail(item, renderer, error, f"gave up after {attempt} attempts: ")
            else:
                await self._retry_later(item, self._retry.backoff(attempt, self._rng), error)
        except (Unreachable, Rejected) as error:
            await self._fail(item, renderer, error)
        else:
            await self._sent(item, renderer, result, message)

    async def _sent(
        self, item: OutboxItem, renderer: Renderer, result: SendResult, message: Outgoing
    ) -> None:
        now = to_ms(self._clock.now())
        async with self._db.transaction() as conn:
            message_id = result.message_id or message.edit_message_id
            await outbox.mark_sent(conn, item.id, message_id, now)
            await renderer.on_sent(conn, item, result)

    async def _retry_later(
        self, item: OutboxItem, seconds: float, error: SendError, *, count: bool = True
    ) -> None:
        due = to_ms(self._clock.now()) + int(seconds * 1000)
        async with self._db.transaction() as conn:
            await outbox.retry_later(conn, item.id, due, error.reason, count_attempt=count)
        logger.info("delivery: row %s retries in %.1fs (%s)", item.id, seconds, error.reason)

    async def _fail(
        self, item: OutboxItem, renderer: Renderer, error: SendError, prefix: str = ""
    ) -> None:
        now = to_ms(self._clock.now())
        async with self._db.transaction() as conn:
            await outbox.finish(conn, item.id, "failed", prefix + error.reason, now)
            await renderer.on_failed(conn, item, error)
            if isinstance(error, Unreachable):
                await outbox.expire_pending_for_chat(conn, item.chat_id, "chat unreachable", now)
        logger.warning("delivery: row %s (%s) failed: %s", item.id, item.kind, error.reason)

    async def _finish(self, item: OutboxItem, status: str, reason: str) -> None:
        async with self._db.transaction() as conn:
            await outbox.finish(conn, item.id, status, reason, to_ms(self._clock.now()))
