"""Reaching the Bot API at start-up: getMe, waited out while the server cannot be
reached, refused at once when the token is.

A blip (DNS, a refused connection, a timeout, a 5xx or an answer that is not the
Bot API's JSON, 429) is retried with exponential backoff and jitter, capped, for as
long as it lasts, with one log line per attempt naming TELEGRAM_API_URL and the
cause, never a traceback. A token the server refuses (401, 404) raises
`TokenRefused`: retrying would not help, the operator has to fix BOT_TOKEN. The token
itself never appears in a message.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiogram import Bot
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import User

logger = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]

# One attempt may wait this long for an answer (aiogram's default is 60 s).
ATTEMPT_TIMEOUT_SECONDS = 15


class TokenRefused(Exception):
    """The Bot API server refused BOT_TOKEN (401 or 404); the message names the
    setting and the server, never the token."""


@dataclass(frozen=True, slots=True)
class StartupBackoff:
    """Delays between attempts: 1, 2, 4 ... seconds up to `max_delay`, each drawn
    between half of that and all of it, so instances restarting together spread out."""

    first_delay: float = 1.0
    max_delay: float = 60.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        ceiling = min(self.max_delay, self.first_delay * 2 ** max(0, attempt - 1))
        return rng.uniform(ceiling / 2, ceiling)


async def reach_bot_api(
    bot: Bot,
    api_url: str,
    *,
    sleep: Sleep = asyncio.sleep,
    backoff: StartupBackoff | None = None,
    rng: random.Random | None = None,
) -> User:
    """The bot's own account (getMe), once the server at `api_url` answers."""
    backoff = backoff or StartupBackoff()
    rng = rng or random.Random()
    token = bot.token
    attempt = 0
    while True:
        attempt += 1
        try:
            return await bot.get_me(request_timeout=ATTEMPT_TIMEOUT_SECONDS)
        except (TelegramUnauthorizedError, TelegramNotFound) as error:
            code = 401 if isinstance(error, TelegramUnauthorizedError) else 404
            raise TokenRefused(
                f"BOT_TOKEN was refused by the Bot API server at TELEGRAM_API_URL {api_url} "
                f"({code} {_redact(error.message, token)}): copy the token from @BotFather"
            ) from None
        except TelegramRetryAfter as error:
            cause = f"429 Too Many Requests: retry after {error.retry_after} s"
            delay = float(error.retry_after)
        except TelegramServerError as error:
            cause = f"server error: {_redact(error.message, token)}"
            delay = backoff.delay(attempt, rng)
        except TelegramNetworkError as error:
            cause = _redact(error.message, token)
            delay = backoff.delay(attempt, rng)
        except ClientDecodeError:
            # A proxy's error page, or a URL that is not a Bot API server.
            cause = "the answer was not the Bot API's JSON"
            delay = backoff.delay(attempt, rng)
        logger.warning(
            "TELEGRAM_API_URL %s: cannot reach the Bot API (attempt %d: %s); "
            "retrying in %.1f s, visits are accepted meanwhile",
            api_url,
            attempt,
            cause,
            delay,
        )
        await sleep(delay)


def _redact(text: str, token: str) -> str:
    """One line of `text`, without the token."""
    return " ".join(text.replace(token, "[redacted]").split())
