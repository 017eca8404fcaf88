"""The managers' group becoming a supergroup: Telegram's two service messages."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import Message

from bot.chats.service import ChatDirectory


def get_router() -> Router:
    router = Router(name="chat-moves")
    router.message.register(group_moved_away, F.migrate_to_chat_id)
    router.message.register(group_moved_here, F.migrate_from_chat_id)
    return router


async def group_moved_away(message: Message, chats: ChatDirectory) -> None:
    """Sent in the old group: follow a team chat to its new id."""
    assert message.migrate_to_chat_id is not None
    if chats.is_team_chat(message.chat.id):
        await chats.record(message.chat.id, message.migrate_to_chat_id)


async def group_moved_here(message: Message, chats: ChatDirectory) -> None:
    """Sent in the new supergroup: the same move, seen from its end."""
    assert message.migrate_from_chat_id is not None
    if chats.is_team_chat(message.migrate_from_chat_id):
        await chats.record(message.migrate_from_chat_id, message.chat.id)
