"""Update-handling benchmark: survey answers (button presses) through Otklik's real
dispatcher, middlewares, handlers and storage (SQLite, and PostgreSQL when a server
is named), beside the same presses through a bare aiogram Dispatcher whose one
handler stores nothing and answers the callback.

    python -m bench.updates_bench            # 10,000 presses (5,000 surveys: NPS then CES)
    python -m bench.updates_bench --quick    # 1,000 presses
    python -m bench.updates_bench --dsn postgresql://...   # also on PostgreSQL
                                             # (default: TEST_POSTGRES_DSN, if set)

Both bots use a session that answers every Bot API call locally (no HTTP), so the
figures compare the bot's own work per update, not a network. Updates are fed with
`Dispatcher.feed_update`, up to 64 at a time as polling would. Prints
`name: value unit` lines; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
import time
from collections.abc import AsyncGenerator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.base import BaseSession
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import CallbackQuery, Update
from pydantic import SecretStr

from bench.instances_bench import fresh_schema
from bot.app import Otklik
from bot.config import Settings
from bot.core.clock import to_ms
from bot.visits.service import VisitRequest
from storage import customers, surveys
from storage.customers import TelegramProfile
from storage.db import migrate

TOKEN = "123456:BENCH-TOKEN"
BOT_ID = 123456
FIRST_USER = 10_000
IN_FLIGHT = 64


class LocalSession(BaseSession):
    """Answers every call at once, as Telegram would answer it successfully."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 - BaseSession signature
    ) -> TelegramType:
        self.calls += 1
        # answerCallbackQuery, editMessageText, editMessageReplyMarkup: True is a valid
        # answer to each; nothing else is called while answering a survey.
        return True  # type: ignore[return-value]

    async def close(self) -> None:
        """Nothing to close."""

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,  # noqa: ASYNC109 - BaseSession signature
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:  # pragma: no cover
        yield b""


def settings_for(database_url: str) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        bot_token=SecretStr(TOKEN),
        api_token=SecretStr("bench-api-token-0123456789"),
        manager_chat_id=-1001,
        database_url=database_url,
        api_port=0,
        survey_delay_seconds=0,
        survey_cooldown_days=0,
        digest_at="",
        log_level="WARNING",
    )


def press(update_id: int, user_id: int, message_id: int, data: str) -> dict[str, Any]:
    user = {"id": user_id, "is_bot": False, "first_name": "Ann", "language_code": "en"}
    return {
        "update_id": update_id,
        "callback_query": {
            "id": str(update_id),
            "from": user,
            "chat_instance": str(user_id),
            "data": data,
            "message": {
                "message_id": message_id,
                "date": int(datetime.now(UTC).timestamp()),
                "chat": {"id": user_id, "type": "private", "first_name": "Ann"},
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "Otklik"},
                "text": "How likely are you to recommend us?",
            },
        },
    }


async def seed_sent_surveys(app: Otklik, count: int) -> list[tuple[int, int]]:
    """`count` customers, each with one survey already sent: (user id, survey id)."""
    now = to_ms(app.clock.now())
    async with app.db.transaction() as conn:
        for user_id in range(FIRST_USER, FIRST_USER + count):
            await customers.upsert_telegram(conn, TelegramProfile(user_id, "Ann", None, "en"), now)
    pairs: list[tuple[int, int]] = []
    for user_id in range(FIRST_USER, FIRST_USER + count):
        outcome = await app.visits.register(VisitRequest(f"bench-{user_id}", telegram_id=user_id))
        assert outcome.survey_id is not None, outcome
        pairs.append((user_id, outcome.survey_id))
    async with app.db.transaction() as conn:
        for user_id, survey_id in pairs:
            await surveys.mark_sent(
                conn,
                survey_id,
                chat_id=user_id,
                message_id=survey_id,
                language="en",
                sent_at=now,
                expires_at=now + 86_400_000,
            )
    return pairs


def answer_updates(bot: Bot, pairs: list[tuple[int, int]], seed: int = 7) -> list[Update]:
    """An NPS press, then a CES press, for every survey: realistic scores, so that some
    answers are detractors and open cases."""
    rng = random.Random(seed)
    updates: list[Update] = []
    for step, low, high in (("n", 0, 10), ("c", 1, 7)):
        for user_id, survey_id in pairs:
            data = f"sv1:{survey_id}:{step}:{rng.randint(low, high)}"
            raw = press(len(updates) + 1, user_id, survey_id, data)
            updates.append(Update.model_validate(raw, context={"bot": bot}))
    return updates


async def feed(dispatcher: Dispatcher, bot: Bot, updates: list[Update]) -> float:
    """Seconds to handle every update, IN_FLIGHT at a time."""
    slots = asyncio.Semaphore(IN_FLIGHT)

    async def one(update: Update) -> None:
        async with slots:
            await dispatcher.feed_update(bot, update)

    started = time.perf_counter()
    await asyncio.gather(*(one(update) for update in updates))
    return time.perf_counter() - started


async def otklik_rate(presses: int, database_url: str) -> tuple[float, float, int]:
    """Answers per second through the real bot; CPU ms per answer; answers stored."""
    session = LocalSession()
    app = Otklik(settings_for(database_url), session=session, polling=False)
    await app.db.connect()
    try:
        await migrate(app.db)
        pairs = await seed_sent_surveys(app, presses // 2)
        updates = answer_updates(app.bot, pairs)
        cpu = time.process_time()
        elapsed = await feed(app.dispatcher, app.bot, updates)
        cpu = time.process_time() - cpu
        async with app.db.read() as conn:
            row = await conn.fetch_one(
                "SELECT COUNT(nps) + COUNT(ces) AS n FROM surveys WHERE status <> 'scheduled'"
            )
    finally:
        await app.db.close()
    stored = int(row["n"]) if row else 0
    return len(updates) / elapsed, cpu / len(updates) * 1000, stored


async def sqlite_rate(presses: int) -> tuple[float, float, int]:
    with tempfile.TemporaryDirectory() as folder:
        return await otklik_rate(presses, f"sqlite:///{Path(folder) / 'bench.sqlite3'}")


async def postgres_rate(presses: int, dsn: str) -> tuple[float, float, int]:
    async with fresh_schema(dsn) as database_url:
        return await otklik_rate(presses, database_url)


async def bare_rate(presses: int) -> tuple[float, float]:
    """The same presses through aiogram alone: one handler that answers the callback."""
    bot = Bot(TOKEN, session=LocalSession())
    router = Router()

    async def answer(query: CallbackQuery) -> None:
        await query.answer()

    router.callback_query.register(answer)
    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    pairs = [(FIRST_USER + index, index + 1) for index in range(presses // 2)]
    updates = answer_updates(bot, pairs)
    cpu = time.process_time()
    elapsed = await feed(dispatcher, bot, updates)
    cpu = time.process_time() - cpu
    return len(updates) / elapsed, cpu / len(updates) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1,000 presses instead of 10,000")
    parser.add_argument(
        "--dsn",
        default=os.environ.get("TEST_POSTGRES_DSN"),
        help="also measure on this PostgreSQL server (a schema of its own, dropped after)",
    )
    args = parser.parse_args()
    presses = 1_000 if args.quick else 10_000
    bare, bare_cpu = asyncio.run(bare_rate(presses))
    real, real_cpu, stored = asyncio.run(sqlite_rate(presses))
    print(f"updates_presses: {presses} callback queries")
    print(f"updates_stored_answers: {stored} answers")
    print(f"updates_otklik_rate: {real:.0f} answers per second")
    print(f"updates_otklik_cpu_per_answer: {real_cpu:.3f} ms")
    print(f"updates_bare_aiogram_rate: {bare:.0f} answers per second")
    print(f"updates_bare_aiogram_cpu_per_answer: {bare_cpu:.3f} ms")
    print(f"updates_ratio: {real / bare:.3f} x bare aiogram")
    if not args.dsn:
        print("updates_postgres: skipped (no --dsn and TEST_POSTGRES_DSN is not set)")
        return
    pg, pg_cpu, pg_stored = asyncio.run(postgres_rate(presses, args.dsn))
    print(f"updates_postgres_stored_answers: {pg_stored} answers")
    print(f"updates_postgres_rate: {pg:.0f} answers per second")
    print(f"updates_postgres_cpu_per_answer: {pg_cpu:.3f} ms")
    print(f"updates_postgres_ratio: {pg / bare:.3f} x bare aiogram")


if __name__ == "__main__":
    main()
