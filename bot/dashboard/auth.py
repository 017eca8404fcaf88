"""Who is looking at the dashboard: Telegram's initData checked as Telegram documents it,
the short session it is exchanged for, and the one-time login links for a browser.

Rules only (no aiohttp, no aiogram handlers): the HMAC check is aiogram's
`check_webapp_signature` (secret = HMAC-SHA256(key="WebAppData", msg=bot token), a
constant-time compare); what aiogram does not check, the age of `auth_date`, is here.

Sessions and login links are stateless, signed tokens (HMAC keyed from BOT_TOKEN, a key
per purpose), so every instance behind a proxy accepts them; a login link is single
use through `storage.dashboard.use_login`, which records its nonce.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qsl

from aiogram.utils.web_app import check_webapp_signature

from bot.i18n import normalize_language

LOGIN_LINK_TTL = timedelta(minutes=5)
# initData longer than this is not Telegram's (it is a few hundred bytes).
MAX_INIT_DATA = 4096


class AuthFailure(StrEnum):
    """Why a request gets 401; the value is what the JSON answer says."""

    MISSING = "missing"
    FORGED = "forged"
    STALE = "stale"
    EXPIRED = "expired"
    USED = "used"


class AuthError(Exception):
    def __init__(self, failure: AuthFailure) -> None:
        super().__init__(failure.value)
        self.failure = failure


@dataclass(frozen=True, slots=True)
class Viewer:
    """A person using the dashboard: their Telegram id, name and language (ru/uk/en)."""

    user_id: int
    name: str
    language: str


def verify_init_data(
    raw: str, bot_token: str, now: datetime, max_age: timedelta, default_language: str = "en"
) -> Viewer:
    """The Telegram user of a Mini App's raw initData, or AuthError: MISSING (empty,
    no user), FORGED (bad hash), STALE (auth_date older than `max_age`, or from the
    future beyond a minute of clock skew)."""
    if not raw or len(raw) > MAX_INIT_DATA:
        raise AuthError(AuthFailure.MISSING)
    if not check_webapp_signature(bot_token, raw):
        raise AuthError(AuthFailure.FORGED)
    fields = dict(parse_qsl(raw))
    try:
        auth_date = int(fields["auth_date"])
        user = json.loads(fields["user"])
        user_id = int(user["id"])
    except (KeyError, ValueError, TypeError):
        raise AuthError(AuthFailure.MISSING) from None
    age = now.timestamp() - auth_date
    if age > max_age.total_seconds() or age < -60:
        raise AuthError(AuthFailure.STALE)
    name = " ".join(str(user.get(part) or "") for part in ("first_name", "last_name")).strip()
    return Viewer(
        user_id,
        name or str(user_id),
        normalize_language(user.get("language_code"), default_language),
    )


def _key(bot_token: str, purpose: str) -> bytes:
    return hmac.new(bot_token.encode(), f"otklik dashboard {purpose}".encode(), "sha256").digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenSigner:
    """Signed, expiring tokens `<payload>.<signature>` for one purpose."""

    def __init__(self, bot_token: str, purpose: str) -> None:
        self._key = _key(bot_token, purpose)

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest())

    def issue(self, data: dict[str, Any], expires: datetime) -> str:
        payload = _b64(json.dumps({**data, "e": int(expires.timestamp())}).encode())
        return f"{payload}.{self._sign(payload)}"

    def open(self, token: str, now: datetime) -> dict[str, Any]:
        """The data of a token signed here, or AuthError (FORGED, EXPIRED)."""
        payload, _, signature = token.strip().partition(".")
        if not payload or not hmac.compare_digest(
            signature.encode(), self._sign(payload).encode()
        ):
            raise AuthError(AuthFailure.FORGED)
        try:
            data = json.loads(_unb64(payload))
            expires = int(data["e"])
        except (binascii.Error, ValueError, KeyError, TypeError):
            raise AuthError(AuthFailure.FORGED) from None
        if now.timestamp() >= expires:
            raise AuthError(AuthFailure.EXPIRED)
        return dict(data)


def _viewer_data(viewer: Viewer) -> dict[str, Any]:
    return {"u": viewer.user_id, "n": viewer.name, "l": viewer.language}


def _viewer(data: dict[str, Any]) -> Viewer:
    try:
        return Viewer(int(data["u"]), str(data["n"]), normalize_language(str(data["l"])))
    except (KeyError, ValueError, TypeError):
        raise AuthError(AuthFailure.FORGED) from None


class Sessions:
    """The short session a checked initData (or a login link) is exchanged for: a bearer
    token the page keeps in memory."""

    def __init__(self, bot_token: str, ttl: timedelta) -> None:
        self._signer = TokenSigner(bot_token, "session")
        self.ttl = ttl

    def issue(self, viewer: Viewer, now: datetime) -> str:
        return self._signer.issue(_viewer_data(viewer), now + self.ttl)

    def open(self, token: str, now: datetime) -> Viewer:
        return _viewer(self._signer.open(token, now))


@dataclass(frozen=True, slots=True)
class LoginTicket:
    """An opened login link: who it is for, and the nonce that makes it single use."""

    viewer: Viewer
    nonce: str
    expires: datetime


class LoginLinks:
    """One-time links for a desktop browser: signed, valid LOGIN_LINK_TTL."""

    def __init__(self, bot_token: str, ttl: timedelta = LOGIN_LINK_TTL) -> None:
        self._signer = TokenSigner(bot_token, "login")
        self.ttl = ttl

    def issue(self, viewer: Viewer, now: datetime) -> str:
        data = {**_viewer_data(viewer), "r": secrets.token_urlsafe(12)}
        return self._signer.issue(data, now + self.ttl)

    def open(self, token: str, now: datetime) -> LoginTicket:
        data = self._signer.open(token, now)
        nonce = data.get("r")
        if not isinstance(nonce, str) or not nonce:
            raise AuthError(AuthFailure.FORGED)
        return LoginTicket(
            _viewer(data), nonce, datetime.fromtimestamp(int(data["e"]), now.tzinfo)
        )
