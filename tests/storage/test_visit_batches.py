"""VisitService.register_many, on SQLite and PostgreSQL: a batch decides and writes what
the same visits registered one by one would (every rule: customers by Telegram id,
external id and phone, the policy, quiet hours, the catalogue, the cooldown and the
customer's first day moved by the batch's own earlier visits, the funnel), and a key
another transaction commits meanwhile is read as a duplicate, not written twice."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.core.clock import FakeClock
from bot.core.policy import SurveyPolicy
from bot.visits.service import VisitError, VisitOutcome, VisitRequest, VisitService
from storage import customers, locations, visits
from storage.db import Database
from storage.locations import LocationFields, LocationSource
from tests.support.settings import make_settings

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
MSK = "+03:00"


def _service(db: Database, tmp_path: Path) -> VisitService:
    settings = make_settings(tmp_path, quiet_hours="21:00-08:00", visit_max_age="24h")
    return VisitService(db, FakeClock(NOW), SurveyPolicy.from_settings(settings))


async def _customers(db: Database, base: int, group: str) -> dict[str, int]:
    """Ann and Bob (in Telegram), Olga (opted out), a CRM customer never linked."""
    found = {}
    async with db.transaction() as conn:
        for offset, name in enumerate(("ann", "bob", "olga")):
            profile = customers.TelegramProfile(base + offset, name, None, "en")
            found[name] = (await customers.upsert_telegram(conn, profile, 0)).id
        await customers.set_opted_out(conn, found["olga"], True, 0)
        record = customers.CrmCustomer(f"crm-{group}", f"+7916000{base}", None, None, None)
        found["crm"] = (await customers.upsert_crm(conn, record, 0))[0].id
    return found


def _requests(base: int, group: str) -> list[VisitRequest]:
    def at(text: str) -> datetime:
        return datetime.fromisoformat(text)

    return [
        # 22:00 in Vladivostok: held by quiet hours until 08:00 there.
        VisitRequest(f"{group}-1", telegram_id=base, location="vlad"),
        # Ann again: the cooldown reads the survey this batch just scheduled.
        VisitRequest(f"{group}-2", telegram_id=base, location=f"new-{group}"),
        VisitRequest(f"{group}-3", telegram_id=base + 1, visited_at=at(f"2026-11-23T14:30{MSK}")),
        # Bob's visit of three days ago: too old, and his first day moves back.
        VisitRequest(f"{group}-4", telegram_id=base + 1, visited_at=at(f"2026-11-20T10:00{MSK}")),
        VisitRequest(f"{group}-5", telegram_id=base + 99),
        VisitRequest(f"{group}-6", telegram_id=base + 2),
        VisitRequest(f"{group}-7", phone=f"+7 916 000 {base}"),
        VisitRequest(f"{group}-8", external_id=f"crm-{group}", staff="Olga"),
        VisitRequest(f"{group}-1", telegram_id=base + 1),
        VisitRequest(f"{group}-9", telegram_id=base + 1, visited_at=NOW + timedelta(hours=1)),
    ]


def _summary(result: VisitOutcome | VisitError) -> tuple[Any, ...]:
    if isinstance(result, VisitError):
        return ("error", str(result))
    return (result.status, result.reason, result.due_at, result.duplicate)


async def _state(db: Database, ids: dict[str, int]) -> dict[str, Any]:
    async with db.read() as conn:
        people = {}
        for name, customer_id in ids.items():
            customer = await customers.get(conn, customer_id)
            assert customer is not None
            people[name] = (customer.last_surveyed_at, customer.customer_since)
        counts = {}
        for table in ("visits", "surveys", "outbox", "locations"):
            row = await conn.fetch_one(f"SELECT COUNT(*) AS n FROM {table}")
            assert row is not None
            counts[table] = int(row["n"])
        funnel = await conn.fetch_all(
            "SELECT day, event, SUM(count) AS n FROM funnel_daily GROUP BY day, event"
        )
    return {
        "people": people,
        "counts": counts,
        "funnel": {(row["day"], row["event"]): int(row["n"]) for row in funnel},
    }


async def test_a_batch_writes_what_the_visits_one_by_one_write(
    db: Database, tmp_path: Path
) -> None:
    service = _service(db, tmp_path)
    async with db.transaction() as conn:
        fields = LocationFields("Vladivostok", time_zone="Asia/Vladivostok")
        await locations.upsert(conn, "vlad", fields, LocationSource.API, 0)
    empty = await _state(db, {})
    one_ids = await _customers(db, 501, "one")
    many_ids = await _customers(db, 601, "many")
    start = await _state(db, {})

    one_by_one: list[VisitOutcome | VisitError] = []
    for request in _requests(501, "one"):
        try:
            one_by_one.append(await service.register(request))
        except VisitError as error:
            one_by_one.append(error)
    after_one = await _state(db, one_ids)
    batched = await service.register_many(_requests(601, "many"))
    after_many = await _state(db, many_ids)

    assert [_summary(r) for r in batched] == [_summary(r) for r in one_by_one]
    assert [_summary(r)[:2] for r in batched] == [
        ("scheduled", None),
        ("skipped", "cooldown"),
        ("scheduled", None),
        ("skipped", "too_old"),
        ("skipped", "unknown_customer"),
        ("skipped", "opted_out"),
        ("skipped", "not_linked"),
        ("skipped", "not_linked"),
        ("scheduled", None),  # the first's outcome
        ("error", "visited_at: is in the future"),
    ]
    held = batched[0]
    assert isinstance(held, VisitOutcome) and held.due_at == datetime(2026, 11, 23, 22, tzinfo=UTC)
    assert after_many["people"] == after_one["people"]
    assert after_one["people"]["bob"][1] == "2026-11-20"
    for table, count in after_one["counts"].items():
        added = count - start["counts"][table]
        assert after_many["counts"][table] - count == added, table
    assert after_one["counts"]["locations"] - empty["counts"]["locations"] == 1
    assert {
        key: n - after_one["funnel"].get(key, 0) for key, n in after_many["funnel"].items()
    } == after_one["funnel"]


async def test_a_key_committed_meanwhile_is_a_duplicate(db: Database, tmp_path: Path) -> None:
    """Another instance's transaction holds the key when the batch writes (PostgreSQL:
    the batch waits on the unique index, then decides again and reads it as known)."""
    if db.dialect != "postgresql":
        pytest.skip("SQLite serialises writers: no transaction can commit meanwhile")
    service = _service(db, tmp_path)
    other = visits.NewVisit("k-1", None, 0, None, "", "", "", "api", "2026-11-23")
    async with db.transaction() as conn:
        theirs = await visits.insert(conn, other, "skipped", "unknown_customer", 0)
        assert theirs is not None
        holder = await conn.fetch_one("SELECT pg_backend_pid() AS pid")
        assert holder is not None
        batch = asyncio.create_task(
            service.register_many([VisitRequest("k-0"), VisitRequest("k-1"), VisitRequest("k-2")])
        )
        await _until_blocked_by(db, int(holder["pid"]))
    results = await batch
    assert [_summary(r)[1:] for r in results] == [
        ("unknown_customer", None, False),
        ("unknown_customer", None, True),
        ("unknown_customer", None, False),
    ]
    assert isinstance(results[1], VisitOutcome) and results[1].visit_id == theirs.id
    async with db.read() as conn:
        row = await conn.fetch_one("SELECT COUNT(*) AS n FROM visits")
    assert row is not None and row["n"] == 3


async def _until_blocked_by(db: Database, pid: int) -> None:
    """Until a session waits for a lock that the session `pid` holds."""
    async with asyncio.timeout(5):
        while True:
            async with db.read() as conn:
                row = await conn.fetch_one(
                    "SELECT COUNT(*) AS n FROM pg_stat_activity"
                    " WHERE CAST(:pid AS integer) = ANY(pg_blocking_pids(pid))",
                    {"pid": pid},
                )
            if row is not None and row["n"]:
                return
            await asyncio.sleep(0.01)


async def test_with_unknown_locations_refused_only_that_visit_is(
    db: Database, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path)
    service = VisitService(
        db, FakeClock(NOW), SurveyPolicy.from_settings(settings), refuse_unknown_locations=True
    )
    async with db.transaction() as conn:
        await customers.upsert_telegram(conn, customers.TelegramProfile(501, "Ann", None, "en"), 0)
        await locations.upsert(conn, "main", LocationFields("Main"), LocationSource.API, 0)
    results = await service.register_many(
        [
            VisitRequest("u-1", telegram_id=501, location="nowhere"),
            VisitRequest("u-2", telegram_id=501, location="main"),
            VisitRequest("u-1", telegram_id=501, location="main"),  # u-1 wrote nothing
        ]
    )
    assert [_summary(r)[:2] for r in results] == [
        ("error", "location: 'nowhere' is not in the catalogue"),
        ("scheduled", None),
        ("skipped", "cooldown"),
    ]
    async with db.read() as conn:
        assert [location.code for location in await locations.all_locations(conn)] == ["main"]
