"""Telegram's webhook POSTs, served on the API's aiohttp app.

The update is handled before the answer, so a failure answers 500 and Telegram
redelivers it (the update-once middleware released its claim); a success answers
200 with an empty JSON object. The secret token is compared in constant time and
never logged.
"""

from __future__ import annotations

import hmac
import logging

from aiogram import Bot, Dispatcher
from aiogram.types import Update
from aiohttp import web
from pydantic import ValidationError

from bot.api.routes import decode_json_object

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Far above any real update (texts are at most 4096 characters), far below harm.
MAX_UPDATE_BYTES = 1024 * 1024


class WebhookHandler:
    """POST handler for WEBHOOK_URL's path: verify, parse, feed the dispatcher."""

    def __init__(self, dispatcher: Dispatcher, bot: Bot, secret_token: str) -> None:
        self._dispatcher = dispatcher
        self._bot = bot
        self._secret = secret_token.encode()

    async def handle(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            logger.warning("webhook: refused a POST without the right secret token")
            return _error(401, "missing or wrong secret token")
        raw = await _read_limited(request, MAX_UPDATE_BYTES)
        if raw is None:
            return _error(413, "body too large")
        body = decode_json_object(raw)
        if isinstance(body, str):
            return _error(400, body)
        try:
            update = Update.model_validate(body, context={"bot": self._bot})
        except ValidationError:
            return _error(400, "not a Telegram update")
        try:
            await self._dispatcher.feed_update(self._bot, update)
        except Exception:
            logger.exception("webhook: update %d failed; Telegram redelivers it", update.update_id)
            return _error(500, "update failed")
        return web.json_response({})


async def _read_limited(request: web.Request, limit: int) -> bytes | None:
    """The body, or None when it exceeds `limit` (read no further than that)."""
    if request.content_length is not None and request.content_length > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"ok": False, "error": message}, status=status)
