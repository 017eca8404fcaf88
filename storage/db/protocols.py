"""What repositories and the bot see of a database, whichever backend serves it.

Repositories write SQL with `:name` parameters and call the methods of
`Connection`; `Database` hands out connections inside a transaction or for reads.
SQL must be valid on both backends; `conn.dialect` tells the few places that differ
(the helpers in storage/db/sql.py).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

Row = dict[str, Any]
Params = Mapping[str, Any]
T = TypeVar("T")


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


class Connection(Protocol):
    """What a repository needs from a connection inside a transaction."""

    dialect: str

    async def execute(self, sql: str, params: Params | None = None) -> int: ...

    async def execute_many(self, sql: str, rows: Sequence[Params]) -> None: ...

    async def execute_each(self, statements: Sequence[tuple[str, Params]]) -> None:
        """Several statements in order: one trip to the database where it can."""

    async def fetch_one(self, sql: str, params: Params | None = None) -> Row | None: ...

    async def fetch_all(self, sql: str, params: Params | None = None) -> list[Row]: ...


# Told the seconds each transaction took (`transaction()` or `run_in_transaction()`,
# from the call to its COMMIT or ROLLBACK, waiting for SQLite's one writer included).
TransactionObserver = Callable[[float], None]


class Database(Protocol):
    dialect: str
    # Set by whoever measures (bot/core/metrics.py); None: nothing is timed.
    on_transaction: TransactionObserver | None

    async def connect(self) -> None: ...

    async def close(self) -> None: ...

    def transaction(self) -> AbstractAsyncContextManager[Connection]:
        """`async with db.transaction() as conn`: commits when the block ends, rolls
        back when it raises."""

    def read(self) -> AbstractAsyncContextManager[Connection]:
        """`async with db.read() as conn`: a connection for reads only."""

    async def run_in_transaction(self, body: Callable[[Connection], Awaitable[T]]) -> T:
        """`await body(conn)` in one transaction, committed before this returns (rolled
        back if it raises), and its result. On SQLite the whole body, BEGIN and COMMIT
        included, runs on the database's thread in one trip, so `body` must await
        nothing but its connection's methods (anything else raises RuntimeError) and
        must not touch the event loop (no asyncio.Event.set(), no tasks): do that after
        this returns. For the hottest transactions, where each trip is a large share
        of the cost."""
