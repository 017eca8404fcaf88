"""Looking a customer up for an admin, the customer card, and erasing a customer.

Forgetting keeps the customer row (anonymous, so visits, surveys and cases keep
their foreign keys) and every score: daily_rollups and funnel_daily are never
touched, so past NPS/CES reports do not change. What identifies the person goes:
Telegram id, phone, external id, name, username, link token, language, the
relationship date, the free-text reasons they wrote, their messages in cases, the
payloads of queued or finished messages to their chat, and what outgoing webhooks
carry about them (storage/webhooks.py `forget_customer`). With telegram_id
NULL, a later /start from the same Telegram account creates a new customer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from storage import webhooks
from storage.db import Connection, for_update
from storage.models import AnniversarySendStatus, CaseStatus, Customer, OutboxStatus, SurveyStatus

FORGOTTEN = "forgotten"
OPEN_CASE_STATUSES = (CaseStatus.NEW, CaseStatus.TAKEN)

_DIGITS = re.compile(r"\D")
_INT = re.compile(r"^-?\d{1,18}$")  # fits a BIGINT; longer digit runs are no Telegram id
MIN_PHONE_DIGITS = 7
MAX_PHONE_DIGITS = 15


# --- lookup ---------------------------------------------------------------------------


def normalize_phone(text: str) -> str | None:
    """Digits with a leading '+': `+7 (916) 123-45-67` -> `+79161234567`; None if no phone."""
    digits = _DIGITS.sub("", text)
    if not MIN_PHONE_DIGITS <= len(digits) <= MAX_PHONE_DIGITS:
        return None
    return "+" + digits


def _lookups(query: str) -> list[tuple[str, dict[str, Any]]]:
    """(WHERE clause, params) pairs to try, most specific first.

    Prefixes make a query unambiguous: `#12` / `id:12` (internal id), `tg:123`,
    `ext:ABC`, `phone:+7...`, `@username`. A bare query tries external id,
    Telegram id (if it is an integer) and phone (if it has 7..15 digits).
    """
    text = query.strip()
    lowered = text.lower()
    for prefix in ("#", "id:"):
        if lowered.startswith(prefix):
            value = text[len(prefix) :].strip()
            return [("id = :v", {"v": int(value)})] if _INT.match(value) else []
    if lowered.startswith("tg:"):
        value = text[3:].strip()
        return [("telegram_id = :v", {"v": int(value)})] if _INT.match(value) else []
    if lowered.startswith("ext:"):
        return [("external_id = :v", {"v": text[4:].strip()})]
    if lowered.startswith("phone:"):
        return _phone_lookup(text[6:])
    if text.startswith("@") and len(text) > 1:
        return [("LOWER(username) = :v", {"v": text[1:].lower()})]
    if not text:
        return []
    found: list[tuple[str, dict[str, Any]]] = [("external_id = :v", {"v": text})]
    if _INT.match(text):
        found.append(("telegram_id = :v", {"v": int(text)}))
    found.extend(_phone_lookup(text))
    return found


def _phone_lookup(text: str) -> list[tuple[str, dict[str, Any]]]:
    phone = normalize_phone(text)
    if phone is None or not re.fullmatch(r"[\d\s()+\-.]+", text.strip()):
        return []
    # Imports from older CRMs may have stored the phone without '+'.
    return [("phone IN (:plus, :bare)", {"plus": phone, "bare": phone[1:]})]


async def find_customers(conn: Connection, query: str) -> list[Customer]:
    """Every distinct customer the query matches, most specific match first."""
    found: dict[int, Customer] = {}
    for where, params in _lookups(query):
        for row in await conn.fetch_all(f"SELECT * FROM customers WHERE {where}", params):
            customer = Customer.from_row(row)
            found.setdefault(customer.id, customer)
    return list(found.values())


async def find_customer(conn: Connection, query: str) -> Customer | None:
    """The one customer a phone, Telegram id, external id (or #id, @username) names.

    None when nobody or more than one customer matches; `find_customers` tells which,
    so the admin can be asked to use a prefix (tg:, ext:, phone:, #).
    """
    found = await find_customers(conn, query)
    return found[0] if len(found) == 1 else None


# --- the customer card -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VisitLine:
    visit_id: int
    visited_at: int
    day: str
    location: str
    staff: str
    touchpoint: str
    outcome: str


@dataclass(frozen=True, slots=True)
class AnswerLine:
    survey_id: int
    day: str
    location: str
    staff: str
    status: str
    nps: int | None
    ces: int | None
    reason: str | None
    answered_at: int | None


@dataclass(frozen=True, slots=True)
class CustomerCard:
    customer: Customer
    visits_count: int
    last_visits: tuple[VisitLine, ...]
    answers_count: int
    last_answers: tuple[AnswerLine, ...]
    cases_count: int
    open_cases: int

    @property
    def opted_out(self) -> bool:
        return bool(self.customer.opted_out)

    @property
    def unreachable(self) -> bool:
        return bool(self.customer.unreachable)

    @property
    def forgotten(self) -> bool:
        return self.customer.forgotten_at is not None


async def customer_card(conn: Connection, customer_id: int, limit: int = 5) -> CustomerCard | None:
    """Visits, answers (an NPS given), cases and status of one customer; newest first."""
    row = await conn.fetch_one("SELECT * FROM customers WHERE id = :id", {"id": customer_id})
    if row is None:
        return None
    params = {"id": customer_id, "limit": limit}
    visits = await conn.fetch_all(
        "SELECT id AS visit_id, visited_at, day, location, staff, touchpoint, outcome"
        " FROM visits WHERE customer_id = :id ORDER BY visited_at DESC, id DESC LIMIT :limit",
        params,
    )
    answers = await conn.fetch_all(
        "SELECT id AS survey_id, day, location, staff, status, nps, ces, reason,"
        " nps_at AS answered_at FROM surveys WHERE customer_id = :id AND nps IS NOT NULL"
        " ORDER BY nps_at DESC, id DESC LIMIT :limit",
        params,
    )
    counts = await conn.fetch_one(
        "SELECT (SELECT COUNT(*) FROM visits WHERE customer_id = :id) AS visits,"
        " (SELECT COUNT(*) FROM surveys WHERE customer_id = :id AND nps IS NOT NULL) AS answers",
        {"id": customer_id},
    )
    assert counts is not None
    cases_count, open_cases = await _case_counts(conn, customer_id)
    return CustomerCard(
        customer=Customer.from_row(row),
        visits_count=int(counts["visits"]),
        last_visits=tuple(VisitLine(**visit) for visit in visits),
        answers_count=int(counts["answers"]),
        last_answers=tuple(AnswerLine(**answer) for answer in answers),
        cases_count=cases_count,
        open_cases=open_cases,
    )


async def _case_counts(conn: Connection, customer_id: int) -> tuple[int, int]:
    if not await _table_exists(conn, "cases"):
        return 0, 0
    row = await conn.fetch_one(
        "SELECT COUNT(*) AS total,"
        " SUM(CASE WHEN status IN (:s0, :s1) THEN 1 ELSE 0 END) AS open"
        " FROM cases WHERE customer_id = :id",
        {"id": customer_id, "s0": OPEN_CASE_STATUSES[0], "s1": OPEN_CASE_STATUSES[1]},
    )
    assert row is not None
    return int(row["total"] or 0), int(row["open"] or 0)


async def _table_exists(conn: Connection, name: str) -> bool:
    if conn.dialect == "postgresql":
        sql = "SELECT to_regclass(:name) IS NOT NULL AS found"
        row = await conn.fetch_one(sql, {"name": name})
        return bool(row and row["found"])
    row = await conn.fetch_one(
        "SELECT 1 AS found FROM sqlite_master WHERE type = 'table' AND name = :name",
        {"name": name},
    )
    return row is not None


# --- forgetting -------------------------------------------------------------------------


async def forget_customer(conn: Connection, customer_id: int, now: int) -> bool:
    """Erase a customer's personal data in the caller's transaction.

    True when erased now; False when there is no such customer or it was erased
    before. Scores, rollups and funnel counters stay as they are.
    """
    # Locked (PostgreSQL) so that two /forget at once erase once and report once.
    row = await conn.fetch_one(
        f"SELECT telegram_id, forgotten_at FROM customers WHERE id = :id{for_update(conn)}",
        {"id": customer_id},
    )
    if row is None or row["forgotten_at"] is not None:
        return False
    telegram_id = row["telegram_id"]
    await _erase_customer_row(conn, customer_id, now)
    await _erase_surveys(conn, customer_id, now)
    if telegram_id is not None:
        await _cancel_messages(conn, int(telegram_id), now)
    await _cancel_anniversaries(conn, customer_id, now)
    if await _table_exists(conn, "case_events"):
        await _erase_case_messages(conn, customer_id, telegram_id)
    await webhooks.forget_customer(conn, customer_id, now)
    return True


async def _erase_customer_row(conn: Connection, customer_id: int, now: int) -> None:
    # opted_out stays set so that nothing is sent even if an id were re-attached by mistake.
    await conn.execute(
        "UPDATE customers SET telegram_id = NULL, external_id = NULL, phone = NULL,"
        " name = NULL, username = NULL, language = NULL, customer_since = NULL,"
        " since_md = NULL, since_source = NULL, link_token = NULL, unreachable_reason = NULL,"
        " opted_out = 1, forgotten_at = :now, updated_at = :now WHERE id = :id",
        {"now": now, "id": customer_id},
    )


async def _erase_surveys(conn: Connection, customer_id: int, now: int) -> None:
    params = {"id": customer_id, "now": now, "reason": FORGOTTEN}
    # Blank, not NULL: "gave a reason" stays countable, the words are gone.
    await conn.execute(
        "UPDATE surveys SET reason = '' WHERE customer_id = :id AND reason IS NOT NULL",
        params,
    )
    # Surveys not yet sent are dropped; one in progress ends without touching its scores.
    await conn.execute(
        f"UPDATE surveys SET status = '{SurveyStatus.SKIPPED}', closed_reason = :reason,"
        f" completed_at = :now WHERE customer_id = :id AND status = '{SurveyStatus.SCHEDULED}'",
        params,
    )
    await conn.execute(
        f"UPDATE surveys SET status = '{SurveyStatus.EXPIRED}', closed_reason = :reason,"
        f" completed_at = :now WHERE customer_id = :id AND status = '{SurveyStatus.SENT}'",
        params,
    )
    await conn.execute("UPDATE surveys SET chat_id = NULL WHERE customer_id = :id", params)


async def _cancel_messages(conn: Connection, telegram_id: int, now: int) -> None:
    params = {"chat_id": telegram_id, "now": now, "reason": FORGOTTEN}
    await conn.execute(
        f"UPDATE outbox SET status = '{OutboxStatus.EXPIRED}', last_error = :reason,"
        " finished_at = :now, payload = '{}'"
        f" WHERE chat_id = :chat_id AND status = '{OutboxStatus.PENDING}'",
        params,
    )
    # Finished rows keep their kind and timing for delivery statistics, not the person.
    await conn.execute(
        "UPDATE outbox SET payload = '{}', chat_id = 0"
        " WHERE chat_id = :chat_id AND finished_at IS NOT NULL",
        params,
    )


async def _cancel_anniversaries(conn: Connection, customer_id: int, now: int) -> None:
    """Queued thank-yous whose outbox row was just expired end as failed, so a
    running send's "left" count still reaches zero."""
    await conn.execute(
        f"UPDATE anniversary_sends SET status = '{AnniversarySendStatus.FAILED}',"
        " last_error = :reason, updated_at = :now WHERE customer_id = :id"
        f" AND status IN ('{AnniversarySendStatus.CLAIMED}', '{AnniversarySendStatus.QUEUED}')"
        " AND (outbox_id IS NULL OR outbox_id IN (SELECT id FROM outbox"
        f" WHERE status = '{OutboxStatus.EXPIRED}' AND last_error = :reason))",
        {"id": customer_id, "now": now, "reason": FORGOTTEN},
    )


async def _erase_case_messages(
    conn: Connection, customer_id: int, telegram_id: int | None
) -> None:
    params = {"id": customer_id, "tid": telegram_id}
    await conn.execute(
        "UPDATE case_events SET text = '' WHERE kind = 'message_in' AND text IS NOT NULL"
        " AND case_id IN (SELECT id FROM cases WHERE customer_id = :id)",
        params,
    )
    if telegram_id is not None:
        await conn.execute(
            "UPDATE case_events SET actor_id = NULL, actor_name = NULL"
            " WHERE actor_id = :tid AND case_id IN (SELECT id FROM cases WHERE customer_id = :id)",
            params,
        )
