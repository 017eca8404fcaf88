"""The chain's catalogue: locations (what the till sends as a visit's `location`), their
managers' chats, time zones and opening hours, grouped into regions. One set of rules
for the HTTP API, the CSV import and the bot.

A bad field is a `CatalogueError` naming it, and nothing changes."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.core.bounds import NO_CONTROL_MESSAGE, Key, TelegramChatId
from bot.core.clock import Clock, to_ms
from bot.locations.qr import qr_payload, verify_qr_payload
from storage import locations as catalogue
from storage.db import Database
from storage.locations import Location, LocationFields, LocationSource, Region

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPAN = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")
_CODE = re.compile(r"^[^\x00-\x1f\x7f/]{1,200}$")


class CatalogueError(ValueError):
    """Bad input for the catalogue: `field` names what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def check_code(code: str, field: str = "code") -> str:
    """A location or region code: 1-200 characters, no control characters, no '/'."""
    code = code.strip()
    if not _CODE.match(code):
        raise CatalogueError(field, "expected 1-200 characters, no '/' or control characters")
    return code


def parse_span(text: str) -> tuple[int, int]:
    """'09:00-21:00' as minutes from midnight (start, end); an end before the start runs
    past midnight ('20:00-02:00'), '00:00-24:00' is the whole day."""
    match = _SPAN.match(text.strip())
    if not match:
        raise ValueError("expected HH:MM-HH:MM, e.g. 09:00-21:00")
    start = int(match.group(1)) * 60 + int(match.group(2))
    end = int(match.group(3)) * 60 + int(match.group(4))
    if end > 24 * 60 or start == end:
        raise ValueError("expected HH:MM-HH:MM with different times, e.g. 09:00-21:00")
    return start, end


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class LocationBody(_Strict):
    """PUT /api/v1/locations/{code}: only `name` is required."""

    name: Key
    time_zone: Annotated[str, Field(max_length=64)] | None = None
    manager_chat_id: TelegramChatId | None = None
    region: str | None = None
    opening_hours: dict[str, str] | None = None

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("expected an IANA time zone such as Europe/Kyiv") from None
        return value

    @field_validator("manager_chat_id")
    @classmethod
    def _chat(cls, value: int | None) -> int | None:
        if value == 0:
            raise ValueError("expected a Telegram chat id such as -1001234567890")
        return value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        return check_code(value, "region") if value else None

    @field_validator("opening_hours")
    @classmethod
    def _hours(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        if not value:
            return None
        hours: dict[str, str] = {}
        for day, span in value.items():
            key = day.strip().lower()
            if key not in WEEKDAYS:
                raise ValueError(f"{day}: expected a weekday: {', '.join(WEEKDAYS)}")
            try:
                parse_span(span)
            except ValueError as error:
                raise ValueError(f"{day}: {error}") from None
            hours[key] = span.strip()
        return hours

    def fields(self) -> LocationFields:
        return LocationFields(
            name=self.name,
            time_zone=self.time_zone,
            manager_chat_id=self.manager_chat_id,
            region=self.region,
            opening_hours=self.opening_hours,
        )


class RegionBody(_Strict):
    """PUT /api/v1/regions/{code}."""

    name: Key
    manager_chat_id: TelegramChatId | None = None

    @field_validator("manager_chat_id")
    @classmethod
    def _chat(cls, value: int | None) -> int | None:
        if value == 0:
            raise ValueError("expected a Telegram chat id such as -1001234567890")
        return value


def catalogue_error(error: ValidationError, prefix: str = "") -> CatalogueError:
    """The first problem pydantic found, as one field and one message."""
    first = error.errors()[0]
    field = prefix + ".".join(str(part) for part in first["loc"])
    message = str(first["msg"]).removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown field"
    elif first["type"] == "missing":
        message = "is required"
    elif first["type"] == "string_pattern_mismatch":  # the only pattern: bounds.Key
        message = NO_CONTROL_MESSAGE
    return CatalogueError(field or "body", message)


def parse_location(body: Mapping[str, Any]) -> LocationFields:
    try:
        return LocationBody.model_validate(body).fields()
    except ValidationError as error:
        raise catalogue_error(error) from None


def parse_region(body: Mapping[str, Any]) -> RegionBody:
    try:
        return RegionBody.model_validate(body)
    except ValidationError as error:
        raise catalogue_error(error) from None


class Deletion(StrEnum):
    DELETED = "deleted"
    NOT_FOUND = "not_found"
    IN_USE = "in_use"  # a location with open cases, a region that locations name


@dataclass(frozen=True, slots=True)
class ImportSummary:
    created: int
    updated: int


def location_to_dict(location: Location) -> dict[str, Any]:
    return {
        "code": location.code,
        "name": location.name,
        "time_zone": location.time_zone,
        "manager_chat_id": location.manager_chat_id,
        "region": location.region,
        "opening_hours": location.hours or None,
        "source": location.source,
    }


def region_to_dict(region: Region) -> dict[str, Any]:
    return {"code": region.code, "name": region.name, "manager_chat_id": region.manager_chat_id}


class LocationService:
    """Reads and changes the catalogue; every change is one transaction."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        qr_key: bytes = b"",
        on_change: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._qr_key = qr_key
        # Told after every change, so this instance routes by it at once (the team
        # chats it accepts commands from); other instances follow at their next tick.
        self._on_change = on_change

    async def _changed(self) -> None:
        if self._on_change is not None:
            await self._on_change()

    def _now(self) -> int:
        return to_ms(self._clock.now())

    async def put(
        self, code: str, fields: LocationFields, source: LocationSource = LocationSource.API
    ) -> bool:
        """Create or replace a location; True when created. Its region must exist."""
        code = check_code(code)
        async with self._db.transaction() as conn:
            if fields.region and await catalogue.get_region(conn, fields.region) is None:
                raise CatalogueError("region", f"{fields.region!r} is not in the catalogue")
            created = await catalogue.upsert(conn, code, fields, source, self._now())
        await self._changed()
        return created

    async def delete(self, code: str) -> Deletion:
        async with self._db.transaction() as conn:
            if await catalogue.get(conn, code) is None:
                return Deletion.NOT_FOUND
            if not await catalogue.delete(conn, code):
                return Deletion.IN_USE
        await self._changed()
        return Deletion.DELETED

    async def qr_payload(self, code: str) -> tuple[Location, str] | None:
        """A catalogued location and the signed /start parameter of its QR code."""
        location = await self.get(code)
        if location is None:
            return None
        return location, qr_payload(self._qr_key, location.id)

    async def from_qr(self, payload: str) -> Location | None:
        """The location a genuine QR link names; None for a forged, altered or old one."""
        location_id = verify_qr_payload(self._qr_key, payload)
        if location_id is None:
            return None
        async with self._db.read() as conn:
            return await catalogue.get_by_id(conn, location_id)

    async def get(self, code: str) -> Location | None:
        async with self._db.read() as conn:
            return await catalogue.get(conn, code)

    async def all(self) -> tuple[list[Location], list[Region]]:
        async with self._db.read() as conn:
            return await catalogue.all_locations(conn), await catalogue.all_regions(conn)

    async def put_region(self, code: str, body: RegionBody) -> bool:
        code = check_code(code)
        async with self._db.transaction() as conn:
            created = await catalogue.upsert_region(
                conn, code, body.name, body.manager_chat_id, self._now()
            )
        await self._changed()
        return created

    async def delete_region(self, code: str) -> Deletion:
        async with self._db.transaction() as conn:
            if await catalogue.get_region(conn, code) is None:
                return Deletion.NOT_FOUND
            if not await catalogue.delete_region(conn, code):
                return Deletion.IN_USE
        await self._changed()
        return Deletion.DELETED

    async def import_rows(
        self,
        regions: Sequence[tuple[str, RegionBody]],
        locations: Sequence[tuple[str, LocationFields]],
    ) -> tuple[ImportSummary, ImportSummary]:
        """Regions, then locations, all in one transaction: a bad row changes nothing."""
        now = self._now()
        region_counts = [0, 0]
        location_counts = [0, 0]
        async with self._db.transaction() as conn:
            for code, region in regions:
                created = await catalogue.upsert_region(
                    conn, code, region.name, region.manager_chat_id, now
                )
                region_counts[0 if created else 1] += 1
            known = {region.code for region in await catalogue.all_regions(conn)}
            for code, fields in locations:
                if fields.region and fields.region not in known:
                    raise CatalogueError(
                        f"location {code!r}: region", f"{fields.region!r} is not in the catalogue"
                    )
                created = await catalogue.upsert(conn, code, fields, LocationSource.IMPORT, now)
                location_counts[0 if created else 1] += 1
        await self._changed()
        return ImportSummary(*region_counts), ImportSummary(*location_counts)
