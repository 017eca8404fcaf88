"""What the fake server knows, and the few lookups every concern uses. Each module's
mixin builds on FakeTelegramState; server.FakeTelegram combines them."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import OrderedDict, deque
from collections.abc import Callable

import aiohttp
from aiohttp import web

from tests.support.fake_telegram.models import (
    FakeChat,
    FakeUser,
    Handler,
    JSONDict,
    RecordedRequest,
    SentMessage,
    WebhookDelivery,
    _Failure,
    _RateLimits,
    _StoredFile,
    _Webhook,
)


class FakeTelegramState:
    """The server's state: what the bot did, what the users did, and the machinery."""

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        *,
        bot_id: int = 123456,
        bot_username: str = "otklik_test_bot",
        bot_first_name: str = "Otklik",
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        first_update_id: int = 1,
    ) -> None:
        self.token = token
        self.bot_id = bot_id
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.url = ""
        self.host = "127.0.0.1"
        self.port = 0
        self._clock = clock
        self._wall_clock = wall_clock

        # What the bot did.
        self.sent: list[SentMessage] = []
        self.requests: list[RecordedRequest] = []
        self.callback_answers: list[JSONDict] = []
        self.chat_actions: list[tuple[int, str]] = []
        self.webhook_deliveries: list[WebhookDelivery] = []
        self.settings: dict[str, JSONDict] = {}
        self.too_many_requests = 0
        # What the users did: every update ever queued, and the user messages among them.
        self.updates: list[JSONDict] = []
        self.received: list[JSONDict] = []
        # How long the webhook pusher waits before retrying a failed delivery, and its timeout.
        self.webhook_retry_delay = 0.1
        self.webhook_timeout = 10.0

        self._users: dict[int, FakeUser] = {}
        self._chats: dict[int, FakeChat] = {}
        self._sent_index: dict[tuple[int, int], SentMessage] = {}
        self._sent_by_chat: dict[int, list[SentMessage]] = {}
        self._inbox: dict[tuple[int, int], JSONDict] = {}
        self._deleted_inbox: set[tuple[int, int]] = set()
        self._next_message_id: dict[int, int] = {}
        self._calls_by_method: dict[str, list[RecordedRequest]] = {}
        self._files: dict[str, _StoredFile] = {}
        self._files_by_path: dict[str, _StoredFile] = {}
        self._file_counter = itertools.count(1)
        self._callback_counter = itertools.count(4_382_000_000_000_000_001)
        self._callbacks: dict[str, bool] = {}  # id -> answered
        self._commands: dict[tuple[str, str], list[JSONDict]] = {}
        self._failures: dict[str, list[_Failure]] = {}
        # Seconds each method's answer is held back after the call did its work.
        self._answer_delays: dict[str, float] = {}

        self._pending: OrderedDict[int, JSONDict] = OrderedDict()
        # Telegram's update ids go on across restarts of the bot; a test that restarts
        # the bot against a new fake passes a higher first id.
        self._next_update_id = first_update_id
        self._allowed_updates: list[str] | None = None
        self._poll_waiter: asyncio.Future[str] | None = None

        self._rate: _RateLimits | None = None
        self._global_hits: deque[float] = deque()
        self._chat_hits: dict[int, deque[float]] = {}

        self._webhook: _Webhook | None = None
        self._webhook_queue: deque[int] = deque()
        self._webhook_wakeup = asyncio.Event()
        self._webhook_task: asyncio.Task[None] | None = None
        self._webhook_last_error: tuple[int, str] | None = None

        self._waiters: list[
            tuple[Callable[[SentMessage], bool], asyncio.Future[SentMessage], int]
        ] = []
        self._call_waiters: list[
            tuple[str, Callable[[RecordedRequest], bool] | None, asyncio.Future[RecordedRequest]]
        ] = []

        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None
        self._closed = False

        # Telegram treats method names case-insensitively.
        self._methods: dict[str, tuple[str, Handler]] = {
            name.lower(): (name, handler) for name, handler in self._handlers()
        }

    def _handlers(self) -> list[tuple[str, Handler]]:
        """The Bot API methods served, by name (server.FakeTelegram lists them)."""
        raise NotImplementedError

    @property
    def bot_user(self) -> JSONDict:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def _require_user(self, user_id: int) -> FakeUser:
        user = self._users.get(user_id)
        if user is None:
            raise ValueError(f"unknown user {user_id}: call fake.user({user_id}) first")
        return user

    def _require_chat(self, chat_id: int) -> FakeChat:
        chat = self._chats.get(chat_id)
        if chat is None:
            raise ValueError(f"unknown chat {chat_id}: register it with user() or group()")
        return chat

    def _allocate_message_id(self, chat_id: int) -> int:
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        return message_id

    def _canonical(self, method: str) -> str:
        known = self._methods.get(method.lower())
        return known[0] if known else method
