"""Outgoing webhooks: the receivers (webhook_endpoints) and what is owed to them
(webhook_deliveries, one row per event and receiver).

An event is written by `enqueue` in the transaction of the change it reports, as one
row per subscribed endpoint, with its payload as it will be sent (the Standard
Webhooks envelope: type, timestamp, data). A row's life: 'pending' -> 'sending' (one
instance holds it until `lease_until`) -> 'delivered' | 'failed', or back to
'pending' for a retry. Rows of one endpoint and order key (a customer) go out one at
a time, oldest first: a row is claimable only when no older one of its key is still
pending or sending. A 'sending' row whose lease ended (its instance died mid-request)
is claimable again and resent with the same message id, which lets the receiver drop
the repeat; in normal operation a row is sent once.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from storage.db import Connection, id_in
from storage.models import _FromRow

# Retries stop this long after the event: the row ends 'failed' with its last reason.
DELIVERY_WINDOW_MS = 24 * 3600 * 1000
# Keys whose values identify a customer (or are their own words): a forgotten
# customer's payloads have them emptied (None).
PERSONAL_KEYS = frozenset(
    {"external_id", "phone", "telegram_id", "username", "reason", "text", "note"}
)
FORGOTTEN_EVENT = "customer.forgotten"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    DELIVERED = "delivered"
    FAILED = "failed"


OPEN = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)


@dataclass(slots=True)
class Endpoint:
    name: str
    url: str
    secret: str
    # None: every event.
    events: tuple[str, ...] | None
    created_at: int
    updated_at: int

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Endpoint:
        events = json.loads(row["events"]) if row["events"] is not None else None
        return cls(
            name=str(row["name"]),
            url=str(row["url"]),
            secret=str(row["secret"]),
            events=tuple(events) if events is not None else None,
            created_at=int(row["created_at"]),
            updated_at=int(row["updated_at"]),
        )


@dataclass(slots=True)
class Delivery(_FromRow):
    id: int
    endpoint: str
    message_id: str
    event: str
    order_key: str
    customer_id: int | None
    payload: str
    status: str
    attempts: int
    due_at: int
    deadline_at: int
    lease_owner: str | None
    lease_until: int | None
    last_status: int | None
    last_error: str | None
    created_at: int
    finished_at: int | None


# --- endpoints -----------------------------------------------------------------------


async def put_endpoint(
    conn: Connection,
    name: str,
    *,
    url: str,
    secret: str | None,
    new_secret: str,
    events: Sequence[str] | None,
    now: int,
) -> bool:
    """Create the endpoint (with `secret`, else `new_secret`) or replace its URL and
    events (and its secret when `secret` is given; else it keeps its own). True when
    created. Two PUTs of one name at once: one creates, the other replaces."""
    params = {
        "name": name,
        "url": url,
        "secret": secret,
        "new_secret": secret or new_secret,
        "events": json.dumps(list(events)) if events is not None else None,
        "now": now,
    }
    created = await conn.fetch_one(
        "INSERT INTO webhook_endpoints (name, url, secret, events, created_at, updated_at)"
        " VALUES (:name, :url, :new_secret, :events, :now, :now)"
        " ON CONFLICT (name) DO NOTHING RETURNING name",
        params,
    )
    if created is not None:
        return True
    await conn.execute(
        "UPDATE webhook_endpoints SET url = :url, secret = COALESCE(:secret, secret),"
        " events = :events, updated_at = :now WHERE name = :name",
        params,
    )
    return False


async def get_endpoint(conn: Connection, name: str) -> Endpoint | None:
    row = await conn.fetch_one(
        "SELECT * FROM webhook_endpoints WHERE name = :name", {"name": name}
    )
    return Endpoint.from_row(row) if row else None


async def endpoints(conn: Connection, names: Sequence[str] | None = None) -> list[Endpoint]:
    """Every endpoint by name, or those of `names`."""
    if names is None:
        rows = await conn.fetch_all("SELECT * FROM webhook_endpoints ORDER BY name")
    else:
        where, value = id_in(conn, "name", names)
        rows = await conn.fetch_all(
            f"SELECT * FROM webhook_endpoints WHERE {where} ORDER BY name", {"ids": value}
        )
    return [Endpoint.from_row(row) for row in rows]


async def delete_endpoint(conn: Connection, name: str, now: int) -> bool:
    """Remove the endpoint; what was still waiting for it ends 'failed'. (A row being
    sent right now is recorded by its sender; the next attempt finds no endpoint.)"""
    row = await conn.fetch_one(
        "DELETE FROM webhook_endpoints WHERE name = :name RETURNING name", {"name": name}
    )
    if row is None:
        return False
    await conn.execute(
        f"UPDATE webhook_deliveries SET status = '{DeliveryStatus.FAILED}',"
        " last_error = 'endpoint deleted', finished_at = :now"
        f" WHERE endpoint = :name AND status = '{DeliveryStatus.PENDING}'",
        {"name": name, "now": now},
    )
    return True


async def subscribers(conn: Connection, event: str) -> list[str]:
    """The endpoints that want `event`: one cheap read when there are none."""
    rows = await conn.fetch_all(
        "SELECT name FROM webhook_endpoints WHERE events IS NULL OR events LIKE :pattern"
        " ORDER BY name",
        {"pattern": f'%"{event}"%'},
    )
    return [str(row["name"]) for row in rows]


# --- events --------------------------------------------------------------------------


def iso_ms(ms: int) -> str:
    """2026-11-23T12:00:00.000Z: the moment of an epoch-millisecond value."""
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def new_message_id() -> str:
    """A webhook-id: unique per event, kept on every attempt."""
    return "msg_" + secrets.token_hex(16)


def envelope(event: str, data: dict[str, Any], now: int) -> str:
    """The body as sent (Standard Webhooks' type, timestamp, data), compact UTF-8 JSON."""
    body = {"type": event, "timestamp": iso_ms(now), "data": data}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


async def enqueue(
    conn: Connection,
    names: Sequence[str],
    *,
    event: str,
    data: dict[str, Any],
    order_key: str,
    customer_id: int | None,
    now: int,
) -> str | None:
    """One row per endpoint of `names`, in the caller's transaction; the message id."""
    if not names:
        return None
    message_id = new_message_id()
    payload = envelope(event, data, now)
    await conn.execute_many(
        "INSERT INTO webhook_deliveries (endpoint, message_id, event, order_key, customer_id,"
        " payload, status, due_at, deadline_at, created_at)"
        " VALUES (:endpoint, :message_id, :event, :order_key, :customer_id, :payload,"
        f" '{DeliveryStatus.PENDING}', :now, :deadline, :now)",
        [
            {
                "endpoint": name,
                "message_id": message_id,
                "event": event,
                "order_key": order_key,
                "customer_id": customer_id,
                "payload": payload,
                "now": now,
                "deadline": now + DELIVERY_WINDOW_MS,
            }
            for name in names
        ],
    )
    return message_id


# --- what events say ------------------------------------------------------------------


async def response_facts(conn: Connection, survey_id: int) -> dict[str, Any] | None:
    """A survey's answers with its visit and customer, as a response payload's fields."""
    return await conn.fetch_one(
        "SELECT s.id, s.customer_id, s.status, s.step, s.location, s.staff, s.touchpoint,"
        " s.day, s.nps, s.ces, s.csat, s.reason, s.nps_at, s.ces_at, s.reason_at,"
        " s.completed_at,"
        " v.visit_key, v.visited_at, c.external_id, c.forgotten_at"
        " FROM surveys s JOIN visits v ON v.id = s.visit_id"
        " JOIN customers c ON c.id = s.customer_id WHERE s.id = :id",
        {"id": survey_id},
    )


async def case_facts(conn: Connection, case_id: int) -> dict[str, Any] | None:
    """A case with its survey's scores, visit and customer (none for unprompted)."""
    return await conn.fetch_one(
        "SELECT k.id, k.survey_id, k.customer_id, k.status, k.owner_id, k.owner_name,"
        " k.opened_at, k.taken_at, k.resolved_at, k.closed_at, k.closed_reason,"
        " k.resolution_note, k.notify_customer, k.take_due_at, k.resolve_due_at,"
        " COALESCE(s.location, k.unprompted_location, '') AS location,"
        " COALESCE(s.staff, '') AS staff, COALESCE(s.touchpoint, '') AS touchpoint,"
        " s.nps, s.ces, v.visit_key, c.external_id, c.forgotten_at"
        # An unprompted case has no survey nor visit (survey_id NULL).
        " FROM cases k LEFT JOIN surveys s ON s.id = k.survey_id"
        " LEFT JOIN visits v ON v.id = s.visit_id"
        " JOIN customers c ON c.id = k.customer_id WHERE k.id = :id",
        {"id": case_id},
    )


async def customer_facts(conn: Connection, customer_id: int) -> dict[str, Any] | None:
    return await conn.fetch_one(
        "SELECT id, external_id, opted_out, forgotten_at FROM customers WHERE id = :id",
        {"id": customer_id},
    )


# --- forgetting ----------------------------------------------------------------------


def scrub(value: Any) -> Any:
    """`value` with every personal key's value emptied, and customers marked forgotten."""
    if isinstance(value, list):
        return [scrub(item) for item in value]
    if not isinstance(value, dict):
        return value
    cleaned = {key: None if key in PERSONAL_KEYS else scrub(item) for key, item in value.items()}
    customer = cleaned.get("customer")
    if isinstance(customer, dict):
        customer["forgotten"] = True
    return cleaned


async def forget_customer(conn: Connection, customer_id: int, now: int) -> None:
    """In the forgetting's transaction: every payload about the customer, waiting or
    sent, loses what identifies them; then customer.forgotten is queued."""
    rows = await conn.fetch_all(
        "SELECT id, payload FROM webhook_deliveries WHERE customer_id = :id",
        {"id": customer_id},
    )
    await conn.execute_many(
        "UPDATE webhook_deliveries SET payload = :payload WHERE id = :id",
        [
            {
                "id": row["id"],
                "payload": json.dumps(
                    scrub(json.loads(row["payload"])), ensure_ascii=False, separators=(",", ":")
                ),
            }
            for row in rows
        ],
    )
    await enqueue(
        conn,
        await subscribers(conn, FORGOTTEN_EVENT),
        event=FORGOTTEN_EVENT,
        data={"customer": {"id": customer_id, "forgotten": True}},
        order_key=customer_key(customer_id),
        customer_id=customer_id,
        now=now,
    )


def customer_key(customer_id: int) -> str:
    """The order key: every event about one customer (their answers, their cases, their
    opt-out) reaches an endpoint in the order it happened."""
    return f"customer:{customer_id}"


# --- delivering ----------------------------------------------------------------------


_FIRST_OF_ITS_KEY = (
    "NOT EXISTS (SELECT 1 FROM webhook_deliveries e"
    " WHERE e.endpoint = d.endpoint AND e.order_key = d.order_key AND e.id < d.id"
    f" AND e.status IN ('{DeliveryStatus.PENDING}', '{DeliveryStatus.SENDING}'))"
)


async def claim_due(
    conn: Connection, *, now: int, owner: str, lease_ms: int, limit: int
) -> list[Delivery]:
    """Lease up to `limit` rows to send now, each the oldest open row of its endpoint
    and order key: pending ones due, and 'sending' ones whose lease ended (their
    instance stopped mid-request). Each claim counts an attempt."""
    skip_locked = " FOR UPDATE SKIP LOCKED" if conn.dialect == "postgresql" else ""
    # The chosen ids are a materialised CTE, read once: as `id IN (SELECT ... LIMIT n
    # FOR UPDATE)` PostgreSQL may rescan the subquery per row, and each rescan skips the
    # rows this UPDATE already changed and picks the next ones: more than `limit` rows.
    rows = await conn.fetch_all(
        "WITH chosen AS MATERIALIZED (SELECT d.id FROM webhook_deliveries d"
        f"  WHERE ((d.status = '{DeliveryStatus.PENDING}' AND d.due_at <= :now)"
        f"     OR (d.status = '{DeliveryStatus.SENDING}' AND d.lease_until < :now))"
        f"   AND {_FIRST_OF_ITS_KEY}"
        f"  ORDER BY d.due_at, d.id LIMIT :limit{skip_locked})"
        f" UPDATE webhook_deliveries SET status = '{DeliveryStatus.SENDING}',"
        " lease_owner = :owner, lease_until = :until, attempts = attempts + 1"
        " WHERE id IN (SELECT id FROM chosen)"
        " RETURNING *",
        {"owner": owner, "until": now + lease_ms, "now": now, "limit": limit},
    )
    found = [Delivery.from_row(row) for row in rows]
    found.sort(key=lambda row: (row.due_at, row.id))
    return found


async def next_due_at(conn: Connection) -> int | None:
    """When the next row may be claimed: the due time of a pending row that is first
    of its key (a later one waits for it, not for the clock), or a lease's end."""
    row = await conn.fetch_one(
        "SELECT MIN(due) AS due FROM ("
        " SELECT MIN(d.due_at) AS due FROM webhook_deliveries d"
        f" WHERE d.status = '{DeliveryStatus.PENDING}' AND {_FIRST_OF_ITS_KEY}"
        " UNION ALL SELECT MIN(lease_until) + 1 FROM webhook_deliveries"
        f" WHERE status = '{DeliveryStatus.SENDING}') AS candidates"
    )
    return int(row["due"]) if row and row["due"] is not None else None


async def record(
    conn: Connection,
    delivery_id: int,
    *,
    owner: str,
    status: DeliveryStatus,
    now: int,
    http_status: int | None = None,
    error: str | None = None,
    due_at: int | None = None,
) -> bool:
    """The outcome of an attempt by `owner`: delivered, failed, or pending again at
    `due_at`. False (nothing changed) when `owner` no longer holds the row."""
    finished = now if status in (DeliveryStatus.DELIVERED, DeliveryStatus.FAILED) else None
    changed = await conn.execute(
        "UPDATE webhook_deliveries SET status = :status, last_status = :http_status,"
        " last_error = :error, finished_at = :finished, due_at = COALESCE(:due_at, due_at),"
        " lease_owner = NULL, lease_until = NULL"
        f" WHERE id = :id AND status = '{DeliveryStatus.SENDING}' AND lease_owner = :owner",
        {
            "status": status,
            "http_status": http_status,
            "error": error[:500] if error else None,
            "finished": finished,
            "due_at": due_at,
            "id": delivery_id,
            "owner": owner,
        },
    )
    return changed > 0


async def take_back(conn: Connection, *, owner: str | None) -> int:
    """Rows an instance known to be gone was sending are pending again at once (resent
    with the same message id): `owner`'s, or everyone's (None, SQLite's one instance
    starting)."""
    whose = "lease_owner = :owner" if owner is not None else "lease_owner IS NOT NULL"
    return await conn.execute(
        f"UPDATE webhook_deliveries SET status = '{DeliveryStatus.PENDING}',"
        f" lease_owner = NULL, lease_until = NULL"
        f" WHERE status = '{DeliveryStatus.SENDING}' AND {whose}",
        {"owner": owner} if owner is not None else {},
    )


# --- reading the log -----------------------------------------------------------------


async def log(
    conn: Connection,
    *,
    endpoint: str | None = None,
    status: str | None = None,
    limit: int = 50,
) -> list[Delivery]:
    """The newest deliveries first, of one endpoint and status when given."""
    rows = await conn.fetch_all(
        "SELECT * FROM webhook_deliveries"
        " WHERE (CAST(:endpoint AS TEXT) IS NULL OR endpoint = :endpoint)"
        " AND (CAST(:status AS TEXT) IS NULL OR status = :status)"
        " ORDER BY id DESC LIMIT :limit",
        {"endpoint": endpoint, "status": status, "limit": limit},
    )
    return [Delivery.from_row(row) for row in rows]


async def delivery_counts(conn: Connection) -> dict[tuple[str, str], int]:
    """How many deliveries each endpoint has in each status: {(endpoint, status): n}
    (what /metrics and GET /api/v1/webhooks show)."""
    rows = await conn.fetch_all(
        "SELECT endpoint, status, COUNT(*) AS n FROM webhook_deliveries"
        " GROUP BY endpoint, status ORDER BY endpoint, status"
    )
    return {(str(row["endpoint"]), str(row["status"])): int(row["n"]) for row in rows}
