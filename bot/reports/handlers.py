"""/stats, /chart, /topics and /export for the managers' chat and, privately, for
admins."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject, or_f
from aiogram.types import BufferedInputFile, Message

from bot.chats.access import IsAdmin, IsManagerChat
from bot.config import Settings
from bot.core.clock import Clock
from bot.i18n import Texts
from bot.locations.routing import Routing
from bot.reports.export import csv_filename
from bot.reports.outbox import (
    CAPTION_LIMIT,
    case_csv_bytes,
    chart_png,
    csv_bytes,
    format_funnel,
    html_text,
    load_funnel,
    load_report,
)
from bot.reports.recovery import format_recovery, load_recovery
from bot.reports.service import (
    Report,
    ReportError,
    SegmentBy,
    StatsQuery,
    parse_stats_args,
)
from bot.reports.texts import (
    format_error,
    format_report,
)
from bot.reports.topic_texts import (
    format_detractor_topics,
    format_topics,
    parse_topics_args,
    resolve_location,
    topics_png,
)
from bot.reports.topics import load_topics
from bot.topics import Taxonomy
from storage import locations as catalogue
from storage import reports as report_queries
from storage.db import Database


def get_router() -> Router:
    router = Router(name="reports")
    allowed = or_f(IsManagerChat(), IsAdmin())
    router.message.register(stats_command, Command("stats"), allowed)
    router.message.register(chart_command, Command("chart"), allowed)
    router.message.register(topics_command, Command("topics"), allowed)
    router.message.register(export_command, Command("export"), allowed)
    return router


async def _query(
    message: Message,
    command: CommandObject,
    texts: Texts,
    settings: Settings,
    clock: Clock,
    default_segment: SegmentBy = SegmentBy.NONE,
) -> StatsQuery | None:
    """The command's period and segment, or None after answering with the error."""
    today = clock.now().astimezone(settings.zone).date()
    try:
        return parse_stats_args(command.args or "", today, default_segment=default_segment)
    except ReportError as error:
        await message.answer(html_text(format_error(error, texts.translator, texts.language)))
        return None


async def _scope(message: Message, routing: Routing) -> frozenset[str] | None:
    """The locations this chat may see; None for all (the head office, an admin's
    private chat)."""
    if message.chat.type == "private":
        return None  # IsAdmin let only admins through here
    scope = await routing.scope_of(message.chat.id)
    return None if scope.everything else scope.locations


async def _report(
    message: Message,
    query: StatsQuery,
    texts: Texts,
    settings: Settings,
    db: Database,
    locations: frozenset[str] | None,
) -> Report | None:
    """The query's report of `locations`, or None after answering why it cannot be had
    here (a segment that is the head office's)."""
    try:
        return await load_report(
            db,
            query.period,
            query.segment,
            settings.min_sample,
            locations,
            steps=settings.survey_steps,
        )
    except ReportError as error:
        await message.answer(html_text(format_error(error, texts.translator, texts.language)))
        return None


async def stats_command(
    message: Message,
    command: CommandObject,
    texts: Texts,
    settings: Settings,
    clock: Clock,
    db: Database,
    routing: Routing,
    taxonomy: Taxonomy,
) -> None:
    """NPS, CES and response rate of a period, by segment, plus the delivery funnel, of
    the locations this chat may see."""
    query = await _query(message, command, texts, settings, clock)
    if query is None:
        return
    locations = await _scope(message, routing)
    report = await _report(message, query, texts, settings, db, locations)
    if report is None:
        return
    text = format_report(report, texts.translator, texts.language)
    if not report.is_empty:
        topics = await load_topics(
            db, query.period, taxonomy.ids(), settings.min_sample, locations
        )
        line = format_detractor_topics(
            topics,
            lambda topic: taxonomy.label(topic, texts.language),
            texts.translator,
            texts.language,
        )
        if line:
            text += "\n\n" + line
    recovery = await load_recovery(db, query.period, settings.min_sample, locations)
    closing = format_recovery(
        recovery, texts.translator, texts.language, by_location=query.segment is SegmentBy.LOCATION
    )
    funnel_rows = await load_funnel(db, query.period, locations)
    funnel = format_funnel(funnel_rows, texts.translator, texts.language)
    await message.answer(html_text("\n\n".join((text, closing, funnel))))


async def chart_command(
    message: Message,
    command: CommandObject,
    texts: Texts,
    settings: Settings,
    clock: Clock,
    db: Database,
    routing: Routing,
) -> None:
    """A PNG: NPS by week with its margin, and a bar per segment (location by default),
    of the locations this chat may see."""
    query = await _query(message, command, texts, settings, clock, SegmentBy.LOCATION)
    if query is None:
        return
    locations = await _scope(message, routing)
    report = await _report(message, query, texts, settings, db, locations)
    if report is None:
        return
    png = await chart_png(db, report, texts.translator, texts.language, locations)
    period = query.period
    await message.answer_photo(
        BufferedInputFile(png, f"nps-{period.start}_{period.end}.png"),
        caption=html_text(
            texts(
                "reports-chart-caption", start=period.start.isoformat(), end=period.end.isoformat()
            )
        ),
    )


async def topics_command(
    message: Message,
    command: CommandObject,
    texts: Texts,
    settings: Settings,
    clock: Clock,
    db: Database,
    routing: Routing,
    taxonomy: Taxonomy,
) -> None:
    """`/topics [period] [location]`: a PNG of the topics by NPS impact and their top
    lines, of the locations this chat may see (or of the one named among them)."""
    tr, language = texts.translator, texts.language
    today = clock.now().astimezone(settings.zone).date()
    try:
        query = parse_topics_args(command.args or "", today)
    except ReportError as error:
        await message.answer(html_text(format_error(error, tr, language)))
        return
    scope = await _scope(message, routing)
    locations: frozenset[str] | None = scope
    # A region's chat may see tens of locations: the first few name it.
    names: list[str] = sorted(scope)[:6] if scope is not None else []
    if scope is not None and len(scope) > len(names):
        names.append("…")
    if query.location is not None:
        async with db.read() as conn:
            listed = [(item.code, item.name) for item in await catalogue.all_locations(conn)]
            counted = await report_queries.rollup_totals(
                conn, query.period.start, query.period.end, "location"
            )
        code = resolve_location(query.location, listed, [row.key for row in counted])
        if code is None:
            await message.answer(html_text(texts("topics-error-location", text=query.location)))
            return
        if scope is not None and code not in scope:
            await message.answer(html_text(texts("topics-error-scope", text=query.location)))
            return
        locations, names = frozenset({code}), [code]
    report = await load_topics(db, query.period, taxonomy.ids(), settings.min_sample, locations)

    def label(topic: str) -> str:
        return taxonomy.label(topic, language)

    text = format_topics(report, label, tr, language, names)
    png = await topics_png(report, label, tr, language)
    period = query.period
    name = f"topics-{period.start}_{period.end}.png"
    if len(html_text(text)) <= CAPTION_LIMIT:
        await message.answer_photo(BufferedInputFile(png, name), caption=html_text(text))
        return
    caption = texts("topics-caption", start=period.start.isoformat(), end=period.end.isoformat())
    await message.answer_photo(BufferedInputFile(png, name), caption=html_text(caption))
    await message.answer(html_text(text))


async def export_command(
    message: Message,
    command: CommandObject,
    texts: Texts,
    settings: Settings,
    clock: Clock,
    db: Database,
    routing: Routing,
) -> None:
    """The period's responses (`/export cases [period]`: its cases, one row each with
    their timings) as a CSV document: of the locations this chat may see."""
    words = (command.args or "").split()
    cases = bool(words) and words[0].lower() == "cases"
    if cases:
        command = CommandObject(command=command.command, args=" ".join(words[1:]))
    query = await _query(message, command, texts, settings, clock)
    if query is None:
        return
    period = query.period
    scope = await _scope(message, routing)
    start, end = period.start.isoformat(), period.end.isoformat()
    if cases:
        data = await case_csv_bytes(db, period, settings.zone, scope)
        name, caption = csv_filename(start, end, "cases"), "reports-export-cases-caption"
    else:
        data = await csv_bytes(db, period, settings.zone, scope, steps=settings.survey_steps)
        name, caption = csv_filename(start, end), "reports-export-caption"
    await message.answer_document(
        BufferedInputFile(data, name),
        caption=html_text(texts(caption, start=start, end=end)),
    )
