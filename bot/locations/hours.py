"""A location's working time: SLA clocks run only while it is open.

Opening hours are per weekday ("mon": "09:00-21:00"; a span whose end is before its
start runs past midnight; a weekday left out is closed), in the location's time zone.
A case opened at 21:50 in a shop that closes at 22:00 with a 30-minute SLA is due at
09:20 the next morning, not at 22:20."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.locations.service import WEEKDAYS, parse_span

# Far enough to cross a long holiday week; a location closed all week never ends.
_SEARCH_DAYS = 15


def _open_intervals(
    hours: Mapping[str, str], zone: ZoneInfo, first: date, days: int
) -> list[tuple[datetime, datetime]]:
    """The open intervals (UTC) of the local days from `first`, in order; a day's span
    past midnight ends on the next day."""
    intervals = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        span = hours.get(WEEKDAYS[day.weekday()])
        if not span:
            continue
        start_min, end_min = parse_span(span)
        opens = datetime.combine(day, time(start_min // 60, start_min % 60), tzinfo=zone)
        end_day = day if end_min > start_min else day + timedelta(days=1)
        if end_min == 24 * 60:
            end_day, end_min = end_day + timedelta(days=1), 0
        closes = datetime.combine(end_day, time(end_min // 60, end_min % 60), tzinfo=zone)
        intervals.append((opens.astimezone(UTC), closes.astimezone(UTC)))
    return intervals


def working_deadline(
    start: datetime, duration: timedelta, hours: Mapping[str, str], zone: ZoneInfo
) -> datetime:
    """`start` plus `duration` of open time. Without opening hours (or if they never
    open), plain time."""
    if not hours:
        return start + duration
    first = start.astimezone(zone).date() - timedelta(days=1)  # yesterday's night span
    remaining = duration
    for opens, closes in _open_intervals(hours, zone, first, _SEARCH_DAYS + 1):
        begin = max(opens, start)
        if closes <= begin:
            continue
        if begin + remaining <= closes:
            return begin + remaining
        remaining -= closes - begin
    return start + duration
