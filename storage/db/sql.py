"""Helpers for the few places where the SQL of the two dialects differs."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from storage.db.protocols import Connection


def for_update(conn: Connection) -> str:
    """' FOR UPDATE' on PostgreSQL: a read that a write in the same transaction
    depends on must lock its rows there. SQLite serialises writers already."""
    return " FOR UPDATE" if conn.dialect == "postgresql" else ""


def id_in(conn: Connection, column: str, ids: Sequence[int] | Sequence[str]) -> tuple[str, Any]:
    """`column IN <ids>` and the value for its `:ids` parameter: one statement text
    whatever the list's length, so prepared-statement caches stay small (an array on
    PostgreSQL, JSON on SQLite)."""
    if conn.dialect == "postgresql":
        return f"{column} = ANY(:ids)", list(ids)
    return f"{column} IN (SELECT value FROM json_each(:ids))", json.dumps(list(ids))


def chunked(items: Iterable[Any], size: int) -> Iterable[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
