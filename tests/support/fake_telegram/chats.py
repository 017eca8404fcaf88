"""Groups: registered, upgraded to supergroups under a new id, their members; getChat,
getChatMember and sendChatAction."""

from __future__ import annotations

from typing import Any

from tests.support.fake_telegram.messages import MessagesMixin
from tests.support.fake_telegram.models import ApiError, FakeChat, JSONDict, Upload
from tests.support.fake_telegram.params import _as_int
from tests.support.fake_telegram.updates import UpdatesMixin

_MEMBER_STATUSES = frozenset(
    {"creator", "administrator", "member", "restricted", "left", "kicked"}
)

_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)


class ChatsMixin(MessagesMixin, UpdatesMixin):
    def group(self, chat_id: int, title: str = "Managers") -> FakeChat:
        """Register a group; ids starting with -100 are supergroups, like in Telegram."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        kind = "supergroup" if str(chat_id).startswith("-100") else "group"
        chat = self._chats.get(chat_id)
        if chat is None or chat.type == "private":
            chat = FakeChat(chat_id, kind, title=title, members={self.bot_id: "member"})
            self._chats[chat_id] = chat
        else:
            chat.title = title
        return chat

    def upgrade_group(
        self, chat_id: int, supergroup_id: int, *, by: int | None = None, announce: bool = True
    ) -> FakeChat:
        """A basic group becomes a supergroup under a new id, members and all; the old id
        answers 400 with migrate_to_chat_id from now on. With `announce`, the bot gets
        the two service messages Telegram sends (migrate_to_chat_id in the old chat,
        migrate_from_chat_id in the new one)."""
        old = self._require_chat(chat_id)
        if old.type != "group" or not str(supergroup_id).startswith("-100"):
            raise ValueError("only a basic group becomes a supergroup, under a -100... id")
        new = FakeChat(supergroup_id, "supergroup", title=old.title, members=dict(old.members))
        self._chats[supergroup_id] = new
        old.migrated_to = supergroup_id
        if announce:
            for chat, field_name, value in (
                (old, "migrate_to_chat_id", supergroup_id),
                (new, "migrate_from_chat_id", chat_id),
            ):
                message: JSONDict = {
                    "message_id": self._allocate_message_id(chat.id),
                    "chat": chat.as_dict(),
                    "date": int(self._wall_clock()),
                    field_name: value,
                }
                if by is not None:
                    message["from"] = self._require_user(by).as_dict()
                self.queue_update({"message": message})
        return new

    def add_member(self, chat_id: int, user_id: int, status: str = "member") -> None:
        """Set a user's (or the bot's, by bot_id) status in a registered group."""
        if status not in _MEMBER_STATUSES:
            raise ValueError(f"unknown ChatMember status {status!r}")
        chat = self._chats.get(chat_id)
        if chat is None or chat.type == "private":
            raise ValueError(f"call group({chat_id}) first")
        chat.members[user_id] = status

    # ------------------------------------------------------------------ methods: chats and members

    async def _get_chat(self, params: JSONDict, files: dict[str, Upload]) -> Any:
        chat = self._target_chat(params, acting=False)
        return {
            **chat.as_dict(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def _member_dict(self, user_id: int, status: str) -> JSONDict:
        if user_id == self.bot_id:
            user = self.bot_user
        elif user_id in self._users:
            user = self._users[user_id].as_dict()
        else:
            user = {"id": user_id, "is_bot": False, "first_name": f"User {user_id}"}
        member: JSONDict = {"status": status, "user": user}
        if status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            member.update(
                can_be_edited=False,
                is_anonymous=False,
                can_manage_chat=True,
                can_delete_messages=True,
                can_manage_video_chats=True,
                can_restrict_members=True,
                can_promote_members=False,
                can_change_info=True,
                can_invite_users=True,
                can_post_stories=False,
                can_edit_stories=False,
                can_delete_stories=False,
                can_send_welcome_messages=False,
                can_pin_messages=True,
                can_manage_topics=False,
            )
        elif status == "restricted":
            member.update(
                {
                    "is_member": True,
                    "until_date": 0,
                    **{
                        flag: True
                        for flag in (
                            "can_send_messages",
                            "can_send_audios",
                            "can_send_documents",
                            "can_send_photos",
                            "can_send_videos",
                            "can_send_video_notes",
                            "can_send_voice_notes",
                            "can_send_polls",
                            "can_send_other_messages",
                            "can_add_web_page_previews",
                            "can_react_to_messages",
                            "can_edit_tag",
                            "can_change_info",
                            "can_invite_users",
                            "can_pin_messages",
                            "can_manage_topics",
                        )
                    },
                }
            )
        elif status == "kicked":
            member["until_date"] = 0
        return member

    async def _get_chat_member(self, params: JSONDict, files: dict[str, Upload]) -> Any:
        chat = self._target_chat(params, acting=False)
        user_id = _as_int(params.get("user_id"))
        if user_id is None or user_id <= 0:
            raise ApiError(400, "Bad Request: invalid user_id specified")
        if chat.type == "private":
            status = "member" if user_id in (chat.id, self.bot_id) else "left"
        elif user_id == self.bot_id:
            status = chat.members.get(user_id, "member")
        else:
            status = chat.members.get(user_id, "left")
        return self._member_dict(user_id, status)

    async def _send_chat_action(self, params: JSONDict, files: dict[str, Upload]) -> Any:
        chat = self._target_chat(params)
        action = str(params.get("action") or "")
        if action not in _CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        self.chat_actions.append((chat.id, action))
        return True
