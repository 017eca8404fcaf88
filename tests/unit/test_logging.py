"""Logs never show a secret, as text or as JSON (LOG_FORMAT=json): not in a message,
its arguments, an exception's text or a traceback; and JSON logs are one object a line."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.logging_setup import REDACTED, make_handler, setup_logging
from tests.support.settings import API_TOKEN, BOT_TOKEN, make_settings

METRICS_TOKEN = "metrics-token-0123456789"
WEBHOOK_SECRET = "telegram-webhook-secret-42"
SEED_SECRET = "whsec_c2VlZGVkLXNlY3JldC1vZi10aGUtY3Jt"
SECRETS = (BOT_TOKEN, API_TOKEN, METRICS_TOKEN, WEBHOOK_SECRET, SEED_SECRET)


def _leak(logger: logging.Logger) -> None:
    """Every way a secret gets into a record: the message, its arguments, an exception's
    text (in the traceback and its chained cause), a stack."""
    logger.info("calling https://api.telegram.org/bot%s/getMe", BOT_TOKEN)
    logger.warning("Authorization: Bearer " + API_TOKEN)
    logger.info("scraped with %s", METRICS_TOKEN, stack_info=True)
    try:
        try:
            raise ValueError(f"bad secret {SEED_SECRET}")
        except ValueError as cause:
            raise RuntimeError(f"setWebhook(secret_token={WEBHOOK_SECRET!r}) failed") from cause
    except RuntimeError:
        logger.exception("delivery failed for %s", BOT_TOKEN)


@pytest.fixture
def captured() -> Iterator[tuple[io.StringIO, logging.Logger]]:
    stream = io.StringIO()
    logger = logging.getLogger("otklik.test.secrets")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    yield stream, logger
    logger.handlers.clear()
    logger.propagate = True


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_no_secret_reaches_the_log_in_either_format(
    captured: tuple[io.StringIO, logging.Logger], log_format: str
) -> None:
    stream, logger = captured
    logger.addHandler(make_handler(SECRETS, log_format, stream))
    _leak(logger)
    output = stream.getvalue()
    for secret in SECRETS:
        assert secret not in output
    # What was logged is all there, the secrets redacted: the traceback and its cause.
    assert output.count(REDACTED) >= 6
    assert "Traceback" in output and "ValueError: bad secret" in output
    assert "RuntimeError: setWebhook" in output


def test_json_logs_are_one_object_a_line(captured: tuple[io.StringIO, logging.Logger]) -> None:
    stream, logger = captured
    logger.addHandler(make_handler(SECRETS, "json", stream))
    _leak(logger)
    logger.error("a line\nthat breaks, and ünïcode")
    lines = stream.getvalue().splitlines()
    entries = [json.loads(line) for line in lines]
    assert len(entries) == 5
    assert [entry["level"] for entry in entries] == ["INFO", "WARNING", "INFO", "ERROR", "ERROR"]
    assert {entry["logger"] for entry in entries} == {"otklik.test.secrets"}
    assert entries[0]["message"] == f"calling https://api.telegram.org/bot{REDACTED}/getMe"
    assert entries[0]["time"].endswith("+00:00") and "T" in entries[0]["time"]
    assert "exception" not in entries[0]
    assert "stack" in entries[2]
    failure = entries[3]
    assert failure["message"] == f"delivery failed for {REDACTED}"
    assert failure["exception"].startswith("Traceback")
    assert f"secret_token='{REDACTED}'" in failure["exception"]
    assert entries[4]["message"] == "a line\nthat breaks, and ünïcode"


def test_the_settings_name_every_secret_and_the_format(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path,
        metrics_token=METRICS_TOKEN,
        webhook_secret=WEBHOOK_SECRET,
        webhooks={"crm": {"url": "https://crm.example.com/hook", "secret": SEED_SECRET}},
        log_format="JSON",
    )
    assert set(SECRETS) <= set(settings.log_secrets)
    assert settings.log_format == "json"
    assert make_settings(tmp_path).log_format == "text"


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_setup_logging_redacts_on_the_root_logger(
    log_format: str, capsys: pytest.CaptureFixture[str]
) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        setup_logging("INFO", SECRETS, log_format)
        logging.getLogger("bot.somewhere").warning("token %s", BOT_TOKEN)
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    err = capsys.readouterr().err
    assert BOT_TOKEN not in err and REDACTED in err
    if log_format == "json":
        assert json.loads(err.strip().splitlines()[-1])["message"] == f"token {REDACTED}"
    else:
        assert err.strip().endswith(f"WARNING bot.somewhere: token {REDACTED}")


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_the_command_line_logs_in_log_format_without_secrets(
    log_format: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`otklik ...` reads LOG_FORMAT and every secret from the environment; what a
    command then logs (here a failure with a traceback) is redacted in that format."""
    import bot.cli

    monkeypatch.chdir(tmp_path)  # no developer's .env
    for name, value in {
        "BOT_TOKEN": BOT_TOKEN,
        "API_TOKEN": API_TOKEN,
        "METRICS_TOKEN": METRICS_TOKEN,
        "WEBHOOK_SECRET": WEBHOOK_SECRET,
        "WEBHOOKS": json.dumps({"crm": {"url": "https://crm.example/h", "secret": SEED_SECRET}}),
        "MANAGER_CHAT_ID": "-1001",
        "LOG_FORMAT": log_format,
    }.items():
        monkeypatch.setenv(name, value)

    async def command(args: object, settings: object) -> int:
        _leak(logging.getLogger("bot.command"))
        return 0

    monkeypatch.setattr(bot.cli, "_dispatch", command)
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        assert bot.cli.main(["run"]) == 0
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    err = capsys.readouterr().err
    for secret in SECRETS:
        assert secret not in err
    assert "RuntimeError: setWebhook" in err
    if log_format == "json":
        entries = [json.loads(line) for line in err.splitlines()]
        assert [entry["logger"] for entry in entries] == ["bot.command"] * 4
        assert "ValueError: bad secret" in entries[3]["exception"]
    else:
        assert err.startswith("20") and " INFO bot.command: calling " in err
