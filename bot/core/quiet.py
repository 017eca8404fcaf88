"""Quiet hours for every message the bot sends a customer on its own initiative.

Whoever schedules such a message (the survey, its reminder, an anniversary thank-you,
the case follow-up) takes its due time from here: a moment inside QUIET_HOURS on the
customer's clock becomes the end of that window. The customer's clock is the UTC
offset of their most recent visit when the till sent one, else the business TIMEZONE.

The rule is applied when the outbox row is written, not when it is sent: the row then
carries the time it may go, the worker needs no per-row zone lookups, and a feature
can decide what a deferral means for it (a reminder deferred past its survey's expiry
is dropped). Messages to managers, and a manager's own message to a customer (a
reply to a human action, sent when they press Send), are never deferred.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.config import QuietHours, Settings
from bot.core.clock import from_ms, to_ms
from bot.core.policy import after_quiet_hours
from storage import visits
from storage.db import Connection


@dataclass(frozen=True, slots=True)
class CustomerQuietHours:
    hours: QuietHours | None
    zone: ZoneInfo

    @classmethod
    def from_settings(cls, settings: Settings) -> CustomerQuietHours:
        return cls(settings.quiet_hours, settings.zone)

    async def due_at(self, conn: Connection, customer_id: int, moment: int) -> int:
        """When a message to this customer wanted at `moment` (epoch ms) may go."""
        return (await self.due_ats(conn, [customer_id], moment)).get(customer_id, moment)

    async def due_ats(
        self, conn: Connection, customer_ids: Sequence[int], moment: int
    ) -> dict[int, int]:
        """`due_at` of many customers in one query, by customer id."""
        if self.hours is None:
            return dict.fromkeys(customer_ids, moment)
        offsets = await visits.latest_offsets(conn, customer_ids)
        wanted = from_ms(moment)
        due: dict[int, int] = {}
        for customer_id in customer_ids:
            at = after_quiet_hours(wanted, self.hours, self.zone, offsets.get(customer_id))
            # Unchanged moments keep their exact milliseconds (no float round trip).
            due[customer_id] = moment if at == wanted else to_ms(at)
        return due
