"""The chain's catalogue: locations (branches) and the regions that group them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from storage.db import Connection, id_in, multi_row
from storage.models import CaseStatus, _FromRow


class LocationSource(StrEnum):
    """How a location came into the catalogue."""

    API = "api"
    IMPORT = "import"
    VISIT = "visit"  # an unknown location accepted with UNKNOWN_LOCATIONS=accept
    MIGRATION = "migration"  # a free-text location found when the catalogue was made


@dataclass(slots=True)
class Region(_FromRow):
    code: str
    name: str
    manager_chat_id: int | None
    created_at: int
    updated_at: int


@dataclass(slots=True)
class Location(_FromRow):
    id: int
    code: str
    name: str
    time_zone: str | None
    manager_chat_id: int | None
    region: str | None
    opening_hours: str | None
    source: str
    created_at: int
    updated_at: int

    @property
    def hours(self) -> dict[str, str]:
        """Opening hours per weekday ("mon": "09:00-21:00"); empty when not set."""
        if not self.opening_hours:
            return {}
        loaded = json.loads(self.opening_hours)
        return {str(day): str(span) for day, span in loaded.items()} if loaded else {}


@dataclass(frozen=True, slots=True)
class LocationFields:
    """What an admin sets on a location; None leaves a field empty."""

    name: str
    time_zone: str | None = None
    manager_chat_id: int | None = None
    region: str | None = None
    opening_hours: dict[str, str] | None = None

    def params(self) -> dict[str, Any]:
        hours = json.dumps(self.opening_hours, sort_keys=True) if self.opening_hours else None
        return {
            "name": self.name,
            "time_zone": self.time_zone,
            "manager_chat_id": self.manager_chat_id,
            "region": self.region,
            "opening_hours": hours,
        }


async def get(conn: Connection, code: str) -> Location | None:
    row = await conn.fetch_one("SELECT * FROM locations WHERE code = :code", {"code": code})
    return Location.from_row(row) if row else None


async def get_by_id(conn: Connection, location_id: int) -> Location | None:
    row = await conn.fetch_one("SELECT * FROM locations WHERE id = :id", {"id": location_id})
    return Location.from_row(row) if row else None


async def all_locations(conn: Connection) -> list[Location]:
    rows = await conn.fetch_all("SELECT * FROM locations ORDER BY code")
    return [Location.from_row(row) for row in rows]


async def upsert(
    conn: Connection, code: str, fields: LocationFields, source: LocationSource, now: int
) -> bool:
    """Create or replace a location's fields; True when it was created."""
    existed = await conn.fetch_one("SELECT id FROM locations WHERE code = :code", {"code": code})
    params = {**fields.params(), "code": code, "source": str(source), "now": now}
    if existed is None:
        inserted = await conn.fetch_one(
            "INSERT INTO locations (code, name, time_zone, manager_chat_id, region,"
            " opening_hours, source, created_at, updated_at)"
            " VALUES (:code, :name, :time_zone, :manager_chat_id, :region, :opening_hours,"
            " :source, :now, :now)"
            " ON CONFLICT (code) DO NOTHING RETURNING id",
            params,
        )
        if inserted is not None:
            return True
    # Known already (or created by a racing request a moment ago): replace its fields.
    await conn.execute(
        "UPDATE locations SET name = :name, time_zone = :time_zone,"
        " manager_chat_id = :manager_chat_id, region = :region,"
        " opening_hours = :opening_hours, updated_at = :now WHERE code = :code",
        params,
    )
    return False


async def get_many(conn: Connection, codes: Sequence[str]) -> dict[str, Location]:
    """The catalogued locations among `codes`, by code; one query."""
    if not codes:
        return {}
    where, value = id_in(conn, "code", codes)
    rows = await conn.fetch_all(f"SELECT * FROM locations WHERE {where}", {"ids": value})
    return {str(row["code"]): Location.from_row(row) for row in rows}


async def ensure(conn: Connection, code: str, source: LocationSource, now: int) -> bool:
    """Catalogue a location named by a visit with no fields of its own; True if new."""
    return await ensure_many(conn, [code], source, now) > 0


_ENSURE_COLUMNS = ("code", "name", "source", "created_at", "updated_at")


async def ensure_many(
    conn: Connection, codes: Sequence[str], source: LocationSource, now: int
) -> int:
    """`ensure` for many codes, in code order (concurrent writers wait alike); how many
    were new."""
    values = [(code, code, str(source), now, now) for code in sorted(set(codes))]
    added = 0
    for chunk, params in multi_row(_ENSURE_COLUMNS, values):
        added += await conn.execute(
            f"INSERT INTO locations ({', '.join(_ENSURE_COLUMNS)}) VALUES {chunk}"
            " ON CONFLICT (code) DO NOTHING",
            params,
        )
    return added


async def has_open_cases(conn: Connection, code: str) -> bool:
    """Whether a case of the location is open (a survey's, or unprompted feedback's)."""
    row = await conn.fetch_one(
        "SELECT 1 AS found FROM cases c LEFT JOIN surveys s ON s.id = c.survey_id"
        " WHERE (s.location = :code OR c.unprompted_location = :code)"
        " AND c.status IN (:new, :taken) LIMIT 1",
        {"code": code, "new": CaseStatus.NEW, "taken": CaseStatus.TAKEN},
    )
    return row is not None


async def delete(conn: Connection, code: str) -> bool:
    """Remove a location that has no open case; False when none was removed."""
    count = await conn.execute(
        "DELETE FROM locations WHERE code = :code AND NOT EXISTS ("
        " SELECT 1 FROM cases c LEFT JOIN surveys s ON s.id = c.survey_id"
        " WHERE (s.location = :code OR c.unprompted_location = :code)"
        " AND c.status IN (:new, :taken))",
        {"code": code, "new": CaseStatus.NEW, "taken": CaseStatus.TAKEN},
    )
    return count > 0


# --- regions ---------------------------------------------------------------------------


async def get_region(conn: Connection, code: str) -> Region | None:
    row = await conn.fetch_one("SELECT * FROM regions WHERE code = :code", {"code": code})
    return Region.from_row(row) if row else None


async def all_regions(conn: Connection) -> list[Region]:
    rows = await conn.fetch_all("SELECT * FROM regions ORDER BY code")
    return [Region.from_row(row) for row in rows]


async def upsert_region(
    conn: Connection, code: str, name: str, manager_chat_id: int | None, now: int
) -> bool:
    """Create or replace a region; True when it was created."""
    params = {"code": code, "name": name, "chat": manager_chat_id, "now": now}
    inserted = await conn.fetch_one(
        "INSERT INTO regions (code, name, manager_chat_id, created_at, updated_at)"
        " VALUES (:code, :name, :chat, :now, :now)"
        " ON CONFLICT (code) DO NOTHING RETURNING code",
        params,
    )
    if inserted is not None:
        return True
    await conn.execute(
        "UPDATE regions SET name = :name, manager_chat_id = :chat, updated_at = :now"
        " WHERE code = :code",
        params,
    )
    return False


async def delete_region(conn: Connection, code: str) -> bool:
    """Remove a region no location names; False when none was removed."""
    count = await conn.execute(
        "DELETE FROM regions WHERE code = :code"
        " AND NOT EXISTS (SELECT 1 FROM locations WHERE region = :code)",
        {"code": code},
    )
    return count > 0


async def region_in_use(conn: Connection, code: str) -> bool:
    row = await conn.fetch_one(
        "SELECT 1 AS found FROM locations WHERE region = :code LIMIT 1", {"code": code}
    )
    return row is not None


# --- routing ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Route:
    """The chats configured for a location: its own and its region's (None = not set)."""

    location_chat: int | None
    region_chat: int | None


async def route(conn: Connection, code: str) -> Route:
    row = await conn.fetch_one(
        "SELECT l.manager_chat_id AS location_chat, r.manager_chat_id AS region_chat"
        " FROM locations l LEFT JOIN regions r ON r.code = l.region WHERE l.code = :code",
        {"code": code},
    )
    if row is None:
        return Route(None, None)
    return Route(row["location_chat"], row["region_chat"])


async def codes_for_chats(conn: Connection, chat_ids: Sequence[int]) -> set[str]:
    """The locations whose own chat, or whose region's chat, is one of `chat_ids`."""
    where, ids = id_in(conn, "l.manager_chat_id", chat_ids)
    region_where, _ = id_in(conn, "r.manager_chat_id", chat_ids)
    rows = await conn.fetch_all(
        "SELECT l.code FROM locations l LEFT JOIN regions r ON r.code = l.region"
        f" WHERE {where} OR {region_where}",
        {"ids": ids},
    )
    return {str(row["code"]) for row in rows}


async def team_chats(conn: Connection) -> set[int]:
    """Every managers' chat the catalogue names, of locations and of regions."""
    rows = await conn.fetch_all(
        "SELECT manager_chat_id AS chat FROM locations WHERE manager_chat_id IS NOT NULL"
        " UNION SELECT manager_chat_id AS chat FROM regions WHERE manager_chat_id IS NOT NULL"
    )
    return {int(row["chat"]) for row in rows}
