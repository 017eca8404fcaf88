"""The aiogram side of delivery: turns an Outgoing into one Bot API call and
classifies Telegram's answer into what the delivery worker should do next."""

from __future__ import annotations

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import BufferedInputFile, Message

from bot.services.outbound import (
    Outgoing,
    Rejected,
    RetryAfter,
    SendResult,
    Transient,
    Unreachable,
)

_UNREACHABLE_TEXTS = ("chat not found", "user not found", "bot was kicked", "not enough rights")


class AiogramSender:
    def __init__(self, bot: Bot, *, paid_broadcast: bool = False) -> None:
        self._bot = bot
        self._paid = paid_broadcast or None

    async def send(self, message: Outgoing) -> SendResult:
        try:
            sent = await self._call(message)
        except TelegramRetryAfter as error:
            raise RetryAfter("flood control", float(error.retry_after)) from None
        except TelegramForbiddenError as error:
            raise Unreachable(_describe(error)) from None
        except TelegramMigrateToChat as error:
            raise Rejected(f"group migrated to {error.migrate_to_chat_id}") from None
        except TelegramBadRequest as error:
            text = error.message.lower()
            if "message is not modified" in text:
                return SendResult(message.edit_message_id)
            if any(part in text for part in _UNREACHABLE_TEXTS) and not message.edit_message_id:
                raise Unreachable(_describe(error)) from None
            raise Rejected(_describe(error)) from None
        except (TelegramServerError, TelegramNetworkError, TelegramNotFound) as error:
            raise Transient(_describe(error)) from None
        except TelegramAPIError as error:
            raise Transient(_describe(error)) from None
        return SendResult(sent.message_id if isinstance(sent, Message) else None)

    async def _call(self, message: Outgoing) -> Message | bool:
        bot = self._bot
        if message.edit_message_id is not None:
            if message.edit_keyboard_only:
                return await bot.edit_message_reply_markup(
                    chat_id=message.chat_id,
                    message_id=message.edit_message_id,
                    reply_markup=message.keyboard,
                )
            return await bot.edit_message_text(
                chat_id=message.chat_id,
                message_id=message.edit_message_id,
                text=message.text,
                reply_markup=message.keyboard,
                **message.extra,
            )
        if message.photo is not None:
            return await bot.send_photo(
                chat_id=message.chat_id,
                photo=BufferedInputFile(message.photo, message.filename or "chart.png"),
                caption=message.text or None,
                reply_markup=message.keyboard,
                allow_paid_broadcast=self._paid,
                **message.extra,
            )
        if message.document is not None:
            return await bot.send_document(
                chat_id=message.chat_id,
                document=BufferedInputFile(message.document, message.filename or "file"),
                caption=message.text or None,
                reply_markup=message.keyboard,
                allow_paid_broadcast=self._paid,
                **message.extra,
            )
        return await bot.send_message(
            chat_id=message.chat_id,
            text=message.text,
            reply_markup=message.keyboard,
            allow_paid_broadcast=self._paid,
            **message.extra,
        )


def _describe(error: TelegramAPIError) -> str:
    # aiogram's str() of an error includes the method's URL, which embeds the token.
    return f"{type(error).__name__}: {error.message}"
