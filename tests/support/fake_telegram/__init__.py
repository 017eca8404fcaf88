"""The fake Telegram Bot API server (see entities.py's docstring until the split)."""

from tests.support.fake_telegram.entities import (
    FakeChat,
    FakeTelegram,
    FakeUser,
    RecordedRequest,
    SentMessage,
    WebhookDelivery,
)

__all__ = [
    "FakeChat",
    "FakeTelegram",
    "FakeUser",
    "RecordedRequest",
    "SentMessage",
    "WebhookDelivery",
]
