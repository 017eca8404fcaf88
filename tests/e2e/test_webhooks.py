"""Outgoing webhooks end to end: the real bot (against the fake Bot API) sends events to a
real receiver on 127.0.0.1, which checks every signature with the `standardwebhooks`
package. An NPS tap, retries after 500s and timeouts, giving up after 24 hours, a
restart and a crash mid-delivery, a forgotten customer, the API and the CLI."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks import Webhook

from bot.cli.webhooks import webhooks_log, webhooks_test
from bot.core.clock import FakeClock, to_ms
from storage import webhooks as repo
from storage.db import Database
from tests.support.admin import admin_says
from tests.support.harness import BotHarness, running_bot, running_instances
from tests.support.settings import ADMIN_ID
from tests.support.webhook_receiver import HANG, Receiver, independently_signed

ANN = 501


@pytest.fixture
def clock() -> FakeClock:
    """Near the real time, so that the reference verifier's 5-minute tolerance holds."""
    return FakeClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    started = await Receiver().start()
    try:
        yield started
    finally:
        await started.close()


async def subscribe(h: BotHarness, receiver: Receiver, **fields: Any) -> str:
    """PUT the receiver as endpoint `crm`; its generated secret."""
    status, answer = await h.call("PUT", "/api/v1/webhooks/crm", {"url": receiver.url, **fields})
    assert status == 201, answer
    return str(answer.get("secret") or fields["secret"])


async def deliveries(db: Database) -> list[repo.Delivery]:
    async with db.read() as conn:
        return list(reversed(await repo.log(conn, limit=1000)))


async def until_rows(
    db: Database,
    check: Callable[[list[repo.Delivery]], bool],
    timeout: float = 5.0,  # noqa: ASYNC109
) -> list[repo.Delivery]:
    """Poll the deliveries until `check` holds."""
    async with asyncio.timeout(timeout):
        while not check(found := await deliveries(db)):  # noqa: ASYNC110 -- the database has no event
            await asyncio.sleep(0.02)
    return found


def _all_delivered(rows: list[repo.Delivery]) -> bool:
    return {row.status for row in rows} == {"delivered"}


def _attempt_recorded(n: int) -> Callable[[list[repo.Delivery]], bool]:
    return lambda rows: rows[0].attempts == n and rows[0].status != "sending"


async def opt_out(h: BotHarness) -> None:
    """The customer sends /stop: customer.opted_out."""
    since = len(h.fake.sent)
    await h.fake.send_text(ANN, "/stop")
    await h.fake.wait_for_message(ANN, since=since)


async def test_an_nps_tap_sends_response_created_then_case_opened_signed(
    tmp_path: Path, clock: FakeClock, receiver: Receiver
) -> None:
    async with running_bot(tmp_path, clock) as h:
        secret = await subscribe(h, receiver)
        await h.start_customer(ANN)
        await h.post_visit(ANN, "pos-1", location="Main St", staff="Olga")
        survey = await h.survey_for(ANN)
        await h.press(ANN, survey, "3")
        got = await receiver.wait_for(2)
        assert receiver.types() == ["response.created", "case.opened"]
        for request in got:
            assert independently_signed(secret, request)
            assert Webhook(secret).verify(request.body, request.headers) == request.payload
            assert request.timestamp == int(clock.now().timestamp())
        created, opened = (request.payload["data"] for request in got)
        response, case = created["response"], opened["case"]
        assert (response["visit_id"], response["nps"], response["location"]) == (
            "pos-1",
            3,
            "Main St",
        )
        assert (case["id"], case["status"], case["response_id"]) == (1, "new", response["id"])
        assert case["customer"] == response["customer"] == {"id": 1, "external_id": None}
        rows = await until_rows(h.app.db, lambda rows: {r.status for r in rows} == {"delivered"})
        assert [(r.event, r.attempts, r.last_status) for r in rows] == [
            ("response.created", 1, 200),
            ("case.opened", 1, 200),
        ]
        await asyncio.sleep(0.2)
        assert len(receiver.received) == 2  # nothing twice


async def test_retries_after_a_500_and_a_timeout_then_delivered_once(
    tmp_path: Path, clock: FakeClock, receiver: Receiver
) -> None:
    receiver.script = [500, HANG]
    async with running_bot(tmp_path, clock, webhook_timeout_seconds=0.3) as h:
        secret = await subscribe(h, receiver, events=["customer.opted_out"])
        await h.start_customer(ANN)
        await opt_out(h)
        await receiver.wait_for(1)
        await until_rows(h.app.db, lambda rows: rows[0].last_status == 500)
        clock.advance(10)
        await receiver.wait_for(2)
        [row] = await until_rows(h.app.db, lambda rows: rows[0].status == "pending")
        assert row.last_error == "no answer within 0.3 s" and row.attempts == 2
        clock.advance(20)
        got = await receiver.wait_for(3)
        [row] = await until_rows(h.app.db, lambda rows: rows[0].status == "delivered")
        assert (row.attempts, row.last_status, row.last_error) == (3, 200, None)
        assert {request.message_id for request in got} == {row.message_id}
        assert all(independently_signed(secret, request) for request in got)
        stamps = [request.timestamp for request in got]
        assert stamps[1] - stamps[0] == 10 and stamps[2] - stamps[1] == 20  # signed anew


async def test_a_receiver_down_for_24_hours_ends_failed_with_the_reason(
    tmp_path: Path, clock: FakeClock, receiver: Receiver
) -> None:
    receiver.script = [500] * 1000
    async with running_bot(tmp_path, clock) as h:
        await subscribe(h, receiver, events=["customer.opted_out"])
        await h.start_customer(ANN)
        await opt_out(h)
        attempts = 0
        while True:
            attempts += 1
            [row] = await until_rows(h.app.db, _attempt_recorded(attempts))
            if row.status == "failed":
                break
            assert row.status == "pending" and row.due_at <= row.deadline_at
            clock.advance(timedelta(hours=1, seconds=1))
        assert 20 <= attempts == len(receiver.received) <= 40
        last = "HTTP 500 Internal Server Error"
        assert row.last_error == f"gave up after {attempts} attempts in 24 h; last: {last}"
        out = io.StringIO()
        assert await webhooks_log(h.settings, name="crm", status="failed", limit=5, out=out) == 0
        assert f"customer.opted_out {row.message_id} attempts={attempts} failed" in out.getvalue()
        assert "gave up after" in out.getvalue()


async def test_a_stop_mid_delivery_waits_for_it_and_the_restart_sends_nothing_again(
    tmp_path: Path, clock: FakeClock, receiver: Receiver
) -> None:
    receiver.script = [HANG]
    async with running_bot(tmp_path, clock) as h:
        await subscribe(h, receiver, events=["customer.opted_out"])
        await h.start_customer(ANN)
        await opt_out(h)
        await receiver.wait_for(1)
        # The receiver answers while the bot is stopping: the stop waits for it.
        asyncio.get_running_loop().call_later(0.3, receiver.release)
    async with running_bot(tmp_path, clock) as h:
        [row] = await deliveries(h.app.db)
        assert (row.status, row.attempts) == ("delivered", 1)
        await asyncio.sleep(0.3)
    assert len(receiver.received) == 1


async def test_a_crash_mid_delivery_resends_with_the_same_webhook_id(
    tmp_path: Path, clock: FakeClock, receiver: Receiver
) -> None:
    receiver.script = [HANG]
    async with running_instances(
        tmp_path, clock, database_url=f"sqlite:///{tmp_path / 'otklik.sqlite3'}", count=1
    ) as cluster:
        [first] = cluster.members
        await subscribe(first.harness, receiver, events=["customer.opted_out"])
        await first.harness.start_customer(ANN)
        await opt_out(first.harness)
        await receiver.wait_for(1)
        await cluster.kill(first)  # no stop: the row stays 'sending'
        second = await cluster.restart(first)
        got = await receiver.wait_for(2)
        assert got[0].message_id == got[1].message_id  # the receiver can drop the repeat
        [row] = await until_rows(second.app.db, lambda rows: rows[0].status == "delivered")
        assert row.attempts == 2


async def test_a_forgotten_customers_waiting_payloads_name_nobody(
    tmp_path: Path, clock: FakeClock, receiver: Receiver
) -> None:
    receiver.script = [500]
    async with running_bot(tmp_path, clock) as h:
        secret = await subscribe(h, receiver)
        await h.start_customer(ANN)
        async with h.app.db.transaction() as conn:
            await conn.execute("UPDATE customers SET external_id = 'CRM-7' WHERE id = 1")
        await h.post_visit(ANN, "pos-1")
        await h.press(ANN, await h.survey_for(ANN), "3")
        [first] = await receiver.wait_for(1)
        assert '"external_id":"CRM-7"' in first.body.decode()  # before the forgetting
        h.fake.user(ADMIN_ID, "Admin")
        ask = await admin_says(h, "/forget #1")
        await h.press(ADMIN_ID, ask, "🗑 Yes, erase")
        await h.fake.wait_for(lambda m: m.chat_id == ADMIN_ID and "erased" in m.text)
        await until_rows(h.app.db, lambda rows: rows[-1].event == "customer.forgotten")
        clock.advance(60)
        got = (await receiver.wait_for(4))[1:]
        assert [r.type for r in got] == ["response.created", "case.opened", "customer.forgotten"]
        for request in got:
            assert independently_signed(secret, request)
            assert "CRM-7" not in request.body.decode()
            data = request.payload["data"]
            customer = next(iter(data.values()))
            customer = customer.get("customer", customer)
            assert (customer["id"], customer["forgotten"], customer.get("external_id")) == (
                1,
                True,
                None,
            )


async def test_the_webhooks_api_refuses_bad_bodies_and_never_shows_a_secret(
    tmp_path: Path, receiver: Receiver
) -> None:
    async with running_bot(tmp_path) as h:
        for name, body, field in [
            ("crm", {"url": "http://crm.example.com/hooks"}, "url"),
            ("crm", {"url": receiver.url, "events": ["case.eaten"]}, "events.0"),
            ("crm", {"url": receiver.url, "secret": "hunter2-hunter2"}, "secret"),
            ("crm", {"url": receiver.url, "extra": 1}, "extra"),
            ("crm", {}, "url"),
            ("bad name!", {"url": receiver.url}, "name"),
        ]:
            status, answer = await h.call("PUT", f"/api/v1/webhooks/{name}", body)
            assert (status, answer["ok"], answer.get("field")) == (400, False, field), answer
            assert "hunter2" not in json.dumps(answer)
        status, answer = await h.call("PUT", "/api/v1/webhooks/crm", raw=b'{"url": ')
        assert (status, answer["error"]) == (400, "malformed JSON")
        status, _ = await h.call("PUT", "/api/v1/webhooks/crm", {"url": receiver.url}, token=None)
        assert status == 401
        assert (await h.call("GET", "/api/v1/webhooks"))[1]["webhooks"] == []

        secret = await subscribe(h, receiver)
        status, answer = await h.call(
            "PUT", "/api/v1/webhooks/crm", {"url": receiver.url, "events": ["case.opened"]}
        )
        assert (status, answer["created"], "secret" in answer) == (200, False, False)
        status, listed = await h.call("GET", "/api/v1/webhooks")
        assert status == 200 and secret not in json.dumps(listed)
        [shown] = listed["webhooks"]
        assert (shown["name"], shown["events"]) == ("crm", ["case.opened"])
        assert shown["url"] == receiver.url
        assert shown["deliveries"] == {"pending": 0, "sending": 0, "delivered": 0, "failed": 0}
        endpoint = await h.app.webhooks.get("crm")
        assert endpoint is not None and endpoint.secret == secret  # kept on replace

        out = io.StringIO()
        assert await webhooks_test(h.settings, "crm", out=out) == 0
        [ping] = await receiver.wait_for(1)
        assert ping.type == "webhook.ping" and independently_signed(secret, ping)
        assert "delivered (HTTP 200)" in out.getvalue()
        assert await webhooks_test(h.settings, "nobody", out=out) == 2

        assert (await h.call("DELETE", "/api/v1/webhooks/crm"))[0] == 200
        assert (await h.call("DELETE", "/api/v1/webhooks/crm"))[0] == 404


async def test_webhooks_seeded_from_the_setting_sign_with_its_secret(
    tmp_path: Path, clock: FakeClock, receiver: Receiver
) -> None:
    secret = "whsec_" + "c2VlZGVkLXNlY3JldC1mb3ItdGVzdHMtMDEyMzQ1"
    seeded = {"crm": {"url": receiver.url, "secret": secret, "events": ["customer.opted_out"]}}
    async with running_bot(tmp_path, clock, webhooks=json.dumps(seeded)) as h:
        await h.start_customer(ANN)
        await opt_out(h)
        [request] = await receiver.wait_for(1)
        assert request.type == "customer.opted_out" and independently_signed(secret, request)


async def test_two_instances_on_postgresql_deliver_each_event_once_in_order(
    tmp_path: Path, clock: FakeClock, receiver: Receiver, postgres_url: str
) -> None:
    async with running_instances(tmp_path, clock, database_url=postgres_url, count=2) as cluster:
        first = cluster.members[0]
        await subscribe(first.harness, receiver)
        async with first.app.db.transaction() as conn:
            for number in range(120):
                customer = number % 12
                await repo.enqueue(
                    conn,
                    ["crm"],
                    event="case.taken",
                    data={"case": {"n": number}},
                    order_key=repo.customer_key(customer),
                    customer_id=customer,
                    now=to_ms(clock.now()),
                )
        for member in cluster.members:
            member.app.webhook_worker.kick()
        got = await receiver.wait_for(120, timeout=20)
        await asyncio.sleep(0.3)
        assert len(receiver.received) == 120
        assert len({request.message_id for request in got}) == 120
        numbers = [request.payload["data"]["case"]["n"] for request in got]
        for customer in range(12):
            mine = [n for n in numbers if n % 12 == customer]
            assert mine == sorted(mine)  # each customer's events in order
        rows = await until_rows(first.app.db, _all_delivered)
        assert {r.attempts for r in rows} == {1}
        assert {r.lease_owner for r in rows} == {None}
