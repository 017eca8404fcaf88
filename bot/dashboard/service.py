"""The dashboard's figures and actions, free of aiohttp and aiogram.

Every figure comes from the same code as /stats and /api/v1/stats (bot.reports:
`load_report` over storage.reports' counters, `weekly_points` for the chart), so the
three always agree; a case is taken or resolved through bot.cases' service in one
transaction with the card's edit in the outbox, as the chat's buttons do."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from bot.cases.outbox import enqueue_card_refresh, enqueue_improved_notice
from bot.cases.service import CaseResult, CaseService
from bot.cases.templates import TemplateBook
from bot.config import DEFAULT_SURVEY_STEPS
from bot.core.clock import Clock, to_ms
from bot.dashboard.auth import Viewer
from bot.i18n import Translator
from bot.locations.routing import Scope
from bot.reports import service as rules
from bot.reports.outbox import load_report
from bot.reports.recovery import RecoveryReport, load_recovery
from bot.reports.topics import TopicReport, TopicWeek, load_topic_weeks, load_topics
from bot.topics import Taxonomy
from storage import dashboard as queries
from storage import locations as catalogue
from storage import reports as report_queries
from storage.db import Database

PAGE_SIZE = 50
# The Topics screen's example reasons per topic: the most recent ones.
EXAMPLES = 3
# The most surveys one Responses page reads, however rare its matches (a text search
# over a million answers): the page says how far back it searched and goes on from
# there when asked (storage.dashboard.responses_window).
SCAN_LIMIT = 20_000


def scoped(scope: Scope) -> list[str] | None:
    """The locations a scope limits a query to; None for everything."""
    return None if scope.everything else sorted(scope.locations)


@dataclass(frozen=True, slots=True)
class Overview:
    report: rules.Report
    weeks: list[rules.WeekPoint]


@dataclass(frozen=True, slots=True)
class TopicsScreen:
    """The topic report of a scope (from the counters, as GET /api/v1/topics) and a few
    recent reasons of each mentioned topic."""

    report: TopicReport
    examples: dict[str, list[queries.Response]]
    # Each mentioned topic's share of the answers per ISO week (its trend).
    weeks: dict[str, list[TopicWeek]]


class DashboardService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        cases: CaseService,
        templates: TemplateBook,
        translator: Translator,
        kick: Callable[[], None],
        *,
        min_sample: int,
        company: str,
        taxonomy: Taxonomy,
        steps: tuple[str, ...] = DEFAULT_SURVEY_STEPS,
    ) -> None:
        self._db = db
        self._clock = clock
        self._cases = cases
        self._templates = templates
        self._translator = translator
        self._kick = kick
        self.min_sample = min_sample
        self._company = company
        # The topics' ids and labels (bot/topics, TOPICS_FILE): the Responses filter.
        self.taxonomy = taxonomy
        # SURVEY_STEPS: the Overview shows CSAT when it is asked.
        self.steps = steps

    async def overview(self, period: rules.Period, scope: Scope) -> Overview:
        """The period's report by location (with the period before it) and NPS by week."""
        locations = scoped(scope)
        report = await load_report(
            self._db,
            period,
            rules.SegmentBy.LOCATION,
            self.min_sample,
            locations,
            steps=self.steps,
        )
        async with self._db.read() as conn:
            weeks = await report_queries.weekly_totals(conn, period.start, period.end, locations)
        return Overview(report, rules.weekly_points(weeks, self.min_sample))

    async def responses(
        self, query: queries.ResponseFilter, before: queries.Cursor | None = None
    ) -> queries.Window:
        """A page of answers, reading at most SCAN_LIMIT surveys."""
        async with self._db.read() as conn:
            return await queries.responses_window(
                conn, query, before=before, limit=PAGE_SIZE, scan=SCAN_LIMIT
            )

    async def facets(self, start: date, end: date, scope: Scope) -> queries.Facets:
        async with self._db.read() as conn:
            return await queries.facets(conn, start, end, scoped(scope))

    async def open_cases(self, scope: Scope) -> tuple[list[queries.OpenCase], queries.OpenCounts]:
        """The first PAGE_SIZE open cases by SLA deadline, and how many are open."""
        locations = scoped(scope)
        async with self._db.read() as conn:
            return await queries.open_cases_page(
                conn, locations, to_ms(self._clock.now()), PAGE_SIZE
            )

    async def recovery(self, period: rules.Period, scope: Scope) -> RecoveryReport:
        """Closing the loop in the period, from the counters /stats reads."""
        return await load_recovery(self._db, period, self.min_sample, scoped(scope))

    async def topics(
        self, period: rules.Period, scope: Scope, location: str | None = None
    ) -> TopicsScreen:
        """Each topic's NPS impact, mentions and share against the period before (the
        report of /topics and GET /api/v1/topics) of the scope or of one `location` in
        it, with the EXAMPLES latest reasons of each mentioned topic and its share of the
        answers week by week."""
        locations = [location] if location is not None else scoped(scope)
        report = await load_topics(
            self._db, period, self.taxonomy.ids(), self.min_sample, locations
        )
        query = queries.ResponseFilter(
            start=period.start, end=period.end, locations=scoped(scope), location=location
        )
        mentioned = [figures.topic for figures in report.topics if figures.mentions]
        async with self._db.read() as conn:
            examples = await queries.topic_examples(conn, query, mentioned, EXAMPLES)
        weeks = await load_topic_weeks(self._db, period, locations)
        return TopicsScreen(report, examples, weeks)

    async def location_names(self) -> dict[str, str]:
        """The catalogue's name of each location code (a chain has tens to hundreds)."""
        async with self._db.read() as conn:
            return {item.code: item.name for item in await catalogue.all_locations(conn)}

    async def case_location(self, case_id: int) -> str | None:
        """The location of a case's visit; None for no such case."""
        return await self._cases.location_of(case_id)

    async def take(self, case_id: int, viewer: Viewer) -> CaseResult:
        """Take a case as the chat's Take button does; its card is edited via the outbox."""
        async with self._db.transaction() as conn:
            result = await self._cases.take(case_id, viewer.user_id, viewer.name, conn=conn)
            await enqueue_card_refresh(conn, result, to_ms(self._clock.now()))
        self._kick()
        return result

    async def resolve(
        self, case_id: int, viewer: Viewer, note: str, *, notify: bool, is_admin: bool
    ) -> CaseResult:
        """Resolve a case (its owner or an admin, with a note) as the chat's Resolve
        does: the customer is told when `notify`, the card is edited via the outbox."""
        async with self._db.transaction() as conn:
            result = await self._cases.resolve(
                case_id,
                viewer.user_id,
                note,
                notify,
                manager_name=viewer.name,
                is_admin=is_admin,
                conn=conn,
            )
            now = to_ms(self._clock.now())
            if result.ok and notify:
                await enqueue_improved_notice(
                    conn, case_id, self._templates, self._translator, self._company, now
                )
            await enqueue_card_refresh(conn, result, now)
        self._kick()
        return result


def week_series(weeks: Sequence[rules.WeekPoint]) -> list[dict[str, float | int | None]]:
    """The chart's points: week start (unix seconds), NPS and its margin, n."""
    return [
        {
            "t": int(datetime.combine(week.week_start, time(), UTC).timestamp()),
            "nps": week.nps.score,
            "margin": None if week.nps.margin is None else round(week.nps.margin, 2),
            "n": week.nps.n,
            "enough": week.nps.enough,
        }
        for week in weeks
    ]
