"""Copy every row of one otklik database into another, empty one (`otklik db copy`).

Built for moving a SQLite file to PostgreSQL (the other direction works the same):
the target is migrated, refused if it holds any row, then filled table by table in
foreign-key order, ids included, in one transaction, so a failure leaves it empty.
Identity sequences are moved past the copied ids, so the next insert gets a new id.
Tables are discovered from the schema, so tables added by later migrations are copied too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from storage.db import Connection, Database, Row, migrate, migration_files

MIGRATIONS_TABLE = "schema_migrations"
BATCH_SIZE = 1000


class CopyError(Exception):
    """The copy cannot start; nothing was written to the target."""


class TargetNotEmpty(CopyError):
    """The target already holds data: copying would mix two databases."""


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    # "integer" for whole-number columns, "text" for text, "" when neither.
    kind: str


@dataclass(slots=True)
class CopyResult:
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.rows.values())


# --- schema introspection (both dialects) ----------------------------------------


async def table_names(conn: Connection) -> list[str]:
    """otklik's tables (not the migrations ledger, not SQLite's internals), by name."""
    if conn.dialect == "postgresql":
        rows = await conn.fetch_all(
            "SELECT table_name AS name FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        )
    else:
        rows = await conn.fetch_all(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    return sorted(str(row["name"]) for row in rows if row["name"] != MIGRATIONS_TABLE)


async def parent_tables(conn: Connection, table: str) -> set[str]:
    """Tables that `table` references by foreign key."""
    if conn.dialect == "postgresql":
        rows = await conn.fetch_all(
            "SELECT p.relname AS parent FROM pg_constraint k"
            " JOIN pg_class p ON p.oid = k.confrelid"
            " WHERE k.contype = 'f' AND k.conrelid = to_regclass(:table)",
            {"table": table},
        )
    else:
        rows = await conn.fetch_all(
            'SELECT "table" AS parent FROM pragma_foreign_key_list(:table)', {"table": table}
        )
    return {str(row["parent"]) for row in rows}


async def columns(conn: Connection, table: str) -> list[Column]:
    if conn.dialect == "postgresql":
        rows = await conn.fetch_all(
            "SELECT column_name AS name, data_type AS type FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = :table"
            " ORDER BY ordinal_position",
            {"table": table},
        )
    else:
        rows = await conn.fetch_all(
            "SELECT name, type FROM pragma_table_info(:table) ORDER BY cid", {"table": table}
        )
    return [Column(str(row["name"]), _kind(str(row["type"]))) for row in rows]


def _kind(declared: str) -> str:
    declared = declared.upper()
    if "INT" in declared:
        return "integer"
    if "TEXT" in declared or "CHAR" in declared:
        return "text"
    return ""


async def primary_key(conn: Connection, table: str) -> list[str]:
    if conn.dialect == "postgresql":
        rows = await conn.fetch_all(
            "SELECT a.attname AS name FROM pg_index i"
            " JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)"
            " WHERE i.indrelid = to_regclass(:table) AND i.indisprimary"
            " ORDER BY array_position(i.indkey, a.attnum)",
            {"table": table},
        )
    else:
        rows = await conn.fetch_all(
            "SELECT name FROM pragma_table_info(:table) WHERE pk > 0 ORDER BY pk",
            {"table": table},
        )
    return [str(row["name"]) for row in rows]


async def identity_columns(conn: Connection) -> list[tuple[str, str]]:
    """(table, column) of every PostgreSQL identity column; SQLite has none to reset."""
    if conn.dialect != "postgresql":
        return []
    rows = await conn.fetch_all(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND is_identity = 'YES'"
        " ORDER BY table_name"
    )
    return [(str(row["table_name"]), str(row["column_name"])) for row in rows]


def dependency_order(parents: dict[str, set[str]]) -> list[str]:
    """Tables so that each comes after those it references (ties by name)."""
    ordered: list[str] = []
    placed: set[str] = set()
    pending = sorted(parents)
    while pending:
        # A self-reference (none today) would not block its own table.
        ready = [t for t in pending if parents[t] - {t} <= placed]
        if not ready:
            raise CopyError(f"foreign keys form a cycle among: {', '.join(pending)}")
        ordered.extend(ready)
        placed.update(ready)
        pending = [t for t in pending if t not in placed]
    return ordered


async def tables_in_fk_order(conn: Connection) -> list[str]:
    names = await table_names(conn)
    parents = {name: await parent_tables(conn, name) & set(names) for name in names}
    return dependency_order(parents)


async def reset_identities(conn: Connection) -> None:
    """Make each identity column's next value max(id) + 1 (1 for an empty table)."""
    for table, column in await identity_columns(conn):
        await conn.execute(
            "SELECT setval(pg_get_serial_sequence(:table, :column),"
            f' COALESCE((SELECT MAX("{column}") FROM "{table}"), 0) + 1, false)',
            {"table": table, "column": column},
        )


async def tables_with_rows(conn: Connection) -> list[str]:
    found = []
    for table in await table_names(conn):
        if await conn.fetch_one(f'SELECT 1 AS found FROM "{table}" LIMIT 1'):
            found.append(table)
    return found


async def applied_versions(conn: Connection) -> set[int]:
    if MIGRATIONS_TABLE not in await _all_tables(conn):
        return set()
    rows = await conn.fetch_all(f"SELECT version FROM {MIGRATIONS_TABLE}")
    return {int(row["version"]) for row in rows}


async def _all_tables(conn: Connection) -> set[str]:
    if conn.dialect == "postgresql":
        rows = await conn.fetch_all(
            "SELECT table_name AS name FROM information_schema.tables"
            " WHERE table_schema = current_schema()"
        )
    else:
        rows = await conn.fetch_all("SELECT name FROM sqlite_master WHERE type = 'table'")
    return {str(row["name"]) for row in rows}


# --- the copy ------------------------------------------------------------------------


Progress = Callable[[str, int], None]


async def copy_database(
    source: Database,
    target: Database,
    *,
    batch_size: int = BATCH_SIZE,
    progress: Progress | None = None,
) -> CopyResult:
    """Copy all rows of `source` into the empty `target` (both connected).

    Raises CopyError (nothing written) when the source is not at this version's
    migrations, and TargetNotEmpty when any target table has a row. `progress` is
    called with (table, rows copied) after each table.
    """
    shipped = {version for version, _, _ in migration_files()}
    async with source.read() as conn:
        source_versions = await applied_versions(conn)
    if source_versions != shipped:
        raise CopyError(
            f"the source is at migrations {sorted(source_versions) or 'none'}, this otklik"
            f" ships {sorted(shipped)}: run `otklik db migrate` against the source first"
        )
    async with target.read() as conn:
        await _refuse_if_not_empty(conn)
    await migrate(target)
    result = CopyResult()
    async with target.transaction() as conn:
        # Checked again inside the transaction: someone may have written meanwhile.
        await _refuse_if_not_empty(conn)
        for table in await tables_in_fk_order(conn):
            result.rows[table] = await _copy_table(source, conn, table, batch_size)
            if progress is not None:
                progress(table, result.rows[table])
        await reset_identities(conn)
    return result


async def _refuse_if_not_empty(conn: Connection) -> None:
    filled = await tables_with_rows(conn)
    if filled:
        raise TargetNotEmpty(
            f"the target already has data (tables: {', '.join(filled)});"
            " copy only into an empty database"
        )


async def _copy_table(source: Database, target: Connection, table: str, batch_size: int) -> int:
    async with source.read() as conn:
        source_columns = {column.name for column in await columns(conn, table)}
        order = await primary_key(conn, table)
    wanted = [column for column in await columns(target, table) if column.name in source_columns]
    if not wanted:
        return 0
    names = ", ".join(f'"{column.name}"' for column in wanted)
    values = ", ".join(f":{column.name}" for column in wanted)
    insert = f'INSERT INTO "{table}" ({names}) VALUES ({values})'
    key = order if order else [column.name for column in wanted]
    copied = 0
    async for batch in _pages(source, table, names, key, batch_size):
        await target.execute_many(insert, [_coerced(row, wanted) for row in batch])
        copied += len(batch)
    return copied


async def _pages(
    source: Database, table: str, names: str, key: list[str], batch_size: int
) -> AsyncIterator[list[Row]]:
    """Batches of rows in key order: keyset on a one-column primary key (flat cost per
    batch), else LIMIT/OFFSET on the whole key (only the small rollup tables)."""
    sort = ", ".join(f'"{name}"' for name in key)
    select = f'SELECT {names} FROM "{table}"'
    last: object = None
    offset = 0
    while True:
        params: dict[str, object] = {"limit": batch_size}
        if len(key) > 1:
            sql = f"{select} ORDER BY {sort} LIMIT :limit OFFSET :offset"
            params["offset"] = offset
        elif last is None:
            sql = f"{select} ORDER BY {sort} LIMIT :limit"
        else:
            sql = f'{select} WHERE "{key[0]}" > :last ORDER BY {sort} LIMIT :limit'
            params["last"] = last
        async with source.read() as conn:
            rows = await conn.fetch_all(sql, params)
        if rows:
            yield rows
        if len(rows) < batch_size:
            return
        last = rows[-1][key[0]]
        offset += len(rows)


def _coerced(row: dict[str, object], wanted: list[Column]) -> dict[str, object]:
    """SQLite stores what it is given; PostgreSQL wants the declared type."""
    return {column.name: _coerce(row.get(column.name), column.kind) for column in wanted}


def _coerce(value: object, kind: str) -> object:
    if value is None:
        return None
    if kind == "integer":
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value)
        return value
    if kind == "text" and not isinstance(value, str):
        return str(value)
    return value
