"""Closing the loop, measured: how each location handles its detractors.

Built from the recovery counters (storage/recovery.py names the events) and the
detractors of the NPS counters, both per location and per business day of the visit,
so a period's figures are those of the cases whose visit falls in it: how many were
taken, how soon the customer first heard from the team, how many were resolved and
how, what the follow-up said, and how many detractors came back happier (won back).

Times are percentiles read from fixed duration buckets (storage.recovery
DURATION_BOUNDS): a p50 or p90 is the upper bound of the bucket holding it ("at most
15 min"), never a scan of the cases. Won back is "too few to say" while fewer than
`min_sample` detractors have come back (the MIN_SAMPLE of NPS).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.reports.service import Period, Translate
from bot.reports.texts import segment_name
from storage import recovery as events
from storage import reports as queries
from storage.db import Database
from storage.recovery import Resolution, Stage

_MINUTE, _HOUR, _DAY = 60, 3600, 86400


@dataclass(frozen=True, slots=True)
class Timing:
    """How many cases reached a step and how long it took: p50/p90 as the upper bound
    of their bucket in seconds; `None` above the last bound (more than 30 days)."""

    count: int = 0
    p50: int | None = None
    p90: int | None = None

    @classmethod
    def of(cls, histogram: Mapping[str, int]) -> Timing:
        """From bucket label -> count (labels as storage.recovery.duration_bucket)."""
        buckets = sorted(
            ((_bound(label), amount) for label, amount in histogram.items() if amount > 0),
            key=lambda item: math.inf if item[0] is None else item[0],
        )
        total = sum(amount for _, amount in buckets)
        return cls(total, _percentile(buckets, total, 0.5), _percentile(buckets, total, 0.9))


def _bound(label: str) -> int | None:
    return None if label == events.OVER else int(label)


def _percentile(buckets: list[tuple[int | None, int]], total: int, share: float) -> int | None:
    """Nearest rank: the bucket holding the ceil(share x total)-th duration."""
    if not total:
        return None
    rank, seen = math.ceil(share * total), 0
    for bound, amount in buckets:
        seen += amount
        if seen >= rank:
            return bound
    return None


@dataclass(frozen=True, slots=True)
class Recovery:
    """The figures of one location (or of all in scope, key '') over a period."""

    key: str
    min_sample: int
    detractors: int = 0
    opened: int = 0
    taken: Timing = Timing()
    contacted: Timing = Timing()
    resolved: Timing = Timing()
    by_resolution: dict[Resolution, int] = field(default_factory=dict)
    followup_asked: int = 0
    followup_yes: int = 0
    followup_no: int = 0
    reopened: int = 0
    # Detractors whose next survey scored 9-10, 7-8 or 0-6 again.
    next_promoters: int = 0
    next_passives: int = 0
    next_detractors: int = 0

    @classmethod
    def of(cls, key: str, counts: Mapping[str, int], detractors: int, min_sample: int) -> Recovery:
        """From a location's summed events (storage.reports.recovery_totals)."""
        stages: dict[Stage, Counter[str]] = {stage: Counter() for stage in Stage}
        resolutions: Counter[Resolution] = Counter()
        for event, amount in counts.items():
            name, _, rest = event.partition(":")
            if name in (Stage.TAKE, Stage.CONTACT):
                stages[Stage(name)][rest] += amount
            elif name == Stage.RESOLVE:
                resolution, _, bucket = rest.partition(":")
                stages[Stage.RESOLVE][bucket] += amount
                resolutions[Resolution(resolution)] += amount
        return cls(
            key,
            min_sample,
            detractors=detractors,
            opened=counts.get(events.OPENED, 0),
            taken=Timing.of(stages[Stage.TAKE]),
            contacted=Timing.of(stages[Stage.CONTACT]),
            resolved=Timing.of(stages[Stage.RESOLVE]),
            by_resolution={item: resolutions[item] for item in Resolution if resolutions[item]},
            followup_asked=counts.get(events.FOLLOWUP_ASKED, 0),
            followup_yes=counts.get(events.FOLLOWUP_YES, 0),
            followup_no=counts.get(events.FOLLOWUP_NO, 0),
            reopened=counts.get(events.REOPENED, 0),
            next_promoters=counts.get(events.next_event(10), 0),
            next_passives=counts.get(events.next_event(7), 0),
            next_detractors=counts.get(events.next_event(0), 0),
        )

    @property
    def came_back(self) -> int:
        """Detractors of the period whose next survey (a later visit) is answered."""
        return self.next_promoters + self.next_passives + self.next_detractors

    @property
    def won_back(self) -> int:
        """Those of them who scored 7-10."""
        return self.next_promoters + self.next_passives

    @property
    def enough(self) -> bool:
        """Whether enough detractors came back to say anything about winning them back."""
        return self.came_back >= self.min_sample

    def share(self, part: int) -> float | None:
        """`part` of the cases opened (0..1); None with no case."""
        return part / self.opened if self.opened else None

    @property
    def is_empty(self) -> bool:
        return not (self.detractors or self.opened or self.came_back)


@dataclass(frozen=True, slots=True)
class RecoveryReport:
    period: Period
    total: Recovery
    locations: tuple[Recovery, ...]


def build_recovery(
    period: Period,
    counts: Iterable[queries.FunnelCounts],
    detractors: Mapping[str, int],
    min_sample: int,
) -> RecoveryReport:
    """The total and one Recovery per location that had a detractor or a case."""
    by_location: dict[str, Counter[str]] = {}
    for row in counts:
        by_location.setdefault(row.location, Counter()).update(row.events)
    keys = sorted(set(by_location) | {key for key, n in detractors.items() if n})
    items = tuple(
        Recovery.of(key, by_location.get(key, Counter()), detractors.get(key, 0), min_sample)
        for key in keys
    )
    total_counts: Counter[str] = Counter()
    for found in by_location.values():
        total_counts.update(found)
    total = Recovery.of("", total_counts, sum(detractors.get(key, 0) for key in keys), min_sample)
    return RecoveryReport(period, total, items)


async def load_recovery(
    db: Database, period: Period, min_sample: int, locations: Collection[str] | None = None
) -> RecoveryReport:
    """The period's figures of `locations` (all when None): a few counter rows per
    location and month, whatever the number of cases."""
    async with db.read() as conn:
        counts = await queries.recovery_totals(conn, period.start, period.end)
        nps = await queries.rollup_totals(conn, period.start, period.end, "location")
    mine = [row for row in counts if locations is None or row.location in locations]
    detractors = {
        row.key: row.detractors for row in nps if locations is None or row.key in locations
    }
    return build_recovery(period, mine, detractors, min_sample)


# --- text -------------------------------------------------------------------------------


def format_duration(seconds: int | None, translator: Translate, language: str | None) -> str:
    """A bucket bound as "≤ 15 min", "≤ 1.5 h", "≤ 2 d", or "> 30 d" above the last."""
    if seconds is None:
        days = events.DURATION_BOUNDS[-1] // _DAY
        return translator.get(language, "recovery-duration-over", days=days)
    if seconds < _HOUR:
        return translator.get(language, "recovery-duration-minutes", n=seconds // _MINUTE)
    if seconds < _DAY:
        return translator.get(language, "recovery-duration-hours", n=seconds / _HOUR)
    return translator.get(language, "recovery-duration-days", n=seconds / _DAY)


def _percent(share: float | None) -> int:
    return round((share or 0.0) * 100)


def _timing_line(
    key: str, timing: Timing, item: Recovery, translator: Translate, language: str | None
) -> str:
    line = translator.get(
        language, key, n=timing.count, of=item.opened, share=_percent(item.share(timing.count))
    )
    if timing.count:
        line += " · " + translator.get(
            language,
            "recovery-percentiles",
            p50=format_duration(timing.p50, translator, language),
            p90=format_duration(timing.p90, translator, language),
        )
    return line


def _won_back_line(item: Recovery, translator: Translate, language: str | None) -> str:
    if not item.came_back:
        return translator.get(language, "recovery-won-back-none")
    line = translator.get(
        language,
        "recovery-won-back",
        back=item.came_back,
        promoters=item.next_promoters,
        passives=item.next_passives,
        again=item.next_detractors,
    )
    if not item.enough:
        line += " " + translator.get(
            language, "recovery-too-few", n=item.came_back, min=item.min_sample
        )
    return line


def _location_line(item: Recovery, translator: Translate, language: str | None) -> str:
    return translator.get(
        language,
        "recovery-location-line",
        name=segment_name(item.key, translator, language),
        opened=item.opened,
        taken=_percent(item.share(item.taken.count)),
        resolved=_percent(item.share(item.resolved.count)),
        won=item.won_back,
        back=item.came_back,
    )


def format_recovery(
    report: RecoveryReport,
    translator: Translate,
    language: str | None,
    *,
    by_location: bool = False,
    max_locations: int = 30,
) -> str:
    """The "closing the loop" block of /stats and the digest (plain text)."""
    total = report.total
    title = translator.get(language, "recovery-title")
    if total.is_empty:
        return "\n".join([title, translator.get(language, "recovery-empty")])
    tr, lang = translator, language
    resolutions = {item.value: total.by_resolution.get(item, 0) for item in Resolution}
    lines = [
        title,
        tr.get(lang, "recovery-opened", detractors=total.detractors, opened=total.opened),
        _timing_line("recovery-taken", total.taken, total, tr, lang),
        _timing_line("recovery-contacted", total.contacted, total, tr, lang),
        _timing_line("recovery-resolved", total.resolved, total, tr, lang),
        tr.get(lang, "recovery-resolutions", **resolutions),
        tr.get(
            lang,
            "recovery-followup",
            asked=total.followup_asked,
            fixed=total.followup_yes,
            unfixed=total.followup_no,
            reopened=total.reopened,
        ),
        _won_back_line(total, tr, lang),
    ]
    if by_location and len(report.locations) > 1:
        lines += [tr.get(lang, "reports-by-location")]
        lines += [
            "• " + _location_line(item, tr, lang) for item in report.locations[:max_locations]
        ]
        hidden = len(report.locations) - max_locations
        if hidden > 0:
            lines.append(tr.get(lang, "reports-more", count=hidden))
    return "\n".join(lines)


# --- JSON for the HTTP API ------------------------------------------------------------------


def _percentile_dict(seconds: int | None, count: int) -> dict[str, int] | None:
    """{"le_s": bound} or, above the last bound, {"gt_s": that bound}; None with no case."""
    if not count:
        return None
    if seconds is None:
        return {"gt_s": events.DURATION_BOUNDS[-1]}
    return {"le_s": seconds}


def _timing_dict(timing: Timing, item: Recovery) -> dict[str, Any]:
    share = item.share(timing.count)
    return {
        "count": timing.count,
        "share": None if share is None else round(share, 4),
        "p50": _percentile_dict(timing.p50, timing.count),
        "p90": _percentile_dict(timing.p90, timing.count),
    }


def recovery_item_dict(item: Recovery) -> dict[str, Any]:
    return {
        "key": item.key,
        "detractors": item.detractors,
        "opened": item.opened,
        "taken": _timing_dict(item.taken, item),
        "first_contact": _timing_dict(item.contacted, item),
        "resolved": {
            **_timing_dict(item.resolved, item),
            "by_resolution": {res.value: item.by_resolution.get(res, 0) for res in Resolution},
        },
        "followup": {
            "asked": item.followup_asked,
            "fixed": item.followup_yes,
            "not_fixed": item.followup_no,
        },
        "reopened": item.reopened,
        "won_back": {
            "came_back": item.came_back,
            "promoters": item.next_promoters,
            "passives": item.next_passives,
            "detractors": item.next_detractors,
            "enough": item.enough,
        },
    }


def recovery_to_dict(report: RecoveryReport) -> dict[str, Any]:
    """The `recovery` object of GET /api/v1/stats."""
    return {
        "total": recovery_item_dict(report.total),
        "locations": [recovery_item_dict(item) for item in report.locations],
        "min_sample": report.total.min_sample,
        "duration_buckets_s": list(events.DURATION_BOUNDS),
    }
