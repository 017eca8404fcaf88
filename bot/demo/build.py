"""Building a demo database: its settings, and the plan played through the services."""

from __future__ import annotations

import secrets
from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Any

from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from bot.config import Settings
from bot.core.clock import FakeClock
from bot.demo.chain import COMPANY, DEMO_ADMIN_ID, HEAD_OFFICE_CHAT, TIMEZONE
from bot.demo.live import LivePlayer, LiveSummary
from bot.demo.plan import DEMO, DemoPlan, Scale
from bot.wiring import build_services
from storage.db import migrate

# Shaped like a token so that Settings accept it; the demo never talks to Telegram.
DEMO_BOT_TOKEN = "1:otklik-demo-no-telegram"
# Nothing listens there (and NoTelegram below never connects anywhere).
NO_TELEGRAM = "http://127.0.0.1:9"


class DemoSettings(Settings):
    """Settings made only of what the demo passes: no environment variable and no
    `.env` reaches them (an operator's PUBLIC_URL or MIN_SAMPLE must not change, or
    break, the demo)."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def demo_settings(database_url: str, **overrides: Any) -> Settings:
    """The demo chain's settings, never read from the environment or `.env`."""
    values: dict[str, Any] = {
        "bot_token": DEMO_BOT_TOKEN,
        "telegram_api_url": NO_TELEGRAM,
        "api_token": secrets.token_urlsafe(24),
        "manager_chat_id": HEAD_OFFICE_CHAT,
        "admin_ids": (DEMO_ADMIN_ID,),
        "database_url": database_url,
        "company_name": COMPANY,
        "timezone": TIMEZONE,
        "survey_cooldown_days": 14,
        "digest_at": "",
    }
    values.update(overrides)
    return DemoSettings(**values)


class NoTelegram(BaseSession):
    """The demo's Bot API session: it refuses every call without a byte on the network
    (a network error, which every caller already survives) and keeps its name in
    `calls`, which stays empty (the demo's tests check it)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    async def close(self) -> None:
        return None

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 - BaseSession's signature
    ) -> TelegramType:
        self.calls.append(method.__api_method__)
        raise TelegramNetworkError(method, "the demo never calls the Bot API")

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,  # noqa: ASYNC109 - BaseSession's signature
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        self.calls.append("download")
        raise RuntimeError("the demo never calls the Bot API")
        yield b""  # pragma: no cover - makes this an async generator


async def generate(
    settings: Settings,
    now: datetime,
    *,
    seed: int = 1,
    scale: Scale = DEMO,
    session: NoTelegram | None = None,
) -> LiveSummary:
    """Create the demo's data in the (migrated, empty) database of `settings`, ending
    at `now`, through the bot's services (whose Bot API session is `session`)."""
    clock = FakeClock(now)
    services = build_services(settings, clock, session=session or NoTelegram())
    await services.db.connect()
    try:
        await migrate(services.db)
        plan = DemoPlan(settings, now, seed=seed, scale=scale)
        summary = await LivePlayer(services, clock, plan).play()
    finally:
        await services.db.close()
        await services.bot.session.close()
    return summary
