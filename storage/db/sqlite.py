"""A small database facade: named-parameter SQL, transactions, migrations.

Repositories write SQL with `:name` parameters and call the four methods of
`Connection`; the backend is chosen from the URL: SQLite via aiosqlite (the
default, one process) or PostgreSQL via asyncpg (storage/postgres.py, several
instances). SQL must be valid on both; `conn.dialect` tells the few places that differ.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import aiosqlite

Row = dict[str, Any]
Params = Mapping[str, Any]


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached or the URL is wrong; the message is one line
    that is safe to show (no password)."""


def redact_url(url: str) -> str:
    """The URL with its password (in the authority or as ?password=) replaced by ***."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable URL>"
    if parts.password is not None:
        user = parts.netloc.rpartition("@")[0].split(":", 1)[0]
        host = parts.netloc.rpartition("@")[2]
        url = url.replace(f"//{parts.netloc}", f"//{user}:***@{host}", 1)
    return re.sub(r"([?&]password=)[^&#]*", r"\1***", url)


def for_update(conn: Connection) -> str:
    """' FOR UPDATE' on PostgreSQL: a read that a write in the same transaction
    depends on must lock its rows there. SQLite serialises writers already."""
    return " FOR UPDATE" if conn.dialect == "postgresql" else ""


def id_in(conn: Connection, column: str, ids: Sequence[int]) -> tuple[str, Any]:
    """`column IN <ids>` and the value for its `:ids` parameter: one statement text
    whatever the list's length, so prepared-statement caches stay small (an array on
    PostgreSQL, JSON on SQLite)."""
    if conn.dialect == "postgresql":
        return f"{column} = ANY(:ids)", list(ids)
    return f"{column} IN (SELECT value FROM json_each(:ids))", json.dumps(list(ids))


class Connection(Protocol):
    """What a repository needs from a connection inside a transaction."""

    dialect: str

    async def execute(self, sql: str, params: Params | None = None) -> int: ...

    async def execute_many(self, sql: str, rows: Sequence[Params]) -> None: ...

    async def execute_each(self, statements: Sequence[tuple[str, Params]]) -> None:
        """Several statements in order: one trip to the database where it can."""

    async def fetch_one(self, sql: str, params: Params | None = None) -> Row | None: ...

    async def fetch_all(self, sql: str, params: Params | None = None) -> list[Row]: ...


class Database(Protocol):
    dialect: str

    async def connect(self) -> None: ...

    async def close(self) -> None: ...

    def transaction(self) -> Any:
        """An async context manager yielding a Connection; commits on success."""

    def read(self) -> Any:
        """An async context manager yielding a Connection for reads only."""


class _SqliteConnection:
    dialect = "sqlite"

    def __init__(self, conn: aiosqlite.Connection, begin: str | None = None) -> None:
        self._conn = conn
        # A transaction's BEGIN rides with its first statement: one trip fewer. Every
        # statement carries it and the thread runs it unless a transaction is open, so
        # a BEGIN that failed (busy) is tried again rather than lost.
        self._begin = begin

    # One trip to aiosqlite's thread per statement (not one per cursor call): each trip
    # costs about 0.1 ms of CPU, which dominated the delivery worker's cost per message.
    async def execute(self, sql: str, params: Params | None = None) -> int:
        count: int = await self._conn._execute(
            _run, self._conn, self._begin, [(sql, dict(params or {}))], False
        )
        return count

    async def execute_many(self, sql: str, rows: Sequence[Params]) -> None:
        if self._begin is not None and not self._conn.in_transaction:
            await self._conn.execute(self._begin)
        await self._conn.executemany(sql, [dict(row) for row in rows])

    async def execute_each(self, statements: Sequence[tuple[str, Params]]) -> None:
        pairs = [(sql, dict(params)) for sql, params in statements]
        await self._conn._execute(_run, self._conn, self._begin, pairs, False)

    async def fetch_one(self, sql: str, params: Params | None = None) -> Row | None:
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    async def fetch_all(self, sql: str, params: Params | None = None) -> list[Row]:
        rows: list[Row] = await self._conn._execute(
            _run, self._conn, self._begin, [(sql, dict(params or {}))], True
        )
        return rows


def _run(
    conn: aiosqlite.Connection,
    begin: str | None,
    statements: list[tuple[str, dict[str, Any]]],
    fetch: bool,
) -> Any:
    """Runs on aiosqlite's thread, where its sqlite3 connection lives: the pending BEGIN,
    then each statement; the last one's rows (`fetch`) or row count."""
    raw = conn._conn
    if begin is not None and not raw.in_transaction:
        raw.execute(begin)
    result: Any = 0
    for sql, params in statements:
        cursor = raw.execute(sql, params)
        result = [dict(row) for row in cursor.fetchall()] if fetch else cursor.rowcount
        cursor.close()
    return result


class SqliteDatabase:
    """SQLite in WAL mode: one writer connection (serialised), one reader."""

    dialect = "sqlite"

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()

    async def _open(self) -> aiosqlite.Connection:
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        conn.row_factory = aiosqlite.Row
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA synchronous=NORMAL")
        await conn.execute("PRAGMA foreign_keys=ON")
        await conn.execute("PRAGMA busy_timeout=5000")
        return conn

    async def connect(self) -> None:
        if self._writer is None:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self._writer = await self._open()
            self._reader = await self._open()

    async def close(self) -> None:
        for conn in (self._reader, self._writer):
            if conn is not None:
                await conn.close()
        self._writer = self._reader = None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        assert self._writer is not None, "Database.connect() was not awaited"
        writer = self._writer
        async with self._write_lock:
            try:
                yield _SqliteConnection(writer, begin="BEGIN IMMEDIATE")
            except BaseException:
                # Not begun when no statement ran, or when BEGIN itself failed.
                if writer.in_transaction:
                    await writer.execute("ROLLBACK")
                raise
            if writer.in_transaction:
                await writer.execute("COMMIT")

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Connection]:
        assert self._reader is not None, "Database.connect() was not awaited"
        yield _SqliteConnection(self._reader)


def create_database(url: str) -> Database:
    """Pick the backend from DATABASE_URL."""
    if url.startswith("sqlite:///"):
        return SqliteDatabase(url.removeprefix("sqlite:///"))
    if url.startswith(("postgresql://", "postgres://")):
        from storage.db.postgres import PostgresDatabase

        return PostgresDatabase(url)
    raise ValueError("DATABASE_URL must start with sqlite:/// or postgresql://")


# --- migrations ---------------------------------------------------------------

_DIALECT_TYPES = {
    "sqlite": {"ID_PK": "INTEGER PRIMARY KEY AUTOINCREMENT"},
    "postgresql": {"ID_PK": "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"},
}


# An arbitrary constant naming otklik's migration lock among advisory locks.
_MIGRATION_LOCK = 7_415_012_001


def migration_files() -> list[tuple[int, str, str]]:
    """(version, name, sql) of every migration shipped in storage/migrations."""
    found = []
    for entry in resources.files("storage.migrations").iterdir():
        match = re.match(r"^(\d{4})_(\w+)\.sql$", entry.name)
        if match:
            found.append((int(match.group(1)), match.group(2), entry.read_text("utf-8")))
    return sorted(found)


def render_migration(sql: str, dialect: str) -> list[str]:
    for macro, replacement in _DIALECT_TYPES[dialect].items():
        sql = sql.replace(macro, replacement)
    # Comments go first: a ';' inside one must not split a statement.
    sql = "\n".join(re.sub(r"--.*$", "", line) for line in sql.splitlines())
    statements = [part.strip() for part in sql.split(";")]
    return [statement for statement in statements if _has_code(statement)]


def _has_code(statement: str) -> bool:
    return any(
        line.strip() and not line.strip().startswith("--") for line in statement.splitlines()
    )


async def migrate(db: Database) -> list[int]:
    """Apply pending migrations in order; returns the versions applied."""
    applied: list[int] = []
    async with db.transaction() as conn:
        if db.dialect == "postgresql":
            # Instances starting together: the second waits here, then finds nothing to do.
            await conn.execute("SELECT pg_advisory_xact_lock(:key)", {"key": _MIGRATION_LOCK})
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL)"
        )
        done = {
            row["version"] for row in await conn.fetch_all("SELECT version FROM schema_migrations")
        }
        for version, name, sql in migration_files():
            if version in done:
                continue
            for statement in render_migration(sql, db.dialect):
                await conn.execute(statement)
            await conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (:version, :name)",
                {"version": version, "name": name},
            )
            applied.append(version)
    return applied


def chunked(items: Iterable[Any], size: int) -> Iterable[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
