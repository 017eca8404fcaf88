"""APScheduler jobs. They only wake services up: the database is the record of what
is owed, so a restart loses nothing that a job would have done."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler

logger = logging.getLogger(__name__)


def create_scheduler(
    *,
    kick_delivery: Callable[[], None],
    maintenance: Callable[[], Awaitable[object]],
    maintenance_seconds: float = 30.0,
) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone="UTC")
    # A backstop: the worker also wakes itself at the next due_at and on every enqueue.
    scheduler.add_job(kick_delivery, "interval", seconds=1, id="delivery", max_instances=1)
    scheduler.add_job(
        _logged(maintenance),
        "interval",
        seconds=maintenance_seconds,
        id="maintenance",
        max_instances=1,
        coalesce=True,
    )
    return scheduler


def _logged(job: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        try:
            await job()
        except Exception:
            logger.exception("scheduled job failed; it runs again at its next time")

    return run
