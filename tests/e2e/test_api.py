"""The HTTP API: every bad input gets a clear error and changes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.harness import BotHarness, running_bot

ANN = 501


async def _visit_count(h: BotHarness) -> int:
    async with h.app.db.read() as conn:
        row = await conn.fetch_one("SELECT COUNT(*) AS n FROM visits")
    assert row is not None
    return int(row["n"])


@pytest.fixture
async def h(tmp_path: Path) -> Any:
    async with running_bot(tmp_path) as harness:
        await harness.start_customer(ANN)
        yield harness


GOOD = {"visit_id": "v-1", "customer": {"telegram_id": ANN}}


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({**GOOD, "colour": "red"}, 400, "colour"),
        ({**GOOD, "customer": {"telegram_id": "forty-two"}}, 400, "customer.telegram_id"),
        ({**GOOD, "customer": {"telegram_id": "42"}}, 400, "customer.telegram_id"),
        ({**GOOD, "customer": {}}, 400, "customer"),
        ({**GOOD, "customer": {"telegram_id": ANN, "phone": "+79161234567"}}, 400, "customer"),
        ({**GOOD, "customer": {"phone": "call me"}}, 400, "customer"),
        ({"customer": {"telegram_id": ANN}}, 400, "visit_id"),
        ({**GOOD, "visited_at": "yesterday"}, 400, "visited_at"),
        ({**GOOD, "visited_at": "2026-11-23T12:00:00"}, 400, "visited_at"),
        ({**GOOD, "visited_at": "2026-11-23T14:00:00+00:00"}, 400, "visited_at"),
        ({**GOOD, "location": 7}, 400, "location"),
        ([GOOD], 400, None),
    ],
)
async def test_bad_visits_are_refused_naming_the_field(
    h: BotHarness, body: Any, status: int, field: str | None
) -> None:
    code, answer = await h.post("/api/v1/visits", body)
    assert (code, answer["ok"], answer.get("field")) == (status, False, field), answer
    assert await _visit_count(h) == 0


async def test_malformed_json_wrong_type_and_huge_body(h: BotHarness) -> None:
    code, answer = await h.post("/api/v1/visits", raw=b'{"visit_id": ')
    assert (code, answer["error"]) == (400, "malformed JSON")
    code, answer = await h.post("/api/v1/visits", raw=b"visit_id=1", content_type="text/plain")
    assert code == 415
    code, answer = await h.post("/api/v1/visits", raw=b'{"x": "' + b"a" * 200_000 + b'"}')
    assert code == 413
    assert await _visit_count(h) == 0


async def test_missing_or_wrong_token_is_401_and_never_echoed(h: BotHarness) -> None:
    for token in (None, "wrong-token-0123456789"):
        code, answer = await h.post("/api/v1/visits", GOOD, token=token)
        assert code == 401
        assert "0123456789" not in str(answer)
    assert await _visit_count(h) == 0


async def test_same_visit_twice_is_one_visit(h: BotHarness) -> None:
    first = await h.post_visit(ANN, "pos-9")
    second = await h.post_visit(ANN, "pos-9")
    assert second["duplicate"] is True
    assert (second["visit_id"], second["survey_id"]) == (first["visit_id"], first["survey_id"])
    assert await _visit_count(h) == 1


async def test_skip_reasons_are_explained(h: BotHarness) -> None:
    assert (await h.post_visit(999, "v-unknown"))["reason"] == "unknown_customer"
    first = await h.post_visit(ANN, "v-a")
    assert first["status"] == "scheduled"
    # Within the 30-day cooldown: no second survey after the next coffee.
    assert (await h.post_visit(ANN, "v-b"))["reason"] == "cooldown"
    old = (h.clock.now().replace(hour=1)).isoformat()
    code, answer = await h.post(
        "/api/v1/visits", {"visit_id": "v-old", "customer": {"phone": "+79160000000"}}
    )
    assert (code, answer["reason"]) == (201, "unknown_customer")
    code, answer = await h.post(
        "/api/v1/visits",
        {"visit_id": "v-c", "customer": {"telegram_id": ANN}, "visited_at": old},
    )
    assert answer["reason"] == "too_old"


async def test_crm_customer_gets_a_deep_link_that_links_the_chat(h: BotHarness) -> None:
    code, answer = await h.post(
        "/api/v1/customers",
        {"external_id": "crm-7", "phone": "+7 916 555-44-33", "name": "Vera", "language": "ru"},
    )
    assert code == 201 and answer["linked"] is False
    link = answer["start_link"]
    assert link.startswith(f"https://t.me/{h.fake.bot_username}?start=c_")
    # Not linked yet: a visit by external id is known but cannot be surveyed.
    code, visit = await h.post(
        "/api/v1/visits", {"visit_id": "v-crm", "customer": {"external_id": "crm-7"}}
    )
    assert visit["reason"] == "not_linked"
    h.fake.user(777, "Vera", "ru")
    since = len(h.fake.sent)
    await h.fake.send_text(777, "/start " + link.split("start=")[1])
    await h.fake.wait_for_message(777, text_contains="привязан", since=since)
    code, visit = await h.post(
        "/api/v1/visits", {"visit_id": "v-crm-2", "customer": {"phone": "+79165554433"}}
    )
    assert visit["status"] == "scheduled"
    await h.survey_for(777)


async def test_shared_phone_finds_visits_reported_by_phone(h: BotHarness) -> None:
    await h.fake.share_contact(ANN, "79161112233")
    await h.fake.wait_for_message(ANN, text_contains="phone number is saved")
    _code, visit = await h.post(
        "/api/v1/visits", {"visit_id": "v-phone", "customer": {"phone": "+7 916 111-22-33"}}
    )
    assert visit["status"] == "scheduled"
    await h.survey_for(ANN)


async def test_qr_code_deep_link_registers_a_visit_at_its_location(h: BotHarness) -> None:
    status, _ = await h.call("PUT", "/api/v1/locations/Кафе на Арбате", {"name": "Кофейня №1"})
    assert status == 201
    found = await h.app.locations.qr_payload("Кафе на Арбате")
    assert found is not None
    since = len(h.fake.sent)
    await h.fake.send_text(ANN, "/start " + found[1])
    await h.fake.wait_for_message(ANN, text_contains="Кофейня №1", since=since)
    survey = await h.survey_for(ANN, since=since)
    assert "Кофейня №1" in survey.text  # the catalogue name, not the code


async def test_healthz_needs_no_token(h: BotHarness) -> None:
    async with h.http.get(h.api_url + "/healthz") as response:
        body = await response.json()
    assert response.status == 200 and body["ok"] is True


async def test_a_crm_phone_that_is_another_customers_is_409(h: BotHarness) -> None:
    first = {"external_id": "crm-1", "phone": "+79161234567", "name": "Vera"}
    code, _ = await h.post("/api/v1/customers", first)
    assert code == 201
    code, answer = await h.post("/api/v1/customers", {**first, "external_id": "crm-2"})
    assert (code, answer["field"]) == (409, "phone")
    code, again = await h.post("/api/v1/customers", first)
    assert (code, again["created"]) == (200, False)
