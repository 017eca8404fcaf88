"""A counter's QR code: a deep link that names a catalogued location and is signed, so a
hand-made or altered link registers no visit and adds no location.

The /start parameter is `q_<location id in base 36>_<signature>`: Telegram allows 64
characters of A-Z a-z 0-9 _ -, and this takes at most about 30. The signature is the
first 16 characters (96 bits) of the base64url HMAC-SHA256 of the id, keyed by a key
derived from BOT_TOKEN, so every instance agrees without configuration; a new bot
token makes new links (reprint the codes with /qr)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

QR_LINK_PREFIX = "q_"
_SIGNATURE_CHARS = 16
_PAYLOAD = re.compile(r"^q_([0-9a-z]{1,12})_([A-Za-z0-9_-]{16})$")


def qr_key(bot_token: str) -> bytes:
    """The signing key of QR links: derived from the token, never the token itself."""
    return hmac.new(bot_token.encode(), b"otklik qr links", hashlib.sha256).digest()


def _signature(key: bytes, location_id: int) -> str:
    digest = hmac.new(key, f"location:{location_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:_SIGNATURE_CHARS]


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, rest = divmod(number, 36)
        text = digits[rest] + text
        if number == 0:
            return text


def qr_payload(key: bytes, location_id: int) -> str:
    """The /start parameter of a location's QR code."""
    return f"{QR_LINK_PREFIX}{_base36(location_id)}_{_signature(key, location_id)}"


def verify_qr_payload(key: bytes, payload: str) -> int | None:
    """The location id a genuine QR link names; None for anything forged or altered."""
    match = _PAYLOAD.match(payload)
    if match is None:
        return None
    location_id = int(match.group(1), 36)
    if not hmac.compare_digest(match.group(2), _signature(key, location_id)):
        return None
    return location_id
