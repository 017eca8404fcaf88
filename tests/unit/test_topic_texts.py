"""/topics' arguments and its numbers as a reader sees them."""

from __future__ import annotations

from datetime import date

import pytest

from bot.reports.service import Period, ReportError
from bot.reports.topic_texts import TopicsQuery, parse_topics_args, points, resolve_location

TODAY = date(2026, 11, 23)


def test_a_period_and_a_location_in_either_order() -> None:
    last_30 = Period(date(2026, 10, 25), TODAY)
    assert parse_topics_args("", TODAY) == TopicsQuery(last_30, None)
    assert parse_topics_args("7d", TODAY) == TopicsQuery(Period(date(2026, 11, 17), TODAY), None)
    assert parse_topics_args("Main St", TODAY) == TopicsQuery(last_30, "Main St")
    october = Period(date(2026, 10, 1), date(2026, 10, 31))
    assert parse_topics_args("Main St 2026-10", TODAY) == TopicsQuery(october, "Main St")
    assert parse_topics_args("2026-10-01 .. 2026-10-31 kyiv", TODAY) == TopicsQuery(
        october, "kyiv"
    )
    # A second period-looking word belongs to the location's name.
    assert parse_topics_args("7d 30d", TODAY).location == "30d"
    for wrong in ("2026-13", "2026-10-31..2026-10-01", "2027-01"):
        with pytest.raises(ReportError):
            parse_topics_args(wrong, TODAY)


def test_impact_points_carry_their_sign_in_the_readers_notation() -> None:
    assert points(-33.3, "en") == "−33.3"
    assert points(20.0, "en") == "+20.0"
    assert points(0.0, "en") == "0.0"
    assert points(-12.5, "ru") == "−12,5"
    assert points(7.25, "uk") == "+7,2"


def test_a_location_by_code_or_name_or_as_counted() -> None:
    listed = [("kyiv-1", "Kyiv Central"), ("lviv", "Lviv")]
    assert resolve_location("KYIV-1", listed, []) == "kyiv-1"
    assert resolve_location("kyiv central", listed, []) == "kyiv-1"
    assert resolve_location("main st", listed, ["Main St"]) == "Main St"
    assert resolve_location("Odesa", listed, ["Main St"]) is None
