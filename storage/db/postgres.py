"""PostgreSQL behind the same facade as SQLite: asyncpg, a pool, `:name` parameters.

Repositories are written once, in the SQL both backends accept. This module bridges
the remaining differences: asyncpg wants `$1` placeholders and exact Python types,
and returns `Decimal` for SUM/AVG of BIGINT where SQLite returns int.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from decimal import Decimal
from functools import lru_cache
from typing import Any, TypeVar

import asyncpg

from storage.db.protocols import (
    Connection,
    DatabaseUnavailable,
    Params,
    Row,
    TransactionObserver,
    redact_url,
)
from storage.db.sql import numbered_parameters

T = TypeVar("T")

CONNECT_TIMEOUT_SECONDS = 10.0
POOL_MIN_SIZE = 1
POOL_MAX_SIZE = 10
# How long close() waits for connections in use before cutting them.
CLOSE_GRACE_SECONDS = 10.0

logger = logging.getLogger(__name__)


@lru_cache(maxsize=4096)
def translate(sql: str) -> tuple[str, tuple[str, ...]]:
    """`:name` placeholders to asyncpg's `$n`; a name used twice is one argument.

    Returns the SQL for PostgreSQL and the parameter names in argument order."""
    return numbered_parameters(sql, "$")


def _argument(value: Any) -> Any:
    # The schema stores flags in INTEGER columns (SQLite has no BOOLEAN); asyncpg
    # refuses a Python bool for an integer parameter.
    if isinstance(value, bool):
        return int(value)
    return value


def arguments(sql: str, params: Params | None) -> tuple[str, list[Any]]:
    """The translated SQL and its positional arguments taken from `params`."""
    text, names = translate(sql)
    given = params or {}
    missing = [name for name in names if name not in given]
    if missing:
        raise KeyError(f"SQL parameter(s) not given: {', '.join(missing)}")
    return text, [_argument(given[name]) for name in names]


def _value(value: Any) -> Any:
    # SUM() of a BIGINT column is NUMERIC in PostgreSQL; SQLite gives an int.
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _row(record: asyncpg.Record) -> Row:
    return {key: _value(value) for key, value in record.items()}


def _rowcount(status: str) -> int:
    """Rows affected, from a command tag such as 'UPDATE 3' or 'INSERT 0 1'."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


class _PostgresConnection:
    dialect = "postgresql"

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Params | None = None) -> int:
        text, args = arguments(sql, params)
        return _rowcount(await self._conn.execute(text, *args))

    async def execute_many(self, sql: str, rows: Sequence[Params]) -> None:
        if not rows:
            return
        text, _ = translate(sql)
        await self._conn.executemany(text, [arguments(sql, row)[1] for row in rows])

    async def execute_each(self, statements: Sequence[tuple[str, Params]]) -> None:
        for sql, params in statements:
            await self.execute(sql, params)

    async def fetch_one(self, sql: str, params: Params | None = None) -> Row | None:
        text, args = arguments(sql, params)
        record = await self._conn.fetchrow(text, *args)
        return _row(record) if record is not None else None

    async def fetch_all(self, sql: str, params: Params | None = None) -> list[Row]:
        text, args = arguments(sql, params)
        return [_row(record) for record in await self._conn.fetch(text, *args)]


class PostgresDatabase:
    """A pool of asyncpg connections; transactions run concurrently (READ COMMITTED).

    Unlike SQLite, writers are not serialised: repositories make each state change
    one conditional statement (or lock with FOR UPDATE) so that two bot instances on
    one database cannot both win. Query parameters of the URL other than libpq's
    (e.g. `?search_path=otklik`) become server settings of every connection."""

    dialect = "postgresql"

    def __init__(
        self,
        url: str,
        *,
        min_size: int = POOL_MIN_SIZE,
        max_size: int = POOL_MAX_SIZE,
        close_grace_seconds: float = CLOSE_GRACE_SECONDS,
    ) -> None:
        self.url = url
        self._min_size = min_size
        self._max_size = max_size
        self._close_grace = close_grace_seconds
        self._pool: asyncpg.Pool | None = None
        self.on_transaction: TransactionObserver | None = None

    async def connect(self) -> None:
        if self._pool is not None:
            return
        try:
            self._pool = await asyncpg.create_pool(
                self.url,
                min_size=self._min_size,
                max_size=self._max_size,
                timeout=CONNECT_TIMEOUT_SECONDS,
                statement_cache_size=512,
            )
        except Exception as error:
            raise DatabaseUnavailable(_connect_error(self.url, error)) from None

    async def close(self) -> None:
        """Close the pool; connections still in use after the grace period are cut.

        asyncpg's close() waits for every acquired connection to be released, so work
        that never finishes (a task cancelled mid-query, or never cancelled) would keep
        a stopping instance waiting forever."""
        if self._pool is not None:
            pool, self._pool = self._pool, None
            try:
                await asyncio.wait_for(pool.close(), self._close_grace)
            except TimeoutError:
                logger.warning(
                    "PostgreSQL: connections still in use %.0f s after close; cutting them",
                    self._close_grace,
                )
                pool.terminate()

    def _require_pool(self) -> asyncpg.Pool:
        assert self._pool is not None, "Database.connect() was not awaited"
        return self._pool

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        # Commits when the block ends, rolls back on any exception (cancellation too).
        started = time.perf_counter()
        try:
            async with (
                self._require_pool().acquire() as conn,
                conn.transaction(isolation="read_committed"),
            ):
                yield _PostgresConnection(conn)
        finally:
            if self.on_transaction is not None:
                self.on_transaction(time.perf_counter() - started)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Connection]:
        async with self._require_pool().acquire() as conn:
            yield _PostgresConnection(conn)

    async def run_in_transaction(self, body: Callable[[Connection], Awaitable[T]]) -> T:
        """`body` in a transaction: each of its statements is a round trip here."""
        async with self.transaction() as conn:
            return await body(conn)


def _connect_error(url: str, error: Exception) -> str:
    """One line naming the server (never the password) and what went wrong."""
    where = f"PostgreSQL at {redact_url(url)}"
    if isinstance(error, TimeoutError):
        reason = f"no answer within {CONNECT_TIMEOUT_SECONDS:g} s"
    elif isinstance(error, ConnectionRefusedError):
        reason = "connection refused (is the server running and listening there?)"
    elif isinstance(error, OSError):
        reason = f"cannot connect ({error.strerror or error.__class__.__name__})"
    elif isinstance(error, asyncpg.PostgresError):
        reason = str(error)
    elif isinstance(error, ValueError | asyncpg.ClientConfigurationError):
        reason = f"invalid DATABASE_URL ({error})"
    else:
        reason = f"{error.__class__.__name__}: {error}"
    return f"{where}: {_without_secrets(reason, url)}"


def _without_secrets(text: str, url: str) -> str:
    password = re.search(r"//[^/@:]*:([^/@]*)@", url)
    if password and password.group(1):
        text = text.replace(password.group(1), "***")
    return re.sub(r"(password=)[^&\s]*", r"\1***", text)
