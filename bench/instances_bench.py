"""Delivery with 1 and 2 bot instances on PostgreSQL: rate, duplicates, lost.

N surveys fall due at one moment in a fresh PostgreSQL schema; then 1, and in a second
fresh schema 2, bot instances (each its own process, INSTANCE_COUNT set so that they
share SEND_RATE_PER_SECOND) deliver them to the fake Bot API server, which runs in
another process with its limits lifted and counts what each chat received. Paid
broadcast at 1000/s, so that the figure is the bot's own rate, not Telegram's. A third
run gives each of two instances the whole rate (INSTANCE_COUNT=1 in both, which no
deployment should do) to show the headroom beyond the configured rate.

    python -m bench.instances_bench                # 5,000 surveys (--dsn or TEST_POSTGRES_DSN)
    python -m bench.instances_bench --quick        # 1,000 surveys

Prints `name: value unit` lines; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import IO, Any
from urllib.parse import quote

import asyncpg
from pydantic import SecretStr

from bench.fake_server import FakeServerProcess
from bot.app import Otklik
from bot.config import Settings
from bot.core.clock import to_ms
from bot.visits.service import VisitRequest
from storage import customers
from storage.customers import TelegramProfile
from storage.db import migrate

TOKEN = "123456:BENCH-TOKEN"
FIRST_USER = 10_000
RATE = 1000.0  # the most SEND_RATE_PER_SECOND allows, with PAID_BROADCAST
FINAL = "('sent', 'failed', 'expired')"

# The fake Bot API server, with no rate limits; on stdin's end it prints what the chats
# received: total accepted sendMessage calls, chats with more than one, chats with none.
FAKE_SERVER = """
import asyncio, collections, json, sys
from tests.support.fake_telegram import FakeTelegram

async def main():
    users = int(sys.argv[1])
    fake = FakeTelegram(sys.argv[2])
    for user_id in range({first}, {first} + users):
        fake.user(user_id)
    fake.group(-1001)
    await fake.start()
    print(fake.url, flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    per_chat = collections.Counter(
        int(r.chat_id) for r in fake.calls("sendMessage") if r.ok and int(r.chat_id) > 0
    )
    print(json.dumps({
        "messages": sum(per_chat.values()),
        "duplicates": sum(1 for n in per_chat.values() if n > 1),
        "lost": sum(1 for u in range({first}, {first} + users) if per_chat[u] == 0),
        "too_many_requests": fake.too_many_requests,
    }), flush=True)
    await fake.close()

asyncio.run(main())
""".replace("{first}", str(FIRST_USER))


def settings_for(fake_url: str, database_url: str, instance: str, count: int) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        bot_token=SecretStr(TOKEN),
        api_token=SecretStr("bench-api-token-0123456789"),
        manager_chat_id=-1001,
        telegram_api_url=fake_url,
        database_url=database_url,
        api_port=0,
        survey_delay_seconds=0,
        survey_cooldown_days=0,
        send_rate_per_second=RATE,
        paid_broadcast=True,
        instance_id=instance,
        instance_count=count,
        digest_at="",
        log_level="WARNING",
    )


# --- a fresh PostgreSQL schema per run ---------------------------------------------------


@asynccontextmanager
async def fresh_schema(dsn: str) -> Any:
    """An empty schema of its own (dropped afterwards): the DATABASE_URL naming it."""
    schema = f"otk_bench_{int(time.time())}_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(dsn)
    try:
        await admin.execute(f'CREATE SCHEMA "{schema}"')
        separator = "&" if "?" in dsn else "?"
        yield f"{dsn}{separator}search_path={quote(schema)}"
    finally:
        await admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await admin.close()


async def prepare(fake_url: str, database_url: str, surveys: int) -> None:
    """Migrate, add the customers and register one visit each while no worker runs, so
    that every survey is due at the same moment."""
    app = Otklik(settings_for(fake_url, database_url, "setup", 1), polling=False)
    await app.db.connect()
    try:
        await migrate(app.db)
        now = to_ms(app.clock.now())
        async with app.db.transaction() as conn:
            for user_id in range(FIRST_USER, FIRST_USER + surveys):
                profile = TelegramProfile(user_id, "Ann", None, "en")
                await customers.upsert_telegram(conn, profile, now)
        slots = asyncio.Semaphore(8)

        async def register(user_id: int) -> None:
            async with slots:
                await app.visits.register(VisitRequest(f"bench-{user_id}", telegram_id=user_id))

        await asyncio.gather(*(register(u) for u in range(FIRST_USER, FIRST_USER + surveys)))
    finally:
        await app.db.close()
        await app.bot.session.close()


async def finished(database_url: str, total: int, started_ms: int) -> tuple[float, float]:
    """Wait until every row has ended; returns (seconds from start to the last row's
    end, seconds from the first row's end to the last)."""
    conn = await asyncpg.connect(database_url)
    try:
        while True:
            done = await conn.fetchval(f"SELECT COUNT(*) FROM outbox WHERE status IN {FINAL}")
            if done >= total:
                break
            await asyncio.sleep(0.1)
        first, last = await conn.fetchrow(
            f"SELECT MIN(finished_at), MAX(finished_at) FROM outbox WHERE status IN {FINAL}"
        )
    finally:
        await conn.close()
    return (last - started_ms) / 1000, (last - first) / 1000


# --- one instance, in its own process ----------------------------------------------------


async def serve_instance(fake_url: str, database_url: str, name: str, count: int) -> None:
    """Build the bot, say `ready`, start on `go`, stop gracefully on the next line."""
    app = Otklik(settings_for(fake_url, database_url, name, count), polling=False)
    print("ready", flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.readline)
    await app.start()
    await loop.run_in_executor(None, sys.stdin.readline)
    await app.stop()


@contextmanager
def instances(fake_url: str, database_url: str, count: int, share: int) -> Iterator[list[IO[str]]]:
    """`count` instance processes, built and waiting, each told INSTANCE_COUNT=`share`;
    yields their stdins."""
    processes = [
        subprocess.Popen(
            [
                *(sys.executable, "-m", "bench.instances_bench", "--serve-instance", f"bench-{i}"),
                *("--fake-url", fake_url, "--database-url", database_url),
                *("--count", str(share)),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(1, count + 1)
    ]
    try:
        for process in processes:
            assert process.stdout is not None
            assert process.stdout.readline().strip() == "ready"
        yield [process.stdin for process in processes if process.stdin is not None]
    finally:
        for process in processes:
            if process.stdin is not None and not process.stdin.closed:
                process.stdin.close()
            process.wait(timeout=60)


async def run(dsn: str, surveys: int, count: int, name: str, share: int | None = None) -> float:
    """Deliver `surveys` with `count` instances that split the rate `share` ways (by
    default `count`, as deployed); prints its lines, returns the rate."""
    server = FakeServerProcess(FAKE_SERVER, str(surveys), TOKEN)
    async with fresh_schema(dsn) as database_url:
        await prepare(server.url, database_url, surveys)
        with instances(server.url, database_url, count, share or count) as stdins:
            started_ms = int(time.time() * 1000)
            for stdin in stdins:
                stdin.write("go\n")
                stdin.flush()
            elapsed, sending = await finished(database_url, surveys, started_ms)
            for stdin in stdins:
                stdin.write("stop\n")
                stdin.flush()
    received = server.stop()
    rate = surveys / elapsed
    print(f"{name}_achieved_rate: {rate:.1f} per second")
    print(f"{name}_sending_rate: {surveys / max(sending, 0.001):.1f} per second")
    print(f"{name}_elapsed: {elapsed:.2f} s")
    print(f"{name}_messages_received: {received['messages']} messages")
    print(f"{name}_duplicates: {received['duplicates']} chats")
    print(f"{name}_lost: {received['lost']} customers")
    print(f"{name}_429_responses: {received['too_many_requests']} responses")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1,000 surveys instead of 5,000")
    parser.add_argument("--surveys", type=int, default=None)
    parser.add_argument("--dsn", default=os.environ.get("TEST_POSTGRES_DSN"))
    parser.add_argument("--serve-instance", help=argparse.SUPPRESS)
    parser.add_argument("--fake-url", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_instance:
        asyncio.run(
            serve_instance(args.fake_url, args.database_url, args.serve_instance, args.count)
        )
        return
    if not args.dsn:
        parser.error("PostgreSQL needed: pass --dsn or set TEST_POSTGRES_DSN")
    surveys = args.surveys or (1_000 if args.quick else 5_000)
    print(f"instances_surveys: {surveys} messages")
    print(f"instances_configured_rate: {RATE:.0f} per second (shared by the instances)")
    one = asyncio.run(run(args.dsn, surveys, 1, "instances_1"))
    two = asyncio.run(run(args.dsn, surveys, 2, "instances_2"))
    print(f"instances_rate_ratio: {two / one:.2f} x (2 instances / 1)")
    # Headroom, not a deployment: each of the two believes it is alone (INSTANCE_COUNT=1),
    # so together they may send twice the configured rate; shows whether they could.
    full = asyncio.run(run(args.dsn, surveys, 2, "instances_2_each_full_rate", share=1))
    print(f"instances_headroom_ratio: {full / one:.2f} x (2 instances at full rate each / 1)")


if __name__ == "__main__":
    main()
