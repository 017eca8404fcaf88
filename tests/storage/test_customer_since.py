"""When a customer's relationship started ("since", the anniversaries' date): the CRM's
date, else the local day of their earliest recorded visit, which a visit reported later
with an earlier date moves back, in the visit's own transaction. On SQLite and
PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.anniversaries import service as anniv
from bot.core.clock import FakeClock
from bot.core.policy import SurveyPolicy
from bot.visits.service import VisitRequest, VisitService
from storage import customers, privacy
from storage.db import (
    Connection,
    Database,
    migrate,
)
from tests.support.databases import database_before
from tests.support.settings import make_settings

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
SINCE_SOURCE_MIGRATION = 9


async def _since(db: Database, customer_id: int) -> tuple[str | None, str | None, str | None]:
    async with db.read() as conn:
        row = await conn.fetch_one(
            "SELECT customer_since, since_md, since_source FROM customers WHERE id = :id",
            {"id": customer_id},
        )
    assert row is not None
    return row["customer_since"], row["since_md"], row["since_source"]


async def _crm(db: Database, external_id: str, since: str | None) -> int:
    async with db.transaction() as conn:
        record = customers.CrmCustomer(external_id, None, None, None, since)
        customer, _ = await customers.upsert_crm(conn, record, 0)
    return customer.id


async def test_an_earlier_visit_moves_a_date_from_visits_back_never_a_crm_date(
    db: Database, tmp_path: Path
) -> None:
    service = VisitService(
        db,
        FakeClock(NOW),
        SurveyPolicy.from_settings(make_settings(tmp_path, timezone="Europe/Moscow")),
    )

    async def visit(
        key: str, at: str, *, telegram_id: int | None = None, external_id: str | None = None
    ) -> None:
        await service.register(
            VisitRequest(
                key,
                telegram_id=telegram_id,
                external_id=external_id,
                visited_at=datetime.fromisoformat(at),
            )
        )

    async with db.transaction() as conn:
        ann = await customers.upsert_telegram(
            conn, customers.TelegramProfile(501, "Ann", None, "en"), 0
        )
    boris = await _crm(db, "crm-boris", "2020-01-15")
    carl = await _crm(db, "crm-carl", None)

    await visit("a1", "2026-11-23T11:00:00+00:00", telegram_id=501)
    assert await _since(db, ann.id) == ("2026-11-23", "11-23", "visit")
    # Reported today, it happened on 31 March at 22:30 UTC: 1 April in Moscow.
    await visit("a0", "2026-03-31T22:30:00+00:00", telegram_id=501)
    assert await _since(db, ann.id) == ("2026-04-01", "04-01", "visit")
    await visit("a2", "2026-06-01T10:00:00+00:00", telegram_id=501)
    assert await _since(db, ann.id) == ("2026-04-01", "04-01", "visit")

    await visit("b0", "2019-05-01T10:00:00+00:00", external_id="crm-boris")
    assert await _since(db, boris) == ("2020-01-15", "01-15", "crm")

    await visit("c1", "2026-11-23T11:00:00+00:00", external_id="crm-carl")
    await visit("c0", "2025-02-10T10:00:00+00:00", external_id="crm-carl")
    assert await _since(db, carl) == ("2025-02-10", "02-10", "visit")
    # The CRM learns the real date: it wins, and no visit moves it any more.
    assert await _crm(db, "crm-carl", "2025-06-01") == carl
    await visit("c-1", "2024-01-01T10:00:00+00:00", external_id="crm-carl")
    assert await _since(db, carl) == ("2025-06-01", "06-01", "crm")

    # Ann is thanked on the anniversary of the visit that was reported late.
    async with db.read() as conn:
        day_plan = await anniv.plan_for(conn, date(2027, 4, 1))
    assert [(c.customer_id, c.years) for c in day_plan.to_send] == [(ann.id, 1)]


async def test_a_repeated_visit_key_moves_nothing(db: Database, tmp_path: Path) -> None:
    """The date moves only with a visit that is recorded: a repeated key is not."""
    service = VisitService(db, FakeClock(NOW), SurveyPolicy.from_settings(make_settings(tmp_path)))
    async with db.transaction() as conn:
        ann = await customers.upsert_telegram(
            conn, customers.TelegramProfile(501, "Ann", None, "en"), 0
        )
    first = VisitRequest("k", telegram_id=501, visited_at=NOW)
    assert not (await service.register(first)).duplicate
    again = VisitRequest("k", telegram_id=501, visited_at=datetime(2025, 1, 1, tzinfo=UTC))
    assert (await service.register(again)).duplicate
    assert await _since(db, ann.id) == ("2026-11-23", "11-23", "visit")


async def test_a_forgotten_customer_gets_no_date_back(db: Database) -> None:
    async with db.transaction() as conn:
        ann = await customers.upsert_telegram(
            conn, customers.TelegramProfile(501, "Ann", None, "en"), 0
        )
        assert await customers.since_from_visit(conn, ann.id, "2026-11-23")
        assert not await customers.since_from_visit(conn, ann.id, "2026-11-24")
        assert await privacy.forget_customer(conn, ann.id, 1)
        assert not await customers.since_from_visit(conn, ann.id, "2026-01-01")
    assert await _since(db, ann.id) == (None, None, None)


# --- upgrading a database from before since_source ------------------------------------


@pytest.fixture(params=["sqlite", "postgres"])
async def old_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A database migrated up to, not including, the since_source migration."""
    async with database_before(request.param, tmp_path, SINCE_SOURCE_MIGRATION) as database:
        yield database


async def _old_customer(
    conn: Connection,
    since: str | None,
    visit_days: tuple[str, ...],
    *,
    external_id: str | None = None,
    forgotten_at: int | None = None,
) -> int:
    row = await conn.fetch_one(
        "INSERT INTO customers (external_id, customer_since, since_md, forgotten_at,"
        " created_at, updated_at) VALUES (:ext, :since, :md, :forgotten, 0, 0) RETURNING id",
        {
            "ext": external_id,
            "since": since,
            "md": since[5:] if since else None,
            "forgotten": forgotten_at,
        },
    )
    assert row is not None
    customer_id = int(row["id"])
    for day in visit_days:
        await conn.execute(
            "INSERT INTO visits (visit_key, customer_id, visited_at, source, outcome, day,"
            " created_at) VALUES (:key, :id, 0, 'api', 'skipped', :day, 0)",
            {"key": f"{customer_id}-{day}", "id": customer_id, "day": day},
        )
    return customer_id


async def test_upgrade_tells_visit_dates_from_crm_dates_and_repairs_them(
    old_db: Database,
) -> None:
    async with old_db.transaction() as conn:
        # Set by the first visit recorded, although an earlier one was reported later.
        out_of_order = await _old_customer(conn, "2026-05-10", ("2026-05-10", "2026-03-02"))
        crm = await _old_customer(conn, "2020-01-01", ("2019-06-01",), external_id="x")
        # A CRM customer whose date came from a visit cannot be told from a CRM date.
        crm_no_date = await _old_customer(
            conn, "2026-05-10", ("2026-05-10", "2026-03-02"), external_id="y"
        )
        merged = await _old_customer(conn, None, ("2025-07-07", "2025-08-01"))
        no_visits = await _old_customer(conn, None, ())
        forgotten = await _old_customer(conn, None, ("2025-07-07",), forgotten_at=5)
    assert SINCE_SOURCE_MIGRATION in await migrate(old_db)
    assert await _since(old_db, out_of_order) == ("2026-03-02", "03-02", "visit")
    assert await _since(old_db, crm) == ("2020-01-01", "01-01", "crm")
    assert await _since(old_db, crm_no_date) == ("2026-05-10", "05-10", "crm")
    assert await _since(old_db, merged) == ("2025-07-07", "07-07", "visit")
    assert await _since(old_db, no_visits) == (None, None, None)
    assert await _since(old_db, forgotten) == (None, None, None)
    async with old_db.transaction() as conn:
        assert await customers.since_from_visit(conn, out_of_order, "2026-01-01")
        assert not await customers.since_from_visit(conn, crm_no_date, "2026-01-01")


async def test_a_merged_record_brings_its_earlier_visits_date(db: Database) -> None:
    """A Telegram-only record folded into the CRM's: its visits, and so its date, move
    over, unless the CRM has a date of its own."""
    crm_without = await _crm(db, "crm-a", None)
    crm_with = await _crm(db, "crm-b", "2023-03-03")
    async with db.transaction() as conn:
        for telegram_id, target in ((601, crm_without), (602, crm_with)):
            profile = customers.TelegramProfile(telegram_id, "Ann", None, "en")
            source = await customers.upsert_telegram(conn, profile, 0)
            assert await customers.since_from_visit(conn, source.id, "2021-02-10")
            await customers.merge_into(conn, source.id, target, 0)
    assert await _since(db, crm_without) == ("2021-02-10", "02-10", "visit")
    assert await _since(db, crm_with) == ("2023-03-03", "03-03", "crm")
