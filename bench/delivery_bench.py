"""Delivery benchmark: the real bot (delivery worker, SQLite, aiogram client) against the
fake Bot API server running in another process with Telegram-like limits.

    python -m bench.delivery_bench                 # every part, full sizes (~25 minutes)
    python -m bench.delivery_bench --quick         # every part, short sizes (~2 minutes)
    python -m bench.delivery_bench --part paid     # one part (repeat --part for more)

Parts: burst (20,000 surveys due at once at SEND_RATE_PER_SECOND=25 against Telegram's
limits: rate, 429s, lateness, CPU, peak RSS), paid (the same at 1000/s, limits lifted),
steady (5 visits/s for 2 minutes, 1 s delay: lateness), idle and pending (RSS of the
running bot with 0 and with 100,000 surveys due later), beside the RSS of a process
that only imports aiogram. --quick: 500 burst, 3,000 paid, 20 s steady, 5,000 pending.

Prints `name: value unit` lines; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pydantic import SecretStr

from bench.fake_server import FakeServerProcess, percentile
from bot.app import Otklik
from bot.config import Settings
from bot.core.clock import to_ms
from storage import customers
from storage.customers import TelegramProfile

TOKEN = "123456:BENCH-TOKEN"
FIRST_USER = 10_000

FAKE_SERVER = """
import asyncio, json, sys, time
from tests.support.fake_telegram import FakeTelegram

async def main():
    users, limits = int(sys.argv[1]), sys.argv[2] == "telegram"
    fake = FakeTelegram(sys.argv[3])
    for user_id in range({first}, {first} + users):
        fake.user(user_id)
    fake.group(-1001)
    if limits:
        fake.set_rate_limits(global_per_second=30, per_chat_per_second=1)
    await fake.start()
    print(fake.url, flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    print(json.dumps([fake.too_many_requests, time.process_time()]), flush=True)
    await fake.close()

asyncio.run(main())
""".replace("{first}", str(FIRST_USER))


def rss_mb() -> float:
    """Peak RSS of this program. VmHWM, not getrusage's ru_maxrss: Linux carries
    ru_maxrss over fork and exec, so a child started by a process that had imported
    the bot would report the parent's size as its own peak."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


FLOOR = """
import aiogram
status = open("/proc/self/status").read().splitlines()
print(next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")))
"""


def aiogram_floor_mb() -> float:
    """Peak RSS of a fresh process that only imports aiogram."""
    out = subprocess.run([sys.executable, "-c", FLOOR], capture_output=True, text=True, check=True)
    return int(out.stdout) / 1024


def settings_for(url: str, database: Path, rate: float, paid: bool, delay: int) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        bot_token=SecretStr(TOKEN),
        api_token=SecretStr("bench-api-token-0123456789"),
        manager_chat_id=-1001,
        telegram_api_url=url,
        database_url=f"sqlite:///{database}",
        api_port=0,
        survey_delay_seconds=delay,
        survey_cooldown_days=0,
        send_rate_per_second=rate,
        paid_broadcast=paid,
        digest_at="",
        log_level="WARNING",
    )


async def seed_customers(app: Otklik, count: int) -> None:
    now = to_ms(app.clock.now())
    async with app.db.transaction() as conn:
        for user_id in range(FIRST_USER, FIRST_USER + count):
            await customers.upsert_telegram(conn, TelegramProfile(user_id, "Ann", None, "en"), now)


async def register(app: Otklik, start: int, count: int, prefix: str) -> None:
    from bot.visits.service import VisitRequest

    for user_id in range(start, start + count):
        await app.visits.register(VisitRequest(f"{prefix}-{user_id}", telegram_id=user_id))


async def outbox_done(app: Otklik, total: int) -> bool:
    async with app.db.read() as conn:
        row = await conn.fetch_one(
            "SELECT COUNT(*) AS n FROM outbox WHERE status IN ('sent', 'failed', 'expired')"
        )
    return row is not None and int(row["n"]) >= total


async def wait_until_done(app: Otklik, total: int) -> None:
    # The database is the record of what was delivered, so the benchmark polls it.
    while not await outbox_done(app, total):  # noqa: ASYNC110
        await asyncio.sleep(0.2)


async def lateness_ms(app: Otklik) -> list[float]:
    async with app.db.read() as conn:
        rows = await conn.fetch_all(
            "SELECT finished_at - due_at AS late FROM outbox WHERE status = 'sent'"
        )
    return [float(row["late"]) for row in rows]


async def burst(name: str, surveys: int, rate: float, paid: bool) -> None:
    """`surveys` surveys due at the same moment: rate, 429s, lateness, RSS, CPU."""
    server = FakeServerProcess(FAKE_SERVER, str(surveys), "none" if paid else "telegram", TOKEN)
    with tempfile.TemporaryDirectory() as folder:
        app = Otklik(
            settings_for(server.url, Path(folder) / "bench.sqlite3", rate, paid, 0),
            polling=False,
        )
        await app.db.connect()
        from storage.db import migrate

        await migrate(app.db)
        await seed_customers(app, surveys)
        # Register while the worker is not running, so every survey is due at once.
        await register(app, FIRST_USER, surveys, name)
        await app.db.close()
        cpu0, t0 = time.process_time(), time.monotonic()
        await app.start()
        await wait_until_done(app, surveys)
        elapsed, cpu = time.monotonic() - t0, time.process_time() - cpu0
        late = await lateness_ms(app)
        floods = app.limiter.floods
        await app.stop()
    server_429, server_cpu = server.stop()
    print(f"{name}_surveys: {surveys} messages")
    print(f"{name}_configured_rate: {rate:.0f} per second")
    print(f"{name}_achieved_rate: {surveys / elapsed:.1f} per second")
    print(f"{name}_rate_ratio: {surveys / elapsed / rate:.3f} x configured")
    print(f"{name}_429_responses: {server_429} responses ({floods} seen by the bot)")
    print(f"{name}_lateness_p50: {percentile(late, 0.5) / 1000:.2f} s")
    print(f"{name}_lateness_p99: {percentile(late, 0.99) / 1000:.2f} s")
    print(f"{name}_lateness_max: {max(late, default=0) / 1000:.2f} s")
    print(f"{name}_cpu_per_message: {cpu / surveys * 1000:.3f} ms")
    print(f"{name}_fake_server_cpu_per_message: {server_cpu / surveys * 1000:.3f} ms")
    print(f"{name}_peak_rss: {rss_mb():.1f} MB")


async def steady(seconds: int) -> None:
    """5 visits per second with a 1-second delay: lateness under normal load."""
    visits = 5 * seconds
    server = FakeServerProcess(FAKE_SERVER, str(visits), "telegram", TOKEN)
    with tempfile.TemporaryDirectory() as folder:
        app = Otklik(
            settings_for(server.url, Path(folder) / "bench.sqlite3", 25, False, 1),
            polling=False,
        )
        await app.start()
        await seed_customers(app, visits)
        for second in range(seconds):
            tick = time.monotonic()
            await register(app, FIRST_USER + second * 5, 5, "steady")
            await asyncio.sleep(max(0.0, 1 - (time.monotonic() - tick)))
        await wait_until_done(app, visits)
        late = await lateness_ms(app)
        await app.stop()
    server.stop()
    print(f"steady_visits: {visits} visits over {seconds} s")
    print(f"steady_lateness_p50: {percentile(late, 0.5) / 1000:.3f} s")
    print(f"steady_lateness_p99: {percentile(late, 0.99) / 1000:.3f} s")
    print(f"steady_lateness_max: {max(late, default=0) / 1000:.3f} s")


async def pending_memory(pending: int) -> None:
    """RSS of the running bot with `pending` surveys due in 20 minutes: pending work
    stays in the database, so 0 and 100,000 should cost the same memory."""
    server = FakeServerProcess(FAKE_SERVER, str(max(pending, 1)), "telegram", TOKEN)
    with tempfile.TemporaryDirectory() as folder:
        app = Otklik(
            settings_for(server.url, Path(folder) / "bench.sqlite3", 25, False, 1200),
            polling=False,
        )
        await app.db.connect()
        from storage.db import migrate

        await migrate(app.db)
        await seed_customers(app, pending)
        await register(app, FIRST_USER, pending, "pending")
        await app.db.close()
        # Measured in a fresh process state: registering above is the API's work, not
        # the waiting bot's. The worker, scheduler and maintenance run a few rounds.
        await app.start()
        await asyncio.sleep(5)
        await app.maintenance()
        running = current_rss_mb()
        await app.stop()
    server.stop()
    print(f"pending_{pending}_surveys: {pending} surveys due later")
    print(f"pending_{pending}_rss: {running:.1f} MB")


def current_rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return rss_mb()


PARTS = ["burst", "paid", "steady", "idle", "pending"]


def run_part(part: str, quick: bool) -> None:
    if part == "burst":
        asyncio.run(burst("burst", 500 if quick else 20_000, 25, False))
    elif part == "paid":
        asyncio.run(burst("paid", 3_000 if quick else 20_000, 1000, True))
    elif part == "steady":
        asyncio.run(steady(20 if quick else 120))
    elif part == "idle":
        asyncio.run(pending_memory(0))
    else:
        asyncio.run(pending_memory(5_000 if quick else 100_000))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="short but real sizes: about two minutes in all"
    )
    parser.add_argument(
        "--part",
        "--only",
        dest="parts",
        choices=PARTS,
        action="append",
        help="run only this part (repeatable); default: all",
    )
    args = parser.parse_args()
    parts = args.parts or PARTS
    if len(parts) == 1:
        run_part(parts[0], args.quick)
        return
    print(f"aiogram_import_floor_rss: {aiogram_floor_mb():.1f} MB", flush=True)
    # Each part runs in its own process so that its RSS belongs to that part alone.
    for part in parts:
        command = [sys.executable, "-m", "bench.delivery_bench", "--part", part]
        subprocess.run(command + (["--quick"] if args.quick else []), check=True)


if __name__ == "__main__":
    main()
