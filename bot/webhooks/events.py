"""The events otklik reports to webhooks, and the one-line hooks that queue them.

Each hook runs inside the transaction of the change it reports (an answer, a case's
step, an opt-out), so an event exists exactly when its change does. It reads which
endpoints want the event first: with none (or none for this event) that one read is
all it costs. It awaits nothing but the connection, so it fits the answers' one-trip
transactions (Database.run_in_transaction). Payloads of a forgotten customer carry
nothing that identifies them (storage/webhooks.py `scrub`).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from storage import topics as topic_rows
from storage import webhooks as repo
from storage.db import Connection


class Event(StrEnum):
    RESPONSE_CREATED = "response.created"
    RESPONSE_UPDATED = "response.updated"
    RESPONSE_COMPLETED = "response.completed"
    CASE_OPENED = "case.opened"
    CASE_TAKEN = "case.taken"
    CASE_RESOLVED = "case.resolved"
    CASE_CLOSED = "case.closed"
    CASE_REOPENED = "case.reopened"
    CUSTOMER_OPTED_OUT = "customer.opted_out"
    CUSTOMER_FORGOTTEN = repo.FORGOTTEN_EVENT


EVENTS = tuple(event.value for event in Event)
# What `otklik webhooks test` sends; no endpoint subscribes to it.
PING = "webhook.ping"


def _at(ms: Any) -> str | None:
    return repo.iso_ms(int(ms)) if ms is not None else None


def _customer(facts: dict[str, Any]) -> dict[str, Any]:
    return {"id": facts["customer_id"], "external_id": facts["external_id"]}


async def _emit(
    conn: Connection,
    names: list[str],
    event: Event,
    facts: dict[str, Any],
    data: dict[str, Any],
    now: int,
) -> None:
    if facts.get("forgotten_at") is not None:
        data = repo.scrub(data)
    customer_id = int(facts["customer_id"])
    await repo.enqueue(
        conn,
        names,
        event=event,
        data=data,
        order_key=repo.customer_key(customer_id),
        customer_id=customer_id,
        now=now,
    )


async def response(
    conn: Connection, event: Event, survey_id: int, now: int, *, changed: tuple[str, ...] = ()
) -> None:
    """response.created (the NPS tap), .updated (`changed` names the fields) or
    .completed, in the answer's transaction."""
    names = await repo.subscribers(conn, event)
    if not names:
        return
    facts = await repo.response_facts(conn, survey_id)
    if facts is None:
        return
    body: dict[str, Any] = {
        "id": facts["id"],
        "visit_id": facts["visit_key"],
        "visited_at": _at(facts["visited_at"]),
        "customer": _customer(facts),
        "location": facts["location"],
        "staff": facts["staff"],
        "touchpoint": facts["touchpoint"],
        "day": facts["day"],
        "status": facts["status"],
        "step": facts["step"],
        "nps": facts["nps"],
        "ces": facts["ces"],
        "csat": facts["csat"],
        "reason": facts["reason"],
        # The reason's topics (bot/topics ids), stored before this event in its transaction.
        "topics": list(await topic_rows.of_survey(conn, survey_id)) if facts["reason"] else [],
        "answered_at": _at(facts["nps_at"]),
        "completed_at": _at(facts["completed_at"]),
    }
    if changed:
        body["changed"] = list(changed)
    await _emit(conn, names, event, facts, {"response": body}, now)


async def case(conn: Connection, event: Event, case_id: int, now: int) -> None:
    """case.opened, .taken, .resolved, .closed or .reopened, in the step's transaction."""
    names = await repo.subscribers(conn, event)
    if not names:
        return
    facts = await repo.case_facts(conn, case_id)
    if facts is None:
        return
    owner = (
        {"id": facts["owner_id"], "name": facts["owner_name"]}
        if facts["owner_id"] is not None
        else None
    )
    body = {
        "id": facts["id"],
        "status": facts["status"],
        "response_id": facts["survey_id"],
        # Unprompted feedback: the customer wrote unasked; no response, visit nor score.
        "unprompted": facts["survey_id"] is None,
        "visit_id": facts["visit_key"],
        "customer": _customer(facts),
        "location": facts["location"],
        "staff": facts["staff"],
        "touchpoint": facts["touchpoint"],
        "nps": facts["nps"],
        "ces": facts["ces"],
        "owner": owner,
        "opened_at": _at(facts["opened_at"]),
        "take_due_at": _at(facts["take_due_at"]),
        "taken_at": _at(facts["taken_at"]),
        "resolve_due_at": _at(facts["resolve_due_at"]),
        "resolved_at": _at(facts["resolved_at"]),
        "note": facts["resolution_note"],
        "customer_notified": bool(facts["notify_customer"]),
        "closed_at": _at(facts["closed_at"]),
        "reason": facts["closed_reason"],
    }
    await _emit(conn, names, event, facts, {"case": body}, now)


async def customer(conn: Connection, event: Event, customer_id: int, now: int) -> None:
    """customer.opted_out, in the opt-out's transaction. (customer.forgotten is queued
    by storage/webhooks.py `forget_customer`, with the scrubbing of older payloads.)"""
    names = await repo.subscribers(conn, event)
    if not names:
        return
    facts = await repo.customer_facts(conn, customer_id)
    if facts is None:
        return
    facts = {**facts, "customer_id": facts["id"]}
    body = {**_customer(facts), "opted_out": bool(facts["opted_out"])}
    await _emit(conn, names, event, facts, {"customer": body}, now)
