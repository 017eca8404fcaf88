"""`otklik demo`: the command's own code builds the demo database, serves the dashboard,
and prints addresses that log a browser in (Debian's chromium driven by Playwright); the
page shows the figures GET /api/v1/stats gives for the same database, a branch manager
sees their branch only, and nothing asks the Bot API. As a process, SIGTERM stops it
with exit code 0; a file that is not a demo is refused and left alone."""

from __future__ import annotations

import asyncio
import io
import os
import re
import shutil
import signal
import socket
import sqlite3
import threading
import time
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from playwright.async_api import Browser, async_playwright

from bot.cli import build_parser, main
from bot.cli.demo import run_demo
from bot.demo.chain import BRANCHES
from bot.demo.serve import DemoServer
from bot.reports.outbox import load_report
from bot.reports.service import SegmentBy, parse_period, report_to_dict
from tests.e2e.test_dashboard_browser import CHROMIUM, CHROMIUM_ARGS

in_module_loop = pytest.mark.asyncio(loop_scope="module")
needs_chromium = pytest.mark.skipif(
    shutil.which("chromium") is None, reason="Debian's chromium is missing"
)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        await launched.close()


def _address(printed: str, path: str) -> str:
    found = re.search(rf"(http://127\.0\.0\.1:\d+{path})\s", printed)
    assert found is not None, printed
    return found.group(1)


async def _api_stats_total(server: DemoServer, period: str) -> dict[str, Any]:
    """What GET /api/v1/stats?period=... answers as `total` for the served database on
    the served clock's day (bot/api/reports.py's get_stats, without the HTTP)."""
    settings = server.settings
    today = server.clock.now().astimezone(settings.zone).date()
    report = await load_report(
        server.services.db, parse_period(period, today), SegmentBy.NONE, settings.min_sample
    )
    total: dict[str, Any] = report_to_dict(report)["total"]
    return total


@in_module_loop
@needs_chromium
async def test_the_command_builds_serves_and_logs_a_browser_in_without_telegram(
    browser: Browser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every HTTP request this process makes with aiohttp (aiogram's session included).
    outgoing: list[str] = []
    request = aiohttp.ClientSession._request

    async def recorded(self: aiohttp.ClientSession, method: str, url: Any, **kw: Any) -> Any:
        outgoing.append(f"{method} {url}")
        return await request(self, method, url, **kw)

    monkeypatch.setattr(aiohttp.ClientSession, "_request", recorded)
    file = tmp_path / "demo.sqlite3"
    args = build_parser().parse_args(
        ["demo", "--database", str(file), "--days", "7", "--port", "0"]
    )
    out, stop, ready, servers = io.StringIO(), asyncio.Event(), asyncio.Event(), []

    def started(server: DemoServer) -> None:
        servers.append(server)
        ready.set()

    command = asyncio.create_task(run_demo(args, out=out, stop=stop, started=started))
    waiting = asyncio.create_task(ready.wait())
    await asyncio.wait({command, waiting}, timeout=120, return_when=asyncio.FIRST_COMPLETED)
    waiting.cancel()
    assert servers, out.getvalue()
    server = servers[0]
    printed = out.getvalue()
    assert "Built " in printed and "6 branches" in printed

    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    await page.goto(_address(printed, "/demo/admin"))
    nps = await page.wait_for_selector('[data-metric="nps"]')
    assert nps is not None
    total = await _api_stats_total(server, "30d")
    assert total["n"] > 80 and total["nps"] is not None  # enough answers for an NPS
    assert await nps.get_attribute("data-value") == str(total["nps"])
    assert await nps.get_attribute("data-n") == str(total["n"])
    ces = await page.get_attribute('[data-metric="ces"]', "data-value")
    assert ces is not None and float(ces) == total["ces_mean"]
    rate = await page.get_attribute('[data-metric="response-rate"]', "data-value")
    assert rate is not None and float(rate) == total["response_rate"]
    locations = await page.eval_on_selector_all(
        '[data-table="locations"] tbody tr', "rows => rows.map(row => row.dataset.location)"
    )
    assert sorted(locations) == sorted(branch.code for branch in BRANCHES)
    # The page left the one-time link behind; the demo address gives a fresh one.
    assert page.url.endswith("/app/")
    await page.close()

    page = await browser.new_page(viewport={"width": 360, "height": 800})
    await page.goto(_address(printed, "/demo/manager") + "?lang=uk")
    await page.wait_for_selector('[data-metric="nps"]')
    locations = await page.eval_on_selector_all(
        '[data-table="locations"] tbody tr', "rows => rows.map(row => row.dataset.location)"
    )
    assert locations == ["lviv-rynok"]
    assert "Огляд" in await page.inner_text("nav")
    await page.close()

    assert server.telegram.calls == []
    assert outgoing == []
    stop.set()
    assert await command == 0
    assert out.getvalue().rstrip().endswith("otklik demo: stopped")

    # Again on the same file: reused, not rebuilt.
    out, stop = io.StringIO(), asyncio.Event()
    stop.set()
    assert await run_demo(args, out=out, stop=stop) == 0
    assert f"Using the demo database {file}" in out.getvalue()


@in_module_loop
async def test_a_file_that_is_not_a_demo_is_refused_and_left_alone(tmp_path: Path) -> None:
    real = tmp_path / "otklik.sqlite3"
    with sqlite3.connect(real) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER)")
    before = real.read_bytes()
    for extra in ([], ["--fresh"]):
        args = build_parser().parse_args(["demo", "--database", str(real), *extra])
        assert await run_demo(args, out=io.StringIO(), stop=asyncio.Event()) == 2
    assert real.read_bytes() == before


def test_otklik_demo_serves_until_sigterm_and_exits_0(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`otklik demo` as a newcomer runs it (`main`, asyncio.run, the signal handlers),
    no settings at all, its file in the working directory; SIGTERM once it answers."""
    for name in [key for key in os.environ if key.isupper() and key != "PATH"]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    seen: list[str] = []

    def visitor() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/demo/admin") as answer:
                    seen.append(answer.url)  # followed to /app/?login=...
                break
            except OSError:
                time.sleep(0.1)
        # Its signal handlers are in place before it listens; without an answer, SIGINT
        # (KeyboardInterrupt: exit 130) ends the test instead of hanging it.
        os.kill(os.getpid(), signal.SIGTERM if seen else signal.SIGINT)

    thread = threading.Thread(target=visitor, daemon=True)
    thread.start()
    code = main(["demo", "--days", "1", "--port", str(port)])
    thread.join()
    assert code == 0
    assert len(seen) == 1 and "/app/?login=" in seen[0]
    printed = capsys.readouterr().out
    assert f"http://127.0.0.1:{port}/demo/admin " in printed
    assert printed.rstrip().endswith("otklik demo: stopped")
    assert (tmp_path / "otklik-demo.sqlite3").exists()
    assert not list(tmp_path.glob("*.building.*"))
