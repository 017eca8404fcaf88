"""The survey rules a business sets, as plain values, and the questions they answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from bot.config import QuietHours, Settings

# The promise of the product: the survey arrives within 20 minutes of the visit.
SURVEY_DEADLINE = timedelta(minutes=20)
# Tills' clocks drift; a visit this far "in the future" is still accepted as now.
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class SurveyPolicy:
    delay: timedelta
    cooldown: timedelta
    max_age: timedelta
    expires_after: timedelta
    reminder_after: timedelta | None
    quiet_hours: QuietHours | None
    zone: ZoneInfo
    detractor_ces_max: int = 2

    @classmethod
    def from_settings(cls, settings: Settings) -> SurveyPolicy:
        return cls(
            delay=timedelta(seconds=settings.survey_delay_seconds),
            cooldown=timedelta(days=settings.survey_cooldown_days),
            max_age=settings.visit_max_age,
            expires_after=settings.survey_expires_after,
            reminder_after=settings.reminder_after or None,
            quiet_hours=settings.quiet_hours,
            zone=settings.zone,
            detractor_ces_max=settings.detractor_ces_max,
        )

    def customer_zone(self, utc_offset_minutes: int | None) -> timezone | ZoneInfo:
        """The visit's own offset when the till sent one, else the business zone."""
        if utc_offset_minutes is None:
            return self.zone
        return timezone(timedelta(minutes=utc_offset_minutes))

    def after_quiet_hours(self, moment: datetime, utc_offset_minutes: int | None) -> datetime:
        """`moment`, or the end of the quiet window it falls into (customer's clock)."""
        if self.quiet_hours is None:
            return moment
        local = moment.astimezone(self.customer_zone(utc_offset_minutes))
        if not self.quiet_hours.contains(local.time().replace(tzinfo=None)):
            return moment
        end = local.replace(
            hour=self.quiet_hours.end.hour,
            minute=self.quiet_hours.end.minute,
            second=0,
            microsecond=0,
        )
        if end <= local:
            end += timedelta(days=1)
        return end.astimezone(UTC)


def is_detractor(nps: int | None, ces: int | None, ces_max: int) -> bool:
    """Who gets a manager's attention: NPS 0..6, or a CES at or below `ces_max`."""
    if nps is not None and nps <= 6:
        return True
    return ces is not None and ces <= ces_max
