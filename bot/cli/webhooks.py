"""`otklik webhooks log` (what was delivered, what waits, what failed and why) and
`otklik webhooks test NAME` (a signed ping to one endpoint, now)."""

from __future__ import annotations

import sys
from typing import TextIO

import aiohttp

from bot.config import Settings
from bot.core.clock import Clock, SystemClock, to_ms
from bot.webhooks.delivery import post
from bot.webhooks.endpoints import WebhookService
from bot.webhooks.events import PING
from storage import webhooks as repo
from storage.db import create_database, migrate

EXIT_FAILED = 1
EXIT_UNKNOWN = 2


def format_delivery(row: repo.Delivery) -> str:
    """One line of the log: when, where, what, how it stands and why."""
    outcome = row.status
    if row.last_status is not None:
        outcome += f" (HTTP {row.last_status})"
    if row.status == repo.DeliveryStatus.PENDING and row.attempts:
        outcome += f", next try {repo.iso_ms(row.due_at)}"
    line = (
        f"#{row.id} {repo.iso_ms(row.created_at)} {row.endpoint} {row.event}"
        f" {row.message_id} attempts={row.attempts} {outcome}"
    )
    if row.last_error and row.status != repo.DeliveryStatus.DELIVERED:
        line += f": {row.last_error}"
    return line


async def webhooks_log(
    settings: Settings,
    *,
    name: str | None,
    status: str | None,
    limit: int,
    out: TextIO = sys.stdout,
) -> int:
    """Print the newest deliveries first."""
    db = create_database(settings.database_url)
    await db.connect()
    try:
        await migrate(db)
        rows = await WebhookService(db, SystemClock()).log(
            endpoint=name, status=status, limit=limit
        )
    finally:
        await db.close()
    for row in rows:
        print(format_delivery(row), file=out)
    if not rows:
        print("no deliveries", file=out)
    return 0


async def webhooks_test(
    settings: Settings, name: str, *, clock: Clock | None = None, out: TextIO = sys.stdout
) -> int:
    """Send a signed webhook.ping to `name` now; 0 when it answered 2xx."""
    clock = clock or SystemClock()
    db = create_database(settings.database_url)
    await db.connect()
    try:
        await migrate(db)
        endpoint = await WebhookService(db, clock).get(name)
    finally:
        await db.close()
    if endpoint is None:
        print(f"otklik webhooks test: no webhook named {name!r}", file=sys.stderr)
        return EXIT_UNKNOWN
    now = to_ms(clock.now())
    message_id = repo.new_message_id()
    body = repo.envelope(PING, {"webhook": name}, now).encode()
    async with aiohttp.ClientSession(trust_env=False) as session:
        attempt = await post(
            session,
            endpoint,
            message_id,
            body,
            now // 1000,
            timeout=settings.webhook_timeout_seconds,
            allow_http=settings.webhook_allow_http,
        )
    if attempt.ok:
        print(f"{name}: {PING} {message_id} delivered (HTTP {attempt.http_status})", file=out)
        return 0
    print(f"{name}: {PING} {message_id} failed: {attempt.error}", file=out)
    return EXIT_FAILED
