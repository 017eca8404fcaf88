"""Take docs/dashboard.png, the README's picture of the dashboard: the Overview screen of
`otklik demo` as its admin sees it, in Debian's chromium driven by Playwright (the
browser tests' way, see tests/e2e/test_dashboard_browser.py).

    .venv/bin/python docs/screenshot.py [--database otklik-demo.sqlite3] [--output ...]

It builds the demo database when the file is missing (about 30 s), as `otklik demo` does.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from playwright.async_api import async_playwright

from bot.demo.serve import ADMIN, DemoServer, prepare_database

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
HERE = Path(__file__).resolve().parent


async def take(database: Path, output: Path, width: int, height: int) -> None:
    server = DemoServer(await prepare_database(database), port=0)
    await server.start()
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = await browser.new_page(
                viewport={"width": width, "height": height}, color_scheme="light"
            )
            await page.goto(server.url(ADMIN))
            await page.wait_for_selector('[data-metric="nps"]')
            await page.wait_for_selector(".chart canvas")
            await page.screenshot(path=str(output), full_page=True)
            await browser.close()
    finally:
        await server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", type=Path, default=Path("otklik-demo.sqlite3"))
    parser.add_argument("--output", type=Path, default=HERE / "dashboard.png")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=820)
    args = parser.parse_args()
    asyncio.run(take(args.database, args.output, args.width, args.height))
    print(f"{args.output}: {args.output.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
