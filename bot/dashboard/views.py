"""The dashboard's screens: server-rendered HTML fragments (Jinja2, autoescaped) that
the page's script puts in place, and the filtered CSV. Every screen is limited to the
viewer's scope; naming another branch's location or case is 403."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

import jinja2
from aiohttp import web

from bot.cases.texts import format_age, refusal_text
from bot.core.clock import from_ms
from bot.dashboard.auth import Viewer
from bot.dashboard.facade import (
    DASHBOARD_KEY,
    PREFIX,
    SCOPE_KEY,
    VIEWER_KEY,
    Dashboard,
    forbidden,
)
from bot.dashboard.service import PAGE_SIZE, scoped, week_series
from bot.i18n import normalize_language
from bot.locations.routing import Scope
from bot.reports import service as rules
from bot.reports.export import CONTENT_TYPE, csv_filename, response_format, stream_csv
from bot.reports.recovery import format_recovery
from bot.reports.texts import format_error, segment_name, signed
from bot.reports.topic_texts import points
from bot.reports.topics import TopicWeek
from storage import dashboard as queries
from storage.reports import iso_week_key

PRESETS = ("7d", "30d", "90d", "month", "custom")
DEFAULT_PRESET = "30d"

_env = jinja2.Environment(
    loader=jinja2.PackageLoader("bot.dashboard", "templates"),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
)


def _dashboard(request: web.Request) -> Dashboard:
    return request.app[DASHBOARD_KEY]


def _viewer(request: web.Request) -> Viewer:
    return request[VIEWER_KEY]


def _scope(request: web.Request) -> Scope:
    return request[SCOPE_KEY]


def render(
    dashboard: Dashboard,
    language: str,
    template: str,
    names: Mapping[str, str] | None = None,
    **context: Any,
) -> str:
    """A template in `language`; `names` are the catalogue's names of location codes."""

    # A screen repeats its labels (every case has Take, every answer its scores): each
    # message is formatted once per page.
    said: dict[tuple[str, tuple[tuple[str, Any], ...]], str] = {}

    def t(key: str, **args: Any) -> str:
        asked = (key, tuple(sorted(args.items())))
        text = said.get(asked)
        if text is None:
            text = said[asked] = dashboard.translator.get(language, key, **args)
        return text

    def name_of(code: str) -> str:
        return (names or {}).get(code) or segment_name(code, dashboard.translator, language)

    return _env.get_template(template).render(
        t=t, lang=language, signed=signed, name_of=name_of, **context
    )


def _html(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8")


def _today(dashboard: Dashboard) -> date:
    return dashboard.clock.now().astimezone(dashboard.settings.zone).date()


def parse_view_period(query: Mapping[str, str], today: date) -> tuple[rules.Period, str]:
    """The period of a screen's ?period= (a preset, or custom with ?from= and ?to=)."""
    preset = query.get("period", DEFAULT_PRESET) or DEFAULT_PRESET
    if preset == "custom":
        text = f"{query.get('from', '')}..{query.get('to', '')}"
    elif preset == "month":
        text = today.strftime("%Y-%m")
    else:
        text = preset
    return rules.parse_period(text, today), preset if preset in PRESETS else "custom"


def _period_context(period: rules.Period, preset: str) -> dict[str, Any]:
    return {
        "period": period,
        "preset": preset,
        "presets": PRESETS,
        "period_query": {
            "period": preset,
            **(
                {"from": period.start.isoformat(), "to": period.end.isoformat()}
                if preset == "custom"
                else {}
            ),
        },
    }


def link(screen: str, params: Mapping[str, object]) -> str:
    """A screen's relative URL with its non-empty parameters."""
    query = urlencode({key: value for key, value in params.items() if value not in (None, "")})
    return f"view/{screen}" + (f"?{query}" if query else "")


def _error_fragment(dashboard: Dashboard, language: str, message: str) -> web.Response:
    return _html(render(dashboard, language, "error.html", message=message), status=400)


async def shell(request: web.Request) -> web.Response:
    """The static page that boots the dashboard; the language of the browser until the
    viewer's own is known."""
    dashboard = _dashboard(request)
    accepted = request.headers.get("Accept-Language", "")
    language = normalize_language(accepted.split(",")[0].strip() or None)
    return _html(render(dashboard, language, "shell.html", base=PREFIX))


# --- Overview ----------------------------------------------------------------------


async def overview(request: web.Request) -> web.Response:
    """NPS (with its margin), CES, response rate, the change, NPS by week, locations."""
    dashboard, viewer, scope = _dashboard(request), _viewer(request), _scope(request)
    try:
        period, preset = parse_view_period(request.query, _today(dashboard))
    except rules.ReportError as error:
        message = format_error(error, dashboard.translator, viewer.language)
        return _error_fragment(dashboard, viewer.language, message)
    data = await dashboard.service.overview(period, scope)
    return _html(
        render(
            dashboard,
            viewer.language,
            "overview.html",
            await dashboard.service.location_names(),
            screen="overview",
            report=data.report,
            total=data.report.total,
            rows=sorted(data.report.segments, key=lambda item: (-item.nps.n, item.key)),
            chart=json.dumps(week_series(data.weeks)),
            link=link,
            **_period_context(period, preset),
        )
    )


# --- Responses -----------------------------------------------------------------------


def _one(query: Mapping[str, str], name: str) -> str | None:
    value = query.get(name, "").strip()
    return value or None


def response_filter(
    query: Mapping[str, str],
    period: rules.Period,
    scope: Scope,
    topics: Collection[str] = (),
) -> queries.ResponseFilter:
    """The Responses screen's filters; a location outside the scope is PermissionError,
    an unknown score band or a topic not among `topics` (the taxonomy's ids) ValueError."""
    location = query.get("location")
    if location is not None and location != "" and not scope.allows(location):
        raise PermissionError(location)
    topic = _one(query, "topic")
    if topic is not None and topic not in topics:
        raise ValueError(topic)
    band = _one(query, "band")
    return queries.ResponseFilter(
        start=period.start,
        end=period.end,
        locations=scoped(scope),
        location=location or None,
        staff=_one(query, "staff"),
        touchpoint=_one(query, "touchpoint"),
        band=queries.ScoreBand(band) if band else None,
        text=(_one(query, "q") or "")[:100] or None,
        topic=topic,
    )


def _filters_or_error(
    request: web.Request,
) -> tuple[rules.Period, str, queries.ResponseFilter] | web.Response:
    dashboard, viewer, scope = _dashboard(request), _viewer(request), _scope(request)
    try:
        period, preset = parse_view_period(request.query, _today(dashboard))
        topics = dashboard.service.taxonomy.ids()
        return period, preset, response_filter(request.query, period, scope, topics)
    except PermissionError:
        return forbidden()
    except rules.ReportError as error:
        message = format_error(error, dashboard.translator, viewer.language)
    except ValueError:
        message = dashboard.translator.get(viewer.language, "dashboard-bad-filter")
    return _error_fragment(dashboard, viewer.language, message)


def _topic_options(dashboard: Dashboard, language: str) -> list[tuple[str, str]]:
    """(id, label in `language`) of every topic of the taxonomy, by label."""
    taxonomy = dashboard.service.taxonomy
    return sorted(
        ((topic_id, taxonomy.label(topic_id, language)) for topic_id in taxonomy.ids()),
        key=lambda item: item[1].casefold(),
    )


async def responses(request: web.Request) -> web.Response:
    """The answers, newest first, with their filters, cases and paging."""
    dashboard, viewer, scope = _dashboard(request), _viewer(request), _scope(request)
    parsed = _filters_or_error(request)
    if isinstance(parsed, web.Response):
        return parsed
    period, preset, filters = parsed
    before = queries.Cursor.parse(request.query.get("before", ""))
    window = await dashboard.service.responses(filters, before)
    page = window.items
    facets = await dashboard.service.facets(period.start, period.end, scope)
    params = {
        **_period_context(period, preset)["period_query"],
        "location": filters.location,
        "staff": filters.staff,
        "touchpoint": filters.touchpoint,
        "band": filters.band.value if filters.band else None,
        "q": filters.text,
        "topic": filters.topic,
    }
    zone = dashboard.settings.zone
    return _html(
        render(
            dashboard,
            viewer.language,
            "responses.html",
            await dashboard.service.location_names(),
            screen="responses",
            items=page,
            filters=filters,
            facets=facets,
            bands=list(queries.ScoreBand),
            topics=_topic_options(dashboard, viewer.language),
            topic_label=lambda topic: dashboard.service.taxonomy.label(topic, viewer.language),
            when=lambda ms: from_ms(ms).astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            older=link("responses", {**params, "before": str(queries.cursor_after(page))})
            if len(page) == PAGE_SIZE
            else None,
            newest=link("responses", params) if before is not None else None,
            resume=link("responses", {**params, "before": str(window.resume)})
            if window.resume is not None
            else None,
            resume_day=window.resume.day if window.resume is not None else None,
            csv=link("responses.csv", params),
            params=params,
            link=link,
            **_period_context(period, preset),
        )
    )


async def responses_csv(request: web.Request) -> web.StreamResponse:
    """The filtered answers as CSV (the columns of /export), streamed."""
    dashboard = _dashboard(request)
    parsed = _filters_or_error(request)
    if isinstance(parsed, web.Response):
        return parsed
    period, _, filters = parsed
    name = csv_filename(period.start.isoformat(), period.end.isoformat())
    response = web.StreamResponse(
        headers={
            "Content-Type": CONTENT_TYPE,
            "Content-Disposition": f'attachment; filename="{name}"',
        }
    )
    await response.prepare(request)
    async with dashboard.db.read() as conn:
        rows = queries.iter_filtered(conn, filters)
        columns, cells = response_format(dashboard.settings.survey_steps)
        chunks = stream_csv(rows, dashboard.settings.zone, cells=cells, columns=columns)
        async for chunk in chunks:
            await response.write(chunk)
    await response.write_eof()
    return response


# --- Topics ----------------------------------------------------------------------------


def topic_trend(weeks: Sequence[TopicWeek]) -> list[dict[str, Any]]:
    """A topic's weeks as the screen draws them: the share of the week's answers that
    mention it, a bar's height against the topic's busiest week, and a title with the
    counts ("2026-W45: 3 / 25", the same in every language: no translation per bar)."""
    top = max((week.share or 0.0 for week in weeks), default=0.0)
    return [
        {
            "start": week.week_start.isoformat(),
            "share": None if week.share is None else round(week.share * 100, 1),
            "height": round((week.share or 0.0) / top * 100, 1) if top else 0,
            "title": f"{iso_week_key(week.week_start)}: {week.mentions} / {week.answered}",
        }
        for week in weeks
    ]


async def topics(request: web.Request) -> web.Response:
    """The topics by NPS impact (a bar each), their change against the previous period
    and a few recent reasons each, of the scope or of one ?location= in it."""
    dashboard, viewer, scope = _dashboard(request), _viewer(request), _scope(request)
    tr, language = dashboard.translator, viewer.language
    location = _one(request.query, "location")
    if location is not None and not scope.allows(location):
        return forbidden()
    try:
        period, preset = parse_view_period(request.query, _today(dashboard))
    except rules.ReportError as error:
        return _error_fragment(dashboard, language, format_error(error, tr, language))
    data = await dashboard.service.topics(period, scope, location)
    names = await dashboard.service.location_names()
    # The location filter offers the catalogue's locations in scope (no read of the
    # period's values); a chain without a catalogue, the period's counted ones.
    choices = [code for code in sorted(names) if scope.allows(code)]
    if not choices:
        choices = (await dashboard.service.facets(period.start, period.end, scope)).locations
    taxonomy = dashboard.service.taxonomy
    mentioned = [figures for figures in data.report.topics if figures.mentions]
    largest = max((abs(item.current.impact or 0.0) for item in mentioned), default=0.0)
    zone = dashboard.settings.zone
    return _html(
        render(
            dashboard,
            language,
            "topics.html",
            names,
            screen="topics",
            report=data.report,
            topics=mentioned,
            silent=[
                taxonomy.label(item.topic, language)
                for item in data.report.topics
                if not item.mentions
            ],
            examples=data.examples,
            trend=lambda topic: topic_trend(data.weeks.get(topic, [])),
            label=lambda topic: taxonomy.label(topic, language),
            points=lambda value: points(value, language),
            largest=largest,
            location=location,
            choices=choices,
            when=lambda ms: from_ms(ms).astimezone(zone).strftime("%Y-%m-%d"),
            link=link,
            **_period_context(period, preset),
        )
    )


# --- Cases -----------------------------------------------------------------------------


async def _cases_page(request: web.Request, flash: str | None = None) -> web.Response:
    dashboard, viewer, scope = _dashboard(request), _viewer(request), _scope(request)
    tr, language = dashboard.translator, viewer.language
    try:
        period, preset = parse_view_period(request.query, _today(dashboard))
    except rules.ReportError as error:
        return _error_fragment(dashboard, language, format_error(error, tr, language))
    items, counts = await dashboard.service.open_cases(scope)
    recovery = await dashboard.service.recovery(period, scope)
    now_ms = int(dashboard.clock.now().timestamp() * 1000)

    def due(item: queries.OpenCase) -> str:
        age = format_age(tr, language, timedelta(milliseconds=abs(item.due_at - now_ms)))
        key = "dashboard-case-overdue" if item.due_at < now_ms else "dashboard-case-due"
        return tr.get(language, key, age=age)

    return _html(
        render(
            dashboard,
            language,
            "cases.html",
            await dashboard.service.location_names(),
            screen="cases",
            items=items,
            counts=counts,
            now_ms=now_ms,
            due=due,
            viewer=viewer,
            is_admin=dashboard.access.is_admin(viewer.user_id),
            flash=flash,
            # The block of /stats, line by line (its title is the section's heading).
            recovery=recovery,
            recovery_lines=format_recovery(recovery, tr, language).splitlines()[1:],
            link=link,
            **_period_context(period, preset),
        )
    )


async def cases(request: web.Request) -> web.Response:
    """Open cases, overdue first, with their owner, status and actions; below them the
    period's closing-the-loop figures (those of /stats), by location."""
    return await _cases_page(request)


async def _case_in_scope(request: web.Request) -> int | web.Response:
    dashboard = _dashboard(request)
    try:
        case_id = int(request.match_info["case_id"])
    except ValueError:
        raise web.HTTPNotFound() from None
    location = await dashboard.service.case_location(case_id)
    if location is None:
        raise web.HTTPNotFound()
    if not _scope(request).allows(location):
        return forbidden()
    return case_id


async def take_case(request: web.Request) -> web.Response:
    """Take a case from the page: the chat's rules, the chat's card updated."""
    dashboard, viewer = _dashboard(request), _viewer(request)
    case_id = await _case_in_scope(request)
    if isinstance(case_id, web.Response):
        return case_id
    result = await dashboard.service.take(case_id, viewer)
    tr, language = dashboard.translator, viewer.language
    flash = refusal_text(tr, language, result) or tr.get(
        language, "dashboard-case-taken", id=case_id
    )
    return await _cases_page(request, flash)


async def resolve_case(request: web.Request) -> web.Response:
    """Resolve a case from the page (its owner or an admin, with a note)."""
    dashboard, viewer = _dashboard(request), _viewer(request)
    case_id = await _case_in_scope(request)
    if isinstance(case_id, web.Response):
        return case_id
    form = await request.post()
    note = str(form.get("note", ""))[:1000]
    result = await dashboard.service.resolve(
        case_id,
        viewer,
        note,
        notify=form.get("notify") == "1",
        is_admin=dashboard.access.is_admin(viewer.user_id),
    )
    tr, language = dashboard.translator, viewer.language
    flash = refusal_text(tr, language, result) or tr.get(
        language, "dashboard-case-resolved", id=case_id
    )
    return await _cases_page(request, flash)


def add_view_routes(app: web.Application) -> None:
    app.router.add_get("/view/overview", overview)
    app.router.add_get("/view/responses", responses)
    app.router.add_get("/view/responses.csv", responses_csv)
    app.router.add_get("/view/cases", cases)
    app.router.add_get("/view/topics", topics)
    app.router.add_post("/view/cases/{case_id}/take", take_case)
    app.router.add_post("/view/cases/{case_id}/resolve", resolve_case)
