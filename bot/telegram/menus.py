"""The command menus Telegram shows beside the message box: one per scope (customers'
private chats, the managers' group chats, each admin's private chat) and per language.

Telegram picks the most specific scope for a chat and the entry matching the reader's
language_code, else the one set without a language: that one is DEFAULT_LANGUAGE's.
Set at every start (every instance alike, so the last to start changes nothing). A
refusal (an admin who never opened the bot: "chat not found") is logged and skipped:
a menu is a convenience, never a reason not to run."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeChat,
    BotCommandScopeDefault,
)

from bot.i18n import Translator

logger = logging.getLogger(__name__)

Scope = BotCommandScopeDefault | BotCommandScopeAllGroupChats | BotCommandScopeChat
Menu = tuple[Scope, str | None, list[BotCommand]]

# In the order Telegram lists them. A command's description is `menu-<command>`.
CUSTOMER_COMMANDS = ("start", "stop", "forget", "help")
# The bot sits only in managers' chats (customers talk to it privately), so every
# group chat gets the managers' menu.
MANAGER_COMMANDS = ("stats", "chart", "topics", "cases", "case", "export")
ADMIN_COMMANDS = (
    "admin",
    "dashboard",
    "stats",
    "chart",
    "topics",
    "export",
    "locations",
    "anniversaries",
    "customer",
    "forget",
    "qr",
    "broadcast_test",
    "help",
)


def menu(translator: Translator, language: str, commands: Sequence[str]) -> list[BotCommand]:
    """The commands with their descriptions in `language`."""
    return [
        BotCommand(command=name, description=translator.get(language, f"menu-{name}"))
        for name in commands
    ]


def menus(translator: Translator, admin_ids: Iterable[int]) -> list[Menu]:
    """(scope, language_code or None for everyone else, commands) for every menu."""
    scoped: list[tuple[Scope, Sequence[str]]] = [
        (BotCommandScopeDefault(), CUSTOMER_COMMANDS),
        (BotCommandScopeAllGroupChats(), MANAGER_COMMANDS),
        *((BotCommandScopeChat(chat_id=admin), ADMIN_COMMANDS) for admin in sorted(admin_ids)),
    ]
    found: list[Menu] = []
    for scope, commands in scoped:
        for language in translator.languages:
            found.append((scope, language, menu(translator, language, commands)))
        found.append((scope, None, menu(translator, translator.fallback, commands)))
    return found


async def set_command_menus(bot: Bot, translator: Translator, admin_ids: Iterable[int]) -> int:
    """Set every menu; returns how many scopes Telegram refused (each logged once and
    skipped with its other languages; none fatal)."""
    refused: set[str] = set()
    for scope, language, commands in menus(translator, admin_ids):
        name = scope.model_dump_json(exclude_none=True)
        if name in refused:
            continue
        try:
            await bot.set_my_commands(commands, scope=scope, language_code=language)
        except TelegramAPIError as error:
            refused.add(name)
            logger.warning("setMyCommands for the scope %s was refused: %s", name, error.message)
    return len(refused)
