"""The OpenAPI contract is true: every API route is documented, and schemathesis, run
against the real app on 127.0.0.1, finds no 5xx and no answer the document does not
describe, for valid and for invalid input alike."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.api import create_api_app
from bot.api.openapi import undocumented_routes
from tests.support.harness import BotHarness, running_bot
from tests.support.settings import API_TOKEN

ANN = 501
# Bounded so the run takes seconds: each operation gets its examples, its coverage
# phase (boundary values of every bound the document states) and this many random ones.
MAX_EXAMPLES = 12
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
        "ignored_auth",
    ]
)


@pytest.fixture
async def h(tmp_path: Path) -> Any:
    async with running_bot(tmp_path) as harness:
        await harness.start_customer(ANN)
        yield harness


async def _document(h: BotHarness) -> dict[str, Any]:
    async with h.http.get(h.api_url + "/api/v1/openapi.json") as response:
        assert response.status == 200
        body: dict[str, Any] = await response.json()
    return body


async def test_every_api_route_has_a_documented_operation(h: BotHarness) -> None:
    app = h.app.api_app
    assert app is not None
    assert undocumented_routes(app) == []
    document = await _document(h)
    operations = {
        f"{method.upper()} {path}" for path, item in document["paths"].items() for method in item
    }
    routes = {
        f"{route.method} {route.resource.canonical}"
        for route in app.router.routes()
        if route.resource is not None
        and route.method != "HEAD"
        and (
            route.resource.canonical.startswith("/api/")
            or route.resource.canonical in ("/healthz", "/metrics")
        )
    }
    assert operations == routes
    assert document["openapi"] == "3.1.0"


async def test_the_document_states_the_bounds(h: BotHarness) -> None:
    schemas = (await _document(h))["components"]["schemas"]
    telegram_id = schemas["CustomerRef"]["properties"]["telegram_id"]["anyOf"][0]
    assert (telegram_id["exclusiveMinimum"], telegram_id["maximum"]) == (0, 2**53 - 1)
    visit_id = schemas["VisitBody"]["properties"]["visit_id"]
    assert (visit_id["minLength"], visit_id["maxLength"]) == (1, 200)
    assert visit_id["pattern"] == r"^[^\x00-\x1f\x7f]*$"
    assert "2000-01-01" in schemas["VisitBody"]["properties"]["visited_at"]["description"]
    batch = schemas["VisitBatchBody"]["properties"]["visits"]
    assert (batch["minItems"], batch["maxItems"]) == (1, 1000)
    assert {"$ref": "#/components/schemas/VisitBody"} in batch["items"]["anyOf"]


async def test_an_undocumented_route_is_reported(h: BotHarness) -> None:
    async def secret(request: web.Request) -> web.Response:
        return web.json_response({})

    app = create_api_app(h.app, API_TOKEN, 1024)
    app.router.add_get("/api/v1/secret", secret)
    assert undocumented_routes(app) == ["GET /api/v1/secret"]


async def test_schemathesis_finds_no_5xx_and_no_undocumented_answer(
    h: BotHarness, tmp_path: Path
) -> None:
    # A catalogued location, so that the GETs and DELETEs meet real rows too.
    status, _ = await h.call("PUT", "/api/v1/locations/main", {"name": "Main St"})
    assert status == 201
    st = Path(sys.executable).with_name("st")
    process = await asyncio.create_subprocess_exec(
        str(st),
        "run",
        h.api_url + "/api/v1/openapi.json",
        "--header",
        f"Authorization: Bearer {API_TOKEN}",
        "--checks",
        CHECKS,
        "--mode",
        "all",
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        "20261207",
        "--workers",
        "1",
        "--no-shrink",
        "--request-timeout",
        "10",
        "--report",
        "junit",
        "--report-junit-path",
        str(tmp_path / "junit.xml"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "NO_COLOR": "1"},
        cwd=tmp_path,  # its cache directory (.schemathesis/) goes there
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=240)
    text = output.decode(errors="replace")
    assert process.returncode == 0, text[-20000:]
    # It really ran every operation of the document (but the document's own, which
    # schemathesis leaves out as the schema it loaded).
    document = await _document(h)
    operations = {
        f"{method.upper()} {path}"
        for path, item in document["paths"].items()
        for method in item
        if path != "/api/v1/openapi.json"
    }
    junit = await asyncio.to_thread((tmp_path / "junit.xml").read_text)
    tested = set(re.findall(r'<testcase name="([^"]+)"', junit))
    assert tested == operations
