"""Settings for a bot under test: fixed tokens, chat ids and never the developer's .env."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.config import Settings

BOT_TOKEN = "123456:TEST-TOKEN"
API_TOKEN = "test-api-token-0123456789"
MANAGER_CHAT_ID = -1001
ADMIN_ID = 900


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings for tests, never read from the developer's .env."""
    values: dict[str, Any] = {
        "bot_token": BOT_TOKEN,
        "api_token": API_TOKEN,
        "manager_chat_id": MANAGER_CHAT_ID,
        "admin_ids": (ADMIN_ID,),
        "database_url": f"sqlite:///{tmp_path / 'otklik.sqlite3'}",
        "api_port": 0,
        "survey_delay_seconds": 0,
        "digest_at": "",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]
