"""Shared fixtures: a real migrated database per test (SQLite, and PostgreSQL when
TEST_POSTGRES_DSN names a server), a fake clock, settings."""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

import asyncpg
import pytest

from bot.config import Settings
from bot.core.clock import FakeClock
from storage.copy import identity_columns, tables_in_fk_order
from storage.db import Database, SqliteDatabase, migrate
from storage.db.postgres import PostgresDatabase

BOT_TOKEN = "123456:TEST-TOKEN"
API_TOKEN = "test-api-token-0123456789"
MANAGER_CHAT_ID = -1001
ADMIN_ID = 900

POSTGRES_DSN_VARIABLE = "TEST_POSTGRES_DSN"
NO_POSTGRES = f"{POSTGRES_DSN_VARIABLE} is not set"
# Test schemas are named otk_test_<unix time>_<random>: one left behind by a killed
# run is recognisable and swept by a later run once it is an hour old.
SCHEMA_PREFIX = "otk_test_"
STALE_SCHEMA_SECONDS = 3600


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


# --- PostgreSQL ------------------------------------------------------------------------


def postgres_dsn() -> str | None:
    return os.environ.get(POSTGRES_DSN_VARIABLE) or None


def require_postgres() -> str:
    """The test server's DSN; skips the calling test (visibly) without one."""
    dsn = postgres_dsn()
    if dsn is None:
        pytest.skip(NO_POSTGRES)
    return dsn


def with_search_path(dsn: str, schema: str) -> str:
    """A DATABASE_URL whose connections use `schema` (asyncpg passes unknown query
    parameters on as server settings)."""
    separator = "&" if "?" in dsn else "?"
    return f"{dsn}{separator}search_path={quote(schema)}"


def new_schema_name() -> str:
    return f"{SCHEMA_PREFIX}{int(time.time())}_{secrets.token_hex(4)}"


async def _drop_stale_schemas(admin: asyncpg.Connection) -> None:
    names = await admin.fetch(
        "SELECT nspname FROM pg_namespace WHERE nspname LIKE $1", SCHEMA_PREFIX + "%"
    )
    cutoff = time.time() - STALE_SCHEMA_SECONDS
    for (name,) in names:
        stamp = name.removeprefix(SCHEMA_PREFIX).split("_", 1)[0]
        if stamp.isdigit() and int(stamp) < cutoff:
            await admin.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


@asynccontextmanager
async def fresh_schema(dsn: str) -> AsyncIterator[str]:
    """A brand-new empty schema for one test (migrations not applied): its URL.
    Dropped afterwards."""
    schema = new_schema_name()
    admin = await asyncpg.connect(dsn)
    try:
        await admin.execute(f'CREATE SCHEMA "{schema}"')
        yield with_search_path(dsn, schema)
    finally:
        await admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await admin.close()


class _SharedSchema:
    """One migrated schema per test session, emptied before each test that uses it.

    Creating and migrating a schema costs ~0.25 s, emptying one ~10 ms: the
    doubled `db` tests stay cheap. Each test still starts from empty tables with
    ids from 1, as on a fresh SQLite file. Only names (no connections) live across
    tests, because every test runs on its own event loop."""

    def __init__(self) -> None:
        self.schema = new_schema_name()
        self.dsn: str | None = None
        self.cleanup_sql: str | None = None

    async def clean_url(self, dsn: str) -> str:
        url = with_search_path(dsn, self.schema)
        if self.cleanup_sql is None:
            await self._create(dsn, url)
        else:
            admin = await asyncpg.connect(url)
            try:
                await admin.execute(self.cleanup_sql)
            finally:
                await admin.close()
        return url

    async def _create(self, dsn: str, url: str) -> None:
        admin = await asyncpg.connect(dsn)
        try:
            await _drop_stale_schemas(admin)
            await admin.execute(f'CREATE SCHEMA "{self.schema}"')
        finally:
            await admin.close()
        self.dsn = dsn
        database = PostgresDatabase(url, max_size=1)
        await database.connect()
        try:
            await migrate(database)
            async with database.read() as conn:
                tables = await tables_in_fk_order(conn)
                identities = await identity_columns(conn)
        finally:
            await database.close()
        # Children first; identities restart at 1. One round trip, one transaction.
        statements = [f'DELETE FROM "{table}"' for table in reversed(tables)]
        statements += [
            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', '{column}'), 1, false)"
            for table, column in identities
        ]
        self.cleanup_sql = "BEGIN; " + "; ".join(statements) + "; COMMIT"

    async def drop(self) -> None:
        if self.dsn is None:
            return
        admin = await asyncpg.connect(self.dsn)
        try:
            await admin.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')
        finally:
            await admin.close()


@pytest.fixture(scope="session")
def _shared_schema() -> Iterator[_SharedSchema]:
    shared = _SharedSchema()
    yield shared
    asyncio.run(shared.drop())


@pytest.fixture
async def postgres_url(_shared_schema: _SharedSchema) -> str:
    """A DATABASE_URL on the test server: a migrated schema with empty tables, for a
    whole bot (`running_bot(..., database_url=postgres_url)`). Skipped without
    TEST_POSTGRES_DSN."""
    return await _shared_schema.clean_url(require_postgres())


def reopen(database: Database) -> Database:
    """A second, unconnected Database on the same data (another bot instance)."""
    if isinstance(database, PostgresDatabase):
        return PostgresDatabase(database.url)
    assert isinstance(database, SqliteDatabase)
    return SqliteDatabase(database.path)


@pytest.fixture(params=["sqlite", "postgres"])
async def db(
    request: pytest.FixtureRequest, tmp_path: Path, _shared_schema: _SharedSchema
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


def make_settings(tmp_path: Path, **overrides: object) -> Settings:
    """Settings for tests, never read from the developer's .env."""
    values: dict[str, object] = {
        "bot_token": BOT_TOKEN,
        "api_token": API_TOKEN,
        "manager_chat_id": MANAGER_CHAT_ID,
        "admin_ids": (ADMIN_ID,),
        "database_url": f"sqlite:///{tmp_path / 'otklik.sqlite3'}",
        "api_port": 0,
        "survey_delay_seconds": 0,
        "digest_at": "",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)
