"""The translation layer: Fluent bundles for ru, uk and en, one .ftl file per feature.

Every text a customer or manager reads is looked up here by key. Files live in
`bot/locales/<lang>/<feature>.ftl`; all files of a language form one bundle, so a
feature adds its texts by adding a file. A reader whose language is unknown or
unsupported reads the fallback language (DEFAULT_LANGUAGE, through `with_fallback`); a
key missing in a language falls back to it, then to English.
"""

from __future__ import annotations

import logging
from functools import cache
from importlib import resources
from typing import Any

from fluent.runtime import FluentBundle, FluentResource

from bot.config import SUPPORTED_LANGUAGES

FALLBACK_LANGUAGE = "en"
logger = logging.getLogger(__name__)


def normalize_language(code: str | None, default: str = FALLBACK_LANGUAGE) -> str:
    """Map a Telegram language_code (`ru`, `uk-UA`, `en-GB`, None) to a supported one."""
    if code:
        base = code.split("-")[0].split("_")[0].lower()
        if base in SUPPORTED_LANGUAGES:
            return base
    return default


class Translator:
    """Formats messages by key in one of the supported languages; `fallback` is read by
    whoever's language is unknown or unsupported."""

    def __init__(
        self, bundles: dict[str, FluentBundle], fallback: str = FALLBACK_LANGUAGE
    ) -> None:
        self._bundles = bundles
        self.fallback = normalize_language(fallback)

    def with_fallback(self, language: str) -> Translator:
        """The same texts, with `language` (DEFAULT_LANGUAGE) for unknown readers."""
        return Translator(self._bundles, language)

    def resolve(self, code: str | None) -> str:
        """The language a reader with this Telegram language_code reads."""
        return normalize_language(code, self.fallback)

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self._bundles)

    def has(self, key: str, language: str = FALLBACK_LANGUAGE) -> bool:
        return self._bundles[normalize_language(language)].has_message(key)

    def get(self, language: str | None, key: str, **args: Any) -> str:
        """The text of `key` in `language` (the fallback when unknown), falling back to
        the fallback language, then to English, then to the key."""
        for code in dict.fromkeys((self.resolve(language), self.fallback, FALLBACK_LANGUAGE)):
            bundle = self._bundles[code]
            if bundle.has_message(key):
                message = bundle.get_message(key)
                if message.value is None:
                    break
                text, errors = bundle.format_pattern(message.value, args)
                if errors:
                    logger.warning("i18n: %s/%s: %s", code, key, errors[0])
                return str(text)
        logger.error("i18n: missing key %s", key)
        return key

    def keys(self, language: str) -> set[str]:
        """Every message key a language defines (for completeness tests)."""
        return set(_messages_of(language))


def _locale_files(language: str) -> list[str]:
    folder = resources.files("bot.locales").joinpath(language)
    return [
        entry.read_text("utf-8")
        for entry in sorted(folder.iterdir(), key=lambda item: item.name)
        if entry.name.endswith(".ftl")
    ]


def _messages_of(language: str) -> list[str]:
    from fluent.syntax import FluentParser
    from fluent.syntax.ast import Message

    keys = []
    for text in _locale_files(language):
        for entry in FluentParser().parse(text).body:
            if isinstance(entry, Message):
                keys.append(entry.id.name)
    return keys


@cache
def load_translator() -> Translator:
    """Read every .ftl file once per process."""
    bundles: dict[str, FluentBundle] = {}
    for language in SUPPORTED_LANGUAGES:
        # use_isolating would wrap every argument in Unicode bidi marks, which
        # Telegram shows as garbage in some clients.
        bundle = FluentBundle([language], use_isolating=False)
        for text in _locale_files(language):
            bundle.add_resource(FluentResource(text))
        bundles[language] = bundle
    return Translator(bundles)


class Texts:
    """A Translator bound to one reader's language: `texts("survey-thanks")`."""

    def __init__(self, translator: Translator, language: str | None) -> None:
        self.translator = translator
        self.language = translator.resolve(language)

    def __call__(self, key: str, **args: Any) -> str:
        return self.translator.get(self.language, key, **args)
