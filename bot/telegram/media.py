"""What a customer's non-text message was, as the one-line label stored in its place.

A voice message, photo, video, video note, audio, animation, document or sticker
given as a survey's reason, sent into a case or as unprompted feedback is kept as its
label (the media itself reaches the managers as a copy, never stored by us):

    [voice 0:12]            [video 1:02:03]          [video note 0:08]
    [photo]                 [photo] caption text     [document name.pdf]
    [audio 3:01]            [animation]              [sticker 😀]

The duration is m:ss (h:mm:ss from an hour); a caption follows the label after one
space; a document's name and a sticker's emoji are the customer's, cut to
`NAME_MAX` characters and freed of control characters. The labels are not
translated: they are data, read alike by every manager and export.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aiogram.types import Message

# The content types a customer's message may carry that we take, in the order they
# are looked at (an animation also carries a `document`: it is seen first).
MEDIA_TYPES = (
    "voice",
    "video_note",
    "video",
    "animation",
    "audio",
    "photo",
    "sticker",
    "document",
)
NAME_MAX = 100
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


@dataclass(frozen=True, slots=True)
class Media:
    """A customer's media message: its kind, its label (with the caption), and where
    it is, for copying (copyMessage needs the chat and the message id)."""

    kind: str
    label: str
    chat_id: int
    message_id: int


def duration_text(seconds: int) -> str:
    """0:12, 12:05, 1:02:03."""
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _clean(value: str | None) -> str:
    return _CONTROL.sub(" ", value or "").strip()[:NAME_MAX].strip()


def label_of(message: Message) -> str | None:
    """The label of a media message (caption included), None for any other message."""
    kind = next((name for name in MEDIA_TYPES if getattr(message, name, None)), None)
    if kind is None:
        return None
    head = kind.replace("_", " ")
    if kind == "voice" and message.voice is not None:
        head = f"voice {duration_text(message.voice.duration)}"
    elif kind == "video_note" and message.video_note is not None:
        head = f"video note {duration_text(message.video_note.duration)}"
    elif kind == "video" and message.video is not None:
        head = f"video {duration_text(message.video.duration)}"
    elif kind == "audio" and message.audio is not None:
        head = f"audio {duration_text(message.audio.duration)}"
    elif kind == "document" and message.document is not None:
        name = _clean(message.document.file_name)
        head = f"document {name}" if name else "document"
    elif kind == "sticker" and message.sticker is not None:
        emoji = _clean(message.sticker.emoji)
        head = f"sticker {emoji}" if emoji else "sticker"
    caption = (message.caption or "").strip()
    return f"[{head}] {caption}" if caption else f"[{head}]"


def has_media(message: Message) -> bool:
    """A message filter: the message carries one of MEDIA_TYPES."""
    return label_of(message) is not None


def media_of(message: Message) -> Media | None:
    """The message as Media, or None when it carries none of MEDIA_TYPES."""
    label = label_of(message)
    if label is None:
        return None
    kind = next(name for name in MEDIA_TYPES if getattr(message, name, None))
    return Media(kind, label, message.chat.id, message.message_id)
