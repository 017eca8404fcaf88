"""SQLite via aiosqlite, in WAL mode: the default backend, for one process."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from storage.db.protocols import (
    Connection,
    DatabaseUnavailable,
    Params,
    Row,
    TransactionObserver,
)
from storage.db.sql import numbered_parameters

T = TypeVar("T")


class _SqliteConnection:
    dialect = "sqlite"

    def __init__(self, conn: aiosqlite.Connection, begin: str | None = None) -> None:
        self._conn = conn
        # A transaction's BEGIN rides with its first statement: one trip fewer. Every
        # statement carries it and the thread runs it unless a transaction is open, so
        # a BEGIN that failed (busy) is tried again rather than lost.
        self._begin = begin
        # aiosqlite's (private, untyped) call that runs a function on its thread.
        self._on_thread: Callable[..., Awaitable[Any]] = conn._execute

    # One trip to aiosqlite's thread per statement (not one per cursor call): each trip
    # costs about 0.1 ms of CPU, which dominated the delivery worker's cost per message.
    async def execute(self, sql: str, params: Params | None = None) -> int:
        count: int = await self._on_thread(
            _run, self._conn, self._begin, [(sql, dict(params or {}))], False
        )
        return count

    async def execute_many(self, sql: str, rows: Sequence[Params]) -> None:
        if self._begin is not None and not self._conn.in_transaction:
            await self._conn.execute(self._begin)
        await self._conn.executemany(sql, [dict(row) for row in rows])

    async def execute_each(self, statements: Sequence[tuple[str, Params]]) -> None:
        pairs = [(sql, dict(params)) for sql, params in statements]
        await self._on_thread(_run, self._conn, self._begin, pairs, False)

    async def fetch_one(self, sql: str, params: Params | None = None) -> Row | None:
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    async def fetch_all(self, sql: str, params: Params | None = None) -> list[Row]:
        rows: list[Row] = await self._on_thread(
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
        result = _statement(raw, sql, params, fetch)
    return result


# A statement with more named parameters than this is bound by number: sqlite3 finds
# each name by a linear search, so binding a multi-row INSERT of 16 rows of 13 columns
# by name costs about three times its binding by number.
MANY_PARAMETERS = 32


@lru_cache(maxsize=512)
def _numbered(sql: str) -> tuple[str, tuple[str, ...]] | None:
    """`sql` with `?n` placeholders and its names in order, for a statement with many
    parameters; None for the others (bound by name, as written)."""
    text, names = numbered_parameters(sql, "?")
    return (text, names) if len(names) > MANY_PARAMETERS else None


def _statement(raw: sqlite3.Connection, sql: str, params: dict[str, Any], fetch: bool) -> Any:
    numbered = _numbered(sql)
    if numbered is None:
        cursor = raw.execute(sql, params)
    else:
        text, names = numbered
        cursor = raw.execute(text, [params[name] for name in names])
    try:
        return [dict(row) for row in cursor.fetchall()] if fetch else cursor.rowcount
    finally:
        cursor.close()


class _OnThreadConnection:
    """The Connection a `run_in_transaction` body gets on SQLite: it runs on aiosqlite's
    thread already, so each method runs its statement at once and never suspends."""

    dialect = "sqlite"

    def __init__(self, raw: sqlite3.Connection) -> None:
        self._raw = raw

    async def execute(self, sql: str, params: Params | None = None) -> int:
        count: int = _statement(self._raw, sql, dict(params or {}), False)
        return count

    async def execute_many(self, sql: str, rows: Sequence[Params]) -> None:
        self._raw.executemany(sql, [dict(row) for row in rows])

    async def execute_each(self, statements: Sequence[tuple[str, Params]]) -> None:
        for sql, params in statements:
            _statement(self._raw, sql, dict(params), False)

    async def fetch_one(self, sql: str, params: Params | None = None) -> Row | None:
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    async def fetch_all(self, sql: str, params: Params | None = None) -> list[Row]:
        rows: list[Row] = _statement(self._raw, sql, dict(params or {}), True)
        return rows


def _drive(body: Callable[[Connection], Awaitable[T]], conn: _OnThreadConnection) -> T:
    """Run the body's coroutine to its end in one step: its connection never suspends,
    so a body that awaits anything else is a programming error."""
    coroutine = body(conn)
    try:
        coroutine.send(None)  # type: ignore[attr-defined]
    except StopIteration as finished:
        result: T = finished.value
        return result
    coroutine.close()  # type: ignore[attr-defined]
    raise RuntimeError("a run_in_transaction body awaited something other than its connection")


def _run_body(
    conn: aiosqlite.Connection, begin: str, body: Callable[[Connection], Awaitable[T]]
) -> T:
    """Runs on aiosqlite's thread: BEGIN, the whole body, COMMIT (ROLLBACK if it raises)."""
    raw = conn._conn
    raw.execute(begin)
    try:
        result = _drive(body, _OnThreadConnection(raw))
    except BaseException:
        if raw.in_transaction:
            raw.execute("ROLLBACK")
        raise
    raw.execute("COMMIT")
    return result


class SqliteDatabase:
    """SQLite in WAL mode: one writer connection (serialised), one reader."""

    dialect = "sqlite"

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()
        self.on_transaction: TransactionObserver | None = None

    async def _open(self) -> aiosqlite.Connection:
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        try:
            conn.row_factory = aiosqlite.Row
            await conn.execute("PRAGMA journal_mode=WAL")
            await conn.execute("PRAGMA synchronous=NORMAL")
            await conn.execute("PRAGMA foreign_keys=ON")
            await conn.execute("PRAGMA busy_timeout=5000")
        except BaseException:
            # aiosqlite's thread is not a daemon: a connection left open on a file that is
            # not a database would keep the process alive after its error.
            await conn.close()
            raise
        return conn

    async def connect(self) -> None:
        if self._writer is None:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            try:
                writer = await self._open()
                try:
                    self._reader = await self._open()
                except BaseException:
                    await writer.close()
                    raise
            except sqlite3.Error as error:
                raise DatabaseUnavailable(f"SQLite at {self.path}: {error}") from None
            self._writer = writer

    async def close(self) -> None:
        for conn in (self._reader, self._writer):
            if conn is not None:
                await conn.close()
        self._writer = self._reader = None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        assert self._writer is not None, "Database.connect() was not awaited"
        writer = self._writer
        started = time.perf_counter()
        try:
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
        finally:
            if self.on_transaction is not None:
                self.on_transaction(time.perf_counter() - started)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Connection]:
        assert self._reader is not None, "Database.connect() was not awaited"
        yield _SqliteConnection(self._reader)

    async def run_in_transaction(self, body: Callable[[Connection], Awaitable[T]]) -> T:
        """One trip to aiosqlite's thread for the whole transaction (see the protocol).
        The trip cannot be cancelled half-way: a cancelled caller's body still runs to
        its COMMIT or ROLLBACK, before any later transaction (the thread is a queue)."""
        assert self._writer is not None, "Database.connect() was not awaited"
        writer = self._writer
        on_thread: Callable[..., Awaitable[T]] = writer._execute
        started = time.perf_counter()
        try:
            async with self._write_lock:
                return await on_thread(_run_body, writer, "BEGIN IMMEDIATE", body)
        finally:
            if self.on_transaction is not None:
                self.on_transaction(time.perf_counter() - started)
