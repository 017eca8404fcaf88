"""Plain dataclasses that repositories return, and the values of the status columns;
nothing here knows SQL or aiogram."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any, Self

# A StrEnum member is its string: it equals it, formats as it and is stored as it, so
# SQL may embed a member (f"status = '{OutboxStatus.SENT}'") or bind it as a parameter.


class CaseStatus(StrEnum):
    """A case's life: new -> taken -> resolved, or new/taken -> closed (no fix)."""

    NEW = "new"
    TAKEN = "taken"
    RESOLVED = "resolved"
    CLOSED = "closed"


class OutboxStatus(StrEnum):
    """outbox.status: pending -> claimed (leased) -> sending -> sent | failed | expired,
    or back to pending for a retry (storage/outbox.py). An alert that waits for a
    folded message is held, which the delivery worker never claims (alert_folds.py)."""

    PENDING = "pending"
    CLAIMED = "claimed"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    EXPIRED = "expired"
    HELD = "held"


class SurveyStatus(StrEnum):
    """surveys.status: scheduled -> sent -> completed, or expired / failed / skipped.
    A sent survey stays sent while its answers move `step`, until the last one."""

    SCHEDULED = "scheduled"
    SENT = "sent"
    COMPLETED = "completed"
    EXPIRED = "expired"
    FAILED = "failed"
    SKIPPED = "skipped"


class SurveyStep(StrEnum):
    """surveys.step: the question a sent survey waits for; done once completed."""

    NPS = "nps"
    CES = "ces"
    CSAT = "csat"
    REASON = "reason"
    DONE = "done"


class AnniversarySendStatus(StrEnum):
    """anniversary_sends.status: claimed -> queued (outbox row written) -> sent | failed."""

    CLAIMED = "claimed"
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


class AnniversaryRunStatus(StrEnum):
    """anniversary_runs.status: running -> done, or cancelled."""

    RUNNING = "running"
    DONE = "done"
    CANCELLED = "cancelled"


class AnniversaryRunMode(StrEnum):
    """anniversary_runs.mode: an admin pressed Send, or ANNIVERSARY_AUTO_SEND_AT."""

    MANUAL = "manual"
    AUTO = "auto"


# Each dataclass's field names, found once (dataclasses.fields is slow enough to show
# when a statement returns a thousand rows).
_FIELD_NAMES: dict[type, frozenset[str]] = {}


class _FromRow:
    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Self:
        names = _FIELD_NAMES.get(cls)
        if names is None:
            names = _FIELD_NAMES[cls] = frozenset(f.name for f in fields(cls))  # type: ignore[arg-type]
        return cls(**{key: value for key, value in row.items() if key in names})


@dataclass(slots=True)
class Customer(_FromRow):
    id: int
    telegram_id: int | None
    external_id: str | None
    phone: str | None
    name: str | None
    username: str | None
    language: str | None
    customer_since: str | None
    since_md: str | None
    link_token: str | None
    opted_out: int
    unreachable: int
    unreachable_reason: str | None
    last_surveyed_at: int | None
    forgotten_at: int | None
    created_at: int
    updated_at: int


@dataclass(slots=True)
class Visit(_FromRow):
    id: int
    visit_key: str
    customer_id: int | None
    visited_at: int
    utc_offset_minutes: int | None
    location: str
    staff: str
    touchpoint: str
    source: str
    outcome: str
    skip_reason: str | None
    day: str
    created_at: int


@dataclass(slots=True)
class Survey(_FromRow):
    id: int
    visit_id: int
    customer_id: int
    location: str
    staff: str
    touchpoint: str
    day: str
    status: str
    step: str
    due_at: int
    deadline_at: int
    sent_at: int | None
    expires_at: int | None
    chat_id: int | None
    message_id: int | None
    language: str | None
    nps: int | None
    ces: int | None
    reason: str | None
    nps_at: int | None
    ces_at: int | None
    reason_at: int | None
    completed_at: int | None
    reminded_at: int | None
    closed_reason: str | None
    created_at: int
    # The customer's message that gave the reason (its edits replace it while open).
    reason_message_id: int | None = None
    # CSAT (1-5), when SURVEY_STEPS asks it.
    csat: int | None = None
    csat_at: int | None = None


@dataclass(slots=True)
class OutboxItem(_FromRow):
    id: int
    kind: str
    dedupe_key: str | None
    priority: int
    chat_id: int
    ref_id: int | None
    payload: str
    due_at: int
    deadline_at: int | None
    status: str
    attempts: int
    lease_owner: str | None
    lease_until: int | None
    last_error: str | None
    message_id: int | None
    created_at: int
    finished_at: int | None

    @property
    def data(self) -> dict[str, Any]:
        return json.loads(self.payload) if self.payload else {}
