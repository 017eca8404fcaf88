"""The running process: `Otklik` connects the database, starts delivery, the
scheduler, polling or the webhook and the HTTP API, and stops them in order.
What it is built from is in bot/wiring.py; the time-driven rules in bot/maintenance.py."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from aiogram.client.session.base import BaseSession
from aiogram.exceptions import TelegramAPIError, TelegramRetryAfter
from aiohttp import web

from bot.api import create_api_app
from bot.cases.templates import TemplatesFileError
from bot.config import Settings
from bot.core.clock import Clock, SystemClock, to_ms
from bot.dashboard.app import mount_dashboard
from bot.maintenance import Maintenance, create_scheduler
from bot.outbox.limiter import Monotonic
from bot.telegram.menus import set_command_menus
from bot.telegram.once import UpdateOnceMiddleware
from bot.telegram.startup import Sleep, TokenRefused, reach_bot_api
from bot.telegram.webhook import WebhookHandler
from bot.topics import TaxonomyError
from bot.webhooks.endpoints import WebhookError
from bot.wiring import build_services, create_dispatcher, create_fsm_storage
from storage import outbox
from storage.db import DatabaseUnavailable, migrate

logger = logging.getLogger(__name__)

# Updates handled at once in long polling; the next getUpdates waits for a slot, so a
# rush of customers waits at Telegram instead of in memory (each update in flight
# holds its models, handler frames and request: ~45 KB). A webhook is bounded by
# Telegram's max_connections (40) instead.
POLLING_CONCURRENCY = 100


class StartupError(Exception):
    """The bot cannot start; the message says why, in one line, without secrets.
    `exit_code` is 2 for a setting that is wrong (as for any configuration error)."""

    def __init__(self, message: str, *, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class Otklik:
    """The whole bot in one process. `async with Otklik(settings) as app:` runs it."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        session: BaseSession | None = None,
        monotonic: Monotonic = time.monotonic,
        delivery_poll_seconds: float = 1.0,
        maintenance_seconds: float = 30.0,
        polling: bool = True,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.settings = settings
        self._sleep = sleep  # between attempts to reach the Bot API at start-up
        self.clock: Clock = clock or SystemClock()
        try:
            self.services = build_services(
                settings,
                self.clock,
                session=session,
                monotonic=monotonic,
                delivery_poll_seconds=delivery_poll_seconds,
            )
        except TemplatesFileError as error:
            raise StartupError(f"TEMPLATES_FILE: {error}", exit_code=2) from None
        except TaxonomyError as error:
            raise StartupError(f"TOPICS_FILE: {error}", exit_code=2) from None
        s = self.services
        # The parts by name, as handlers, the API and the tests reach them.
        self.db = s.db
        self.bot = s.bot
        self.translator = s.translator
        self.policy = s.policy
        self.wording = s.wording
        self.limiter = s.limiter
        self.accounts = s.accounts
        self.locations = s.locations
        self.routing = s.routing
        self.chats = s.chats
        self.worker = s.worker
        self.visits = s.visits
        self.cases = s.cases
        self.case_outbox = s.case_outbox
        self.surveys = s.surveys
        self.dashboard = s.dashboard
        self.webhooks = s.webhooks
        self.webhook_worker = s.webhook_worker
        self.taxonomy = s.taxonomy
        self.classifier = s.classifier
        self.instance_id = settings.instance_id
        self.dispatcher = create_dispatcher(
            s.dependencies(),
            self.translator,
            settings.default_language,
            storage=create_fsm_storage(settings.redis_url),
            once=UpdateOnceMiddleware(self.db, self.clock),
        )
        self.bot_username: str | None = None
        self._webhook = settings.webhook_url is not None
        self._polling = polling and not self._webhook
        self._maintenance = Maintenance(s, self.instance_id, maintenance_seconds)
        self._tasks: list[asyncio.Task[None]] = []
        self._runner: web.AppRunner | None = None
        self._scheduler = create_scheduler(
            kick_delivery=self.worker.kick,
            maintenance=self.maintenance,
            maintenance_seconds=maintenance_seconds,
        )
        self.api_port: int | None = None

    async def start(self) -> None:
        try:
            await self.db.connect()
        except DatabaseUnavailable as error:
            await self._close_resources()
            raise StartupError(f"DATABASE_URL: {error}") from None
        if self.settings.migrate_on_start:
            await migrate(self.db)
        try:
            await self.webhooks.seed(self.settings.webhooks)
        except WebhookError as error:
            await self._close_resources()
            raise StartupError(f"WEBHOOKS: {error}", exit_code=2) from None
        await self.chats.refresh()
        # Visits are stored (durably) while Telegram is still being reached.
        await self._start_api()
        logger.info(
            "HTTP API on %s:%d; reaching the Bot API at TELEGRAM_API_URL %s",
            self.settings.api_host,
            self.api_port,
            self.settings.telegram_api_url,
        )
        try:
            me = await reach_bot_api(self.bot, self.settings.telegram_api_url, sleep=self._sleep)
        except TokenRefused as error:
            await self._close_resources()
            raise StartupError(str(error), exit_code=2) from None
        except TelegramAPIError as error:
            await self._close_resources()
            raise StartupError(
                f"TELEGRAM_API_URL {self.settings.telegram_api_url}: getMe was refused: "
                f"{error.message}"
            ) from None
        self.bot_username = me.username
        self._tasks.append(asyncio.create_task(self._set_menus(), name="menus"))
        # Claims a crashed run left are taken back now, before maintenance and delivery.
        await self.worker.recover()
        self._tasks.append(asyncio.create_task(self.worker.run(), name="delivery"))
        self._tasks.append(asyncio.create_task(self.webhook_worker.run(), name="webhooks"))
        if self._webhook:
            await self._emit("startup")
            await self._set_webhook()
        elif self._polling:
            if self.settings.instance_count > 1:
                logger.warning(
                    "INSTANCE_COUNT is %d but WEBHOOK_URL is unset: Telegram lets only one "
                    "instance poll (the others get 409 Conflict); set WEBHOOK_URL",
                    self.settings.instance_count,
                )
            self._tasks.append(asyncio.create_task(self._poll(), name="polling"))
        self._scheduler.start()
        # Overdue work from before a restart goes out now, not at the next tick.
        await self.maintenance()
        self.worker.kick()
        logger.info(
            "otklik is running as @%s: instance %s, %s",
            self.bot_username,
            self.instance_id,
            f"webhook at {self.settings.webhook_path}" if self._webhook else "long polling",
        )

    async def _set_menus(self) -> None:
        """The command menus, beside the work: polling does not wait for them."""
        await set_command_menus(self.bot, self.translator, self.settings.admin_ids)

    async def _poll(self) -> None:
        await self.dispatcher.start_polling(
            self.bot,
            handle_signals=False,
            close_bot_session=False,
            allowed_updates=self.dispatcher.resolve_used_update_types(),
            tasks_concurrency_limit=POLLING_CONCURRENCY,
        )

    async def _emit(self, event: str) -> None:
        """Startup/shutdown hooks, which polling emits itself but a webhook does not."""
        data = {"dispatcher": self.dispatcher, "bots": [self.bot], **self.dispatcher.workflow_data}
        if event == "startup":
            await self.dispatcher.emit_startup(bot=self.bot, **data)
        else:
            await self.dispatcher.emit_shutdown(bot=self.bot, **data)

    async def _set_webhook(self) -> None:
        """Point Telegram at WEBHOOK_URL. Every instance does it alike (same URL, same
        secret), so the last one to start changes nothing."""
        assert self.settings.webhook_url is not None
        for attempt in range(3):
            try:
                await self.bot.set_webhook(
                    self.settings.webhook_url,
                    secret_token=self.settings.webhook_secret_token,
                    allowed_updates=self.dispatcher.resolve_used_update_types(),
                    drop_pending_updates=False,
                )
                return
            except TelegramRetryAfter as error:
                # Instances starting together can hit setWebhook's flood limit.
                if attempt == 2:
                    await self.stop()
                    raise StartupError("setWebhook: Telegram kept answering 429") from None
                await asyncio.sleep(error.retry_after)
            except TelegramAPIError as error:
                await self.stop()
                raise StartupError(
                    f"WEBHOOK_URL was refused by the Bot API: {error.message}"
                ) from None

    async def _start_api(self) -> None:
        metrics_token = self.settings.metrics_token
        app = create_api_app(
            self,
            self.settings.api_token.get_secret_value(),
            self.settings.api_max_body_bytes,
            max_batch_body_bytes=self.settings.api_max_batch_body_bytes,
            metrics_token=metrics_token.get_secret_value() if metrics_token else None,
        )
        mount_dashboard(app, self.services.dashboard)
        if self.settings.webhook_path is not None:
            app.router.add_post(
                self.settings.webhook_path,
                WebhookHandler(
                    self.dispatcher, self.bot, self.settings.webhook_secret_token
                ).handle,
            )
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.settings.api_host, self.settings.api_port)
        try:
            await site.start()
        except OSError as error:
            await self._close_resources()
            raise StartupError(
                f"API_HOST/API_PORT {self.settings.api_host}:{self.settings.api_port}: "
                f"cannot listen ({error.strerror})"
            ) from None
        self.api_port = int(self._runner.addresses[0][1])

    @property
    def api_app(self) -> web.Application | None:
        """The HTTP API's aiohttp app while it runs (its routes are the API's contract)."""
        return self._runner.app if self._runner is not None else None

    async def maintenance(self) -> bool:
        """One tick of the time-driven rules (bot/maintenance.py), if this instance
        holds the maintenance lease; returns whether it ran."""
        return await self._maintenance.run()

    async def health(self) -> dict[str, Any]:
        async with self.db.read() as conn:
            counts = await outbox.count_by_status(conn)
        # The instance tells an operator behind the proxy which one answered.
        return {"outbox": counts, "bot": self.bot_username, "instance": self.instance_id}

    async def scrape_metrics(self) -> bytes:
        """GET /metrics: this instance's counters, the database's counts read now."""
        return await self.services.metrics.scrape(self.db, to_ms(self.clock.now()))

    async def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        if self._polling:
            with contextlib.suppress(RuntimeError):  # polling had not started
                await self.dispatcher.stop_polling()
        await self.worker.stop()
        await self.webhook_worker.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if self._webhook and self.bot_username is not None:
            # The webhook itself stays: the other instances keep serving it.
            with contextlib.suppress(Exception):
                await self._emit("shutdown")
        await self._maintenance.release_lease()
        await self._close_resources()

    async def _close_resources(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.dispatcher.storage.close()
        await self.webhook_worker.close()
        await self.bot.session.close()
        await self.db.close()

    async def __aenter__(self) -> Otklik:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()
