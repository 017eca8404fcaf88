"""The HTTP API served beside the bot: visits, customers, reports, the catalogue, webhooks,
health, metrics."""

from __future__ import annotations

from aiohttp import web

from bot.api.keys import (
    API_TOKEN_KEY,
    BATCH_BODY_KEY,
    METRICS_TOKEN_KEY,
    SERVICES_KEY,
    ApiServices,
)
from bot.api.locations import add_location_routes
from bot.api.metrics import add_metrics_route
from bot.api.openapi import add_openapi_route
from bot.api.reports import add_report_routes
from bot.api.routes import add_routes, auth_middleware
from bot.api.webhooks import add_webhook_routes


def create_api_app(
    services: ApiServices,
    api_token: str,
    max_body_bytes: int,
    *,
    max_batch_body_bytes: int = 2 * 1024 * 1024,
    metrics_token: str | None = None,
) -> web.Application:
    """The aiohttp app of the API; bodies over `max_body_bytes` get 413 (those of
    POST /api/v1/visits:batch: over `max_batch_body_bytes`). GET /metrics takes
    `api_token` or, when given, `metrics_token`."""
    app = web.Application(client_max_size=max_body_bytes, middlewares=[auth_middleware])
    app[API_TOKEN_KEY] = api_token
    app[BATCH_BODY_KEY] = max_batch_body_bytes
    app[METRICS_TOKEN_KEY] = metrics_token or ""
    app[SERVICES_KEY] = services
    add_routes(app)
    add_report_routes(app)
    add_location_routes(app)
    add_openapi_route(app)
    add_webhook_routes(app)
    add_metrics_route(app)
    return app


__all__ = ["create_api_app"]
