"""The chain's catalogue in storage, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cases.service import CaseService
from bot.core.clock import FakeClock
from bot.locations.service import (
    CatalogueError,
    Deletion,
    LocationService,
    RegionBody,
    parse_location,
)
from storage import locations as catalogue
from storage.db import Database, SqliteDatabase
from storage.db import migrate as apply_migrations
from storage.locations import LocationFields, LocationSource
from tests.support.reports import Answer, insert_customer, insert_survey

ADMIN = 900

BOTH = pytest.mark.parametrize("db", ["sqlite", "postgres"], indirect=True)


@BOTH
async def test_put_creates_then_replaces_and_refuses_an_unknown_region(
    db: Database, clock: FakeClock
) -> None:
    service = LocationService(db, clock)
    fields = parse_location(
        {
            "name": "Tverskaya 7",
            "time_zone": "Europe/Moscow",
            "manager_chat_id": -1001,
            "opening_hours": {"mon": "09:00-21:00", "SAT": "10:00-18:00"},
        }
    )
    assert await service.put("tv7", fields) is True
    assert await service.put("tv7", LocationFields(name="Tverskaya")) is False
    stored = await service.get("tv7")
    assert stored is not None
    # A replace sets every field: what the new body leaves out is cleared.
    assert (stored.name, stored.time_zone, stored.manager_chat_id, stored.hours) == (
        "Tverskaya",
        None,
        None,
        {},
    )
    with pytest.raises(CatalogueError, match="region: 'north' is not in the catalogue"):
        await service.put("tv8", LocationFields(name="Eight", region="north"))
    assert await service.get("tv8") is None
    assert await service.put_region("north", RegionBody(name="North", manager_chat_id=-2002))
    assert await service.put("tv8", LocationFields(name="Eight", region="north")) is True
    assert await service.delete_region("north") is Deletion.IN_USE
    assert await service.delete("tv8") is Deletion.DELETED
    assert await service.delete_region("north") is Deletion.DELETED
    assert await service.delete("tv8") is Deletion.NOT_FOUND


@BOTH
async def test_a_location_with_an_open_case_is_not_deleted(db: Database, clock: FakeClock) -> None:
    service = LocationService(db, clock)
    await service.put("mall", LocationFields(name="Mall"))
    cases = CaseService(db, clock)
    async with db.transaction() as conn:
        customer_id = await insert_customer(conn)
        answer = Answer("2026-12-07", "mall", "", "", sent=True, nps=2, ces=None)
        survey_id = await insert_survey(conn, customer_id, answer)
        opened = await cases.open_for_survey(conn, survey_id, customer_id, clock.now())
    assert opened.case is not None
    assert await service.delete("mall") is Deletion.IN_USE
    assert await service.get("mall") is not None
    closed = await cases.close_without_fix(opened.case.id, ADMIN, "not ours", is_admin=True)
    assert closed.changed
    assert await service.delete("mall") is Deletion.DELETED


@BOTH
async def test_ensure_catalogues_a_visit_location_once(db: Database) -> None:
    async with db.transaction() as conn:
        assert await catalogue.ensure(conn, "Кафе на Арбате", LocationSource.VISIT, 5) is True
        assert await catalogue.ensure(conn, "Кафе на Арбате", LocationSource.VISIT, 6) is False
        found = await catalogue.get(conn, "Кафе на Арбате")
    assert found is not None
    assert (found.name, found.source, found.manager_chat_id) == ("Кафе на Арбате", "visit", None)


@BOTH
async def test_an_import_with_a_bad_row_changes_nothing(db: Database, clock: FakeClock) -> None:
    service = LocationService(db, clock)
    regions = [("south", RegionBody(name="South"))]
    good = ("a", LocationFields(name="A", region="south"))
    bad = ("b", LocationFields(name="B", region="west"))
    with pytest.raises(CatalogueError, match=r"location 'b': region"):
        await service.import_rows(regions, [good, bad])
    assert await service.all() == ([], [])
    regions_summary, locations_summary = await service.import_rows(regions, [good])
    assert (regions_summary.created, locations_summary.created) == (1, 1)
    regions_summary, locations_summary = await service.import_rows(regions, [good])
    assert (regions_summary.updated, locations_summary.updated) == (1, 1)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": "X", "time_zone": "Mars/Olympus"}, "time_zone"),
        ({"name": "X", "manager_chat_id": "-100"}, "manager_chat_id"),
        ({"name": "X", "manager_chat_id": 0}, "manager_chat_id"),
        ({"name": "X", "opening_hours": {"funday": "09:00-18:00"}}, "opening_hours"),
        ({"name": "X", "opening_hours": {"mon": "9-18"}}, "opening_hours"),
        ({"name": "X", "opening_hours": {"mon": "09:00-09:00"}}, "opening_hours"),
        ({"name": "X", "colour": "red"}, "colour"),
    ],
)
def test_bad_location_fields_are_named(body: dict[str, object], field: str) -> None:
    with pytest.raises(CatalogueError) as caught:
        parse_location(body)
    assert caught.value.field == field


async def test_existing_free_text_locations_are_catalogued_on_upgrade(tmp_path: Path) -> None:
    """A database from before the catalogue: its visits' locations become locations."""
    old = SqliteDatabase(tmp_path / "old.sqlite3")
    await old.connect()
    try:
        await apply_migrations(old, before=11)
        async with old.transaction() as conn:
            for key, location in [("v1", "Centre"), ("v2", "Mall"), ("v3", "Centre"), ("v4", "")]:
                await conn.execute(
                    "INSERT INTO visits (visit_key, visited_at, location, staff, touchpoint,"
                    " source, outcome, day, created_at) VALUES (:key, 0, :location, '', '',"
                    " 'api', 'skipped', '2026-12-01', 0)",
                    {"key": key, "location": location},
                )
        assert 11 in await apply_migrations(old)
        async with old.read() as conn:
            found = await catalogue.all_locations(conn)
        assert [(loc.code, loc.name, loc.source) for loc in found] == [
            ("Centre", "Centre", "migration"),
            ("Mall", "Mall", "migration"),
        ]
    finally:
        await old.close()
