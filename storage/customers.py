"""Customers: who can be surveyed, how they are found, and what they asked for."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from storage.db import Connection, for_update, id_in
from storage.models import Customer

_NON_DIGITS = re.compile(r"\D")


def normalize_phone(phone: str) -> str | None:
    """`+7 (916) 123-45-67`, `79161234567` -> `+79161234567`; None if it is no phone."""
    digits = _NON_DIGITS.sub("", phone or "")
    if not 7 <= len(digits) <= 15:
        return None
    return "+" + digits


@dataclass(slots=True, frozen=True)
class TelegramProfile:
    telegram_id: int
    name: str | None
    username: str | None
    language: str | None


async def get(conn: Connection, customer_id: int) -> Customer | None:
    row = await conn.fetch_one("SELECT * FROM customers WHERE id = :id", {"id": customer_id})
    return Customer.from_row(row) if row else None


async def lock(conn: Connection, customer_id: int) -> Customer | None:
    """Re-read a customer, locked until the transaction ends (PostgreSQL), for a
    decision that depends on its row, such as the survey cooldown."""
    row = await conn.fetch_one(
        f"SELECT * FROM customers WHERE id = :id{for_update(conn)}", {"id": customer_id}
    )
    return Customer.from_row(row) if row else None


async def by_telegram_id(conn: Connection, telegram_id: int) -> Customer | None:
    row = await conn.fetch_one(
        "SELECT * FROM customers WHERE telegram_id = :tid", {"tid": telegram_id}
    )
    return Customer.from_row(row) if row else None


async def by_phone(conn: Connection, phone: str) -> Customer | None:
    normalized = normalize_phone(phone)
    if normalized is None:
        return None
    row = await conn.fetch_one(
        "SELECT * FROM customers WHERE phone = :phone", {"phone": normalized}
    )
    return Customer.from_row(row) if row else None


async def by_external_id(conn: Connection, external_id: str) -> Customer | None:
    row = await conn.fetch_one(
        "SELECT * FROM customers WHERE external_id = :ext", {"ext": external_id}
    )
    return Customer.from_row(row) if row else None


async def by_link_token(conn: Connection, token: str) -> Customer | None:
    row = await conn.fetch_one(
        "SELECT * FROM customers WHERE link_token = :token", {"token": token}
    )
    return Customer.from_row(row) if row else None


async def for_visits(
    conn: Connection,
    *,
    telegram_ids: Sequence[int] = (),
    external_ids: Sequence[str] = (),
    phones: Sequence[str] = (),
) -> list[Customer]:
    """The customers that visits name by Telegram id, external id or (normalized) phone,
    read in one query and locked until the transaction ends (PostgreSQL), in id order
    so that two transactions locking some of the same customers wait, never deadlock:
    the survey cooldown depends on their rows."""
    if not (telegram_ids or external_ids or phones):
        return []
    by_tid, tids = id_in(conn, "telegram_id", telegram_ids, "tids")
    by_ext, exts = id_in(conn, "external_id", external_ids, "exts")
    by_phone, numbers = id_in(conn, "phone", phones, "phones")
    rows = await conn.fetch_all(
        f"SELECT * FROM customers WHERE {by_tid} OR {by_ext} OR {by_phone}"
        f" ORDER BY id{for_update(conn)}",
        {"tids": tids, "exts": exts, "phones": numbers},
    )
    return [Customer.from_row(row) for row in rows]


async def upsert_telegram(conn: Connection, profile: TelegramProfile, now: int) -> Customer:
    """Register a customer who wrote to the bot, or refresh their name and language."""
    row = await conn.fetch_one(
        "INSERT INTO customers (telegram_id, name, username, language, created_at, updated_at)"
        " VALUES (:tid, :name, :username, :language, :now, :now)"
        " ON CONFLICT (telegram_id) DO UPDATE SET"
        "  name = COALESCE(excluded.name, customers.name),"
        "  username = excluded.username,"
        "  language = COALESCE(excluded.language, customers.language),"
        "  updated_at = excluded.updated_at"
        " RETURNING *",
        {
            "tid": profile.telegram_id,
            "name": profile.name,
            "username": profile.username,
            "language": profile.language,
            "now": now,
        },
    )
    assert row is not None
    return Customer.from_row(row)


async def set_opted_out(conn: Connection, customer_id: int, opted_out: bool, now: int) -> None:
    await conn.execute(
        "UPDATE customers SET opted_out = :flag, updated_at = :now WHERE id = :id",
        {"flag": int(opted_out), "now": now, "id": customer_id},
    )


async def set_reachable(conn: Connection, customer_id: int, now: int) -> None:
    await conn.execute(
        "UPDATE customers SET unreachable = 0, unreachable_reason = NULL, updated_at = :now"
        " WHERE id = :id",
        {"now": now, "id": customer_id},
    )


async def mark_unreachable(conn: Connection, telegram_id: int, reason: str, now: int) -> int:
    """Telegram said this chat cannot be written to; returns rows changed."""
    return await conn.execute(
        "UPDATE customers SET unreachable = 1, unreachable_reason = :reason, updated_at = :now"
        " WHERE telegram_id = :tid",
        {"reason": reason[:200], "now": now, "tid": telegram_id},
    )


async def set_last_surveyed(conn: Connection, customer_id: int, at: int) -> None:
    await set_last_surveyed_many(conn, {customer_id: at})


async def set_last_surveyed_many(conn: Connection, last: Mapping[int, int]) -> None:
    """Each customer's last_surveyed_at (what the survey cooldown reads), by id."""
    if last:
        await conn.execute_many(
            "UPDATE customers SET last_surveyed_at = :at WHERE id = :id",
            [{"at": at, "id": customer_id} for customer_id, at in sorted(last.items())],
        )


async def set_phone(conn: Connection, customer_id: int, phone: str, now: int) -> None:
    await conn.execute(
        "UPDATE customers SET phone = :phone, updated_at = :now WHERE id = :id",
        {"phone": phone, "now": now, "id": customer_id},
    )


async def merge_into(conn: Connection, source_id: int, target_id: int, now: int) -> None:
    """Fold a Telegram-only record into a CRM record: the CRM row keeps both identities.

    Used when a customer who already pressed Start later opens their CRM deep link or
    shares a phone that the CRM knows. The CRM row is locked and checked again, so
    that two chats claiming one CRM record at once cannot both take it."""
    source = await get(conn, source_id)
    if source is None or source_id == target_id:
        return
    target = await lock(conn, target_id)
    if target is None or target.telegram_id not in (None, source.telegram_id):
        return
    for table in ("visits", "surveys"):
        await conn.execute(
            f"UPDATE {table} SET customer_id = :target WHERE customer_id = :source",
            {"target": target_id, "source": source_id},
        )
    await conn.execute("DELETE FROM customers WHERE id = :id", {"id": source_id})
    await conn.execute(
        "UPDATE customers SET telegram_id = :tid, username = COALESCE(:username, username),"
        " language = COALESCE(language, :language), name = COALESCE(name, :name),"
        " phone = COALESCE(phone, :phone), opted_out = :opted_out,"
        " last_surveyed_at = CASE WHEN last_surveyed_at IS NULL OR last_surveyed_at < :last"
        "   THEN :last ELSE last_surveyed_at END,"
        " unreachable = 0, unreachable_reason = NULL, updated_at = :now WHERE id = :id",
        {
            "tid": source.telegram_id,
            "username": source.username,
            "language": source.language,
            "name": source.name,
            "phone": source.phone,
            "opted_out": source.opted_out,
            "last": source.last_surveyed_at,
            "now": now,
            "id": target_id,
        },
    )
    if source.customer_since is not None:
        # The source's date came from its visits, which are the target's now.
        await since_from_visit(conn, target_id, source.customer_since)


@dataclass(slots=True, frozen=True)
class CrmCustomer:
    external_id: str
    phone: str | None
    name: str | None
    language: str | None
    customer_since: str | None  # YYYY-MM-DD


class PhoneTaken(ValueError):
    """A CRM record's phone is already another CRM customer's; nothing was changed."""

    def __init__(self, phone: str) -> None:
        super().__init__(f"phone {phone} belongs to another customer (another external_id)")


async def upsert_crm(conn: Connection, record: CrmCustomer, now: int) -> tuple[Customer, bool]:
    """Create or update a CRM customer by external_id; returns (customer, created).

    A phone already known from a Telegram contact joins that record instead of
    creating a second one."""
    existing = await by_external_id(conn, record.external_id)
    if existing is None and record.phone:
        by_phone_row = await by_phone(conn, record.phone)
        if by_phone_row is not None and by_phone_row.external_id is None:
            existing = by_phone_row
    since_md = record.customer_since[5:10] if record.customer_since else None
    params = {
        "ext": record.external_id,
        "phone": record.phone,
        "name": record.name,
        "language": record.language,
        "since": record.customer_since,
        "since_md": since_md,
        "since_source": "crm" if record.customer_since else None,
        "now": now,
    }
    if existing is None:
        params["token"] = secrets.token_urlsafe(12)
        row = await conn.fetch_one(
            "INSERT INTO customers (external_id, phone, name, language, customer_since,"
            " since_md, since_source, link_token, created_at, updated_at)"
            " VALUES (:ext, :phone, :name, :language, :since, :since_md, :since_source,"
            " :token, :now, :now)"
            # No conflict target: on PostgreSQL a concurrent insert of the same customer
            # may meet the phone's unique index before external_id's, and only a target-less
            # DO NOTHING waits for it there instead of failing.
            " ON CONFLICT DO NOTHING RETURNING *",
            params,
        )
        if row is not None:
            return Customer.from_row(row), True
        if await by_external_id(conn, record.external_id) is None:
            raise PhoneTaken(record.phone or "")
        # The same external_id was inserted concurrently: update it.
        return (await upsert_crm(conn, record, now))[0], False
    params["id"] = existing.id
    params["token"] = existing.link_token or secrets.token_urlsafe(12)
    row = await conn.fetch_one(
        "UPDATE customers SET external_id = :ext, phone = COALESCE(:phone, phone),"
        " name = COALESCE(:name, name), language = COALESCE(:language, language),"
        " customer_since = COALESCE(:since, customer_since),"
        " since_md = COALESCE(:since_md, since_md),"
        " since_source = COALESCE(:since_source, since_source), link_token = :token,"
        " updated_at = :now WHERE id = :id RETURNING *",
        params,
    )
    assert row is not None
    return Customer.from_row(row), False


# A visit on :day starts the relationship when nothing did earlier (since_from_visit).
_SINCE_FROM_VISIT = (
    "UPDATE customers SET customer_since = :day, since_md = :md, since_source = 'visit'"
    " WHERE id = :id AND forgotten_at IS NULL AND (customer_since IS NULL"
    " OR (since_source = 'visit' AND customer_since > :day))"
)


async def since_from_visit(conn: Connection, customer_id: int, day: str) -> bool:
    """A visit on `day` (local, YYYY-MM-DD) starts the relationship when nothing did
    earlier: it sets a missing date and moves one that came from visits back; a CRM
    date is never changed. True when the date changed."""
    count = await conn.execute(_SINCE_FROM_VISIT, {"day": day, "md": day[5:10], "id": customer_id})
    return count == 1


async def since_from_visits(conn: Connection, first_days: Mapping[int, str]) -> None:
    """`since_from_visit` for many customers: each one's earliest visit day, by id."""
    if first_days:
        await conn.execute_many(
            _SINCE_FROM_VISIT,
            [
                {"day": day, "md": day[5:10], "id": customer_id}
                for customer_id, day in sorted(first_days.items())
            ],
        )
