"""Each Telegram update has the effect of one, however often it arrives.

Telegram redelivers a webhook update when the answer was slow or lost, and behind a
proxy the copy may land on another instance. The claim is a row in the shared
database, taken before any handler runs and released if handling fails, so that
the redelivery gets another chance instead of being lost.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update

from bot.core.clock import Clock, to_ms
from storage import updates
from storage.db import Database

logger = logging.getLogger(__name__)


class UpdateOnceMiddleware(BaseMiddleware):
    """An outer update middleware: a duplicate update_id never reaches a handler."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        update_id = event.update_id
        async with self._db.transaction() as conn:
            claimed = await updates.claim(conn, update_id, now=to_ms(self._clock.now()))
        if not claimed:
            logger.info("update %d was handled already; skipped", update_id)
            return None
        try:
            return await handler(event, data)
        except BaseException:
            # Cancellation counts too: the update was not fully handled.
            await self._release(update_id)
            raise

    async def _release(self, update_id: int) -> None:
        try:
            async with self._db.transaction() as conn:
                await updates.release(conn, update_id)
        except Exception:
            # The handler's own error is the one worth raising; this one is only logged.
            logger.exception("update %d: could not release its claim", update_id)
