"""Hostile input never reaches a 500: overflowing numbers and dates, deep or ambiguous
JSON, control characters, forged survey buttons. Each gets a 4xx (or a polite answer to
the button) naming what is wrong, and changes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.harness import BotHarness, running_bot

ANN = 501
GOOD: dict[str, Any] = {"visit_id": "v-1", "customer": {"telegram_id": ANN}}


async def _count(h: BotHarness, table: str) -> int:
    async with h.app.db.read() as conn:
        row = await conn.fetch_one(f"SELECT COUNT(*) AS n FROM {table}")
    assert row is not None
    return int(row["n"])


@pytest.fixture
async def h(tmp_path: Path) -> Any:
    async with running_bot(tmp_path) as harness:
        await harness.start_customer(ANN)
        yield harness


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**GOOD, "customer": {"telegram_id": 2**64}}, "customer.telegram_id"),
        ({**GOOD, "customer": {"telegram_id": 10**30}}, "customer.telegram_id"),
        ({**GOOD, "customer": {"telegram_id": 2**63}}, "customer.telegram_id"),
        ({**GOOD, "visited_at": "0001-01-01T00:00:00+14:00"}, "visited_at"),
        ({**GOOD, "visited_at": "9999-12-31T23:59:59-14:00"}, "visited_at"),
        ({**GOOD, "visited_at": "1970-01-01T00:00:00+00:00"}, "visited_at"),
        ({**GOOD, "location": "Main\x00St"}, "location"),
        ({**GOOD, "staff": "Olga\x00"}, "staff"),
        ({**GOOD, "touchpoint": "\x07till"}, "touchpoint"),
        ({**GOOD, "visit_id": "v\x00-1"}, "visit_id"),
        ({**GOOD, "customer": {"external_id": "crm\x00-1"}}, "customer.external_id"),
    ],
)
async def test_overflows_and_control_characters_are_400_naming_the_field(
    h: BotHarness, body: dict[str, Any], field: str
) -> None:
    code, answer = await h.post("/api/v1/visits", body)
    assert (code, answer["ok"], answer.get("field")) == (400, False, field), answer
    assert field in answer["error"]
    assert await _count(h, "visits") == 0


@pytest.mark.parametrize("depth", [5000, 100])
async def test_json_nested_deep_is_400(h: BotHarness, depth: int) -> None:
    deep = b'{"visit_id": "v-1", "customer": ' + b"[" * depth + b"]" * depth + b"}"
    code, answer = await h.post("/api/v1/visits", raw=deep)
    assert (code, answer["ok"]) == (400, False), answer
    assert "nested deeper than 64 levels" in answer["error"]
    assert await _count(h, "visits") == 0


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/locations/main", {"name": "Main", "manager_chat_id": 2**64}, "manager_chat_id"),
        ("/api/v1/locations/main", {"name": "Ma\x00in"}, "name"),
        (
            "/api/v1/regions/north",
            {"name": "North", "manager_chat_id": -(10**30)},
            "manager_chat_id",
        ),
    ],
)
async def test_catalogue_overflows_are_400(
    h: BotHarness, path: str, body: dict[str, Any], field: str
) -> None:
    code, answer = await h.call("PUT", path, body)
    assert (code, answer.get("field")) == (400, field), answer
    assert await _count(h, "regions") == 0
    async with h.app.db.read() as conn:
        row = await conn.fetch_one("SELECT COUNT(*) AS n FROM locations WHERE code = 'main'")
    assert row is not None and row["n"] == 0


async def test_duplicate_json_keys_are_400_naming_the_key(h: BotHarness) -> None:
    raw = b'{"visit_id": "v-1", "visit_id": "v-2", "customer": {"telegram_id": 501}}'
    code, answer = await h.post("/api/v1/visits", raw=raw)
    assert (code, answer["ok"]) == (400, False), answer
    assert "duplicate key" in answer["error"] and "visit_id" in answer["error"]
    raw = b'{"visit_id": "v-1", "customer": {"telegram_id": 501, "telegram_id": 502}}'
    code, answer = await h.post("/api/v1/visits", raw=raw)
    assert code == 400 and "telegram_id" in answer["error"], answer
    assert await _count(h, "visits") == 0


@pytest.mark.parametrize(
    "raw",
    [b'{"visit_id": NaN}', b'{"visit_id": "v", "n": Infinity}', b'{"n": ' + b"9" * 5000 + b"}"],
)
async def test_non_standard_numbers_are_400(h: BotHarness, raw: bytes) -> None:
    code, answer = await h.post("/api/v1/visits", raw=raw)
    assert (code, answer["ok"]) == (400, False), answer
    assert await _count(h, "visits") == 0


async def test_crm_customer_with_a_null_byte_is_400(h: BotHarness) -> None:
    code, answer = await h.post("/api/v1/customers", {"external_id": "crm-1", "name": "Ve\x00ra"})
    assert (code, answer.get("field")) == (400, "name"), answer
    assert await _count(h, "customers") == 1  # only Ann


async def _press_forged(h: BotHarness, data: str) -> tuple[str, Any]:
    """Ann presses a button carrying `data` on her own survey message; the bot's answer."""
    survey = await h.survey_for(ANN)
    update = await h.fake.press(ANN, survey.message_id, data, check_button=False)
    query_id = update["callback_query"]["id"]
    answer = await h.fake.wait_for_call(
        "answerCallbackQuery", lambda r: str(r.params.get("callback_query_id")) == query_id
    )
    await h.settled()
    return str(answer.params.get("text") or ""), survey


@pytest.mark.parametrize(
    "data",
    [
        "sv1:{id}:n:x",
        "sv1:{id}:n:11",
        "sv1:{id}:n:-1",
        "sv1:{id}:q:5",
        "sv1:18446744073709551616:n:5",
        "sv1:99999999999999999999999999:c:3",
        "sv1:-5:n:5",
        "sv1:{id}:n:5:extra",
    ],
)
async def test_a_forged_survey_button_is_answered_and_changes_nothing(
    h: BotHarness, data: str
) -> None:
    await h.post_visit(ANN, "v-forged")
    async with h.app.db.read() as conn:
        row = await conn.fetch_one("SELECT id FROM surveys")
    assert row is not None
    text, survey = await _press_forged(h, data.format(id=row["id"]))
    assert text == "This button is not valid. Please use the buttons of the survey."
    # Her survey keeps its eleven score buttons, and nothing was answered.
    assert len(h.fake.message(ANN, survey.message_id).callback_data) == 11
    assert not [c for c in h.fake.calls("editMessageReplyMarkup") if c.ok]
    async with h.app.db.read() as conn:
        answered = await conn.fetch_one("SELECT nps FROM surveys WHERE id = :id", row)
    assert answered is not None and answered["nps"] is None
    # The real button still works afterwards.
    await h.press(ANN, survey, "9")
    await h.fake.wait_for(
        lambda m: (
            m.chat_id == ANN and m.message_id == survey.message_id and len(m.callback_data) == 7
        )
    )
