"""The time-driven rules (expiry, reminders, anniversaries, case escalations and
follow-ups, digests, pruning) and the lease that lets exactly one instance run them.

APScheduler only wakes these up: the database is the record of what is owed, so a
restart loses nothing that a job would have done.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.anniversaries.outbox import AdminContext, auto_send, close_finished_runs
from bot.core.clock import to_ms
from bot.reports.outbox import ReportsSchedule, reports_maintenance
from bot.wiring import Services
from storage import leases, updates

logger = logging.getLogger(__name__)

MAINTENANCE_LEASE = "maintenance"
# A lease outlives a few missed ticks, so a busy holder keeps it, a dead one loses it soon.
LEASE_TICKS = 3
# Telegram gives up redelivering an update long before this.
UPDATE_CLAIMS_KEPT = timedelta(hours=48)


class Maintenance:
    """Runs the time-driven rules while this instance holds the maintenance lease."""

    def __init__(self, services: Services, instance_id: str, tick_seconds: float) -> None:
        self._services = services
        self._instance_id = instance_id
        self._lease_length = timedelta(seconds=tick_seconds * LEASE_TICKS)
        self._lease_tried = False

    async def run(self) -> bool:
        """One tick. Only the instance holding the maintenance lease runs the rules; it
        renews the lease before each step and stops if it lost it. Returns whether it ran."""
        # Every instance, lease or not: a team chat another one saw move is followed here too.
        await self._services.chats.refresh()
        for step in self._steps():
            if not await self.hold_lease():
                return False
            await step()
        return True

    def _steps(self) -> list[Callable[[], Awaitable[object]]]:
        s = self._services
        admin_ctx = AdminContext(s.db, s.clock, s.translator, s.settings)

        async def anniversaries() -> None:
            await close_finished_runs(admin_ctx)
            if await auto_send(admin_ctx):
                s.worker.kick()

        schedule = ReportsSchedule(
            s.db,
            s.clock,
            s.settings.zone,
            s.chats.managers,
            s.settings.digest_at,
            s.settings.min_sample,
            s.settings.nps_drop_alert,
            s.routing.team_chat,
        )
        return [
            s.surveys.expire_due,
            s.surveys.remind_due,
            anniversaries,
            s.case_outbox.maintenance,
            lambda: reports_maintenance(schedule),
            self._prune_update_claims,
        ]

    async def hold_lease(self) -> bool:
        """Take or renew the maintenance lease; False while another instance holds it."""
        now = self._services.clock.now()
        self._lease_tried = True
        async with self._services.db.transaction() as conn:
            return await leases.acquire(
                conn,
                MAINTENANCE_LEASE,
                self._instance_id,
                now=to_ms(now),
                until=to_ms(now + self._lease_length),
            )

    async def release_lease(self) -> None:
        """A graceful stop hands maintenance over at once instead of after the lease."""
        if not self._lease_tried:
            return
        self._lease_tried = False
        try:
            async with self._services.db.transaction() as conn:
                await leases.release(conn, MAINTENANCE_LEASE, self._instance_id)
        except Exception:
            logger.exception("could not release the maintenance lease; it expires by itself")

    async def _prune_update_claims(self) -> None:
        clock = self._services.clock
        async with self._services.db.transaction() as conn:
            await updates.prune(conn, before=to_ms(clock.now() - UPDATE_CLAIMS_KEPT))


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
