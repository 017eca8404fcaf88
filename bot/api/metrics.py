"""GET /metrics: the Prometheus text exposition of this instance (bot/core/metrics.py),
behind API_TOKEN or METRICS_TOKEN (the auth middleware in bot/api/routes.py)."""

from __future__ import annotations

from aiohttp import web

from bot.api.keys import SERVICES_KEY
from bot.api.openapi import Answer, documented
from bot.core.metrics import CONTENT_TYPE

METRICS_PATH = "/metrics"


@documented(
    "Prometheus metrics (API_TOKEN, or METRICS_TOKEN when set)",
    {
        200: Answer(
            "the metrics, in Prometheus text format 0.0.4",
            media_type="text/plain",
            schema={"type": "string"},
        )
    },
    tag="operations",
)
async def get_metrics(request: web.Request) -> web.Response:
    """This instance's counters and histograms, and the outbox's and the open cases'
    counts read from the database now (README: Operations)."""
    body = await request.app[SERVICES_KEY].scrape_metrics()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


def add_metrics_route(app: web.Application) -> None:
    app.router.add_get(METRICS_PATH, get_metrics)
