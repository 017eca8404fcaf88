"""Never twice, never silently lost, across instances: claims, 'sending', leases, stop.

Two delivery workers (two owners, two connections) share one database, on SQLite and
on PostgreSQL, and send through aiogram to the fake Bot API server."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from pathlib import Path

from bot.core.clock import FakeClock, to_ms
from storage import leases, outbox
from storage.db import Database
from storage.models import OutboxItem
from tests.support.harness import running_bot
from tests.support.outbox import (
    FIRST_CHAT,
    deliveries,
    enqueue_notes,
    fake_telegram,
    rows,
    worker,
)

FINAL = {"sent", "failed", "expired"}


async def until_all_final(db: Database, seconds: float = 30.0) -> list[OutboxItem]:
    for _ in range(int(seconds / 0.02)):
        found = await rows(db)
        if all(row.status in FINAL for row in found):
            return found
        await asyncio.sleep(0.02)
    raise AssertionError(Counter(row.status for row in await rows(db)))


async def test_two_instances_never_send_a_row_twice(
    db: Database, other_db: Database, clock: FakeClock
) -> None:
    chats = 300
    await enqueue_notes(db, clock, chats)
    async with (
        fake_telegram(chats) as fake,
        worker(db, clock, fake, "instance-a") as (a, _),
        worker(other_db, clock, fake, "instance-b") as (b, _),
    ):
        tasks = [asyncio.create_task(a.run()), asyncio.create_task(b.run())]
        found = await until_all_final(db)
        await a.stop()
        await b.stop()
        await asyncio.gather(*tasks)
    assert Counter(row.status for row in found) == {"sent": chats}
    assert deliveries(fake) == Counter(range(FIRST_CHAT, FIRST_CHAT + chats))
    assert {row.lease_owner for row in found} == {None}


async def test_leases_lapsing_mid_flight_still_never_send_twice(
    db: Database, other_db: Database, clock: FakeClock
) -> None:
    """Time jumps past every lease while two instances work: claims are taken over
    again and again, 'sending' rows are declared abandoned under a live sender. Still
    no chat gets a row twice, and every row ends, sent or failed with the reason."""
    chats = 200
    # Small windows spread each batch's 'sending' over half a second, and the clock
    # jumps faster than that, so claims lapse between claiming and sending.
    lapsing = {"rate": 400.0, "window_seconds": 0.01, "sending_lease_seconds": 90.0}
    await enqueue_notes(db, clock, chats)

    async def time_flies() -> None:
        # Half a second of lapsing leases; then time runs at fifty times real speed, so
        # leases last about a second again (at 40 s a tick a lease lasting milliseconds
        # could be taken over forever, a livelock only this clock can cause) and rows
        # postponed into the future still fall due.
        for _ in range(100):
            clock.advance(timedelta(seconds=40))
            await asyncio.sleep(0.005)
        while True:
            clock.advance(timedelta(seconds=1))
            await asyncio.sleep(0.02)

    async with (
        fake_telegram(chats) as fake,
        worker(db, clock, fake, "instance-a", **lapsing) as (a, _),
        worker(other_db, clock, fake, "instance-b", **lapsing) as (b, _),
    ):
        tasks = [asyncio.create_task(a.run()), asyncio.create_task(b.run())]
        flies = asyncio.create_task(time_flies())
        try:
            found = await until_all_final(db)
        finally:
            flies.cancel()
        await a.stop()
        await b.stop()
        await asyncio.gather(*tasks)
    received = deliveries(fake)
    assert max(received.values()) == 1
    for row in found:
        if row.status == "sent":
            assert received[row.chat_id] == 1
        else:
            assert (row.status, row.last_error) == ("failed", outbox.OUTCOME_UNKNOWN)


async def test_a_claim_abandoned_by_a_dead_instance_is_taken_over_after_its_lease(
    db: Database, clock: FakeClock
) -> None:
    await enqueue_notes(db, clock, 1)
    now = to_ms(clock.now())
    async with db.transaction() as conn:
        dead = await outbox.claim_due(conn, now=now, owner="dead", lease_ms=60_000, limit=10)
    assert [row.status for row in dead] == ["claimed"]
    async with fake_telegram(1) as fake, worker(db, clock, fake, "alive") as (alive, _):
        assert await alive.run_once() == 0  # the lease still holds
        clock.advance(timedelta(seconds=61))
        assert await alive.run_once() == 1
        await alive.drain()
        assert deliveries(fake) == {FIRST_CHAT: 1}
    [row] = await rows(db)
    assert (row.status, row.attempts, row.lease_owner) == ("sent", 1, None)


async def test_a_row_abandoned_while_sending_ends_failed_and_is_never_resent(
    db: Database, clock: FakeClock
) -> None:
    await enqueue_notes(db, clock, 1)
    now = to_ms(clock.now())
    async with db.transaction() as conn:
        [dead] = await outbox.claim_due(conn, now=now, owner="dead", lease_ms=60_000, limit=10)
        started = await outbox.start_sending(conn, [dead.id], owner="dead", until=now + 300_000)
    assert started == {dead.id}
    async with fake_telegram(1) as fake, worker(db, clock, fake, "alive") as (alive, notes):
        clock.advance(timedelta(seconds=61))  # past the claim's lease: still not resent
        assert await alive.run_once() == 0
        clock.advance(timedelta(minutes=5))
        assert await alive.run_once() == 0
        await alive.drain()
        assert fake.sent == []
    [row] = await rows(db)
    assert (row.status, row.last_error) == ("failed", outbox.OUTCOME_UNKNOWN)
    assert row.last_error == "outcome unknown: the instance sending it stopped"
    assert notes.failed == [(row.id, outbox.OUTCOME_UNKNOWN)]


async def test_stop_gives_back_claimed_and_unsent_rows_at_once(
    db: Database, other_db: Database, clock: FakeClock
) -> None:
    """A graceful stop mid-batch: nothing stays leased, another instance sends the rest
    without waiting for a lease, and nothing goes twice."""
    chats = 8
    await enqueue_notes(db, clock, chats)
    # 10/s, and one window per second: most rows are 'sending' but not sent at stop.
    async with fake_telegram(chats) as fake:
        async with worker(db, clock, fake, "leaving", rate=10, window_seconds=1.0) as (a, _):
            task = asyncio.create_task(a.run())
            await fake.wait_for(lambda message: True)
            await a.stop()
            await task
        left = await rows(db)
        statuses = Counter(row.status for row in left)
        assert statuses["claimed"] == statuses["sending"] == 0
        assert statuses["pending"] >= chats - 2
        assert {row.lease_owner for row in left} == {None}
        async with worker(other_db, clock, fake, "staying") as (b, _):
            assert await b.run_once() == statuses["pending"]  # no lease to wait for
            await b.drain()
    assert Counter(row.status for row in await rows(db)) == {"sent": chats}
    assert deliveries(fake) == Counter(range(FIRST_CHAT, FIRST_CHAT + chats))


async def test_abandoned_survey_send_closes_the_survey_as_outcome_unknown(
    tmp_path: Path,
) -> None:
    """End to end: an instance died while a survey was 'sending'. The next claim ends
    the row and, through the survey renderer, the survey itself; no second message."""
    clock = FakeClock()
    async with running_bot(tmp_path, clock, survey_delay_seconds=600) as h:
        await h.start_customer(501)
        outcome = await h.post_visit(501, "pos-dead")
        due = to_ms(clock.now()) + 600_000
        async with h.app.db.transaction() as conn:
            [row] = await outbox.claim_due(conn, now=due, owner="dead", lease_ms=60_000, limit=5)
            await outbox.start_sending(conn, [row.id], owner="dead", until=due + 300_000)
        clock.advance(timedelta(seconds=600 + 301))
        await h.app.worker.run_once()
        await h.app.worker.drain()
        async with h.app.db.read() as conn:
            ended = await outbox.get(conn, row.id)
            survey = await conn.fetch_one(
                "SELECT status, closed_reason FROM surveys WHERE id = :id",
                {"id": outcome["survey_id"]},
            )
        assert ended is not None and ended.status == "failed"
        assert survey == {"status": "failed", "closed_reason": outbox.OUTCOME_UNKNOWN}
        assert [m for m in h.fake.sent if len(m.callback_data) == 11] == []


async def test_a_lapsed_claim_cannot_start_sending_for_its_old_owner(
    db: Database, clock: FakeClock
) -> None:
    await enqueue_notes(db, clock, 3)
    now = to_ms(clock.now())
    async with db.transaction() as conn:
        slow = await outbox.claim_due(conn, now=now, owner="slow", lease_ms=60_000, limit=10)
    later = now + 61_000
    async with db.transaction() as conn:
        fast = await outbox.claim_due(conn, now=later, owner="fast", lease_ms=60_000, limit=10)
        ids = [row.id for row in slow]
        assert await outbox.start_sending(conn, ids, owner="slow", until=later) == set()
        assert await outbox.start_sending(conn, ids, owner="fast", until=later) == set(ids)
        assert await outbox.start_sending(conn, ids, owner="fast", until=later) == set()
    assert [row.id for row in fast] == ids


async def test_an_outcome_for_a_row_ended_elsewhere_is_not_held(
    db: Database, clock: FakeClock
) -> None:
    await enqueue_notes(db, clock, 1)
    now = to_ms(clock.now())
    async with db.transaction() as conn:
        [row] = await outbox.claim_due(conn, now=now, owner="stalled", lease_ms=60_000, limit=1)
        await outbox.start_sending(conn, [row.id], owner="stalled", until=now + 300_000)
        assert await outbox.held(conn, [row.id], owner="stalled", status="sending") == {row.id}
        ended = await outbox.end_abandoned(conn, now=now + 300_001)
        assert [item.id for item in ended] == [row.id]
        assert await outbox.held(conn, [row.id], owner="stalled", status="sending") == set()


# --- orphaned claims: a restart, an instance gone -----------------------------------------


async def claim_as(
    db: Database, clock: FakeClock, owner: str, *, sending: int = 0
) -> tuple[list[OutboxItem], list[OutboxItem]]:
    """`owner` claims every due row (60 s lease) and marks the first `sending` of them
    'sending', then dies: returns (still claimed, sending)."""
    now = to_ms(clock.now())
    async with db.transaction() as conn:
        claimed = await outbox.claim_due(conn, now=now, owner=owner, lease_ms=60_000, limit=100)
        started = claimed[:sending]
        ids = [row.id for row in started]
        assert await outbox.start_sending(conn, ids, owner=owner, until=now + 300_000) == set(ids)
    return claimed[sending:], started


async def beat(db: Database, clock: FakeClock, owner: str, seconds: float = 20.0) -> None:
    """`owner`'s heartbeat, as its worker renews it."""
    now = to_ms(clock.now())
    async with db.transaction() as conn:
        name = leases.heartbeat_name(owner)
        assert await leases.acquire(conn, name, owner, now=now, until=now + int(seconds * 1000))


async def lease_owners(db: Database) -> dict[str, str]:
    async with db.read() as conn:
        found = await conn.fetch_all("SELECT name, owner FROM leases ORDER BY name")
    return {str(row["name"]): str(row["owner"]) for row in found}


async def test_a_restarted_instance_takes_back_its_own_claims_at_once(
    db: Database, clock: FakeClock
) -> None:
    """Same INSTANCE_ID after a crash: what it left claimed is sent at once, without
    waiting out the 60 s lease; what it left 'sending' ends outcome unknown, unsent."""
    await enqueue_notes(db, clock, 5)
    claimed, sending = await claim_as(db, clock, "bot-1", sending=2)
    async with fake_telegram(5) as fake, worker(db, clock, fake, "bot-1") as (again, notes):
        await again.recover()
        assert await again.run_once() == len(claimed)  # the clock has not moved
        await again.drain()
        assert deliveries(fake) == Counter(row.chat_id for row in claimed)
    found = {row.id: row for row in await rows(db)}
    assert {found[row.id].status for row in claimed} == {"sent"}
    for row in sending:
        assert (found[row.id].status, found[row.id].last_error) == (
            "failed",
            outbox.OUTCOME_UNKNOWN,
        )
    assert sorted(notes.failed) == [(row.id, outbox.OUTCOME_UNKNOWN) for row in sending]


async def test_claims_of_an_instance_whose_heartbeat_ended_are_taken_before_their_lease(
    db: Database, clock: FakeClock
) -> None:
    """Another instance keeps its claims while its heartbeat is renewed, whatever the
    time; once it stops renewing (it died), a live instance takes its claimed rows
    and its maintenance lease 20 s later, not after the claims' 60 s lease."""
    await enqueue_notes(db, clock, 4)
    await beat(db, clock, "bot-2")
    now = to_ms(clock.now())
    async with db.transaction() as conn:
        assert await leases.acquire(conn, "maintenance", "bot-2", now=now, until=now + 90_000)
    claimed, sending = await claim_as(db, clock, "bot-2", sending=1)
    async with (
        fake_telegram(4) as fake,
        worker(db, clock, fake, "bot-1", heartbeat_seconds=0.01) as (alive, notes),
    ):
        task = asyncio.create_task(alive.run())
        for _ in range(3):  # 45 s in all, each step shorter than the heartbeat's 20 s
            clock.advance(timedelta(seconds=15))
            await beat(db, clock, "bot-2")
            await asyncio.sleep(0.1)  # several sweeps of bot-1
            assert Counter(row.status for row in await rows(db)) == {"claimed": 3, "sending": 1}
        assert fake.sent == []
        clock.advance(timedelta(seconds=21))  # bot-2's claims still hold for 15 s more
        found = await until_all_final(db)
        assert deliveries(fake) == Counter(row.chat_id for row in claimed)
        assert await lease_owners(db) == {leases.heartbeat_name("bot-1"): "bot-1"}
        await alive.stop()
        await task
    assert {row.id: row.status for row in found} == {
        **{row.id: "sent" for row in claimed},
        **{row.id: "failed" for row in sending},
    }
    assert notes.failed == [(sending[0].id, outbox.OUTCOME_UNKNOWN)]
    assert await lease_owners(db) == {}  # a graceful stop ends the heartbeat too


async def test_the_one_instance_of_a_sqlite_database_takes_every_claim_at_start(
    db: Database, clock: FakeClock
) -> None:
    """`sole` (SQLite: one instance at a time): whoever left claims is gone, even with
    a heartbeat and a maintenance lease still running; all is taken back at start."""
    await enqueue_notes(db, clock, 3)
    await beat(db, clock, "host-41-a1b2c3")
    now = to_ms(clock.now())
    async with db.transaction() as conn:
        await leases.acquire(conn, "maintenance", "host-41-a1b2c3", now=now, until=now + 90_000)
    claimed, sending = await claim_as(db, clock, "host-41-a1b2c3", sending=1)
    async with (
        fake_telegram(3) as fake,
        worker(db, clock, fake, "host-57-d4e5f6", sole=True) as (restarted, _),
    ):
        await restarted.recover()
        assert await lease_owners(db) == {}
        assert await restarted.run_once() == len(claimed)
        await restarted.drain()
        assert deliveries(fake) == Counter(row.chat_id for row in claimed)
    assert {row.id: row.status for row in await rows(db)} == {
        **{row.id: "sent" for row in claimed},
        **{row.id: "failed" for row in sending},
    }


async def test_a_live_instance_keeps_its_claims_when_another_starts(
    db: Database, other_db: Database, clock: FakeClock
) -> None:
    """Without `sole`, a starting instance leaves a running one's claims alone."""
    await enqueue_notes(db, clock, 2)
    await beat(db, clock, "bot-2")
    claimed, _ = await claim_as(db, clock, "bot-2")
    async with fake_telegram(2) as fake, worker(other_db, clock, fake, "bot-1") as (fresh, _):
        await fresh.recover()
        assert await fresh.run_once() == 0
        assert fake.sent == []
    assert {row.lease_owner for row in await rows(db)} == {"bot-2"}
    assert len(claimed) == 2


async def test_at_most_one_claim_batch_is_sending_at_once(db: Database, clock: FakeClock) -> None:
    """Telegram answers a second late: without a bound, about 20 rows (a second of
    sends at 20/s) would be 'sending' at once. The worker keeps it to `sending_bound`,
    half a second of sends (10), which is all that a crash can leave outcome unknown."""
    chats = 16
    await enqueue_notes(db, clock, chats)
    async with fake_telegram(chats) as fake, worker(db, clock, fake, "bot-1", rate=20) as (w, _):
        fake.delay_answers("sendMessage", 1.0)
        assert w.sending_bound == 10
        task = asyncio.create_task(w.run())
        peak = 0
        while True:
            statuses = Counter(row.status for row in await rows(db))
            peak = max(peak, statuses["sending"])
            if set(statuses) <= FINAL:
                break
            await asyncio.sleep(0.005)
        await w.stop()
        await task
    assert w.sending_bound // 2 < peak <= w.sending_bound
    assert deliveries(fake) == Counter(range(FIRST_CHAT, FIRST_CHAT + chats))
