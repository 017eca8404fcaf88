"""Test databases: a schema of its own per test run on the PostgreSQL test server
(TEST_POSTGRES_DSN), and a second handle on a database, as another instance opens it."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from urllib.parse import quote

import asyncpg
import pytest

from storage.copy import identity_columns, tables_in_fk_order
from storage.db import Database, SqliteDatabase, migrate
from storage.db.postgres import PostgresDatabase

POSTGRES_DSN_VARIABLE = "TEST_POSTGRES_DSN"
NO_POSTGRES = f"{POSTGRES_DSN_VARIABLE} is not set"
# Test schemas are named otk_test_<unix time>_<random>: one left behind by a killed
# run is recognisable and swept by a later run once it is an hour old.
SCHEMA_PREFIX = "otk_test_"
STALE_SCHEMA_SECONDS = 3600


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


class SharedSchema:
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


def reopen(database: Database) -> Database:
    """A second, unconnected Database on the same data (another bot instance)."""
    if isinstance(database, PostgresDatabase):
        return PostgresDatabase(database.url)
    assert isinstance(database, SqliteDatabase)
    return SqliteDatabase(database.path)


@asynccontextmanager
async def database_before(kind: str, tmp_path: Path, version: int) -> AsyncIterator[Database]:
    """A database ("sqlite" or "postgres") migrated up to, not including, `version`: as
    an older release left it, for an upgrade test. Closed (and its schema dropped)
    afterwards."""
    async with AsyncExitStack() as stack:
        database: Database
        if kind == "sqlite":
            database = SqliteDatabase(tmp_path / "old.sqlite3")
        else:
            database = PostgresDatabase(
                await stack.enter_async_context(fresh_schema(require_postgres()))
            )
        await database.connect()
        stack.push_async_callback(database.close)
        await migrate(database, before=version)
        yield database
