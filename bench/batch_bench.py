"""Batch intake benchmark: POST /api/v1/visits:batch (1,000 visits a request) beside
POST /api/v1/visits (one a request), through the real HTTP API (aiohttp on 127.0.0.1,
the bot's own services and storage) in the same process, on SQLite (and PostgreSQL when
a server is named).

    python -m bench.batch_bench            # 20,000 visits in batches, 2,000 one by one
    python -m bench.batch_bench --quick    # 5,000 and 500
    python -m bench.batch_bench --dsn postgresql://...   # also on PostgreSQL
                                           # (default: TEST_POSTGRES_DSN, if set)

Every visit names its own customer, who is in Telegram (4 in 5 by telegram_id, 1 in 5
by phone), at one of 10 catalogued locations: each is scheduled, the heaviest outcome
(a visit, a survey, its outbox row, the customer's cooldown and first day, the funnel).
The same batches are then posted again: the idempotent replay (all duplicates). The
client runs in the same process (its bodies are encoded before the clock starts), so
its CPU counts against the rates. The delivery worker does not run. Prints
`name: value unit` lines; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from pydantic import SecretStr

from bench.instances_bench import fresh_schema
from bot.api import create_api_app
from bot.app import Otklik
from bot.config import Settings
from bot.core.bounds import MAX_BATCH_VISITS
from bot.core.clock import to_ms
from storage import customers, locations
from storage.customers import TelegramProfile
from storage.db import migrate
from storage.locations import LocationFields, LocationSource

TOKEN = "bench-api-token-0123456789"
FIRST_USER = 10_000
LOCATIONS = 10
SINGLE_IN_FLIGHT = 16


def settings_for(database_url: str) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        bot_token=SecretStr("123456:BENCH-TOKEN"),
        api_token=SecretStr(TOKEN),
        manager_chat_id=-1001,
        database_url=database_url,
        api_port=0,
        survey_delay_seconds=0,
        digest_at="",
        log_level="WARNING",
    )


def phone_of(user_id: int) -> str:
    return f"+7916{user_id:07d}"


def visit(user_id: int, prefix: str) -> dict[str, Any]:
    customer: dict[str, Any] = (
        {"phone": phone_of(user_id)} if user_id % 5 == 0 else {"telegram_id": user_id}
    )
    return {
        "visit_id": f"{prefix}-{user_id}",
        "customer": customer,
        "location": f"shop-{user_id % LOCATIONS}",
        "staff": f"staff-{user_id % 37}",
        "touchpoint": "cashier",
    }


async def seed(app: Otklik, count: int) -> None:
    now = to_ms(app.clock.now())
    async with app.db.transaction() as conn:
        for user_id in range(FIRST_USER, FIRST_USER + count):
            profile = TelegramProfile(user_id, "Ann", None, "en")
            customer = await customers.upsert_telegram(conn, profile, now)
            if user_id % 5 == 0:
                await customers.set_phone(conn, customer.id, phone_of(user_id), now)
        for number in range(LOCATIONS):
            fields = LocationFields(f"Shop {number}", time_zone="Europe/Moscow")
            await locations.upsert(conn, f"shop-{number}", fields, LocationSource.API, now)


class Client:
    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        self.http, self.url = http, url
        self.headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}

    async def post(self, path: str, body: bytes) -> dict[str, Any]:
        async with self.http.post(self.url + path, data=body, headers=self.headers) as response:
            answer: dict[str, Any] = await response.json()
            assert response.status in (200, 201), answer
            return answer


async def timed(work: Any) -> tuple[float, float]:
    """Wall and CPU seconds of awaiting `work`."""
    cpu, wall = time.process_time(), time.perf_counter()
    await work
    return time.perf_counter() - wall, time.process_time() - cpu


async def measure(database_url: str, batched: int, single: int) -> dict[str, float]:
    app = Otklik(settings_for(database_url), polling=False)
    await app.db.connect()
    runner: web.AppRunner | None = None
    try:
        await migrate(app.db)
        await seed(app, batched + 2 * single)
        api = create_api_app(app, TOKEN, 64 * 1024)
        runner = web.AppRunner(api, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        users = range(FIRST_USER, FIRST_USER + batched)
        bodies = [
            json.dumps(
                {"visits": [visit(u, "b") for u in users[i : i + MAX_BATCH_VISITS]]}
            ).encode()
            for i in range(0, batched, MAX_BATCH_VISITS)
        ]
        one_by_one = [
            json.dumps(visit(u, "s")).encode()
            for u in range(FIRST_USER + batched, FIRST_USER + batched + single)
        ]
        parallel = [
            json.dumps(visit(u, "p")).encode()
            for u in range(FIRST_USER + batched + single, FIRST_USER + batched + 2 * single)
        ]
        outcomes: list[dict[str, Any]] = []

        async with aiohttp.ClientSession() as http:
            client = Client(http, f"http://127.0.0.1:{port}")

            async def post_batches() -> None:
                for body in bodies:
                    outcomes.extend((await client.post("/api/v1/visits:batch", body))["results"])

            async def post_singles(chosen: list[bytes], in_flight: int) -> None:
                slots = asyncio.Semaphore(in_flight)

                async def one(body: bytes) -> None:
                    async with slots:
                        outcomes.append(await client.post("/api/v1/visits", body))

                await asyncio.gather(*(one(body) for body in chosen))

            single_wall, single_cpu = await timed(post_singles(one_by_one, 1))
            parallel_wall, parallel_cpu = await timed(post_singles(parallel, SINGLE_IN_FLIGHT))
            batch_wall, batch_cpu = await timed(post_batches())
            replay_wall, replay_cpu = await timed(post_batches())
    finally:
        if runner is not None:
            await runner.cleanup()
        await app.db.close()
    scheduled = sum(1 for o in outcomes if o["status"] == "scheduled" and not o["duplicate"])
    duplicates = sum(1 for o in outcomes if o["duplicate"])
    return {
        "scheduled": scheduled,
        "duplicates": duplicates,
        "single_rate": single / single_wall,
        "single_cpu_ms": single_cpu / single * 1000,
        "parallel_rate": single / parallel_wall,
        "batch_rate": batched / batch_wall,
        "batch_cpu_ms": batch_cpu / batched * 1000,
        "replay_rate": batched / replay_wall,
        "parallel_cpu_ms": parallel_cpu / single * 1000,
        "replay_cpu_ms": replay_cpu / batched * 1000,
    }


def report(prefix: str, figures: dict[str, float], batched: int, single: int) -> None:
    print(f"{prefix}_visits_batched: {batched} visits in batches of {MAX_BATCH_VISITS}")
    print(
        f"{prefix}_visits_one_by_one: {single} visits one at a time,"
        f" {single} more {SINGLE_IN_FLIGHT} at a time"
    )
    print(
        f"{prefix}_scheduled: {figures['scheduled']:.0f} surveys (expected {batched + 2 * single})"
    )
    print(f"{prefix}_replayed_duplicates: {figures['duplicates']:.0f} visits (expected {batched})")
    print(f"{prefix}_batch_rate: {figures['batch_rate']:.0f} visits per second")
    print(f"{prefix}_batch_cpu_per_visit: {figures['batch_cpu_ms']:.3f} ms")
    print(f"{prefix}_batch_replay_rate: {figures['replay_rate']:.0f} visits per second")
    print(f"{prefix}_single_rate: {figures['single_rate']:.0f} visits per second")
    print(f"{prefix}_single_cpu_per_visit: {figures['single_cpu_ms']:.3f} ms")
    print(
        f"{prefix}_single_{SINGLE_IN_FLIGHT}_in_flight_rate:"
        f" {figures['parallel_rate']:.0f} visits per second"
    )
    print(f"{prefix}_ratio: {figures['batch_rate'] / figures['single_rate']:.1f} x single")
    print(f"{prefix}_cpu_bound_rate: {1000 / figures['batch_cpu_ms']:.0f} visits per CPU second")
    print(
        f"{prefix}_ratio_in_flight: {figures['batch_rate'] / figures['parallel_rate']:.1f}"
        f" x single, {SINGLE_IN_FLIGHT} in flight"
    )


async def sqlite_figures(batched: int, single: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        return await measure(f"sqlite:///{Path(folder) / 'bench.sqlite3'}", batched, single)


async def postgres_figures(dsn: str, batched: int, single: int) -> dict[str, float]:
    async with fresh_schema(dsn) as database_url:
        return await measure(database_url, batched, single)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="5,000 and 500 visits")
    parser.add_argument(
        "--dsn",
        default=os.environ.get("TEST_POSTGRES_DSN"),
        help="also measure on this PostgreSQL server (a schema of its own, dropped after)",
    )
    args = parser.parse_args()
    batched, single = (5_000, 500) if args.quick else (20_000, 2_000)
    # The machine is shared: its load says how much of a core the run could have had.
    print(f"batch_load_average: {os.getloadavg()[0]:.1f} processes (1 min, 2 cores)")
    report("batch_sqlite", asyncio.run(sqlite_figures(batched, single)), batched, single)
    if not args.dsn:
        print("batch_postgres: skipped (no --dsn and TEST_POSTGRES_DSN is not set)")
        return
    print(f"batch_load_average_before_postgres: {os.getloadavg()[0]:.1f} processes")
    report(
        "batch_postgres", asyncio.run(postgres_figures(args.dsn, batched, single)), batched, single
    )


if __name__ == "__main__":
    main()
