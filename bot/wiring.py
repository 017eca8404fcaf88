"""Builds everything the running bot is made of, in one place that the entry point,
the tests and the benchmarks share: the Bot, the dispatcher with its routers in order,
the services, the outbox renderers of every feature, and the typed bundle of
dependencies that handlers receive by parameter name."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypedDict

from aiogram import Bot, Dispatcher, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import BaseSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.filters import ExceptionTypeFilter
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder
from aiogram.fsm.storage.memory import MemoryStorage

from bot.admin import handlers as admin_handlers
from bot.anniversaries import handlers as anniversary_handlers
from bot.anniversaries.outbox import AdminContext, admin_renderers
from bot.cases import handlers as case_handlers
from bot.cases.outbox import CaseOutbox, case_renderers
from bot.cases.service import CaseService
from bot.cases.templates import TemplateBook, template_book
from bot.chats import handlers as chat_handlers
from bot.chats.service import ChatDirectory
from bot.config import Settings
from bot.core.clock import Clock
from bot.core.metrics import Metrics
from bot.core.policy import SurveyPolicy
from bot.core.quiet import CustomerQuietHours
from bot.customers import handlers as customer_handlers
from bot.customers.service import CustomerService
from bot.dashboard import handlers as dashboard_handlers
from bot.dashboard.access import DashboardAccess
from bot.dashboard.facade import Dashboard
from bot.dashboard.service import DashboardService
from bot.i18n import Translator, load_translator
from bot.locations import handlers as location_handlers
from bot.locations.qr import qr_key
from bot.locations.routing import Routing
from bot.locations.service import LocationService
from bot.outbox.limiter import Monotonic, RateLimiter
from bot.outbox.registry import RendererRegistry
from bot.outbox.replies import ReplyNotSent, ReplyPacer, reply_not_sent
from bot.outbox.sender import AiogramSender
from bot.outbox.worker import DeliveryWorker
from bot.reports import handlers as report_handlers
from bot.reports.outbox import ReportsContext, report_renderers
from bot.survey import handlers as survey_handlers
from bot.survey.outbox import RenderContext, core_renderers
from bot.survey.service import SurveyService
from bot.survey.texts import Wording
from bot.telegram.locale import LocaleMiddleware
from bot.telegram.once import UpdateOnceMiddleware
from bot.topics import Taxonomy, TopicClassifier, load_taxonomy
from bot.visits.service import VisitService
from bot.webhooks.delivery import WebhookWorker
from bot.webhooks.endpoints import WebhookService
from storage.db import Database, create_database

# Telegram's global group limit, which the instances share.
GROUP_MESSAGES_PER_MINUTE = 20


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
    the managers' chat; the survey's text and media handlers, then unprompted feedback
    (whatever else a customer writes) last."""
    return [
        survey_handlers.get_buttons_router(),
        chat_handlers.get_router(),
        customer_handlers.get_router(),
        report_handlers.get_router(),
        case_handlers.get_router(),
        anniversary_handlers.get_router(),
        location_handlers.get_router(),
        dashboard_handlers.get_router(),
        admin_handlers.get_router(),
        survey_handlers.get_reason_router(),
        case_handlers.get_unprompted_router(),
    ]


def create_fsm_storage(redis_url: str | None) -> BaseStorage:
    """Conversation state in Redis when several instances share it, else in memory."""
    if redis_url is None:
        return MemoryStorage()
    # The redis client is loaded only when REDIS_URL is set.
    from aiogram.fsm.storage.redis import RedisStorage

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


class Dependencies(TypedDict):
    """What handlers receive by parameter name (aiogram's workflow data)."""

    settings: Settings
    clock: Clock
    db: Database
    translator: Translator
    wording: Wording
    accounts: CustomerService
    locations: LocationService
    visits: VisitService
    surveys: SurveyService
    kick_delivery: Callable[[], None]
    cases: CaseService
    case_outbox: CaseOutbox
    chats: ChatDirectory
    routing: Routing
    templates: TemplateBook
    dashboard: Dashboard
    taxonomy: Taxonomy


def create_dispatcher(
    deps: Dependencies,
    translator: Translator,
    manager_language: str,
    *,
    storage: BaseStorage | None = None,
    once: UpdateOnceMiddleware | None = None,
) -> Dispatcher:
    """A Dispatcher whose handlers receive `deps` (services, settings, clock) by name.

    `once` (outer) skips updates already handled; `storage` holds the FSM state. A
    reply the pacer gave up on ends its update quietly (logged once, no traceback)."""
    dispatcher = Dispatcher(storage=storage)
    dispatcher.errors.register(reply_not_sent, ExceptionTypeFilter(ReplyNotSent))
    if once is not None:
        once.install(dispatcher)
    dispatcher.update.middleware(LocaleMiddleware(translator, manager_language))
    dispatcher.workflow_data.update(deps)
    dispatcher.include_routers(*get_routers())
    return dispatcher


def create_renderers(
    settings: Settings,
    db: Database,
    clock: Clock,
    translator: Translator,
    taxonomy: Taxonomy | None = None,
    metrics: Metrics | None = None,
) -> RendererRegistry:
    """Every feature's outbox kinds; a kind registered twice is refused. `taxonomy`: the
    topics' labels (default: TOPICS_FILE's, loaded here). `metrics` counts what
    renderers learn of (survey lateness, alerts sent)."""
    if taxonomy is None:
        taxonomy = load_taxonomy(settings.topics_file)
    ctx = RenderContext(
        db=db,
        clock=clock,
        translator=translator,
        policy=SurveyPolicy.from_settings(settings),
        wording=Wording.from_settings(settings),
        manager_language=settings.default_language,
        zone=settings.zone,
        taxonomy=taxonomy,
        metrics=metrics,
    )
    registry = RendererRegistry()
    registry.register_all(core_renderers(ctx))
    registry.register_all(case_renderers(ctx, settings.company_name))
    registry.register_all(
        report_renderers(
            ReportsContext(
                db,
                translator,
                settings.default_language,
                settings.min_sample,
                taxonomy,
                settings.survey_steps,
            )
        )
    )
    registry.register_all(admin_renderers(AdminContext(db, clock, translator, settings)))
    return registry


@dataclass(frozen=True, slots=True)
class Services:
    """The running bot's parts, built once by `build_services`."""

    settings: Settings
    clock: Clock
    db: Database
    bot: Bot
    translator: Translator
    policy: SurveyPolicy
    wording: Wording
    limiter: RateLimiter
    replies: ReplyPacer
    accounts: CustomerService
    locations: LocationService
    chats: ChatDirectory
    worker: DeliveryWorker
    visits: VisitService
    cases: CaseService
    case_outbox: CaseOutbox
    routing: Routing
    surveys: SurveyService
    templates: TemplateBook
    dashboard: Dashboard
    webhooks: WebhookService
    # What the reasons say: the taxonomy (TOPICS_FILE) and its classifier, built once.
    taxonomy: Taxonomy
    classifier: TopicClassifier
    webhook_worker: WebhookWorker
    metrics: Metrics

    def dependencies(self) -> Dependencies:
        return Dependencies(
            settings=self.settings,
            clock=self.clock,
            db=self.db,
            translator=self.translator,
            wording=self.wording,
            accounts=self.accounts,
            locations=self.locations,
            visits=self.visits,
            surveys=self.surveys,
            kick_delivery=self.worker.kick,
            cases=self.cases,
            case_outbox=self.case_outbox,
            chats=self.chats,
            routing=self.routing,
            templates=self.templates,
            dashboard=self.dashboard,
            taxonomy=self.taxonomy,
        )


def build_services(
    settings: Settings,
    clock: Clock,
    *,
    session: BaseSession | None = None,
    monotonic: Monotonic = time.monotonic,
    delivery_poll_seconds: float = 1.0,
) -> Services:
    """Everything but the process's lifecycle (bot/app.py): nothing is connected yet.
    TemplatesFileError when TEMPLATES_FILE cannot be used, TaxonomyError when
    TOPICS_FILE cannot."""
    translator = load_translator().with_fallback(settings.default_language)
    templates = template_book(translator, settings.templates_file)
    taxonomy = load_taxonomy(settings.topics_file)
    classifier = TopicClassifier(taxonomy)
    db = create_database(settings.database_url)
    # This process's counters for GET /metrics: a registry of its own per bot.
    metrics = Metrics(settings.instance_id)
    metrics.time_transactions(db)
    bot = create_bot(settings, session)
    policy = SurveyPolicy.from_settings(settings)
    limiter = create_rate_limiter(settings, monotonic)
    # Handlers' replies share the limiter with the worker, ahead of its queue.
    replies = ReplyPacer(limiter, metrics=metrics)
    bot.session.middleware(replies)
    chats = ChatDirectory(db, clock, settings.manager_chat_id, settings.alert_escalation_chat_id)
    worker = DeliveryWorker(
        db,
        clock,
        AiogramSender(bot, paid_broadcast=settings.paid_broadcast),
        create_renderers(settings, db, clock, translator, taxonomy, metrics),
        limiter,
        owner=settings.instance_id,
        # Only one instance can run on SQLite: at start, every claim left is orphaned.
        sole=db.dialect == "sqlite",
        idle_poll=delivery_poll_seconds,
        flush_seconds=settings.outcome_flush_seconds,
        on_chat_moved=chats.learn,
        metrics=metrics,
    )
    cases = CaseService.from_settings(db, clock, settings)
    routing = Routing(db, chats)
    case_outbox = CaseOutbox(
        cases,
        db,
        clock,
        translator,
        settings.default_language,
        routing=routing,
        admin_ids=list(settings.admin_ids),
        kick=worker.kick,
        quiet=CustomerQuietHours.from_settings(settings),
    )
    dashboard = create_dashboard(
        settings, clock, db, bot, translator, chats, routing, cases, worker, templates, taxonomy
    )
    return Services(
        settings=settings,
        clock=clock,
        db=db,
        bot=bot,
        translator=translator,
        policy=policy,
        wording=Wording.from_settings(settings),
        limiter=limiter,
        replies=replies,
        accounts=CustomerService(db, clock),
        locations=LocationService(
            db,
            clock,
            qr_key=qr_key(settings.bot_token.get_secret_value()),
            on_change=chats.refresh,
        ),
        chats=chats,
        worker=worker,
        visits=VisitService(
            db,
            clock,
            policy,
            worker.kick,
            refuse_unknown_locations=settings.unknown_locations == "refuse",
        ),
        cases=cases,
        case_outbox=case_outbox,
        routing=routing,
        surveys=SurveyService(
            db,
            clock,
            policy,
            on_detractor=case_outbox.on_detractor,
            on_media_reason=case_outbox.on_media_reason,
            on_enqueued=worker.kick,
            classify=lambda text: classifier.classify(text).topics,
            metrics=metrics,
        ),
        templates=templates,
        dashboard=dashboard,
        webhooks=WebhookService(db, clock, allow_http=settings.webhook_allow_http),
        # Its own worker and HTTP client: a dead receiver never holds up the outbox.
        webhook_worker=WebhookWorker(
            db,
            clock,
            owner=settings.instance_id,
            sole=db.dialect == "sqlite",
            timeout=settings.webhook_timeout_seconds,
            allow_http=settings.webhook_allow_http,
            idle_poll=delivery_poll_seconds,
            metrics=metrics,
        ),
        taxonomy=taxonomy,
        classifier=classifier,
        metrics=metrics,
    )


def create_dashboard(
    settings: Settings,
    clock: Clock,
    db: Database,
    bot: Bot,
    translator: Translator,
    chats: ChatDirectory,
    routing: Routing,
    cases: CaseService,
    worker: DeliveryWorker,
    templates: TemplateBook,
    taxonomy: Taxonomy,
) -> Dashboard:
    """The managers' dashboard (bot/dashboard), served under /app/ by bot/app.py."""
    access = DashboardAccess(
        routing,
        chats,
        dashboard_handlers.telegram_membership(bot, settings),
        clock,
        admin_ids=settings.admin_ids,
        cache_for=settings.dashboard_member_cache,
    )
    service = DashboardService(
        db,
        clock,
        cases,
        templates,
        translator,
        worker.kick,
        min_sample=settings.min_sample,
        company=settings.company_name,
        taxonomy=taxonomy,
        steps=settings.survey_steps,
    )
    return Dashboard(settings, clock, db, translator, access, service)
