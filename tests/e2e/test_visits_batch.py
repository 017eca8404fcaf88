"""POST /api/v1/visits:batch end to end, on SQLite and on PostgreSQL: the real bot
against the fake Bot API. Each visit's outcome in order (the single endpoint's), a bad
item refused in its place, idempotency per visit_id (the same batch twice, a visit_id
twice in one batch), the envelope's limits, and each scheduled survey really sent once
by the outbox."""

from __future__ import annotations

import asyncio
import io
import json
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.harness import BotHarness, running_bot
from tests.support.settings import API_TOKEN

ANN, BOB, NOBODY = 501, 502, 999
BATCH = "/api/v1/visits:batch"


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'otklik.sqlite3'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
async def h(tmp_path: Path, database_url: str) -> AsyncIterator[BotHarness]:
    async with running_bot(tmp_path, database_url=database_url) as harness:
        await harness.start_customer(ANN)
        await harness.start_customer(BOB, "Bob")
        yield harness


def visit(key: str, telegram_id: int | str = ANN, **fields: Any) -> dict[str, Any]:
    return {"visit_id": key, "customer": {"telegram_id": telegram_id}, **fields}


async def rows(h: BotHarness) -> dict[str, int]:
    """Rows of every table a visit writes, and the funnel's total of reported visits."""
    counts = {}
    async with h.app.db.read() as conn:
        for table in ("visits", "surveys", "outbox", "locations"):
            row = await conn.fetch_one(f"SELECT COUNT(*) AS n FROM {table}")
            assert row is not None
            counts[table] = int(row["n"])
        row = await conn.fetch_one(
            "SELECT COALESCE(SUM(count), 0) AS n FROM funnel_daily WHERE event = 'reported'"
        )
        assert row is not None
        counts["reported"] = int(row["n"])
    return counts


async def test_each_visit_gets_its_outcome_in_order_and_each_survey_is_sent_once(
    h: BotHarness,
) -> None:
    future = (h.clock.now() + timedelta(hours=1)).isoformat()
    status, crm = await h.post("/api/v1/customers", {"external_id": "crm-7"})
    assert status == 201, crm
    before = await rows(h)
    body = {
        "visits": [
            visit("pos-1", location="main"),  # 0 scheduled
            visit("pos-2", NOBODY),  # 1 unknown customer
            visit("pos-3"),  # 2 Ann again in this batch: the cooldown sees pos-1
            visit("pos-4", "forty-two"),  # 3 refused: the field named
            visit("pos-5", BOB, staff="Olga"),  # 4 scheduled
            visit("pos-1", BOB),  # 5 pos-1 again: its first outcome, duplicate
            "pos-7",  # 6 refused: not an object
            visit("pos-8", visited_at=future),  # 7 refused by the service
            {"visit_id": "pos-9", "customer": {"external_id": "crm-7"}},  # 8 not linked
            visit("pos-4", BOB),  # 9 the refused pos-4 wrote nothing: new here
        ]
    }
    status, answer = await h.post(BATCH, body)
    assert status == 200, answer
    results = answer["results"]
    assert len(results) == 10
    summary = [
        (r["status"], r["reason"], r["duplicate"]) if r["ok"] else ("refused", r["field"])
        for r in results
    ]
    assert summary == [
        ("scheduled", None, False),
        ("skipped", "unknown_customer", False),
        ("skipped", "cooldown", False),
        ("refused", "visits.3.customer.telegram_id"),
        ("scheduled", None, False),
        ("scheduled", None, True),
        ("refused", "visits.6"),
        ("refused", "visits.7.visited_at"),
        ("skipped", "not_linked", False),
        ("skipped", "cooldown", False),
    ]
    assert results[3]["index"] == 3
    assert results[3]["error"].startswith("visits.3.customer.telegram_id: ")
    assert results[7]["error"] == "visits.7.visited_at: is in the future"
    assert results[5] == {**results[0], "duplicate": True}
    assert results[0]["survey_id"] and results[4]["survey_id"]
    assert len({r["visit_id"] for r in results if r["ok"]}) == 6  # pos-1 twice
    after = await rows(h)
    assert after["visits"] - before["visits"] == 6
    assert after["surveys"] - before["surveys"] == 2
    assert after["outbox"] - before["outbox"] == 2
    assert after["reported"] - before["reported"] == 6
    assert after["locations"] - before["locations"] == 1  # "main", catalogued

    # The single endpoint answers pos-5 as the batch did.
    single = await h.post_visit(BOB, "pos-5")
    assert single == {**results[4], "duplicate": True}

    # The outbox sends the two surveys, once each.
    await h.survey_for(ANN)
    await h.survey_for(BOB)
    await h.settled()
    surveys = Counter(m.chat_id for m in h.fake.sent if len(m.callback_data) == 11)
    assert surveys == {ANN: 1, BOB: 1}


async def test_the_same_batch_twice_creates_nothing_new(h: BotHarness) -> None:
    body = {"visits": [visit("a-1"), visit("a-2", BOB), visit("a-3", NOBODY), visit("a-1")]}
    status, first = await h.post(BATCH, body)
    assert status == 200, first
    assert [r["duplicate"] for r in first["results"]] == [False, False, False, True]
    counted = await rows(h)
    status, again = await h.post(BATCH, body)
    assert status == 200, again
    assert again["results"] == [{**r, "duplicate": True} for r in first["results"]]
    assert await rows(h) == counted
    await h.settled()
    surveys = Counter(m.chat_id for m in h.fake.sent if len(m.callback_data) == 11)
    assert surveys == {ANN: 1, BOB: 1}


async def test_a_full_batch_is_taken_and_a_bad_envelope_is_refused_whole(
    h: BotHarness,
) -> None:
    full = {"visits": [visit(f"full-{n}", NOBODY, location="kiosk") for n in range(1000)]}
    assert len(json.dumps(full)) > h.settings.api_max_body_bytes  # its own limit
    status, answer = await h.post(BATCH, full)
    assert status == 200, answer
    assert {r["reason"] for r in answer["results"]} == {"unknown_customer"}
    counted = await rows(h)
    assert counted["visits"] == 1000

    too_many = {"visits": [visit(f"more-{n}", NOBODY) for n in range(1001)]}
    huge = b'{"visits": [{"visit_id": "' + b"x" * h.settings.api_max_batch_body_bytes + b'"}]}'
    refused = [
        (too_many, None, 400, "visits"),
        ({"visits": []}, None, 400, "visits"),
        ({"visits": {"visit_id": "v"}}, None, 400, "visits"),
        ({}, None, 400, "visits"),
        ({"visits": [visit("v")], "more": 1}, None, 400, "more"),
        ([visit("v")], None, 400, None),
        (None, b'{"visits": [', 400, None),
        (None, b'{"visits": [], "visits": []}', 400, None),
    ]
    for body, raw, code, field in refused:
        status, answer = await h.post(BATCH, body, raw=raw)
        assert (status, answer["ok"], answer.get("field")) == (code, False, field), answer
    async with h.http.post(  # a stream: aiohttp warns of large bytes
        h.api_url + BATCH,
        data=io.BytesIO(huge),
        headers={"Authorization": f"Bearer {API_TOKEN}", "Content-Type": "application/json"},
    ) as response:
        assert (response.status, (await response.json())["error"]) == (413, "body too large")
    status, answer = await h.post(BATCH, raw=b"visits=1", content_type="text/plain")
    assert status == 415
    status, answer = await h.post(BATCH, {"visits": [visit("v")]}, token="wrong-token-12345678")
    assert status == 401
    assert await rows(h) == counted


async def test_the_same_batch_posted_twice_at_once_is_registered_once(h: BotHarness) -> None:
    # Unknown customers lock no customer row: on PostgreSQL the second transaction
    # meets the first's keys in the unique index, and decides its batch again.
    body = {"visits": [visit(f"race-{n}", NOBODY + n) for n in range(50)] + [visit("race-a")]}
    (status_1, one), (status_2, two) = await asyncio.gather(
        h.post(BATCH, body), h.post(BATCH, body)
    )
    assert (status_1, status_2) == (200, 200)
    for first, second in zip(one["results"], two["results"], strict=True):
        assert first["visit_id"] == second["visit_id"]
        assert first["survey_id"] == second["survey_id"]
        assert {first["duplicate"], second["duplicate"]} == {False, True}
    counted = await rows(h)
    assert (counted["visits"], counted["surveys"], counted["reported"]) == (51, 1, 51)
