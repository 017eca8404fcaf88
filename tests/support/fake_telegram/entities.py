"""A fake Telegram Bot API server for tests and benchmarks.

It listens on 127.0.0.1 and answers `{base}/bot{token}/{method}` the way
https://core.telegram.org/bots/api documents it, so the real aiogram client,
polling and webhook code run against it unchanged. Tests play the users
(`send_text`, `press`, ...) and assert on what the bot did (`sent`, `requests`).

It deliberately reproduces the Telegram behaviours a bot has to cope with:
real error texts and HTTP codes, "message is not modified", entity parsing
errors for HTML/MarkdownV2, blocked users, flood control (429 + retry_after)
and webhook retries. Everything is in memory and indexed, because benchmarks
push about a thousand sendMessage calls per second through it.

Standalone: `python -m tests.support.fake_telegram --port 8081 --token 123:ABC`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import itertools
import json
import logging
import math
import mimetypes
import re
import struct
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.client.telegram import TelegramAPIServer

__all__ = [
    "FakeChat",
    "FakeTelegram",
    "FakeUser",
    "RecordedRequest",
    "SentMessage",
    "WebhookDelivery",
]

logger = logging.getLogger(__name__)

JSONDict = dict[str, Any]

# Fields that Telegram accepts as JSON-serialized strings in form bodies.
_JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "commands",
        "scope",
        "allowed_updates",
        "reply_parameters",
        "link_preview_options",
        "media",
        "results",
        "message_ids",
        "menu_button",
        "rights",
        "permissions",
    }
)
_INT_FIELDS = frozenset(
    {
        "chat_id",
        "from_chat_id",
        "message_id",
        "reply_to_message_id",
        "message_thread_id",
        "offset",
        "limit",
        "timeout",
        "user_id",
        "cache_time",
        "max_connections",
        "until_date",
    }
)
_BOOL_FIELDS = frozenset(
    {
        "show_alert",
        "drop_pending_updates",
        "disable_notification",
        "protect_content",
        "disable_web_page_preview",
        "allow_sending_without_reply",
        "has_spoiler",
        "disable_content_type_detection",
        "only_if_banned",
        "revoke_messages",
        "show_caption_above_media",
        "allow_paid_broadcast",
    }
)

# getUpdates without allowed_updates delivers everything except these (Bot API docs).
_OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

_SEND_METHODS = frozenset(
    {"sendMessage", "sendPhoto", "sendDocument", "copyMessage", "forwardMessage"}
)
_EDIT_METHODS = frozenset({"editMessageText", "editMessageReplyMarkup", "editMessageCaption"})

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
_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")

_TEXT_LIMIT = 4096
_CAPTION_LIMIT = 1024
_PHOTO_LIMIT = 10 * 1024 * 1024
_DOCUMENT_LIMIT = 50 * 1024 * 1024

_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
_QUERY_INVALID = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)


# --------------------------------------------------------------------------- records


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
    # "photo" | "document" | None (a text message)
    media: str | None = None
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


# --------------------------------------------------------------------------- helpers


def _utf16_len(text: str) -> int:
    # Entity offsets and lengths are counted in UTF-16 code units.
    return sum(2 if ord(ch) > 0xFFFF else 1 for ch in text) if not text.isascii() else len(text)


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes"}
    return bool(value)


def _normalize_params(raw: dict[str, Any]) -> JSONDict:
    """Turn form strings into the types a JSON body would have carried."""
    params: JSONDict = {}
    for key, value in raw.items():
        if isinstance(value, str):
            if key in _JSON_FIELDS:
                with contextlib.suppress(ValueError):
                    value = json.loads(value)
            elif key in _INT_FIELDS:
                number = _as_int(value)
                if number is not None:
                    value = number
            elif key in _BOOL_FIELDS:
                value = _as_bool(value)
        params[key] = value
    return params


def _image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG/JPEG/GIF/WEBP/BMP, or None when it is not an image."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data.startswith((b"GIF87a", b"GIF89a")) and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    if data.startswith(b"\xff\xd8\xff"):
        return _jpeg_size(data) or (512, 512)
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return (512, 512)
    if data.startswith(b"BM") and len(data) >= 26:
        width, height = struct.unpack("<ii", data[18:26])
        return abs(int(width)), abs(int(height))
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    index = 2
    while index + 9 < len(data):
        if data[index] != 0xFF:
            return None
        marker = data[index + 1]
        length = int.from_bytes(data[index + 2 : index + 4], "big")
        if marker in (0xC0, 0xC1, 0xC2):
            height = int.from_bytes(data[index + 5 : index + 7], "big")
            width = int.from_bytes(data[index + 7 : index + 9], "big")
            return width, height
        index += 2 + length
    return None


# --------------------------------------------------------------------------- entity parsing


class EntityParseError(Exception):
    pass


_HTML_TAGS = {
    "a": "text_link",
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "u": "underline",
    "ins": "underline",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "tg-emoji": "custom_emoji",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}
_HTML_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _decode_html_entity(text: str, index: int) -> tuple[str, int] | None:
    """Decode `&...;` at index like Telegram's parser: only lt/gt/amp/quot and numeric
    references are entities, the trailing `;` is optional; anything else stays literal."""
    n = len(text)
    end = index + 1
    if end < n and text[end] == "#":
        end += 1
        digits_start = end
        if end < n and text[end] in "xX":
            end += 1
            digits_start = end
            while end < n and text[end] in "0123456789abcdefABCDEF":
                end += 1
            digits = text[digits_start:end]
            code = int(digits, 16) if digits else 0
        else:
            while end < n and text[end].isdigit() and text[end].isascii():
                end += 1
            digits = text[digits_start:end]
            code = int(digits) if digits else 0
        if not digits or code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            return None
        decoded = chr(code)
    else:
        while end < n and text[end].isascii() and text[end].isalpha():
            end += 1
        name = text[index + 1 : end]
        if name not in _HTML_NAMED:
            return None
        decoded = _HTML_NAMED[name]
    if end < n and text[end] == ";":
        end += 1
    return decoded, end - index


def _parse_html(text: str) -> tuple[str, list[JSONDict]]:
    """Telegram's HTML subset: plain text plus entities, or EntityParseError with the
    same wording the Bot API uses (as in tdlib's parse_html)."""
    out: list[str] = []
    pos = 0  # UTF-16 offset in the output
    stack: list[tuple[str, int, dict[str, str], int]] = []
    entities: list[JSONDict] = []
    n = len(text)
    i = 0
    while i < n:
        ch = text[i]
        if ch == "&":
            decoded = _decode_html_entity(text, i)
            if decoded is not None:
                out.append(decoded[0])
                pos += _utf16_len(decoded[0])
                i += decoded[1]
                continue
        if ch != "<":
            out.append(ch)
            pos += 2 if ord(ch) > 0xFFFF else 1
            i += 1
            continue
        begin = i
        i += 1
        if i >= n or text[i] != "/":
            j = i
            while j < n and not text[j].isspace() and text[j] != ">":
                j += 1
            if j >= n:
                raise EntityParseError(
                    f"Unclosed start tag at byte offset {_byte_offset(text, begin)}"
                )
            tag = text[i:j].lower()
            if tag not in _HTML_TAGS:
                raise EntityParseError(
                    f'Unsupported start tag "{tag}" at byte offset {_byte_offset(text, begin)}'
                )
            attrs, j = _parse_html_attributes(text, j, tag, begin)
            if tag == "span" and attrs.get("class") != "tg-spoiler":
                raise EntityParseError(
                    f'Tag "span" must have class "tg-spoiler" at byte offset '
                    f"{_byte_offset(text, begin)}"
                )
            stack.append((tag, pos, attrs, begin))
            i = j + 1
            continue
        # An end tag.
        if not stack:
            raise EntityParseError(
                f"Unexpected end tag at byte offset {_byte_offset(text, begin)}"
            )
        j = i + 1
        while j < n and not text[j].isspace() and text[j] != ">":
            j += 1
        end_name = text[i + 1 : j].lower()
        while j < n and text[j].isspace():
            j += 1
        if j >= n or text[j] != ">":
            raise EntityParseError(f"Unclosed end tag at byte offset {_byte_offset(text, begin)}")
        tag, start, attrs, _ = stack.pop()
        if end_name and end_name != tag:
            raise EntityParseError(
                f"Unmatched end tag at byte offset {_byte_offset(text, begin)}, "
                f'expected "</{tag}>", found "</{end_name}>"'
            )
        i = j + 1
        length = pos - start
        if length <= 0:
            continue
        entity: JSONDict = {"type": _HTML_TAGS[tag], "offset": start, "length": length}
        if tag == "a":
            href = attrs.get("href")
            if not href:
                continue
            entity["url"] = href
        elif tag == "tg-emoji":
            entity["custom_emoji_id"] = attrs.get("emoji-id", "")
        elif tag == "blockquote" and "expandable" in attrs:
            entity["type"] = "expandable_blockquote"
        elif tag == "code" and stack and stack[-1][0] == "pre":
            # <pre><code class="language-x"> is one pre entity with a language.
            language = attrs.get("class", "")
            if language.startswith("language-"):
                stack[-1][2]["language"] = language[len("language-") :]
            continue
        elif tag == "pre" and attrs.get("language"):
            entity["language"] = attrs["language"]
        entities.append(entity)
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return "".join(out), entities


def _parse_html_attributes(text: str, i: int, tag: str, begin: int) -> tuple[dict[str, str], int]:
    n = len(text)
    attrs: dict[str, str] = {}
    offset = _byte_offset(text, begin)
    while i < n and text[i] != ">":
        while i < n and text[i].isspace():
            i += 1
        if i < n and text[i] == ">":
            break
        name_start = i
        while i < n and not text[i].isspace() and text[i] not in "=>":
            i += 1
        name = text[name_start:i].lower()
        if not name:
            raise EntityParseError(
                f'Empty attribute name in the tag "{tag}" at byte offset {offset}'
            )
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            raise EntityParseError(f"Unclosed start tag at byte offset {offset}")
        if text[i] != "=":
            if tag == "blockquote" and name == "expandable":
                attrs[name] = ""
                continue
            raise EntityParseError(
                "Expected equal sign in declaration of an attribute of the tag "
                f'"{tag}" at byte offset {offset}'
            )
        i += 1
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            raise EntityParseError(f"Unclosed start tag at byte offset {offset}")
        if text[i] not in "'\"":
            value_start = i
            while i < n and (text[i].isalnum() or text[i] in ".-"):
                i += 1
            value = text[value_start:i].lower()
            if i < n and not text[i].isspace() and text[i] != ">":
                raise EntityParseError(
                    f"Unexpected end of name token at byte offset {_byte_offset(text, i)}"
                )
        else:
            quote = text[i]
            i += 1
            chars: list[str] = []
            while i < n and text[i] != quote:
                if text[i] == "&":
                    decoded = _decode_html_entity(text, i)
                    if decoded is not None:
                        chars.append(decoded[0])
                        i += decoded[1]
                        continue
                chars.append(text[i])
                i += 1
            if i < n:
                i += 1
            value = "".join(chars)
        if i >= n:
            raise EntityParseError(f"Unclosed start tag at byte offset {offset}")
        attrs[name] = value
    if i >= n:
        raise EntityParseError(f"Unclosed start tag at byte offset {offset}")
    return attrs, i


_MDV2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MDV2_DELIMITERS = {
    "*": ("bold", 1),
    "_": ("italic", 1),
    "__": ("underline", 2),
    "~": ("strikethrough", 1),
    "||": ("spoiler", 2),
}
_MDV2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "text_link": "TextUrl",
}


def _parse_markdown_v2(text: str) -> tuple[str, list[JSONDict]]:
    """MarkdownV2 as documented: reserved characters must be escaped outside entities."""
    out: list[str] = []
    pos = 0
    entities: list[JSONDict] = []
    # (type, start utf16, start index in source)
    stack: list[tuple[str, int, int]] = []
    n = len(text)
    i = 0

    def emit(chars: str) -> None:
        nonlocal pos
        out.append(chars)
        pos += _utf16_len(chars)

    def close(kind: str) -> None:
        _, start, _ = stack.pop()
        if pos > start:
            entities.append({"type": kind, "offset": start, "length": pos - start})

    while i < n:
        ch = text[i]
        top = stack[-1][0] if stack else None
        if ch == "\\" and i + 1 < n and 0 < ord(text[i + 1]) <= 126:
            emit(text[i + 1])
            i += 2
            continue
        if top in ("code", "pre"):
            if top == "pre" and text.startswith("```", i):
                close("pre")
                i += 3
            elif top == "code" and ch == "`":
                close("code")
                i += 1
            else:
                emit(ch)
                i += 1
            continue
        if ch not in _MDV2_RESERVED:
            emit(ch)
            i += 1
            continue
        simple = _MDV2_DELIMITERS.get(text[i : i + 2]) or _MDV2_DELIMITERS.get(ch)
        if ch == "_" and top == "italic":
            # "__" right after italic text closes the italic first, as in tdlib.
            simple = ("italic", 1)
        if simple is not None:
            kind, width = simple
            if top == kind:
                close(kind)
            else:
                stack.append((kind, pos, i))
            i += width
        elif ch == "`":
            if text.startswith("```", i):
                i += 3
                # The rest of the opening line names the language.
                line_end = text.find("\n", i)
                if line_end != -1 and line_end > i and not text[i:line_end].strip(" ").count(" "):
                    i = line_end + 1
                elif line_end == i:
                    i += 1
                stack.append(("pre", pos, i))
            else:
                stack.append(("code", pos, i))
                i += 1
        elif ch == "[":
            stack.append(("text_link", pos, i))
            i += 1
        elif ch == "]" and top == "text_link":
            _, start, _ = stack.pop()
            i += 1
            url = ""
            if i < n and text[i] == "(":
                i += 1
                url_chars: list[str] = []
                while i < n and text[i] != ")":
                    if text[i] == "\\" and i + 1 < n:
                        i += 1
                    url_chars.append(text[i])
                    i += 1
                if i >= n:
                    raise EntityParseError(
                        f"Can't find end of a url at byte offset {_byte_offset(text, i)}"
                    )
                i += 1
                url = "".join(url_chars)
            if url and pos > start:
                entities.append(
                    {"type": "text_link", "offset": start, "length": pos - start, "url": url}
                )
        elif ch == ">" and (i == 0 or text[i - 1] == "\n"):
            # A blockquote line; the marker itself is not part of the text.
            line_end = text.find("\n", i)
            stack_start = pos
            i += 1
            rest, sub = _parse_markdown_v2(text[i : line_end if line_end != -1 else n])
            for entity in sub:
                entity["offset"] += stack_start
                entities.append(entity)
            emit(rest)
            if pos > stack_start:
                entities.append(
                    {"type": "blockquote", "offset": stack_start, "length": pos - stack_start}
                )
            i = line_end if line_end != -1 else n
        else:
            raise EntityParseError(
                f"Character '{ch}' is reserved and must be escaped with the preceding '\\'"
            )
    if stack:
        kind, _, source_index = stack[-1]
        raise EntityParseError(
            f"Can't find end of {_MDV2_NAMES.get(kind, kind)} entity at byte offset "
            f"{_byte_offset(text, source_index)}"
        )
    return "".join(out), entities


def _parse_markdown_legacy(text: str) -> tuple[str, list[JSONDict]]:
    """The legacy Markdown mode: no nesting, only _ * ` [ are special."""
    out: list[str] = []
    pos = 0
    entities: list[JSONDict] = []
    n = len(text)
    i = 0
    kinds = {"*": "bold", "_": "italic", "`": "code"}
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n and text[i + 1] in "_*`[":
            out.append(text[i + 1])
            pos += 1
            i += 2
            continue
        if ch not in "_*`[":
            out.append(ch)
            pos += 2 if ord(ch) > 0xFFFF else 1
            i += 1
            continue
        unclosed = f"Can't find end of the entity starting at byte offset {_byte_offset(text, i)}"
        if ch == "[":
            close = text.find("]", i + 1)
            if close == -1:
                raise EntityParseError(unclosed)
            label = text[i + 1 : close]
            url = ""
            i = close + 1
            if i < n and text[i] == "(":
                url_end = text.find(")", i)
                if url_end != -1:
                    url = text[i + 1 : url_end]
                    i = url_end + 1
            out.append(label)
            length = _utf16_len(label)
            if url and length:
                entities.append({"type": "text_link", "offset": pos, "length": length, "url": url})
            pos += length
            continue
        marker = "```" if text.startswith("```", i) else ch
        end = text.find(marker, i + len(marker))
        if end == -1:
            raise EntityParseError(unclosed)
        inner = text[i + len(marker) : end]
        out.append(inner)
        length = _utf16_len(inner)
        if length:
            kind = "pre" if marker == "```" else kinds[ch]
            entities.append({"type": kind, "offset": pos, "length": length})
        pos += length
        i = end + len(marker)
    return "".join(out), entities


_WHITESPACE = " \t\r\n"


def _strip_text(text: str, entities: list[JSONDict]) -> tuple[str, list[JSONDict]]:
    """Telegram trims surrounding whitespace from message texts, moving entities along."""
    stripped_left = text.lstrip(_WHITESPACE)
    shift = _utf16_len(text[: len(text) - len(stripped_left)])
    result = stripped_left.rstrip(_WHITESPACE)
    total = _utf16_len(result)
    if not shift and total == _utf16_len(text):
        return text, entities
    fixed: list[JSONDict] = []
    for entity in entities:
        start = max(0, entity["offset"] - shift)
        end = min(total, entity["offset"] + entity["length"] - shift)
        if end > start:
            fixed.append({**entity, "offset": start, "length": end - start})
    return result, fixed


def parse_formatted(
    text: str, parse_mode: str | None, entities: Any = None
) -> tuple[str, list[JSONDict]]:
    """Plain text and entities of a text/caption, as Telegram would store them."""
    mode = (parse_mode or "").strip().lower()
    if mode == "html":
        plain, parsed = _parse_html(text)
    elif mode == "markdownv2":
        plain, parsed = _parse_markdown_v2(text)
    elif mode == "markdown":
        plain, parsed = _parse_markdown_legacy(text)
    elif mode:
        raise ApiError(400, "Bad Request: unsupported parse_mode")
    else:
        plain = text
        parsed = [dict(e) for e in entities] if isinstance(entities, list) else []
    parsed.sort(key=lambda e: (e["offset"], -e["length"]))
    return _strip_text(plain, parsed)


# --------------------------------------------------------------------------- the server


Handler = Callable[[JSONDict, dict[str, Upload]], Awaitable[Any]]


class FakeTelegram:
    """An in-memory Telegram Bot API server on 127.0.0.1 (see the module docstring)."""

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
        # Telegram treats method names case-insensitively.
        self._methods: dict[str, tuple[str, Handler]] = {
            name.lower(): (name, handler) for name, handler in handlers
        }

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

    # ------------------------------------------------------------------ users and chats

    @property
    def bot_user(self) -> JSONDict:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

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

    def block(self, user_id: int) -> None:
        """The user blocks the bot: later sends to their chat answer 403 until the user
        writes to the bot again (send_text / share_contact unblock, as Telegram apps do)."""
        self._require_user(user_id).blocked = True

    def unblock(self, user_id: int) -> None:
        self._require_user(user_id).blocked = False

    def deactivate(self, user_id: int) -> None:
        """The user deletes their account: sends answer 403 'user is deactivated'."""
        self._require_user(user_id).deactivated = True

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

    def queue_update(self, payload: JSONDict) -> JSONDict:
        """Queue an arbitrary update (e.g. {"my_chat_member": {...}}); assigns update_id."""
        update: JSONDict = {"update_id": self._next_update_id, **payload}
        self._next_update_id += 1
        self._pending[update["update_id"]] = update
        self.updates.append(update)
        if self._webhook is not None:
            self._webhook_queue.append(update["update_id"])
            self._webhook_wakeup.set()
        else:
            self._wake_poller("update")
        return update

    def redeliver(self, update_id: int) -> JSONDict:
        """Push an already acknowledged update to the webhook again, as Telegram does
        when the bot's answer came too late or was lost on the way."""
        if self._webhook is None:
            raise RuntimeError("redelivery happens only to a webhook; none is set")
        update = next((u for u in self.updates if u["update_id"] == update_id), None)
        if update is None:
            raise KeyError(f"no update {update_id} was ever queued")
        self._pending[update_id] = update
        self._webhook_queue.append(update_id)
        self._webhook_wakeup.set()
        return update

    @property
    def webhook_url(self) -> str | None:
        """The URL the bot registered with setWebhook (None in polling mode)."""
        return self._webhook.url if self._webhook is not None else None

    async def wait_for_webhook_delivery(
        self,
        update_id: int,
        *,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - the same signature as the other waits
    ) -> WebhookDelivery:
        """Wait until the webhook has answered `update_id` `count` times (any status)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            done = [d for d in self.webhook_deliveries if d.update_id == update_id]
            if len(done) >= count:
                return done[count - 1]
            if loop.time() >= deadline:
                raise AssertionError(
                    f"update {update_id} was answered {len(done)} times, not {count}, "
                    f"within {timeout}s"
                )
            await asyncio.sleep(0.01)

    @property
    def pending_updates(self) -> list[JSONDict]:
        """Updates not yet confirmed by getUpdates offset / acknowledged by the webhook."""
        return list(self._pending.values())

    # ------------------------------------------------------------------ inspecting the bot

    def messages_to(self, chat_id: int) -> list[SentMessage]:
        return list(self._sent_by_chat.get(chat_id, ()))

    def message(self, chat_id: int, message_id: int) -> SentMessage:
        found = self._sent_index.get((chat_id, message_id))
        if found is None:
            raise KeyError(f"the bot sent no message {message_id} to chat {chat_id}")
        return found

    def _canonical(self, method: str) -> str:
        known = self._methods.get(method.lower())
        return known[0] if known else method

    def calls(self, method: str) -> list[RecordedRequest]:
        canonical = self._canonical(method)
        return list(self._calls_by_method.get(canonical, ()))

    def commands(self, scope: JSONDict | None = None, language_code: str = "") -> list[JSONDict]:
        """Commands stored by setMyCommands for a scope (default scope when None)."""
        return list(self._commands.get(self._commands_key(scope, language_code), []))

    def dump(self, limit: int = 20) -> str:
        recent = self.sent[-limit:]
        if not recent:
            return "  (the bot sent no messages)"
        return "\n".join("  " + message.describe() for message in recent)

    async def wait_for(
        self,
        predicate: Callable[[SentMessage], bool],
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - the documented helper signature
        since: int = 0,
    ) -> SentMessage:
        """Wait until a message (new or edited, in its current state) matches.

        `since` skips messages with seq < since (pass len(fake.sent) taken earlier to
        wait only for newer ones)."""
        for message in self.sent[since:]:
            if predicate(message):
                return message
        future: asyncio.Future[SentMessage] = asyncio.get_running_loop().create_future()
        waiter = (predicate, future, since)
        self._waiters.append(waiter)
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise AssertionError(
                f"no matching message within {timeout}s; recent messages:\n{self.dump()}"
            ) from None
        finally:
            self._waiters.remove(waiter)

    async def wait_for_message(
        self,
        chat_id: int,
        *,
        text_contains: str | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 - the documented helper signature
        since: int = 0,
    ) -> SentMessage:
        """Wait for a live (not deleted) message in chat_id, optionally containing a text."""

        def matches(message: SentMessage) -> bool:
            return (
                message.chat_id == chat_id
                and not message.deleted
                and (text_contains is None or text_contains in message.text)
            )

        try:
            return await self.wait_for(matches, timeout=timeout, since=since)
        except AssertionError as error:
            wanted = f" containing {text_contains!r}" if text_contains is not None else ""
            raise AssertionError(f"chat {chat_id}: no message{wanted}. {error}") from None

    async def wait_for_call(
        self,
        method: str,
        predicate: Callable[[RecordedRequest], bool] | None = None,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - the documented helper signature
    ) -> RecordedRequest:
        """Wait until the bot calls `method` (answered, ok or not), optionally matching."""
        canonical = self._canonical(method)
        for request in self._calls_by_method.get(canonical, ()):
            if request.ok is not None and (predicate is None or predicate(request)):
                return request
        future: asyncio.Future[RecordedRequest] = asyncio.get_running_loop().create_future()
        waiter = (canonical, predicate, future)
        self._call_waiters.append(waiter)
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            recent = ", ".join(r.method for r in self.requests[-20:])
            raise AssertionError(
                f"the bot did not call {canonical} within {timeout}s; recent calls: {recent}"
            ) from None
        finally:
            self._call_waiters.remove(waiter)

    def _notify(self, message: SentMessage) -> None:
        for predicate, future, since in self._waiters:
            if future.done() or message.seq < since:
                continue
            try:
                if predicate(message):
                    future.set_result(message)
            except Exception as error:  # surfaced in the waiting test, not in the server
                future.set_exception(error)

    def _notify_call(self, request: RecordedRequest) -> None:
        for method, predicate, future in self._call_waiters:
            if future.done() or method != request.method:
                continue
            try:
                if predicate is None or predicate(request):
                    future.set_result(request)
            except Exception as error:
                future.set_exception(error)

    # ------------------------------------------------------------------ fault injection

    def fail_next(
        self,
        method: str,
        *,
        error_code: int,
        description: str,
        retry_after: int | None = None,
        chat_id: int | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next `times` calls of method (for chat_id, if given) with this error."""
        canonical = self._canonical(method)
        self._failures.setdefault(canonical, []).append(
            _Failure(error_code, description, retry_after, chat_id, times)
        )

    def set_rate_limits(
        self,
        *,
        global_per_second: float | None = 30,
        per_chat_per_second: float | None = 1,
        per_group_per_minute: float | None = 20,
    ) -> None:
        """Enable Telegram-like flood control (None disables one rule)."""
        self._rate = _RateLimits(global_per_second, per_chat_per_second, per_group_per_minute)
        self._global_hits.clear()
        self._chat_hits.clear()

    def disable_rate_limits(self) -> None:
        self._rate = None

    def _take_failure(self, method: str, params: JSONDict) -> _Failure | None:
        failures = self._failures.get(method)
        if not failures:
            return None
        chat_id = _as_int(params.get("chat_id"))
        for failure in failures:
            if failure.chat_id is None or failure.chat_id == chat_id:
                failure.times -= 1
                if failure.times <= 0:
                    failures.remove(failure)
                return failure
        return None

    @staticmethod
    def _window(limit: float, window: float) -> tuple[int, float]:
        # A limit below one per window means one per (window / limit).
        if limit >= 1:
            return math.floor(limit), window
        return 1, window / limit

    def _rate_rules(
        self, chat_id: int, counts_global: bool
    ) -> list[tuple[deque[float], int, float]]:
        limits = self._rate
        if limits is None:
            return []
        rules: list[tuple[deque[float], int, float]] = []
        if counts_global and limits.global_per_second is not None:
            rules.append((self._global_hits, *self._window(limits.global_per_second, 1.0)))
        per_chat = limits.per_group_per_minute if chat_id < 0 else limits.per_chat_per_second
        if per_chat is not None:
            hits = self._chat_hits.setdefault(chat_id, deque())
            window = 60.0 if chat_id < 0 else 1.0
            rules.append((hits, *self._window(per_chat, window)))
        return rules

    def _check_rate(self, chat_id: int, *, counts_global: bool) -> list[deque[float]]:
        """Raise 429 when the send would exceed a limit; else return the windows to record in."""
        rules = self._rate_rules(chat_id, counts_global)
        if not rules:
            return []
        now = self._clock()
        wait = 0.0
        limited = False
        for hits, count, window in rules:
            while hits and hits[0] <= now - window:
                hits.popleft()
            if len(hits) >= count:
                limited = True
                # The window frees when the oldest hit that keeps it full leaves it.
                wait = max(wait, hits[len(hits) - count] + window - now)
        if limited:
            self.too_many_requests += 1
            retry_after = max(1, math.ceil(wait))
            raise ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)
        return [hits for hits, _, _ in rules]

    def _record_rate(self, windows: list[deque[float]]) -> None:
        if windows:
            now = self._clock()
            for hits in windows:
                hits.append(now)

    # ------------------------------------------------------------------ HTTP layer

    async def _handle(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        method = request.match_info["method"]
        raw: dict[str, Any] = dict(request.query)
        files: dict[str, Upload] = {}
        if request.method == "POST" and request.body_exists:
            try:
                await self._read_body(request, raw, files)
            except ApiError as error:
                return self._error_response(error)
        if token != self.token:
            status, body = 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
            self._record(method, _normalize_params(raw), files, status, body, via="http")
            return self._json_response(status, body)
        status, body = await self._dispatch(method, _normalize_params(raw), files, via="http")
        return self._json_response(status, body)

    async def _read_body(
        self, request: web.Request, raw: dict[str, Any], files: dict[str, Upload]
    ) -> None:
        content_type = request.content_type
        if content_type == "application/json":
            try:
                body = json.loads(await request.text())
            except ValueError:
                raise ApiError(400, "Bad Request: can't parse JSON") from None
            if not isinstance(body, dict):
                raise ApiError(400, "Bad Request: can't parse JSON")
            raw.update(body)
        elif content_type == "multipart/form-data":
            # Read parts directly: request.post() would spool files to temp files.
            reader = await request.multipart()
            while True:
                part = await reader.next()
                if part is None:
                    break
                if not isinstance(part, aiohttp.BodyPartReader) or part.name is None:
                    continue
                data = await part.read(decode=True)
                if part.filename is not None:
                    files[part.name] = Upload(
                        part.name, part.filename, bytes(data), part.headers.get("Content-Type")
                    )
                else:
                    raw[part.name] = bytes(data).decode(part.get_charset("utf-8"))
        elif content_type == "application/x-www-form-urlencoded":
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, str):
                    raw[key] = value

    @staticmethod
    def _json_response(status: int, body: JSONDict) -> web.Response:
        return web.Response(
            status=status,
            body=json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode(),
            content_type="application/json",
        )

    def _error_response(self, error: ApiError) -> web.Response:
        return self._json_response(error.error_code, self._error_body(error))

    @staticmethod
    def _error_body(error: ApiError) -> JSONDict:
        body: JSONDict = {
            "ok": False,
            "error_code": error.error_code,
            "description": error.description,
        }
        parameters = {
            "retry_after": error.retry_after,
            "migrate_to_chat_id": error.migrate_to_chat_id,
        }
        if any(value is not None for value in parameters.values()):
            body["parameters"] = {k: v for k, v in parameters.items() if v is not None}
        return body

    def _record(
        self,
        method: str,
        params: JSONDict,
        files: dict[str, Upload],
        status: int,
        body: JSONDict,
        *,
        via: str,
    ) -> RecordedRequest:
        request = RecordedRequest(method, params, self._clock(), files, via=via)
        request.ok = bool(body.get("ok"))
        if not request.ok:
            request.error_code = status
            request.description = body.get("description")
        self.requests.append(request)
        self._calls_by_method.setdefault(method, []).append(request)
        if self._call_waiters:
            self._notify_call(request)
        return request

    async def _dispatch(
        self, method: str, params: JSONDict, files: dict[str, Upload], *, via: str
    ) -> tuple[int, JSONDict]:
        known = self._methods.get(method.lower())
        name = known[0] if known else method
        # Record before running so a long poll shows up while it waits; fill the outcome later.
        request = RecordedRequest(name, params, self._clock(), files, via=via)
        self.requests.append(request)
        self._calls_by_method.setdefault(name, []).append(request)
        status, body = await self._run(name, known, params, files)
        request.ok = bool(body.get("ok"))
        if not request.ok:
            request.error_code = status
            request.description = body.get("description")
        if self._call_waiters:
            self._notify_call(request)
        return status, body

    async def _run(
        self,
        name: str,
        known: tuple[str, Handler] | None,
        params: JSONDict,
        files: dict[str, Upload],
    ) -> tuple[int, JSONDict]:
        failure = self._take_failure(name, params)
        if failure is not None:
            error = ApiError(failure.error_code, failure.description, failure.retry_after)
            return error.error_code, self._error_body(error)
        if known is None:
            logger.info("fake telegram: unimplemented method %s", name)
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        try:
            result = await known[1](params, files)
        except ApiError as error:
            return error.error_code, self._error_body(error)
        except EntityParseError as error:
            return 400, {
                "ok": False,
                "error_code": 400,
                "description": f"Bad Request: can't parse entities: {error}",
            }
        if isinstance(result, _WithDescription):
            return 200, {"ok": True, "result": result.result, "description": result.description}
        return 200, {"ok": True, "result": result}

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self._json_response(
                401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
            )
        stored = self._files_by_path.get(request.match_info["path"])
        if stored is None or stored.data is None:
            return self._json_response(
                404, {"ok": False, "error_code": 404, "description": "Not Found"}
            )
        return web.Response(
            body=stored.data, content_type=stored.mime_type or "application/octet-stream"
        )

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

    # ------------------------------------------------------------------ files

    def _store_file(
        self,
        kind: str,
        data: bytes | None,
        filename: str | None,
        mime_type: str | None,
        size: tuple[int, int] = (0, 0),
        url: str | None = None,
    ) -> _StoredFile:
        number = next(self._file_counter)
        digest = hashlib.sha1(data or (url or "").encode(), usedforsecurity=False).hexdigest()
        extension = mimetypes.guess_extension(mime_type or "") or ""
        if filename and "." in filename:
            extension = "." + filename.rsplit(".", 1)[1]
        stored = _StoredFile(
            file_id=f"{kind[:3].upper()}{number:08d}{digest[:24]}",
            unique_id=f"U{digest[:15]}",
            kind=kind,
            data=data,
            filename=filename,
            mime_type=mime_type,
            path=f"{kind}s/file_{number}{extension}",
            url=url,
            width=size[0],
            height=size[1],
        )
        self._files[stored.file_id] = stored
        self._files_by_path[stored.path] = stored
        return stored

    @staticmethod
    def _photo_size(stored: _StoredFile) -> JSONDict:
        size: JSONDict = {
            "file_id": stored.file_id,
            "file_unique_id": stored.unique_id,
            "width": stored.width or 512,
            "height": stored.height or 512,
        }
        if stored.data is not None:
            size["file_size"] = len(stored.data)
        return size

    @staticmethod
    def _document_dict(stored: _StoredFile) -> JSONDict:
        document: JSONDict = {"file_id": stored.file_id, "file_unique_id": stored.unique_id}
        if stored.filename:
            document["file_name"] = stored.filename
        if stored.mime_type:
            document["mime_type"] = stored.mime_type
        if stored.data is not None:
            document["file_size"] = len(stored.data)
        return document

    def _input_file(self, params: JSONDict, files: dict[str, Upload], kind: str) -> _StoredFile:
        value = params.get(kind)
        upload: Upload | None = None
        if isinstance(value, str) and value.startswith("attach://"):
            upload = files.get(value[len("attach://") :])
            if upload is None:
                raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        elif (value is None or value == "") and kind in files:
            upload = files[kind]
        elif isinstance(value, str) and value:
            known = self._files.get(value)
            if known is not None:
                return known
            if value.startswith(("http://", "https://")):
                return self._store_file(kind, None, value.rsplit("/", 1)[-1], None, url=value)
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        else:
            raise ApiError(400, f"Bad Request: there is no {kind} in the request")
        if not upload.data:
            raise ApiError(400, "Bad Request: file must be non-empty")
        if kind == "photo":
            if len(upload.data) > _PHOTO_LIMIT:
                raise ApiError(400, "Bad Request: PHOTO_INVALID_DIMENSIONS")
            size = _image_size(upload.data)
            if size is None:
                raise ApiError(400, "Bad Request: IMAGE_PROCESS_FAILED")
            return self._store_file(kind, upload.data, upload.filename, "image/jpeg", size)
        if len(upload.data) > _DOCUMENT_LIMIT:
            raise ApiError(413, "Request Entity Too Large")
        mime = mimetypes.guess_type(upload.filename or "")[0] or "application/octet-stream"
        return self._store_file(kind, upload.data, upload.filename, mime)

    # ------------------------------------------------------------------ methods: bot & updates

    async def _get_me(self, params: JSONDict, files: dict[str, Upload]) -> Any:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _allowed_types(self, allowed: list[str] | None) -> Callable[[str], bool]:
        if allowed:
            allowed_set = frozenset(allowed)
            return lambda kind: kind in allowed_set
        return lambda kind: kind not in _OPT_IN_UPDATES

    @staticmethod
    def _update_type(update: JSONDict) -> str:
        return next((key for key in update if key != "update_id"), "")

    def _collect_updates(self, limit: int) -> list[JSONDict]:
        allowed = self._allowed_types(self._allowed_updates)
        result: list[JSONDict] = []
        dropped: list[int] = []
        for update_id, update in self._pending.items():
            if not allowed(self._update_type(update)):
                # Telegram never creates updates of types the bot did not ask for.
                dropped.append(update_id)
                continue
            result.append(update)
            if len(result) >= limit:
                break
        for update_id in dropped:
            del self._pending[update_id]
        return result

    def _wake_poller(self, reason: str) -> None:
        waiter = self._poll_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(reason)

    async def _get_updates(self, params: JSONDict, files: dict[str, Upload]) -> Any:
        if self._webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = _as_int(params.get("offset")) or 0
        limit = min(100, max(1, _as_int(params.get("limit")) or 100))
        timeout = max(0, _as_int(params.get("timeout")) or 0)
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = [str(kind) for kind in allowed]
        # A newer getUpdates terminates the one still waiting, like on Telegram.
        self._wake_poller("conflict")
        # Confirm: updates below offset are forgotten; a negative offset keeps the last -offset.
        if offset > 0:
            while self._pending and next(iter(self._pending)) < offset:
                self._pending.popitem(last=False)
        elif offset < 0:
            while len(self._pending) > -offset:
                self._pending.popitem(last=False)
        updates = self._collect_updates(limit)
        if updates or timeout == 0 or self._closed:
            return updates
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not updates:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            waiter: asyncio.Future[str] = loop.create_future()
            self._poll_waiter = waiter
            try:
                done, _ = await asyncio.wait({waiter}, timeout=remaining)
            finally:
                if self._poll_waiter is waiter:
                    self._poll_waiter = None
            reason = waiter.result() if done else "timeout"
            if not done:
                waiter.cancel()
            if reason == "conflict":
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            if reason == "webhook":
                raise ApiError(409, "Conflict: terminated by setWebhook request")
            if reason in ("closed", "timeout"):
                break
            updates = self._collect_updates(limit)
        return updates

    async def _set_webhook(self, params: JSONDict, files: dict[str, Upload]) -> Any:
        url = str(params.get("url") or "")
        if not url:
            return await self._delete_webhook(params, files)
        if not url.startswith(("http://", "https://")):
            raise ApiError(
                400,
                "Bad Request: bad webhook: Webhook can be set up only on ports "
                "80, 88, 443 or 8443",
            )
        secret = params.get("secret_token")
        if secret is not None and secret != "" and not _SECRET_RE.match(str(secret)):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        max_connections = _as_int(params.get("max_connections")) or 40
        if not 1 <= max_connections <= 100:
            raise ApiError(400, "Bad Request: bad webhook: invalid max_connections")
        allowed = params.get("allowed_updates")
        allowed_list = [str(k) for k in allowed] if isinstance(allowed, list) else None
        if allowed_list is None and self._webhook is not None:
            allowed_list = self._webhook.allowed_updates
        if params.get("drop_pending_updates"):
            self._pending.clear()
        await self._stop_webhook_pusher()
        self._wake_poller("webhook")
        self._webhook = _Webhook(
            url, str(secret) if secret else None, max_connections, allowed_list
        )
        self._webhook_last_error = None
        self._webhook_queue = deque(self._pending)
        self._webhook_wakeup = asyncio.Event()
        self._webhook_wakeup.set()
        self._webhook_task = asyncio.create_task(self._webhook_pusher(self._webhook))
        return _WithDescription(True, "Webhook was set")

    async def _delete_webhook(self, params: JSONDict, files: dict[str, Upload]) -> Any:
        had_webhook = self._webhook is not None
        await self._stop_webhook_pusher()
        self._webhook = None
        self._webhook_queue.clear()
        if params.get("drop_pending_updates"):
            self._pending.clear()
        return _WithDescription(
            True, "Webhook was deleted" if had_webhook else "Webhook is already deleted"
        )

    async def _get_webhook_info(self, params: JSONDict, files: dict[str, Upload]) -> Any:
        hook = self._webhook
        info: JSONDict = {
            "url": hook.url if hook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if hook is not None:
            info["max_connections"] = hook.max_connections
            info["ip_address"] = "127.0.0.1"
            if hook.allowed_updates is not None:
                info["allowed_updates"] = hook.allowed_updates
            if self._webhook_last_error is not None:
                info["last_error_date"] = self._webhook_last_error[0]
                info["last_error_message"] = self._webhook_last_error[1]
        return info

    async def _stop_webhook_pusher(self) -> None:
        task, self._webhook_task = self._webhook_task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _webhook_pusher(self, hook: _Webhook) -> None:
        """Push pending updates to the webhook, up to max_connections at a time."""
        slots = asyncio.Semaphore(hook.max_connections)
        in_flight: set[asyncio.Task[None]] = set()
        allowed = self._allowed_types(hook.allowed_updates)
        try:
            while True:
                await self._webhook_wakeup.wait()
                self._webhook_wakeup.clear()
                while self._webhook_queue:
                    update_id = self._webhook_queue.popleft()
                    update = self._pending.get(update_id)
                    if update is None:
                        continue
                    if not allowed(self._update_type(update)):
                        del self._pending[update_id]
                        continue
                    await slots.acquire()
                    task = asyncio.create_task(self._deliver(hook, update, slots))
                    in_flight.add(task)
                    task.add_done_callback(in_flight.discard)
        finally:
            for task in list(in_flight):
                task.cancel()
            if in_flight:
                await asyncio.gather(*in_flight, return_exceptions=True)

    async def _deliver(self, hook: _Webhook, update: JSONDict, slots: asyncio.Semaphore) -> None:
        update_id = update["update_id"]
        headers = {"Content-Type": "application/json"}
        if hook.secret_token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = hook.secret_token
        status: int | None = None
        error: str | None = None
        reply: tuple[JSONDict, dict[str, Upload]] | None = None
        try:
            assert self._client is not None
            async with self._client.post(
                hook.url,
                data=json.dumps(update, ensure_ascii=False).encode(),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.webhook_timeout),
            ) as response:
                status = response.status
                if 200 <= status < 300:
                    reply = await self._read_webhook_reply(response)
                else:
                    error = f"Wrong response from the webhook: {status} {response.reason}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            error = f"Connection error: {type(exc).__name__}: {exc}"
        finally:
            slots.release()
        self.webhook_deliveries.append(WebhookDelivery(update_id, status, error, self._clock()))
        if error is None:
            self._pending.pop(update_id, None)
            if reply is not None:
                await self._dispatch(
                    reply[0].pop("method"), reply[0], reply[1], via="webhook_reply"
                )
            return
        self._webhook_last_error = (int(self._wall_clock()), error)
        # Telegram keeps retrying a failed update; later ones are not held back by it.
        await asyncio.sleep(self.webhook_retry_delay)
        if self._webhook is hook and update_id in self._pending:
            self._webhook_queue.appendleft(update_id)
            self._webhook_wakeup.set()

    @staticmethod
    async def _read_webhook_reply(
        response: aiohttp.ClientResponse,
    ) -> tuple[JSONDict, dict[str, Upload]] | None:
        """A webhook may answer with a method call (aiogram does with handle_in_background
        off); Telegram executes it without returning the result."""
        content_type = response.content_type
        raw: dict[str, Any] = {}
        files: dict[str, Upload] = {}
        if content_type == "application/json":
            with contextlib.suppress(ValueError, aiohttp.ContentTypeError):
                body = await response.json()
                if isinstance(body, dict):
                    raw.update(body)
        elif content_type == "multipart/form-data":
            reader = aiohttp.MultipartReader(response.headers, response.content)
            while True:
                part = await reader.next()
                if part is None:
                    break
                if not isinstance(part, aiohttp.BodyPartReader) or part.name is None:
                    continue
                data = bytes(await part.read(decode=True))
                if part.filename is not None:
                    files[part.name] = Upload(part.name, part.filename, data)
                else:
                    raw[part.name] = data.decode(part.get_charset("utf-8"))
        if not isinstance(raw.get("method"), str):
            return None
        return _normalize_params(raw), files

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
        if "photo" in source or "document" in source:
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
        if message.media and "caption" in params:
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

    # ------------------------------------------------------------------ methods: the rest

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
        key = self._commands_key(params.get("scope"), params.get("language_code"))
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

    async def _get_file(self, params: JSONDict, files: dict[str, Upload]) -> Any:
        stored = self._files.get(str(params.get("file_id") or ""))
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        result: JSONDict = {
            "file_id": stored.file_id,
            "file_unique_id": stored.unique_id,
            "file_path": stored.path,
        }
        if stored.data is not None:
            result["file_size"] = len(stored.data)
        return result

    async def _close_method(self, params: JSONDict, files: dict[str, Upload]) -> Any:
        return True

    def _make_setting_handler(self, name: str) -> Handler:
        async def handler(params: JSONDict, files: dict[str, Upload]) -> Any:
            self.settings[name] = params
            return True

        return handler


# --------------------------------------------------------------------------- standalone


async def _serve(args: argparse.Namespace) -> None:
    # A Telegram token starts with the bot's id.
    prefix = args.token.split(":", 1)[0]
    bot_id = int(prefix) if prefix.isdigit() else 123456
    fake = FakeTelegram(args.token, bot_username=args.bot_username, bot_id=bot_id)
    for user_id in args.user:
        fake.user(user_id)
    for chat_id in args.group:
        fake.group(chat_id)
    await fake.start(port=args.port, host=args.host)
    print(f"fake Telegram Bot API at {fake.url} (token {fake.token})", flush=True)
    print(
        f"  drive it: curl -X POST '{fake.url}/_fake/send_text?user_id=1&text=/start'; "
        f"see: {fake.url}/_fake/sent",
        flush=True,
    )
    try:
        await asyncio.Event().wait()
    finally:
        await fake.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fake Telegram Bot API server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default="123456:TEST-TOKEN")
    parser.add_argument("--bot-username", default="otklik_test_bot")
    parser.add_argument("--user", type=int, action="append", default=[], help="register a user")
    parser.add_argument("--group", type=int, action="append", default=[], help="register a group")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
