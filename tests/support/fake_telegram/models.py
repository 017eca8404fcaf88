"""The fake server's records: users, chats, the bot's messages, requests, uploads,
webhook deliveries, and ApiError, the error answer Telegram sends with ok=false."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

JSONDict = dict[str, Any]


@dataclass
class FakeUser:
    id: int
    first_name: str = "Ann"
    language_code: str | None = "en"
    username: str | None = None
    last_name: str | None = None
    blocked: bool = False
    deactivated: bool = False

    def as_dict(self) -> JSONDict:
        user: JSONDict = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user


@dataclass
class FakeChat:
    id: int
    type: str  # "private" | "group" | "supergroup"
    title: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    username: str | None = None
    # user_id -> ChatMember status; only meaningful for groups.
    members: dict[int, str] = field(default_factory=dict)
    # A basic group upgraded to a supergroup: every call naming it is refused.
    migrated_to: int | None = None

    def as_dict(self) -> JSONDict:
        chat: JSONDict = {"id": self.id, "type": self.type}
        if self.title is not None:
            chat["title"] = self.title
        if self.first_name is not None:
            chat["first_name"] = self.first_name
        if self.last_name:
            chat["last_name"] = self.last_name
        if self.username:
            chat["username"] = self.username
        return chat


@dataclass(eq=False)
class SentMessage:
    """A message the bot created; mutated in place by edits and deletion."""

    chat_id: int
    message_id: int
    method: str
    # Plain text after entity parsing (what a user sees); the caption for media messages.
    text: str = ""
    reply_markup: JSONDict | None = None
    parse_mode: str | None = None
    entities: list[JSONDict] = field(default_factory=list)
    # The text exactly as the bot sent it (HTML/Markdown markup included).
    raw_text: str = ""
    # "photo" | "document" | None (a text message); a copied message may also be
    # "voice", "video", "video_note", "audio", "animation" or "sticker".
    media: str | None = None
    # A copied media message's object (the Voice, Video... of its source), as sent.
    media_object: JSONDict | None = None
    document: bytes | None = None
    photo: bytes | None = None
    filename: str | None = None
    file_id: str | None = None
    edits: int = 0
    deleted: bool = False
    # Params of the call that last set the content (the send, or the latest edit).
    params: JSONDict = field(default_factory=dict)
    date: int = 0
    edit_date: int | None = None
    reply_to_message_id: int | None = None
    # Previous texts, oldest first; handy for asserting a sequence of edits.
    history: list[str] = field(default_factory=list)
    # Position in FakeTelegram.sent.
    seq: int = 0

    @property
    def caption(self) -> str | None:
        return self.text if self.media else None

    @property
    def buttons(self) -> list[JSONDict]:
        """Inline keyboard buttons, row by row, flattened."""
        markup = self.reply_markup or {}
        rows = markup.get("inline_keyboard") or []
        return [button for row in rows for button in row if isinstance(button, dict)]

    @property
    def callback_data(self) -> list[str]:
        return [b["callback_data"] for b in self.buttons if "callback_data" in b]

    def button(self, text_contains: str) -> JSONDict:
        """The first inline button whose text contains `text_contains`."""
        for button in self.buttons:
            if text_contains in str(button.get("text", "")):
                return button
        raise AssertionError(
            f"no button containing {text_contains!r} in message {self.message_id}: "
            f"{[b.get('text') for b in self.buttons]}"
        )

    def describe(self) -> str:
        flags = []
        if self.edits:
            flags.append(f"edits={self.edits}")
        if self.deleted:
            flags.append("deleted")
        if self.media:
            flags.append(f"{self.media}={self.filename!r}")
        buttons = [
            f"{b.get('text')}|{b.get('callback_data', b.get('url', ''))}" for b in self.buttons
        ]
        text = self.text if len(self.text) <= 160 else self.text[:157] + "..."
        return (
            f"#{self.seq} {self.method} chat={self.chat_id} id={self.message_id} "
            f"{' '.join(flags)} text={text!r}" + (f" buttons={buttons}" if buttons else "")
        )


@dataclass
class Upload:
    """A file part of a multipart request."""

    name: str
    filename: str | None
    data: bytes
    content_type: str | None = None


@dataclass(eq=False)
class RecordedRequest:
    method: str
    params: JSONDict
    time: float
    files: dict[str, Upload] = field(default_factory=dict)
    ok: bool | None = None
    error_code: int | None = None
    description: str | None = None
    # "http" for ordinary calls, "webhook_reply" for a method returned in a webhook response.
    via: str = "http"

    @property
    def chat_id(self) -> Any:
        return self.params.get("chat_id")


@dataclass
class WebhookDelivery:
    update_id: int
    status: int | None  # HTTP status, None when the connection failed
    error: str | None
    time: float


@dataclass
class _StoredFile:
    file_id: str
    unique_id: str
    kind: str
    data: bytes | None
    filename: str | None
    mime_type: str | None
    path: str
    url: str | None = None
    width: int = 0
    height: int = 0


@dataclass
class _Failure:
    error_code: int
    description: str
    retry_after: int | None
    chat_id: int | None
    times: int


@dataclass
class _RateLimits:
    global_per_second: float | None
    per_chat_per_second: float | None
    per_group_per_minute: float | None


@dataclass
class _Webhook:
    url: str
    secret_token: str | None
    max_connections: int
    allowed_updates: list[str] | None


class ApiError(Exception):
    """An error answer: the envelope Telegram sends with ok=false."""

    def __init__(
        self,
        error_code: int,
        description: str,
        retry_after: int | None = None,
        migrate_to_chat_id: int | None = None,
    ) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after
        self.migrate_to_chat_id = migrate_to_chat_id


@dataclass
class _WithDescription:
    # Some successful answers carry a description too (setWebhook: "Webhook was set").
    result: Any
    description: str


Handler = Callable[[JSONDict, dict[str, Upload]], Awaitable[Any]]
