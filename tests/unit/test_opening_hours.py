"""SLA clocks by a location's opening hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.locations.hours import working_deadline

KYIV = ZoneInfo("Europe/Kyiv")  # UTC+2 in winter, +3 in summer
SHOP = {day: "09:00-22:00" for day in ("mon", "tue", "wed", "thu", "fri", "sat")}


def kyiv(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=KYIV)


def test_a_case_opened_just_before_closing_is_due_next_morning() -> None:
    due = working_deadline(kyiv(2026, 12, 7, 21, 50), timedelta(minutes=30), SHOP, KYIV)
    assert due.astimezone(KYIV) == kyiv(2026, 12, 8, 9, 20)


def test_inside_the_day_it_is_plain_time() -> None:
    due = working_deadline(kyiv(2026, 12, 7, 12, 0), timedelta(minutes=30), SHOP, KYIV)
    assert due.astimezone(KYIV) == kyiv(2026, 12, 7, 12, 30)


def test_a_closed_sunday_is_skipped_and_hours_add_up_across_days() -> None:
    # Saturday 21:00 + 2 open hours: 1 h on Saturday, Sunday closed, 1 h on Monday.
    due = working_deadline(kyiv(2026, 12, 12, 21, 0), timedelta(hours=2), SHOP, KYIV)
    assert due.astimezone(KYIV) == kyiv(2026, 12, 14, 10, 0)


def test_before_opening_the_clock_starts_at_opening() -> None:
    due = working_deadline(kyiv(2026, 12, 7, 6, 0), timedelta(minutes=15), SHOP, KYIV)
    assert due.astimezone(KYIV) == kyiv(2026, 12, 7, 9, 15)


def test_a_night_span_runs_past_midnight() -> None:
    bar = {day: "18:00-02:00" for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    due = working_deadline(kyiv(2026, 12, 8, 1, 50), timedelta(minutes=30), bar, KYIV)
    # 10 minutes left of Monday night's span, then 20 from Tuesday 18:00.
    assert due.astimezone(KYIV) == kyiv(2026, 12, 8, 18, 20)


def test_the_clock_change_is_real_time() -> None:
    """29 March 2026: Kyiv moves from +2 to +3 at 03:00; the hours are local."""
    always = {day: "00:00-24:00" for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    start = datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    assert working_deadline(start, timedelta(hours=3), always, KYIV) == start + timedelta(hours=3)


@pytest.mark.parametrize("hours", [{}, {"mon": ""}])
def test_without_hours_or_never_open_it_is_plain_time(hours: dict[str, str]) -> None:
    start = kyiv(2026, 12, 7, 21, 50)
    assert working_deadline(start, timedelta(minutes=30), hours, KYIV) == start + timedelta(
        minutes=30
    )
