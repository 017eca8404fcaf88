"""Users: registered with their private chats, blocking the bot or leaving Telegram, and
played by tests: writing, sharing a contact or a photo, pressing inline buttons (and
the bot's answers to those presses)."""

from __future__ import annotations

from typing import Any

from tests.support.fake_telegram.entities import _utf16_len
from tests.support.fake_telegram.files import _image_size
from tests.support.fake_telegram.messages import MessagesMixin
from tests.support.fake_telegram.models import ApiError, FakeChat, FakeUser, JSONDict, Upload
from tests.support.fake_telegram.updates import UpdatesMixin

_QUERY_INVALID = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)


class UsersMixin(MessagesMixin, UpdatesMixin):
    def user(
        self,
        user_id: int,
        first_name: str = "Ann",
        language_code: str | None = "en",
        username: str | None = None,
        *,
        last_name: str | None = None,
    ) -> FakeUser:
        """Register (or update) a user and their private chat with the bot."""
        if user_id <= 0:
            raise ValueError("user ids are positive")
        existing = self._users.get(user_id)
        if existing is None:
            existing = FakeUser(user_id, first_name, language_code, username, last_name)
            self._users[user_id] = existing
        else:
            existing.first_name = first_name
            existing.language_code = language_code
            existing.username = username
            existing.last_name = last_name
        self._chats[user_id] = FakeChat(
            user_id, "private", first_name=first_name, last_name=last_name, username=username
        )
        return existing

    def block(self, user_id: int) -> None:
        """The user blocks the bot: later sends to their chat answer 403 until the user
        writes to the bot again (send_text / share_contact unblock, as Telegram apps do)."""
        self._require_user(user_id).blocked = True

    def unblock(self, user_id: int) -> None:
        self._require_user(user_id).blocked = False

    def deactivate(self, user_id: int) -> None:
        """The user deletes their account: sends answer 403 'user is deactivated'."""
        self._require_user(user_id).deactivated = True

    # ------------------------------------------------------------------ simulating users

    def _user_message(self, user_id: int, chat_id: int | None, **content: Any) -> JSONDict:
        user = self._require_user(user_id)
        chat = self._require_chat(user_id if chat_id is None else chat_id)
        if chat.type == "private" and chat.id != user_id:
            raise ValueError(f"user {user_id} cannot write to the private chat {chat.id}")
        if chat.type == "private":
            # Telegram apps make a user unblock a bot before writing to it.
            user.blocked = False
        else:
            # Whoever writes in a group is in it.
            chat.members.setdefault(user_id, "member")
        message: JSONDict = {
            "message_id": self._allocate_message_id(chat.id),
            "from": user.as_dict(),
            "chat": chat.as_dict(),
            "date": int(self._wall_clock()),
        }
        reply_to = content.pop("reply_to_message_id", None)
        if reply_to is not None:
            original = self._message_snapshot(chat.id, reply_to)
            if original is None:
                raise ValueError(f"no message {reply_to} in chat {chat.id} to reply to")
            message["reply_to_message"] = original
        message.update(content)
        self._inbox[(chat.id, message["message_id"])] = message
        self.received.append(message)
        return message

    async def send_text(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        reply_to_message_id: int | None = None,
    ) -> JSONDict:
        """The user sends a text message (to their private chat unless chat_id is a group)."""
        content: JSONDict = {"text": text}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            content["entities"] = [
                {"type": "bot_command", "offset": 0, "length": _utf16_len(command)}
            ]
        message = self._user_message(
            user_id, chat_id, reply_to_message_id=reply_to_message_id, **content
        )
        return self.queue_update({"message": message})

    async def edit_text(self, user_id: int, message_id: int, text: str) -> JSONDict:
        """The user edits a text message they sent (in their private chat unless it was
        in a group): Telegram delivers it again as an `edited_message` with edit_date."""
        original = next(
            (
                message
                for (chat_id, sent_id), message in self._inbox.items()
                if sent_id == message_id and message["from"]["id"] == user_id and "text" in message
            ),
            None,
        )
        if original is None:
            raise ValueError(f"user {user_id} sent no text message {message_id}")
        edited = dict(original, text=text, edit_date=int(self._wall_clock()))
        self._inbox[(edited["chat"]["id"], message_id)] = edited
        self.received.append(edited)
        return self.queue_update({"edited_message": edited})

    async def share_contact(self, user_id: int, phone: str) -> JSONDict:
        """The user shares their own contact (the request_contact keyboard button)."""
        user = self._require_user(user_id)
        contact: JSONDict = {
            "phone_number": phone,
            "first_name": user.first_name,
            "user_id": user_id,
        }
        if user.last_name:
            contact["last_name"] = user.last_name
        message = self._user_message(user_id, None, contact=contact)
        return self.queue_update({"message": message})

    async def send_photo(
        self,
        user_id: int,
        data: bytes,
        *,
        caption: str | None = None,
        chat_id: int | None = None,
        filename: str = "photo.jpg",
    ) -> JSONDict:
        """The user sends a photo; the bot can getFile and download it."""
        size = _image_size(data) or (512, 512)
        stored = self._store_file("photo", data, filename, "image/jpeg", size)
        content: JSONDict = {"photo": [self._photo_size(stored)]}
        if caption:
            content["caption"] = caption
        message = self._user_message(user_id, chat_id, **content)
        return self.queue_update({"message": message})

    async def send_media(
        self,
        user_id: int,
        kind: str,
        *,
        duration: int = 0,
        caption: str | None = None,
        file_name: str | None = None,
        emoji: str | None = None,
        chat_id: int | None = None,
        data: bytes = b"media",
    ) -> JSONDict:
        """The user sends a voice message, video, video note, audio, animation, sticker
        or document, shaped as Telegram's Message carries it (a video note and a sticker
        take no caption; an animation comes with its document too)."""
        mime = {
            "voice": "audio/ogg",
            "video": "video/mp4",
            "video_note": "video/mp4",
            "audio": "audio/mpeg",
            "animation": "video/mp4",
            "sticker": "image/webp",
        }.get(kind)
        if kind == "document":
            mime = None
        elif mime is None:
            raise ValueError(f"unknown media kind {kind!r}")
        if caption and kind in ("video_note", "sticker"):
            raise ValueError(f"a {kind} has no caption")
        stored = self._store_file(kind, data, file_name, mime)
        item: JSONDict = {
            "file_id": stored.file_id,
            "file_unique_id": stored.unique_id,
            "file_size": len(data),
        }
        if kind in ("voice", "video", "video_note", "audio", "animation"):
            item["duration"] = duration
        if kind in ("video", "animation"):
            item.update(width=640, height=360)
        if kind == "video_note":
            item["length"] = 240
        if kind == "sticker":
            item.update(type="regular", width=512, height=512, is_animated=False, is_video=False)
            if emoji:
                item["emoji"] = emoji
        if file_name and kind in ("document", "audio", "video", "animation"):
            item["file_name"] = file_name
        if mime and kind != "sticker":
            item["mime_type"] = mime
        content: JSONDict = {kind: item}
        if kind == "animation":
            content["document"] = dict(item)
        if caption:
            content["caption"] = caption
        message = self._user_message(user_id, chat_id, **content)
        return self.queue_update({"message": message})

    async def press(
        self,
        user_id: int,
        message_id: int,
        callback_data: str,
        *,
        chat_id: int | None = None,
        check_button: bool = True,
    ) -> JSONDict:
        """The user presses an inline button of a bot message; returns the queued update.

        With check_button (the default) the message must carry a button with exactly that
        callback_data, because real users can only press what they see; pass False to
        simulate stale or forged callback data."""
        user = self._require_user(user_id)
        target = user_id if chat_id is None else chat_id
        message = self._sent_index.get((target, message_id))
        if message is None or message.deleted:
            raise ValueError(f"the bot has no live message {message_id} in chat {target}")
        if check_button and callback_data not in message.callback_data:
            raise AssertionError(
                f"message {message_id} has no button with callback_data={callback_data!r}; "
                f"it has {message.callback_data}"
            )
        query_id = str(next(self._callback_counter))
        self._callbacks[query_id] = False
        query: JSONDict = {
            "id": query_id,
            "from": user.as_dict(),
            "message": self._message_dict(message),
            "chat_instance": str((target * 2_654_435_761) % 10**19),
            "data": callback_data,
        }
        return self.queue_update({"callback_query": query})

    # ------------------------------------------------------------------ methods: callback queries

    async def _answer_callback_query(self, params: JSONDict, files: dict[str, Upload]) -> Any:
        query_id = str(params.get("callback_query_id") or "")
        if not query_id:
            raise ApiError(400, "Bad Request: callback_query_id is empty")
        answered = self._callbacks.get(query_id)
        if answered is None or answered:
            raise ApiError(400, _QUERY_INVALID)
        self._callbacks[query_id] = True
        self.callback_answers.append(params)
        return True
