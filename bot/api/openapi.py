"""The OpenAPI 3.1 contract of the HTTP API, built from the routes themselves.

Each handler carries its operation (`@documented(...)` right above it: a summary, the
pydantic models of its body, query and answers); `openapi_document` walks the app's
router and describes every route it finds. A route without `@documented` is reported
by `undocumented_routes` (a test keeps that list empty), so the document cannot fall
behind the code. Bounds are the pydantic models' own (bot/core/bounds.py), so what
the document states is what the API enforces."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Literal, TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from bot.core.bounds import NO_CONTROL_CHARACTERS

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
H = TypeVar("H", bound=Handler)

# The paths the contract covers; the Telegram webhook and the dashboard's pages are not
# part of the API an integrator builds on.
API_PREFIX = "/api/"
OTHER_DOCUMENTED = ("/healthz", "/metrics")
_REF = "#/components/schemas/{model}"
_PATH_PARAM = re.compile(r"\{(\w+)(?::[^}]*)?\}")


class ErrorAnswer(BaseModel):
    """Every refusal: `error` says what is wrong, `field` names the field when one is."""

    model_config = ConfigDict(title="Error")

    ok: Literal[False]
    error: str
    field: str | None = None


@dataclass(frozen=True, slots=True)
class Answer:
    """One documented response: a pydantic model of its JSON, or another media type."""

    description: str
    model: type[BaseModel] | None = None
    media_type: str = "application/json"
    schema: Mapping[str, Any] | None = None  # for a non-JSON body (CSV, text)


@dataclass(frozen=True, slots=True)
class Operation:
    summary: str
    responses: Mapping[int, Answer]
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    path: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    auth: bool = True
    tag: str = "api"


def documented(
    summary: str,
    responses: Mapping[int, Answer | str | type[BaseModel]],
    *,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    path: Mapping[str, Mapping[str, Any]] | None = None,
    auth: bool = True,
    tag: str = "api",
) -> Callable[[H], H]:
    """Attach the operation's description to its handler. `responses` maps a status to
    an Answer, a description (an ErrorAnswer for 4xx/5xx, no body otherwise) or a
    model; 400/413/415 (with a body) and 401 (with auth) are added by themselves."""
    answers = {status: _answer(status, given) for status, given in responses.items()}
    operation = Operation(summary, answers, body, query, path or {}, auth, tag)

    def attach(handler: H) -> H:
        handler.__openapi__ = operation  # type: ignore[attr-defined]
        return handler

    return attach


def _answer(status: int, given: Answer | str | type[BaseModel]) -> Answer:
    if isinstance(given, Answer):
        return given
    if isinstance(given, str):
        return Answer(given, ErrorAnswer if status >= 400 else None)
    return Answer(given.__doc__ or given.__name__, given)


def operation_of(route: web.AbstractRoute) -> Operation | None:
    return getattr(route.handler, "__openapi__", None)


def _api_routes(app: web.Application) -> Iterable[tuple[str, str, web.AbstractRoute]]:
    for route in app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if route.method in ("HEAD", "OPTIONS", "*"):
            continue  # aiohttp adds HEAD beside each GET
        if path.startswith(API_PREFIX) or path in OTHER_DOCUMENTED:
            yield path, route.method.lower(), route


def undocumented_routes(app: web.Application) -> list[str]:
    """`METHOD path` of every API route whose handler has no @documented."""
    return [
        f"{method.upper()} {path}"
        for path, method, route in _api_routes(app)
        if operation_of(route) is None
    ]


class _Schemas:
    """components/schemas, filled as models are referenced."""

    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {}

    def ref(self, model: type[BaseModel], mode: Literal["validation", "serialization"]) -> Any:
        schema = model.model_json_schema(ref_template=_REF, mode=mode)
        for name, definition in schema.pop("$defs", {}).items():
            self.schemas.setdefault(name, definition)
        name = str(schema.get("title") or model.__name__)
        self.schemas.setdefault(name, schema)
        return {"$ref": _REF.format(model=name)}

    def inline(self, model: type[BaseModel]) -> dict[str, Any]:
        schema = model.model_json_schema(ref_template=_REF)
        for name, definition in schema.pop("$defs", {}).items():
            self.schemas.setdefault(name, definition)
        return schema


def _parameters(operation: Operation, path: str, schemas: _Schemas) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = []
    for name in _PATH_PARAM.findall(path):
        schema = operation.path.get(name) or {"type": "string", "minLength": 1}
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
    if operation.query is not None:
        query = schemas.inline(operation.query)
        required = set(query.get("required", ()))
        for name, schema in query.get("properties", {}).items():
            parameter = {"name": name, "in": "query", "required": name in required}
            description = schema.pop("description", None)
            if description:
                parameter["description"] = description
            parameters.append({**parameter, "schema": schema})
    return parameters


def _responses(operation: Operation, schemas: _Schemas) -> dict[str, Any]:
    answers = dict(operation.responses)
    if operation.body is not None:
        answers.setdefault(
            400, Answer("a field is missing, unknown or out of bounds", ErrorAnswer)
        )
        answers.setdefault(413, Answer("the body is over API_MAX_BODY_BYTES", ErrorAnswer))
        answers.setdefault(415, Answer("the body is not application/json", ErrorAnswer))
    if operation.query is not None:
        answers.setdefault(400, Answer("a query parameter is out of bounds", ErrorAnswer))
    if operation.auth:
        answers.setdefault(401, Answer("missing or wrong bearer token", ErrorAnswer))
    documented: dict[str, Any] = {}
    for status, answer in sorted(answers.items()):
        entry: dict[str, Any] = {"description": answer.description}
        if answer.model is not None:
            schema = schemas.ref(answer.model, "serialization")
            entry["content"] = {answer.media_type: {"schema": schema}}
        elif answer.schema is not None:
            entry["content"] = {answer.media_type: {"schema": dict(answer.schema)}}
        documented[str(status)] = entry
    return documented


def openapi_document(app: web.Application, version: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every documented route of `app`."""
    schemas = _Schemas()
    paths: dict[str, dict[str, Any]] = {}
    for path, method, route in _api_routes(app):
        operation = operation_of(route)
        if operation is None:
            continue
        entry: dict[str, Any] = {
            "summary": operation.summary,
            "operationId": f"{method}_{re.sub(r'[^A-Za-z0-9]+', '_', path).strip('_')}",
            "tags": [operation.tag],
            "responses": _responses(operation, schemas),
        }
        if doc := (route.handler.__doc__ or "").strip():
            entry["description"] = doc
        parameters = _parameters(operation, path, schemas)
        if parameters:
            entry["parameters"] = parameters
        if operation.body is not None:
            entry["requestBody"] = {
                "required": True,
                "content": {
                    "application/json": {"schema": schemas.ref(operation.body, "validation")}
                },
            }
        entry["security"] = [{"bearer": []}] if operation.auth else []
        paths.setdefault(path, {})[method] = entry
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "otklik HTTP API",
            "version": version,
            "description": (
                "Visits in, customers, the catalogue, reports and health out. Every refusal"
                " is JSON {ok: false, error, field}; texts and ids hold no control"
                f" characters ({NO_CONTROL_CHARACTERS}); JSON bodies must not repeat a key"
                " or nest deeper than 64 levels."
            ),
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(schemas.schemas.items())),
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": ("API_TOKEN; /metrics also takes METRICS_TOKEN when it is set"),
                }
            },
        },
    }


class OpenApiAnswer(BaseModel):
    """This document."""

    model_config = ConfigDict(extra="allow", title="OpenApiDocument")

    openapi: str
    paths: dict[str, Any]


@documented("This contract, as OpenAPI 3.1 (no token needed)", {200: OpenApiAnswer}, auth=False)
async def get_openapi(request: web.Request) -> web.Response:
    """The OpenAPI document of this API, built from its routes."""
    try:
        release = version("otklik")
    except PackageNotFoundError:  # pragma: no cover - run from a checkout without install
        release = "0"
    return web.json_response(openapi_document(request.app, release))


OPENAPI_PATH = "/api/v1/openapi.json"


def add_openapi_route(app: web.Application) -> None:
    app.router.add_get(OPENAPI_PATH, get_openapi)
