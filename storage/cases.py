"""The cases and case_events tables: every detractor's case and each step taken on it.

State changes are conditional UPDATEs whose WHERE clause is the rule they enforce
(`status = 'new'` for taking, ...), so two managers racing on one case cannot both
win: the caller reads the rowcount, never a value it read earlier.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from storage.db import Connection, id_in
from storage.models import CaseStatus, _FromRow

OPEN_STATUSES = (CaseStatus.NEW, CaseStatus.TAKEN)


@dataclass(slots=True)
class Case(_FromRow):
    id: int
    # None for unprompted feedback: a case without a survey (see 0025_unprompted.sql).
    survey_id: int | None
    customer_id: int
    status: str
    owner_id: int | None
    owner_name: str | None
    opened_at: int
    taken_at: int | None
    resolved_at: int | None
    closed_at: int | None
    closed_reason: str | None
    resolution_note: str | None
    take_due_at: int
    resolve_due_at: int | None
    escalated_take_at: int | None
    escalated_resolve_at: int | None
    alert_chat_id: int | None
    alert_message_id: int | None
    notify_customer: int
    followup_due_at: int | None
    followup_sent_at: int | None
    followup_answer: str | None
    followup_at: int | None
    pending_action: str | None
    pending_by_id: int | None
    pending_at: int | None
    updated_at: int
    # The message that asked for the pending text; see 0010_case_prompts.sql.
    pending_prompt_chat_id: int | None = None
    pending_prompt_message_id: int | None = None
    # The template of a pending template action and its previewed text; see
    # 0017_case_drafts.sql.
    pending_template: str | None = None
    pending_draft: str | None = None
    # Closing the loop, measured; see 0013_recovery.sql.
    first_contact_at: int | None = None
    reopened_count: int = 0
    reopened_at: int | None = None
    # Unprompted feedback's location ('' for none); see 0025_unprompted.sql.
    unprompted_location: str | None = None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def unprompted(self) -> bool:
        """Feedback the customer wrote unasked: no survey, no score."""
        return self.survey_id is None


@dataclass(frozen=True, slots=True)
class Prompt(_FromRow):
    """A message of the bot with buttons that belong to a manager's pending action."""

    chat_id: int
    message_id: int


@dataclass(slots=True)
class CaseEvent(_FromRow):
    id: int
    case_id: int
    at: int
    actor_id: int | None
    actor_name: str | None
    kind: str
    text: str | None


@dataclass(slots=True)
class CaseCard(_FromRow):
    """A case with what the alert shows: the answer, the customer and the visit."""

    case: Case
    nps: int | None
    ces: int | None
    reason: str | None
    survey_language: str | None
    location: str
    staff: str
    touchpoint: str
    visited_at: int | None
    customer_name: str | None
    customer_username: str | None
    customer_phone: str | None
    customer_telegram_id: int | None
    customer_language: str | None

    @property
    def language(self) -> str | None:
        """The language to address the customer in: the survey's, else the profile's."""
        return self.survey_language or self.customer_language


@dataclass(slots=True)
class CaseListItem(_FromRow):
    """One line of /cases."""

    id: int
    status: str
    owner_name: str | None
    opened_at: int
    taken_at: int | None
    customer_name: str | None
    nps: int | None
    ces: int | None
    location: str
    # Milliseconds since the case was opened, at the `now` the list was read.
    age_ms: int


@dataclass(slots=True)
class FollowupTarget(_FromRow):
    """A resolved case whose "did we fix it?" question is due, and where to ask it."""

    case_id: int
    customer_id: int
    telegram_id: int
    language: str | None
    followup_due_at: int


_CASE_COLUMNS = ", ".join(f"c.{name}" for name in Case.__dataclass_fields__)
# Where a case belongs: its survey's location, or an unprompted case's own.
_LOCATION = "COALESCE(s.location, c.unprompted_location, '')"


async def insert(
    conn: Connection, *, survey_id: int, customer_id: int, now: int, take_due_at: int
) -> int | None:
    """A new case for the survey; None when the survey already has one."""
    row = await conn.fetch_one(
        "INSERT INTO cases (survey_id, customer_id, status, opened_at, take_due_at, updated_at)"
        " VALUES (:survey_id, :customer_id, 'new', :now, :take_due_at, :now)"
        " ON CONFLICT (survey_id) DO NOTHING RETURNING id",
        {
            "survey_id": survey_id,
            "customer_id": customer_id,
            "now": now,
            "take_due_at": take_due_at,
        },
    )
    return int(row["id"]) if row else None


async def insert_unprompted(
    conn: Connection, *, customer_id: int, location: str, now: int, take_due_at: int
) -> int | None:
    """A new unprompted case for the customer; None when one of theirs is open already.
    The customer's row is locked first, so that two messages racing (two instances)
    open one case: the second waits, then finds the first's."""
    await conn.execute(
        "UPDATE customers SET updated_at = updated_at WHERE id = :id", {"id": customer_id}
    )
    if await open_unprompted(conn, customer_id) is not None:
        return None
    row = await conn.fetch_one(
        "INSERT INTO cases (survey_id, customer_id, status, opened_at, take_due_at,"
        " updated_at, unprompted_location)"
        " VALUES (NULL, :customer_id, 'new', :now, :take_due_at, :now, :location)"
        " RETURNING id",
        {
            "customer_id": customer_id,
            "now": now,
            "take_due_at": take_due_at,
            "location": location,
        },
    )
    assert row is not None
    return int(row["id"])


async def open_unprompted(conn: Connection, customer_id: int) -> Case | None:
    """The customer's open unprompted case, if any (at most one)."""
    row = await conn.fetch_one(
        f"SELECT {_CASE_COLUMNS} FROM cases c"
        " WHERE c.customer_id = :customer_id AND c.survey_id IS NULL"
        " AND c.status IN ('new', 'taken') ORDER BY c.id LIMIT 1",
        {"customer_id": customer_id},
    )
    return Case.from_row(row) if row else None


async def first_message(conn: Connection, case_id: int) -> CaseEvent | None:
    """The customer's first message in the case (what an unprompted card shows)."""
    row = await conn.fetch_one(
        "SELECT id, case_id, at, actor_id, actor_name, kind, text FROM case_events"
        " WHERE case_id = :case_id AND kind = 'message_in' ORDER BY at, id LIMIT 1",
        {"case_id": case_id},
    )
    return CaseEvent.from_row(row) if row else None


async def get(conn: Connection, case_id: int) -> Case | None:
    row = await conn.fetch_one(
        f"SELECT {_CASE_COLUMNS} FROM cases c WHERE c.id = :id", {"id": case_id}
    )
    return Case.from_row(row) if row else None


async def get_by_survey(conn: Connection, survey_id: int) -> Case | None:
    row = await conn.fetch_one(
        f"SELECT {_CASE_COLUMNS} FROM cases c WHERE c.survey_id = :survey_id",
        {"survey_id": survey_id},
    )
    return Case.from_row(row) if row else None


async def find_by_alert(conn: Connection, chat_id: int, message_id: int) -> Case | None:
    """The case whose alert this message is; None for a folded alert, which lists
    several cases, so that a reply to it is never sent to a customer picked at random."""
    rows = await conn.fetch_all(
        f"SELECT {_CASE_COLUMNS} FROM cases c"
        " WHERE c.alert_chat_id = :chat_id AND c.alert_message_id = :message_id LIMIT 2",
        {"chat_id": chat_id, "message_id": message_id},
    )
    return Case.from_row(rows[0]) if len(rows) == 1 else None


async def latest_for_customer(
    conn: Connection, customer_id: int, statuses: tuple[str, ...]
) -> Case | None:
    """The customer's most recently opened case among `statuses`."""
    names = {f"s{i}": status for i, status in enumerate(statuses)}
    placeholders = ", ".join(f":{name}" for name in names)
    row = await conn.fetch_one(
        f"SELECT {_CASE_COLUMNS} FROM cases c"
        f" WHERE c.customer_id = :customer_id AND c.status IN ({placeholders})"
        " ORDER BY c.opened_at DESC, c.id DESC LIMIT 1",
        {"customer_id": customer_id, **names},
    )
    return Case.from_row(row) if row else None


async def latest_resolved_for_customer(
    conn: Connection, customer_id: int, since: int
) -> Case | None:
    """The customer's case resolved most recently, if at or after `since`."""
    row = await conn.fetch_one(
        f"SELECT {_CASE_COLUMNS} FROM cases c"
        " WHERE c.customer_id = :customer_id AND c.status = 'resolved'"
        " AND c.resolved_at >= :since"
        " ORDER BY c.resolved_at DESC, c.id DESC LIMIT 1",
        {"customer_id": customer_id, "since": since},
    )
    return Case.from_row(row) if row else None


async def card(conn: Connection, case_id: int) -> CaseCard | None:
    row = await conn.fetch_one(
        f"SELECT {_CASE_COLUMNS}, s.nps, s.ces, s.reason, s.language AS survey_language,"
        f" {_LOCATION} AS location, COALESCE(s.staff, '') AS staff,"
        " COALESCE(s.touchpoint, '') AS touchpoint, v.visited_at,"
        " cu.name AS customer_name, cu.username AS customer_username,"
        " cu.phone AS customer_phone, cu.telegram_id AS customer_telegram_id,"
        " cu.language AS customer_language"
        " FROM cases c"
        " LEFT JOIN surveys s ON s.id = c.survey_id"
        " JOIN customers cu ON cu.id = c.customer_id"
        " LEFT JOIN visits v ON v.id = s.visit_id"
        " WHERE c.id = :id",
        {"id": case_id},
    )
    if row is None:
        return None
    return CaseCard.from_row({**row, "case": Case.from_row(row)})


async def set_alert(
    conn: Connection, case_id: int, chat_id: int, message_id: int, now: int
) -> int:
    return await conn.execute(
        "UPDATE cases SET alert_chat_id = :chat_id, alert_message_id = :message_id,"
        " updated_at = :now WHERE id = :id",
        {"id": case_id, "chat_id": chat_id, "message_id": message_id, "now": now},
    )


async def try_take(
    conn: Connection,
    case_id: int,
    *,
    owner_id: int,
    owner_name: str,
    now: int,
    resolve_due_at: int,
) -> bool:
    """new -> taken; False when the case is not new any more (someone was first)."""
    count = await conn.execute(
        "UPDATE cases SET status = 'taken', owner_id = :owner_id, owner_name = :owner_name,"
        " taken_at = COALESCE(taken_at, :now), resolve_due_at = :resolve_due_at, updated_at = :now"
        " WHERE id = :id AND status = 'new'",
        {
            "id": case_id,
            "owner_id": owner_id,
            "owner_name": owner_name,
            "now": now,
            "resolve_due_at": resolve_due_at,
        },
    )
    return count == 1


async def try_resolve(
    conn: Connection,
    case_id: int,
    *,
    actor_id: int,
    is_admin: bool,
    now: int,
    note: str,
    notify_customer: bool,
    followup_due_at: int | None,
) -> bool:
    """taken -> resolved, by the owner (or an admin)."""
    count = await conn.execute(
        "UPDATE cases SET status = 'resolved', resolved_at = :now, resolution_note = :note,"
        " notify_customer = :notify, followup_due_at = :followup_due_at,"
        # A reopened case's earlier follow-up is over: this resolution may ask again.
        " followup_sent_at = NULL, followup_answer = NULL, followup_at = NULL,"
        " pending_action = NULL, pending_by_id = NULL, pending_at = NULL,"
        " pending_prompt_chat_id = NULL, pending_prompt_message_id = NULL, updated_at = :now"
        " WHERE id = :id AND status = 'taken' AND (owner_id = :actor_id OR :is_admin = 1)",
        {
            "id": case_id,
            "actor_id": actor_id,
            "is_admin": int(is_admin),
            "now": now,
            "note": note,
            "notify": int(notify_customer),
            "followup_due_at": followup_due_at,
        },
    )
    return count == 1


async def try_close(
    conn: Connection,
    case_id: int,
    *,
    actor_id: int,
    actor_name: str,
    is_admin: bool,
    now: int,
    reason: str,
) -> bool:
    """new/taken -> closed. A taken case only by its owner (or an admin); an untaken
    one by any manager, who then stands as its owner."""
    count = await conn.execute(
        "UPDATE cases SET status = 'closed', closed_at = :now, closed_reason = :reason,"
        " owner_id = COALESCE(owner_id, :actor_id),"
        " owner_name = COALESCE(owner_name, :actor_name),"
        " pending_action = NULL, pending_by_id = NULL, pending_at = NULL,"
        " pending_prompt_chat_id = NULL, pending_prompt_message_id = NULL, updated_at = :now"
        " WHERE id = :id AND (status = 'new'"
        " OR (status = 'taken' AND (owner_id = :actor_id OR :is_admin = 1)))",
        {
            "id": case_id,
            "actor_id": actor_id,
            "actor_name": actor_name,
            "is_admin": int(is_admin),
            "now": now,
            "reason": reason,
        },
    )
    return count == 1


async def try_touch_for_message(
    conn: Connection, case_id: int, *, actor_id: int, is_admin: bool, now: int
) -> bool:
    """Lock a taken case for an outgoing message by its owner (or an admin), and end
    the actor's "writing to the customer" state."""
    count = await conn.execute(
        "UPDATE cases SET updated_at = :now,"
        " pending_action = CASE WHEN pending_by_id = :actor_id THEN NULL ELSE pending_action END,"
        " pending_at = CASE WHEN pending_by_id = :actor_id THEN NULL ELSE pending_at END,"
        " pending_prompt_chat_id = CASE WHEN pending_by_id = :actor_id"
        " THEN NULL ELSE pending_prompt_chat_id END,"
        " pending_prompt_message_id = CASE WHEN pending_by_id = :actor_id"
        " THEN NULL ELSE pending_prompt_message_id END,"
        " pending_by_id = CASE WHEN pending_by_id = :actor_id THEN NULL ELSE pending_by_id END"
        " WHERE id = :id AND status = 'taken' AND (owner_id = :actor_id OR :is_admin = 1)",
        {"id": case_id, "actor_id": actor_id, "is_admin": int(is_admin), "now": now},
    )
    return count == 1


async def try_set_first_contact(conn: Connection, case_id: int, now: int) -> bool:
    """Record the team's first message to the customer; False when there was one."""
    count = await conn.execute(
        "UPDATE cases SET first_contact_at = :now WHERE id = :id AND first_contact_at IS NULL",
        {"id": case_id, "now": now},
    )
    return count == 1


async def try_reopen(
    conn: Connection, case_id: int, *, now: int, take_due_at: int, resolve_due_at: int
) -> bool:
    """resolved -> taken again by its owner (new when it has none), with fresh SLA
    deadlines and no escalation yet. The follow-up's "no" stays on the case (the card
    shows it) until the next resolution, which may ask again."""
    count = await conn.execute(
        "UPDATE cases SET"
        " status = CASE WHEN owner_id IS NULL THEN 'new' ELSE 'taken' END,"
        " take_due_at = CASE WHEN owner_id IS NULL"
        " THEN CAST(:take_due_at AS BIGINT) ELSE take_due_at END,"
        " escalated_take_at = CASE WHEN owner_id IS NULL THEN NULL ELSE escalated_take_at END,"
        " resolve_due_at = CASE WHEN owner_id IS NULL"
        " THEN NULL ELSE CAST(:resolve_due_at AS BIGINT) END,"
        " escalated_resolve_at = NULL, resolved_at = NULL, notify_customer = 0,"
        " followup_due_at = NULL, reopened_count = reopened_count + 1, reopened_at = :now,"
        " updated_at = :now WHERE id = :id AND status = 'resolved'",
        {
            "id": case_id,
            "now": now,
            "take_due_at": take_due_at,
            "resolve_due_at": resolve_due_at,
        },
    )
    return count == 1


async def touch(conn: Connection, case_id: int, now: int) -> bool:
    """Lock the case for a change that needs no other column (a customer's message), so
    that two such changes to one case queue up instead of reading the same history."""
    count = await conn.execute(
        "UPDATE cases SET updated_at = :now WHERE id = :id", {"id": case_id, "now": now}
    )
    return count == 1


async def due_take_escalations(conn: Connection, now: int, limit: int) -> list[Case]:
    rows = await conn.fetch_all(
        f"SELECT {_CASE_COLUMNS} FROM cases c"
        " WHERE c.status = 'new' AND c.escalated_take_at IS NULL AND c.take_due_at <= :now"
        " ORDER BY c.take_due_at, c.id LIMIT :limit",
        {"now": now, "limit": limit},
    )
    return [Case.from_row(row) for row in rows]


async def due_resolve_escalations(conn: Connection, now: int, limit: int) -> list[Case]:
    rows = await conn.fetch_all(
        f"SELECT {_CASE_COLUMNS} FROM cases c"
        " WHERE c.status = 'taken' AND c.escalated_resolve_at IS NULL"
        " AND c.resolve_due_at <= :now"
        " ORDER BY c.resolve_due_at, c.id LIMIT :limit",
        {"now": now, "limit": limit},
    )
    return [Case.from_row(row) for row in rows]


async def try_mark_escalated(conn: Connection, case_id: int, stage: str, now: int) -> bool:
    """Record that the `stage` ('take' or 'resolve') escalation went out; once only,
    and only while the case is still in the state that stage is about."""
    if stage == "take":
        sql = (
            "UPDATE cases SET escalated_take_at = :now, updated_at = :now"
            " WHERE id = :id AND status = 'new' AND escalated_take_at IS NULL"
        )
    elif stage == "resolve":
        sql = (
            "UPDATE cases SET escalated_resolve_at = :now, updated_at = :now"
            " WHERE id = :id AND status = 'taken' AND escalated_resolve_at IS NULL"
        )
    else:
        raise ValueError(f"unknown escalation stage {stage!r}")
    return await conn.execute(sql, {"id": case_id, "now": now}) == 1


async def due_followups(conn: Connection, now: int, limit: int) -> list[FollowupTarget]:
    """Resolved cases whose follow-up is due, for customers the bot may still write to."""
    rows = await conn.fetch_all(
        "SELECT c.id AS case_id, c.customer_id, cu.telegram_id, c.followup_due_at,"
        " COALESCE(s.language, cu.language) AS language"
        " FROM cases c"
        " JOIN customers cu ON cu.id = c.customer_id"
        " LEFT JOIN surveys s ON s.id = c.survey_id"
        " WHERE c.followup_sent_at IS NULL AND c.followup_due_at <= :now"
        " AND c.status = 'resolved'"
        " AND cu.telegram_id IS NOT NULL AND cu.opted_out = 0 AND cu.unreachable = 0"
        " AND cu.forgotten_at IS NULL"
        " ORDER BY c.followup_due_at, c.id LIMIT :limit",
        {"now": now, "limit": limit},
    )
    return [FollowupTarget.from_row(row) for row in rows]


async def try_mark_followup_sent(conn: Connection, case_id: int, now: int) -> bool:
    count = await conn.execute(
        "UPDATE cases SET followup_sent_at = :now, updated_at = :now"
        " WHERE id = :id AND status = 'resolved' AND followup_due_at IS NOT NULL"
        " AND followup_sent_at IS NULL",
        {"id": case_id, "now": now},
    )
    return count == 1


async def try_answer_followup(conn: Connection, case_id: int, answer: str, now: int) -> bool:
    count = await conn.execute(
        "UPDATE cases SET followup_answer = :answer, followup_at = :now, updated_at = :now"
        " WHERE id = :id AND followup_sent_at IS NOT NULL AND followup_answer IS NULL",
        {"id": case_id, "answer": answer, "now": now},
    )
    return count == 1


async def customer_telegram_id(conn: Connection, customer_id: int) -> int | None:
    row = await conn.fetch_one(
        "SELECT telegram_id FROM customers WHERE id = :id", {"id": customer_id}
    )
    return int(row["telegram_id"]) if row and row["telegram_id"] is not None else None


async def set_pending(
    conn: Connection,
    case_id: int,
    *,
    actor_id: int,
    action: str,
    now: int,
    template: str | None = None,
    draft: str | None = None,
) -> None:
    """Route the actor's next text to this case; a manager waits on one case at a time.
    The prompt asking for it is recorded by `set_prompt` once it is sent. `template` and
    `draft` are read only with the template actions (each set_pending overwrites them)."""
    await clear_pending_of(conn, actor_id, now)
    await conn.execute(
        "UPDATE cases SET pending_action = :action, pending_by_id = :actor_id,"
        " pending_at = :now, pending_prompt_chat_id = NULL, pending_prompt_message_id = NULL,"
        " pending_template = :template, pending_draft = :draft,"
        " updated_at = :now WHERE id = :id",
        {
            "id": case_id,
            "action": action,
            "actor_id": actor_id,
            "now": now,
            "template": template,
            "draft": draft,
        },
    )


async def clear_pending_of(
    conn: Connection,
    actor_id: int,
    now: int,
    case_id: int | None = None,
    *,
    action: str | None = None,
    since: int | None = None,
) -> int:
    """End the actor's pending action (only on `case_id`, only `action`, only one started
    at or after `since`, when given): 1 for the caller that ended it, 0 for a racer."""
    where = ["pending_by_id = :actor_id"]
    if case_id is not None:
        where.append("id = :id")
    if action is not None:
        where.append("pending_action = :action")
    if since is not None:
        where.append("pending_at >= :since")
    return await conn.execute(
        "UPDATE cases SET pending_action = NULL, pending_by_id = NULL, pending_at = NULL,"
        " pending_prompt_chat_id = NULL, pending_prompt_message_id = NULL,"
        f" updated_at = :now WHERE {' AND '.join(where)}",
        {"actor_id": actor_id, "now": now, "id": case_id, "action": action, "since": since},
    )


async def set_prompt(
    conn: Connection, case_id: int, *, actor_id: int, chat_id: int, message_id: int, now: int
) -> bool:
    """Record the prompt of the actor's pending action on the case; False when that
    pending has ended meanwhile or already has its prompt (a racing second press)."""
    count = await conn.execute(
        "UPDATE cases SET pending_prompt_chat_id = :chat_id,"
        " pending_prompt_message_id = :message_id, updated_at = :now"
        " WHERE id = :id AND pending_by_id = :actor_id AND pending_action IS NOT NULL"
        " AND pending_prompt_message_id IS NULL",
        {
            "id": case_id,
            "actor_id": actor_id,
            "chat_id": chat_id,
            "message_id": message_id,
            "now": now,
        },
    )
    return count == 1


async def prompts(
    conn: Connection, *, case_id: int | None = None, actor_id: int | None = None
) -> list[Prompt]:
    """Recorded prompts of pending actions: the case's (of `actor_id` only, when given),
    or, with only `actor_id`, that actor's on any case."""
    if case_id is None and actor_id is None:
        raise ValueError("prompts() needs a case_id or an actor_id")
    conditions = ["pending_prompt_message_id IS NOT NULL"]
    if case_id is not None:
        conditions.append("id = :case_id")
    if actor_id is not None:
        conditions.append("pending_by_id = :actor_id")
    rows = await conn.fetch_all(
        "SELECT pending_prompt_chat_id AS chat_id, pending_prompt_message_id AS message_id"
        f" FROM cases WHERE {' AND '.join(conditions)}",
        {"case_id": case_id, "actor_id": actor_id},
    )
    return [Prompt.from_row(row) for row in rows]


async def pending_of(conn: Connection, actor_id: int, since: int) -> Case | None:
    """The open case waiting for this actor's text, if they started within the window."""
    row = await conn.fetch_one(
        f"SELECT {_CASE_COLUMNS} FROM cases c"
        " WHERE c.pending_by_id = :actor_id AND c.pending_at >= :since"
        " AND c.status IN ('new', 'taken')"
        " ORDER BY c.pending_at DESC, c.id DESC LIMIT 1",
        {"actor_id": actor_id, "since": since},
    )
    return Case.from_row(row) if row else None


async def add_event(
    conn: Connection,
    case_id: int,
    *,
    at: int,
    kind: str,
    actor_id: int | None = None,
    actor_name: str | None = None,
    text: str | None = None,
) -> int:
    row = await conn.fetch_one(
        "INSERT INTO case_events (case_id, at, actor_id, actor_name, kind, text)"
        " VALUES (:case_id, :at, :actor_id, :actor_name, :kind, :text) RETURNING id",
        {
            "case_id": case_id,
            "at": at,
            "actor_id": actor_id,
            "actor_name": actor_name,
            "kind": kind,
            "text": text,
        },
    )
    assert row is not None
    return int(row["id"])


async def last_turn(conn: Connection, case_id: int) -> CaseEvent | None:
    """The latest step of the conversation with the customer: their message, a
    manager's message, or the resolution (which may have told them)."""
    row = await conn.fetch_one(
        "SELECT id, case_id, at, actor_id, actor_name, kind, text FROM case_events"
        " WHERE case_id = :case_id AND kind IN ('message_in', 'message_out', 'resolved')"
        " ORDER BY at DESC, id DESC LIMIT 1",
        {"case_id": case_id},
    )
    return CaseEvent.from_row(row) if row else None


async def events(conn: Connection, case_id: int) -> list[CaseEvent]:
    rows = await conn.fetch_all(
        "SELECT id, case_id, at, actor_id, actor_name, kind, text FROM case_events"
        " WHERE case_id = :case_id ORDER BY at, id",
        {"case_id": case_id},
    )
    return [CaseEvent.from_row(row) for row in rows]


async def open_cases(
    conn: Connection, now: int, limit: int, locations: Sequence[str] | None = None
) -> list[CaseListItem]:
    """New and taken cases, oldest first; only at `locations` when given."""
    params: dict[str, object] = {"now": now, "limit": limit}
    where = ""
    if locations is not None:
        where, params["ids"] = id_in(conn, _LOCATION, list(locations))
        where = " AND " + where
    rows = await conn.fetch_all(
        "SELECT c.id, c.status, c.owner_name, c.opened_at, c.taken_at,"
        f" cu.name AS customer_name, s.nps, s.ces, {_LOCATION} AS location,"
        " :now - c.opened_at AS age_ms"
        " FROM cases c"
        " LEFT JOIN surveys s ON s.id = c.survey_id"
        " JOIN customers cu ON cu.id = c.customer_id"
        f" WHERE c.status IN ('new', 'taken'){where}"
        " ORDER BY c.opened_at, c.id LIMIT :limit",
        params,
    )
    return [CaseListItem.from_row(row) for row in rows]


async def location_of(conn: Connection, case_id: int) -> str | None:
    """The location of the visit a case is about; None for no such case."""
    row = await conn.fetch_one(
        f"SELECT {_LOCATION} AS location FROM cases c"
        " LEFT JOIN surveys s ON s.id = c.survey_id WHERE c.id = :id",
        {"id": case_id},
    )
    return None if row is None else str(row["location"])


async def open_by_age(conn: Connection, *, now: int, bounds_ms: Sequence[int]) -> list[int]:
    """Open cases (new or taken) counted by age since opened: one count per interval
    [0, bounds_ms[0]), [bounds_ms[0], bounds_ms[1]) ... and one for the rest, older than
    the last bound (len(bounds_ms) + 1 counts). A grouped COUNT over the
    (status, opened_at) index: it reads the open cases' index entries only."""
    assert bounds_ms, "at least one bound"
    edges = {f"e{i}": now - bound for i, bound in enumerate(bounds_ms)}
    buckets = " ".join(f"WHEN opened_at > :e{i} THEN {i}" for i in range(len(bounds_ms)))
    rows = await conn.fetch_all(
        f"SELECT CASE {buckets} ELSE {len(bounds_ms)} END AS bucket, COUNT(*) AS n"
        " FROM cases WHERE status IN (:new, :taken) GROUP BY 1",
        {**edges, "new": CaseStatus.NEW, "taken": CaseStatus.TAKEN},
    )
    counts = [0] * (len(bounds_ms) + 1)
    for row in rows:
        counts[int(row["bucket"])] += int(row["n"])
    return counts
