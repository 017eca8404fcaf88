"""Visits as the till reported them, and the surveys they turned into."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from storage.db import Connection, id_in
from storage.models import Survey, Visit


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


async def by_key(conn: Connection, visit_key: str) -> Visit | None:
    row = await conn.fetch_one("SELECT * FROM visits WHERE visit_key = :key", {"key": visit_key})
    return Visit.from_row(row) if row else None


async def insert(
    conn: Connection, visit: NewVisit, outcome: str, skip_reason: str | None, now: int
) -> Visit | None:
    """Insert a visit; None when its key exists already (the caller reads that one)."""
    row = await conn.fetch_one(
        "INSERT INTO visits (visit_key, customer_id, visited_at, utc_offset_minutes, location,"
        " staff, touchpoint, source, outcome, skip_reason, day, created_at)"
        " VALUES (:visit_key, :customer_id, :visited_at, :offset, :location, :staff,"
        " :touchpoint, :source, :outcome, :skip_reason, :day, :now)"
        " ON CONFLICT (visit_key) DO NOTHING RETURNING *",
        {
            "visit_key": visit.visit_key,
            "customer_id": visit.customer_id,
            "visited_at": visit.visited_at,
            "offset": visit.utc_offset_minutes,
            "location": visit.location,
            "staff": visit.staff,
            "touchpoint": visit.touchpoint,
            "source": visit.source,
            "outcome": outcome,
            "skip_reason": skip_reason,
            "day": visit.day,
            "now": now,
        },
    )
    return Visit.from_row(row) if row else None


async def latest_location(conn: Connection, customer_id: int) -> str | None:
    """The location of the customer's most recent visit; None when they have none."""
    row = await conn.fetch_one(
        "SELECT location FROM visits WHERE customer_id = :id"
        " ORDER BY visited_at DESC, id DESC LIMIT 1",
        {"id": customer_id},
    )
    return None if row is None else str(row["location"])


async def survey_for_visit(conn: Connection, visit_id: int) -> Survey | None:
    row = await conn.fetch_one("SELECT * FROM surveys WHERE visit_id = :id", {"id": visit_id})
    return Survey.from_row(row) if row else None


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
