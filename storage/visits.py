"""Visits as the till reported them, and the surveys they turned into."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from storage.db import Connection, id_in, multi_row
from storage.models import Visit


@dataclass(slots=True, frozen=True)
class NewVisit:
    visit_key: str
    customer_id: int | None
    visited_at: int
    utc_offset_minutes: int | None
    location: str
    staff: str
    touchpoint: str
    source: str
    day: str


# The columns a visit is written with (its id chosen by the database; storage.bulk adds it).
VISIT_COLUMNS = (
    "visit_key",
    "customer_id",
    "visited_at",
    "utc_offset_minutes",
    "location",
    "staff",
    "touchpoint",
    "source",
    "outcome",
    "skip_reason",
    "day",
    "created_at",
)


@dataclass(slots=True, frozen=True)
class Known:
    """A visit reported before, as its outcome reads: the visit and its survey's id and
    due time (None when it was skipped)."""

    visit: Visit
    survey_id: int | None
    survey_due_at: int | None


async def known(conn: Connection, visit_keys: Sequence[str]) -> dict[str, Known]:
    """The visits among `visit_keys` reported before, with their surveys, by key; one
    query."""
    if not visit_keys:
        return {}
    where, keys = id_in(conn, "v.visit_key", visit_keys)
    rows = await conn.fetch_all(
        "SELECT v.*, s.id AS known_survey_id, s.due_at AS known_due_at FROM visits v"
        f" LEFT JOIN surveys s ON s.visit_id = v.id WHERE {where}",
        {"ids": keys},
    )
    return {
        str(row["visit_key"]): Known(
            Visit.from_row(row), row["known_survey_id"], row["known_due_at"]
        )
        for row in rows
    }


async def insert(
    conn: Connection, visit: NewVisit, outcome: str, skip_reason: str | None, now: int
) -> Visit | None:
    """Insert a visit; None when its key exists already (the caller reads that one)."""
    ids = await insert_many(conn, [(visit, outcome, skip_reason)], now)
    if visit.visit_key not in ids:
        return None
    row = await conn.fetch_one("SELECT * FROM visits WHERE id = :id", {"id": ids[visit.visit_key]})
    return Visit.from_row(row) if row else None


async def latest_location(conn: Connection, customer_id: int) -> str | None:
    """The location of the customer's most recent visit; None when they have none."""
    row = await conn.fetch_one(
        "SELECT location FROM visits WHERE customer_id = :id"
        " ORDER BY visited_at DESC, id DESC LIMIT 1",
        {"id": customer_id},
    )
    return None if row is None else str(row["location"])


async def insert_many(
    conn: Connection, rows: Sequence[tuple[NewVisit, str, str | None]], now: int
) -> dict[str, int]:
    """Insert (visit, outcome, skip reason) rows, many per statement and in key order
    (concurrent writers on PostgreSQL wait for each other's keys alike); the ids of the
    inserted ones by key. A key that exists already is left out (the caller reads that
    one)."""
    values = [
        (
            visit.visit_key,
            visit.customer_id,
            visit.visited_at,
            visit.utc_offset_minutes,
            visit.location,
            visit.staff,
            visit.touchpoint,
            visit.source,
            outcome,
            skip_reason,
            visit.day,
            now,
        )
        for visit, outcome, skip_reason in sorted(rows, key=lambda row: row[0].visit_key)
    ]
    inserted: dict[str, int] = {}
    for chunk, params in multi_row(VISIT_COLUMNS, values):
        found = await conn.fetch_all(
            f"INSERT INTO visits ({', '.join(VISIT_COLUMNS)}) VALUES {chunk}"
            " ON CONFLICT (visit_key) DO NOTHING RETURNING id, visit_key",
            params,
        )
        inserted.update((str(row["visit_key"]), int(row["id"])) for row in found)
    return inserted


async def latest_offsets(conn: Connection, customer_ids: Sequence[int]) -> dict[int, int | None]:
    """Each customer's most recent visit's UTC offset (None: the till sent none), by id;
    customers without visits are left out. One index probe per customer."""
    if not customer_ids:
        return {}
    where, ids = id_in(conn, "c.id", customer_ids)
    rows = await conn.fetch_all(
        "SELECT c.id, v.utc_offset_minutes AS offset_minutes FROM customers c"
        " JOIN visits v ON v.id = (SELECT l.id FROM visits l WHERE l.customer_id = c.id"
        "  ORDER BY l.visited_at DESC, l.id DESC LIMIT 1)"
        f" WHERE {where}",
        {"ids": ids},
    )
    return {
        int(row["id"]): None if row["offset_minutes"] is None else int(row["offset_minutes"])
        for row in rows
    }
