"""Contracts of the one outbound path, free of aiogram.

A feature enqueues an outbox row (storage.outbox.enqueue) inside its own
transaction. When the row is due, the delivery worker asks the renderer
registered for its kind to build an `Outgoing`, sends it through a `Sender`
within the rate limits, and reports the outcome back to the same renderer.

A renderer may also offer `render_many(items) -> list[Outgoing | None]` and
`on_sent_many(conn, [(item, result), ...])`: the worker then hands it a whole window
of rows (a broadcast's hundreds per second) at once, so it can read what they need in
one query and count them once. Both must mean exactly what the one-row methods mean.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Protocol

from storage.db import Connection
from storage.models import OutboxItem


class Priority(IntEnum):
    """Lower goes first when the queue is long."""

    ALERT = 0
    CASE = 1
    SURVEY = 2
    REMINDER = 3
    BULK = 4


@dataclass(slots=True)
class Outgoing:
    """One Bot API call: a new message, or an edit of an earlier one."""

    chat_id: int
    text: str = ""
    # An aiogram InlineKeyboardMarkup, opaque here; None removes the keyboard on edits.
    keyboard: Any = None
    photo: bytes | None = None
    document: bytes | None = None
    filename: str | None = None
    edit_message_id: int | None = None
    edit_keyboard_only: bool = False
    # copyMessage of (copy_from_chat_id, copy_message_id): the content without a link
    # to its sender (unlike forwardMessage); `text`, when set, replaces a caption.
    copy_from_chat_id: int | None = None
    copy_message_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True, frozen=True)
class SendResult:
    message_id: int | None


class SendError(Exception):
    """A failed send, classified so the worker knows what to do next."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RetryAfter(SendError):
    def __init__(self, reason: str, retry_after: float) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class Transient(SendError):
    """5xx or a network error: retry with backoff."""


class Unreachable(SendError):
    """403 blocked / deactivated, or 400 chat not found: never retry this chat."""


class Rejected(SendError):
    """Any other 4xx: retrying the same request cannot help."""


class ChatMoved(SendError):
    """400 with migrate_to_chat_id: the group became a supergroup under a new id. A new
    message can go there; an edit cannot, its message stayed behind in the old chat."""

    def __init__(self, reason: str, new_chat_id: int) -> None:
        super().__init__(reason)
        self.new_chat_id = new_chat_id


class Sender(Protocol):
    async def send(self, message: Outgoing) -> SendResult: ...


class Renderer(Protocol):
    """What a kind of outbox row knows: how to look, and what success or failure means."""

    async def render(self, item: OutboxItem) -> Outgoing | None:
        """The message to send now, or None when it is no longer wanted (row expires)."""

    async def on_sent(self, conn: Connection, item: OutboxItem, result: SendResult) -> None:
        """Record success, inside the transaction that marks the row sent."""

    async def on_failed(self, conn: Connection, item: OutboxItem, error: SendError) -> None:
        """Record a final failure (after retries), inside the same transaction."""
