"""A crash mid-burst on SQLite, and the restart: nobody gets a survey twice, what is
lost is at most one claim batch, and the restart does not wait out any lease.

The whole bot runs (webhook mode, delivery worker, scheduler, HTTP API, a SQLite file)
against the fake Bot API server, which answers each survey a second late, as a slow
Telegram would: many requests are under way when the instance is killed as a crash
would kill it (every task cancelled where it stands, no graceful stop: its claims and
its maintenance lease stay in the database). A new instance then starts on the same
file, as a supervisor would start it. The FakeClock moves once, to make every survey
due at one moment, and never after: the 60 s claim lease, the 5 min sending lease and
the 90 s maintenance lease all still hold, so whatever the restarted instance sends it
took back at once."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.core.clock import FakeClock, to_ms
from bot.maintenance import MAINTENANCE_LEASE
from storage import leases, outbox
from tests.support.bursts import (
    ids_of,
    outbox_rows,
    post_visits,
    seed_customers,
    surveys_at,
    until,
    until_unfinished_is,
)
from tests.support.databases import reopen
from tests.support.harness import running_instances

SURVEYS = 200
FIRST_CUSTOMER = 40_000
RATE = 100  # SEND_RATE_PER_SECOND: a claim batch is half a second of sends, 50 surveys
KILL_AFTER = 60  # surveys at the fake before the kill
DELAY = timedelta(seconds=60)


async def test_a_crash_mid_burst_loses_at_most_one_batch_and_the_restart_takes_the_rest_at_once(
    tmp_path: Path, clock: FakeClock
) -> None:
    users = range(FIRST_CUSTOMER, FIRST_CUSTOMER + SURVEYS)
    async with running_instances(
        tmp_path,
        clock,
        database_url=f"sqlite:///{tmp_path / 'otklik.sqlite3'}",
        count=1,
        users=users,
        survey_delay_seconds=int(DELAY.total_seconds()),
        send_rate_per_second=RATE,
        paid_broadcast=True,  # needed above Telegram's free 30/s
    ) as cluster:
        [first] = cluster.members
        fake, db = cluster.fake, first.app.db
        bound = first.app.worker.sending_bound
        assert bound == 50  # README: half a second of sends at the instance's rate

        await seed_customers(db, clock, users)
        await post_visits(cluster.members, users)
        fake.delay_answers("sendMessage", 1.0)
        clock.advance(DELAY)  # all due at this one moment; the clock moves no more
        first.app.worker.kick()

        async def enough_arrived() -> bool:
            return sum(surveys_at(fake).values()) >= KILL_AFTER

        await until(enough_arrived, f"{KILL_AFTER} surveys at the fake")
        await cluster.kill(first)
        # What the crash left, read on a connection of its own (the dead one's are closed).
        left = reopen(db)
        await left.connect()
        try:
            in_flight = await ids_of(left, "status = 'sending'")
            claimed = await ids_of(left, "status = 'claimed'")
        finally:
            await left.close()
        # Slow answers put more than a batch under way; the worker kept it to one.
        assert 0 < len(in_flight) <= bound
        assert claimed  # the rest of its batches, claimed but not yet 'sending'

        fake.delay_answers("sendMessage", 0.0)  # Telegram is quick again
        # A new process: on SQLite it is the only instance, whatever its INSTANCE_ID.
        second = await cluster.restart(first, instance_id="bot-1-restarted")
        db = second.app.db
        async with db.read() as conn:
            holder = await leases.holder(conn, MAINTENANCE_LEASE, now=to_ms(clock.now()))
        assert holder == second.name  # the dead one's maintenance lease did not hold it up
        await until_unfinished_is(db, set(), "every survey to end, the clock standing still")
        await second.app.worker.drain()

        rows = await outbox_rows(db)
        assert len(rows) == SURVEYS and {row["kind"] for row in rows} == {"survey"}
        status = {int(row["id"]): row["status"] for row in rows}
        unknown = {int(row["id"]) for row in rows if row["last_error"] == outbox.OUTCOME_UNKNOWN}
        # Outcome unknown: exactly the rows that were 'sending' at the crash, at most a
        # batch; everything else, the claimed rows included, was sent.
        assert unknown == in_flight and len(unknown) <= bound
        assert {status[i] for i in unknown} == {"failed"}
        assert {status[i] for i in status.keys() - unknown} == {"sent"}
        assert claimed <= status.keys() - unknown

        # Never twice; every customer received the survey or has an outcome-unknown row.
        received = surveys_at(fake)
        assert max(received.values()) == 1
        unknown_chats = {int(row["chat_id"]) for row in rows if int(row["id"]) in unknown}
        sent_chats = {int(row["chat_id"]) for row in rows if row["status"] == "sent"}
        assert {user for user in users if received[user] == 0} <= unknown_chats
        assert set(received) - sent_chats <= unknown_chats
        assert received.total() == len(sent_chats) + len(unknown_chats & set(received))
