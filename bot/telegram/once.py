"""Each Telegram update has the effect of one, however often it arrives.

Telegram redelivers a webhook update when the answer was slow or lost, and behind a
proxy the copy may land on another instance. The claim is a row in the shared
database, written before the handler changes anything and released if handling fails,
so that the redelivery gets another chance instead of being lost.

Most handlers get the claim in its own transaction just before they run. A handler
registered with the flag `IN_TRANSACTION` (the survey's score buttons, the busiest
updates) writes it itself, first thing in the transaction that stores what the update
means: one transaction per update instead of two. Such a handler must write the claim
before it changes anything, and treat a claim found taken as a duplicate that does
nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiogram import BaseMiddleware, Dispatcher
from aiogram.dispatcher.flags import get_flag
from aiogram.types import TelegramObject, Update

from bot.core.clock import Clock, to_ms
from storage import updates
from storage.db import Database

logger = logging.getLogger(__name__)

FLAG = "update_claim"
IN_TRANSACTION = {FLAG: "in_transaction"}  # flags= of a handler that writes the claim itself


@dataclass(slots=True)
class UpdateClaim:
    """The update's once-record, as handlers see it (`update_claim` in their data)."""

    update_id: int
    # This handling wrote the record: drop it again if the handling fails.
    recorded: bool = False


class UpdateOnceMiddleware(BaseMiddleware):
    """An outer update middleware: a duplicate update_id never has an effect.

    `install` also puts `before_handler` in front of every handler, where the claim is
    written unless the handler writes it in its own transaction."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def install(self, dispatcher: Dispatcher) -> None:
        dispatcher.update.outer_middleware(self)
        for name, observer in dispatcher.observers.items():
            if name not in ("update", "error"):
                observer.middleware(self.before_handler)

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        claim = UpdateClaim(event.update_id)
        data["update_claim"] = claim
        try:
            return await handler(event, data)
        except BaseException:
            # Cancellation counts too: the update was not fully handled.
            if claim.recorded:
                await self._release(claim.update_id)
            raise

    async def before_handler(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        """An inner middleware: runs once a handler was chosen, before it."""
        claim: UpdateClaim | None = data.get("update_claim")
        if claim is None or claim.recorded or get_flag(data, FLAG) == "in_transaction":
            return await handler(event, data)
        async with self._db.transaction() as conn:
            claimed = await updates.claim(conn, claim.update_id, now=to_ms(self._clock.now()))
        if not claimed:
            logger.info("update %d was handled already; skipped", claim.update_id)
            return None
        claim.recorded = True
        return await handler(event, data)

    async def _release(self, update_id: int) -> None:
        try:
            async with self._db.transaction() as conn:
                await updates.release(conn, update_id)
        except Exception:
            # The handler's own error is the one worth raising; this one is only logged.
            logger.exception("update %d: could not release its claim", update_id)
