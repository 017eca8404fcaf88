"""Helpers for the few places where the SQL of the two dialects differs."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from typing import Any

from storage.db.protocols import Connection

# Quoted strings, quoted identifiers and comments are copied as they are, so a ':x'
# inside them is no parameter; '::' is a cast. Only the last group is a name.
_TOKENS = re.compile(r"""('(?:[^']|'')*')|("(?:[^"]|"")*")|(--[^\n]*)|(::)|:([A-Za-z_]\w*)""")


def numbered_parameters(sql: str, marker: str) -> tuple[str, tuple[str, ...]]:
    """`:name` placeholders to numbered ones (`marker` + n: `$1` for asyncpg, `?1` for
    SQLite); a name used twice is one argument. The SQL and the names in argument order."""
    names: list[str] = []

    def placeholder(match: re.Match[str]) -> str:
        name = match.group(5)
        if name is None:
            return match.group(0)
        if name not in names:
            names.append(name)
        return f"{marker}{names.index(name) + 1}"

    return _TOKENS.sub(placeholder, sql), tuple(names)


def for_update(conn: Connection) -> str:
    """' FOR UPDATE' on PostgreSQL: a read that a write in the same transaction
    depends on must lock its rows there. SQLite serialises writers already."""
    return " FOR UPDATE" if conn.dialect == "postgresql" else ""


def id_in(
    conn: Connection, column: str, ids: Sequence[int] | Sequence[str], param: str = "ids"
) -> tuple[str, Any]:
    """`column IN <ids>` and the value for its `:ids` parameter (or `:<param>`): one
    statement text whatever the list's length, so prepared-statement caches stay small
    (an array on PostgreSQL, JSON on SQLite)."""
    if conn.dialect == "postgresql":
        return f"{column} = ANY(:{param})", list(ids)
    return f"{column} IN (SELECT value FROM json_each(:{param}))", json.dumps(list(ids))


def chunked(items: Iterable[Any], size: int) -> Iterable[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


# Rows per multi-row statement, largest first: rows of any number are cut into chunks
# of these sizes, so a statement has few texts to prepare and cache. Larger chunks are
# no faster: a chunk of 16 rows is already bound by number on SQLite (its sqlite.py).
ROW_CHUNKS = (16, 4, 1)


@lru_cache(maxsize=256)
def _names(columns: tuple[str, ...], rows: int) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(f"{column}{index}" for column in columns) for index in range(rows))


@lru_cache(maxsize=256)
def values_list(columns: tuple[str, ...], rows: int) -> str:
    """`(:a0, :b0), (:a1, :b1), ...`: the VALUES of `rows` rows, row i taking the
    parameters `<column><i>`."""
    return ", ".join(
        "(" + ", ".join(f":{name}" for name in row) + ")" for row in _names(columns, rows)
    )


def multi_row(
    columns: tuple[str, ...], rows: Sequence[Sequence[Any]], sizes: Sequence[int] = ROW_CHUNKS
) -> Iterator[tuple[str, dict[str, Any]]]:
    """`rows` (values in `columns` order) cut into chunks of `sizes` (which must end
    with 1): each chunk's `values_list` and its parameters, in order."""
    start = 0
    while start < len(rows):
        size = next(size for size in sizes if size <= len(rows) - start)
        params: dict[str, Any] = {}
        for names, row in zip(_names(columns, size), rows[start : start + size], strict=True):
            params.update(zip(names, row, strict=True))
        yield values_list(columns, size), params
        start += size
