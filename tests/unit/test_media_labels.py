"""The labels a customer's media messages are stored as (bot/telegram/media.py)."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram.types import Message

from bot.telegram.media import duration_text, label_of, media_of

FILE = {"file_id": "F1", "file_unique_id": "U1"}


def message(**content: Any) -> Message:
    return Message.model_validate(
        {"message_id": 7, "date": 0, "chat": {"id": 501, "type": "private"}, **content}
    )


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "0:00"), (12, "0:12"), (725, "12:05"), (3723, "1:02:03")]
)
def test_durations(seconds: int, text: str) -> None:
    assert duration_text(seconds) == text


def test_labels_and_captions() -> None:
    photo = [{**FILE, "width": 1, "height": 1}]
    assert label_of(message(photo=photo)) == "[photo]"
    assert label_of(message(photo=photo, caption="  cold tea ")) == "[photo] cold tea"
    assert label_of(message(document=FILE)) == "[document]"
    named = {**FILE, "file_name": "bad\nname.pdf"}
    assert label_of(message(document=named)) == "[document bad name.pdf]"
    sticker = {**FILE, "type": "regular", "width": 1, "height": 1}
    sticker.update(is_animated=False, is_video=False)
    assert label_of(message(sticker=sticker)) == "[sticker]"
    assert label_of(message(sticker={**sticker, "emoji": "😀"})) == "[sticker 😀]"
    assert label_of(message(voice={**FILE, "duration": 12})) == "[voice 0:12]"
    assert label_of(message(text="hello")) is None
    found = media_of(message(video_note={**FILE, "length": 1, "duration": 8}))
    assert found is not None
    assert (found.kind, found.label, found.chat_id, found.message_id) == (
        "video_note",
        "[video note 0:08]",
        501,
        7,
    )
