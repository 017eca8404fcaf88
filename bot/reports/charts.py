"""PNG charts for /chart and the weekly digest: NPS by week with its margin as a band,
and a bar per segment with the weakest highlighted; and for /topics, a bar per topic
by its NPS impact.

Rendering uses matplotlib's object API (`Figure` + the Agg canvas), never pyplot:
pyplot keeps global state that is not safe across threads, and the caller runs
`render_chart` in a worker thread (`asyncio.to_thread`) to keep the event loop free.
"""

from __future__ import annotations

import io
import math
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
from matplotlib.figure import Figure

from bot.reports.service import (
    Report,
    SegmentBy,
    SegmentReport,
    Translate,
    WeekPoint,
)
from bot.reports.texts import (
    segment_name,
)

MAX_BARS = 25
MAX_LABEL = 28
_BLUE = "#1f77b4"
_RED = "#d62728"
_GREY = "#b0b0b0"
_BAND = "#9ecae1"


@dataclass(frozen=True, slots=True)
class ChartLabels:
    """Every text the chart shows, already translated."""

    title: str
    weekly: str
    band: str
    bars: str = ""
    few: str = "n < min"
    weakest: str = "weakest"
    no_data: str = "no data"


@dataclass(frozen=True, slots=True)
class Bar:
    name: str
    score: int | None
    margin: float | None
    n: int
    enough: bool


_BAR_TITLE_KEYS = {
    SegmentBy.LOCATION: "reports-chart-by-location",
    SegmentBy.STAFF: "reports-chart-by-staff",
    SegmentBy.TOUCHPOINT: "reports-chart-by-touchpoint",
}


def chart_labels(report: Report, translator: Translate, language: str | None) -> ChartLabels:
    bars_key = _BAR_TITLE_KEYS.get(report.segment)
    return ChartLabels(
        title=translator.get(
            language,
            "reports-chart-title",
            start=report.period.start.isoformat(),
            end=report.period.end.isoformat(),
        ),
        weekly=translator.get(language, "reports-chart-weekly"),
        band=translator.get(language, "reports-chart-band"),
        bars=translator.get(language, bars_key) if bars_key else "",
        few=translator.get(language, "reports-chart-few", min=report.min_sample),
        weakest=translator.get(language, "reports-chart-weakest"),
        no_data=translator.get(language, "reports-chart-no-data"),
    )


def bars_of(
    segments: Sequence[SegmentReport], translator: Translate, language: str | None
) -> list[Bar]:
    """One bar per segment, in the report's order (weakest first)."""
    return [
        Bar(
            segment_name(item.key, translator, language),
            item.nps.score,
            item.nps.margin,
            item.nps.n,
            item.nps.enough,
        )
        for item in segments
        if item.nps.n > 0
    ]


def render_report_chart(
    report: Report,
    weeks: Sequence[WeekPoint],
    translator: Translate,
    language: str | None,
) -> bytes:
    """The /chart picture of a report: `weeks` from services.reports.weekly_points."""
    return render_chart(
        weeks,
        bars_of(report.segments, translator, language),
        chart_labels(report, translator, language),
    )


_WARNINGS_LOCK = threading.Lock()


def render_chart(
    weeks: Sequence[WeekPoint],
    bars: Sequence[Bar],
    labels: ChartLabels,
    *,
    width: float = 9.0,
    dpi: int = 110,
) -> bytes:
    """A PNG: NPS by week (the band is the 95% margin; hollow points have fewer
    answers than the minimum sample) and, when `bars` is not empty, NPS per
    segment, the weakest with enough answers in red. CPU-bound: call it through
    asyncio.to_thread."""
    shown = list(bars[:MAX_BARS])
    bar_height = 0.35 * max(len(shown), 3) + 1.2 if shown else 0.0
    figure = Figure(figsize=(width, 3.8 + bar_height), dpi=dpi, layout="constrained")
    FigureCanvasAgg(figure)
    figure.suptitle(labels.title, fontsize=13, fontweight="bold")
    if shown:
        top, bottom = figure.subplots(
            2, 1, height_ratios=[3.8, bar_height], gridspec_kw={"hspace": 0.15}
        )
        _draw_weeks(top, weeks, labels)
        _draw_bars(bottom, shown, labels)
    else:
        _draw_weeks(figure.subplots(), weeks, labels)
    buffer = io.BytesIO()
    # catch_warnings swaps the process-wide filter list: two renders at once would
    # restore each other's list mid-draw and let the glyph warning through.
    with _WARNINGS_LOCK, warnings.catch_warnings():
        # Names with emoji have no glyph in the bundled fonts: a box is drawn instead.
        warnings.filterwarnings(
            "ignore", message=r"Glyph \d+ .*missing from", category=UserWarning
        )
        figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _draw_weeks(axes: Axes, weeks: Sequence[WeekPoint], labels: ChartLabels) -> None:
    axes.set_title(labels.weekly, fontsize=10, loc="left")
    axes.set_ylim(-105, 105)
    axes.axhline(0, color="#666666", linewidth=0.8)
    axes.grid(axis="y", alpha=0.3)
    points = [week for week in weeks if week.nps.score is not None]
    if not points:
        axes.text(0.5, 0.5, labels.no_data, ha="center", va="center", transform=axes.transAxes)
        axes.set_xticks([])
        return
    # Plain day numbers keep the axis typed as floats; the locator shows dates.
    # matplotlib.dates is not annotated: the three ignores below are for that alone.
    days = [float(date2num(week.week_start)) for week in weeks]  # type: ignore[no-untyped-call]
    scores = [_or_nan(week.nps.score) for week in weeks]
    margins = [week.nps.margin or 0.0 for week in weeks]
    low = [max(score - margin, -100.0) for score, margin in zip(scores, margins, strict=True)]
    high = [min(score + margin, 100.0) for score, margin in zip(scores, margins, strict=True)]
    axes.fill_between(days, low, high, color=_BAND, alpha=0.6, label=labels.band, linewidth=0)
    axes.plot(days, scores, color=_BLUE, linewidth=1.5)
    for enough in (True, False):
        chosen = [
            (day, score)
            for day, score, week in zip(days, scores, weeks, strict=True)
            if week.nps.score is not None and week.nps.enough is enough
        ]
        if chosen:
            axes.plot(
                [day for day, _ in chosen],
                [score for _, score in chosen],
                "o",
                color=_BLUE,
                markerfacecolor=_BLUE if enough else "white",
                label=None if enough else labels.few,
            )
    if len(points) <= 26:
        for day, score, week in zip(days, scores, weeks, strict=True):
            if week.nps.score is not None:
                axes.annotate(
                    f"n={week.nps.n}",
                    (day, score),
                    textcoords="offset points",
                    xytext=(0, 7),
                    ha="center",
                    fontsize=7,
                    color="#444444",
                )
    axes.set_xlim(days[0] - 4, days[-1] + 4)
    locator = AutoDateLocator()  # type: ignore[no-untyped-call]
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    axes.legend(loc="lower left", fontsize=8, frameon=False)


def _or_nan(value: int | None) -> float:
    return math.nan if value is None else float(value)


def _short(name: str) -> str:
    return name if len(name) <= MAX_LABEL else name[: MAX_LABEL - 1] + "…"


def _draw_bars(axes: Axes, bars: Sequence[Bar], labels: ChartLabels) -> None:
    axes.set_title(labels.bars, fontsize=10, loc="left")
    weakest = next((index for index, bar in enumerate(bars) if bar.enough), None)
    positions = list(range(len(bars)))
    colours = [
        _RED if index == weakest else (_BLUE if bar.enough else _GREY)
        for index, bar in enumerate(bars)
    ]
    for enough in (True, False):
        chosen = [index for index, bar in enumerate(bars) if bar.enough is enough]
        if not chosen:
            continue
        axes.barh(
            chosen,
            [bars[index].score or 0 for index in chosen],
            xerr=[bars[index].margin or 0.0 for index in chosen] if enough else None,
            color=[colours[index] for index in chosen],
            hatch=None if enough else "//",
            edgecolor="white",
            capsize=3,
            ecolor="#333333",
        )
    axes.set_yticks(positions, [f"{_short(bar.name)} (n={bar.n})" for bar in bars], fontsize=8)
    axes.invert_yaxis()
    axes.set_xlim(-105, 105)
    axes.axvline(0, color="#666666", linewidth=0.8)
    axes.grid(axis="x", alpha=0.3)
    for position, bar in zip(positions, bars, strict=True):
        text = str(bar.score) if bar.enough else labels.few
        if position == weakest:
            text = f"{text} ({labels.weakest})"
        axes.text(
            102 if (bar.score or 0) < 0 else -102,
            position,
            text,
            va="center",
            ha="right" if (bar.score or 0) < 0 else "left",
            fontsize=8,
            color=_RED if position == weakest else "#333333",
        )


# --- /topics: topics by NPS impact ------------------------------------------------------

_GREEN = "#2ca02c"


@dataclass(frozen=True, slots=True)
class TopicBar:
    """One topic on the /topics chart: its label, its NPS impact in points (None: too
    few answers mention it to say) and how many answers mention it."""

    label: str
    impact: float | None
    mentions: int


@dataclass(frozen=True, slots=True)
class TopicChartLabels:
    title: str
    axis: str
    few: str
    no_data: str


def render_topics_chart(
    bars: Sequence[TopicBar],
    labels: TopicChartLabels,
    *,
    width: float = 9.0,
    dpi: int = 110,
) -> bytes:
    """A PNG: a horizontal bar per topic in the given order (the biggest loss first),
    losses red, gains green, topics with too few answers hatched grey at zero width.
    CPU-bound: call it through asyncio.to_thread."""
    shown = list(bars[:MAX_BARS])
    height = 0.38 * max(len(shown), 3) + 1.6
    figure = Figure(figsize=(width, height), dpi=dpi, layout="constrained")
    FigureCanvasAgg(figure)
    figure.suptitle(labels.title, fontsize=13, fontweight="bold")
    axes = figure.subplots()
    if not shown:
        axes.text(0.5, 0.5, labels.no_data, ha="center", va="center", transform=axes.transAxes)
        axes.set_xticks([])
        axes.set_yticks([])
    else:
        _draw_topic_bars(axes, shown, labels)
    buffer = io.BytesIO()
    with _WARNINGS_LOCK, warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message=r"Glyph \d+ .*missing from", category=UserWarning
        )
        figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _draw_topic_bars(axes: Axes, bars: Sequence[TopicBar], labels: TopicChartLabels) -> None:
    axes.set_title(labels.axis, fontsize=10, loc="left")
    positions = list(range(len(bars)))
    values = [bar.impact or 0.0 for bar in bars]
    colours = [
        _GREY if bar.impact is None else (_RED if bar.impact < 0 else _GREEN) for bar in bars
    ]
    axes.barh(positions, values, color=colours, edgecolor="white")
    axes.set_yticks(
        positions, [f"{_short(bar.label)} (n={bar.mentions})" for bar in bars], fontsize=8
    )
    axes.invert_yaxis()
    reach = max([abs(value) for value in values] + [1.0])
    limit = math.ceil(reach * 1.35)
    axes.set_xlim(-limit, limit)
    axes.axvline(0, color="#666666", linewidth=0.8)
    axes.grid(axis="x", alpha=0.3)
    for position, bar, value in zip(positions, bars, values, strict=True):
        if bar.impact is None:
            text, where, align = labels.few, 0.02 * limit, "left"
        else:
            text = f"{value:+.1f}"
            where = value + (0.02 * limit if value >= 0 else -0.02 * limit)
            align = "left" if value >= 0 else "right"
        axes.text(where, position, text, va="center", ha=align, fontsize=8, color="#333333")
