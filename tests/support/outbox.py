"""Delivery workers on their own: a plain note kind, a worker sending through aiogram to
the fake Bot API server, the rows it works on and what reached the server."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import AsyncIterator

from bot.core.clock import FakeClock, to_ms
from bot.outbox.contracts import Outgoing, Priority, SendError, SendResult
from bot.outbox.limiter import RateLimiter
from bot.outbox.sender import AiogramSender
from bot.outbox.worker import DeliveryWorker
from storage import outbox
from storage.db import Connection, Database
from storage.models import OutboxItem
from tests.support.fake_telegram import FakeTelegram

FIRST_CHAT = 7000


class NoteRenderer:
    """A plain text kind for these tests; remembers which rows it was told failed."""

    def __init__(self) -> None:
        self.failed: list[tuple[int, str]] = []

    async def render(self, item: OutboxItem) -> Outgoing | None:
        return Outgoing(chat_id=item.chat_id, text=f"note {item.id}")

    async def on_sent(self, conn: Connection, item: OutboxItem, result: SendResult) -> None:
        """Nothing beyond the outbox row."""

    async def on_failed(self, conn: Connection, item: OutboxItem, error: SendError) -> None:
        self.failed.append((item.id, error.reason))


@contextlib.asynccontextmanager
async def fake_telegram(chats: int) -> AsyncIterator[FakeTelegram]:
    fake = FakeTelegram()
    for chat_id in range(FIRST_CHAT, FIRST_CHAT + chats):
        fake.user(chat_id)
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()


@contextlib.asynccontextmanager
async def worker(
    db: Database, clock: FakeClock, fake: FakeTelegram, owner: str, rate: float = 1000, **kw: float
) -> AsyncIterator[tuple[DeliveryWorker, NoteRenderer]]:
    bot = fake.make_bot()
    renderer = NoteRenderer()
    delivery = DeliveryWorker(
        db,
        clock,
        AiogramSender(bot),
        {"note": renderer},
        RateLimiter(rate),
        owner=owner,
        idle_poll=0.02,
        **kw,  # type: ignore[arg-type]
    )
    try:
        yield delivery, renderer
    finally:
        await delivery.stop()
        await bot.session.close()


async def enqueue_notes(db: Database, clock: FakeClock, chats: int) -> None:
    now = to_ms(clock.now())
    async with db.transaction() as conn:
        for chat_id in range(FIRST_CHAT, FIRST_CHAT + chats):
            await outbox.enqueue(
                conn, kind="note", chat_id=chat_id, priority=Priority.SURVEY, due_at=now, now=now
            )


async def rows(db: Database) -> list[OutboxItem]:
    async with db.read() as conn:
        found = await conn.fetch_all("SELECT * FROM outbox ORDER BY id")
    return [OutboxItem.from_row(row) for row in found]


def deliveries(fake: FakeTelegram) -> Counter[int]:
    return Counter(message.chat_id for message in fake.sent)
