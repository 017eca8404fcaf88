"""Webhook signatures against an independent Standard Webhooks implementation (the
`standardwebhooks` package), and what an endpoint may be: every refusal names the field
and none quotes the secret."""

from __future__ import annotations

import base64
import os
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from standardwebhooks import Webhook, WebhookVerificationError

from bot.webhooks import signing
from bot.webhooks.endpoints import WebhookError, check_url, parse_endpoint
from bot.webhooks.events import EVENTS


@settings(max_examples=50, deadline=None)
@given(
    key=st.binary(min_size=24, max_size=64),
    message_id=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=40),
    timestamp=st.integers(min_value=0, max_value=4_000_000_000),
    body=st.text(max_size=300),
)
def test_the_signature_is_the_one_the_reference_computes(
    key: bytes, message_id: str, timestamp: int, body: str
) -> None:
    secret = "whsec_" + base64.b64encode(key).decode()
    ours = signing.signature(secret, message_id, timestamp, body.encode())
    reference = Webhook(secret).sign(message_id, datetime.fromtimestamp(timestamp, UTC), body)
    assert ours == reference


def test_a_signed_request_passes_the_reference_verifier_and_a_tampered_one_does_not() -> None:
    secret = signing.generate_secret()
    body = b'{"type":"case.opened","data":{"case":{"id":1}}}'
    headers = signing.headers(secret, "msg_1", int(time.time()), body)
    assert Webhook(secret).verify(body, headers)["type"] == "case.opened"
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace(b"1", b"2"), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(signing.generate_secret()).verify(body, headers)


def test_generated_secrets_are_whsec_and_32_random_bytes() -> None:
    first, second = signing.generate_secret(), signing.generate_secret()
    assert first != second and first.startswith("whsec_")
    assert len(signing.secret_key(first)) == 32


@pytest.mark.parametrize(
    "secret",
    [
        "A" * 40,
        "whsec_not base64!",
        "whsec_" + base64.b64encode(b"short").decode(),
        "whsec_" + base64.b64encode(os.urandom(65)).decode(),
    ],
)
def test_a_malformed_secret_is_refused_without_being_quoted(secret: str) -> None:
    with pytest.raises(signing.BadSecret) as error:
        signing.secret_key(secret)
    assert secret.removeprefix("whsec_") not in str(error.value)
    with pytest.raises(WebhookError) as refused:
        parse_endpoint({"url": "https://x.example/", "secret": secret}, allow_http=False)
    assert refused.value.field == "secret"
    assert secret.removeprefix("whsec_") not in str(refused.value)


@pytest.mark.parametrize(
    ("url", "allow_http", "ok"),
    [
        ("https://crm.example.com/hooks?token=1", False, True),
        ("http://127.0.0.1:8099/hooks", False, True),
        ("http://127.8.9.10/hooks", False, True),
        ("http://localhost/hooks", False, True),
        ("http://[::1]:9000/hooks", False, True),
        ("http://crm.example.com/hooks", False, False),
        ("http://10.0.0.5/hooks", False, False),
        ("http://crm.example.com/hooks", True, True),
        ("ftp://crm.example.com/hooks", True, False),
        ("https:///no-host", False, False),
        ("https://crm.example.com:99999/", False, False),
        ("https://crm.example.com/a b", False, False),
        ("crm.example.com/hooks", False, False),
    ],
)
def test_which_urls_an_endpoint_may_have(url: str, allow_http: bool, ok: bool) -> None:
    if ok:
        assert check_url(url, allow_http=allow_http) == url
    else:
        with pytest.raises(WebhookError) as error:
            check_url(url, allow_http=allow_http)
        assert error.value.field == "url"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "url"),
        ({"url": 7}, "url"),
        ({"url": "https://x.example/", "colour": "red"}, "colour"),
        ({"url": "https://x.example/", "events": []}, "events"),
        ({"url": "https://x.example/", "events": "case.opened"}, "events"),
        ({"url": "https://x.example/", "events": ["case.opened", "case.eaten"]}, "events.1"),
        ({"url": "https://x.example/", "events": ["case.opened", "case.opened"]}, "events.1"),
        ({"url": "https://x.example/", "secret": 12}, "secret"),
        ({"url": "http://crm.example/"}, "url"),
        (["https://x.example/"], "body"),
    ],
)
def test_a_bad_body_names_its_field(body: Any, field: str) -> None:
    with pytest.raises(WebhookError) as error:
        parse_endpoint(body, allow_http=False)
    assert error.value.field == field


def test_a_good_body() -> None:
    secret = signing.generate_secret()
    parsed = parse_endpoint(
        {"url": "https://x.example/", "secret": secret, "events": list(EVENTS[:2])},
        allow_http=False,
    )
    assert (parsed.url, parsed.secret, parsed.events) == ("https://x.example/", secret, EVENTS[:2])


def test_the_readme_verification_snippet_accepts_ours_and_refuses_a_tampered_body() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    found = re.search(r"```python\n(import base64.*?)```", readme, re.S)
    assert found is not None
    namespace: dict[str, Any] = {}
    exec(found.group(1), namespace)
    secret = signing.generate_secret()
    body = b'{"type":"customer.opted_out"}'
    headers = signing.headers(secret, "msg_1", int(time.time()), body)
    assert namespace["verify"](secret, headers, body) is True
    assert namespace["verify"](secret, headers, body + b" ") is False
    assert namespace["verify"](signing.generate_secret(), headers, body) is False
