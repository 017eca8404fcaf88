"""The fake Telegram server, driven by a real aiogram Bot over HTTP.

Other tests trust this fake to behave like Telegram, so these check it against the
behaviour the Bot API documents (and that aiogram turns into its exceptions).
"""

from __future__ import annotations

import asyncio
import json
import struct
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest
from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.methods import SendMessage
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    ChatMemberAdministrator,
    ChatMemberLeft,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from tests.support.fake_telegram import FakeTelegram, SentMessage
from tests.support.mocked_bot import MockedBot, make_message

USER = 501
OTHER = 502
GROUP = -1001


class ManualClock:
    """A monotonic clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> ManualClock:  # shadows the project's FakeClock fixture on purpose
    return ManualClock()


@pytest.fixture
async def fake(clock: ManualClock) -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram(clock=clock)
    await server.start()
    server.user(USER, "Ann", "en", "ann")
    server.user(OTHER, "Boris", "ru")
    server.group(GROUP)
    yield server
    await server.close()


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    instance = fake.make_bot()
    yield instance
    await instance.session.close()


def keyboard(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=t, callback_data=d)] for t, d in pairs]
    )


def tiny_png(width: int = 2, height: int = 3) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height)))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", pixels)
        + chunk(b"IEND", b"")
    )


# ----------------------------------------------------------------------------- basics


async def test_get_me_with_a_plain_aiohttp_session(fake: FakeTelegram) -> None:
    bot = Bot(fake.token, session=AiohttpSession(api=TelegramAPIServer.from_base(fake.url)))
    try:
        me = await bot.get_me()
    finally:
        await bot.session.close()
    assert (me.id, me.is_bot, me.username) == (123456, True, "otklik_test_bot")
    assert [r.method for r in fake.requests] == ["getMe"]
    assert fake.requests[0].ok is True


async def test_wrong_token_is_unauthorized(fake: FakeTelegram) -> None:
    bot = fake.make_bot("999:WRONG")
    try:
        with pytest.raises(TelegramUnauthorizedError, match="Unauthorized"):
            await bot.get_me()
    finally:
        await bot.session.close()
    assert fake.requests[-1].error_code == 401


async def test_unknown_method_is_not_found_and_recorded(fake: FakeTelegram) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{fake.url}/bot{fake.token}/sendDice", data={"chat_id": str(USER)}) as resp,
    ):
        body = await resp.json()
    assert resp.status == 404
    assert body == {"ok": False, "error_code": 404, "description": "Not Found"}
    assert fake.calls("sendDice")[0].params == {"chat_id": USER}


async def test_json_urlencoded_and_get_bodies(fake: FakeTelegram) -> None:
    base = f"{fake.url}/bot{fake.token}"
    markup = {"inline_keyboard": [[{"text": "OK", "callback_data": "ok"}]]}
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{base}/sendMessage", json={"chat_id": USER, "text": "json", "reply_markup": markup}
        ) as resp:
            assert (await resp.json())["result"]["reply_markup"] == markup
        async with http.post(
            f"{base}/SENDMESSAGE",  # method names are case-insensitive
            data={"chat_id": str(USER), "text": "form", "reply_markup": json.dumps(markup)},
        ) as resp:
            assert (await resp.json())["ok"] is True
        async with http.get(f"{base}/getMe") as resp:
            assert (await resp.json())["result"]["username"] == "otklik_test_bot"
        async with http.get(f"{base}/sendMessage", params={"chat_id": USER, "text": "q"}) as r:
            assert (await r.json())["result"]["text"] == "q"
    assert [m.text for m in fake.messages_to(USER)] == ["json", "form", "q"]
    assert fake.messages_to(USER)[1].reply_markup == markup
    assert [r.method for r in fake.calls("sendmessage")] == ["sendMessage"] * 3


# ----------------------------------------------------------------------------- messages


async def test_keyboard_press_reaches_get_updates(fake: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(USER, "Rate us", reply_markup=keyboard(("10", "nps:10")))
    stored = fake.messages_to(USER)[0]
    assert stored.message_id == sent.message_id
    assert stored.reply_markup == {
        "inline_keyboard": [[{"text": "10", "callback_data": "nps:10"}]]
    }
    assert stored.callback_data == ["nps:10"]

    update = await fake.press(USER, sent.message_id, "nps:10")
    updates = await bot.get_updates(timeout=0)
    assert [u.update_id for u in updates] == [update["update_id"]]
    query = updates[0].callback_query
    assert query is not None and query.data == "nps:10"
    assert query.from_user.id == USER and query.from_user.username == "ann"
    assert isinstance(query.message, Message) and query.message.text == "Rate us"
    assert query.message.reply_markup is not None

    assert await bot.answer_callback_query(query.id, text="Thanks") is True
    assert fake.callback_answers[0]["text"] == "Thanks"
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(query.id)

    # Updates stay until confirmed with a higher offset.
    assert len(await bot.get_updates(timeout=0)) == 1
    assert await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0) == []
    assert fake.pending_updates == []

    with pytest.raises(AssertionError, match="no button"):
        await fake.press(USER, sent.message_id, "nps:11")


async def test_long_poll_wakes_on_update(fake: FakeTelegram, bot: Bot) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.05)
    assert not poll.done()
    started = time.monotonic()
    await fake.send_text(USER, "/start ref_42")
    updates = await poll
    assert time.monotonic() - started < 1
    message = updates[0].message
    assert message is not None and message.text == "/start ref_42"
    assert message.entities is not None and message.entities[0].type == "bot_command"
    assert message.entities[0].length == len("/start")
    assert message.from_user is not None and message.from_user.language_code == "en"


async def test_long_poll_times_out_and_newer_poll_wins(fake: FakeTelegram, bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == []
    assert time.monotonic() - started >= 0.9

    first = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.05)
    second = asyncio.create_task(bot.get_updates(timeout=5))
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates"):
        await first
    await fake.send_text(USER, "hello")
    assert len(await second) == 1


async def test_allowed_updates_filters_types(fake: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(USER, "x", reply_markup=keyboard(("a", "a")))
    await fake.send_text(USER, "text")
    await fake.press(USER, sent.message_id, "a")
    updates = await bot.get_updates(timeout=0, allowed_updates=["callback_query"])
    assert [u.callback_query is not None for u in updates] == [True]


async def test_group_message_and_reply(fake: FakeTelegram, bot: Bot) -> None:
    alert = await bot.send_message(GROUP, "Case #7: NPS 2")
    await fake.send_text(
        USER, "I'll call them", chat_id=GROUP, reply_to_message_id=alert.message_id
    )
    update = (await bot.get_updates(timeout=0))[0]
    assert update.message is not None
    assert update.message.chat.type == "supergroup" and update.message.chat.title == "Managers"
    assert update.message.reply_to_message is not None
    assert update.message.reply_to_message.message_id == alert.message_id


async def test_share_contact(fake: FakeTelegram, bot: Bot) -> None:
    await fake.share_contact(USER, "+79990001122")
    update = (await bot.get_updates(timeout=0))[0]
    assert update.message is not None and update.message.contact is not None
    assert update.message.contact.phone_number == "+79990001122"
    assert update.message.contact.user_id == USER


async def test_edits_and_their_errors(fake: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(USER, "Draft", reply_markup=keyboard(("Go", "go")))
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            chat_id=USER,
            message_id=sent.message_id,
            text="Draft",
            reply_markup=keyboard(("Go", "go")),
        )
    edited = await bot.edit_message_text(chat_id=USER, message_id=sent.message_id, text="Final")
    assert isinstance(edited, Message) and edited.text == "Final"
    stored = fake.message(USER, sent.message_id)
    # editMessageText without reply_markup drops the keyboard, as on Telegram.
    assert (stored.text, stored.reply_markup, stored.edits, stored.history) == (
        "Final",
        None,
        1,
        ["Draft"],
    )
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(chat_id=USER, message_id=sent.message_id)
    await bot.edit_message_reply_markup(
        chat_id=USER, message_id=sent.message_id, reply_markup=keyboard(("Undo", "undo"))
    )
    assert stored.callback_data == ["undo"] and stored.edits == 2

    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text(chat_id=USER, message_id=999, text="x")
    with pytest.raises(TelegramBadRequest, match="there is no caption in the message to edit"):
        await bot.edit_message_caption(chat_id=USER, message_id=sent.message_id, caption="c")

    assert await bot.delete_message(USER, sent.message_id) is True
    assert stored.deleted
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(USER, sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text(chat_id=USER, message_id=sent.message_id, text="again")


async def test_chat_not_found_and_blocked_user(fake: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(777, "hi")
    fake.block(USER)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(USER, "hi")
    await fake.send_text(USER, "/start")  # writing to the bot unblocks it
    await bot.send_message(USER, "welcome back")
    fake.deactivate(OTHER)
    with pytest.raises(TelegramForbiddenError, match="user is deactivated"):
        await bot.send_chat_action(OTHER, "typing")
    fake.add_member(GROUP, fake.bot_id, "kicked")
    with pytest.raises(TelegramForbiddenError, match="kicked from the supergroup chat"):
        await bot.send_message(GROUP, "hi")
    assert [m.text for m in fake.sent] == ["welcome back"]
    assert [r.error_code for r in fake.calls("sendMessage")] == [400, 403, None, 403]


async def test_entity_parsing_like_telegram(fake: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(USER, "<b>Hi</b>, &lt;Ann&gt; &amp; co", parse_mode="HTML")
    assert sent.text == "Hi, <Ann> & co"
    assert sent.entities is not None and (sent.entities[0].type, sent.entities[0].length) == (
        "bold",
        2,
    )
    assert fake.sent[-1].raw_text == "<b>Hi</b>, &lt;Ann&gt; &amp; co"
    with pytest.raises(TelegramBadRequest, match='Unsupported start tag "" at byte offset 6'):
        await bot.send_message(USER, "NPS 3 < 7", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="Can't find end tag corresponding"):
        await bot.send_message(USER, "<i>open", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match=r"Character '\.' is reserved"):
        await bot.send_message(USER, "Thanks.", parse_mode="MarkdownV2")
    escaped = await bot.send_message(USER, "*Thanks*\\.", parse_mode="MarkdownV2")
    assert escaped.text == "Thanks."
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(USER, "  ")
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(USER, "x" * 4097)


async def test_button_data_limit(bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(USER, "x", reply_markup=keyboard(("a", "d" * 65)))


async def test_documents_and_photos_keep_bytes(fake: FakeTelegram, bot: Bot) -> None:
    data = "дата;nps\n2026-11-23;9\n".encode()
    sent = await bot.send_document(
        GROUP, BufferedInputFile(data, "report.csv"), caption="<b>Weekly</b>", parse_mode="HTML"
    )
    stored = fake.messages_to(GROUP)[0]
    assert (stored.document, stored.filename, stored.caption, stored.media) == (
        data,
        "report.csv",
        "Weekly",
        "document",
    )
    assert sent.document is not None and sent.document.file_name == "report.csv"
    assert sent.document.file_size == len(data)
    downloaded = await bot.download(sent.document.file_id)
    assert downloaded is not None and downloaded.read() == data

    png = tiny_png(4, 5)
    photo = await bot.send_photo(USER, BufferedInputFile(png, "chart.png"))
    assert photo.photo is not None and (photo.photo[-1].width, photo.photo[-1].height) == (4, 5)
    assert fake.sent[-1].photo == png
    with pytest.raises(TelegramBadRequest, match="IMAGE_PROCESS_FAILED"):
        await bot.send_photo(USER, BufferedInputFile(b"not an image", "x.png"))
    # A file_id can be sent again without uploading.
    again = await bot.send_document(USER, sent.document.file_id)
    assert again.document is not None and fake.sent[-1].document == data


async def test_copy_message_from_a_user(fake: FakeTelegram, bot: Bot) -> None:
    update = await fake.send_text(USER, "The coffee was cold")
    copied = await bot.copy_message(GROUP, USER, update["message"]["message_id"])
    stored = fake.messages_to(GROUP)[0]
    assert (stored.message_id, stored.text, stored.method) == (
        copied.message_id,
        "The coffee was cold",
        "copyMessage",
    )
    with pytest.raises(TelegramBadRequest, match="message to copy not found"):
        await bot.copy_message(GROUP, USER, 999)


async def test_chats_members_commands(fake: FakeTelegram, bot: Bot) -> None:
    fake.add_member(GROUP, USER, "administrator")
    admin = await bot.get_chat_member(GROUP, USER)
    assert isinstance(admin, ChatMemberAdministrator) and admin.user.id == USER
    assert isinstance(await bot.get_chat_member(GROUP, OTHER), ChatMemberLeft)
    chat = await bot.get_chat(GROUP)
    assert (chat.type, chat.title) == ("supergroup", "Managers")
    private = await bot.get_chat(USER)
    assert (private.type, private.first_name) == ("private", "Ann")

    commands = [
        BotCommand(command="start", description="Start"),
        BotCommand(command="help", description="Help"),
    ]
    assert await bot.set_my_commands(commands, language_code="ru") is True
    assert [c.command for c in await bot.get_my_commands(language_code="ru")] == ["start", "help"]
    assert await bot.get_my_commands() == []
    assert fake.commands(language_code="ru")[0] == {"command": "start", "description": "Start"}
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Start", description="x")])
    assert await bot.delete_my_commands(language_code="ru") is True
    assert fake.commands(language_code="ru") == []
    assert await bot.send_chat_action(USER, "typing") is True
    assert fake.chat_actions == [(USER, "typing")]
    assert await bot.close() is True and await bot.log_out() is True


# ----------------------------------------------------------------------------- faults


async def test_fail_next_retry_after(fake: FakeTelegram, bot: Bot) -> None:
    fake.fail_next(
        "sendMessage",
        error_code=429,
        description="Too Many Requests: retry after 7",
        retry_after=7,
    )
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(USER, "hi")
    assert caught.value.retry_after == 7
    await bot.send_message(USER, "hi")
    assert [r.error_code for r in fake.calls("sendMessage")] == [429, None]
    assert len(fake.sent) == 1

    fake.fail_next(
        "sendMessage", error_code=500, description="Internal Server Error", chat_id=OTHER
    )
    await bot.send_message(USER, "unaffected")
    with pytest.raises(Exception, match="Internal Server Error"):
        await bot.send_message(OTHER, "hit")


async def test_rate_limits_follow_the_injected_clock(
    fake: FakeTelegram, bot: Bot, clock: ManualClock
) -> None:
    fake.set_rate_limits()
    await bot.send_message(USER, "1")
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(USER, "2")
    assert caught.value.retry_after == 1
    # Edits count for the per-chat rule too.
    with pytest.raises(TelegramRetryAfter):
        await bot.edit_message_text(chat_id=USER, message_id=fake.sent[0].message_id, text="x")
    clock.advance(1.0)
    await bot.send_message(USER, "2")

    # Global: 30 within a sliding second, whatever the chats.
    clock.advance(5)
    for user_id in range(1, 31):
        fake.user(1000 + user_id)
        await bot.send_message(1000 + user_id, "bulk")
    fake.user(2000)
    clock.advance(0.4)
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(2000, "one too many")
    assert caught.value.retry_after == 1
    clock.advance(0.6)
    await bot.send_message(2000, "now fine")

    # Groups: 20 per sliding minute.
    clock.advance(5)
    for _ in range(20):
        await bot.send_message(GROUP, "alert")
        clock.advance(0.5)
    clock.advance(10)  # 20 s since the first alert: the window frees in 40 s
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(GROUP, "alert 21")
    assert caught.value.retry_after == 40
    assert fake.too_many_requests == 4
    assert len(fake.messages_to(GROUP)) == 20

    fake.disable_rate_limits()
    await bot.send_message(GROUP, "free again")


# ----------------------------------------------------------------------------- waiting


async def test_wait_for_sees_new_and_edited_messages(fake: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(USER, "Processing")

    async def edit_later() -> None:
        await asyncio.sleep(0.05)
        await bot.edit_message_text(chat_id=USER, message_id=sent.message_id, text="Done")

    task = asyncio.create_task(edit_later())
    message = await fake.wait_for(lambda m: m.text == "Done", timeout=2)
    await task
    assert message.message_id == sent.message_id and message.edits == 1
    assert await fake.wait_for_message(USER, text_contains="Done") is message

    with pytest.raises(AssertionError, match=r"(?s)no message containing 'Nope'.*Done"):
        await fake.wait_for_message(USER, text_contains="Nope", timeout=0.05)
    with pytest.raises(AssertionError, match="no matching message"):
        await fake.wait_for(lambda m: False, timeout=0.01, since=len(fake.sent))

    answer = asyncio.create_task(fake.wait_for_call("sendChatAction"))
    await bot.send_chat_action(USER, "typing")
    assert (await answer).params["action"] == "typing"


async def test_dispatcher_polling_end_to_end(fake: FakeTelegram) -> None:
    dp = Dispatcher()

    @dp.message()
    async def echo(message: Message) -> None:
        await message.answer(f"echo: {message.text}", reply_markup=keyboard(("ok", "ok")))

    bot = fake.make_bot()
    polling = asyncio.create_task(
        dp.start_polling(bot, polling_timeout=5, handle_signals=False, close_bot_session=True)
    )
    try:
        await fake.send_text(USER, "hello")
        reply: SentMessage = await fake.wait_for_message(USER, text_contains="echo: hello")
        assert reply.callback_data == ["ok"]
        assert fake.calls("getUpdates")[0].params.get("allowed_updates") == ["message"]
    finally:
        await dp.stop_polling()
        await polling


# ----------------------------------------------------------------------------- webhook


Receiver = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def serve(handler: Receiver | web.Application) -> tuple[web.AppRunner, str]:
    if isinstance(handler, web.Application):
        app = handler
    else:
        app = web.Application()
        app.router.add_post("/hook", handler)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}/hook"


async def test_webhook_push_with_secret_and_retry(fake: FakeTelegram, bot: Bot) -> None:
    received: list[tuple[str | None, dict[str, object]]] = []
    fake.webhook_retry_delay = 0.02

    async def hook(request: web.Request) -> web.Response:
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        return web.Response(status=500 if len(received) == 1 else 200)

    runner, url = await serve(hook)
    try:
        await fake.send_text(USER, "before the webhook")
        assert await bot.set_webhook(url, secret_token="s3cret-token") is True
        for _ in range(200):
            if len(received) >= 2:
                break
            await asyncio.sleep(0.01)
        assert [secret for secret, _ in received] == ["s3cret-token", "s3cret-token"]
        assert received[0][1] == received[1][1]  # the failed update is retried as-is
        assert received[1][1]["message"]["text"] == "before the webhook"  # type: ignore[index]
        assert [d.status for d in fake.webhook_deliveries] == [500, 200]

        info = await bot.get_webhook_info()
        assert (info.url, info.pending_update_count) == (url, 0)
        assert info.last_error_message is not None and "500" in info.last_error_message
        with pytest.raises(TelegramConflictError, match="webhook is active"):
            await bot.get_updates(timeout=0)

        assert await bot.delete_webhook() is True
        await fake.send_text(USER, "after")
        assert len(await bot.get_updates(timeout=0)) == 1
    finally:
        await runner.cleanup()


async def test_aiogram_webhook_reply_is_executed(fake: FakeTelegram) -> None:
    dp = Dispatcher()

    @dp.message()
    async def pong(message: Message) -> SendMessage:
        # Returned instead of awaited: aiogram answers the webhook with this call.
        return message.answer(f"pong {message.text}")

    bot = fake.make_bot()
    app = web.Application()
    SimpleRequestHandler(
        dispatcher=dp, bot=bot, secret_token="abc", handle_in_background=False
    ).register(app, path="/hook")
    runner, url = await serve(app)
    try:
        await bot.set_webhook(url, secret_token="abc")
        await fake.send_text(USER, "ping")
        reply = await fake.wait_for_message(USER, text_contains="pong ping", timeout=3)
        assert reply.method == "sendMessage"
        assert fake.calls("sendMessage")[0].via == "webhook_reply"
    finally:
        await runner.cleanup()
        await bot.session.close()


# ----------------------------------------------------------------------------- mocked bot


async def test_mocked_bot_records_calls_and_raises_errors() -> None:
    bot = MockedBot()
    bot.add_result_for(SendMessage, ok=True, result=make_message(USER, "hi", message_id=3))
    bot.add_result_for(
        SendMessage, ok=False, error_code=403, description="Forbidden: bot was blocked by the user"
    )
    message = await bot.send_message(USER, "hi")
    assert message.message_id == 3
    request = bot.get_request()
    assert isinstance(request, SendMessage) and request.text == "hi"
    with pytest.raises(TelegramForbiddenError):
        await bot.send_message(USER, "again")
    with pytest.raises(AssertionError, match="no prepared response"):
        await bot.send_message(USER, "unprepared")
    assert (await bot.me()).username == "otklik_test_bot"
    await bot.session.close()
