"""The dashboard's credentials: Telegram's initData checked as documented, sessions and
one-time links signed, expiring and bound to their purpose."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import pytest
from pydantic import ValidationError

from bot.dashboard.auth import (
    AuthError,
    AuthFailure,
    LoginLinks,
    Sessions,
    Viewer,
    verify_init_data,
)
from tests.support.dashboard import sign_init_data
from tests.support.settings import BOT_TOKEN, make_settings

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def _failure(raw: str, now: datetime = NOW) -> AuthFailure:
    with pytest.raises(AuthError) as caught:
        verify_init_data(raw, BOT_TOKEN, now, HOUR)
    return caught.value.failure


def test_signed_init_data_names_the_user_and_their_language() -> None:
    raw = sign_init_data(42, NOW - timedelta(minutes=59), first_name="Олена", language="uk-UA")
    assert verify_init_data(raw, BOT_TOKEN, NOW, HOUR) == Viewer(42, "Олена", "uk")
    german = sign_init_data(42, NOW, language="de")
    assert verify_init_data(german, BOT_TOKEN, NOW, HOUR, "ru").language == "ru"


def test_every_changed_field_breaks_the_signature() -> None:
    raw = sign_init_data(42, NOW)
    fields = dict(parse_qsl(raw))
    for name in ("user", "auth_date", "query_id"):
        changed = {**fields, name: fields[name] + "1"}
        assert _failure(urlencode(changed)) is AuthFailure.FORGED
    assert _failure(sign_init_data(42, NOW, token="654321:OTHER")) is AuthFailure.FORGED
    without_hash = {key: value for key, value in fields.items() if key != "hash"}
    assert _failure(urlencode(without_hash)) is AuthFailure.FORGED


def test_old_future_and_empty_init_data_are_refused() -> None:
    assert _failure(sign_init_data(42, NOW - HOUR - timedelta(seconds=1))) is AuthFailure.STALE
    assert _failure(sign_init_data(42, NOW + timedelta(minutes=5))) is AuthFailure.STALE
    assert _failure("") is AuthFailure.MISSING
    assert _failure("x" * 5000) is AuthFailure.MISSING


def test_sessions_expire_and_do_not_open_as_login_links() -> None:
    sessions, links = Sessions(BOT_TOKEN, HOUR), LoginLinks(BOT_TOKEN)
    viewer = Viewer(42, "Kate", "en")
    token = sessions.issue(viewer, NOW)
    assert sessions.open(token, NOW + HOUR - timedelta(seconds=1)) == viewer
    with pytest.raises(AuthError) as late:
        sessions.open(token, NOW + HOUR)
    assert late.value.failure is AuthFailure.EXPIRED
    for wrong in (links.open, Sessions("654321:OTHER", HOUR).open):
        with pytest.raises(AuthError) as caught:
            wrong(token, NOW)
        assert caught.value.failure is AuthFailure.FORGED
    payload, _, signature = token.partition(".")
    with pytest.raises(AuthError):
        sessions.open(payload[:-2] + "AA." + signature, NOW)


def test_login_links_last_five_minutes_and_carry_a_nonce() -> None:
    links = LoginLinks(BOT_TOKEN)
    viewer = Viewer(42, "Kate", "ru")
    first, second = links.issue(viewer, NOW), links.issue(viewer, NOW)
    ticket = links.open(first, NOW + timedelta(minutes=4))
    assert ticket.viewer == viewer and ticket.nonce != links.open(second, NOW).nonce
    with pytest.raises(AuthError) as caught:
        links.open(first, NOW + timedelta(minutes=5))
    assert caught.value.failure is AuthFailure.EXPIRED


def test_public_url_must_be_https_and_the_webhook_keeps_off_app(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, public_url=" https://bot.example.com/ ")
    assert settings.public_url == "https://bot.example.com"
    assert make_settings(tmp_path, public_url="").public_url is None
    for bad in ("http://bot.example.com", "bot.example.com", "https://bot.example.com/?x=1"):
        with pytest.raises(ValidationError, match="https base URL"):
            make_settings(tmp_path, public_url=bad)
    with pytest.raises(ValidationError, match="/app/"):
        make_settings(tmp_path, webhook_url="https://bot.example.com/app/hook")
