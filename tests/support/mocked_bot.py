"""An aiogram Bot whose session answers from prepared responses, for narrow handler tests.

The idea follows aiogram's own tests/mocked_bot.py: a BaseSession subclass records every
method the bot calls and answers with responses queued by the test, so a handler can be
called directly without any HTTP. Use tests.support.fake_telegram when the behaviour of Telegram
itself matters (errors, polling, rate limits); use this when only the calls matter.

    bot = MockedBot()
    bot.add_result_for(SendMessage, ok=True, result=make_message(chat_id=5, text="hi"))
    await handler(message, bot=bot)
    request = bot.get_request()          # the SendMessage the handler made
"""

from __future__ import annotations

import datetime
from collections import deque
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any

from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response, TelegramType
from aiogram.types import Chat, Message, ResponseParameters, User

BOT_TOKEN = "123456:TEST-TOKEN"
BOT_USERNAME = "otklik_test_bot"


class MockedSession(BaseSession):
    def __init__(self) -> None:
        super().__init__()
        self.responses: deque[Response[Any]] = deque()
        self.requests: deque[TelegramMethod[Any]] = deque()
        self.closed = True

    def add_result(self, response: Response[Any]) -> Response[Any]:
        self.responses.append(response)
        return response

    def get_request(self) -> TelegramMethod[Any]:
        """The most recent call (and forget it)."""
        return self.requests.pop()

    async def close(self) -> None:
        self.closed = True

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 - BaseSession signature
    ) -> TelegramType:
        self.closed = False
        self.requests.append(method)
        if not self.responses:
            raise AssertionError(
                f"unexpected {method.__api_method__} call: no prepared response "
                "(use bot.add_result_for)"
            )
        # Responses are consumed in the order they were prepared.
        response: Response[TelegramType] = self.responses.popleft()
        self.check_response(
            bot=bot,
            method=method,
            status_code=response.error_code or 200,
            content=response.model_dump_json(),
        )
        return response.result  # type: ignore[return-value]

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,  # noqa: ASYNC109 - BaseSession signature
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:  # pragma: no cover
        yield b""


class MockedBot(Bot):
    if TYPE_CHECKING:
        session: MockedSession

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(kwargs.pop("token", BOT_TOKEN), session=MockedSession(), **kwargs)
        # Bot.me() would otherwise call getMe and consume a prepared response.
        self._me = User(
            id=self.id,
            is_bot=True,
            first_name="Otklik",
            username=BOT_USERNAME,
        )

    def add_result_for(
        self,
        method: type[TelegramMethod[TelegramType]],
        ok: bool,
        result: TelegramType | None = None,
        description: str | None = None,
        error_code: int = 200,
        migrate_to_chat_id: int | None = None,
        retry_after: int | None = None,
    ) -> Response[TelegramType]:
        response = Response[method.__returning__](  # type: ignore[name-defined]
            ok=ok,
            result=result,
            description=description,
            error_code=error_code,
            parameters=ResponseParameters(
                migrate_to_chat_id=migrate_to_chat_id,
                retry_after=retry_after,
            ),
        )
        self.session.add_result(response)
        return response

    def get_request(self) -> TelegramMethod[Any]:
        return self.session.get_request()


def make_message(
    chat_id: int,
    text: str | None = None,
    *,
    message_id: int = 1,
    from_bot: bool = True,
    user_id: int | None = None,
    chat_type: str | None = None,
) -> Message:
    """A plausible Message for prepared results and for feeding handlers."""
    kind = chat_type or ("private" if chat_id > 0 else "supergroup")
    chat = (
        Chat(id=chat_id, type=kind, first_name="Ann")
        if kind == "private"
        else Chat(id=chat_id, type=kind, title="Managers")
    )
    sender = (
        User(
            id=int(BOT_TOKEN.split(":")[0]),
            is_bot=True,
            first_name="Otklik",
            username=BOT_USERNAME,
        )
        if from_bot
        else User(id=user_id or chat_id, is_bot=False, first_name="Ann", language_code="en")
    )
    return Message(
        message_id=message_id,
        date=datetime.datetime.now(datetime.UTC),
        chat=chat,
        from_user=sender,
        text=text,
    )
