"""FakeTelegram: the mixins of every concern in one server, its table of Bot API
methods, starting and closing it, and a control API for manual runs."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

from tests.support.fake_telegram.chats import ChatsMixin
from tests.support.fake_telegram.files import _DOCUMENT_LIMIT
from tests.support.fake_telegram.models import Handler, JSONDict
from tests.support.fake_telegram.profile import ProfileMixin
from tests.support.fake_telegram.users import UsersMixin

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.client.telegram import TelegramAPIServer


class FakeTelegram(UsersMixin, ChatsMixin, ProfileMixin):
    """An in-memory Telegram Bot API server on 127.0.0.1 (see the package docstring)."""

    def _handlers(self) -> list[tuple[str, Handler]]:
        handlers: list[tuple[str, Handler]] = [
            ("getMe", self._get_me),
            ("getUpdates", self._get_updates),
            ("setWebhook", self._set_webhook),
            ("deleteWebhook", self._delete_webhook),
            ("getWebhookInfo", self._get_webhook_info),
            ("sendMessage", self._send_message),
            ("sendPhoto", self._send_photo),
            ("sendDocument", self._send_document),
            ("copyMessage", self._copy_message),
            ("forwardMessage", self._forward_message),
            ("editMessageText", self._edit_message_text),
            ("editMessageReplyMarkup", self._edit_message_reply_markup),
            ("editMessageCaption", self._edit_message_caption),
            ("deleteMessage", self._delete_message),
            ("answerCallbackQuery", self._answer_callback_query),
            ("setMyCommands", self._set_my_commands),
            ("deleteMyCommands", self._delete_my_commands),
            ("getMyCommands", self._get_my_commands),
            ("getChat", self._get_chat),
            ("getChatMember", self._get_chat_member),
            ("sendChatAction", self._send_chat_action),
            ("getFile", self._get_file),
            ("close", self._close_method),
            ("logOut", self._close_method),
        ]
        for name in (
            "setMyDescription",
            "setMyShortDescription",
            "setMyName",
            "setChatMenuButton",
            "setMyDefaultAdministratorRights",
        ):
            handlers.append((name, self._make_setting_handler(name)))
        return handlers

    # ------------------------------------------------------------------ lifecycle

    async def start(self, port: int = 0, host: str = "127.0.0.1") -> None:
        """Bind host:port (0 = a free port) and serve."""
        app = web.Application(client_max_size=_DOCUMENT_LIMIT + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        app.router.add_route("*", "/_fake/{action}", self._handle_control)
        # No access log: it would cost more than the fake itself under benchmark load.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self.host = host
        self.port = int(self._runner.addresses[0][1])
        self.url = f"http://{host}:{self.port}"
        self._client = aiohttp.ClientSession()
        self._closed = False

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        # Release a pending long poll first, otherwise the runner waits for it on cleanup.
        self._wake_poller("closed")
        await self._stop_webhook_pusher()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._client is not None:
            await self._client.close()
            self._client = None
        for _, future, _ in self._waiters:
            if not future.done():
                future.cancel()

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def api_server(self) -> TelegramAPIServer:
        from aiogram.client.telegram import TelegramAPIServer

        return TelegramAPIServer.from_base(self.url)

    def make_bot(self, token: str | None = None, **kwargs: Any) -> Bot:
        """An aiogram Bot talking to this server; the caller closes bot.session.

        Its session closes without AiohttpSession's 250 ms grace sleep (meant for TLS
        connections, of which there are none here), which keeps test suites fast."""
        from aiogram import Bot
        from aiogram.client.session.aiohttp import AiohttpSession

        class _LocalSession(AiohttpSession):
            async def close(self) -> None:
                if self._session is not None and not self._session.closed:
                    await self._session.close()

        session = _LocalSession(api=self.api_server)
        return Bot(token or self.token, session=session, **kwargs)

    # ------------------------------------------------------------------ control API

    async def _handle_control(self, request: web.Request) -> web.Response:
        """A tiny control API for manual runs (python -m tests.support.fake_telegram)."""
        action = request.match_info["action"]
        args: JSONDict = dict(request.query)
        if request.can_read_body:
            with contextlib.suppress(ValueError):
                body = await request.json()
                if isinstance(body, dict):
                    args.update(body)
        try:
            if action == "sent":
                payload: Any = [
                    {
                        "chat_id": m.chat_id,
                        "message_id": m.message_id,
                        "text": m.text,
                        "reply_markup": m.reply_markup,
                        "edits": m.edits,
                        "deleted": m.deleted,
                    }
                    for m in self.sent[-int(args.get("limit", 50)) :]
                ]
            elif action == "user":
                self.user(int(args["user_id"]), str(args.get("first_name", "Ann")))
                payload = True
            elif action == "group":
                self.group(int(args["chat_id"]), str(args.get("title", "Managers")))
                payload = True
            elif action == "send_text":
                chat = args.get("chat_id")
                payload = await self.send_text(
                    int(args["user_id"]), str(args["text"]), chat_id=int(chat) if chat else None
                )
            elif action == "press":
                payload = await self.press(
                    int(args["user_id"]), int(args["message_id"]), str(args["data"])
                )
            elif action == "contact":
                payload = await self.share_contact(int(args["user_id"]), str(args["phone"]))
            else:
                return web.json_response({"error": f"unknown action {action}"}, status=404)
        except (KeyError, ValueError, AssertionError) as error:
            return web.json_response({"error": str(error)}, status=400)
        return web.json_response(payload)
