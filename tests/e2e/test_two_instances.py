"""Two bot instances on one PostgreSQL and one Redis share 2,000 surveys due at once;
one is killed mid-way and the other finishes its work, with no survey sent twice.

Real servers throughout: PostgreSQL (TEST_POSTGRES_DSN), Redis (TEST_REDIS_URL), the
fake Bot API server over HTTP, webhook mode. The kill is a crash, not a stop: the dead
instance's claims and its maintenance lease stay until they time out, and the
survivor takes them over when the FakeClock passes their ends."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.core.clock import FakeClock, to_ms
from bot.maintenance import MAINTENANCE_LEASE
from storage import leases, outbox
from storage.db import Database
from tests.support.bursts import (
    accepted,
    ids_of,
    outbox_rows,
    post_visits,
    seed_customers,
    surveys_at,
    until,
    until_unfinished_is,
)
from tests.support.databases import fresh_schema, require_postgres
from tests.support.fake_telegram import RecordedRequest
from tests.support.harness import Cluster, Member, running_instances

REDIS_URL_VARIABLE = "TEST_REDIS_URL"
CUSTOMERS = 2_000
FIRST_CUSTOMER = 30_000
KILL_AFTER = 600  # surveys at the fake before the kill
DELAY = timedelta(seconds=60)
REMINDER_AFTER = timedelta(minutes=10)
# Past every lease the dead instance held: claims (60 s), sends (300 s), maintenance (90 s).
PAST_LEASES = timedelta(seconds=301)
FINAL = ("sent", "failed", "expired")


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get(REDIS_URL_VARIABLE)
    if not url:
        pytest.skip(f"{REDIS_URL_VARIABLE} is not set")
    return url


@pytest.fixture
async def database_url() -> AsyncIterator[str]:
    async with fresh_schema(require_postgres()) as url:
        yield url


# --- what the fake received -------------------------------------------------------------


def is_reminder(request: RecordedRequest) -> bool:
    return request.method == "sendMessage" and "reply_parameters" in request.params


# --- what the database says -------------------------------------------------------------


async def maintenance_holder(db: Database, clock: FakeClock) -> str | None:
    async with db.read() as conn:
        return await leases.holder(conn, MAINTENANCE_LEASE, now=to_ms(clock.now()))


# --- the scenario -----------------------------------------------------------------------


async def kill_while_sending(cluster: Cluster, victim: Member, survivor: Member) -> None:
    """Kill `victim` once KILL_AFTER surveys arrived, at a moment it has sends in flight."""
    fake, db = cluster.fake, survivor.app.db

    async def enough_arrived() -> bool:
        return sum(surveys_at(fake).values()) >= KILL_AFTER

    async def victim_is_sending() -> bool:
        return bool(await ids_of(db, "status = 'sending' AND lease_owner = :o", o=victim.name))

    await until(enough_arrived, f"{KILL_AFTER} surveys at the fake")
    # No await between the check and the kill's first cancellations: the victim cannot
    # move on in between.
    await until(victim_is_sending, f"{victim.name} sending")
    await cluster.kill(victim)


async def test_two_instances_share_surveys_and_the_survivor_finishes_a_killed_ones_work(
    tmp_path: Path, clock: FakeClock, database_url: str, redis_url: str
) -> None:
    users = range(FIRST_CUSTOMER, FIRST_CUSTOMER + CUSTOMERS)
    async with running_instances(
        tmp_path,
        clock,
        database_url=database_url,
        redis_url=redis_url,
        users=users,
        survey_delay_seconds=int(DELAY.total_seconds()),
        reminder_after=REMINDER_AFTER,
        # The bot's own pace, not Telegram's, is under test: paid broadcast, no fake limits.
        send_rate_per_second=1000,
        paid_broadcast=True,
    ) as cluster:
        victim, survivor = cluster.members
        fake, db = cluster.fake, survivor.app.db
        # bot-1 started first, so it holds maintenance; bot-2 registered the webhook last.
        assert await maintenance_holder(db, clock) == victim.name
        assert fake.webhook_url == survivor.harness.settings.webhook_url

        await seed_customers(db, clock, users)
        await post_visits(cluster.members, users)
        assert surveys_at(fake) == Counter()
        clock.advance(DELAY)  # all 2,000 are due at this one moment
        for member in cluster.members:
            member.app.worker.kick()

        await kill_while_sending(cluster, victim, survivor)
        victim_sent = victim.session.accepted["sendMessage"]
        in_flight = await ids_of(db, "status = 'sending' AND lease_owner = :o", o=victim.name)
        claimed = await ids_of(db, "status = 'claimed' AND lease_owner = :o", o=victim.name)
        # Both shared the work before the kill; the dead one left sends in flight.
        assert victim_sent > 0 and survivor.session.accepted["sendMessage"] > 0
        assert in_flight

        # Its maintenance lease holds until it ends: the survivor does not run it yet.
        assert await maintenance_holder(db, clock) == victim.name
        assert not await survivor.app.maintenance()

        # The survivor sends everything else; the dead one's rows wait for their leases.
        await until_unfinished_is(db, in_flight | claimed, "the survivor to finish its share")
        await survivor.app.worker.drain()
        clock.advance(PAST_LEASES)
        survivor.app.worker.kick()
        await until_unfinished_is(db, set(), "every row to end")
        await survivor.app.worker.drain()

        rows = await outbox_rows(db)
        assert {row["kind"] for row in rows} == {"survey"} and len(rows) == CUSTOMERS
        assert all(row["status"] in FINAL for row in rows)
        assert all(row["last_error"] for row in rows if row["status"] != "sent")
        unknown = {int(row["id"]) for row in rows if row["last_error"] == outbox.OUTCOME_UNKNOWN}
        assert unknown == in_flight  # exactly the sends in flight at the kill
        assert {int(row["id"]) for row in rows if row["status"] == "sent"} >= claimed
        assert {row["status"] for row in rows if int(row["id"]) not in unknown} == {"sent"}

        # Never twice; never lost: each customer got one, or has an outcome-unknown row.
        received = surveys_at(fake)
        assert max(received.values()) == 1
        unknown_chats = {int(row["chat_id"]) for row in rows if int(row["id"]) in unknown}
        assert {user for user in users if received[user] == 0} <= unknown_chats
        sent_chats = {int(row["chat_id"]) for row in rows if row["status"] == "sent"}
        assert set(received) - sent_chats <= unknown_chats
        # Every survey at the fake was answered to one of the instances, bar sends the
        # kill cut short: those can only be among the rows in flight.
        survivor_sent = survivor.session.accepted["sendMessage"]
        assert (
            victim_sent + survivor_sent
            <= received.total()
            <= victim_sent + survivor_sent + len(in_flight)
        )

        # The survivor serves the webhook: a customer answers after the kill.
        answering = min(sent_chats)
        message = next(m for m in fake.messages_to(answering) if len(m.callback_data) == 11)
        await survivor.harness.press(answering, message, "9")
        await fake.wait_for(
            lambda m: m.message_id == message.message_id and len(m.callback_data) == 7
        )

        await check_maintenance_taken_over(cluster, survivor, sent_chats - {answering})
        assert victim.session.accepted["sendMessage"] == victim_sent  # the dead stay dead


async def check_maintenance_taken_over(
    cluster: Cluster, survivor: Member, unanswered: set[int]
) -> None:
    """The dead instance's maintenance lease has ended: the survivor takes it and sends
    the reminders, one to every customer whose survey arrived and is unanswered."""
    db, clock = survivor.app.db, cluster.clock
    assert await maintenance_holder(db, clock) in (None, survivor.name)
    survivor_sent = survivor.session.accepted["sendMessage"]
    clock.advance(REMINDER_AFTER)
    await drive_maintenance(survivor, "reminder", len(unanswered))
    assert await maintenance_holder(db, clock) == survivor.name
    assert accepted(cluster.fake, "sendMessage", is_reminder) == Counter(unanswered)
    assert survivor.session.accepted["sendMessage"] == survivor_sent + len(unanswered)


async def drive_maintenance(survivor: Member, kind: str, expected: int) -> None:
    """Run the survivor's maintenance (500 surveys a run) until `expected` rows of
    `kind` were queued, then wait for every row to end."""
    db = survivor.app.db
    for _ in range(expected // 500 + 2):
        assert await survivor.app.maintenance()
        if len(await ids_of(db, "kind = :kind", kind=kind)) >= expected:
            break
    assert len(await ids_of(db, "kind = :kind", kind=kind)) == expected
    await until_unfinished_is(db, set(), f"every {kind} row to end")
    await survivor.app.worker.drain()
    rows = await outbox_rows(db, "kind = :kind", kind=kind)
    assert {row["status"] for row in rows} == {"sent"}
