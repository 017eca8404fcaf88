"""Building a demo database: its settings, and the plan played through the services."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from bot.config import Settings
from bot.core.clock import FakeClock
from bot.demo.chain import COMPANY, DEMO_ADMIN_ID, HEAD_OFFICE_CHAT, TIMEZONE
from bot.demo.live import LivePlayer, LiveSummary
from bot.demo.plan import DEMO, DemoPlan, Scale
from bot.wiring import build_services
from storage.db import migrate

# Shaped like a token so that Settings accept it; the demo never talks to Telegram.
DEMO_BOT_TOKEN = "1:otklik-demo-no-telegram"
# Nothing listens there: were anything to call the Bot API, it would fail at once.
NO_TELEGRAM = "http://127.0.0.1:9"


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
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


async def generate(
    settings: Settings, now: datetime, *, seed: int = 1, scale: Scale = DEMO
) -> LiveSummary:
    """Create the demo's data in the (migrated, empty) database of `settings`, ending
    at `now`, through the bot's services."""
    clock = FakeClock(now)
    services = build_services(settings, clock)
    await services.db.connect()
    try:
        await migrate(services.db)
        plan = DemoPlan(settings, now, seed=seed, scale=scale)
        summary = await LivePlayer(services, clock, plan).play()
    finally:
        await services.db.close()
        await services.bot.session.close()
    return summary
