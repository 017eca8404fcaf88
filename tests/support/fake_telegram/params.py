"""Request parameters: form strings turned into the types a JSON body would carry."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from tests.support.fake_telegram.models import JSONDict

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
