"""Start-up as an operator meets it: what the bot loads, a Bot API server it cannot
reach yet (waited out, one log line per attempt, visits accepted meanwhile), and a
token the server refuses (one line naming BOT_TOKEN, exit code 2).

Waits between attempts go through an injected sleep, so no test waits them out;
the `otklik run` tests run the real command in a process of its own."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys
from pathlib import Path

import aiohttp
import pytest

from bot.app import Otklik, StartupError
from bot.core.clock import FakeClock, to_ms
from storage import customers
from storage.customers import TelegramProfile
from tests.support.fake_telegram import FakeTelegram
from tests.support.harness import free_port
from tests.support.settings import API_TOKEN, BOT_TOKEN, MANAGER_CHAT_ID, make_settings

ROOT = Path(__file__).resolve().parents[2]
CUSTOMER = 501

# Run in a fresh interpreter: in this one, other tests have imported everything.
LAZY_IMPORTS = """
import asyncio, json, sys, tempfile
from pathlib import Path
from tests.support.harness import running_bot
from tests.support.settings import MANAGER_CHAT_ID

HEAVY = ("matplotlib", "numpy", "PIL", "segno", "redis", "asyncpg")

async def main():
    with tempfile.TemporaryDirectory() as folder:
        async with running_bot(Path(folder)) as h:
            at_start = [name for name in HEAVY if name in sys.modules]
            h.fake.user(700, "Mia", "en")
            since = len(h.fake.sent)
            await h.fake.send_text(700, "/chart 90d", chat_id=MANAGER_CHAT_ID)
            reply = await h.fake.wait_for_message(MANAGER_CHAT_ID, since=since, timeout=60)
            after_chart = [name for name in HEAVY if name in sys.modules]
    print(json.dumps({
        "at_start": at_start,
        "after_chart": after_chart,
        "media": reply.media,
        "png": (reply.photo or b"")[:4].hex(),
    }))

asyncio.run(main())
"""


def _subprocess_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    """Only what the command needs: no setting of the developer's leaks in."""
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "TMPDIR") if key in os.environ}
    env.update(
        PYTHONPATH=str(ROOT),
        BOT_TOKEN=BOT_TOKEN,
        API_TOKEN=API_TOKEN,
        MANAGER_CHAT_ID=str(MANAGER_CHAT_ID),
        DATABASE_URL=f"sqlite:///{tmp_path / 'otklik.sqlite3'}",
        API_PORT="0",
        DIGEST_AT="",
        LOG_LEVEL="INFO",
    )
    env.update(settings)
    return env


async def test_the_bot_starts_without_loading_charts_qr_codes_or_unused_backends(
    tmp_path: Path,
) -> None:
    """matplotlib (with numpy and Pillow), segno, redis and asyncpg are loaded when a
    feature first needs them, not at start-up; /chart then loads matplotlib and works."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        LAZY_IMPORTS,
        cwd=tmp_path,
        env=_subprocess_env(tmp_path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, err.decode()
    result = json.loads(out.decode().strip().splitlines()[-1])
    assert result["at_start"] == []
    assert (result["media"], result["png"]) == ("photo", b"\x89PNG".hex())
    assert "matplotlib" in result["after_chart"]


def _startup_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "bot.telegram.startup"]


async def test_an_unreachable_bot_api_is_waited_out_while_visits_are_accepted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    port = free_port()  # nothing listens there until the third wait
    url = f"http://127.0.0.1:{port}"
    clock = FakeClock()
    fake = FakeTelegram(BOT_TOKEN)
    fake.group(MANAGER_CHAT_ID)
    fake.user(CUSTOMER, "Ann", "en")
    delays: list[float] = []
    visit: dict[str, object] = {}

    async def sleep(seconds: float) -> None:
        delays.append(seconds)
        if len(delays) == 1:
            # Telegram is still out of reach, but a till's visit is taken and stored.
            async with app.db.transaction() as conn:
                await customers.upsert_telegram(
                    conn, TelegramProfile(CUSTOMER, "Ann", None, "en"), to_ms(clock.now())
                )
            async with (
                aiohttp.ClientSession() as http,
                http.post(
                    f"http://127.0.0.1:{app.api_port}/api/v1/visits",
                    json={"visit_id": "pos-1", "customer": {"telegram_id": CUSTOMER}},
                    headers={"Authorization": f"Bearer {API_TOKEN}"},
                ) as response,
            ):
                visit.update(await response.json(), http_status=response.status)
        if len(delays) == 3:
            await fake.start(port=port)  # the network is back

    app = Otklik(
        make_settings(tmp_path, telegram_api_url=url),
        clock=clock,
        delivery_poll_seconds=0.05,
        sleep=sleep,
    )
    try:
        await app.start()
        assert app.bot_username == fake.bot_username
        # The visit taken during the outage is surveyed once Telegram answers.
        survey = await fake.wait_for_message(CUSTOMER, text_contains="recommend")
        assert survey.chat_id == CUSTOMER
    finally:
        await app.stop()
        await fake.close()
    assert (visit["http_status"], visit["status"]) == (201, "scheduled")
    # Exponential backoff with jitter: each delay between half its ceiling and all of it.
    assert len(delays) == 3
    for delay, ceiling in zip(delays, (1.0, 2.0, 4.0), strict=True):
        assert ceiling / 2 <= delay <= ceiling
    lines = _startup_lines(caplog)
    assert len(lines) == 3
    for number, record in enumerate(lines, start=1):
        message = record.getMessage()
        assert record.levelno == logging.WARNING and record.exc_info is None
        assert message.startswith(f"TELEGRAM_API_URL {url}: cannot reach the Bot API")
        assert f"attempt {number}: " in message and "Cannot connect to host" in message
        assert "\n" not in message and BOT_TOKEN not in message


async def test_server_errors_and_flood_control_at_start_up_are_waited_out(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    delays: list[float] = []

    async def sleep(seconds: float) -> None:
        delays.append(seconds)

    async with FakeTelegram(BOT_TOKEN) as fake:
        fake.fail_next("getMe", error_code=502, description="Bad Gateway")
        fake.fail_next("getMe", error_code=500, description="Internal Server Error")
        fake.fail_next("getMe", error_code=429, description="Too Many Requests", retry_after=7)
        app = Otklik(
            make_settings(tmp_path, telegram_api_url=fake.url),
            session=fake.make_bot().session,
            sleep=sleep,
        )
        try:
            await app.start()
            assert app.bot_username == fake.bot_username
        finally:
            await app.stop()
    assert 0.5 <= delays[0] <= 1.0 and 1.0 <= delays[1] <= 2.0
    assert delays[2] == 7.0  # what Telegram asked for, not the backoff
    causes = [record.getMessage() for record in _startup_lines(caplog)]
    assert len(causes) == 3
    assert "(attempt 1: server error: Bad Gateway)" in causes[0]
    assert "(attempt 2: server error: Internal Server Error)" in causes[1]
    assert "(attempt 3: 429 Too Many Requests: retry after 7 s)" in causes[2]


@pytest.mark.parametrize("refusal", [401, 404])
async def test_a_refused_token_stops_start_up_at_once_naming_bot_token(
    tmp_path: Path, refusal: int
) -> None:
    async def sleep(seconds: float) -> None:
        raise AssertionError("a refused token is not retried")

    async with FakeTelegram(BOT_TOKEN) as fake:
        token = "123456:WRONG-TOKEN" if refusal == 401 else BOT_TOKEN
        if refusal == 404:
            fake.fail_next("getMe", error_code=404, description="Not Found")
        app = Otklik(
            make_settings(tmp_path, telegram_api_url=fake.url, bot_token=token),
            session=fake.make_bot(token).session,
            sleep=sleep,
        )
        with pytest.raises(StartupError) as caught:
            await app.start()
        api_port = app.api_port
    reason = "401 Unauthorized" if refusal == 401 else "404 Not Found"
    assert str(caught.value) == (
        f"BOT_TOKEN was refused by the Bot API server at TELEGRAM_API_URL {fake.url} "
        f"({reason}): copy the token from @BotFather"
    )
    assert caught.value.exit_code == 2
    assert token not in str(caught.value)
    # Nothing is left listening: the API that had started is closed again.
    assert api_port is not None
    with pytest.raises(OSError):
        _, writer = await asyncio.open_connection("127.0.0.1", api_port)
        writer.close()


async def _otklik_run(tmp_path: Path, **settings: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=tmp_path,  # no developer's .env there
        env=_subprocess_env(tmp_path, **settings),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_otklik_run_with_a_refused_token_prints_one_line_and_exits_2(
    tmp_path: Path,
) -> None:
    wrong = "123456:WRONG-SECRET-TOKEN"
    async with FakeTelegram(BOT_TOKEN) as fake:
        process = await _otklik_run(tmp_path, TELEGRAM_API_URL=fake.url, BOT_TOKEN=wrong)
        _, err = await asyncio.wait_for(process.communicate(), 120)
    stderr = err.decode()
    assert process.returncode == 2, stderr
    assert "Traceback" not in stderr and wrong not in stderr
    assert stderr.splitlines()[-1] == (
        f"otklik: BOT_TOKEN was refused by the Bot API server at TELEGRAM_API_URL {fake.url} "
        "(401 Unauthorized): copy the token from @BotFather"
    )


async def test_otklik_run_waits_for_an_unreachable_bot_api_and_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    """The real command, real waits (1 s, then 2 s at most): one line per attempt, the
    HTTP API answers meanwhile, and SIGTERM during the wait is a clean stop."""
    url = f"http://127.0.0.1:{free_port()}"
    process = await _otklik_run(tmp_path, TELEGRAM_API_URL=url)
    assert process.stderr is not None
    lines: list[str] = []
    try:
        while sum("cannot reach the Bot API" in line for line in lines) < 2:
            raw = await asyncio.wait_for(process.stderr.readline(), 60)
            assert raw, "otklik run ended: " + "".join(lines)
            lines.append(raw.decode())
        api_port = next(
            int(line.split("HTTP API on 127.0.0.1:")[1].split(";")[0])
            for line in lines
            if "HTTP API on" in line
        )
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{api_port}/healthz") as response,
        ):
            health = await response.json()
        assert (response.status, health["ok"], health["bot"]) == (200, True, None)
        process.send_signal(signal.SIGTERM)
        _, rest = await asyncio.wait_for(process.communicate(), 60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    stderr = "".join(lines) + rest.decode()
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr and BOT_TOKEN not in stderr
    attempts = [line for line in stderr.splitlines() if "cannot reach the Bot API" in line]
    assert len(attempts) >= 2
    assert all(f"TELEGRAM_API_URL {url}: cannot reach the Bot API (attempt" in a for a in attempts)
