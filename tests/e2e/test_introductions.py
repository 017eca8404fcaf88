"""How the bot introduces itself: the language a customer reads when Telegram's is
unknown or unsupported (DEFAULT_LANGUAGE), and the command menus per scope and language."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiogram import Router
from aiogram.filters import Command

from bot.telegram.menus import ADMIN_COMMANDS, CUSTOMER_COMMANDS, MANAGER_COMMANDS
from tests.support.harness import running_bot
from tests.support.settings import ADMIN_ID

GERTRUD = 601
OLENA = 602


async def test_an_unsupported_language_reads_the_default_language(tmp_path: Path) -> None:
    async with running_bot(tmp_path, default_language="uk") as h:
        await h.start_customer(GERTRUD, "Gertrud", "de")
        await h.post_visit(GERTRUD, "pos-de", location="Хрещатик")
        message = await h.survey_for(GERTRUD)
        assert "Наскільки ймовірно" in message.text


async def test_a_supported_language_wins_over_the_default(tmp_path: Path) -> None:
    async with running_bot(tmp_path, default_language="uk") as h:
        await h.start_customer(OLENA, "Olena", "en")
        await h.post_visit(OLENA, "pos-en", location="Main St")
        message = await h.survey_for(OLENA)
        assert "How likely" in message.text


def _names(commands: list[dict[str, Any]]) -> list[str]:
    return [c["command"] for c in commands]


async def test_menus_are_set_per_scope_and_language(tmp_path: Path) -> None:
    async with running_bot(tmp_path, users=(ADMIN_ID,), default_language="ru") as h:
        admin_scope = {"type": "chat", "chat_id": ADMIN_ID}
        # The last menu set is the admin's without a language: all are set by then.
        await h.fake.wait_for_call(
            "setMyCommands",
            lambda r: r.params.get("scope") == admin_scope and not r.params.get("language_code"),
        )
        customers = h.fake.commands(None, "uk")
        assert _names(customers) == ["start", "stop", "forget", "help"]
        assert customers[1]["description"] == "Не надсилати опитування"
        assert h.fake.commands(None, "en")[1]["description"] == "Stop the surveys"
        # Readers without a known language read DEFAULT_LANGUAGE (ru here).
        assert h.fake.commands(None)[1]["description"] == "Не присылать опросы"
        managers = h.fake.commands({"type": "all_group_chats"}, "en")
        assert _names(managers) == list(MANAGER_COMMANDS)
        assert "topics" in _names(managers)
        in_ukrainian = h.fake.commands({"type": "all_group_chats"}, "uk")
        topics = in_ukrainian[MANAGER_COMMANDS.index("topics")]
        assert topics["description"] == "Які теми забирають NPS: /topics 30d"
        assert "stop" not in _names(managers)
        admin = _names(h.fake.commands(admin_scope, "en"))
        assert {"admin", "locations", "anniversaries", "stats"} <= set(admin)
        # Customers never see the managers' or admins' commands.
        assert not {"stats", "admin", "cases"} & set(_names(customers))


async def test_a_refused_menu_does_not_stop_the_bot(tmp_path: Path) -> None:
    # Admin 424242 never opened the bot: Telegram refuses a menu for their chat.
    async with running_bot(tmp_path, users=(ADMIN_ID,), admin_ids=(424242, ADMIN_ID)) as h:
        refused = await h.fake.wait_for_call("setMyCommands", lambda r: r.ok is False)
        assert refused.params["scope"] == {"type": "chat", "chat_id": 424242}
        await h.fake.wait_for_call(
            "setMyCommands",
            lambda r: r.ok is True and r.params.get("scope", {}).get("chat_id") == ADMIN_ID,
        )
        await h.start_customer(GERTRUD, "Gertrud", "en")
        await h.post_visit(GERTRUD, "pos-menu")
        assert "How likely" in (await h.survey_for(GERTRUD)).text


def _registered_commands(dispatcher: Router) -> set[str]:
    found: set[str] = set()
    for router in dispatcher.chain_tail:
        for handler in router.message.handlers:
            for filter_ in handler.filters or ():
                if isinstance(filter_.callback, Command):
                    found.update(str(c) for c in filter_.callback.commands)
    return found


async def test_every_command_in_a_menu_has_a_handler(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        registered = _registered_commands(h.app.dispatcher) | {"start"}
        listed = set(CUSTOMER_COMMANDS) | set(MANAGER_COMMANDS) | set(ADMIN_COMMANDS)
        assert listed <= registered, listed - registered
