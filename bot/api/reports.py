"""Reports over HTTP for dashboards: GET /api/v1/stats (JSON, with the closing-the-loop
figures as `recovery`), GET /api/v1/topics (what the reasons say, JSON),
GET /api/v1/responses.csv and GET /api/v1/cases.csv (streamed).
Auth is the API's bearer middleware."""

from __future__ import annotations

from typing import Any, Literal, Protocol, cast

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.api.keys import SERVICES_KEY
from bot.api.openapi import Answer, documented
from bot.api.routes import validation_error
from bot.config import Settings
from bot.core.bounds import Text
from bot.core.clock import Clock
from bot.reports.export import (
    CASE_CSV_COLUMNS,
    CONTENT_TYPE,
    case_cells,
    csv_filename,
    response_format,
    stream_csv,
)
from bot.reports.outbox import load_funnel, load_report
from bot.reports.recovery import load_recovery, recovery_to_dict
from bot.reports.service import (
    ReportError,
    StatsQuery,
    parse_period,
    parse_segment,
    report_to_dict,
)
from bot.reports.topics import load_topics, topic_report_to_dict
from bot.topics import Taxonomy
from storage import recovery
from storage import reports as queries
from storage.db import Database


class ReportQuery(BaseModel):
    """?period=..&segment=.. of the report routes."""

    period: str = Field(
        default="",
        max_length=40,
        description=(
            "7d / 30d (1-1098 days), 2026-10, 2026-10-05 or 2026-10-01..2026-10-31;"
            " days after today are cut off; default: the last 30 days"
        ),
    )
    segment: Literal[
        "none", "total", "all", "location", "locations", "staff", "touchpoint", "touchpoints"
    ] = Field(default="none", description="split the report by this field")


class SegmentFigures(BaseModel):
    """One segment's (or the total's) figures over the period."""

    model_config = ConfigDict(extra="allow")

    key: str = Field(description="the segment's value; '' for the total")
    nps: int | None = Field(description="null below min_sample")
    nps_unreliable: int | None = Field(description="the score even below min_sample")
    margin: float | None
    enough: bool
    n: int
    promoters: int
    passives: int
    detractors: int
    ces_mean: float | None = Field(description="mean CES, 1-7")
    ces_easy_share: float | None = Field(description="share of CES answers 5-7, 0-1")
    ces_count: int
    csat_mean: float | None = Field(
        default=None, description="mean CSAT, 1-5; present only when SURVEY_STEPS asks csat"
    )
    csat_satisfied_share: float | None = Field(
        default=None,
        description="share of CSAT answers 4-5, 0-1; present only when SURVEY_STEPS asks csat",
    )
    csat_count: int | None = Field(
        default=None, description="CSAT answers; present only when SURVEY_STEPS asks csat"
    )
    sent: int
    answered: int
    response_rate: float | None
    delta_nps: int | None
    delta_significant: bool | None
    previous: SegmentFigures | None = Field(
        default=None, description="the same figures of the period before"
    )


class StatsAnswer(BaseModel):
    """The report: NPS, CES (and CSAT when asked) and counts, per segment, and the
    delivery funnel by location."""

    model_config = ConfigDict(extra="allow")

    ok: Literal[True]
    total: SegmentFigures
    segments: list[SegmentFigures]
    funnel: list[dict[str, Any]]
    recovery: dict[str, Any] = Field(
        description=(
            "closing the loop: total and per location, cases taken, first contact and"
            " resolved (count, share, p50/p90 as le_s or gt_s seconds), follow-up,"
            " reopened, won back"
        )
    )


class TopicsQuery(BaseModel):
    """?period=..&location=..&lang=.. of GET /api/v1/topics."""

    period: str = Field(
        default="",
        max_length=40,
        description="as for /api/v1/stats: 7d, 30d, 2026-10, 2026-10-01..2026-10-31",
    )
    location: Text | None = Field(
        default=None, description="one location's code (default: the whole chain)"
    )
    lang: Literal["ru", "uk", "en"] | None = Field(
        default=None, description="the topics' labels in this language (default: DEFAULT_LANGUAGE)"
    )


class TopicPeriodFigures(BaseModel):
    mentions: int = Field(description="answers whose reason mentions the topic")
    promoters: int
    passives: int
    detractors: int
    share: float | None = Field(description="mentions among all answers, in percent")
    impact: float | None = Field(
        description=(
            "NPS minus the NPS without the answers mentioning the topic, in points"
            " (negative: points lost to it); null: too few answers to say"
        )
    )


class TopicFigures(TopicPeriodFigures):
    id: str
    label: str
    too_few: bool = Field(description="fewer than MIN_SAMPLE answers to say its impact")
    share_change: float | None = Field(description="share against the previous period, points")
    impact_change: float | None
    previous: TopicPeriodFigures


class TopicAnswers(BaseModel):
    total: int
    promoters: int
    passives: int
    detractors: int
    nps: float | None
    previous_total: int
    previous_nps: float | None


class DateRange(BaseModel):
    start: str
    end: str


class TopicsAnswer(BaseModel):
    """Each topic of the period's reasons: mentions among detractors and promoters, share,
    change against the period before, and NPS impact, costliest first."""

    ok: Literal[True]
    location: str | None
    language: str
    period: DateRange
    previous_period: DateRange
    min_sample: int
    answers: TopicAnswers
    topics: list[TopicFigures]


CSV_SCHEMA = {"type": "string", "description": "one row per response, with a header row"}
CASES_CSV_SCHEMA = {"type": "string", "description": "one row per case, with a header row"}


class ReportServices(Protocol):
    """What these routes need from the running bot (Otklik has all of it)."""

    settings: Settings
    clock: Clock
    db: Database
    taxonomy: Taxonomy


def _services(request: web.Request) -> ReportServices:
    return cast(ReportServices, request.app[SERVICES_KEY])


def _query(request: web.Request, services: ReportServices) -> StatsQuery:
    today = services.clock.now().astimezone(services.settings.zone).date()
    period = parse_period(request.query.get("period", ""), today)
    segment = parse_segment(request.query.get("segment", "none") or "none")
    return StatsQuery(period, segment)


def _bad_request(error: ReportError) -> web.Response:
    return web.json_response({"ok": False, "error": str(error)}, status=400)


@documented("The NPS/CES report", {200: StatsAnswer}, query=ReportQuery, tag="reports")
async def get_stats(request: web.Request) -> web.Response:
    """The report of ?period=..&segment=.. as JSON, with the delivery funnel."""
    services = _services(request)
    try:
        query = _query(request, services)
    except ReportError as error:
        return _bad_request(error)
    report = await load_report(
        services.db,
        query.period,
        query.segment,
        services.settings.min_sample,
        steps=services.settings.survey_steps,
    )
    funnel = await load_funnel(services.db, query.period)
    closing = await load_recovery(services.db, query.period, services.settings.min_sample)
    return web.json_response(
        {
            "ok": True,
            **report_to_dict(report),
            "funnel": [{"location": row.location, **row.events} for row in funnel],
            "recovery": recovery_to_dict(closing),
        }
    )


@documented(
    "What the reasons say: topics by NPS impact",
    {200: TopicsAnswer},
    query=TopicsQuery,
    tag="reports",
)
async def get_topics(request: web.Request) -> web.Response:
    """The topics of ?period=.. (as /api/v1/stats) of the chain or of ?location=.., with
    labels in ?lang=.. (default: DEFAULT_LANGUAGE)."""
    services = _services(request)
    try:
        query = TopicsQuery.model_validate(dict(request.query))
    except ValidationError as error:
        return validation_error(error)
    today = services.clock.now().astimezone(services.settings.zone).date()
    try:
        period = parse_period(query.period, today)
    except ReportError as error:
        return _bad_request(error)
    language = query.lang or services.settings.default_language
    taxonomy = services.taxonomy
    report = await load_topics(
        services.db,
        period,
        taxonomy.ids(),
        services.settings.min_sample,
        None if query.location is None else [query.location],
    )
    body = topic_report_to_dict(report, lambda topic: taxonomy.label(topic, language))
    return web.json_response(
        {"ok": True, "location": query.location, "language": language, **body}
    )


@documented(
    "The responses as CSV",
    {200: Answer("the CSV, streamed", media_type=CONTENT_TYPE, schema=CSV_SCHEMA)},
    query=ReportQuery,
    tag="reports",
)
async def get_responses_csv(request: web.Request) -> web.StreamResponse:
    """The responses of ?period=.. as CSV, streamed page by page."""
    return await _stream(request, "responses")


@documented(
    "The cases as CSV, one row each with its timings",
    {200: Answer("the CSV, streamed", media_type=CONTENT_TYPE, schema=CASES_CSV_SCHEMA)},
    query=ReportQuery,
    tag="reports",
)
async def get_cases_csv(request: web.Request) -> web.StreamResponse:
    """The cases of ?period=.. (by their visit's day) as CSV, one row each with its
    timings, streamed page by page."""
    return await _stream(request, "cases")


async def _stream(request: web.Request, what: str) -> web.StreamResponse:
    services = _services(request)
    try:
        query = _query(request, services)
    except ReportError as error:
        return _bad_request(error)
    start, end = query.period.start.isoformat(), query.period.end.isoformat()
    response = web.StreamResponse(
        headers={
            "Content-Type": CONTENT_TYPE,
            "Content-Disposition": f'attachment; filename="{csv_filename(start, end, what)}"',
        }
    )
    await response.prepare(request)
    columns, cells = response_format(services.settings.survey_steps)
    if what == "cases":
        columns, cells = CASE_CSV_COLUMNS, case_cells
    async with services.db.read() as conn:
        rows = (
            recovery.iter_case_rows(conn, start, end)
            if what == "cases"
            else queries.iter_responses(conn, start, end)
        )
        chunks = stream_csv(
            rows,
            services.settings.zone,
            cells=cells,
            columns=columns,
        )
        async for chunk in chunks:
            await response.write(chunk)
    await response.write_eof()
    return response


def add_report_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/stats", get_stats)
    app.router.add_get("/api/v1/topics", get_topics)
    app.router.add_get("/api/v1/responses.csv", get_responses_csv)
    app.router.add_get("/api/v1/cases.csv", get_cases_csv)
