"""Fault injection and flood control: errors a test orders for the next calls, and
Telegram's rate limits, answered with 429 and retry_after."""

from __future__ import annotations

import math
from collections import deque

from tests.support.fake_telegram.models import ApiError, JSONDict, _Failure, _RateLimits
from tests.support.fake_telegram.params import _as_int
from tests.support.fake_telegram.state import FakeTelegramState


class FloodMixin(FakeTelegramState):
    def fail_next(
        self,
        method: str,
        *,
        error_code: int,
        description: str,
        retry_after: int | None = None,
        chat_id: int | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next `times` calls of method (for chat_id, if given) with this error."""
        canonical = self._canonical(method)
        self._failures.setdefault(canonical, []).append(
            _Failure(error_code, description, retry_after, chat_id, times)
        )

    def delay_answers(self, method: str, seconds: float) -> None:
        """Answer HTTP calls of `method` `seconds` late (0: at once), after the call did
        its work: a slow Telegram, where a message has arrived before the bot hears so."""
        self._answer_delays[self._canonical(method)] = seconds

    def set_rate_limits(
        self,
        *,
        global_per_second: float | None = 30,
        per_chat_per_second: float | None = 1,
        per_group_per_minute: float | None = 20,
    ) -> None:
        """Enable Telegram-like flood control (None disables one rule)."""
        self._rate = _RateLimits(global_per_second, per_chat_per_second, per_group_per_minute)
        self._global_hits.clear()
        self._chat_hits.clear()

    def disable_rate_limits(self) -> None:
        self._rate = None

    def _take_failure(self, method: str, params: JSONDict) -> _Failure | None:
        failures = self._failures.get(method)
        if not failures:
            return None
        chat_id = _as_int(params.get("chat_id"))
        for failure in failures:
            if failure.chat_id is None or failure.chat_id == chat_id:
                failure.times -= 1
                if failure.times <= 0:
                    failures.remove(failure)
                return failure
        return None

    @staticmethod
    def _window(limit: float, window: float) -> tuple[int, float]:
        # A limit below one per window means one per (window / limit).
        if limit >= 1:
            return math.floor(limit), window
        return 1, window / limit

    def _rate_rules(
        self, chat_id: int, counts_global: bool
    ) -> list[tuple[deque[float], int, float]]:
        limits = self._rate
        if limits is None:
            return []
        rules: list[tuple[deque[float], int, float]] = []
        if counts_global and limits.global_per_second is not None:
            rules.append((self._global_hits, *self._window(limits.global_per_second, 1.0)))
        per_chat = limits.per_group_per_minute if chat_id < 0 else limits.per_chat_per_second
        if per_chat is not None:
            hits = self._chat_hits.setdefault(chat_id, deque())
            window = 60.0 if chat_id < 0 else 1.0
            rules.append((hits, *self._window(per_chat, window)))
        return rules

    def _check_rate(self, chat_id: int, *, counts_global: bool) -> list[deque[float]]:
        """Raise 429 when the send would exceed a limit; else return the windows to record in."""
        rules = self._rate_rules(chat_id, counts_global)
        if not rules:
            return []
        now = self._clock()
        wait = 0.0
        limited = False
        for hits, count, window in rules:
            while hits and hits[0] <= now - window:
                hits.popleft()
            if len(hits) >= count:
                limited = True
                # The window frees when the oldest hit that keeps it full leaves it.
                wait = max(wait, hits[len(hits) - count] + window - now)
        if limited:
            self.too_many_requests += 1
            retry_after = max(1, math.ceil(wait))
            raise ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)
        return [hits for hits, _, _ in rules]

    def _record_rate(self, windows: list[deque[float]]) -> None:
        if windows:
            now = self._clock()
            for hits in windows:
                hits.append(now)
