"""What the topic report says to managers: /topics (its arguments, its text and chart),
the /stats line of the detractors' most mentioned topics, and the digest's biggest loss
per location. The figures are those of `bot.reports.topics` (the counters); this module
only words and draws them."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date

from bot.reports.service import Period, ReportError, Translate, parse_period
from bot.reports.topics import TopicFigures, TopicReport

# The text lists this many topics; the chart shows them all.
TOP_LINES = 5
STATS_TOPICS = 3

Label = Callable[[str], str]


@dataclass(frozen=True, slots=True)
class TopicsQuery:
    """/topics [period] [location]: the location as typed (None: every one in scope)."""

    period: Period
    location: str | None


def parse_topics_args(text: str, today: date) -> TopicsQuery:
    """An optional period (as /stats: 7d, 30d, 2026-10, a range) and an optional location
    (its code or name, spaces allowed), in either order. A word that is no period is the
    location's; a period that is wrong (2026-13, a reversed range) is ReportError."""
    text = re.sub(r"\s*(\.\.|…)\s*", r"\1", text.strip())
    period: Period | None = None
    rest: list[str] = []
    for word in text.split():
        if period is None:
            try:
                period = parse_period(word, today)
                continue
            except ReportError as error:
                if error.key != "reports-error-period":
                    raise
        rest.append(word)
    return TopicsQuery(period or parse_period("", today), " ".join(rest) or None)


def points(value: float, language: str | None) -> str:
    """An NPS impact with its sign and one decimal, in the reader's notation
    (−12.5; −12,5 in Russian and Ukrainian)."""
    text = f"{abs(value):.1f}"
    if language in ("ru", "uk"):
        text = text.replace(".", ",")
    if value > 0:
        return f"+{text}"
    return f"−{text}" if value < 0 else text


def _share(figures: TopicFigures) -> int:
    share = figures.current.share
    return 0 if share is None else round(100 * share)


def _nps(report: TopicReport) -> str:
    value = report.answers.nps()
    return "–" if value is None else str(round(value))


def shown(report: TopicReport) -> list[TopicFigures]:
    """The topics the text and the chart show: those mentioned, costliest first."""
    return [figures for figures in report.topics if figures.mentions]


def format_topics(
    report: TopicReport,
    label: Label,
    translator: Translate,
    language: str | None,
    names: Sequence[str] = (),
    limit: int = TOP_LINES,
) -> str:
    """The /topics message: the period, the scope's answers and NPS, and a line per topic
    (its NPS impact or too few to say, mentions among detractors and promoters, share)."""
    start, end = report.period.start.isoformat(), report.period.end.isoformat()
    lines = [translator.get(language, "topics-title", start=start, end=end)]
    if names:
        lines.append(translator.get(language, "topics-scope", names=", ".join(names)))
    lines.append(translator.get(language, "topics-answers", n=report.answers.n, nps=_nps(report)))
    if not report.enough:
        lines.append(
            translator.get(language, "topics-too-few", n=report.answers.n, min=report.min_sample)
        )
    mentioned = shown(report)
    if not mentioned:
        lines += ["", translator.get(language, "topics-none")]
        return "\n".join(lines)
    lines.append("")
    for rank, figures in enumerate(mentioned[:limit], start=1):
        lines.append(_line(rank, figures, label, translator, language))
    if len(mentioned) > limit:
        lines.append(translator.get(language, "topics-more", count=len(mentioned) - limit))
    return "\n".join(lines)


def _impact(value: float | None, translator: Translate, language: str | None) -> str:
    if value is None:
        return translator.get(language, "topics-impact-unknown")
    return translator.get(language, "topics-impact", points=points(value, language))


def _line(
    rank: int, figures: TopicFigures, label: Label, translator: Translate, language: str | None
) -> str:
    line = translator.get(
        language,
        "topics-line",
        rank=rank,
        label=label(figures.topic),
        impact=_impact(figures.current.impact, translator, language),
        mentions=figures.mentions,
        detractors=figures.detractors,
        promoters=figures.promoters,
        share=_share(figures),
    )
    change = figures.share_change
    if change is not None and change != 0:
        line += " · " + translator.get(
            language, "topics-share-change", change=points(change, language)
        )
    return line


def format_detractor_topics(
    report: TopicReport, label: Label, translator: Translate, language: str | None
) -> str | None:
    """The /stats line: the three topics detractors mention most (None: none named)."""
    top = report.detractor_topics(STATS_TOPICS)
    if not top:
        return None
    items = [
        translator.get(
            language, "topics-detractor-item", label=label(item.topic), count=item.detractors
        )
        for item in top
    ]
    return translator.get(language, "topics-detractors", topics=" · ".join(items))


def format_losses(
    reports: Sequence[tuple[str, TopicReport]],
    label: Label,
    translator: Translate,
    language: str | None,
) -> str | None:
    """The digest's block: each location's biggest loss (the topic with the most negative
    NPS impact), too few answers to say, or none; None without locations."""
    if not reports:
        return None
    lines = [translator.get(language, "topics-losses")]
    for name, report in reports:
        losses = report.losses(1)
        if losses:
            impact = losses[0].current.impact
            assert impact is not None
            lines.append(
                translator.get(
                    language,
                    "topics-loss-line",
                    name=name,
                    label=label(losses[0].topic),
                    points=points(impact, language),
                )
            )
        elif not report.enough or any(
            figures.mentions and figures.current.impact is None for figures in report.topics
        ):
            lines.append(translator.get(language, "topics-loss-too-few", name=name))
        else:
            lines.append(translator.get(language, "topics-loss-none", name=name))
    return "\n".join(lines)


# --- the chart -------------------------------------------------------------------------


async def topics_png(
    report: TopicReport, label: Label, translator: Translate, language: str | None
) -> bytes:
    """The /topics PNG: a bar per mentioned topic by NPS impact, costliest first;
    matplotlib runs in a worker thread, off the event loop."""
    return await asyncio.to_thread(_render, report, label, translator, language)


def _render(
    report: TopicReport, label: Label, translator: Translate, language: str | None
) -> bytes:
    # matplotlib is loaded by the first chart, in this worker thread (see outbox.py).
    from bot.reports.charts import TopicBar, TopicChartLabels, render_topics_chart

    start, end = report.period.start.isoformat(), report.period.end.isoformat()
    labels = TopicChartLabels(
        title=translator.get(language, "topics-chart-title", start=start, end=end),
        axis=translator.get(language, "topics-chart-axis"),
        few=translator.get(language, "topics-chart-few"),
        no_data=translator.get(language, "topics-chart-no-data"),
    )
    bars = [
        TopicBar(label(figures.topic), figures.current.impact, figures.mentions)
        for figures in shown(report)
    ]
    return render_topics_chart(bars, labels)


def resolve_location(
    text: str, catalogue: Collection[tuple[str, str]], counted: Collection[str]
) -> str | None:
    """The location code `text` names: a catalogue entry's code or name (case aside),
    else a location counted in the reports (case aside); None for none."""
    wanted = text.strip().casefold()
    for code, name in catalogue:
        if wanted in (code.casefold(), name.casefold()):
            return code
    for code in counted:
        if code.casefold() == wanted:
            return code
    return None
