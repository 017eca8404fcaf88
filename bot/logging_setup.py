"""Logging that never shows a secret, whatever a library puts into a message, as plain
text lines or (LOG_FORMAT=json) one JSON object a line."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import UTC, datetime

REDACTED = "[redacted]"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class SecretFilter(logging.Filter):
    """Replaces every configured secret in a record's final text: the message, the
    exception's traceback and the stack. The traceback is formatted here, once, and the
    record keeps only that text (`exc_info` is dropped), so no formatter after this
    filter can format it again from the exception itself, secrets and all."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = [secret for secret in secrets if secret]

    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info:
            if not record.exc_text:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = self._redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self._redact(record.stack_info)
        record.msg, record.args = self._redact(record.getMessage()), None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, and the
    exception's traceback as text when there is one (stdlib only: the record's own,
    already redacted, exc_text is what is written)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, str] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)


def make_handler(
    secrets: Iterable[str], log_format: str = "text", stream: object | None = None
) -> logging.Handler:
    """A stream handler (stderr by default) in `log_format` ("text" or "json") that
    redacts `secrets`."""
    handler = logging.StreamHandler(stream)  # type: ignore[arg-type]
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    handler.addFilter(SecretFilter(secrets))
    return handler


def setup_logging(level: str, secrets: Iterable[str], log_format: str = "text") -> None:
    root = logging.getLogger()
    root.handlers[:] = [make_handler(secrets, log_format)]
    root.setLevel(level.upper())
    # aiogram logs every handled update at INFO; that is noise for an operator.
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
