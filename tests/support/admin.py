"""Customers with a relationship date, and an admin talking to a running bot."""

from __future__ import annotations

from typing import Any

from tests.support.harness import BotHarness
from tests.support.settings import ADMIN_ID


async def add_customer(
    h: BotHarness, user_id: int, name: str, language: str, since: str, **flags: int
) -> None:
    await h.start_customer(user_id, name, language)
    sets = ", ".join(f"{column} = :{column}" for column in flags)
    async with h.app.db.transaction() as conn:
        await conn.execute(
            "UPDATE customers SET customer_since = :since, since_md = :md"
            + (f", {sets}" if sets else "")
            + " WHERE telegram_id = :tg",
            {"since": since, "md": since[5:], "tg": user_id, **flags},
        )


def thank_yous(h: BotHarness, user_id: int) -> list[Any]:
    return [
        m
        for m in h.fake.messages_to(user_id)
        if "thank you for being" in m.text.lower() or "спасибо" in m.text.lower()
    ]


async def admin_says(h: BotHarness, text: str, admin: int = ADMIN_ID) -> Any:
    since = len(h.fake.sent)
    await h.fake.send_text(admin, text)
    return await h.fake.wait_for_message(admin, since=since)
