"""Surveys: one per scheduled visit, moved along by guarded updates.

Every answer is an UPDATE that names the step it expects, so a double press or a
press on an old message changes no row and the caller can tell.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from storage.db import Connection, id_in, multi_row
from storage.models import Customer, Survey, SurveyStatus, SurveyStep

OPEN_STATUSES = (SurveyStatus.SENT,)


def outbox_key(survey_id: int) -> str:
    """The dedupe key of the survey's own outbox row (the message that asks it)."""
    return f"survey:{survey_id}"


async def get(conn: Connection, survey_id: int) -> Survey | None:
    row = await conn.fetch_one("SELECT * FROM surveys WHERE id = :id", {"id": survey_id})
    return Survey.from_row(row) if row else None


@dataclass(slots=True)
class NewSurvey:
    visit_id: int
    customer_id: int
    location: str
    staff: str
    touchpoint: str
    day: str
    due_at: int
    deadline_at: int


_SURVEY_COLUMNS = (
    "visit_id",
    "customer_id",
    "location",
    "staff",
    "touchpoint",
    "day",
    "status",
    "step",
    "due_at",
    "deadline_at",
    "created_at",
)


async def create(
    conn: Connection,
    *,
    visit_id: int,
    customer_id: int,
    location: str,
    staff: str,
    touchpoint: str,
    day: str,
    due_at: int,
    deadline_at: int,
    now: int,
) -> int:
    new = NewSurvey(visit_id, customer_id, location, staff, touchpoint, day, due_at, deadline_at)
    return (await create_many(conn, [new], now))[visit_id]


async def create_many(conn: Connection, new: Sequence[NewSurvey], now: int) -> dict[int, int]:
    """Schedule a survey for each visit, many per statement; their ids by visit id."""
    values = [
        (
            survey.visit_id,
            survey.customer_id,
            survey.location,
            survey.staff,
            survey.touchpoint,
            survey.day,
            SurveyStatus.SCHEDULED.value,
            SurveyStep.NPS.value,
            survey.due_at,
            survey.deadline_at,
            now,
        )
        for survey in new
    ]
    ids: dict[int, int] = {}
    for chunk, params in multi_row(_SURVEY_COLUMNS, values):
        rows = await conn.fetch_all(
            f"INSERT INTO surveys ({', '.join(_SURVEY_COLUMNS)}) VALUES {chunk}"
            " RETURNING id, visit_id",
            params,
        )
        ids.update((int(row["visit_id"]), int(row["id"])) for row in rows)
    return ids


async def mark_sent(
    conn: Connection,
    survey_id: int,
    *,
    chat_id: int,
    message_id: int | None,
    language: str,
    sent_at: int,
    expires_at: int,
) -> bool:
    count = await conn.execute(
        f"UPDATE surveys SET status = '{SurveyStatus.SENT}', chat_id = :chat_id,"
        " message_id = :message_id, language = :language, sent_at = :sent_at,"
        f" expires_at = :expires_at WHERE id = :id AND status = '{SurveyStatus.SCHEDULED}'",
        {
            "chat_id": chat_id,
            "message_id": message_id,
            "language": language,
            "sent_at": sent_at,
            "expires_at": expires_at,
            "id": survey_id,
        },
    )
    return count == 1


async def recover_delivered(
    conn: Connection,
    survey_id: int,
    *,
    chat_id: int,
    message_id: int | None,
    sent_at: int,
    expires_at: int,
    unknown_prefix: str,
) -> bool:
    """Reopen a survey closed as failed with an unknown outcome: it did arrive."""
    count = await conn.execute(
        f"UPDATE surveys SET status = '{SurveyStatus.SENT}', chat_id = :chat_id,"
        " message_id = :message_id, sent_at = :sent_at, expires_at = :expires_at,"
        f" closed_reason = NULL WHERE id = :id AND status = '{SurveyStatus.FAILED}'"
        " AND closed_reason LIKE :pattern",
        {
            "chat_id": chat_id,
            "message_id": message_id,
            "sent_at": sent_at,
            "expires_at": expires_at,
            "id": survey_id,
            "pattern": unknown_prefix + "%",
        },
    )
    return count == 1


async def close(
    conn: Connection,
    survey_id: int,
    status: str,
    reason: str,
    now: int,
    *,
    unsent_only: bool = False,
) -> bool:
    """End a survey that is not finished (scheduled or sent) as expired/failed/skipped;
    `unsent_only`: only while still scheduled (a send that failed cannot end a survey
    whose customer has pressed its button already)."""
    statuses = (
        f"('{SurveyStatus.SCHEDULED}')"
        if unsent_only
        else f"('{SurveyStatus.SCHEDULED}', '{SurveyStatus.SENT}')"
    )
    count = await conn.execute(
        "UPDATE surveys SET status = :status, closed_reason = :reason, completed_at = :now"
        f" WHERE id = :id AND status IN {statuses}",
        {"status": status, "reason": reason[:200], "now": now, "id": survey_id},
    )
    return count == 1


@dataclass(slots=True, frozen=True)
class Pressed:
    """What deciding about a press on a survey's button needs, read in one query: the
    survey, its customer's Telegram id and language (known since it was queued, unlike
    the chat_id that the send's outcome writes), and the status of its outbox row."""

    survey: Survey
    owner_telegram_id: int | None
    owner_language: str | None
    send_status: str | None


async def pressed(conn: Connection, survey_id: int) -> Pressed | None:
    row = await conn.fetch_one(
        "SELECT s.*, c.telegram_id AS pressed_owner, c.language AS pressed_language,"
        " (SELECT o.status FROM outbox o WHERE o.dedupe_key = :key) AS pressed_send_status"
        " FROM surveys s JOIN customers c ON c.id = s.customer_id WHERE s.id = :id",
        {"id": survey_id, "key": outbox_key(survey_id)},
    )
    if row is None:
        return None
    return Pressed(
        Survey.from_row(row),
        row["pressed_owner"],
        row["pressed_language"],
        row["pressed_send_status"],
    )


# Each answer names the step it expects and returns the survey as it now is (None when
# no row changed: a double press, a press on an old message, a closed survey).


# The score column of each score step (its time is `<column>_at`).
_SCORE_COLUMNS = {SurveyStep.NPS: "nps", SurveyStep.CES: "ces", SurveyStep.CSAT: "csat"}


async def _answer_score(
    conn: Connection, survey_id: int, step: SurveyStep, score: int, now: int, next_step: str
) -> Survey | None:
    column = _SCORE_COLUMNS[step]
    row = await conn.fetch_one(
        f"UPDATE surveys SET {column} = :score, {column}_at = :now, step = :next"
        f" WHERE id = :id AND status = '{SurveyStatus.SENT}' AND step = '{step}'"
        " RETURNING *",
        {"score": score, "now": now, "id": survey_id, "next": SurveyStep(next_step).value},
    )
    return Survey.from_row(row) if row else None


async def answer_nps(
    conn: Connection, survey_id: int, score: int, now: int, next_step: str = SurveyStep.CES
) -> Survey | None:
    return await _answer_score(conn, survey_id, SurveyStep.NPS, score, now, next_step)


async def answer_ces(
    conn: Connection, survey_id: int, score: int, now: int, next_step: str = SurveyStep.REASON
) -> Survey | None:
    return await _answer_score(conn, survey_id, SurveyStep.CES, score, now, next_step)


async def answer_csat(
    conn: Connection, survey_id: int, score: int, now: int, next_step: str = SurveyStep.REASON
) -> Survey | None:
    return await _answer_score(conn, survey_id, SurveyStep.CSAT, score, now, next_step)


async def answer_reason(
    conn: Connection,
    survey_id: int,
    reason: str | None,
    now: int,
    *,
    message_id: int | None = None,
    steps: Sequence[str] = (SurveyStep.REASON,),
) -> Survey | None:
    """Store the reason (None = skipped) and complete the survey. `message_id`: the
    customer's message that gave it (its edits replace it); `steps`: the steps the
    survey may be at (a text at a later score step is its reason too)."""
    where = ", ".join(f"'{SurveyStep(step)}'" for step in steps)
    row = await conn.fetch_one(
        f"UPDATE surveys SET reason = :reason, reason_at = :now, step = '{SurveyStep.DONE}',"
        f" status = '{SurveyStatus.COMPLETED}', completed_at = :now,"
        " reason_message_id = :message_id"
        f" WHERE id = :id AND status = '{SurveyStatus.SENT}' AND step IN ({where})"
        " RETURNING *",
        {"reason": reason, "now": now, "id": survey_id, "message_id": message_id},
    )
    return Survey.from_row(row) if row else None


async def edit_reason(
    conn: Connection, chat_id: int, message_id: int, reason: str, now: int
) -> Survey | None:
    """Replace the reason given by this message of this chat, while the survey's answer
    window lasts (before expires_at). None when no such survey is open to edits, or
    when the reason already says exactly this."""
    row = await conn.fetch_one(
        "UPDATE surveys SET reason = :reason"
        " WHERE chat_id = :chat_id AND reason_message_id = :message_id"
        f" AND status = '{SurveyStatus.COMPLETED}' AND expires_at > :now"
        " AND reason IS NOT NULL AND reason <> :reason RETURNING *",
        {"reason": reason, "chat_id": chat_id, "message_id": message_id, "now": now},
    )
    return Survey.from_row(row) if row else None


async def awaiting_reason(conn: Connection, chat_id: int) -> Survey | None:
    """The survey whose 'why?' this chat's next text answers, if any."""
    row = await conn.fetch_one(
        f"SELECT * FROM surveys WHERE chat_id = :chat_id AND status = '{SurveyStatus.SENT}'"
        f" AND step = '{SurveyStep.REASON}' ORDER BY sent_at DESC LIMIT 1",
        {"chat_id": chat_id},
    )
    return Survey.from_row(row) if row else None


async def awaiting_score(conn: Connection, chat_id: int, steps: Sequence[str]) -> Survey | None:
    """The open survey of this chat that waits for a score (at one of `steps`), if any:
    what a typed number answers."""
    where = ", ".join(f"'{SurveyStep(step)}'" for step in steps)
    row = await conn.fetch_one(
        f"SELECT * FROM surveys WHERE chat_id = :chat_id AND status = '{SurveyStatus.SENT}'"
        f" AND step IN ({where}) ORDER BY sent_at DESC LIMIT 1",
        {"chat_id": chat_id},
    )
    return Survey.from_row(row) if row else None


async def due_to_expire(conn: Connection, now: int, limit: int = 500) -> list[Survey]:
    rows = await conn.fetch_all(
        f"SELECT * FROM surveys WHERE status = '{SurveyStatus.SENT}' AND expires_at <= :now"
        " ORDER BY expires_at LIMIT :limit",
        {"now": now, "limit": limit},
    )
    return [Survey.from_row(row) for row in rows]


async def due_for_reminder(conn: Connection, sent_before: int, limit: int = 500) -> list[Survey]:
    """Sent, not answered at all, never reminded, sent long enough ago."""
    rows = await conn.fetch_all(
        f"SELECT * FROM surveys WHERE status = '{SurveyStatus.SENT}'"
        f" AND step = '{SurveyStep.NPS}' AND reminded_at IS NULL"
        " AND sent_at <= :before ORDER BY sent_at LIMIT :limit",
        {"before": sent_before, "limit": limit},
    )
    return [Survey.from_row(row) for row in rows]


async def mark_reminded(conn: Connection, survey_id: int, now: int) -> bool:
    """Settle the survey's one reminder: queued, or dropped (quiet hours outlast it)."""
    count = await conn.execute(
        "UPDATE surveys SET reminded_at = :now WHERE id = :id AND reminded_at IS NULL",
        {"now": now, "id": survey_id},
    )
    return count == 1


async def scheduled_for_customer(conn: Connection, customer_id: int) -> list[Survey]:
    rows = await conn.fetch_all(
        f"SELECT * FROM surveys WHERE customer_id = :id AND status = '{SurveyStatus.SCHEDULED}'",
        {"id": customer_id},
    )
    return [Survey.from_row(row) for row in rows]


@dataclass(slots=True, frozen=True)
class SurveyContext:
    """A survey with who it is for and which visit it asks about."""

    survey: Survey
    customer: Customer
    visit_key: str
    visited_at: int
    # The customer's clock at the visit (bot/visits/service.py): None = the business zone.
    utc_offset_minutes: int | None = None
    # What the customer reads as the place: the catalogue's name, else the code.
    location_name: str = ""

    @property
    def place(self) -> str:
        return self.location_name or self.survey.location


async def context(conn: Connection, survey_id: int) -> SurveyContext | None:
    survey = await get(conn, survey_id)
    if survey is None:
        return None
    row = await conn.fetch_one(
        "SELECT v.visit_key, v.visited_at, v.utc_offset_minutes, l.name AS location_name"
        " FROM visits v LEFT JOIN locations l ON l.code = v.location WHERE v.id = :id",
        {"id": survey.visit_id},
    )
    customer_row = await conn.fetch_one(
        "SELECT * FROM customers WHERE id = :id", {"id": survey.customer_id}
    )
    if row is None or customer_row is None:
        return None
    return SurveyContext(
        survey,
        Customer.from_row(customer_row),
        str(row["visit_key"]),
        int(row["visited_at"]),
        row["utc_offset_minutes"],
        row["location_name"] or "",
    )


async def contexts(conn: Connection, survey_ids: Sequence[int]) -> dict[int, SurveyContext]:
    """context() of many surveys in two queries, by survey id: a broadcast renders them
    by the hundred, and each query is a round trip."""
    if not survey_ids:
        return {}
    where, ids = id_in(conn, "s.id", survey_ids)
    rows = await conn.fetch_all(
        "SELECT s.*, v.visit_key AS context_visit_key, v.visited_at AS context_visited_at,"
        " v.utc_offset_minutes AS context_offset, l.name AS context_location_name"
        " FROM surveys s JOIN visits v ON v.id = s.visit_id"
        f" LEFT JOIN locations l ON l.code = s.location WHERE {where}",
        {"ids": ids},
    )
    customer_rows = await conn.fetch_all(
        f"SELECT * FROM customers WHERE id IN (SELECT s.customer_id FROM surveys s WHERE {where})",
        {"ids": ids},
    )
    by_id = {int(row["id"]): Customer.from_row(row) for row in customer_rows}
    found: dict[int, SurveyContext] = {}
    for row in rows:
        customer = by_id.get(int(row["customer_id"]))
        if customer is not None:
            found[int(row["id"])] = SurveyContext(
                Survey.from_row(row),
                customer,
                str(row["context_visit_key"]),
                int(row["context_visited_at"]),
                row["context_offset"],
                row["context_location_name"] or "",
            )
    return found
