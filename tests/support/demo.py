"""What a demo plan should leave in the report counters, worked out from the plan alone
(its visits, answers and their moments), to check the writers against."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from bot.config import Settings
from bot.demo.plan import Delivery, DemoPlan, Scale
from storage.rollups import CES_EASY_MIN, nps_bucket

NOW = datetime.fromisoformat("2026-11-23T03:00:00+00:00")  # 05:00 in Kyiv: all closed
SMALL = Scale(days=10, visits=0.5)


@dataclass
class Expected:
    """Counters per location over a period, and the funnel's events per location."""

    by_location: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    funnel: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    cases: int = 0


def expected(
    settings: Settings, now: datetime, scale: Scale, start: date, end: date, seed: int = 1
) -> Expected:
    plan = DemoPlan(settings, now, seed=seed, scale=scale)
    expires_after = int(settings.survey_expires_after / timedelta(milliseconds=1))
    result = Expected()
    for day in plan.days():
        for visit in day.visits:
            if not start.isoformat() <= visit.day <= end.isoformat():
                continue
            funnel = result.funnel[visit.location]
            funnel["reported"] += 1
            if visit.skip is not None:
                funnel[f"skipped:{visit.skip}"] += 1
                continue
            funnel["scheduled"] += 1
            if visit.delivery is None:
                continue
            if visit.delivery != Delivery.SENT:
                funnel[str(visit.delivery)] += 1
                continue
            funnel["sent"] += 1
            counts = result.by_location[visit.location]
            counts["sent"] += 1
            if visit.nps is not None and visit.nps_at <= plan.now:
                funnel["answered"] += 1
                counts["answered"] += 1
                counts[nps_bucket(visit.nps)] += 1
            if visit.ces is not None and visit.ces_at <= plan.now:
                counts["ces_sum"] += visit.ces
                counts["ces_count"] += 1
                counts["ces_easy"] += int(visit.ces >= CES_EASY_MIN)
            completed = visit.reason_step and visit.reason_at <= plan.now
            if not completed and visit.sent_at + expires_after <= plan.now:
                funnel["expired"] += 1
            if visit.case is not None and visit.case_opened_at <= plan.now:
                result.cases += 1
    return result
