"""NPS and CES reports: the formulas, periods, segments, comparisons and the drop alert.

Pure rules: no SQL, no aiogram. The caller fetches `RollupTotals` with
`storage.reports` and hands them here; the numbers come back as dataclasses, as a
translated message (`texts.format_report`) or as JSON-ready dicts (`report_to_dict`).

Honesty rules (issue 5): NPS is a whole number over answers that have a score; it
always carries its 95% margin of error; a segment with fewer than `min_sample`
answers shows "not enough answers (n=..)" instead of a score.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from fractions import Fraction
from typing import Any, Protocol

from bot.config import DEFAULT_SURVEY_STEPS
from storage.reports import RollupTotals, WeekTotals, iso_week_key

DEFAULT_PERIOD_DAYS = 30
# Longer periods are almost always a typo (365000d); three years covers real use.
MAX_PERIOD_DAYS = 3 * 366
Z_95 = 1.96
DROP_RECENT_DAYS = 7
DROP_BASELINE_DAYS = 28


class Translate(Protocol):
    """What the formatters need from bot.i18n.Translator."""

    def get(self, language: str | None, key: str, **args: Any) -> str: ...


class ReportError(ValueError):
    """A bad /stats argument. `key` and `params` let a handler translate it;
    str(error) is the English message for logs, the CLI and the HTTP API."""

    def __init__(self, key: str, message: str, **params: Any) -> None:
        super().__init__(message)
        self.key = key
        self.params = params


# --- periods -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Period:
    """Business days from `start` to `end`, both inclusive."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ReportError(
                "reports-error-reversed",
                f"the period ends ({self.end}) before it starts ({self.start})",
                start=self.start.isoformat(),
                end=self.end.isoformat(),
            )

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def label(self) -> str:
        return f"{self.start.isoformat()}..{self.end.isoformat()}"

    @property
    def is_calendar_month(self) -> bool:
        return self.start.day == 1 and self.end == _month_end(self.start)

    def previous(self) -> Period:
        """The period of the same length just before this one; for a whole calendar
        month, the previous calendar month (October compares with September)."""
        if self.is_calendar_month:
            last = self.start - timedelta(days=1)
            return Period(last.replace(day=1), last)
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    @classmethod
    def last_days(cls, days: int, today: date) -> Period:
        """The `days` days ending with today."""
        return cls(today - timedelta(days=days - 1), today)


def _month_end(day: date) -> date:
    following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


_DAYS = re.compile(r"^(\d{1,7})d$")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_RANGE_SEPARATORS = ("..", "…")
_PERIOD_HINT = "use 7d, 30d, 2026-10 or 2026-10-01..2026-10-31"


def parse_period(text: str, today: date, default_days: int = DEFAULT_PERIOD_DAYS) -> Period:
    """Parse `7d`, `30d`, `2026-10`, `2026-10-05`, `2026-10-01..2026-10-31` or ''
    (the last `default_days` days). Days after `today` are cut off, so a running
    month compares with the same number of days before it. Raises ReportError."""
    text = text.strip().lower()
    if not text:
        return Period.last_days(default_days, today)
    if match := _DAYS.match(text):
        return Period.last_days(_checked_length(int(match.group(1))), today)
    if match := _MONTH.match(text):
        return _until_today(_month(text, int(match.group(1)), int(match.group(2))), today)
    for separator in _RANGE_SEPARATORS:
        if separator in text:
            first, _, last = text.partition(separator)
            return _range(_date(first.strip()), _date(last.strip()), today)
    if _DATE.match(text):
        day = _date(text)
        return _until_today(Period(day, day), today)
    raise ReportError(
        "reports-error-period", f"unrecognised period {text!r}: {_PERIOD_HINT}", text=text
    )


def _checked_length(days: int) -> int:
    if days < 1 or days > MAX_PERIOD_DAYS:
        raise ReportError(
            "reports-error-length",
            f"a period must be 1 to {MAX_PERIOD_DAYS} days long, not {days}",
            days=days,
            max=MAX_PERIOD_DAYS,
        )
    return days


def _month(text: str, year: int, month: int) -> Period:
    try:
        start = date(year, month, 1)
    except ValueError:
        raise ReportError(
            "reports-error-date", f"{text!r} is not a valid month (YYYY-MM)", text=text
        ) from None
    return Period(start, _month_end(start))


def _date(text: str) -> date:
    try:
        if not _DATE.match(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise ReportError(
            "reports-error-date", f"{text!r} is not a valid date (YYYY-MM-DD)", text=text
        ) from None


def _range(start: date, end: date, today: date) -> Period:
    period = _until_today(Period(start, end), today)
    _checked_length(period.days)
    return period


def _until_today(period: Period, today: date) -> Period:
    if period.start > today:
        raise ReportError(
            "reports-error-future",
            f"the period starts in the future ({period.start})",
            start=period.start.isoformat(),
        )
    return Period(period.start, min(period.end, today))


# --- segments and the /stats argument string -------------------------------------


class SegmentBy(StrEnum):
    """What a report breaks the total down by; the value names the storage column."""

    LOCATION = "location"
    STAFF = "staff"
    TOUCHPOINT = "touchpoint"
    NONE = "none"


_SEGMENT_WORDS = {
    "location": SegmentBy.LOCATION,
    "locations": SegmentBy.LOCATION,
    "staff": SegmentBy.STAFF,
    "touchpoint": SegmentBy.TOUCHPOINT,
    "touchpoints": SegmentBy.TOUCHPOINT,
    "none": SegmentBy.NONE,
    "total": SegmentBy.NONE,
    "all": SegmentBy.NONE,
}


def parse_segment(text: str) -> SegmentBy:
    """location | staff | touchpoint | none (plurals and total/all accepted)."""
    segment = _SEGMENT_WORDS.get(text.strip().lower())
    if segment is None:
        raise ReportError(
            "reports-error-segment",
            f"unknown segment {text!r}: use location, staff, touchpoint or none",
            text=text,
        )
    return segment


@dataclass(frozen=True, slots=True)
class StatsQuery:
    period: Period
    segment: SegmentBy


def parse_stats_args(
    text: str,
    today: date,
    *,
    default_segment: SegmentBy = SegmentBy.NONE,
    default_days: int = DEFAULT_PERIOD_DAYS,
) -> StatsQuery:
    """Parse the arguments of /stats, /chart or /export: an optional period and an
    optional segment, in any order (`30d location`, `staff 2026-10`, ``)."""
    # "2026-10-01 .. 2026-10-31" is one period, not three words.
    text = re.sub(r"\s*(\.\.|…)\s*", r"\1", text.strip())
    period: Period | None = None
    segment: SegmentBy | None = None
    for word in text.split():
        if word.lower() in _SEGMENT_WORDS:
            if segment is not None:
                raise _too_many(text)
            segment = parse_segment(word)
        else:
            if period is not None:
                raise _too_many(text)
            period = parse_period(word, today, default_days)
    return StatsQuery(
        period or Period.last_days(default_days, today),
        segment or default_segment,
    )


def _too_many(text: str) -> ReportError:
    return ReportError(
        "reports-error-arguments",
        f"give at most one period and one segment, not {text!r}",
        text=text,
    )


# --- formulas --------------------------------------------------------------------


def nps_score(promoters: int, detractors: int, n: int) -> int:
    """NPS as a whole number, -100..+100, rounded half away from zero (exactly)."""
    if n <= 0:
        raise ValueError("NPS needs at least one answer")
    exact = Fraction(100 * (promoters - detractors), n)
    rounded = math.floor(abs(exact) + Fraction(1, 2))
    return rounded if exact >= 0 else -rounded


def nps_margin(promoters: int, passives: int, detractors: int) -> float:
    """The 95% margin of error of NPS in points: each answer is +1/0/-1,
    SE = sqrt((p+ + p- - (p+ - p-)^2) / n), margin = 1.96 * SE * 100."""
    n = promoters + passives + detractors
    if n <= 0:
        raise ValueError("the margin needs at least one answer")
    share_p, share_d = promoters / n, detractors / n
    variance = max(share_p + share_d - (share_p - share_d) ** 2, 0.0)
    return Z_95 * math.sqrt(variance / n) * 100


@dataclass(frozen=True, slots=True)
class NpsResult:
    promoters: int
    passives: int
    detractors: int
    # None when nobody answered.
    score: int | None
    margin: float | None
    enough: bool
    min_sample: int

    @property
    def n(self) -> int:
        return self.promoters + self.passives + self.detractors

    @property
    def margin_points(self) -> int | None:
        """The margin rounded up to whole points: never shown smaller than it is."""
        return None if self.margin is None else math.ceil(round(self.margin, 6))


def nps_result(promoters: int, passives: int, detractors: int, min_sample: int) -> NpsResult:
    n = promoters + passives + detractors
    if n == 0:
        return NpsResult(0, 0, 0, None, None, False, min_sample)
    return NpsResult(
        promoters,
        passives,
        detractors,
        nps_score(promoters, detractors, n),
        nps_margin(promoters, passives, detractors),
        n >= min_sample,
        min_sample,
    )


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True, slots=True)
class SegmentReport:
    """The numbers of one segment value (or of the total, key '') over a period."""

    key: str
    totals: RollupTotals
    nps: NpsResult
    previous: SegmentReport | None = None

    @property
    def ces_mean(self) -> float | None:
        """Mean CES on 1..7."""
        return _ratio(self.totals.ces_sum, self.totals.ces_count)

    @property
    def ces_easy_share(self) -> float | None:
        """Share (0..1) of CES answers 5..7."""
        return _ratio(self.totals.ces_easy, self.totals.ces_count)

    @property
    def csat_mean(self) -> float | None:
        """Mean CSAT on 1..5."""
        return _ratio(self.totals.csat_sum, self.totals.csat_count)

    @property
    def csat_satisfied_share(self) -> float | None:
        """Share (0..1) of CSAT answers 4..5."""
        return _ratio(self.totals.csat_satisfied, self.totals.csat_count)

    @property
    def response_rate(self) -> float | None:
        """answered / sent (0..1); None when nothing was sent."""
        return _ratio(self.totals.answered, self.totals.sent)

    @property
    def delta_nps(self) -> int | None:
        """Change against the previous period, only when both have enough answers."""
        before = self.previous.nps if self.previous else None
        if before is None or not (self.nps.enough and before.enough):
            return None
        assert self.nps.score is not None and before.score is not None
        return self.nps.score - before.score

    @property
    def delta_significant(self) -> bool | None:
        """Whether the change exceeds the margin of the difference (95%)."""
        delta = self.delta_nps
        if delta is None or self.previous is None:
            return None
        margin = math.hypot(self.nps.margin or 0.0, self.previous.nps.margin or 0.0)
        return abs(delta) > margin

    @property
    def delta_ces_mean(self) -> float | None:
        before = self.previous.ces_mean if self.previous else None
        now = self.ces_mean
        return None if before is None or now is None else now - before

    @property
    def delta_response_rate(self) -> float | None:
        before = self.previous.response_rate if self.previous else None
        now = self.response_rate
        return None if before is None or now is None else now - before


def segment_report(
    totals: RollupTotals, min_sample: int, previous: RollupTotals | None = None
) -> SegmentReport:
    before = segment_report(previous, min_sample) if previous is not None else None
    result = nps_result(totals.promoters, totals.passives, totals.detractors, min_sample)
    return SegmentReport(totals.key, totals, result, before)


@dataclass(frozen=True, slots=True)
class Report:
    period: Period
    previous_period: Period
    segment: SegmentBy
    min_sample: int
    total: SegmentReport
    # Weakest first among those with enough answers, then the rest by n descending.
    segments: tuple[SegmentReport, ...] = field(default_factory=tuple)
    # SURVEY_STEPS: CSAT is shown when asked; CES when asked or answered in the period.
    steps: tuple[str, ...] = DEFAULT_SURVEY_STEPS

    @property
    def shows_ces(self) -> bool:
        return "ces" in self.steps or self.total.totals.ces_count > 0

    @property
    def shows_csat(self) -> bool:
        return "csat" in self.steps

    @property
    def weakest(self) -> SegmentReport | None:
        """The segment with the lowest NPS among those with enough answers."""
        ranked = [item for item in self.segments if item.nps.enough]
        return ranked[0] if ranked else None

    @property
    def is_empty(self) -> bool:
        return self.total.totals.is_empty


def _sum_totals(rows: Sequence[RollupTotals], key: str = "") -> RollupTotals:
    total = RollupTotals(key)
    for row in rows:
        total = total.plus(row)
    return total


def _rank(item: SegmentReport) -> tuple[int, float, str]:
    if item.nps.enough:
        return (0, float(item.nps.score or 0), item.key)
    return (1, -float(item.nps.n), item.key)


def build_report(
    period: Period,
    segment: SegmentBy,
    current: Sequence[RollupTotals],
    previous: Sequence[RollupTotals],
    min_sample: int,
    previous_period: Period | None = None,
    *,
    steps: tuple[str, ...] = DEFAULT_SURVEY_STEPS,
) -> Report:
    """Turn the rollup sums of a period and of the period before it into a report.

    `current` and `previous` are what `storage.reports.rollup_totals` returned for
    `period` and `period.previous()` with the same segment; `steps` are SURVEY_STEPS
    (which scores the report shows).
    """
    before = {row.key: row for row in previous}
    total = segment_report(_sum_totals(current), min_sample, _sum_totals(previous))
    segments: tuple[SegmentReport, ...] = ()
    if segment is not SegmentBy.NONE:
        items = [segment_report(row, min_sample, before.get(row.key)) for row in current]
        segments = tuple(sorted(items, key=_rank))
    return Report(
        period,
        previous_period or period.previous(),
        segment,
        min_sample,
        total,
        segments,
        steps,
    )


# --- weekly series for the chart --------------------------------------------------


@dataclass(frozen=True, slots=True)
class WeekPoint:
    week_start: date
    label: str
    nps: NpsResult
    answered: int
    sent: int


def weekly_points(weeks: Sequence[WeekTotals], min_sample: int) -> list[WeekPoint]:
    """NPS per ISO week (from `storage.reports.weekly_totals`) for the chart."""
    return [
        WeekPoint(
            week.week_start,
            iso_week_key(week.week_start),
            nps_result(
                week.totals.promoters, week.totals.passives, week.totals.detractors, min_sample
            ),
            week.totals.answered,
            week.totals.sent,
        )
        for week in weeks
    ]


# --- the drop alert ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NpsDrop:
    location: str
    recent: NpsResult
    baseline: NpsResult
    recent_period: Period
    baseline_period: Period

    @property
    def drop(self) -> int:
        assert self.recent.score is not None and self.baseline.score is not None
        return self.baseline.score - self.recent.score


def drop_alert_periods(today: date) -> tuple[Period, Period]:
    """(last 7 days, the 28 days before them), both ending before today: today's
    answers are still coming in."""
    recent = Period(today - timedelta(days=DROP_RECENT_DAYS), today - timedelta(days=1))
    baseline_end = recent.start - timedelta(days=1)
    baseline = Period(baseline_end - timedelta(days=DROP_BASELINE_DAYS - 1), baseline_end)
    return recent, baseline


def detect_nps_drop(
    recent: RollupTotals,
    baseline: RollupTotals,
    *,
    threshold: int,
    min_sample: int,
    recent_period: Period,
    baseline_period: Period,
) -> NpsDrop | None:
    """An NpsDrop when the shown (whole-number) NPS fell by more than `threshold`
    points and both windows have at least `min_sample` answers; else None."""
    now = nps_result(recent.promoters, recent.passives, recent.detractors, min_sample)
    before = nps_result(baseline.promoters, baseline.passives, baseline.detractors, min_sample)
    if not (now.enough and before.enough):
        return None
    drop = NpsDrop(recent.key, now, before, recent_period, baseline_period)
    return drop if drop.drop > threshold else None


def find_nps_drops(
    recent: Sequence[RollupTotals],
    baseline: Sequence[RollupTotals],
    *,
    threshold: int,
    min_sample: int,
    recent_period: Period,
    baseline_period: Period,
) -> list[NpsDrop]:
    """The locations whose NPS dropped; inputs are rollup_totals(..., "location")
    over the two periods of `drop_alert_periods`."""
    before = {row.key: row for row in baseline}
    drops = []
    for row in recent:
        if row.key in before:
            drop = detect_nps_drop(
                row,
                before[row.key],
                threshold=threshold,
                min_sample=min_sample,
                recent_period=recent_period,
                baseline_period=baseline_period,
            )
            if drop is not None:
                drops.append(drop)
    return sorted(drops, key=lambda item: (-item.drop, item.location))


def nps_drop_dedupe_key(drop: NpsDrop) -> str:
    """An outbox dedupe key: a location is told at most once per ISO week, the week
    of the day the drop was found (the day after the recent window), so that
    Monday's alert is not repeated on Tuesday when the window moves into a new week."""
    found = drop.recent_period.end + timedelta(days=1)
    return f"nps-drop:{iso_week_key(found)}:{drop.location}"


# --- text --------------------------------------------------------------------------


# --- JSON for the HTTP API -----------------------------------------------------------


def _nps_dict(result: NpsResult) -> dict[str, Any]:
    return {
        "nps": result.score if result.enough else None,
        "nps_unreliable": result.score,
        "margin": None if result.margin is None else round(result.margin, 2),
        "enough": result.enough,
        "n": result.n,
        "promoters": result.promoters,
        "passives": result.passives,
        "detractors": result.detractors,
    }


def segment_to_dict(item: SegmentReport, *, csat: bool = False) -> dict[str, Any]:
    """`csat`: with the CSAT figures (SURVEY_STEPS asks it)."""
    counts = item.totals
    data: dict[str, Any] = {
        "key": item.key,
        **_nps_dict(item.nps),
        "ces_mean": None if item.ces_mean is None else round(item.ces_mean, 3),
        "ces_easy_share": None if item.ces_easy_share is None else round(item.ces_easy_share, 4),
        "ces_count": counts.ces_count,
        "sent": counts.sent,
        "answered": counts.answered,
        "response_rate": None if item.response_rate is None else round(item.response_rate, 4),
        "delta_nps": item.delta_nps,
        "delta_significant": item.delta_significant,
    }
    if csat:
        mean, satisfied = item.csat_mean, item.csat_satisfied_share
        data["csat_mean"] = None if mean is None else round(mean, 3)
        data["csat_satisfied_share"] = None if satisfied is None else round(satisfied, 4)
        data["csat_count"] = counts.csat_count
    if item.previous is not None:
        data["previous"] = segment_to_dict(item.previous, csat=csat)
    return data


def report_to_dict(report: Report) -> dict[str, Any]:
    """A JSON-ready dict for GET /api/v1/stats. `nps` is null below min_sample;
    `nps_unreliable` carries the raw score for dashboards that show it greyed out."""
    return {
        "period": {"start": report.period.start.isoformat(), "end": report.period.end.isoformat()},
        "previous_period": {
            "start": report.previous_period.start.isoformat(),
            "end": report.previous_period.end.isoformat(),
        },
        "segment": report.segment.value,
        "min_sample": report.min_sample,
        "total": segment_to_dict(report.total, csat=report.shows_csat),
        "segments": [segment_to_dict(item, csat=report.shows_csat) for item in report.segments],
        "weakest": report.weakest.key if report.weakest else None,
    }
