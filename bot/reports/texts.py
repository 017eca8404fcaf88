"""What /stats, the digest and the drop alert say: reports as translated text."""

from __future__ import annotations

from bot.reports.service import (
    NpsDrop,
    Report,
    ReportError,
    SegmentBy,
    SegmentReport,
    Translate,
)

_SEGMENT_TITLE_KEYS = {
    SegmentBy.LOCATION: "reports-by-location",
    SegmentBy.STAFF: "reports-by-staff",
    SegmentBy.TOUCHPOINT: "reports-by-touchpoint",
}


def signed(value: int) -> str:
    """+5, -3, 0: the sign is part of the message."""
    return f"+{value}" if value > 0 else str(value)


def _percent(share: float) -> int:
    return round(share * 100)


def segment_name(key: str, translator: Translate, language: str | None) -> str:
    return key if key else translator.get(language, "reports-unset")


def format_nps(item: SegmentReport, name: str, translator: Translate, language: str | None) -> str:
    """One line: `name: NPS 42 ±9 (n=312)`, or not enough / no answers."""
    result = item.nps
    if result.score is None:
        return translator.get(language, "reports-line-empty", name=name)
    if not result.enough:
        return translator.get(
            language, "reports-line-not-enough", name=name, n=result.n, min=result.min_sample
        )
    line = translator.get(
        language,
        "reports-line-nps",
        name=name,
        nps=result.score,
        margin=result.margin_points,
        n=result.n,
    )
    delta = item.delta_nps
    if delta is not None:
        key = "reports-delta" if item.delta_significant else "reports-delta-within-margin"
        line += ", " + translator.get(language, key, delta=signed(delta))
    return line


def _total_lines(report: Report, translator: Translate, language: str | None) -> list[str]:
    total = report.total
    counts = total.totals
    lines = [format_nps(total, translator.get(language, "reports-total"), translator, language)]
    if total.nps.n:
        lines.append(
            translator.get(
                language,
                "reports-mix",
                promoters=counts.promoters,
                passives=counts.passives,
                detractors=counts.detractors,
            )
        )
    previous = total.previous.nps if total.previous else None
    if previous is not None and previous.score is not None and total.delta_nps is not None:
        lines.append(
            translator.get(
                language,
                "reports-previous",
                nps=previous.score,
                margin=previous.margin_points,
                n=previous.n,
                start=report.previous_period.start.isoformat(),
                end=report.previous_period.end.isoformat(),
            )
        )
    if report.shows_ces:
        lines.append(_ces_line(total, translator, language))
    if report.shows_csat:
        lines.append(_csat_line(total, translator, language))
    lines.append(_survey_line(total, translator, language))
    return lines


def _ces_line(item: SegmentReport, translator: Translate, language: str | None) -> str:
    mean, easy = item.ces_mean, item.ces_easy_share
    if mean is None or easy is None:
        return translator.get(language, "reports-ces-none")
    return translator.get(
        language, "reports-ces", mean=mean, easy=_percent(easy), n=item.totals.ces_count
    )


def _csat_line(item: SegmentReport, translator: Translate, language: str | None) -> str:
    mean, satisfied = item.csat_mean, item.csat_satisfied_share
    if mean is None or satisfied is None:
        return translator.get(language, "reports-csat-none")
    return translator.get(
        language,
        "reports-csat",
        mean=mean,
        satisfied=_percent(satisfied),
        n=item.totals.csat_count,
    )


def _survey_line(item: SegmentReport, translator: Translate, language: str | None) -> str:
    rate = item.response_rate
    if rate is None:
        return translator.get(language, "reports-surveys-none", answered=item.totals.answered)
    return translator.get(
        language,
        "reports-surveys",
        sent=item.totals.sent,
        answered=item.totals.answered,
        rate=_percent(rate),
    )


def _segment_lines(
    report: Report, translator: Translate, language: str | None, max_segments: int
) -> list[str]:
    if report.segment is SegmentBy.NONE:
        return []
    lines = ["", translator.get(language, _SEGMENT_TITLE_KEYS[report.segment])]
    for item in report.segments[:max_segments]:
        name = segment_name(item.key, translator, language)
        lines.append("• " + format_nps(item, name, translator, language))
    hidden = len(report.segments) - max_segments
    if hidden > 0:
        lines.append(translator.get(language, "reports-more", count=hidden))
    weakest = report.weakest
    if weakest is not None and len(report.segments) > 1:
        lines += ["", _weakest_line(weakest, translator, language)]
    elif report.segments and weakest is None:
        lines += ["", translator.get(language, "reports-weakest-unknown", min=report.min_sample)]
    return lines


def _weakest_line(item: SegmentReport, translator: Translate, language: str | None) -> str:
    return translator.get(
        language,
        "reports-weakest",
        name=segment_name(item.key, translator, language),
        nps=item.nps.score,
        margin=item.nps.margin_points,
    )


def format_report(
    report: Report,
    translator: Translate,
    language: str | None,
    *,
    digest: bool = False,
    max_segments: int = 30,
) -> str:
    """The /stats message (plain text, no markup); `digest` switches the heading."""
    title = translator.get(
        language,
        "reports-digest-title" if digest else "reports-title",
        start=report.period.start.isoformat(),
        end=report.period.end.isoformat(),
        days=report.period.days,
        scores=_score_names(report, translator, language),
    )
    if report.is_empty:
        return "\n".join([title, "", translator.get(language, "reports-empty")])
    lines = [title, "", *_total_lines(report, translator, language)]
    lines += _segment_lines(report, translator, language, max_segments)
    return "\n".join(lines)


def _score_names(report: Report, translator: Translate, language: str | None) -> str:
    """The scores the report shows: "NPS", "NPS and CES", "NPS, CES and CSAT"."""
    names = ["NPS"]
    if report.shows_ces:
        names.append("CES")
    if report.shows_csat:
        names.append("CSAT")
    if len(names) == 1:
        return names[0]
    return f"{', '.join(names[:-1])} {translator.get(language, 'reports-and')} {names[-1]}"


def format_nps_drop(drop: NpsDrop, translator: Translate, language: str | None) -> str:
    """The manager-chat alert for a location whose NPS fell."""
    return translator.get(
        language,
        "reports-drop-alert",
        location=segment_name(drop.location, translator, language),
        drop=drop.drop,
        after=drop.recent.score,
        after_margin=drop.recent.margin_points,
        after_n=drop.recent.n,
        before=drop.baseline.score,
        before_margin=drop.baseline.margin_points,
        before_n=drop.baseline.n,
    )


def format_error(error: ReportError, translator: Translate, language: str | None) -> str:
    return translator.get(language, error.key, **error.params)
