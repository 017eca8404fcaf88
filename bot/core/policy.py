"""The survey rules a business sets, as plain values, and the questions they answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from bot.config import DEFAULT_SURVEY_STEPS, QuietHours, Settings

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
    # How old a visit may be when quiet hours end and its held survey goes out.
    quiet_max_hold: timedelta = timedelta(hours=14)
    # What a customer whose Telegram language is unknown or unsupported reads.
    default_language: str = "en"
    # SURVEY_STEPS: the questions asked, in order (nps first, reason last).
    steps: tuple[str, ...] = DEFAULT_SURVEY_STEPS

    def step_after(self, step: str) -> str:
        """The step a survey moves to once `step` is answered: the next one asked. A
        step no longer asked (SURVEY_STEPS changed while the survey was open) leads to
        the reason, so that no score is asked twice."""
        if step in self.steps:
            return self.steps[self.steps.index(step) + 1]
        return "reason"

    def asks(self, step: str) -> bool:
        """Whether SURVEY_STEPS asks `step` (reports show CSAT only when it is)."""
        return step in self.steps

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
            quiet_max_hold=settings.quiet_hours_max_hold,
            default_language=settings.default_language,
            steps=settings.survey_steps,
        )

    def too_old(self, visited_at: int, due_at: int, now: int) -> bool:
        """Whether a survey is too late to send at `now` (epoch ms): past VISIT_MAX_AGE,
        or for a survey quiet hours held (due later than that), past its due time by
        as much."""
        max_age = int(self.max_age.total_seconds() * 1000)
        if due_at - visited_at > max_age:  # held by quiet hours
            return now - due_at > max_age
        return now - visited_at > max_age

    def after_quiet_hours(self, moment: datetime, utc_offset_minutes: int | None) -> datetime:
        """`moment`, or the end of the quiet window it falls into (customer's clock)."""
        return after_quiet_hours(moment, self.quiet_hours, self.zone, utc_offset_minutes)


def customer_zone(zone: ZoneInfo, utc_offset_minutes: int | None) -> timezone | ZoneInfo:
    """The visit's own offset when the till sent one, else the business zone."""
    if utc_offset_minutes is None:
        return zone
    return timezone(timedelta(minutes=utc_offset_minutes))


def after_quiet_hours(
    moment: datetime, hours: QuietHours | None, zone: ZoneInfo, utc_offset_minutes: int | None
) -> datetime:
    """`moment`, or the end of the quiet window it falls into on the customer's clock
    (`utc_offset_minutes`, else the business `zone`)."""
    if hours is None:
        return moment
    local = moment.astimezone(customer_zone(zone, utc_offset_minutes))
    if not hours.contains(local.time().replace(tzinfo=None)):
        return moment
    end = local.replace(hour=hours.end.hour, minute=hours.end.minute, second=0, microsecond=0)
    if end <= local:
        end += timedelta(days=1)
    return end.astimezone(UTC)


def is_detractor(nps: int | None, ces: int | None, ces_max: int) -> bool:
    """Who gets a manager's attention: NPS 0..6, or a CES at or below `ces_max`."""
    if nps is not None and nps <= 6:
        return True
    return ces is not None and ces <= ces_max
