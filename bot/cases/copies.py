"""A customer's media (a voice message, a photo...) copied into a case's thread in the
managers' chat: one outbox row per customer message (`case_copy`), sent with
copyMessage, which unlike forwarding shows no link to the customer's account."""

from __future__ import annotations

import json

from aiogram.types import ReplyParameters

from bot.outbox.contracts import Outgoing, Priority, SendError, SendResult
from bot.survey.outbox import RenderContext
from storage import cases as case_repo
from storage import outbox
from storage.db import Connection
from storage.models import OutboxItem

COPY_KIND = "case_copy"


class CopyRenderer:
    """A customer's media (a voice message, a photo...) copied into the case thread of
    the managers' chat with copyMessage, which, unlike forwarding, shows no link to the
    customer's account; a reply to the case's card when the card is in that chat.
    Payload: from_chat_id and message_id (the customer's private chat and message)."""

    def __init__(self, ctx: RenderContext) -> None:
        self._ctx = ctx

    async def render(self, item: OutboxItem) -> Outgoing | None:
        loaded = json.loads(item.payload or "{}")
        data = loaded if isinstance(loaded, dict) else {}
        from_chat_id, message_id = data.get("from_chat_id"), data.get("message_id")
        if not isinstance(from_chat_id, int) or not isinstance(message_id, int):
            return None
        message = Outgoing(
            chat_id=item.chat_id, copy_from_chat_id=from_chat_id, copy_message_id=message_id
        )
        async with self._ctx.db.read() as conn:
            case = await case_repo.get(conn, item.ref_id or 0)
        if case is not None and case.alert_message_id and case.alert_chat_id == item.chat_id:
            message.extra["reply_parameters"] = ReplyParameters(
                message_id=case.alert_message_id, allow_sending_without_reply=True
            )
        return message

    async def on_sent(self, conn: Connection, item: OutboxItem, result: SendResult) -> None:
        """The case holds the media's label already."""

    async def on_failed(self, conn: Connection, item: OutboxItem, error: SendError) -> None:
        """Recorded on the outbox row (the customer may have deleted the message); the
        label stays in the case and on the card."""


async def enqueue_copy(
    conn: Connection, chat_id: int, case_id: int, from_chat_id: int, message_id: int, now: int
) -> None:
    """Copy the customer's message `message_id` (in their chat `from_chat_id`) into the
    case thread of `chat_id`; once per message, however often this is asked."""
    await outbox.enqueue(
        conn,
        kind=COPY_KIND,
        chat_id=chat_id,
        priority=Priority.CASE,
        due_at=now,
        now=now,
        ref_id=case_id,
        payload={"from_chat_id": from_chat_id, "message_id": message_id},
        dedupe_key=f"{COPY_KIND}:{from_chat_id}:{message_id}",
    )
