"""A fake Telegram Bot API server for tests and benchmarks.

It listens on 127.0.0.1 and answers `{base}/bot{token}/{method}` the way
https://core.telegram.org/bots/api documents it, so the real aiogram client,
polling and webhook code run against it unchanged. Tests play the users
(`send_text`, `press`, ...) and assert on what the bot did (`sent`, `requests`).

It deliberately reproduces the Telegram behaviours a bot has to cope with:
real error texts and HTTP codes, "message is not modified", entity parsing
errors for HTML/MarkdownV2, blocked users, flood control (429 + retry_after)
and webhook retries. Everything is in memory and indexed, because benchmarks
push about a thousand sendMessage calls per second through it.

Standalone: `python -m tests.support.fake_telegram --port 8081 --token 123:ABC`.

The server is one class, FakeTelegram (server.py), assembled from a mixin per
concern on a shared state (state.py):

- models.py: the records (users, chats, sent messages, requests) and ApiError
- params.py: form and JSON parameters coerced to the types Telegram reads
- entities.py: HTML, MarkdownV2 and Markdown parsing into text and entities
- files.py: uploads, file ids and getFile
- flood.py: injected failures and flood control (429 with retry_after)
- inspection.py: what the bot sent and called, and waiting for it
- dispatch.py: the HTTP layer: requests to method handlers, error envelopes
- messages.py: sending, copying, forwarding, editing and deleting messages
- updates.py: queued updates, getUpdates long polling and the webhook pusher
- users.py: private chats, and users writing, sharing, pressing buttons
- chats.py: groups, their upgrade to supergroups, members, chat actions
- profile.py: getMe, the bot's commands and other settings
- server.py: FakeTelegram itself: its method table, start and close
- __main__.py: the standalone server
"""

from tests.support.fake_telegram.models import (
    FakeChat,
    FakeUser,
    RecordedRequest,
    SentMessage,
    WebhookDelivery,
)
from tests.support.fake_telegram.server import FakeTelegram

__all__ = [
    "FakeChat",
    "FakeTelegram",
    "FakeUser",
    "RecordedRequest",
    "SentMessage",
    "WebhookDelivery",
]
