"""The chain's catalogue over HTTP: PUT/GET/DELETE /api/v1/locations and /api/v1/regions."""

from __future__ import annotations

from typing import Annotated, Literal

from aiohttp import web
from pydantic import BaseModel, Field

from bot.api.keys import SERVICES_KEY
from bot.api.openapi import Answer, documented
from bot.api.routes import error_response, json_body
from bot.locations.service import (
    CatalogueError,
    Deletion,
    LocationBody,
    LocationService,
    RegionBody,
    check_code,
    location_to_dict,
    parse_location,
    parse_region,
    region_to_dict,
)

CODE = {
    "type": "string",
    "minLength": 1,
    "maxLength": 200,
    "pattern": r"^[^\x00-\x1f\x7f/]+$",
    "description": "what the till sends as a visit's location: no '/' or control characters",
}
PATH = {"code": CODE}


class LocationOut(BaseModel):
    code: str
    name: str
    time_zone: str | None
    manager_chat_id: int | None
    region: str | None
    opening_hours: dict[str, str] | None
    source: Literal["api", "import", "visit", "migration"]


class RegionOut(BaseModel):
    code: str
    name: str
    manager_chat_id: int | None


class LocationAnswer(BaseModel):
    """The location as stored."""

    ok: Literal[True]
    created: bool
    location: LocationOut


class CatalogueAnswer(BaseModel):
    """The whole catalogue."""

    ok: Literal[True]
    locations: list[LocationOut]
    regions: list[RegionOut]


class RegionsAnswer(BaseModel):
    """Every region."""

    ok: Literal[True]
    regions: list[RegionOut]


class CreatedAnswer(BaseModel):
    """Stored."""

    ok: Literal[True]
    created: bool


class DeletedAnswer(BaseModel):
    """Removed."""

    ok: Literal[True]
    deleted: Annotated[bool, Field(description="always true")]


def _service(request: web.Request) -> LocationService:
    return request.app[SERVICES_KEY].locations


def _code(request: web.Request) -> str:
    return check_code(request.match_info["code"])


@documented(
    "Create or replace a location",
    {201: Answer("created", LocationAnswer), 200: Answer("replaced", LocationAnswer)},
    body=LocationBody,
    path=PATH,
    tag="catalogue",
)
async def put_location(request: web.Request) -> web.Response:
    """Create (201) or replace (200) a location; only `name` is required."""
    body = await json_body(request)
    if isinstance(body, web.Response):
        return body
    try:
        created = await _service(request).put(_code(request), parse_location(body))
    except CatalogueError as error:
        return error_response(400, str(error), error.field)
    location = await _service(request).get(_code(request))
    assert location is not None
    return web.json_response(
        {"ok": True, "created": created, "location": location_to_dict(location)},
        status=201 if created else 200,
    )


@documented("The catalogue", {200: CatalogueAnswer}, tag="catalogue")
async def get_locations(request: web.Request) -> web.Response:
    """The whole catalogue: locations and regions."""
    locations, regions = await _service(request).all()
    return web.json_response(
        {
            "ok": True,
            "locations": [location_to_dict(location) for location in locations],
            "regions": [region_to_dict(region) for region in regions],
        }
    )


@documented(
    "Remove a location",
    {
        200: DeletedAnswer,
        400: "the code is not a location code",
        404: "no such location",
        409: "the location has open cases",
    },
    path=PATH,
    tag="catalogue",
)
async def delete_location(request: web.Request) -> web.Response:
    """Remove a location; refused (409) while it has open cases."""
    try:
        outcome = await _service(request).delete(_code(request))
    except CatalogueError as error:
        return error_response(400, str(error), error.field)
    if outcome is Deletion.NOT_FOUND:
        return error_response(404, "no such location")
    if outcome is Deletion.IN_USE:
        return error_response(409, "the location has open cases: close or resolve them first")
    return web.json_response({"ok": True, "deleted": True})


@documented(
    "Create or replace a region",
    {201: Answer("created", CreatedAnswer), 200: Answer("replaced", CreatedAnswer)},
    body=RegionBody,
    path=PATH,
    tag="catalogue",
)
async def put_region(request: web.Request) -> web.Response:
    """Create (201) or replace (200) a region."""
    body = await json_body(request)
    if isinstance(body, web.Response):
        return body
    try:
        code = _code(request)
        created = await _service(request).put_region(code, parse_region(body))
    except CatalogueError as error:
        return error_response(400, str(error), error.field)
    return web.json_response({"ok": True, "created": created}, status=201 if created else 200)


@documented("The regions", {200: RegionsAnswer}, tag="catalogue")
async def get_regions(request: web.Request) -> web.Response:
    """Every region of the catalogue."""
    _, regions = await _service(request).all()
    return web.json_response({"ok": True, "regions": [region_to_dict(r) for r in regions]})


@documented(
    "Remove a region",
    {
        200: DeletedAnswer,
        400: "the code is not a region code",
        404: "no such region",
        409: "locations name this region",
    },
    path=PATH,
    tag="catalogue",
)
async def delete_region(request: web.Request) -> web.Response:
    """Remove a region; refused (409) while a location names it."""
    try:
        outcome = await _service(request).delete_region(_code(request))
    except CatalogueError as error:
        return error_response(400, str(error), error.field)
    if outcome is Deletion.NOT_FOUND:
        return error_response(404, "no such region")
    if outcome is Deletion.IN_USE:
        return error_response(409, "locations name this region: move them first")
    return web.json_response({"ok": True, "deleted": True})


def add_location_routes(app: web.Application) -> None:
    app.router.add_put("/api/v1/locations/{code}", put_location)
    app.router.add_get("/api/v1/locations", get_locations)
    app.router.add_delete("/api/v1/locations/{code}", delete_location)
    app.router.add_put("/api/v1/regions/{code}", put_region)
    app.router.add_get("/api/v1/regions", get_regions)
    app.router.add_delete("/api/v1/regions/{code}", delete_region)
