"""Reports wired into the bot: loading a report from the rollups, the chart and CSV
bytes, the delivery-funnel text, and the bot's own report messages (the weekly
digest and the NPS drop alert) as outbox rows with their renderers.

The rules live in bot.services.reports / charts / export; this module only glues
them to the database, the clock, the outbox and the translations.
"""

from __future__ import annotations

import asyncio
import html
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.config import DEFAULT_SURVEY_STEPS
from bot.core.clock import Clock, to_ms
from bot.i18n import Translator
from bot.outbox.contracts import Outgoing, Priority, Renderer, SendError, SendResult
from bot.reports import service as rules
from bot.reports import texts as report_texts
from bot.reports.export import CASE_CSV_COLUMNS, case_cells, export_csv, response_format
from bot.reports.recovery import format_recovery, load_recovery
from bot.reports.topic_texts import format_losses
from bot.reports.topics import load_topics
from bot.topics import Taxonomy
from storage import locations as catalogue
from storage import outbox
from storage import recovery as recovery_queries
from storage import reports as queries
from storage.db import Connection, Database
from storage.models import OutboxItem

DIGEST_KIND = "reports_digest"
DIGEST_CHART_KIND = "reports_digest_chart"
DROP_KIND = "reports_nps_drop"
# A digest more than this late (the bot was down) is skipped, not sent stale.
DIGEST_GRACE = timedelta(hours=6)
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
FUNNEL_EVENTS = ("reported", "scheduled", "sent", "answered", "failed", "blocked", "expired")
CAPTION_LIMIT = 1024

# A location's chat, asked in the caller's transaction.
ChatOf = Callable[[Connection, str], Awaitable[int]]


async def load_report(
    db: Database,
    period: rules.Period,
    segment: rules.SegmentBy,
    min_sample: int,
    locations: Collection[str] | None = None,
    *,
    steps: tuple[str, ...] = DEFAULT_SURVEY_STEPS,
) -> rules.Report:
    """The report of `period` by `segment`, compared with the period before it; of
    `locations` only when given (a branch's or region's chat).

    Both come from storage.reports.rollup_totals (the per-kind tiers), so the cost
    follows months x segment values, not the number of answers. A scoped report is
    summed from the per-location counters; they hold no staff or touchpoint within a
    location, so those segments are the head office's (ReportError).
    """
    previous = period.previous()
    async with db.read() as conn:
        current = await _totals(conn, period, segment, locations)
        before = await _totals(conn, previous, segment, locations)
    return rules.build_report(period, segment, current, before, min_sample, previous, steps=steps)


async def _totals(
    conn: Connection,
    period: rules.Period,
    segment: rules.SegmentBy,
    locations: Collection[str] | None,
) -> list[queries.RollupTotals]:
    if locations is None:
        return await queries.rollup_totals(conn, period.start, period.end, segment)
    if segment not in (rules.SegmentBy.NONE, rules.SegmentBy.LOCATION):
        raise rules.ReportError(
            "reports-error-scoped-segment",
            f"by {segment.value}: only the head office's chat has that segment",
            segment=segment.value,
        )
    rows = await queries.rollup_totals(conn, period.start, period.end, rules.SegmentBy.LOCATION)
    mine = [row for row in rows if row.key in locations]
    if segment is rules.SegmentBy.LOCATION:
        return mine
    total = queries.RollupTotals("")
    for row in mine:
        total = total.plus(row)
    return [] if total.is_empty else [total]


async def load_funnel(
    db: Database, period: rules.Period, locations: Collection[str] | None = None
) -> list[queries.FunnelCounts]:
    async with db.read() as conn:
        funnel = await queries.funnel_totals(conn, period.start, period.end)
    return [row for row in funnel if locations is None or row.location in locations]


async def chart_png(
    db: Database,
    report: rules.Report,
    translator: Translator,
    language: str | None,
    locations: Collection[str] | None = None,
) -> bytes:
    """The /chart PNG; matplotlib runs in a worker thread, off the event loop."""
    scoped = None if locations is None else sorted(locations)
    async with db.read() as conn:
        weeks = await queries.weekly_totals(conn, report.period.start, report.period.end, scoped)
    points = rules.weekly_points(weeks, report.min_sample)
    return await asyncio.to_thread(_render_chart, report, points, translator, language)


def _render_chart(
    report: rules.Report,
    points: list[rules.WeekPoint],
    translator: Translator,
    language: str | None,
) -> bytes:
    # matplotlib (about 40 MB with numpy and Pillow) is loaded by the first chart, in
    # this worker thread, not at start-up: most processes never draw one.
    from bot.reports.charts import render_report_chart

    return render_report_chart(report, points, translator, language)


async def csv_bytes(
    db: Database,
    period: rules.Period,
    zone: ZoneInfo,
    locations: Collection[str] | None = None,
    *,
    steps: tuple[str, ...] = DEFAULT_SURVEY_STEPS,
) -> bytes:
    scoped = None if locations is None else sorted(locations)
    columns, cells = response_format(steps)
    async with db.read() as conn:
        rows = queries.iter_responses(conn, period.start, period.end, locations=scoped)
        return await export_csv(rows, zone, cells=cells, columns=columns)


async def case_csv_bytes(
    db: Database, period: rules.Period, zone: ZoneInfo, locations: Collection[str] | None = None
) -> bytes:
    """The cases CSV (one row per case with its timings) of the period's visits."""
    scoped = None if locations is None else sorted(locations)
    async with db.read() as conn:
        rows = recovery_queries.iter_case_rows(
            conn, period.start.isoformat(), period.end.isoformat(), locations=scoped
        )
        return await export_csv(rows, zone, cells=case_cells, columns=CASE_CSV_COLUMNS)


def format_funnel(
    funnel: list[queries.FunnelCounts], translator: Translator, language: str | None
) -> str:
    """The delivery funnel per location: how many visits became answered surveys."""
    title = translator.get(language, "reports-funnel-title")
    if not funnel:
        return title + "\n" + translator.get(language, "reports-funnel-empty")
    lines = [title]
    for counts in funnel:
        name = report_texts.segment_name(counts.location, translator, language)
        numbers = {event: counts.get(event) for event in FUNNEL_EVENTS}
        lines.append("• " + translator.get(language, "reports-funnel-line", name=name, **numbers))
        skipped = counts.skipped
        if skipped:
            reasons = ", ".join(f"{reason} {count}" for reason, count in sorted(skipped.items()))
            lines.append(
                "  " + translator.get(language, "reports-funnel-skipped", reasons=reasons)
            )
    return "\n".join(lines)


def html_text(text: str) -> str:
    """Report texts are plain; the bot's default parse mode is HTML."""
    return html.escape(text, quote=False)


# --- the weekly digest -------------------------------------------------------------


def parse_digest_at(value: str) -> tuple[int, time] | None:
    """'mon 09:00' -> (0, 09:00); '' -> None (the digest is off)."""
    if not value.strip():
        return None
    day, _, clock = value.strip().lower().partition(" ")
    hours, _, minutes = clock.partition(":")
    return _WEEKDAYS.index(day), time(int(hours), int(minutes))


def due_digest(now: datetime, zone: ZoneInfo, digest_at: str) -> date | None:
    """The local date of the digest due at `now` (its scheduled day), or None when
    none is due: off, not yet this week, or more than DIGEST_GRACE late."""
    parsed = parse_digest_at(digest_at)
    if parsed is None:
        return None
    weekday, at = parsed
    local = now.astimezone(zone)
    day = local.date() - timedelta(days=(local.weekday() - weekday) % 7)
    scheduled = datetime.combine(day, at, tzinfo=zone)
    if local < scheduled or local - scheduled > DIGEST_GRACE:
        return None
    return day


def digest_period(day: date) -> rules.Period:
    """The seven whole days before the digest's day."""
    return rules.Period(day - timedelta(days=7), day - timedelta(days=1))


async def enqueue_digest(
    conn: Connection,
    *,
    day: date,
    chat_id: int,
    now: int,
    location: str | None = None,
) -> bool:
    """Queue the digest text and chart of `day`: the chain's (a line per location), or
    one `location`'s; False when already queued."""
    period = digest_period(day)
    payload: dict[str, object] = {"start": period.start.isoformat(), "end": period.end.isoformat()}
    key = queries.iso_week_key(day)
    if location is not None:
        payload["locations"] = [location]
        key = f"{key}:{location}"
    queued = await outbox.enqueue(
        conn,
        kind=DIGEST_KIND,
        chat_id=chat_id,
        priority=Priority.BULK,
        due_at=now,
        now=now,
        payload=payload,
        dedupe_key=f"digest:{key}",
    )
    if queued is None:
        return False
    await outbox.enqueue(
        conn,
        kind=DIGEST_CHART_KIND,
        chat_id=chat_id,
        priority=Priority.BULK,
        due_at=now,
        now=now,
        payload=payload,
        dedupe_key=f"digest-chart:{key}",
    )
    return True


async def enqueue_nps_drops(
    conn: Connection,
    *,
    today: date,
    chat_of: ChatOf,
    now: int,
    threshold: int,
    min_sample: int,
) -> int:
    """Queue one alert per location whose NPS fell (once per location and ISO week),
    into that location's managers' chat."""
    recent_period, baseline_period = rules.drop_alert_periods(today)
    recent = await queries.rollup_totals(conn, recent_period.start, recent_period.end, "location")
    baseline = await queries.rollup_totals(
        conn, baseline_period.start, baseline_period.end, "location"
    )
    drops = rules.find_nps_drops(
        recent,
        baseline,
        threshold=threshold,
        min_sample=min_sample,
        recent_period=recent_period,
        baseline_period=baseline_period,
    )
    queued = 0
    for drop in drops:
        row = await outbox.enqueue(
            conn,
            kind=DROP_KIND,
            chat_id=await chat_of(conn, drop.location),
            priority=Priority.ALERT,
            due_at=now,
            now=now,
            payload=_drop_payload(drop),
            dedupe_key=rules.nps_drop_dedupe_key(drop),
        )
        queued += row is not None
    return queued


def _drop_payload(drop: rules.NpsDrop) -> dict[str, object]:
    def counts(result: rules.NpsResult) -> list[int]:
        return [result.promoters, result.passives, result.detractors]

    return {
        "location": drop.location,
        "recent": counts(drop.recent),
        "baseline": counts(drop.baseline),
        "recent_period": [
            drop.recent_period.start.isoformat(),
            drop.recent_period.end.isoformat(),
        ],
        "baseline_period": [
            drop.baseline_period.start.isoformat(),
            drop.baseline_period.end.isoformat(),
        ],
        "min_sample": drop.recent.min_sample,
    }


def _nps_of(counts: list[int], min_sample: int) -> rules.NpsResult:
    promoters, passives, detractors = counts
    return rules.nps_result(promoters, passives, detractors, min_sample)


def _period(pair: list[str]) -> rules.Period:
    return rules.Period(date.fromisoformat(pair[0]), date.fromisoformat(pair[1]))


@dataclass(frozen=True, slots=True)
class ReportsSchedule:
    """What the periodic job needs; built from Settings by the factory."""

    db: Database
    clock: Clock
    zone: ZoneInfo
    chat_id: int  # the head office: the chain's digest
    digest_at: str
    min_sample: int
    drop_threshold: int
    # A location's managers' chat (bot/locations/routing.py): its NPS-drop alerts go there.
    team_chat: ChatOf


async def reports_maintenance(schedule: ReportsSchedule) -> None:
    """Queue the weekly digest when due and the NPS drop alerts; dedupe keys make
    both happen once however often this runs."""
    now = schedule.clock.now()
    now_ms = to_ms(now)
    today = now.astimezone(schedule.zone).date()
    day = due_digest(now, schedule.zone, schedule.digest_at)
    async with schedule.db.transaction() as conn:
        if day is not None:
            await enqueue_digest(conn, day=day, chat_id=schedule.chat_id, now=now_ms)
        # Each location with a managers' chat of its own gets its own digest, at
        # DIGEST_AT on its own clock.
        for location in await catalogue.all_locations(conn):
            if location.manager_chat_id is None:
                continue
            zone = ZoneInfo(location.time_zone) if location.time_zone else schedule.zone
            local_day = due_digest(now, zone, schedule.digest_at)
            if local_day is not None:
                chat_id = await schedule.team_chat(conn, location.code)
                await enqueue_digest(
                    conn, day=local_day, chat_id=chat_id, now=now_ms, location=location.code
                )
        await enqueue_nps_drops(
            conn,
            today=today,
            chat_of=schedule.team_chat,
            now=now_ms,
            threshold=schedule.drop_threshold,
            min_sample=schedule.min_sample,
        )


@dataclass(frozen=True, slots=True)
class ReportsContext:
    db: Database
    translator: Translator
    manager_language: str
    min_sample: int
    # The topics' ids and labels: the digest names each location's biggest loss.
    taxonomy: Taxonomy
    # SURVEY_STEPS: the digest shows CSAT when it is asked.
    steps: tuple[str, ...] = DEFAULT_SURVEY_STEPS


class _NoFollowUp:
    async def on_sent(self, conn: Connection, item: OutboxItem, result: SendResult) -> None:
        """The outbox row records the message; nothing else depends on it."""

    async def on_failed(self, conn: Connection, item: OutboxItem, error: SendError) -> None:
        """Recorded on the outbox row; the managers' chat is not a customer."""


async def _digest_text(ctx: ReportsContext, item: OutboxItem) -> Outgoing | None:
    """The weekly digest: the week's numbers by location, rendered when due."""
    report = await _digest_report(ctx, item)
    text = report_texts.format_report(report, ctx.translator, ctx.manager_language, digest=True)
    losses = await _digest_losses(ctx, report)
    if losses:
        text += "\n\n" + losses
    recovery = await load_recovery(ctx.db, report.period, ctx.min_sample, _digest_scope(item))
    closing = format_recovery(recovery, ctx.translator, ctx.manager_language, by_location=True)
    return Outgoing(chat_id=item.chat_id, text=html_text(text + "\n\n" + closing))


async def _digest_losses(ctx: ReportsContext, report: rules.Report) -> str | None:
    """Each location's biggest loss of the week (the topic costing it the most NPS),
    for the locations of the digest that had answers."""
    taxonomy, language = ctx.taxonomy, ctx.manager_language
    found = []
    for segment in report.segments:
        if not segment.nps.n:
            continue
        topics = await load_topics(
            ctx.db, report.period, taxonomy.ids(), ctx.min_sample, [segment.key]
        )
        found.append((report_texts.segment_name(segment.key, ctx.translator, language), topics))
    return format_losses(
        found, lambda topic: taxonomy.label(topic, language), ctx.translator, language
    )


async def _digest_chart(ctx: ReportsContext, item: OutboxItem) -> Outgoing | None:
    """The weekly digest's chart, as a photo; nothing when the week had no answers."""
    report = await _digest_report(ctx, item)
    if report.is_empty:
        return None
    png = await chart_png(
        ctx.db, report, ctx.translator, ctx.manager_language, _digest_scope(item)
    )
    return Outgoing(chat_id=item.chat_id, photo=png, filename="digest.png")


def _digest_scope(item: OutboxItem) -> list[str] | None:
    """A location's digest names it; the chain's names none."""
    locations = item.data.get("locations")
    return [str(code) for code in locations] if isinstance(locations, list) else None


async def _digest_report(ctx: ReportsContext, item: OutboxItem) -> rules.Report:
    period = _period([item.data["start"], item.data["end"]])
    scope = _digest_scope(item)
    return await load_report(
        ctx.db, period, rules.SegmentBy.LOCATION, ctx.min_sample, scope, steps=ctx.steps
    )


async def _drop_alert(ctx: ReportsContext, item: OutboxItem) -> Outgoing | None:
    """The alert that a location's NPS fell, with both scores and their margins."""
    data = item.data
    minimum = int(data["min_sample"])
    drop = rules.NpsDrop(
        data["location"],
        _nps_of(data["recent"], minimum),
        _nps_of(data["baseline"], minimum),
        _period(data["recent_period"]),
        _period(data["baseline_period"]),
    )
    text = report_texts.format_nps_drop(drop, ctx.translator, ctx.manager_language)
    return Outgoing(chat_id=item.chat_id, text=html_text(text))


Build = Callable[[ReportsContext, OutboxItem], Awaitable[Outgoing | None]]


class ReportRenderer(_NoFollowUp):
    """One renderer for every report message: it renders with its `build` function
    when the row is due, so the numbers are those of the moment of sending."""

    def __init__(self, ctx: ReportsContext, build: Build) -> None:
        self._ctx = ctx
        self._build = build

    async def render(self, item: OutboxItem) -> Outgoing | None:
        return await self._build(self._ctx, item)


def report_renderers(ctx: ReportsContext) -> dict[str, Renderer]:
    return {
        DIGEST_KIND: ReportRenderer(ctx, _digest_text),
        DIGEST_CHART_KIND: ReportRenderer(ctx, _digest_chart),
        DROP_KIND: ReportRenderer(ctx, _drop_alert),
    }
