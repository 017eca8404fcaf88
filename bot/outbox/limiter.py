"""Telegram's limits for one bot: about 30 messages per second overall, about one per
second into one private chat and 20 per minute into one group; 429 above that."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

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
