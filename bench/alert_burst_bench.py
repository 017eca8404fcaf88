"""Alert burst benchmark: many detractors within about a minute, one managers' group.

    python -m bench.alert_burst_bench            # 300 detractors in 60 s (about 3 minutes)
    python -m bench.alert_burst_bench --quick    # 50 detractors in 10 s (about 1.5 minutes)

The real bot (delivery worker, case outbox, folding, SQLite, aiogram client, real
clock) runs against the fake Bot API server in another process with Telegram's
limits: 30 messages per second overall, 1 per second per private chat and 20 per
minute per group (edits count towards the group's 20 too). Each customer first gets
a survey; then the detractors' answers arrive evenly over the window, through the
survey service the answer button calls. Alert lateness is the time from a
detractor's answer (the case opening) to the case first appearing in the managers'
chat: its card, or the folded message that lists it (the moment the bot recorded
Telegram's answer). The run ends when every alert row has ended.

Prints `name: value unit` lines; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import random
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
from storage.db import migrate

TOKEN = "123456:BENCH-TOKEN"
MANAGERS = -1001
FIRST_USER = 10_000

FAKE_SERVER = f"""
import asyncio, json, sys
from tests.support.fake_telegram import FakeTelegram

async def main():
    users = int(sys.argv[1])
    fake = FakeTelegram(sys.argv[2])
    for user_id in range({FIRST_USER}, {FIRST_USER} + users):
        fake.user(user_id)
    fake.group({MANAGERS})
    fake.set_rate_limits(global_per_second=30, per_chat_per_second=1, per_group_per_minute=20)
    await fake.start()
    print(fake.url, flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    group = fake.messages_to({MANAGERS})
    print(json.dumps({{
        "too_many_requests": fake.too_many_requests,
        "group_messages": len(group),
        "group_edits": sum(message.edits for message in group),
    }}), flush=True)
    await fake.close()

asyncio.run(main())
"""


def settings_for(url: str, database: Path) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        bot_token=SecretStr(TOKEN),
        api_token=SecretStr("bench-api-token-0123456789"),
        manager_chat_id=MANAGERS,
        telegram_api_url=url,
        database_url=f"sqlite:///{database}",
        api_port=0,
        survey_delay_seconds=0,
        survey_cooldown_days=0,
        digest_at="",
        log_level="WARNING",
    )


async def count(app: Otklik, sql: str) -> int:
    async with app.db.read() as conn:
        row = await conn.fetch_one(sql)
    return int(row["n"]) if row else 0


async def wait_for(app: Otklik, sql: str, target: int) -> None:
    # The database is the record of what was delivered, so the benchmark polls it.
    while await count(app, sql) < target:  # noqa: ASYNC110
        await asyncio.sleep(0.2)


async def prepare(app: Otklik, size: int) -> list[tuple[int, int]]:
    """`size` customers, each with a survey that has been delivered: (survey, user)."""
    from bot.visits.service import VisitRequest

    now = to_ms(app.clock.now())
    async with app.db.transaction() as conn:
        for user_id in range(FIRST_USER, FIRST_USER + size):
            await customers.upsert_telegram(conn, TelegramProfile(user_id, "Ann", None, "en"), now)
    for user_id in range(FIRST_USER, FIRST_USER + size):
        await app.visits.register(
            VisitRequest(f"burst-{user_id}", telegram_id=user_id, location="Main St")
        )
    await wait_for(app, "SELECT COUNT(*) AS n FROM surveys WHERE status = 'sent'", size)
    async with app.db.read() as conn:
        rows = await conn.fetch_all(
            "SELECT s.id, c.telegram_id FROM surveys s JOIN customers c ON c.id = s.customer_id"
            " ORDER BY s.id"
        )
    return [(int(row["id"]), int(row["telegram_id"])) for row in rows]


async def answer_evenly(app: Otklik, surveys: list[tuple[int, int]], window: float) -> None:
    """The detractors' answers, spread evenly over `window` seconds."""
    rng = random.Random(7)
    started = time.monotonic()
    for index, (survey_id, user_id) in enumerate(surveys):
        await asyncio.sleep(max(0.0, started + index * window / len(surveys) - time.monotonic()))
        result = await app.surveys.answer_nps(survey_id, user_id, rng.randint(0, 6))
        assert result.ok, result.refusal


async def lateness_s(app: Otklik) -> list[float]:
    """Per case: from the answer to its card or folded message being accepted."""
    async with app.db.read() as conn:
        rows = await conn.fetch_all(
            "SELECT a.finished_at - c.opened_at AS late FROM cases c"
            " JOIN outbox a ON a.kind = 'alert' AND a.ref_id = c.survey_id"
            " WHERE a.status = 'sent'"
        )
    return [float(row["late"]) / 1000 for row in rows]


async def burst(size: int, window: float) -> None:
    server = FakeServerProcess(FAKE_SERVER, str(size), TOKEN)
    with tempfile.TemporaryDirectory() as folder:
        app = Otklik(settings_for(server.url, Path(folder) / "bench.sqlite3"), polling=False)
        await app.db.connect()
        await migrate(app.db)
        await app.start()
        surveys = await prepare(app, size)
        started = time.monotonic()
        await answer_evenly(app, surveys, window)
        answered = time.monotonic() - started
        await wait_for(
            app,
            "SELECT COUNT(*) AS n FROM outbox WHERE kind = 'alert'"
            " AND status IN ('sent', 'failed', 'expired')",
            size,
        )
        elapsed = time.monotonic() - started
        late = await lateness_s(app)
        cards = await count(
            app,
            "SELECT COUNT(*) AS n FROM outbox WHERE kind = 'alert' AND status = 'sent'"
            " AND (last_error IS NULL OR last_error NOT LIKE 'folded into%')",
        )
        folds = await count(
            app, "SELECT COUNT(*) AS n FROM outbox WHERE kind = 'alert_fold' AND status = 'sent'"
        )
        lost = await count(
            app, "SELECT COUNT(*) AS n FROM outbox WHERE kind = 'alert' AND status <> 'sent'"
        )
        floods = app.limiter.floods
        await app.stop()
    seen = server.stop()
    print(f"alert_burst_detractors: {size} answers in {answered:.1f} s")
    print(f"alert_burst_lateness_p50: {percentile(late, 0.5):.1f} s")
    print(f"alert_burst_lateness_p99: {percentile(late, 0.99):.1f} s")
    print(f"alert_burst_lateness_max: {max(late, default=0):.1f} s")
    print(f"alert_burst_cards: {cards} messages")
    print(f"alert_burst_folded_messages: {folds} messages")
    print(f"alert_burst_cases_folded: {size - cards - lost} cases")
    print(f"alert_burst_alerts_not_sent: {lost} alerts")
    print(f"alert_burst_group_messages: {seen['group_messages']} messages")
    print(f"alert_burst_group_edits: {seen['group_edits']} edits")
    print(f"alert_burst_429_responses: {seen['too_many_requests']} responses ({floods} seen)")
    print(f"alert_burst_duration: {elapsed:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="50 detractors in 10 seconds")
    parser.add_argument("--detractors", type=int, default=None)
    parser.add_argument("--window", type=float, default=None, help="seconds the answers span")
    args = parser.parse_args()
    size = args.detractors or (50 if args.quick else 300)
    window = args.window or (10.0 if args.quick else 60.0)
    asyncio.run(burst(size, window))


if __name__ == "__main__":
    main()
