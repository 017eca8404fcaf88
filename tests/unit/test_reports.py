"""Report rules: the NPS formulas by hand, periods, segments, comparisons, the drop
alert and the translated message."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pytest

from bot.i18n import load_translator
from bot.reports.service import (
    MAX_PERIOD_DAYS,
    NpsDrop,
    Period,
    Report,
    ReportError,
    SegmentBy,
    build_report,
    detect_nps_drop,
    drop_alert_periods,
    find_nps_drops,
    nps_drop_dedupe_key,
    nps_margin,
    nps_result,
    nps_score,
    parse_period,
    parse_segment,
    parse_stats_args,
    report_to_dict,
)
from bot.reports.texts import (
    format_error,
    format_nps_drop,
    format_report,
)
from storage.reports import RollupTotals

TODAY = date(2026, 11, 23)


def totals(
    key: str = "",
    promoters: int = 0,
    passives: int = 0,
    detractors: int = 0,
    *,
    sent: int | None = None,
    ces: tuple[int, int, int] = (0, 0, 0),
) -> RollupTotals:
    answered = promoters + passives + detractors
    ces_sum, ces_count, ces_easy = ces
    return RollupTotals(
        key,
        sent=answered if sent is None else sent,
        answered=answered,
        promoters=promoters,
        passives=passives,
        detractors=detractors,
        ces_sum=ces_sum,
        ces_count=ces_count,
        ces_easy=ces_easy,
    )


# --- formulas ----------------------------------------------------------------------


def test_all_promoters_is_plus_100_with_no_spread() -> None:
    result = nps_result(120, 0, 0, min_sample=80)
    assert result.score == 100
    assert result.margin == 0.0
    assert result.enough


def test_all_detractors_is_minus_100() -> None:
    result = nps_result(0, 0, 95, min_sample=80)
    assert result.score == -100
    assert result.margin == 0.0


def test_margin_of_a_known_mix_by_hand() -> None:
    # 50 promoters, 30 passives, 20 detractors: p+ = .5, p- = .2
    # variance = .5 + .2 - (.5 - .2)^2 = .61; SE = sqrt(.61 / 100) = .078102
    # margin = 1.96 * .078102 * 100 = 15.308
    result = nps_result(50, 30, 20, min_sample=80)
    assert result.score == 30
    assert result.margin == pytest.approx(15.308, abs=0.001)
    assert result.margin_points == 16


def test_margin_of_an_even_split_is_the_largest() -> None:
    # half promoters, half detractors: variance 1, SE = sqrt(1 / 100) = .1 -> 19.6
    assert nps_margin(50, 0, 50) == pytest.approx(19.6)
    assert nps_score(50, 50, 100) == 0


def test_below_min_sample_is_not_enough_but_still_counted() -> None:
    result = nps_result(60, 10, 9, min_sample=80)
    assert result.n == 79
    assert not result.enough
    assert nps_result(60, 10, 10, min_sample=80).enough


def test_nps_rounds_half_away_from_zero() -> None:
    assert nps_score(1, 0, 8) == 13  # 12.5
    assert nps_score(0, 1, 8) == -13  # -12.5
    assert nps_score(1, 0, 3) == 33  # 33.3
    assert nps_score(2, 0, 3) == 67  # 66.7


def test_no_answers_has_no_score() -> None:
    result = nps_result(0, 0, 0, min_sample=80)
    assert result.score is None and result.margin is None and not result.enough
    with pytest.raises(ValueError):
        nps_score(0, 0, 0)


# --- periods -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("", date(2026, 10, 25), TODAY),
        ("7d", date(2026, 11, 17), TODAY),
        ("30D", date(2026, 10, 25), TODAY),
        ("1d", TODAY, TODAY),
        ("2026-10", date(2026, 10, 1), date(2026, 10, 31)),
        ("2026-02", date(2026, 2, 1), date(2026, 2, 28)),
        ("2026-11", date(2026, 11, 1), TODAY),
        ("2026-10-01..2026-10-31", date(2026, 10, 1), date(2026, 10, 31)),
        (" 2026-10-05…2026-10-06 ", date(2026, 10, 5), date(2026, 10, 6)),
        ("2026-11-20..2026-12-31", date(2026, 11, 20), TODAY),
        ("2026-10-05", date(2026, 10, 5), date(2026, 10, 5)),
    ],
)
def test_parse_period(text: str, start: date, end: date) -> None:
    assert parse_period(text, TODAY) == Period(start, end)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("yesterday", "reports-error-period"),
        ("7x", "reports-error-period"),
        ("0d", "reports-error-length"),
        ("5000d", "reports-error-length"),
        ("2026-13", "reports-error-date"),
        ("0000-01", "reports-error-date"),
        ("2026-02-30..2026-03-01", "reports-error-date"),
        ("2026-10-01..", "reports-error-date"),
        ("2026-10-31..2026-10-01", "reports-error-reversed"),
        ("2020-01-01..2026-10-01", "reports-error-length"),
        ("2026-12", "reports-error-future"),
        ("2027-01-01..2027-01-31", "reports-error-future"),
    ],
)
def test_bad_periods_raise_a_clear_error(text: str, key: str) -> None:
    with pytest.raises(ReportError) as caught:
        parse_period(text, TODAY)
    assert caught.value.key == key
    message = format_error(caught.value, load_translator(), "en")
    assert message != key and "{" not in message


def test_longest_period_is_accepted() -> None:
    assert parse_period(f"{MAX_PERIOD_DAYS}d", TODAY).days == MAX_PERIOD_DAYS


def test_previous_period_has_the_same_length_or_is_the_previous_month() -> None:
    assert Period(date(2026, 11, 17), TODAY).previous() == Period(
        date(2026, 11, 10), date(2026, 11, 16)
    )
    assert Period(date(2026, 10, 1), date(2026, 10, 31)).previous() == Period(
        date(2026, 9, 1), date(2026, 9, 30)
    )
    assert Period(date(2026, 3, 1), date(2026, 3, 31)).previous() == Period(
        date(2026, 2, 1), date(2026, 2, 28)
    )
    # A running month is cut at today, so it compares with as many days before it.
    running = parse_period("2026-11", TODAY)
    assert running.previous() == Period(date(2026, 10, 9), date(2026, 10, 31))


def test_segments() -> None:
    assert parse_segment("location") is SegmentBy.LOCATION
    assert parse_segment("Staff") is SegmentBy.STAFF
    assert parse_segment("touchpoints") is SegmentBy.TOUCHPOINT
    assert parse_segment("none") is SegmentBy.NONE
    with pytest.raises(ReportError) as caught:
        parse_segment("city")
    assert caught.value.key == "reports-error-segment"


@pytest.mark.parametrize(
    ("text", "period", "segment"),
    [
        ("", Period(date(2026, 10, 25), TODAY), SegmentBy.NONE),
        ("30d location", Period(date(2026, 10, 25), TODAY), SegmentBy.LOCATION),
        ("staff 2026-10", Period(date(2026, 10, 1), date(2026, 10, 31)), SegmentBy.STAFF),
        ("touchpoint", Period(date(2026, 10, 25), TODAY), SegmentBy.TOUCHPOINT),
        (
            "2026-10-01 .. 2026-10-15  location",
            Period(date(2026, 10, 1), date(2026, 10, 15)),
            SegmentBy.LOCATION,
        ),
    ],
)
def test_parse_stats_args(text: str, period: Period, segment: SegmentBy) -> None:
    query = parse_stats_args(text, TODAY)
    assert (query.period, query.segment) == (period, segment)


def test_parse_stats_args_defaults_and_errors() -> None:
    assert parse_stats_args("90d", TODAY, default_segment=SegmentBy.LOCATION).segment is (
        SegmentBy.LOCATION
    )
    for text, key in [
        ("7d 30d", "reports-error-arguments"),
        ("location staff", "reports-error-arguments"),
        ("location banana", "reports-error-period"),
    ]:
        with pytest.raises(ReportError) as caught:
            parse_stats_args(text, TODAY)
        assert caught.value.key == key


# --- building a report ------------------------------------------------------------------


def _by_location_report() -> Report:
    period = Period(date(2026, 11, 1), date(2026, 11, 14))
    current = [
        totals("Airport", 10, 2, 3),
        totals("Centre", 70, 20, 10, sent=200, ces=(500, 100, 80)),
        totals("Mall", 40, 20, 40, sent=150, ces=(300, 80, 30)),
    ]
    previous = [totals("Centre", 60, 20, 20), totals("Mall", 70, 20, 10)]
    return build_report(period, SegmentBy.LOCATION, current, previous, min_sample=80)


def test_segment_report_numbers_and_order() -> None:
    report = _by_location_report()
    assert [item.key for item in report.segments] == ["Mall", "Centre", "Airport"]
    mall, centre, airport = report.segments
    assert mall.nps.score == 0 and mall.delta_nps == -60 and mall.delta_significant
    assert centre.nps.score == 60 and centre.delta_nps == 20
    assert centre.ces_mean == 5.0 and centre.ces_easy_share == 0.8
    assert centre.response_rate == 0.5
    assert not airport.nps.enough and airport.delta_nps is None
    assert report.weakest is mall
    total = report.total
    assert (total.nps.promoters, total.nps.passives, total.nps.detractors) == (120, 42, 53)
    assert total.nps.score == round(100 * 67 / 215)
    assert total.totals.sent == 15 + 200 + 150
    assert total.ces_mean == pytest.approx(800 / 180)
    assert report.previous_period == Period(date(2026, 10, 18), date(2026, 10, 31))


def test_a_change_within_the_margin_is_not_significant() -> None:
    report = build_report(
        Period(date(2026, 11, 1), date(2026, 11, 7)),
        SegmentBy.NONE,
        [totals("", 50, 30, 20)],
        [totals("", 45, 35, 20)],
        min_sample=80,
    )
    assert report.total.delta_nps == 5
    assert report.total.delta_significant is False
    assert report.segments == ()


def test_message_is_honest_about_small_samples() -> None:
    text = format_report(_by_location_report(), load_translator(), "en")
    assert "Airport: not enough answers (n=15, at least 80 needed)" in text
    assert "Mall: NPS 0 ±" in text and "-60 vs the previous period" in text
    assert "Needs attention first: Mall" in text
    assert "120 promoters · 42 passives · 53 detractors" in text
    assert "CES 4.4 of 7" in text
    assert "response rate 59%" in text


@pytest.mark.parametrize("language", ["en", "ru", "uk"])
def test_message_in_every_language_has_no_missing_keys(language: str) -> None:
    translator = load_translator()
    text = format_report(_by_location_report(), translator, language)
    assert "reports-" not in text and "{" not in text
    assert "±" in text


def test_russian_plural_forms() -> None:
    translator = load_translator()
    one = translator.get("ru", "reports-mix", promoters=1, passives=2, detractors=5)
    assert one == "1 промоутер · 2 нейтрала · 5 критиков"
    many = translator.get("uk", "reports-mix", promoters=21, passives=3, detractors=11)
    assert many == "21 промоутер · 3 нейтрали · 11 критиків"
    ces = translator.get("ru", "reports-ces", mean=5.83, easy=80, n=22)
    assert "5,8" in ces and "22 ответа" in ces


def test_report_keys_exist_in_all_languages() -> None:
    translator = load_translator()
    english = {key for key in translator.keys("en") if key.startswith("reports-")}
    assert len(english) > 30
    for language in ("ru", "uk"):
        assert english == {key for key in translator.keys(language) if key.startswith("reports-")}


def test_empty_period_message() -> None:
    report = build_report(
        Period(date(2026, 11, 1), date(2026, 11, 7)), SegmentBy.LOCATION, [], [], min_sample=80
    )
    assert report.is_empty and report.weakest is None
    assert "No surveys were sent" in format_report(report, load_translator(), "en")


def test_report_to_dict_hides_unreliable_scores() -> None:
    data = report_to_dict(_by_location_report())
    airport = next(item for item in data["segments"] if item["key"] == "Airport")
    assert airport["nps"] is None and airport["nps_unreliable"] == 47 and airport["n"] == 15
    assert data["weakest"] == "Mall"
    assert data["total"]["previous"]["n"] == 200


# --- the drop alert ------------------------------------------------------------------


def test_drop_alert_windows_end_yesterday() -> None:
    recent, baseline = drop_alert_periods(TODAY)
    assert recent == Period(date(2026, 11, 16), date(2026, 11, 22))
    assert baseline == Period(date(2026, 10, 19), date(2026, 11, 15))


def _drop(recent: RollupTotals, baseline: RollupTotals, threshold: int = 15) -> NpsDrop | None:
    recent_period, baseline_period = drop_alert_periods(TODAY)
    return detect_nps_drop(
        recent,
        baseline,
        threshold=threshold,
        min_sample=80,
        recent_period=recent_period,
        baseline_period=baseline_period,
    )


def test_drop_of_more_than_threshold_with_enough_answers_alerts() -> None:
    # before: 60 - 10 = 50; after: 45 - 25 = 20 -> fell 30 points
    drop = _drop(totals("Mall", 45, 30, 25), totals("Mall", 60, 30, 10))
    assert drop is not None and drop.drop == 30 and drop.location == "Mall"
    text = format_nps_drop(drop, load_translator(), "en")
    assert "Mall fell by 30 points" in text and "n=100" in text
    # Found on Monday 2026-11-23: that week's key, the same all week long.
    assert nps_drop_dedupe_key(drop) == "nps-drop:2026-W48:Mall"
    for later in range(1, 7):
        recent, baseline = drop_alert_periods(TODAY + timedelta(days=later))
        moved = NpsDrop("Mall", drop.recent, drop.baseline, recent, baseline)
        assert nps_drop_dedupe_key(moved) == nps_drop_dedupe_key(drop)
    recent, baseline = drop_alert_periods(TODAY + timedelta(days=7))
    next_week = NpsDrop("Mall", drop.recent, drop.baseline, recent, baseline)
    assert nps_drop_dedupe_key(next_week) == "nps-drop:2026-W49:Mall"


def test_no_drop_alert_at_threshold_or_with_too_few_answers() -> None:
    # exactly 15 points is not "more than 15"
    assert _drop(totals("A", 45, 45, 10), totals("A", 60, 30, 10)) is None
    assert _drop(totals("A", 44, 46, 10), totals("A", 60, 30, 10)) is not None
    # a big fall, but 79 answers in the last week
    assert _drop(totals("A", 20, 29, 30), totals("A", 60, 30, 10)) is None
    # a rise never alerts
    assert _drop(totals("A", 90, 10, 0), totals("A", 60, 30, 10)) is None


def test_find_nps_drops_over_locations() -> None:
    recent_period, baseline_period = drop_alert_periods(TODAY)
    drops = find_nps_drops(
        [totals("A", 30, 30, 40), totals("B", 60, 30, 10), totals("New", 0, 0, 100)],
        [totals("A", 60, 30, 10), totals("B", 60, 30, 10)],
        threshold=15,
        min_sample=80,
        recent_period=recent_period,
        baseline_period=baseline_period,
    )
    assert [(drop.location, drop.drop) for drop in drops] == [("A", 60)]


def test_margin_matches_formula_for_random_mixes() -> None:
    for promoters, passives, detractors in [(3, 4, 5), (100, 0, 1), (7, 80, 13)]:
        n = promoters + passives + detractors
        mean = (promoters - detractors) / n
        # the variance of +1/0/-1 values around their mean
        variance = (
            promoters * (1 - mean) ** 2 + passives * mean**2 + detractors * (1 + mean) ** 2
        ) / n
        expected = 1.96 * math.sqrt(variance / n) * 100
        assert nps_margin(promoters, passives, detractors) == pytest.approx(expected)
