"""The closing-the-loop figures from counters: percentiles from duration buckets."""

from __future__ import annotations

from datetime import date

from bot.i18n import load_translator
from bot.reports.recovery import Recovery, Timing, build_recovery, format_recovery
from bot.reports.service import Period
from storage.recovery import OVER, duration_bucket
from storage.reports import FunnelCounts


def test_percentiles_are_the_bound_of_the_bucket_holding_the_nearest_rank() -> None:
    minutes = [3, 4, 9, 12, 50, 70, 200, 600, 1500, 3000]  # ten takes
    histogram: dict[str, int] = {}
    for value in minutes:
        label = duration_bucket(value * 60_000)
        histogram[label] = histogram.get(label, 0) + 1
    timing = Timing.of(histogram)
    # The 5th of 10 is 50 min (bucket 1 h); the 9th is 1500 min = 25 h (bucket 36 h).
    assert (timing.count, timing.p50, timing.p90) == (10, 3600, 129600)


def test_above_the_last_bucket_reads_as_more_than_30_days() -> None:
    timing = Timing.of({"60": 1, OVER: 9})
    assert timing.p50 is None and timing.p90 is None and timing.count == 10
    assert Timing.of({}) == Timing(0, None, None)


def test_won_back_is_too_few_to_say_below_min_sample() -> None:
    counts = {"opened": 3, "next:promoters": 1, "next:passives": 1, "next:detractors": 1}
    item = Recovery.of("Podil", counts, detractors=4, min_sample=3)
    assert (item.came_back, item.won_back, item.enough) == (3, 2, True)
    assert not Recovery.of("Podil", counts, detractors=4, min_sample=4).enough


def test_the_block_reads_in_every_language_with_plurals() -> None:
    period = Period(date(2026, 11, 1), date(2026, 11, 30))
    rows = [
        FunnelCounts("Podil", {"opened": 21, "take:300": 21, "next:promoters": 1}),
        FunnelCounts("Obolon", {"opened": 2, "resolve:closed:inf": 2}),
    ]
    report = build_recovery(period, rows, {"Podil": 21, "Obolon": 2}, 80)
    translator = load_translator()
    english = format_recovery(report, translator, "en", by_location=True)
    assert "23 detractors · 23 cases opened" in english and "Podil: 21 cases" in english
    assert "Resolved: 2 of 23 (9%) · half within more than 30 d" in english
    assert "Obolon: 2 cases" in english and "too few to say (n=1, at least 80 needed)" in english
    russian = format_recovery(report, translator, "ru", by_location=True)
    assert "23 критика · открыто 23 кейса" in russian and "Obolon: 2 кейса" in russian
    assert "Podil: 21 кейс ·" in russian
    ukrainian = format_recovery(report, translator, "uk", by_location=True)
    assert "23 критики · відкрито 23 кейси" in ukrainian and "Obolon: 2 кейси" in ukrainian
    assert "Podil: 21 кейс ·" in ukrainian
