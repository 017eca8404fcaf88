"""Standard Webhooks signatures (https://www.standardwebhooks.com/): the headers
webhook-id, webhook-timestamp and webhook-signature, `v1,<base64 HMAC-SHA256 of
"id.timestamp.body">`, keyed by the base64-decoded part of a `whsec_<base64>` secret."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"
# The spec asks for keys of 24 to 64 bytes.
MIN_KEY_BYTES = 24
MAX_KEY_BYTES = 64


class BadSecret(ValueError):
    """A secret that is not whsec_ and 24-64 bytes of base64; never quotes it."""


def generate_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def secret_key(secret: str) -> bytes:
    """The HMAC key of a `whsec_<base64>` secret; BadSecret when it is malformed."""
    if not secret.startswith(SECRET_PREFIX):
        raise BadSecret(f"expected {SECRET_PREFIX} followed by base64")
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        raise BadSecret(f"expected {SECRET_PREFIX} followed by base64") from None
    if not MIN_KEY_BYTES <= len(key) <= MAX_KEY_BYTES:
        raise BadSecret(f"the key must be {MIN_KEY_BYTES} to {MAX_KEY_BYTES} bytes")
    return key


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The webhook-signature header's value."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The request's headers: the three of the spec, and the JSON content type."""
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, message_id, timestamp, body),
    }
