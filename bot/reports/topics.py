"""What the reasons say, reported: each topic's mentions, share and NPS impact.

Read only from counters (storage/topics.py `totals`: mentions per topic and NPS band;
storage/reports.py `rollup_totals`: the answers per band), per location and business
day of the visit, so a period costs a few rows per month and location whatever the
number of answers. The rules (`build_topic_report`) are pure; `load_topics` fetches.

For each topic over a period and scope (the chain, a location, a chat's locations):

- `mentions` and their split among promoters, passives and detractors;
- `share`: mentions / answers (answers with an NPS), and its change in points against
  the period before (`Period.previous`);
- `impact`: the NPS minus the NPS without the answers that mention the topic, in NPS
  points. Negative: the topic costs that many points (removing its answers would raise
  the NPS); positive: it lifts the NPS. "Too few to say" (None) while the scope has
  fewer than `min_sample` answers, or fewer than `min_sample` answers do not mention it.

Topics are ordered by impact, the costliest first; the taxonomy's topics without a
mention are listed too (at the end), and ids counted before a taxonomy change (not yet
reclassified) keep their place with the id as their label.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from bot.reports.service import Period
from storage import reports as queries
from storage import topics as counters
from storage.db import Connection, Database


@dataclass(frozen=True, slots=True)
class Answers:
    """A scope's answers (with an NPS) over a period, by band."""

    promoters: int = 0
    passives: int = 0
    detractors: int = 0

    @property
    def n(self) -> int:
        return self.promoters + self.passives + self.detractors

    def nps(self) -> float | None:
        """The unrounded NPS (-100..100); None without answers."""
        return 100 * (self.promoters - self.detractors) / self.n if self.n else None

    def minus(self, other: Answers) -> Answers:
        return Answers(
            self.promoters - other.promoters,
            self.passives - other.passives,
            self.detractors - other.detractors,
        )


@dataclass(frozen=True, slots=True)
class TopicPeriod:
    """One topic over one period."""

    mentions: Answers
    share: float | None  # of all answers, 0..1; None without answers
    impact: float | None  # NPS points, one decimal; None: too few to say

    @property
    def count(self) -> int:
        return self.mentions.n


@dataclass(frozen=True, slots=True)
class TopicFigures:
    """One topic's figures: this period, the one before, and the changes."""

    topic: str
    current: TopicPeriod
    previous: TopicPeriod

    @property
    def mentions(self) -> int:
        return self.current.count

    @property
    def detractors(self) -> int:
        return self.current.mentions.detractors

    @property
    def promoters(self) -> int:
        return self.current.mentions.promoters

    @property
    def share_change(self) -> float | None:
        """The change of the share against the period before, in percentage points."""
        now, before = self.current.share, self.previous.share
        if now is None or before is None:
            return None
        return round(100 * (now - before), 1)

    @property
    def impact_change(self) -> float | None:
        now, before = self.current.impact, self.previous.impact
        if now is None or before is None:
            return None
        return round(now - before, 1)


@dataclass(frozen=True, slots=True)
class TopicReport:
    period: Period
    previous_period: Period
    answers: Answers
    previous_answers: Answers
    topics: tuple[TopicFigures, ...]
    min_sample: int

    @property
    def enough(self) -> bool:
        return self.answers.n >= self.min_sample

    def losses(self, limit: int = 3) -> list[TopicFigures]:
        """The topics costing the most NPS (a negative impact), costliest first: what
        /stats' top three and the digest's biggest loss show."""
        costly = [f for f in self.topics if f.current.impact is not None and f.current.impact < 0]
        return costly[:limit]

    def detractor_topics(self, limit: int = 3) -> list[TopicFigures]:
        """The topics detractors mention most, most mentioned first (ties by id)."""
        named = [f for f in self.topics if f.detractors > 0]
        return sorted(named, key=lambda f: (-f.detractors, f.topic))[:limit]


def impact(answers: Answers, mentions: Answers, min_sample: int) -> float | None:
    """NPS minus the NPS without the answers mentioning the topic, one decimal; None when
    the scope, or the answers left without the topic, number fewer than `min_sample`."""
    rest = answers.minus(mentions)
    if answers.n < min_sample or rest.n < max(min_sample, 1):
        return None
    full, without = answers.nps(), rest.nps()
    assert full is not None and without is not None
    return round(full - without, 1)


def _period(answers: Answers, mentions: Answers, min_sample: int) -> TopicPeriod:
    share = mentions.n / answers.n if answers.n else None
    return TopicPeriod(mentions, share, impact(answers, mentions, min_sample))


def _by_topic(rows: Iterable[counters.TopicCount]) -> dict[str, Answers]:
    bands: dict[str, Counter[str]] = {}
    for row in rows:
        bands.setdefault(row.topic, Counter())[row.band] += row.count
    return {
        topic: Answers(found["promoters"], found["passives"], found["detractors"])
        for topic, found in bands.items()
    }


def build_topic_report(
    period: Period,
    previous_period: Period,
    answers: Answers,
    previous_answers: Answers,
    current: Sequence[counters.TopicCount],
    previous: Sequence[counters.TopicCount],
    topic_ids: Sequence[str],
    min_sample: int,
) -> TopicReport:
    """The figures of every topic in `topic_ids` (the taxonomy's order) and of any other
    counted id, ordered by impact (costliest first), then by mentions."""
    now, before = _by_topic(current), _by_topic(previous)
    ids = list(topic_ids) + sorted((set(now) | set(before)) - set(topic_ids))
    figures = [
        TopicFigures(
            topic,
            _period(answers, now.get(topic, Answers()), min_sample),
            _period(previous_answers, before.get(topic, Answers()), min_sample),
        )
        for topic in ids
    ]
    order = {topic: index for index, topic in enumerate(ids)}

    def rank(f: TopicFigures) -> tuple[int, float, int, int]:
        known = f.current.impact
        return (
            0 if known is not None and f.mentions else 1 if f.mentions else 2,
            known if known is not None else 0.0,
            -f.mentions,
            order[f.topic],
        )

    return TopicReport(
        period,
        previous_period,
        answers,
        previous_answers,
        tuple(sorted(figures, key=rank)),
        min_sample,
    )


async def _answers(conn: Connection, period: Period, locations: Collection[str] | None) -> Answers:
    if locations is None:
        rows = await queries.rollup_totals(conn, period.start, period.end, "none")
    else:
        rows = await queries.rollup_totals(
            conn, period.start, period.end, "location", sorted(locations)
        )
    return Answers(
        sum(row.promoters for row in rows),
        sum(row.passives for row in rows),
        sum(row.detractors for row in rows),
    )


async def load_topics(
    db: Database,
    period: Period,
    topic_ids: Sequence[str],
    min_sample: int,
    locations: Collection[str] | None = None,
) -> TopicReport:
    """The topic report of `period` against the period before, of `locations` (all when
    None: the chain). `topic_ids`: the taxonomy's ids (`Taxonomy.ids()`)."""
    previous = period.previous()
    scope = None if locations is None else sorted(locations)
    async with db.read() as conn:
        answers = await _answers(conn, period, locations)
        before = await _answers(conn, previous, locations)
        now_counts = await counters.totals(conn, period.start, period.end, scope)
        old_counts = await counters.totals(conn, previous.start, previous.end, scope)
    return build_topic_report(
        period, previous, answers, before, now_counts, old_counts, topic_ids, min_sample
    )


@dataclass(frozen=True, slots=True)
class TopicWeek:
    """One ISO week of a topic's trend: the answers with an NPS and how many mention it."""

    week_start: date
    answered: int
    mentions: int

    @property
    def share(self) -> float | None:
        """The share of the week's answers that mention the topic; None with no answer."""
        return self.mentions / self.answered if self.answered else None


# A trend shows at most the period's last this many ISO weeks: read from the daily
# counters, a region's year (34 branches x 365 days x topics x bands) cost about 100 ms
# on the dashboard's Topics screen at a million answers; a quarter is what a manager
# follows week by week.
TREND_WEEKS = 13


async def load_topic_weeks(
    db: Database, period: Period, locations: Collection[str] | None = None
) -> dict[str, list[TopicWeek]]:
    """Each mentioned topic's share of the answers per ISO week of the period's last
    TREND_WEEKS (empty weeks included, as NPS by week), of `locations` (all when None):
    from the daily counters, so it costs the same at 10,000 or 1,000,000 answers."""
    scope = None if locations is None else sorted(locations)
    last_monday = period.end - timedelta(days=period.end.weekday())
    start = max(period.start, last_monday - timedelta(weeks=TREND_WEEKS - 1))
    async with db.read() as conn:
        weeks = await queries.weekly_totals(conn, start, period.end, scope)
        days = await counters.daily_mentions(conn, start, period.end, scope)
    mentions: dict[str, Counter[date]] = {}
    for row in days:
        day = date.fromisoformat(row.day)
        mentions.setdefault(row.topic, Counter())[day - timedelta(days=day.weekday())] += row.count
    return {
        topic: [
            TopicWeek(week.week_start, week.totals.answered, found[week.week_start])
            for week in weeks
        ]
        for topic, found in mentions.items()
    }


def _percent(share: float | None) -> float | None:
    return None if share is None else round(100 * share, 1)


def _nps(answers: Answers) -> float | None:
    value = answers.nps()
    return None if value is None else round(value, 1)


def topic_report_to_dict(report: TopicReport, label: Callable[[str], str]) -> dict[str, Any]:
    """JSON-ready: the period, the answers, and each topic with its `label` (already in
    the reader's language)."""

    def period_dict(figures: TopicPeriod) -> dict[str, Any]:
        m = figures.mentions
        return {
            "mentions": m.n,
            "promoters": m.promoters,
            "passives": m.passives,
            "detractors": m.detractors,
            "share": _percent(figures.share),
            "impact": figures.impact,
        }

    return {
        "period": {"start": report.period.start.isoformat(), "end": report.period.end.isoformat()},
        "previous_period": {
            "start": report.previous_period.start.isoformat(),
            "end": report.previous_period.end.isoformat(),
        },
        "min_sample": report.min_sample,
        "answers": {
            "total": report.answers.n,
            "promoters": report.answers.promoters,
            "passives": report.answers.passives,
            "detractors": report.answers.detractors,
            "nps": _nps(report.answers),
            "previous_total": report.previous_answers.n,
            "previous_nps": _nps(report.previous_answers),
        },
        "topics": [
            {
                "id": f.topic,
                "label": label(f.topic),
                **period_dict(f.current),
                "too_few": f.current.impact is None,
                "share_change": f.share_change,
                "impact_change": f.impact_change,
                "previous": period_dict(f.previous),
            }
            for f in report.topics
        ],
    }
