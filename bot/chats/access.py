"""Who may do what: the admin gate and the managers' chat, each checked in one place."""

from __future__ import annotations

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import BaseFilter
from aiogram.types import CallbackQuery, Message, TelegramObject

from bot.chats.service import ChatDirectory
from bot.config import Settings

_MEMBER_STATUSES = ("creator", "administrator", "member", "restricted")


class IsAdmin(BaseFilter):
    """A private chat with one of ADMIN_IDS. Others get no sign the command exists:
    the update simply falls through to the next router."""

    async def __call__(self, event: TelegramObject, settings: Settings) -> bool:
        user = getattr(event, "from_user", None)
        if user is None or user.id not in settings.admin_ids:
            return False
        message = event.message if isinstance(event, CallbackQuery) else event
        return isinstance(message, Message) and message.chat.type == "private"


class IsManagerChat(BaseFilter):
    """A managers' chat: the head office (MANAGER_CHAT_ID), the escalation chat, or a
    branch's or region's chat from the catalogue, under the id it has now if Telegram
    moved it (bot/chats/service.py). What each may see is bot/locations/routing.py's."""

    async def __call__(self, event: TelegramObject, chats: ChatDirectory) -> bool:
        message = event.message if isinstance(event, CallbackQuery) else event
        if not isinstance(message, Message):
            return False
        return chats.is_team_chat(message.chat.id)


async def is_member(bot: Bot, settings: Settings, chat_id: int, user_id: int) -> bool:
    """A member of a managers' chat, or an admin: who may act there. Asked of Telegram at
    each press, so someone removed from the group loses access at once."""
    if user_id in settings.admin_ids:
        return True
    try:
        member = await bot.get_chat_member(chat_id, user_id)
    except TelegramBadRequest:
        return False
    return member.status in _MEMBER_STATUSES


async def is_manager(bot: Bot, settings: Settings, chats: ChatDirectory, user_id: int) -> bool:
    """A member of the head office's chat (MANAGER_CHAT_ID), or an admin."""
    return await is_member(bot, settings, chats.managers, user_id)
