"""The dashboard in a real browser (Debian's chromium driven by Playwright), opened
exactly as Telegram opens a Mini App: <base>/app/#tgWebAppData=<initData>&... . One
browser serves the module; each test runs its own bot against the fake Bot API."""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.e2e.test_dashboard import KATE, KYIV_CHAT, LEO, chain_with_answers
from tests.support.dashboard import mini_app_url, sign_init_data
from tests.support.harness import BotHarness, running_bot

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Records what the page's Content-Security-Policy refused (it should refuse nothing).
CSP_PROBE = (
    "window.__csp = [];"
    "document.addEventListener('securitypolicyviolation',"
    " e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
)

pytestmark = [
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is missing"),
]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        await launched.close()


async def _page(browser: Browser, width: int = 1280) -> Page:
    page = await browser.new_page(viewport={"width": width, "height": 800})
    await page.add_init_script(CSP_PROBE)
    return page


async def _open(
    browser: Browser, h: BotHarness, init_data: str, width: int = 1280, theme: str = ""
) -> Page:
    page = await _page(browser, width)
    url = mini_app_url(h.api_url, init_data)
    if theme:
        url += "&tgWebAppThemeParams=" + quote(theme, safe="")
    await page.goto(url)
    return page


async def _screen(page: Page, name: str) -> None:
    await page.click(f'nav a[data-screen="{name}"]')
    await page.wait_for_selector(f'nav a.active[data-screen="{name}"]')


async def _no_horizontal_scroll(page: Page) -> None:
    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0


async def test_a_head_office_manager_reads_filters_and_takes_a_case(
    browser: Browser, tmp_path: Path
) -> None:
    async with running_bot(tmp_path, min_sample=2) as h:
        surveys = await chain_with_answers(h)
        page = await _open(browser, h, sign_init_data(KATE, h.clock.now()))
        nps = await page.wait_for_selector('[data-metric="nps"]')
        assert nps is not None
        _, stats = await h.call("GET", "/api/v1/stats?period=30d")
        total = stats["total"]
        assert await nps.get_attribute("data-value") == str(total["nps"])
        assert f"(n={total['n']})" in await nps.inner_text()
        ces = await page.get_attribute('[data-metric="ces"]', "data-value")
        assert ces is not None and float(ces) == total["ces_mean"]
        rate = await page.get_attribute('[data-metric="response-rate"]', "data-value")
        assert rate is not None and float(rate) == total["response_rate"]
        assert await page.locator(".chart canvas").count() >= 1  # uPlot drew the weeks
        # The locations table sorts by a column at a click.
        await page.click('th[data-sort="number"] >> nth=1')  # answers, ascending
        first = page.locator("tbody tr").first
        assert await first.get_attribute("data-location") == "lviv"

        await _screen(page, "responses")
        assert await page.locator(".response").count() == 5
        await page.select_option('select[name="band"]', "detractor")
        await page.click(".filters button[type=submit]")
        await expect(page.locator(".response")).to_have_count(2)
        await page.fill('input[name="q"]', "кофе")
        await page.click(".filters button[type=submit]")
        await expect(page.locator(".response")).to_have_count(1)
        assert "Холодный кофе" in await page.inner_text(".response")

        await _screen(page, "cases")
        async with h.app.db.read() as conn:
            row = await conn.fetch_one(
                "SELECT id FROM cases WHERE survey_id = :s", {"s": surveys[503]}
            )
        assert row is not None
        case_id = int(row["id"])
        await page.click(f'[data-case="{case_id}"] button[data-action="take"]')
        await page.wait_for_selector(f'[data-case="{case_id}"][data-status="taken"]')
        await h.settled()
        card = next(m for m in h.fake.messages_to(KYIV_CHAT) if f"Case #{case_id}" in m.text)
        assert "Taken by Kate" in card.text

        # Topics: a bar per topic by NPS impact, its width set by the script (the CSP
        # refuses style attributes), the costliest (staff attitude, -25) the widest.
        await _screen(page, "topics")
        widths = await page.eval_on_selector_all(
            ".topic .bar-fill", "bars => bars.map(bar => bar.getBoundingClientRect().width)"
        )
        assert len(widths) == 3 and widths[0] > 0 and widths[0] == max(widths)
        for width in (360, 1280):
            await page.set_viewport_size({"width": width, "height": 800})
            for screen in ("overview", "responses", "cases", "topics"):
                await _screen(page, screen)
                await _no_horizontal_scroll(page)
        assert await page.evaluate("window.__csp") == []
        await page.close()


async def test_a_branch_manager_sees_their_own_and_forged_or_stale_data_gets_nothing(
    browser: Browser, tmp_path: Path
) -> None:
    async with running_bot(tmp_path, min_sample=2) as h:
        await chain_with_answers(h)
        theme = json.dumps({"bg_color": "#102030", "text_color": "#f0f0f0"})
        init_data = sign_init_data(LEO, h.clock.now(), language="uk")
        page = await _open(browser, h, init_data, 360, theme)
        await page.wait_for_selector('[data-metric="nps"]')
        locations = await page.eval_on_selector_all(
            "tbody tr", "rows => rows.map(row => row.dataset.location)"
        )
        assert locations == ["lviv"]
        assert "Огляд" in await page.inner_text("nav")
        background = await page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(16, 32, 48)"
        await _no_horizontal_scroll(page)
        # Another branch's location, asked for through the page's own navigation: 403.
        async with page.expect_response(lambda r: "location=kyiv" in r.url) as refused:
            await page.evaluate(
                "() => { const a = document.createElement('a');"
                " a.href = 'view/responses?location=kyiv'; a.textContent = 'x';"
                " document.getElementById('main').appendChild(a); a.click(); }"
            )
        assert (await refused.value).status == 403
        await page.wait_for_selector('[data-notice="msgForbidden"]')
        assert await page.evaluate("window.__csp") == []
        await page.close()

        now = h.clock.now()
        for init_data in (
            sign_init_data(LEO, now, token="123456:SOMEONE-ELSES"),
            sign_init_data(LEO, now - timedelta(hours=2)),
        ):
            page = await _page(browser)
            async with page.expect_response(lambda r: r.url.endswith("/app/auth")) as answer:
                await page.goto(mini_app_url(h.api_url, init_data))
            assert (await answer.value).status == 401
            await page.wait_for_selector('[data-notice="msgDenied"]')
            assert await page.locator("[data-metric]").count() == 0
            await page.close()
