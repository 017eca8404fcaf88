"""Bulk writes for generated data sets (the demo's benchmark database of a million
answers): rows of customers, visits, surveys, their topics, cases and case events with ids the
caller chose, many per statement, into tables the caller fills from empty.

The report counters are not written here: the caller counts the same rows with
`storage.rollups.Tally`, exactly as the live path counts each answer, and writes the
tally in the same transaction. `finish` then moves PostgreSQL's identity sequences
past the ids used, so that later inserts (the live bot's) do not collide.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from storage.copy import reset_identities
from storage.db import Connection
from storage.visits import VISIT_COLUMNS

# The columns a bulk row may carry, per table (every row of a call names them all).
COLUMNS: dict[str, tuple[str, ...]] = {
    "customers": (
        "id",
        "telegram_id",
        "external_id",
        "phone",
        "name",
        "language",
        "link_token",
        "opted_out",
        "unreachable",
        "unreachable_reason",
        "last_surveyed_at",
        "created_at",
        "updated_at",
    ),
    "visits": ("id", *VISIT_COLUMNS),
    "surveys": (
        "id",
        "visit_id",
        "customer_id",
        "location",
        "staff",
        "touchpoint",
        "day",
        "status",
        "step",
        "due_at",
        "deadline_at",
        "sent_at",
        "expires_at",
        "chat_id",
        "message_id",
        "language",
        "nps",
        "ces",
        "reason",
        "nps_at",
        "ces_at",
        "reason_at",
        "completed_at",
        "reminded_at",
        "closed_reason",
        "created_at",
        "csat",
        "csat_at",
    ),
    "cases": (
        "id",
        "survey_id",
        "customer_id",
        "status",
        "owner_id",
        "owner_name",
        "opened_at",
        "taken_at",
        "resolved_at",
        "closed_at",
        "closed_reason",
        "resolution_note",
        "take_due_at",
        "resolve_due_at",
        "escalated_take_at",
        "escalated_resolve_at",
        "notify_customer",
        "followup_due_at",
        "followup_sent_at",
        "followup_answer",
        "followup_at",
        "updated_at",
    ),
    "case_events": ("case_id", "at", "actor_id", "actor_name", "kind", "text"),
    "survey_topics": ("survey_id", "topic"),
}
# The tables with ids the caller chooses (case events number themselves).
ID_TABLES = ("customers", "visits", "surveys", "cases")


def _insert_sql(table: str) -> str:
    columns = COLUMNS[table]
    return (
        f"INSERT INTO {table} ({', '.join(columns)})"
        f" VALUES ({', '.join(':' + column for column in columns)})"
    )


async def insert(conn: Connection, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert `rows` into `table` (one of COLUMNS), each naming exactly its columns."""
    if table not in COLUMNS:
        raise ValueError(f"no bulk insert into {table!r}; expected one of {sorted(COLUMNS)}")
    if not rows:
        return
    # The first row stands for all (a caller builds them alike); a later row missing
    # a column fails in the driver.
    wanted, named = set(COLUMNS[table]), set(rows[0])
    if named != wanted:
        raise ValueError(
            f"{table}: rows name {sorted(named ^ wanted)} wrongly"
            f" (expected exactly {', '.join(COLUMNS[table])})"
        )
    await conn.execute_many(_insert_sql(table), rows)


async def next_ids(conn: Connection) -> dict[str, int]:
    """For each table in ID_TABLES, the first id after those in use."""
    found = {}
    for table in ID_TABLES:
        row = await conn.fetch_one(f"SELECT COALESCE(MAX(id), 0) + 1 AS next FROM {table}")
        found[table] = int(row["next"]) if row else 1
    return found


async def finish(conn: Connection) -> None:
    """After the last insert: PostgreSQL's identities continue after the ids used
    (SQLite's AUTOINCREMENT follows the largest id by itself)."""
    if conn.dialect == "postgresql":
        await reset_identities(conn)


async def analyze(conn: Connection) -> None:
    """After a load of this size: PostgreSQL's planner statistics, as autovacuum would
    gather them soon after (a server may run with it off). SQLite keeps none unless
    asked, and the bot never asks, so nothing there."""
    if conn.dialect != "postgresql":
        return
    # The schema's own tables only: a bare ANALYZE would read every schema's.
    tables = await conn.fetch_all(
        "SELECT table_name AS name FROM information_schema.tables"
        " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
    )
    for table in tables:
        await conn.execute(f'ANALYZE "{table["name"]}"')


async def mark_unreachable(
    conn: Connection, customers: Sequence[tuple[int, int]], reason: str
) -> None:
    """(customer id, when) of customers who blocked the bot: unreachable from then on."""
    await conn.execute_many(
        "UPDATE customers SET unreachable = 1, unreachable_reason = :reason,"
        " updated_at = :at WHERE id = :id",
        [{"id": customer_id, "at": at, "reason": reason} for customer_id, at in customers],
    )


async def set_last_surveyed(conn: Connection) -> None:
    """Each customer's last_surveyed_at from their visits that were surveyed (what the
    survey cooldown reads), in one statement."""
    await conn.execute(
        "UPDATE customers SET last_surveyed_at = (SELECT MAX(v.visited_at) FROM visits AS v"
        " WHERE v.customer_id = customers.id AND v.outcome = 'scheduled')"
    )
