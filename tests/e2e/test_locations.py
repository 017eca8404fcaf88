"""The chain's catalogue end to end: the HTTP API, the CSV import, /locations, and what
a visit naming an unknown location does."""

from __future__ import annotations

import base64
import csv
import io
from pathlib import Path
from typing import Any

import pytest

from bot.cli import build_parser
from bot.cli.locations import import_locations, parse_rows
from bot.locations.service import CatalogueError
from tests.support.admin import admin_says
from tests.support.harness import BotHarness, running_bot
from tests.support.settings import ADMIN_ID, API_TOKEN

ANN = 501
KYIV = {
    "name": "Kyiv, Khreshchatyk 1",
    "time_zone": "Europe/Kyiv",
    "manager_chat_id": -1001234567890,
    "region": "north",
    "opening_hours": {"mon": "09:00-21:00", "sat": "10:00-18:00"},
}


@pytest.fixture
async def h(tmp_path: Path) -> Any:
    async with running_bot(tmp_path) as harness:
        await harness.start_customer(ANN)
        yield harness


async def _catalogue(h: BotHarness) -> dict[str, Any]:
    status, body = await h.call("GET", "/api/v1/locations")
    assert status == 200
    return body


async def test_locations_and_regions_over_http(h: BotHarness) -> None:
    status, body = await h.call("PUT", "/api/v1/locations/kyiv-1", KYIV)
    assert (status, body["field"]) == (400, "region")
    assert (await _catalogue(h))["locations"] == []

    status, body = await h.call("PUT", "/api/v1/regions/north", {"name": "North"})
    assert (status, body["created"]) == (201, True)
    status, body = await h.call("PUT", "/api/v1/locations/kyiv-1", KYIV)
    assert (status, body["created"]) == (201, True)
    assert body["location"]["opening_hours"] == {"mon": "09:00-21:00", "sat": "10:00-18:00"}
    status, body = await h.call("PUT", "/api/v1/locations/kyiv-1", {"name": "Kyiv 1"})
    assert (status, body["created"]) == (200, False)

    catalogue = await _catalogue(h)
    assert [(loc["code"], loc["name"]) for loc in catalogue["locations"]] == [("kyiv-1", "Kyiv 1")]
    assert catalogue["regions"] == [{"code": "north", "name": "North", "manager_chat_id": None}]

    status, _ = await h.call("DELETE", "/api/v1/locations/nowhere")
    assert status == 404
    status, body = await h.call("DELETE", "/api/v1/locations/kyiv-1")
    assert (status, body["deleted"]) == (200, True)
    status, _ = await h.call("DELETE", "/api/v1/regions/north")
    assert status == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"time_zone": "Europe/Kyiv"}, "name"),
        ({**KYIV, "region": None, "time_zone": "Kyiv"}, "time_zone"),
        ({**KYIV, "region": None, "manager_chat_id": "-100"}, "manager_chat_id"),
        ({**KYIV, "region": None, "opening_hours": {"mon": "all day"}}, "opening_hours"),
        ({**KYIV, "region": None, "wifi": True}, "wifi"),
    ],
)
async def test_bad_locations_are_refused_naming_the_field(
    h: BotHarness, body: dict[str, Any], field: str
) -> None:
    status, answer = await h.call("PUT", "/api/v1/locations/x", body)
    assert (status, answer["ok"], answer["field"]) == (400, False, field), answer
    assert (await _catalogue(h))["locations"] == []


async def test_bad_json_and_no_token_change_nothing(h: BotHarness) -> None:
    status, answer = await h.call("PUT", "/api/v1/locations/x", raw=b'{"name": ')
    assert (status, answer["error"]) == (400, "malformed JSON")
    status, answer = await h.call("PUT", "/api/v1/locations/x", {"name": "X"}, token=None)
    assert status == 401
    status, answer = await h.call("PUT", "/api/v1/locations/x", {"name": "X"}, token="wrong")
    assert status == 401 and API_TOKEN not in str(answer)
    assert (await _catalogue(h))["locations"] == []


async def test_an_unknown_location_is_catalogued_by_default(h: BotHarness) -> None:
    await h.post_visit(ANN, "v-1", location="Mall")
    [location] = (await _catalogue(h))["locations"]
    assert (location["code"], location["manager_chat_id"], location["source"]) == (
        "Mall",
        None,
        "visit",
    )


async def test_an_unknown_location_is_refused_when_so_configured(tmp_path: Path) -> None:
    async with running_bot(tmp_path, unknown_locations="refuse") as h:
        await h.start_customer(ANN)
        status, body = await h.post(
            "/api/v1/visits",
            {"visit_id": "v-1", "customer": {"telegram_id": ANN}, "location": "Mall"},
        )
        assert (status, body["field"]) == (400, "location")
        assert "'Mall'" in body["error"]
        async with h.app.db.read() as conn:
            row = await conn.fetch_one("SELECT COUNT(*) AS n FROM visits")
        assert row is not None and row["n"] == 0
        await h.call("PUT", "/api/v1/locations/Mall", {"name": "The Mall"})
        assert (await h.post_visit(ANN, "v-1", location="Mall"))["status"] == "scheduled"


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


CHAIN = (
    "code,name,time_zone,manager_chat_id,region,mon,tue,sun,region_name,region_manager_chat_id\n"
    "kyiv-1,Kyiv 1,Europe/Kyiv,-1001,north,09:00-21:00,09:00-21:00,,North,-2001\n"
    "kyiv-2,Kyiv 2,Europe/Kyiv,-1002,north,09:00-21:00,,10:00-16:00,North,-2001\n"
    "lviv-1,Lviv 1,Europe/Kyiv,,,,,,,\n"
)


async def test_a_chain_is_configured_by_one_csv_import(
    h: BotHarness, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = _write(tmp_path / "bad.csv", CHAIN + "odesa-1,Odesa 1,Europe/Kyiv,,south,,,,,\n")
    args = build_parser().parse_args(["locations", "import", str(bad)])
    assert (args.command, args.locations_command, args.file) == ("locations", "import", bad)
    assert await import_locations(h.settings, bad) == 2
    assert "location 'odesa-1': region: 'south' is not in" in capsys.readouterr().err
    assert (await _catalogue(h))["locations"] == []

    good = _write(tmp_path / "chain.csv", CHAIN)
    assert await import_locations(h.settings, good) == 0
    assert "locations: 3 created, 0 updated; regions: 1 created" in capsys.readouterr().out
    catalogue = await _catalogue(h)
    by_code = {loc["code"]: loc for loc in catalogue["locations"]}
    assert by_code["kyiv-2"]["opening_hours"] == {"mon": "09:00-21:00", "sun": "10:00-16:00"}
    assert by_code["lviv-1"]["manager_chat_id"] is None
    assert catalogue["regions"] == [{"code": "north", "name": "North", "manager_chat_id": -2001}]

    h.fake.user(ADMIN_ID, "Admin")
    reply = await admin_says(h, "/locations")
    assert "3 locations" in reply.text and "kyiv-2" in reply.text and "head office" in reply.text


async def test_a_file_row_with_a_bad_field_names_its_line(h: BotHarness, tmp_path: Path) -> None:
    rows = CHAIN + "x,,Europe/Kyiv,,,,,,,\n"
    with pytest.raises(CatalogueError, match="line 5: name"):
        parse_rows(list(csv.DictReader(io.StringIO(rows))))
    twice = CHAIN + "kyiv-1,Again,Europe/Kyiv,,,,,,,\n"
    with pytest.raises(CatalogueError, match="line 5: code: 'kyiv-1' appears twice"):
        parse_rows(list(csv.DictReader(io.StringIO(twice))))


async def test_a_forged_or_altered_qr_link_registers_nothing(h: BotHarness) -> None:
    await h.call("PUT", "/api/v1/locations/kyiv-1", {"name": "Kyiv 1"})
    found = await h.app.locations.qr_payload("kyiv-1")
    assert found is not None
    location, genuine = found
    other_id = location.id + 1
    forged = [
        genuine[:-1] + ("A" if genuine[-1] != "A" else "B"),  # one character of the signature
        f"q_{other_id}_{genuine.rsplit('_', 1)[1]}",  # another location, the same signature
        "l_" + base64.urlsafe_b64encode(b"kyiv-1").decode().rstrip("="),  # the old unsigned form
        "q_1_" + "x" * 16,
    ]
    for number, payload in enumerate(forged, start=1):
        customer = 900 + number
        await h.start_customer(customer)
        since = len(h.fake.sent)
        await h.fake.send_text(customer, "/start " + payload)
        welcome = await h.fake.wait_for_message(customer, since=since)
        assert "Otklik" in welcome.text  # the customer still gets the welcome
    await h.app.worker.drain()
    async with h.app.db.read() as conn:
        visits = await conn.fetch_one("SELECT COUNT(*) AS n FROM visits")
    assert visits is not None and visits["n"] == 0
    assert [loc["code"] for loc in (await _catalogue(h))["locations"]] == ["kyiv-1"]

    # The genuine link registers a visit at its location.
    since = len(h.fake.sent)
    await h.fake.send_text(ANN, "/start " + genuine)
    await h.fake.wait_for_message(ANN, text_contains="Kyiv 1", since=since)
    async with h.app.db.read() as conn:
        visit = await conn.fetch_one("SELECT location, source FROM visits")
    assert visit is not None and (visit["location"], visit["source"]) == ("kyiv-1", "qr")
