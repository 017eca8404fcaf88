"""Opening the dashboard as Telegram does: initData signed with the test's bot token,
exchanged for a session, and the screens fetched with it."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from tests.support.harness import BotHarness
from tests.support.settings import BOT_TOKEN


def sign_init_data(
    user_id: int,
    auth_date: datetime,
    *,
    first_name: str = "Kate",
    language: str = "en",
    token: str = BOT_TOKEN,
) -> str:
    """Raw initData as Telegram builds it: the fields, and their HMAC-SHA256 under the
    secret HMAC-SHA256(key="WebAppData", msg=bot token)."""
    fields = {
        "query_id": "AAH-test",
        "user": json.dumps(
            {"id": user_id, "first_name": first_name, "language_code": language},
            separators=(",", ":"),
        ),
        "auth_date": str(int(auth_date.timestamp())),
    }
    check = "\n".join(f"{key}={value}" for key, value in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode(fields)


def mini_app_url(base: str, init_data: str) -> str:
    """The address Telegram opens a Mini App at."""
    return (
        f"{base}/app/#tgWebAppData={quote(init_data, safe='')}"
        "&tgWebAppVersion=8.0&tgWebAppPlatform=web"
    )


async def exchange(h: BotHarness, init_data: str) -> tuple[int, dict[str, Any]]:
    async with h.http.post(h.api_url + "/app/auth", json={"init_data": init_data}) as response:
        return response.status, await response.json()


async def session_for(h: BotHarness, user_id: int, **fields: Any) -> str:
    status, body = await exchange(h, sign_init_data(user_id, h.clock.now(), **fields))
    assert status == 200, body
    return str(body["token"])


async def view(
    h: BotHarness, token: str | None, path: str, *, form: dict[str, str] | None = None
) -> tuple[int, str]:
    """GET (or, with `form`, POST) a screen under /app/view/."""
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    url = f"{h.api_url}/app/view/{path}"
    method = "POST" if form is not None else "GET"
    async with h.http.request(method, url, headers=headers, data=form) as response:
        return response.status, await response.text()
