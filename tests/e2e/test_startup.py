"""Start-up as an operator meets it: what the bot loads."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from tests.support.settings import API_TOKEN, BOT_TOKEN, MANAGER_CHAT_ID

ROOT = Path(__file__).resolve().parents[2]

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
