"""Telegram's limits for one bot: about 30 messages per second overall, about one per
second into one private chat and 20 per minute into one group; 429 above that.

One RateLimiter paces everything an instance sends. The delivery worker books its
global slots a moment ahead (`reserve_global`, about half a second of sends per
claimed batch). Replies, what the bot sends in answer to a customer's or a manager's
own action (bot/outbox/replies.py), wait in `reply_slot` instead: a gate hands them the
global slots as they come due, in arrival order, each once its chat is free, and while
one is ready the worker books nothing (`replies_ready`, `replies_quiet`). So a reply
waits for a free slot, at most behind the sends the worker has already booked, never
behind the queue; slots are handed out from the moment the last one really went, so a
busy event loop sends later rather than in a burst.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

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
        # Replies waiting for a slot, in the order they are served (retries in front).
        self._replies: deque[_Waiting] = deque()
        self._gate: asyncio.Task[None] | None = None
        self._arrived = asyncio.Event()
        self._ready = False
        self._quiet = asyncio.Event()
        self._quiet.set()

    def now(self) -> float:
        return self._monotonic()

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

    # --- replies: answered ahead of the worker's queue -------------------------------

    async def reply_slot(self, chat_id: int | None, *, again: bool = False) -> float:
        """Wait until a reply may go: its chat is free (when it has one) and a global slot
        is due. Replies are served in arrival order, `again` (a retry) in front, and
        before anything the worker has not booked yet. The chat is counted from the
        moment the slot is handed over, which is returned for `reply_answered`."""
        waiting = _Waiting(chat_id, asyncio.get_running_loop().create_future())
        # A wait given up (its handler cancelled) wakes the gate, which forgets it.
        waiting.granted.add_done_callback(self._on_reply_done)
        if again:
            self._replies.appendleft(waiting)
        else:
            self._replies.append(waiting)
        if chat_id is None or self.chat_wait(chat_id) <= 0:
            self._set_ready(True)
        self._arrived.set()
        if self._gate is None or self._gate.done():
            self._gate = asyncio.create_task(self._serve_replies(), name="reply-gate")
        # A cancelled wait cancels the future too; the gate then skips it.
        return await waiting.granted

    def reply_answered(self, chat_id: int | None, granted_at: float) -> None:
        """Telegram answered the reply granted at `granted_at`: count it in its chat from
        now on, the latest moment Telegram can have counted it, so that the chat's next
        message cannot reach Telegram early by a request's varying latency."""
        if chat_id is None:
            return
        now = self._monotonic()
        if chat_id >= 0:
            self._chat_next[chat_id] = max(
                self._chat_next.get(chat_id, 0.0), now + self.chat_interval
            )
            return
        hits = self._group_hits.get(chat_id)
        if hits is not None and granted_at in hits:
            hits.remove(granted_at)
            bisect.insort(hits, now)

    def replies_ready(self) -> bool:
        """Whether a reply could use the next global slot: the worker then books none."""
        return self._ready

    async def replies_quiet(self) -> None:
        """Wait until no reply is ready to use a global slot."""
        await self._quiet.wait()

    @property
    def replies_waiting(self) -> int:
        return sum(1 for waiting in self._replies if not waiting.granted.done())

    async def _serve_replies(self) -> None:
        try:
            while True:
                self._arrived.clear()
                now = self._monotonic()
                waiting, chat_delay = self._first_free_reply()
                if waiting is None and not self._replies:
                    return
                self._set_ready(waiting is not None)
                if waiting is None:
                    # Every waiting reply's chat is busy: until the first frees.
                    await self._nap(chat_delay)
                    continue
                start = max(self._next_global, self._paused_until)
                if start > now:
                    await self._nap(start - now)
                    continue
                self._replies.remove(waiting)
                # From the moment this one really goes: a late loop sends later, not faster.
                self._next_global = now + self.interval
                if waiting.chat_id is not None:
                    self.book_chat(waiting.chat_id)
                waiting.granted.set_result(now)
        finally:
            self._set_ready(False)
            for waiting in self._replies:
                # Only if the gate itself failed: the waiting replies hear why.
                if not waiting.granted.done():
                    waiting.granted.set_exception(RuntimeError("the reply gate stopped"))
            self._replies.clear()

    async def _nap(self, seconds: float) -> None:
        """Sleep, or less when a reply arrives or gives up its wait (look again then)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._arrived.wait(), seconds)

    def _on_reply_done(self, granted: asyncio.Future[float]) -> None:
        if granted.cancelled():
            self._arrived.set()

    def _first_free_reply(self) -> tuple[_Waiting | None, float]:
        """The first waiting reply whose chat is free, else None and the seconds until
        the first chat frees. Replies whose wait was cancelled are dropped."""
        while self._replies and self._replies[0].granted.done():
            self._replies.popleft()
        soonest = math.inf
        for waiting in self._replies:
            if waiting.granted.done():
                continue
            wait = 0.0 if waiting.chat_id is None else self.chat_wait(waiting.chat_id)
            if wait <= 0:
                return waiting, 0.0
            soonest = min(soonest, wait)
        if soonest == math.inf:
            self._replies.clear()  # only cancelled ones were left
        return None, soonest

    def _set_ready(self, ready: bool) -> None:
        self._ready = ready
        if ready:
            self._quiet.clear()
        else:
            self._quiet.set()


@dataclass(slots=True, eq=False)  # compared by identity: each is one reply's wait
class _Waiting:
    chat_id: int | None
    granted: asyncio.Future[float]
