"""Factories that the entry point and the tests share: the bot, the dispatcher, and
`Otklik`, the running process (database, delivery, scheduler, polling, HTTP API)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping
from typing import Any

from aiogram import Bot, Dispatcher, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import BaseSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramUnauthorizedError
from aiohttp import web

from bot.admin_renderers import AdminContext, admin_renderers, auto_send, close_finished_runs
from bot.api import create_api_app
from bot.case_renderers import CaseOutbox, case_renderers
from bot.config import Settings
from bot.handlers import admin as admin_handlers
from bot.handlers import cases as case_handlers
from bot.handlers import reports as report_handlers
from bot.handlers import start, survey
from bot.i18n import Translator, load_translator
from bot.middlewares.locale import LocaleMiddleware
from bot.renderers import RenderContext, core_renderers
from bot.report_renderers import (
    ReportsContext,
    ReportsSchedule,
    report_renderers,
    reports_maintenance,
)
from bot.scheduler import create_scheduler
from bot.sender import AiogramSender
from bot.services.cases import CaseService
from bot.services.clock import Clock, SystemClock
from bot.services.customers import CustomerService
from bot.services.delivery import DeliveryWorker, Monotonic, RateLimiter
from bot.services.outbound import Renderer
from bot.services.policy import SurveyPolicy
from bot.services.surveys import SurveyService
from bot.services.visits import VisitService
from bot.views import Wording
from storage import outbox
from storage.database import Database, create_database, migrate

logger = logging.getLogger(__name__)


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
    """Feature routers, most specific first: the survey's catch-all text handler last."""
    return [
        start.get_router(),
        report_handlers.get_router(),
        case_handlers.get_router(),
        admin_handlers.get_router(),
        survey.get_router(),
    ]


def create_dispatcher(
    deps: Mapping[str, Any], translator: Translator, manager_language: str
) -> Dispatcher:
    """A Dispatcher whose handlers receive `deps` (services, settings, clock) by name."""
    dispatcher = Dispatcher()
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
        self.limiter = RateLimiter(settings.send_rate_per_second, monotonic=monotonic)
        self.accounts = CustomerService(self.db, self.clock)
        self.worker = DeliveryWorker(
            self.db,
            self.clock,
            AiogramSender(self.bot, paid_broadcast=settings.paid_broadcast),
            self._renderers(),
            self.limiter,
            idle_poll=delivery_poll_seconds,
        )
        self.visits = VisitService(self.db, self.clock, self.policy, self.worker.kick)
        self.cases = CaseService.from_settings(self.db, self.clock, settings)
        self.case_outbox = CaseOutbox(
            self.cases,
            self.db,
            self.clock,
            self.translator,
            settings.default_language,
            manager_chat_id=settings.manager_chat_id,
            escalation_chat_id=settings.alert_escalation_chat_id,
            admin_ids=list(settings.admin_ids),
            kick=lambda: self.worker.kick(),
        )
        self.surveys = SurveyService(
            self.db,
            self.clock,
            self.policy,
            self.case_outbox.on_detractor,
            self.worker.kick,
        )
        self.dispatcher = create_dispatcher(
            self.dependencies(), self.translator, settings.default_language
        )
        self.bot_username: str | None = None
        self._polling = polling
        self._maintenance_seconds = maintenance_seconds
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
        }

    async def start(self) -> None:
        await self.db.connect()
        if self.settings.migrate_on_start:
            await migrate(self.db)
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
        if self._polling:
            self._tasks.append(asyncio.create_task(self._poll(), name="polling"))
        self._scheduler.start()
        # Overdue work from before a restart goes out now, not at the next tick.
        await self.maintenance()
        self.worker.kick()
        logger.info("otklik is running as @%s", self.bot_username)

    async def _poll(self) -> None:
        await self.dispatcher.start_polling(
            self.bot,
            handle_signals=False,
            close_bot_session=False,
            allowed_updates=self.dispatcher.resolve_used_update_types(),
        )

    async def _start_api(self) -> None:
        app = create_api_app(
            self,
            self.settings.api_token.get_secret_value(),
            self.settings.api_max_body_bytes,
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

    async def maintenance(self) -> None:
        """Expire, remind: the time-driven rules that are not single deliveries."""
        await self.surveys.expire_due()
        await self.surveys.remind_due()
        admin_ctx = AdminContext(self.db, self.clock, self.translator, self.settings)
        await close_finished_runs(admin_ctx)
        if await auto_send(admin_ctx):
            self.worker.kick()
        await self.case_outbox.maintenance()
        await reports_maintenance(
            ReportsSchedule(
                self.db,
                self.clock,
                self.settings.zone,
                self.settings.manager_chat_id,
                self.settings.digest_at,
                self.settings.min_sample,
                self.settings.nps_drop_alert,
            )
        )

    async def health(self) -> dict[str, Any]:
        async with self.db.read() as conn:
            counts = await outbox.count_by_status(conn)
        return {"outbox": counts, "bot": self.bot_username}

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
        await self._close_resources()

    async def _close_resources(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.bot.session.close()
        await self.db.close()

    async def __aenter__(self) -> Otklik:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()
