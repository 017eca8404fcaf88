"""Surveys in bulk for the tests that kill instances mid-burst: customers and their
visits posted through the instances' APIs, the surveys the fake Bot API received, and
what the database says of their outbox rows."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Collection
from typing import Any

from bot.core.clock import FakeClock, to_ms
from storage import customers
from storage.customers import TelegramProfile
from storage.db import Database
from tests.support.fake_telegram import FakeTelegram, RecordedRequest
from tests.support.harness import Member

POLL = 0.01


def is_survey(request: RecordedRequest) -> bool:
    """The survey's first message: the NPS question with 11 buttons."""
    markup = request.params.get("reply_markup") or {}
    rows = markup.get("inline_keyboard") or [] if isinstance(markup, dict) else []
    return request.method == "sendMessage" and sum(len(row) for row in rows) == 11


def accepted(
    fake: FakeTelegram, method: str, kind: Callable[[RecordedRequest], bool]
) -> Counter[int]:
    """Chats of the calls the fake accepted: how many each chat received."""
    return Counter(
        int(request.chat_id) for request in fake.calls(method) if request.ok and kind(request)
    )


def surveys_at(fake: FakeTelegram) -> Counter[int]:
    return accepted(fake, "sendMessage", is_survey)


async def seed_customers(db: Database, clock: FakeClock, users: range) -> None:
    now = to_ms(clock.now())
    async with db.transaction() as conn:
        for user_id in users:
            await customers.upsert_telegram(conn, TelegramProfile(user_id, "Ann", None, "en"), now)


async def post_visits(members: list[Member], users: range) -> None:
    """One visit per customer, posted to the instances' APIs in turn, 16 at a time."""
    slots = asyncio.Semaphore(16)

    async def post(index: int, user_id: int) -> None:
        async with slots:
            body = await members[index % len(members)].harness.post_visit(
                user_id, f"pos-{user_id}"
            )
        assert body["status"] == "scheduled", body

    await asyncio.gather(*(post(i, user_id) for i, user_id in enumerate(users)))


async def outbox_rows(db: Database, where: str = "TRUE", **params: Any) -> list[dict[str, Any]]:
    async with db.read() as conn:
        return await conn.fetch_all(f"SELECT * FROM outbox WHERE {where} ORDER BY id", params)


async def ids_of(db: Database, where: str, **params: Any) -> set[int]:
    return {int(row["id"]) for row in await outbox_rows(db, where, **params)}


async def unfinished(db: Database) -> set[int]:
    return await ids_of(db, "status NOT IN ('sent', 'failed', 'expired')")


async def until(check: Callable[[], Awaitable[bool]], what: str, seconds: float = 30.0) -> None:
    """Poll an async condition (the database is the record) until it holds."""
    for _ in range(int(seconds / POLL)):
        if await check():
            return
        await asyncio.sleep(POLL)
    raise AssertionError(f"timed out waiting for {what}")


async def until_unfinished_is(db: Database, expected: Collection[int], what: str) -> None:
    async def check() -> bool:
        return await unfinished(db) == set(expected)

    await until(check, what)
