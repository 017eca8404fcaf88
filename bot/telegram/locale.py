"""Per-update language: handlers receive `texts` in the reader's language."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, User

from bot.i18n import Texts, Translator


class LocaleMiddleware(BaseMiddleware):
    """Customers read their Telegram language (English when unsupported); the managers'
    chat and admins read `manager_language`, available to handlers as `manager_texts`."""

    def __init__(self, translator: Translator, manager_language: str) -> None:
        self._translator = translator
        self._manager_texts = Texts(translator, manager_language)

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: User | None = data.get("event_from_user")
        data["texts"] = Texts(self._translator, user.language_code if user else None)
        data["manager_texts"] = self._manager_texts
        return await handler(event, data)
