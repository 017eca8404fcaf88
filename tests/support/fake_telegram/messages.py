"""The bot's messages: sending, copying, forwarding, editing and deleting them, with
Telegram's checks on chats, texts, captions, keyboards and replies."""

from __future__ import annotations

from collections import deque
from typing import Any

from tests.support.fake_telegram.entities import _utf16_len, parse_formatted
from tests.support.fake_telegram.files import FilesMixin
from tests.support.fake_telegram.flood import FloodMixin
from tests.support.fake_telegram.inspection import InspectionMixin
from tests.support.fake_telegram.models import ApiError, FakeChat, JSONDict, SentMessage, Upload
from tests.support.fake_telegram.params import _as_bool, _as_int

_SEND_METHODS = frozenset(
    {"sendMessage", "sendPhoto", "sendDocument", "copyMessage", "forwardMessage"}
)

# Media a user can send besides photos and documents (users.send_media).
_OTHER_MEDIA = ("voice", "video_note", "video", "animation", "audio", "sticker")

_EDIT_METHODS = frozenset({"editMessageText", "editMessageReplyMarkup", "editMessageCaption"})


_INLINE_BUTTON_ACTIONS = frozenset(
    {
        "url",
        "callback_data",
        "web_app",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "copy_text",
        "callback_game",
        "pay",
    }
)


_TEXT_LIMIT = 4096

_CAPTION_LIMIT = 1024


_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)


class MessagesMixin(FilesMixin, FloodMixin, InspectionMixin):
    # ------------------------------------------------------------------ shared pieces

    def _target_chat(
        self, params: JSONDict, key: str = "chat_id", *, acting: bool = True
    ) -> FakeChat:
        raw = params.get(key)
        if raw is None or raw == "":
            raise ApiError(400, f"Bad Request: {key} is empty")
        chat_id = _as_int(raw)
        chat = self._chats.get(chat_id) if chat_id is not None else None
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        if chat.migrated_to is not None:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                migrate_to_chat_id=chat.migrated_to,
            )
        if acting:
            self._check_reachable(chat)
        return chat

    def _check_reachable(self, chat: FakeChat) -> None:
        if chat.type == "private":
            user = self._users[chat.id]
            if user.deactivated:
                raise ApiError(403, "Forbidden: user is deactivated")
            if user.blocked:
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            return
        status = chat.members.get(self.bot_id, "member")
        kind = "supergroup chat" if chat.type == "supergroup" else "group chat"
        if status == "kicked":
            raise ApiError(403, f"Forbidden: bot was kicked from the {kind}")
        if status == "left":
            raise ApiError(403, f"Forbidden: bot is not a member of the {kind}")

    def _parse_markup(self, params: JSONDict) -> JSONDict | None:
        raw = params.get("reply_markup")
        if raw is None or raw == "":
            return None
        if not isinstance(raw, dict):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in raw:
            rows = raw["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise ApiError(
                    400,
                    "Bad Request: can't parse inline keyboard button: "
                    "InlineKeyboardButton must be an Object",
                )
            for row in rows:
                for button in row:
                    self._check_inline_button(button)
        elif not any(k in raw for k in ("keyboard", "remove_keyboard", "force_reply")):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        return raw

    @staticmethod
    def _check_inline_button(button: Any) -> None:
        if not isinstance(button, dict):
            raise ApiError(
                400,
                "Bad Request: can't parse inline keyboard button: "
                "InlineKeyboardButton must be an Object",
            )
        if not isinstance(button.get("text"), str):
            raise ApiError(
                400, "Bad Request: can't parse inline keyboard button: Text must be a String"
            )
        if not any(key in button for key in _INLINE_BUTTON_ACTIONS):
            raise ApiError(400, "Bad Request: text buttons are unallowed in the inline keyboard")
        if "callback_data" in button:
            data = button["callback_data"]
            if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= 64:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")

    def _reply_target(self, chat: FakeChat, params: JSONDict) -> int | None:
        reply_id = _as_int(params.get("reply_to_message_id"))
        allow_missing = bool(params.get("allow_sending_without_reply"))
        reply_parameters = params.get("reply_parameters")
        if isinstance(reply_parameters, dict):
            reply_id = _as_int(reply_parameters.get("message_id"))
            allow_missing = _as_bool(reply_parameters.get("allow_sending_without_reply", False))
        if reply_id is None:
            return None
        if self._message_snapshot(chat.id, reply_id) is None:
            if allow_missing:
                return None
            raise ApiError(400, "Bad Request: message to be replied not found")
        return reply_id

    def _message_snapshot(self, chat_id: int, message_id: int) -> JSONDict | None:
        """The current Message object of any live message (the bot's or a user's)."""
        sent = self._sent_index.get((chat_id, message_id))
        if sent is not None:
            return None if sent.deleted else self._message_dict(sent, with_reply=False)
        if (chat_id, message_id) in self._deleted_inbox:
            return None
        incoming = self._inbox.get((chat_id, message_id))
        if incoming is None:
            return None
        return {k: v for k, v in incoming.items() if k != "reply_to_message"}

    def _message_dict(self, message: SentMessage, *, with_reply: bool = True) -> JSONDict:
        chat = self._chats[message.chat_id]
        result: JSONDict = {
            "message_id": message.message_id,
            "from": self.bot_user,
            "chat": chat.as_dict(),
            "date": message.date,
        }
        text_key = "caption" if message.media else "text"
        if message.text:
            result[text_key] = message.text
            if message.entities:
                result["caption_entities" if message.media else "entities"] = message.entities
        if message.media == "photo" and message.file_id:
            result["photo"] = [self._photo_size(self._files[message.file_id])]
        elif message.media == "document" and message.file_id:
            result["document"] = self._document_dict(self._files[message.file_id])
        elif message.media_object is not None and message.media:
            result[message.media] = message.media_object
        # Message objects only ever carry inline keyboards.
        if message.reply_markup and "inline_keyboard" in message.reply_markup:
            result["reply_markup"] = message.reply_markup
        if message.edit_date is not None:
            result["edit_date"] = message.edit_date
        if with_reply and message.reply_to_message_id is not None:
            original = self._message_snapshot(message.chat_id, message.reply_to_message_id)
            if original is not None:
                result["reply_to_message"] = original
        return result

    def _store_sent(self, message: SentMessage) -> SentMessage:
        message.seq = len(self.sent)
        self.sent.append(message)
        self._sent_index[(message.chat_id, message.message_id)] = message
        self._sent_by_chat.setdefault(message.chat_id, []).append(message)
        if self._waiters:
            self._notify(message)
        return message

    def _formatted(
        self, params: JSONDict, key: str, entities_key: str
    ) -> tuple[str, list[JSONDict]]:
        raw = params.get(key)
        text = "" if raw is None else str(raw)
        return parse_formatted(text, params.get("parse_mode"), params.get(entities_key))

    def _text_of(self, params: JSONDict) -> tuple[str, list[JSONDict]]:
        raw = params.get("text")
        if raw is None or str(raw).strip() == "":
            raise ApiError(400, "Bad Request: message text is empty")
        text, entities = self._formatted(params, "text", "entities")
        if not text:
            raise ApiError(400, "Bad Request: message text is empty")
        if _utf16_len(text) > _TEXT_LIMIT:
            raise ApiError(400, "Bad Request: message is too long")
        return text, entities

    def _caption_of(self, params: JSONDict) -> tuple[str, list[JSONDict]]:
        caption, entities = self._formatted(params, "caption", "caption_entities")
        if _utf16_len(caption) > _CAPTION_LIMIT:
            raise ApiError(400, "Bad Request: message caption is too long")
        return caption, entities

    # ------------------------------------------------------------------ methods: sending

    def _new_message(
        self, chat: FakeChat, method: str, params: JSONDict, markup: JSONDict | None
    ) -> SentMessage:
        return SentMessage(
            chat_id=chat.id,
            message_id=self._allocate_message_id(chat.id),
            method=method,
            reply_markup=markup,
            parse_mode=params.get("parse_mode"),
            params=params,
            date=int(self._wall_clock()),
        )

    async def _send_message(self, params: JSONDict, files: dict[str, Upload]) -> Any:
        chat = self._target_chat(params)
        windows = self._check_rate(chat.id, counts_global=True)
        text, entities = self._text_of(params)
        markup = self._parse_markup(params)
        reply_to = self._reply_target(chat, params)
        message = self._new_message(chat, "sendMessage", params, markup)
        message.text = text
        message.raw_text = str(params["text"])
        message.entities = entities
        message.reply_to_message_id = reply_to
        self._record_rate(windows)
        return self._message_dict(self._store_sent(message))

    async def _send_media(self, params: JSONDict, files: dict[str, Upload], kind: str) -> Any:
        chat = self._target_chat(params)
        windows = self._check_rate(chat.id, counts_global=True)
        stored = self._input_file(params, files, kind)
        caption, entities = self._caption_of(params)
        markup = self._parse_markup(params)
        reply_to = self._reply_target(chat, params)
        method = "sendPhoto" if kind == "photo" else "sendDocument"
        message = self._new_message(chat, method, params, markup)
        message.media = kind
        message.text = caption
        message.raw_text = str(params.get("caption") or "")
        message.entities = entities
        message.file_id = stored.file_id
        message.filename = stored.filename
        if kind == "photo":
            message.photo = stored.data
        else:
            message.document = stored.data
        message.reply_to_message_id = reply_to
        self._record_rate(windows)
        return self._message_dict(self._store_sent(message))

    async def _send_photo(self, params: JSONDict, files: dict[str, Upload]) -> Any:
        return await self._send_media(params, files, "photo")

    async def _send_document(self, params: JSONDict, files: dict[str, Upload]) -> Any:
        return await self._send_media(params, files, "document")

    def _source_message(self, params: JSONDict, missing: str) -> tuple[FakeChat, JSONDict]:
        source_chat = self._target_chat(params, "from_chat_id", acting=False)
        message_id = _as_int(params.get("message_id"))
        if message_id is None:
            raise ApiError(400, "Bad Request: message_id is empty")
        source = self._message_snapshot(source_chat.id, message_id)
        if source is None:
            raise ApiError(400, f"Bad Request: {missing}")
        return source_chat, source

    def _copy_content(self, message: SentMessage, source: JSONDict) -> None:
        if kind := next((k for k in _OTHER_MEDIA if k in source), None):
            # A voice message, video, video note, audio, animation (which carries a
            # document too) or sticker: copied as it is (the same file), its caption
            # kept unless the call replaces it.
            message.media = kind
            message.media_object = dict(source[kind])
            message.file_id = source[kind]["file_id"]
            message.text = source.get("caption", "")
            message.entities = list(source.get("caption_entities", []))
        elif "photo" in source or "document" in source:
            kind = "photo" if "photo" in source else "document"
            file_id = (
                source["photo"][-1]["file_id"] if kind == "photo" else source[kind]["file_id"]
            )
            stored = self._files.get(file_id)
            message.media = kind
            message.file_id = file_id
            if stored is not None:
                message.filename = stored.filename
                if kind == "photo":
                    message.photo = stored.data
                else:
                    message.document = stored.data
            message.text = source.get("caption", "")
            message.entities = list(source.get("caption_entities", []))
        elif "text" in source:
            message.text = source["text"]
            message.entities = list(source.get("entities", []))
        elif "contact" in source:
            message.text = source["contact"].get("phone_number", "")
        message.raw_text = message.text

    async def _copy_message(self, params: JSONDict, files: dict[str, Upload]) -> Any:
        chat = self._target_chat(params)
        _, source = self._source_message(params, "message to copy not found")
        windows = self._check_rate(chat.id, counts_global=True)
        markup = self._parse_markup(params)
        reply_to = self._reply_target(chat, params)
        message = self._new_message(chat, "copyMessage", params, markup)
        self._copy_content(message, source)
        if (
            message.media
            and message.media not in ("video_note", "sticker")
            and ("caption" in params)
        ):
            message.text, message.entities = self._caption_of(params)
            message.raw_text = str(params.get("caption") or "")
        message.reply_to_message_id = reply_to
        self._record_rate(windows)
        self._store_sent(message)
        return {"message_id": message.message_id}

    async def _forward_message(self, params: JSONDict, files: dict[str, Upload]) -> Any:
        chat = self._target_chat(params)
        source_chat, source = self._source_message(params, "message to forward not found")
        windows = self._check_rate(chat.id, counts_global=True)
        message = self._new_message(chat, "forwardMessage", params, None)
        self._copy_content(message, source)
        self._record_rate(windows)
        result = self._message_dict(self._store_sent(message))
        sender = source.get("from")
        if source_chat.type == "private" and sender is not None:
            result["forward_origin"] = {
                "type": "user",
                "date": source["date"],
                "sender_user": sender,
            }
        else:
            result["forward_origin"] = {
                "type": "chat",
                "date": source["date"],
                "sender_chat": source_chat.as_dict(),
            }
        return result

    # ------------------------------------------------------------------ methods: editing

    def _editable(self, params: JSONDict, method: str) -> tuple[SentMessage, list[deque[float]]]:
        if params.get("inline_message_id"):
            # Inline-mode messages are out of scope for this bot.
            raise ApiError(400, "Bad Request: message to edit not found")
        chat = self._target_chat(params)
        message_id = _as_int(params.get("message_id"))
        if message_id is None:
            raise ApiError(400, "Bad Request: message identifier is not specified")
        windows = self._check_rate(chat.id, counts_global=False)
        message = self._sent_index.get((chat.id, message_id))
        if message is None:
            if (chat.id, message_id) in self._inbox and (
                chat.id,
                message_id,
            ) not in self._deleted_inbox:
                raise ApiError(400, "Bad Request: message can't be edited")
            raise ApiError(400, "Bad Request: message to edit not found")
        if message.deleted:
            raise ApiError(400, "Bad Request: message to edit not found")
        return message, windows

    def _apply_edit(
        self,
        message: SentMessage,
        method: str,
        params: JSONDict,
        windows: list[deque[float]],
        *,
        text: tuple[str, list[JSONDict]] | None,
        markup: JSONDict | None,
    ) -> Any:
        new_text, new_entities = text if text is not None else (message.text, message.entities)
        old_inline = (
            message.reply_markup
            if message.reply_markup and "inline_keyboard" in message.reply_markup
            else None
        )
        if new_text == message.text and new_entities == message.entities and markup == old_inline:
            raise ApiError(400, _NOT_MODIFIED)
        if text is not None and new_text != message.text:
            message.history.append(message.text)
        message.text = new_text
        message.entities = new_entities
        if text is not None:
            key = "caption" if message.media else "text"
            message.raw_text = str(params.get(key) or "")
            message.parse_mode = params.get("parse_mode")
        message.reply_markup = markup
        message.edits += 1
        message.edit_date = int(self._wall_clock())
        message.params = params
        self._record_rate(windows)
        if self._waiters:
            self._notify(message)
        return self._message_dict(message)

    async def _edit_message_text(self, params: JSONDict, files: dict[str, Upload]) -> Any:
        message, windows = self._editable(params, "editMessageText")
        if message.media:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        text = self._text_of(params)
        markup = self._parse_markup(params)
        return self._apply_edit(
            message, "editMessageText", params, windows, text=text, markup=markup
        )

    async def _edit_message_caption(self, params: JSONDict, files: dict[str, Upload]) -> Any:
        message, windows = self._editable(params, "editMessageCaption")
        if not message.media:
            raise ApiError(400, "Bad Request: there is no caption in the message to edit")
        caption = self._caption_of(params)
        markup = self._parse_markup(params)
        return self._apply_edit(
            message, "editMessageCaption", params, windows, text=caption, markup=markup
        )

    async def _edit_message_reply_markup(self, params: JSONDict, files: dict[str, Upload]) -> Any:
        message, windows = self._editable(params, "editMessageReplyMarkup")
        markup = self._parse_markup(params)
        if markup is not None and "inline_keyboard" not in markup:
            raise ApiError(400, "Bad Request: inline keyboard expected")
        return self._apply_edit(
            message, "editMessageReplyMarkup", params, windows, text=None, markup=markup
        )

    async def _delete_message(self, params: JSONDict, files: dict[str, Upload]) -> Any:
        chat = self._target_chat(params)
        message_id = _as_int(params.get("message_id"))
        if message_id is None:
            raise ApiError(400, "Bad Request: message identifier is not specified")
        key = (chat.id, message_id)
        message = self._sent_index.get(key)
        if message is not None:
            if message.deleted:
                raise ApiError(400, "Bad Request: message to delete not found")
            message.deleted = True
            if self._waiters:
                self._notify(message)
            return True
        if key in self._inbox and key not in self._deleted_inbox:
            # Bots delete incoming messages only in private chats or as group admins.
            bot_status = chat.members.get(self.bot_id, "member")
            if chat.type != "private" and bot_status not in ("administrator", "creator"):
                raise ApiError(400, "Bad Request: message can't be deleted")
            self._deleted_inbox.add(key)
            return True
        raise ApiError(400, "Bad Request: message to delete not found")
