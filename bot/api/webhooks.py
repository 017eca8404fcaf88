"""Outgoing webhooks over HTTP: PUT/GET/DELETE /api/v1/webhooks. A secret is shown
once, when it was generated for a new endpoint; never again."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.api.keys import SERVICES_KEY
from bot.api.routes import error_response, json_body
from bot.webhooks.endpoints import WebhookError, WebhookService, endpoint_to_dict


def _service(request: web.Request) -> WebhookService:
    return request.app[SERVICES_KEY].webhooks


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


async def get_webhooks(request: web.Request) -> web.Response:
    """Every endpoint with its deliveries by status; no secrets."""
    found = await _service(request).all()
    return web.json_response(
        {"ok": True, "webhooks": [endpoint_to_dict(e, counts) for e, counts in found]}
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
