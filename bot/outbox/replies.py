"""Replies: what the bot sends in answer to a customer's or a manager's own action.

Handlers answer with aiogram's own calls (message.answer, edit_text, reply,
answer_photo ...). `ReplyPacer`, a request middleware on the Bot's session, makes
every sending or editing call among them wait for the limiter (bot/outbox/limiter.py):
the chat's own limit and a global slot shared with the delivery worker, taken ahead of
the worker's next bookings. A 429 waits retry_after and sends again; 5xx and network
errors retry with backoff and jitter. Only when those fail is the reply given up: the
reason is logged once and the handler gets `ReplyNotSent`, which the dispatcher's
error handler `reply_not_sent` ends quietly (what the update changed is stored).

Calls that send nothing go straight through: answerCallbackQuery (a tap's answer stays
immediate), getMe, getChatMember, getUpdates, setWebhook, sendChatAction, deleteMessage.
So do the worker's own calls, paced already: the sender makes them inside
`already_paced()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from typing import TYPE_CHECKING

from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods.base import TelegramType
from aiogram.types import ErrorEvent

from bot.core.metrics import Metrics
from bot.outbox.limiter import RateLimiter
from bot.outbox.worker import RetryPolicy

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.methods import Response, TelegramMethod

logger = logging.getLogger(__name__)

_PACED: ContextVar[bool] = ContextVar("otklik_paced_by_the_worker", default=False)

# Methods that put or change a message in a chat, and so count against its limits.
_SENDING = ("send", "edit", "copyMessage", "forwardMessage", "stopPoll")
_NOT_SENDING = frozenset({"sendChatAction"})


@contextlib.contextmanager
def already_paced() -> Iterator[None]:
    """Calls made inside were paced by the delivery worker: the pacer lets them through."""
    token = _PACED.set(True)
    try:
        yield
    finally:
        _PACED.reset(token)


class ReplyNotSent(Exception):
    """A reply given up after its retries; the reason has been logged."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ReplyPacer(BaseRequestMiddleware):
    """Paces the handlers' sending calls through `limiter` (see the module docstring)."""

    def __init__(
        self,
        limiter: RateLimiter,
        *,
        retry: RetryPolicy | None = None,
        max_floods: int = 5,
        rng: random.Random | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        metrics: Metrics | None = None,
    ) -> None:
        self.limiter = limiter
        self.metrics = metrics
        # Short: someone is looking at the chat, waiting for this answer.
        self.retry = retry or RetryPolicy(max_attempts=4, base_delay=0.5, max_delay=8.0)
        self._max_floods = max_floods
        self._rng = rng or random.Random()
        self._sleep = sleep
        self.floods = 0  # 429s on replies (the limiter counts them with the worker's)
        self.given_up = 0

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        name = method.__api_method__
        if _PACED.get() or not name.startswith(_SENDING) or name in _NOT_SENDING:
            return await make_request(bot, method)
        chat_value = getattr(method, "chat_id", None)
        chat_id = chat_value if isinstance(chat_value, int) else None
        attempts = floods = 0
        again = False
        while True:
            granted_at = await self.limiter.reply_slot(chat_id, again=again)
            again = True
            try:
                response = await make_request(bot, method)
                self.limiter.reply_answered(chat_id, granted_at)
                if self.metrics is not None:
                    self.metrics.reply_sent(name)
                return response
            except TelegramRetryAfter as error:
                floods += 1
                self.floods += 1
                if self.metrics is not None:
                    self.metrics.flood("reply")
                # Pauses the chat (or everything), which the next slot then waits out.
                scope = self._pause(chat_id, float(error.retry_after))
                if floods > self._max_floods:
                    raise self._give_up(bot, name, chat_id, attempts + floods, error) from None
                logger.info(
                    "reply %s to chat %s: 429, again in %s s (%s paused)",
                    name,
                    chat_id,
                    error.retry_after,
                    scope,
                )
            except (TelegramServerError, TelegramNetworkError) as error:
                attempts += 1
                if attempts >= self.retry.max_attempts:
                    raise self._give_up(bot, name, chat_id, attempts + floods, error) from None
                delay = self.retry.backoff(attempts, self._rng)
                logger.info(
                    "reply %s to chat %s: %s, again in %.1f s",
                    name,
                    chat_id,
                    _describe(bot, error),
                    delay,
                )
                await self._sleep(delay)

    def _pause(self, chat_id: int | None, seconds: float) -> str:
        if chat_id is not None:
            return self.limiter.on_retry_after(chat_id, seconds)
        self.limiter.floods += 1
        self.limiter.pause(seconds)
        return "global"

    def _give_up(
        self, bot: Bot, name: str, chat_id: int | None, tries: int, error: TelegramAPIError
    ) -> ReplyNotSent:
        self.given_up += 1
        reason = f"{name} to chat {chat_id} given up after {tries} tries: {_describe(bot, error)}"
        logger.warning("reply not sent: %s", reason)
        return ReplyNotSent(reason)


async def reply_not_sent(event: ErrorEvent) -> bool:
    """The dispatcher's error handler for ReplyNotSent: the pacer logged why, once; the
    update ends here, without a traceback (what it changed is already stored)."""
    return True


def _describe(bot: Bot, error: TelegramAPIError) -> str:
    # aiogram's str() of an error includes the method's URL, which embeds the token;
    # a network error's own text may quote it too.
    return f"{type(error).__name__}: {error.message}".replace(bot.token, "<token>")
