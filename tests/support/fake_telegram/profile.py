"""The bot's own profile: getMe, its commands per scope and language, its other
settings (descriptions, name, menu button), close and logOut."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.support.fake_telegram.models import ApiError, Handler, JSONDict, Upload
from tests.support.fake_telegram.state import FakeTelegramState

_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_CHAT_SCOPES = ("chat", "chat_administrators", "chat_member")


class ProfileMixin(FakeTelegramState):
    def commands(self, scope: JSONDict | None = None, language_code: str = "") -> list[JSONDict]:
        """Commands stored by setMyCommands for a scope (default scope when None)."""
        return list(self._commands.get(self._commands_key(scope, language_code), []))

    async def _get_me(self, params: JSONDict, files: dict[str, Upload]) -> Any:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    @staticmethod
    def _commands_key(scope: Any, language_code: Any) -> tuple[str, str]:
        if not isinstance(scope, dict) or not scope:
            scope = {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(language_code or "")

    async def _set_my_commands(self, params: JSONDict, files: dict[str, Upload]) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise ApiError(400, "Bad Request: can't parse commands JSON object")
        if len(commands) > 100:
            raise ApiError(400, "Bad Request: too many commands")
        for command in commands:
            if not isinstance(command, dict) or not _COMMAND_RE.match(str(command.get("command"))):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            description = command.get("description")
            if not isinstance(description, str) or not 1 <= len(description) <= 256:
                raise ApiError(400, "Bad Request: command description is invalid")
        scope = params.get("scope")
        # As Telegram: a chat the bot has never seen (a user who never opened it).
        chat_scope = isinstance(scope, dict) and scope.get("type") in _CHAT_SCOPES
        if chat_scope and isinstance(scope, dict) and scope.get("chat_id") not in self._chats:
            raise ApiError(400, "Bad Request: chat not found")
        key = self._commands_key(scope, params.get("language_code"))
        if commands:
            self._commands[key] = [
                {"command": c["command"], "description": c["description"]} for c in commands
            ]
        else:
            self._commands.pop(key, None)
        return True

    async def _delete_my_commands(self, params: JSONDict, files: dict[str, Upload]) -> Any:
        self._commands.pop(
            self._commands_key(params.get("scope"), params.get("language_code")), None
        )
        return True

    async def _get_my_commands(self, params: JSONDict, files: dict[str, Upload]) -> Any:
        return self.commands(params.get("scope"), str(params.get("language_code") or ""))

    async def _close_method(self, params: JSONDict, files: dict[str, Upload]) -> Any:
        return True

    def _make_setting_handler(self, name: str) -> Handler:
        async def handler(params: JSONDict, files: dict[str, Upload]) -> Any:
            self.settings[name] = params
            return True

        return handler
