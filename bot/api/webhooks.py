"""Outgoing webhooks over HTTP: PUT/GET/DELETE /api/v1/webhooks. A secret is shown
once, when it was generated for a new endpoint; never again."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import BaseModel, Field

from bot.api.keys import SERVICES_KEY
from bot.api.openapi import Answer, documented
from bot.api.routes import error_response, json_body
from bot.webhooks.endpoints import (
    NAME_PATTERN,
    EndpointBody,
    WebhookError,
    WebhookService,
    endpoint_to_dict,
)

PATH = {
    "name": {
        "type": "string",
        "pattern": NAME_PATTERN,
        "description": "the endpoint's name: 1-64 letters, digits, _ . - (starting with one)",
    }
}


class Deliveries(BaseModel):
    """The endpoint's deliveries by status."""

    pending: int
    sending: int
    delivered: int
    failed: int


class WebhookOut(BaseModel):
    """An endpoint as stored; its secret is never shown."""

    name: str
    url: str
    events: Annotated[list[str] | None, Field(description="null: every event")]
    created_at: str
    updated_at: str
    deliveries: Deliveries


class WebhookAnswer(BaseModel):
    """The endpoint as stored, and its secret when it was generated now."""

    ok: Literal[True]
    created: bool
    webhook: WebhookOut
    secret: Annotated[
        str | None,
        Field(description="only when the endpoint was created without one: store it now"),
    ] = None


class WebhooksAnswer(BaseModel):
    """Every endpoint."""

    ok: Literal[True]
    webhooks: list[WebhookOut]


class DeletedWebhook(BaseModel):
    """Removed; its deliveries still waiting end failed."""

    ok: Literal[True]
    deleted: Annotated[bool, Field(description="always true")]


def _service(request: web.Request) -> WebhookService:
    return request.app[SERVICES_KEY].webhooks


@documented(
    "Create or replace a webhook endpoint",
    {201: Answer("created", WebhookAnswer), 200: Answer("replaced", WebhookAnswer)},
    body=EndpointBody,
    path=PATH,
    tag="webhooks",
)
async def put_webhook(request: web.Request) -> web.Response:
    """Create (201) or replace (200) an endpoint; the generated secret in a 201."""
    body = await json_body(request)
    if isinstance(body, web.Response):
        return body
    try:
        result = await _service(request).put(request.match_info["name"], body)
    except WebhookError as error:
        return error_response(400, str(error), error.field)
    answer: dict[str, Any] = {
        "ok": True,
        "created": result.created,
        "webhook": endpoint_to_dict(result.endpoint),
    }
    if result.generated_secret is not None:
        answer["secret"] = result.generated_secret
    return web.json_response(answer, status=201 if result.created else 200)


@documented("The webhook endpoints", {200: WebhooksAnswer}, tag="webhooks")
async def get_webhooks(request: web.Request) -> web.Response:
    """Every endpoint with its deliveries by status; no secrets."""
    found = await _service(request).all()
    return web.json_response(
        {"ok": True, "webhooks": [endpoint_to_dict(e, counts) for e, counts in found]}
    )


@documented(
    "Remove a webhook endpoint",
    {200: DeletedWebhook, 400: "not an endpoint name", 404: "no such webhook"},
    path=PATH,
    tag="webhooks",
)
async def delete_webhook(request: web.Request) -> web.Response:
    """Remove an endpoint; its deliveries still waiting end failed."""
    try:
        deleted = await _service(request).delete(request.match_info["name"])
    except WebhookError as error:
        return error_response(400, str(error), error.field)
    if not deleted:
        return error_response(404, "no such webhook")
    return web.json_response({"ok": True, "deleted": True})


def add_webhook_routes(app: web.Application) -> None:
    app.router.add_put("/api/v1/webhooks/{name}", put_webhook)
    app.router.add_get("/api/v1/webhooks", get_webhooks)
    app.router.add_delete("/api/v1/webhooks/{name}", delete_webhook)
