"""A small database facade: named-parameter SQL, transactions, migrations.

The backend is chosen from the URL: SQLite via aiosqlite (the default, one process;
storage/db/sqlite.py) or PostgreSQL via asyncpg (several instances;
storage/db/postgres.py, imported only when such a URL is used). The rest of the code
imports from here:

- protocols.py: Row, Params, Connection, Database, DatabaseUnavailable, redact_url,
  TransactionObserver (the hook that times each transaction)
- sql.py: for_update, id_in, chunked (where the dialects' SQL differs), multi_row
  (many rows per INSERT)
- migrate.py: migration_files, render_migration, migrate
"""

from __future__ import annotations

from storage.db.migrate import migrate, migration_files, render_migration
from storage.db.protocols import (
    Connection,
    Database,
    DatabaseUnavailable,
    Params,
    Row,
    TransactionObserver,
    redact_url,
)
from storage.db.sql import chunked, for_update, id_in, multi_row
from storage.db.sqlite import SqliteDatabase

__all__ = [
    "Connection",
    "Database",
    "DatabaseUnavailable",
    "Params",
    "Row",
    "SqliteDatabase",
    "TransactionObserver",
    "chunked",
    "create_database",
    "for_update",
    "id_in",
    "migrate",
    "migration_files",
    "multi_row",
    "redact_url",
    "render_migration",
]


def create_database(url: str) -> Database:
    """Pick the backend from DATABASE_URL."""
    if url.startswith("sqlite:///"):
        return SqliteDatabase(url.removeprefix("sqlite:///"))
    if url.startswith(("postgresql://", "postgres://")):
        from storage.db.postgres import PostgresDatabase

        return PostgresDatabase(url)
    raise ValueError("DATABASE_URL must start with sqlite:/// or postgresql://")
