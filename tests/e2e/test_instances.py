"""Several instances on one database: leases, update claims, the maintenance holder,
each instance's share of the rate limits, FSM state in Redis, and their settings."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.fsm.storage.redis import RedisStorage

from bot.app import Otklik
from bot.config import ConfigError, load_settings
from bot.core.clock import FakeClock, to_ms
from bot.maintenance import LEASE_TICKS, MAINTENANCE_LEASE
from bot.wiring import create_rate_limiter
from storage import leases, updates
from storage.db import Database, migrate
from tests.support.fake_telegram import FakeTelegram
from tests.support.harness import running_bot
from tests.support.settings import BOT_TOKEN, make_settings

REDIS_URL_VARIABLE = "TEST_REDIS_URL"
ANN = 701
T0 = 1_800_000_000_000
MINUTE = 60_000

# --- leases (both backends, through the `db` fixture) --------------------------------


async def acquire(db: Database, owner: str, now: int, length: int = MINUTE) -> bool:
    async with db.transaction() as conn:
        return await leases.acquire(conn, "job", owner, now=now, until=now + length)


async def holder(db: Database, now: int) -> str | None:
    async with db.read() as conn:
        return await leases.holder(conn, "job", now=now)


async def test_one_owner_holds_a_lease_and_the_other_is_refused(db: Database) -> None:
    assert await acquire(db, "a", T0)
    assert not await acquire(db, "b", T0 + 1)
    assert await holder(db, T0 + 1) == "a"
    # Renewing moves the end: b is still refused after the first minute would have ended.
    assert await acquire(db, "a", T0 + MINUTE // 2)
    assert not await acquire(db, "b", T0 + MINUTE + 1)
    assert await holder(db, T0 + MINUTE + 1) == "a"


async def test_a_lease_whose_holder_stopped_renewing_is_taken_over(db: Database) -> None:
    assert await acquire(db, "a", T0)
    assert not await acquire(db, "b", T0 + MINUTE)  # the last millisecond is still a's
    assert await acquire(db, "b", T0 + MINUTE + 1)
    assert await holder(db, T0 + MINUTE + 1) == "b"
    # The old holder, back from a pause, does not get it back while b renews.
    assert not await acquire(db, "a", T0 + MINUTE + 2)
    assert await holder(db, T0 + 10 * MINUTE) is None


async def test_release_frees_the_lease_at_once_and_only_for_its_owner(db: Database) -> None:
    assert await acquire(db, "a", T0)
    async with db.transaction() as conn:
        assert not await leases.release(conn, "job", "b")
    assert not await acquire(db, "b", T0 + 1)
    async with db.transaction() as conn:
        assert await leases.release(conn, "job", "a")
    assert await holder(db, T0 + 2) is None
    assert await acquire(db, "b", T0 + 2)


async def test_leases_with_different_names_are_independent(db: Database) -> None:
    async with db.transaction() as conn:
        assert await leases.acquire(conn, "one", "a", now=T0, until=T0 + MINUTE)
        assert await leases.acquire(conn, "two", "b", now=T0, until=T0 + MINUTE)
        assert not await leases.acquire(conn, "two", "a", now=T0, until=T0 + MINUTE)


# --- update claims ---------------------------------------------------------------------


async def test_an_update_is_claimed_once_released_on_failure_and_pruned(db: Database) -> None:
    async with db.transaction() as conn:
        assert await updates.claim(conn, 7, now=T0)
        assert not await updates.claim(conn, 7, now=T0 + 1)
        await updates.release(conn, 7)
        assert await updates.claim(conn, 7, now=T0 + 2)
        assert await updates.claim(conn, 8, now=T0 + 3 * MINUTE)
        assert await updates.prune(conn, before=T0 + MINUTE) == 1
    async with db.read() as conn:
        assert not await updates.is_processed(conn, 7)
        assert await updates.is_processed(conn, 8)


# --- the maintenance holder among real Otklik instances --------------------------------


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


async def instance(
    tmp_path: Path, database_url: str, fake: FakeTelegram, clock: FakeClock, name: str
) -> Otklik:
    """One instance on the shared database; its time-driven rules are called directly."""
    settings = make_settings(
        tmp_path, database_url=database_url, instance_id=name, telegram_api_url=fake.url
    )
    app = Otklik(settings, clock=clock, session=fake.make_bot().session, polling=False)
    await app.db.connect()
    await migrate(app.db)
    return app


async def test_maintenance_runs_in_exactly_one_instance_and_moves_on_stop_or_death(
    tmp_path: Path, database_url: str, fake: FakeTelegram, clock: FakeClock
) -> None:
    first = await instance(tmp_path, database_url, fake, clock, "bot-1")
    second = await instance(tmp_path, database_url, fake, clock, "bot-2")
    third = await instance(tmp_path, database_url, fake, clock, "bot-3")
    try:
        assert await first.maintenance()
        assert not await second.maintenance()
        clock.advance(30)
        assert await first.maintenance()  # the holder renews at every tick
        assert not await second.maintenance()

        # A graceful stop hands over at once.
        await first.stop()
        assert await second.maintenance()
        assert not await third.maintenance()

        # The holder dies (no stop, no renewal): its lease ends, then another takes over.
        clock.advance(30 * LEASE_TICKS)
        assert not await third.maintenance()
        clock.advance(1)
        assert await third.maintenance()
        assert not await second.maintenance()
        async with third.db.read() as conn:
            assert await leases.holder(conn, MAINTENANCE_LEASE, now=to_ms(clock.now())) == (
                "bot-3"
            )
    finally:
        for app in (second, third):
            await app.stop()


async def test_maintenance_prunes_update_claims_older_than_48_hours(
    tmp_path: Path, database_url: str, fake: FakeTelegram, clock: FakeClock
) -> None:
    app = await instance(tmp_path, database_url, fake, clock, "bot-1")
    try:
        async with app.db.transaction() as conn:
            await updates.claim(conn, 1, now=to_ms(clock.now()))
        clock.advance(timedelta(hours=47))
        async with app.db.transaction() as conn:
            await updates.claim(conn, 2, now=to_ms(clock.now()))
        clock.advance(timedelta(hours=2))
        assert await app.maintenance()
        async with app.db.read() as conn:
            assert not await updates.is_processed(conn, 1)
            assert await updates.is_processed(conn, 2)
    finally:
        await app.stop()


# --- rate limits: each instance's share --------------------------------------------------


def test_each_instance_gets_its_share_of_telegrams_limits(tmp_path: Path) -> None:
    alone = create_rate_limiter(make_settings(tmp_path, send_rate_per_second=25))
    assert alone.interval == pytest.approx(1 / 25)
    assert alone.group_per_minute == 20
    two = create_rate_limiter(make_settings(tmp_path, send_rate_per_second=25, instance_count=2))
    assert two.interval == pytest.approx(2 / 25)
    assert two.group_per_minute == 10
    many = create_rate_limiter(make_settings(tmp_path, instance_count=30))
    assert many.group_per_minute == 1  # never zero: a group must still get its alerts


# --- FSM storage -----------------------------------------------------------------------


async def test_without_redis_the_state_lives_in_memory(
    tmp_path: Path, fake: FakeTelegram, clock: FakeClock
) -> None:
    app = await instance(tmp_path, f"sqlite:///{tmp_path / 'm.sqlite3'}", fake, clock, "m")
    try:
        assert isinstance(app.dispatcher.storage, MemoryStorage)
    finally:
        await app.stop()


async def test_state_written_by_one_instance_is_read_by_another_through_redis(
    tmp_path: Path, fake: FakeTelegram, clock: FakeClock
) -> None:
    redis_url = os.environ.get(REDIS_URL_VARIABLE)
    if not redis_url:
        pytest.skip(f"{REDIS_URL_VARIABLE} is not set")
    database_url = f"sqlite:///{tmp_path / 'r.sqlite3'}"
    apps: list[Otklik] = []
    for name in ("bot-1", "bot-2"):
        settings = make_settings(
            tmp_path,
            database_url=database_url,
            instance_id=name,
            redis_url=redis_url,
            telegram_api_url=fake.url,
        )
        apps.append(Otklik(settings, clock=clock, session=fake.make_bot().session, polling=False))
    first, second = apps
    # A user id no other run uses, so that parallel runs cannot see each other's state.
    user_id = 10**9 + secrets.randbelow(10**9)
    try:
        assert all(isinstance(app.dispatcher.storage, RedisStorage) for app in apps)
        writer = first.dispatcher.fsm.get_context(first.bot, chat_id=user_id, user_id=user_id)
        await writer.set_state("survey:reason")
        await writer.update_data(survey_id=42)

        reader = second.dispatcher.fsm.get_context(second.bot, chat_id=user_id, user_id=user_id)
        assert await reader.get_state() == "survey:reason"
        assert await reader.get_data() == {"survey_id": 42}
        await reader.clear()
        assert await writer.get_state() is None
    finally:
        for app in apps:
            await app.stop()


async def test_a_webhook_bot_on_postgres_and_redis_applies_a_redelivered_update_once(
    tmp_path: Path, postgres_url: str
) -> None:
    redis_url = os.environ.get(REDIS_URL_VARIABLE)
    if not redis_url:
        pytest.skip(f"{REDIS_URL_VARIABLE} is not set")
    async with running_bot(
        tmp_path, webhook=True, database_url=postgres_url, redis_url=redis_url
    ) as h:
        assert isinstance(h.app.dispatcher.storage, RedisStorage)
        await h.start_customer(ANN)
        start = h.fake.updates[-1]["update_id"]
        await h.fake.wait_for_webhook_delivery(start)
        replies = len(h.fake.messages_to(ANN))
        h.fake.redeliver(start)
        assert (await h.fake.wait_for_webhook_delivery(start, count=2)).status == 200
        assert len(h.fake.messages_to(ANN)) == replies


# --- settings ----------------------------------------------------------------------------


def scale_env(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    monkeypatch.chdir(Path(__file__).parent)  # no developer .env in the way
    monkeypatch.setenv("BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("API_TOKEN", "api-token-0123456789")
    monkeypatch.setenv("MANAGER_CHAT_ID", "-1001")
    for name, value in values.items():
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("INSTANCE_COUNT", "0", "INSTANCE_COUNT: Input should be greater than or equal to 1"),
        ("WEBHOOK_URL", "https://bot.example.com", "WEBHOOK_URL: expected a URL with its own"),
        ("WEBHOOK_URL", "https://bot.example.com/api/v1/x", "WEBHOOK_URL: expected a URL"),
        ("WEBHOOK_URL", "ftp://bot.example.com/hook", "WEBHOOK_URL: expected an http(s) URL"),
        ("WEBHOOK_SECRET", "no spaces allowed", "WEBHOOK_SECRET: expected 1-256 characters"),
        ("REDIS_URL", "localhost:6379", "REDIS_URL: expected redis://"),
        ("INSTANCE_ID", "two words", "INSTANCE_ID: expected 1-128 characters"),
    ],
)
def test_bad_scale_settings_are_named_in_one_line(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    scale_env(monkeypatch, **{name: value})
    with pytest.raises(ConfigError) as error:
        load_settings()
    message = str(error.value)
    assert expected in message and "\n" not in message
    if name == "WEBHOOK_SECRET":
        assert value not in message


def test_scale_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    scale_env(
        monkeypatch,
        WEBHOOK_URL="https://bot.example.com/telegram/webhook",
        REDIS_URL="redis://redis:6379/0",
        INSTANCE_ID="bot-1",
        INSTANCE_COUNT="2",
    )
    settings = load_settings()
    assert settings.webhook_path == "/telegram/webhook"
    assert (settings.instance_id, settings.instance_count) == ("bot-1", 2)
    # Without WEBHOOK_SECRET every instance derives the same secret, not the token itself.
    assert settings.webhook_secret_token == load_settings().webhook_secret_token
    assert BOT_TOKEN not in settings.webhook_secret_token
    assert len(settings.webhook_secret_token) == 64


def test_each_process_gets_its_own_instance_id_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scale_env(monkeypatch)
    assert load_settings().instance_id != load_settings().instance_id
