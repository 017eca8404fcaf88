"""Who a customer is: registration on Start, linking to the CRM, phone sharing, opt-in."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.clock import Clock, to_ms
from storage import customers
from storage.customers import CrmCustomer, TelegramProfile, normalize_phone
from storage.db import Database
from storage.models import Customer

CUSTOMER_LINK_PREFIX = "c_"


@dataclass(frozen=True, slots=True)
class StartResult:
    customer: Customer
    opted_back_in: bool
    linked: bool | None = None  # None: no CRM link in the start parameter


class CustomerService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def start(self, profile: TelegramProfile, link_token: str | None = None) -> StartResult:
        """Register or refresh the customer; /start also opts back in and clears
        'unreachable' (they can obviously be reached now)."""
        now = to_ms(self._clock.now())
        async with self._db.transaction() as conn:
            customer = await customers.upsert_telegram(conn, profile, now)
            was_out = bool(customer.opted_out)
            if customer.opted_out:
                await customers.set_opted_out(conn, customer.id, False, now)
            if customer.unreachable:
                await customers.set_reachable(conn, customer.id, now)
            linked: bool | None = None
            if link_token is not None:
                crm = await customers.by_link_token(conn, link_token)
                linked = crm is not None and crm.telegram_id in (None, profile.telegram_id)
                if crm is not None and linked:
                    await customers.merge_into(conn, customer.id, crm.id, now)
            refreshed = await customers.by_telegram_id(conn, profile.telegram_id)
            assert refreshed is not None
        return StartResult(refreshed, was_out, linked)

    async def share_phone(self, profile: TelegramProfile, phone: str) -> Customer | None:
        """Store the phone; a CRM record with that phone adopts this chat."""
        normalized = normalize_phone(phone)
        if normalized is None:
            return None
        now = to_ms(self._clock.now())
        async with self._db.transaction() as conn:
            customer = await customers.upsert_telegram(conn, profile, now)
            crm = await customers.by_phone(conn, normalized)
            if crm is not None and crm.id != customer.id:
                if crm.telegram_id is None:
                    await customers.merge_into(conn, customer.id, crm.id, now)
            else:
                await customers.set_phone(conn, customer.id, normalized, now)
            return await customers.by_telegram_id(conn, profile.telegram_id)

    async def upsert_crm(self, record: CrmCustomer) -> tuple[Customer, bool]:
        now = to_ms(self._clock.now())
        async with self._db.transaction() as conn:
            return await customers.upsert_crm(conn, record, now)

    async def by_telegram_id(self, telegram_id: int) -> Customer | None:
        async with self._db.read() as conn:
            return await customers.by_telegram_id(conn, telegram_id)
