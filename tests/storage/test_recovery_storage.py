"""Closing the loop, measured: the recovery counters kept by the case state machine and
the survey answers, on both databases, checked against hand-computed values and
against a rebuild from the cases."""

from __future__ import annotations

import itertools
import json
from datetime import timedelta

import pytest

from bot.cases.service import CaseService, CaseStatus, Direction, EventKind
from bot.core.clock import FakeClock, to_ms
from storage import recovery
from storage import reports as queries
from storage import webhooks as webhook_repo
from storage.db import Database
from storage.db.migrate import migration_files, render_migration
from storage.rollups import Tally

ALICE = 101
_numbers = itertools.count(1)


async def add_customer(db: Database, telegram_id: int | None = None) -> int:
    async with db.transaction() as conn:
        row = await conn.fetch_one(
            "INSERT INTO customers (telegram_id, name, created_at, updated_at)"
            " VALUES (:tg, 'Olena', 0, 0) RETURNING id",
            {"tg": telegram_id},
        )
    assert row is not None
    return int(row["id"])


async def add_survey(
    db: Database,
    customer_id: int,
    *,
    visited_at: int,
    nps: int | None = 3,
    day: str = "2026-11-23",
    location: str = "Podil",
) -> int:
    number = next(_numbers)
    async with db.transaction() as conn:
        visit = await conn.fetch_one(
            "INSERT INTO visits (visit_key, customer_id, visited_at, location, staff, source,"
            " outcome, day, created_at) VALUES (:key, :customer_id, :at, :location, 'Ivan',"
            " 'api', 'scheduled', :day, :at) RETURNING id",
            {
                "key": f"v{number}",
                "customer_id": customer_id,
                "at": visited_at,
                "location": location,
                "day": day,
            },
        )
        assert visit is not None
        survey = await conn.fetch_one(
            "INSERT INTO surveys (visit_id, customer_id, location, staff, day, status, step,"
            " due_at, deadline_at, language, nps, created_at) VALUES (:visit_id, :customer_id,"
            " :location, 'Ivan', :day, 'sent', 'ces', :at, :at, 'en', :nps, :at) RETURNING id",
            {
                "visit_id": visit["id"],
                "customer_id": customer_id,
                "at": visited_at,
                "nps": nps,
                "location": location,
                "day": day,
            },
        )
    assert survey is not None
    return int(survey["id"])


@pytest.fixture
def service(db: Database, clock: FakeClock) -> CaseService:
    return CaseService(db, clock, take_sla_minutes=30, resolve_sla_hours=48, followup_days=14)


async def open_case(
    db: Database,
    service: CaseService,
    clock: FakeClock,
    *,
    location: str = "Podil",
    telegram_id: int | None = None,
) -> int:
    customer_id = await add_customer(db, telegram_id)
    survey_id = await add_survey(db, customer_id, visited_at=to_ms(clock.now()), location=location)
    async with db.transaction() as conn:
        result = await service.open_for_survey(conn, survey_id, customer_id, clock.now())
    assert result.case is not None
    return result.case.id


async def counters(db: Database, location: str | None = None) -> dict[str, int]:
    """The period's recovery events, of one location or summed over all."""
    async with db.read() as conn:
        rows = await queries.recovery_totals(conn, "2026-11-01", "2026-11-30")
    total: dict[str, int] = {}
    for row in rows:
        if location is None or row.location == location:
            for event, count in row.events.items():
                total[event] = total.get(event, 0) + count
    return {event: count for event, count in total.items() if count}


async def rebuilt(db: Database) -> dict[str, int]:
    async with db.transaction() as conn:
        await recovery.rebuild(conn, page_size=2)
    return await counters(db)


async def backfilled(db: Database) -> dict[str, int]:
    """What migration 0014 computes for a database from before these counters."""
    sql = next(text for version, _, text in migration_files() if version == 14)
    async with db.transaction() as conn:
        for statement in render_migration(sql, db.dialect):
            await conn.execute(statement)
    return await counters(db)


def test_duration_buckets_hold_their_upper_bound() -> None:
    assert recovery.duration_bucket(0) == "60"
    assert recovery.duration_bucket(60_000) == "60"
    assert recovery.duration_bucket(60_001) == "120"
    assert recovery.duration_bucket(12 * 60_000) == "900"
    assert recovery.duration_bucket(30 * 86_400_000) == "2592000"
    assert recovery.duration_bucket(30 * 86_400_000 + 1) == recovery.OVER
    ratios = [b / a for a, b in itertools.pairwise(recovery.DURATION_BOUNDS)]
    assert max(ratios) <= 2


async def test_a_scripted_set_of_cases_counts_what_happened(
    db: Database, service: CaseService, clock: FakeClock
) -> None:
    # Case A: taken after 4 min, written to after 12 min, resolved telling the customer
    # after 2 h 30 min, followed up 14 days later, "yes".
    a = await open_case(db, service, clock, telegram_id=5001)
    start = clock.now()
    clock.set(start + timedelta(minutes=4))
    assert (await service.take(a, ALICE, "Alice")).changed
    clock.set(start + timedelta(minutes=12))
    await service.record_message(a, Direction.OUT, ALICE, "Alice", "Sorry!")
    clock.set(start + timedelta(minutes=13))
    await service.record_message(a, Direction.OUT, ALICE, "Alice", "Come back")  # not a first
    clock.set(start + timedelta(hours=2, minutes=30))
    assert (await service.resolve(a, ALICE, "coffee", True)).ok
    clock.set(start + timedelta(days=15))
    assert (await service.mark_followup_sent(a)).changed
    assert (await service.answer_followup(a, 5001, True)).ok

    # Case B (another location): taken after 50 min, resolved silently after 20 h.
    clock.set(start)
    b = await open_case(db, service, clock, location="Obolon")
    clock.set(start + timedelta(minutes=50))
    await service.take(b, ALICE, "Alice")
    clock.set(start + timedelta(hours=20))
    assert (await service.resolve(b, ALICE, "fixed the till", False)).ok

    # Case C: closed without a fix by a manager after 3 days, never taken.
    clock.set(start)
    c = await open_case(db, service, clock)
    clock.set(start + timedelta(days=3))
    assert (await service.close_without_fix(c, ALICE, "a prank")).ok

    # Case D: still new.
    clock.set(start)
    await open_case(db, service, clock)

    expected_podil = {
        "opened": 3,
        "take:300": 1,  # 4 min -> the 5 min bucket
        "contact:900": 1,  # 12 min -> 15 min
        "resolve:notified:10800": 1,  # 2 h 30 min -> 3 h
        "resolve:closed:259200": 1,  # 3 days exactly -> 3 d
        "followup_asked": 1,
        "followup_yes": 1,
    }
    expected_obolon = {"opened": 1, "take:3600": 1, "resolve:silent:86400": 1}
    assert await counters(db, "Podil") == expected_podil
    assert await counters(db, "Obolon") == expected_obolon
    everything = await counters(db)
    assert await rebuilt(db) == everything
    assert await backfilled(db) == everything


async def test_a_no_reopens_the_case_and_takes_its_resolution_back(
    db: Database, service: CaseService, clock: FakeClock
) -> None:
    case_id = await open_case(db, service, clock, telegram_id=5002)
    start = clock.now()
    await service.take(case_id, ALICE, "Alice")
    clock.set(start + timedelta(hours=1))
    await service.resolve(case_id, ALICE, "coffee", True)
    clock.set(start + timedelta(days=14, hours=1))
    await service.mark_followup_sent(case_id)
    before = await counters(db)
    assert before["resolve:notified:3600"] == 1
    async with db.transaction() as conn:  # an integrator listens for reopened cases
        await webhook_repo.put_endpoint(
            conn, "crm", url="https://crm.example/hook", secret=None,
            new_secret="whsec_" + "A" * 32, events=["case.reopened"], now=0,
        )  # fmt: skip

    clock.set(start + timedelta(days=14, hours=2))
    result = await service.answer_followup(case_id, 5002, False)
    assert result.ok and result.reopened and result.case is not None
    case = result.case
    now = to_ms(clock.now())
    assert case.status == CaseStatus.TAKEN and case.owner_id == ALICE
    assert case.resolve_due_at == now + 48 * 3_600_000  # the SLA restarts now
    assert case.escalated_resolve_at is None and case.resolved_at is None
    assert case.reopened_count == 1 and case.reopened_at == now
    assert case.followup_answer == "no"
    kinds = [event.kind for event in await service.history(case_id)]
    assert kinds[-2:] == [EventKind.FOLLOWUP_ANSWER, EventKind.REOPENED]
    async with db.read() as conn:
        [queued] = await webhook_repo.log(conn, limit=10)
    case_data = json.loads(queued.payload)["data"]["case"]
    assert (queued.event, case_data["id"], case_data["status"]) == (
        "case.reopened",
        case_id,
        "taken",
    )
    after = await counters(db)
    assert after.get("resolve:notified:3600", 0) == 0
    assert after["reopened"] == 1 and after["followup_no"] == 1
    # A second "no" (an old button) changes nothing.
    again = await service.answer_followup(case_id, 5002, False)
    assert again.refusal is not None and await counters(db) == after

    # Resolved again after 15 days in all: counted once, with the new time; asked again.
    clock.set(start + timedelta(days=15))
    assert (await service.resolve(case_id, ALICE, "replaced it", True)).ok
    final = await counters(db)
    assert final["resolve:notified:1814400"] == 1  # 15 days -> the 21 d bucket
    assert sum(n for e, n in final.items() if e.startswith("resolve:")) == 1
    clock.set(start + timedelta(days=29, hours=1))
    assert [t.case_id for t in await service.due_followups()] == [case_id]
    assert await rebuilt(db) == final
    assert await backfilled(db) == final


async def test_only_a_resolved_case_reopens(
    db: Database, service: CaseService, clock: FakeClock
) -> None:
    case_id = await open_case(db, service, clock)
    assert (await service.reopen(case_id)).refusal is not None
    await service.take(case_id, ALICE, "Alice")
    assert (await service.reopen(case_id)).refusal is not None
    assert "reopened" not in await counters(db)


async def test_a_detractor_coming_back_is_counted_once_on_their_first_visit(
    db: Database, clock: FakeClock
) -> None:
    customer = await add_customer(db)
    base = to_ms(clock.now())
    first = await add_survey(db, customer, visited_at=base, nps=4, day="2026-11-02")
    second = await add_survey(
        db, customer, visited_at=base + 86_400_000, nps=None, day="2026-11-03", location="Obolon"
    )
    third = await add_survey(db, customer, visited_at=base + 2 * 86_400_000, nps=None)

    async def answer(survey_id: int, score: int) -> bool:
        async with db.transaction() as conn:
            await conn.execute(
                "UPDATE surveys SET nps = :score WHERE id = :id", {"score": score, "id": survey_id}
            )
            tally = Tally()
            counted = await recovery.note_comeback(conn, tally, survey_id, customer, score)
            await tally.write(conn)
        return counted

    assert await answer(second, 9)
    assert await counters(db, "Podil") == {"next:promoters": 1}
    assert not await answer(third, 2)  # its previous one was a promoter's
    assert await counters(db) == {"next:promoters": 1}
    # The first survey names its comeback; a repeat of the second's answer counts nothing.
    assert not await answer(second, 9)
    async with db.read() as conn:
        row = await conn.fetch_one(
            "SELECT next_survey_id, next_nps FROM surveys WHERE id = :id", {"id": first}
        )
    assert row == {"next_survey_id": second, "next_nps": 9}
    assert await rebuilt(db) == {"next:promoters": 1}
    # A database from before: the migration finds the comeback by visit time.
    async with db.transaction() as conn:
        await conn.execute("UPDATE surveys SET next_survey_id = NULL, next_nps = NULL")
    assert await backfilled(db) == {"next:promoters": 1}
    async with db.read() as conn:
        again = await conn.fetch_one(
            "SELECT next_survey_id, next_nps FROM surveys WHERE id = :id", {"id": first}
        )
    assert again == row
