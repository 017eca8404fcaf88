"""Factories that the entry point and the tests share: the bot, the dispatcher, and
`Otklik`, the running process (database, delivery, scheduler, polling or webhook,
HTTP API)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any

from aiogram import Bot, Dispatcher, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import BaseSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.fsm.storage.redis import RedisStorage
from aiohttp import web

from bot.admin import handlers as admin_handlers
from bot.anniversaries.outbox import AdminContext, admin_renderers, auto_send, close_finished_runs
from bot.api import create_api_app
from bot.cases import handlers as case_handlers
from bot.cases.outbox import CaseOutbox, case_renderers
from bot.cases.service import CaseService
from bot.chats import handlers as chat_handlers
from bot.chats.service import ChatDirectory
from bot.config import Settings
from bot.core.clock import Clock, SystemClock, to_ms
from bot.core.policy import SurveyPolicy
from bot.core.quiet import CustomerQuietHours
from bot.customers import handlers as start
from bot.customers.service import CustomerService
from bot.i18n import Translator, load_translator
from bot.maintenance import create_scheduler
from bot.outbox.contracts import Renderer
from bot.outbox.sender import AiogramSender
from bot.outbox.worker import DeliveryWorker, Monotonic, RateLimiter
from bot.reports import handlers as report_handlers
from bot.reports.outbox import (
    ReportsContext,
    ReportsSchedule,
    report_renderers,
    reports_maintenance,
)
from bot.survey import handlers as survey
from bot.survey.outbox import RenderContext, core_renderers
from bot.survey.service import SurveyService
from bot.survey.texts import Wording
from bot.telegram.locale import LocaleMiddleware
from bot.telegram.once import UpdateOnceMiddleware
from bot.telegram.webhook import WebhookHandler
from bot.visits.service import VisitService
from storage import leases, outbox, updates
from storage.db import Database, DatabaseUnavailable, create_database, migrate

logger = logging.getLogger(__name__)

MAINTENANCE_LEASE = "maintenance"
# A lease outlives a few missed ticks, so a busy holder keeps it, a dead one loses it soon.
LEASE_TICKS = 3
# Telegram gives up redelivering an update long before this.
UPDATE_CLAIMS_KEPT = timedelta(hours=48)
# Telegram's global group limit, which the instances share.
GROUP_MESSAGES_PER_MINUTE = 20


class StartupError(Exception):
    """The bot cannot start; the message says why, in one line, without secrets."""


def create_bot(settings: Settings, session: BaseSession | None = None) -> Bot:
    """A Bot for TELEGRAM_API_URL (Telegram's, or a local Bot API server)."""
    if session is None:
        assert settings.telegram_api_url is not None
        session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    return Bot(
        settings.bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )


def get_routers() -> list[Router]:
    """Feature routers: survey buttons (most updates, a prefix no other router uses)
    first, then the service messages of a group's move, before any router that reads
    the managers' chat; the survey's catch-all text handler last."""
    return [
        survey.get_buttons_router(),
        chat_handlers.get_router(),
        start.get_router(),
        report_handlers.get_router(),
        case_handlers.get_router(),
        admin_handlers.get_router(),
        survey.get_reason_router(),
    ]


def create_fsm_storage(redis_url: str | None) -> BaseStorage:
    """Conversation state in Redis when several instances share it, else in memory."""
    if redis_url is None:
        return MemoryStorage()
    # The bot id in the key lets one Redis serve several bots (staging beside production).
    return RedisStorage.from_url(
        redis_url, key_builder=DefaultKeyBuilder(prefix="otklik", with_bot_id=True)
    )


def create_rate_limiter(settings: Settings, monotonic: Monotonic = time.monotonic) -> RateLimiter:
    """This instance's share of Telegram's limits: INSTANCE_COUNT instances split them."""
    count = settings.instance_count
    return RateLimiter(
        settings.send_rate_per_second / count,
        group_per_minute=max(1, GROUP_MESSAGES_PER_MINUTE // count),
        monotonic=monotonic,
    )


def create_dispatcher(
    deps: Mapping[str, Any],
    translator: Translator,
    manager_language: str,
    *,
    storage: BaseStorage | None = None,
    once: UpdateOnceMiddleware | None = None,
) -> Dispatcher:
    """A Dispatcher whose handlers receive `deps` (services, settings, clock) by name.

    `once` (outer) skips updates already handled; `storage` holds the FSM state."""
    dispatcher = Dispatcher(storage=storage)
    if once is not None:
        dispatcher.update.outer_middleware(once)
    dispatcher.update.middleware(LocaleMiddleware(translator, manager_language))
    dispatcher.workflow_data.update(deps)
    dispatcher.include_routers(*get_routers())
    return dispatcher


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
    ) -> None:
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.db: Database = create_database(settings.database_url)
        self.bot = create_bot(settings, session)
        self.translator = load_translator()
        self.policy = SurveyPolicy.from_settings(settings)
        self.wording = Wording(settings.company_name, settings.nps_question, settings.ces_question)
        self.instance_id = settings.instance_id
        self.limiter = create_rate_limiter(settings, monotonic)
        self.accounts = CustomerService(self.db, self.clock)
        self.chats = ChatDirectory(
            self.db, self.clock, settings.manager_chat_id, settings.alert_escalation_chat_id
        )
        self.worker = DeliveryWorker(
            self.db,
            self.clock,
            AiogramSender(self.bot, paid_broadcast=settings.paid_broadcast),
            self._renderers(),
            self.limiter,
            owner=self.instance_id,
            idle_poll=delivery_poll_seconds,
            on_chat_moved=self.chats.learn,
        )
        self.visits = VisitService(self.db, self.clock, self.policy, self.worker.kick)
        self.cases = CaseService.from_settings(self.db, self.clock, settings)
        self.case_outbox = CaseOutbox(
            self.cases,
            self.db,
            self.clock,
            self.translator,
            settings.default_language,
            chats=self.chats,
            admin_ids=list(settings.admin_ids),
            kick=lambda: self.worker.kick(),
            quiet=CustomerQuietHours.from_settings(settings),
        )
        self.surveys = SurveyService(
            self.db,
            self.clock,
            self.policy,
            on_detractor=self.case_outbox.on_detractor,
            on_enqueued=self.worker.kick,
        )
        self.dispatcher = create_dispatcher(
            self.dependencies(),
            self.translator,
            settings.default_language,
            storage=create_fsm_storage(settings.redis_url),
            once=UpdateOnceMiddleware(self.db, self.clock),
        )
        self.bot_username: str | None = None
        self._webhook = settings.webhook_url is not None
        self._polling = polling and not self._webhook
        self._maintenance_seconds = maintenance_seconds
        self._lease_length = timedelta(seconds=maintenance_seconds * LEASE_TICKS)
        self._lease_tried = False
        self._tasks: list[asyncio.Task[None]] = []
        self._runner: web.AppRunner | None = None
        self._scheduler = create_scheduler(
            kick_delivery=self.worker.kick,
            maintenance=self.maintenance,
            maintenance_seconds=maintenance_seconds,
        )
        self.api_port: int | None = None

    def _renderers(self) -> dict[str, Renderer]:
        ctx = RenderContext(
            db=self.db,
            clock=self.clock,
            translator=self.translator,
            policy=self.policy,
            wording=self.wording,
            manager_language=self.settings.default_language,
            zone=self.settings.zone,
        )
        reports_ctx = ReportsContext(
            self.db, self.translator, self.settings.default_language, self.settings.min_sample
        )
        return {
            **core_renderers(ctx),
            **report_renderers(reports_ctx),
            **case_renderers(ctx, self.settings.company_name),
            **admin_renderers(AdminContext(self.db, self.clock, self.translator, self.settings)),
        }

    def dependencies(self) -> dict[str, Any]:
        """Singletons that handlers receive by parameter name."""
        return {
            "settings": self.settings,
            "clock": self.clock,
            "db": self.db,
            "translator": self.translator,
            "wording": self.wording,
            "accounts": self.accounts,
            "visits": self.visits,
            "surveys": self.surveys,
            "kick_delivery": self.worker.kick,
            "cases": self.cases,
            "case_outbox": self.case_outbox,
            "chats": self.chats,
        }

    async def start(self) -> None:
        try:
            await self.db.connect()
        except DatabaseUnavailable as error:
            await self._close_resources()
            raise StartupError(f"DATABASE_URL: {error}") from None
        if self.settings.migrate_on_start:
            await migrate(self.db)
        await self.chats.refresh()
        try:
            me = await self.bot.me()
        except TelegramUnauthorizedError:
            await self._close_resources()
            raise StartupError(
                "BOT_TOKEN was rejected by the Bot API server (401 Unauthorized)"
            ) from None
        self.bot_username = me.username
        await self._start_api()
        self._tasks.append(asyncio.create_task(self.worker.run(), name="delivery"))
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

    async def _poll(self) -> None:
        await self.dispatcher.start_polling(
            self.bot,
            handle_signals=False,
            close_bot_session=False,
            allowed_updates=self.dispatcher.resolve_used_update_types(),
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
        app = create_api_app(
            self,
            self.settings.api_token.get_secret_value(),
            self.settings.api_max_body_bytes,
        )
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

    async def maintenance(self) -> bool:
        """Expire, remind: the time-driven rules that are not single deliveries.

        Only the instance holding the maintenance lease runs them; it renews the lease
        before each step and stops if it lost it. Returns whether it ran."""
        # Every instance, lease or not: a team chat another one saw move is followed here too.
        await self.chats.refresh()
        for step in self._maintenance_steps():
            if not await self.hold_maintenance_lease():
                return False
            await step()
        return True

    def _maintenance_steps(self) -> list[Callable[[], Awaitable[object]]]:
        admin_ctx = AdminContext(self.db, self.clock, self.translator, self.settings)

        async def anniversaries() -> None:
            await close_finished_runs(admin_ctx)
            if await auto_send(admin_ctx):
                self.worker.kick()

        schedule = ReportsSchedule(
            self.db,
            self.clock,
            self.settings.zone,
            self.chats.managers,
            self.settings.digest_at,
            self.settings.min_sample,
            self.settings.nps_drop_alert,
        )
        return [
            self.surveys.expire_due,
            self.surveys.remind_due,
            anniversaries,
            self.case_outbox.maintenance,
            lambda: reports_maintenance(schedule),
            self._prune_update_claims,
        ]

    async def hold_maintenance_lease(self) -> bool:
        """Take or renew the maintenance lease; False while another instance holds it."""
        now = self.clock.now()
        self._lease_tried = True
        async with self.db.transaction() as conn:
            return await leases.acquire(
                conn,
                MAINTENANCE_LEASE,
                self.instance_id,
                now=to_ms(now),
                until=to_ms(now + self._lease_length),
            )

    async def _prune_update_claims(self) -> None:
        async with self.db.transaction() as conn:
            await updates.prune(conn, before=to_ms(self.clock.now() - UPDATE_CLAIMS_KEPT))

    async def _release_maintenance_lease(self) -> None:
        """A graceful stop hands maintenance over at once instead of after the lease."""
        if not self._lease_tried:
            return
        self._lease_tried = False
        try:
            async with self.db.transaction() as conn:
                await leases.release(conn, MAINTENANCE_LEASE, self.instance_id)
        except Exception:
            logger.exception("could not release the maintenance lease; it expires by itself")

    async def health(self) -> dict[str, Any]:
        async with self.db.read() as conn:
            counts = await outbox.count_by_status(conn)
        # The instance tells an operator behind the proxy which one answered.
        return {"outbox": counts, "bot": self.bot_username, "instance": self.instance_id}

    async def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        if self._polling:
            with contextlib.suppress(RuntimeError):  # polling had not started
                await self.dispatcher.stop_polling()
        await self.worker.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if self._webhook and self.bot_username is not None:
            # The webhook itself stays: the other instances keep serving it.
            with contextlib.suppress(Exception):
                await self._emit("shutdown")
        await self._release_maintenance_lease()
        await self._close_resources()

    async def _close_resources(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.dispatcher.storage.close()
        await self.bot.session.close()
        await self.db.close()

    async def __aenter__(self) -> Otklik:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()
