"""Typed aiohttp application keys, shared by the API's routes and the factory."""

from __future__ import annotations

from typing import Any, Protocol

from aiohttp import web

from bot.customers.service import CustomerService
from bot.locations.service import LocationService
from bot.visits.service import VisitService
from bot.webhooks.endpoints import WebhookService


class ApiServices(Protocol):
    """What the API needs from the running bot."""

    visits: VisitService
    accounts: CustomerService
    locations: LocationService
    webhooks: WebhookService
    bot_username: str | None

    async def health(self) -> dict[str, Any]: ...

    async def scrape_metrics(self) -> bytes:
        """The Prometheus exposition of GET /metrics."""
        ...


API_TOKEN_KEY = web.AppKey("api_token", str)
# The largest body of POST /api/v1/visits:batch (API_MAX_BATCH_BODY_BYTES).
BATCH_BODY_KEY = web.AppKey("max_batch_body_bytes", int)
# Opens GET /metrics only; "" (unset): API_TOKEN alone does.
METRICS_TOKEN_KEY = web.AppKey("metrics_token", str)
SERVICES_KEY = web.AppKey("services", ApiServices)
