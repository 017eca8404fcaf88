"""Shared fixtures: a real migrated database per test (SQLite, and PostgreSQL when
TEST_POSTGRES_DSN names a server), a fake clock, settings."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.config import Settings
from bot.core.clock import FakeClock
from storage.db import Database, SqliteDatabase, migrate
from storage.db.postgres import PostgresDatabase
from tests.support.databases import SharedSchema, reopen, require_postgres
from tests.support.settings import make_settings


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def _shared_schema() -> Iterator[SharedSchema]:
    shared = SharedSchema()
    yield shared
    asyncio.run(shared.drop())


@pytest.fixture
async def postgres_url(_shared_schema: SharedSchema) -> str:
    """A DATABASE_URL on the test server: a migrated schema with empty tables, for a
    whole bot (`running_bot(..., database_url=postgres_url)`). Skipped without
    TEST_POSTGRES_DSN."""
    return await _shared_schema.clean_url(require_postgres())


@pytest.fixture(params=["sqlite", "postgres"])
async def db(
    request: pytest.FixtureRequest, tmp_path: Path, _shared_schema: SharedSchema
) -> AsyncIterator[Database]:
    """A migrated, empty database: every test using it runs on SQLite and on PostgreSQL."""
    database: Database
    if request.param == "sqlite":
        database = SqliteDatabase(tmp_path / "otklik.sqlite3")
    else:
        database = PostgresDatabase(await _shared_schema.clean_url(require_postgres()))
    await database.connect()
    await migrate(database)
    yield database
    await database.close()


@pytest.fixture
async def other_db(db: Database) -> AsyncIterator[Database]:
    """`db` opened a second time, as another bot instance would; closed even when the
    test fails, so no pool is left for the garbage collector to warn about."""
    database = reopen(db)
    await database.connect()
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)
