"""/dashboard in a private chat: for an admin or a member of a managers' chat, a button
opening the Mini App, a one-time link for a browser, and the chat's menu button set to
the Mini App. Anyone else gets no sign the command exists."""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import BaseFilter, Command
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MenuButtonWebApp,
    Message,
    WebAppInfo,
)

from bot.chats.access import is_member
from bot.config import Settings
from bot.dashboard.access import Membership
from bot.dashboard.auth import Viewer
from bot.dashboard.facade import PREFIX, Dashboard
from bot.i18n import Texts

logger = logging.getLogger(__name__)


def get_router() -> Router:
    router = Router(name="dashboard")
    router.message.register(
        dashboard_command, Command("dashboard"), F.chat.type == "private", MayOpenDashboard()
    )
    return router


class MayOpenDashboard(BaseFilter):
    """An admin or a member of a managers' chat (their scope is not empty). Anyone else
    falls through to the next router, as if there were no such command."""

    async def __call__(self, message: Message, dashboard: Dashboard) -> bool:
        user = message.from_user
        return user is not None and not (await dashboard.access.scope_for(user.id)).empty


def telegram_membership(bot: Bot, settings: Settings) -> Membership:
    """getChatMember as the dashboard asks it: a chat Telegram will not answer about (the
    bot left it, a network error) counts as not a member rather than failing the page."""

    async def member(chat_id: int, user_id: int) -> bool:
        try:
            return await is_member(bot, settings, chat_id, user_id)
        except TelegramAPIError as error:
            logger.warning("dashboard: getChatMember in %d failed: %s", chat_id, error.message)
            return False

    return member


async def dashboard_command(
    message: Message, bot: Bot, settings: Settings, dashboard: Dashboard, texts: Texts
) -> None:
    """The Mini App's button and a browser's one-time link, for those who may see it."""
    user = message.from_user
    assert user is not None  # MayOpenDashboard let only people through
    if settings.public_url is None:
        await message.answer(texts("dashboard-command-no-url"))
        return
    app_url = f"{settings.public_url}{PREFIX}"
    viewer = Viewer(user.id, user.full_name, texts.language)
    link = settings.public_url + dashboard.login_link(viewer)
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=texts("dashboard-command-open"), web_app=WebAppInfo(url=app_url)
                )
            ],
            [InlineKeyboardButton(text=texts("dashboard-command-browser"), url=link)],
        ]
    )
    await message.answer(texts("dashboard-command-text"), reply_markup=keyboard)
    try:
        await bot.set_chat_menu_button(
            chat_id=message.chat.id,
            menu_button=MenuButtonWebApp(
                text=texts("dashboard-menu-button"), web_app=WebAppInfo(url=app_url)
            ),
        )
    except TelegramAPIError as error:
        logger.warning("dashboard: setChatMenuButton failed: %s", error.message)
