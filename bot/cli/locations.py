"""`otklik locations import FILE.csv`: a whole chain's catalogue from one spreadsheet.

Columns: code, name, time_zone, manager_chat_id, region, mon .. sun (opening hours such
as 09:00-21:00, empty = closed that day), and optionally region_name and
region_manager_chat_id, which create or update the row's region. Every row is checked
first; one bad row changes nothing."""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.core.clock import SystemClock
from bot.locations.service import (
    WEEKDAYS,
    CatalogueError,
    LocationService,
    RegionBody,
    check_code,
    parse_location,
    parse_region,
)
from storage.db import create_database, migrate
from storage.locations import LocationFields

EXIT_BAD_FILE = 2


def _int_or_text(value: str) -> int | str | None:
    """A chat id cell: empty is none, a number is a number, anything else is kept for
    the validator to name."""
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        return value


def parse_rows(
    rows: list[dict[str, str]],
) -> tuple[list[tuple[str, RegionBody]], list[tuple[str, LocationFields]]]:
    """The regions and locations of a file; CatalogueError names the line and field."""
    regions: dict[str, RegionBody] = {}
    locations: list[tuple[str, LocationFields]] = []
    seen: set[str] = set()
    for number, row in enumerate(rows, start=2):
        try:
            code = check_code(row.get("code", ""))
            if code in seen:
                raise CatalogueError("code", f"{code!r} appears twice in the file")
            seen.add(code)
            body: dict[str, Any] = {"name": row.get("name", "")}
            for column in ("time_zone", "region"):
                if row.get(column):
                    body[column] = row[column]
            if row.get("manager_chat_id"):
                body["manager_chat_id"] = _int_or_text(row["manager_chat_id"])
            hours = {day: row[day] for day in WEEKDAYS if row.get(day)}
            if hours:
                body["opening_hours"] = hours
            fields = parse_location(body)
            if row.get("region_name"):
                if not fields.region:
                    raise CatalogueError("region_name", "given without a region")
                region = parse_region(
                    {
                        "name": row["region_name"],
                        "manager_chat_id": _int_or_text(row.get("region_manager_chat_id", "")),
                    }
                )
                if regions.setdefault(fields.region, region) != region:
                    raise CatalogueError(
                        "region_name", f"region {fields.region!r} is described differently above"
                    )
        except CatalogueError as error:
            raise CatalogueError(f"line {number}: {error.field}", error.message) from None
        locations.append((code, fields))
    return list(regions.items()), locations


async def import_locations(settings: Settings, path: Path) -> int:
    """Check every row, then write them all in one transaction."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows = [
            {key.strip(): (value or "").strip() for key, value in row.items() if key}
            for row in csv.DictReader(handle)
        ]
    try:
        regions, locations = parse_rows(rows)
    except CatalogueError as error:
        print(f"error: {error}; nothing was imported", file=sys.stderr)
        return EXIT_BAD_FILE
    db = create_database(settings.database_url)
    await db.connect()
    try:
        await migrate(db)
        service = LocationService(db, SystemClock())
        try:
            region_summary, location_summary = await service.import_rows(regions, locations)
        except CatalogueError as error:
            print(f"error: {error}; nothing was imported", file=sys.stderr)
            return EXIT_BAD_FILE
    finally:
        await db.close()
    print(
        f"locations: {location_summary.created} created, {location_summary.updated} updated;"
        f" regions: {region_summary.created} created, {region_summary.updated} updated"
    )
    return 0
