"""Running the real bot against the fake Bot API server: the e2e tests' harness.

`BotHarness` starts FakeTelegram on 127.0.0.1 and the whole `Otklik` process (real
aiogram polling or webhook, delivery worker, scheduler, HTTP API, SQLite file) pointed
at it, with a FakeClock so that time-driven rules are tested without waiting.
"""

from __future__ import annotations

import itertools
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from bot.config import Settings
from bot.factory import Otklik
from bot.services.clock import FakeClock
from tests.conftest import API_TOKEN, MANAGER_CHAT_ID, make_settings
from tests.fake_telegram import FakeTelegram, SentMessage


@dataclass
class BotHarness:
    fake: FakeTelegram
    app: Otklik
    clock: FakeClock
    settings: Settings
    http: aiohttp.ClientSession

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.app.api_port}"

    async def post(
        self,
        path: str,
        body: Any = None,
        *,
        token: str | None = API_TOKEN,
        raw: bytes | None = None,
        content_type: str = "application/json",
    ) -> tuple[int, dict[str, Any]]:
        headers = {"Content-Type": content_type}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        data = raw if raw is not None else json.dumps(body).encode()
        async with self.http.post(self.api_url + path, data=data, headers=headers) as response:
            return response.status, await response.json()

    async def post_visit(self, telegram_id: int, visit_id: str, **fields: Any) -> dict[str, Any]:
        status, body = await self.post(
            "/api/v1/visits",
            {"visit_id": visit_id, "customer": {"telegram_id": telegram_id}, **fields},
        )
        assert status in (200, 201), body
        return body

    async def start_customer(self, user_id: int, name: str = "Ann", language: str = "en") -> None:
        """The customer opens the bot and presses Start."""
        self.fake.user(user_id, name, language)
        since = len(self.fake.sent)
        await self.fake.send_text(user_id, "/start")
        await self.fake.wait_for_message(user_id, since=since)
        # The last reply to Start offers to share the phone number.
        await self.fake.wait_for(
            lambda m: m.chat_id == user_id and m.reply_markup is not None, since=since
        )

    async def survey_for(self, user_id: int, since: int = 0) -> SentMessage:
        """Wait for the NPS question, and for the bot to have recorded sending it."""
        message = await self.fake.wait_for(
            lambda m: m.chat_id == user_id and len(m.callback_data) == 11, since=since
        )
        await self.app.worker.drain()
        return message

    async def press(self, user_id: int, message: SentMessage, label: str) -> None:
        button = next(b for b in message.buttons if b.get("text") == label)
        await self.fake.press(user_id, message.message_id, button["callback_data"])


WEBHOOK_PATH = "/telegram/webhook"

# Each fake starts its update ids where the last one stopped, as Telegram's go on when
# a bot restarts: the database remembers which ids were handled.
_FIRST_UPDATE_IDS = itertools.count(1, 100_000)


def free_port() -> int:
    """A TCP port free right now on 127.0.0.1 (the webhook URL must name it before bind)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@asynccontextmanager
async def running_bot(
    tmp_path: Path,
    clock: FakeClock | None = None,
    *,
    users: tuple[int, ...] = (),
    webhook: bool = False,
    **overrides: Any,
) -> AsyncIterator[BotHarness]:
    """`users` exist in Telegram before the bot starts (a restart delivers at once).

    With `webhook` the bot registers WEBHOOK_URL on its own API port and the fake
    pushes every update there instead of answering getUpdates."""
    fake = FakeTelegram(first_update_id=next(_FIRST_UPDATE_IDS))
    await fake.start()
    fake.group(MANAGER_CHAT_ID)
    for user_id in users:
        fake.user(user_id, "Ann", "en")
    clock = clock or FakeClock()
    if webhook and "webhook_url" not in overrides:
        port = free_port()
        overrides.update(api_port=port, webhook_url=f"http://127.0.0.1:{port}{WEBHOOK_PATH}")
    settings = make_settings(tmp_path, telegram_api_url=fake.url, **overrides)
    app = Otklik(
        settings,
        clock=clock,
        session=fake.make_bot().session,
        delivery_poll_seconds=0.05,
    )
    try:
        await app.start()
        async with aiohttp.ClientSession() as http:
            yield BotHarness(fake, app, clock, settings, http)
    finally:
        await app.stop()
        await fake.close()
