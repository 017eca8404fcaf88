"""The topics a reason can be about: ids, labels and phrases in each language.

The built-in taxonomy is `default.toml` beside this module. A business's `TOPICS_FILE` in the
same format extends it (new topics, more phrases, other labels) or, with `mode = "replace"`,
replaces it. README ("What the reasons say") documents the format.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LANGUAGES = ("ru", "uk", "en")
DEFAULT_FILE = Path(__file__).with_name("default.toml")
_ID = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
# A phrase is words; a word is alternatives split by |, each letters (an apostrophe inside)
# that may end with * to match any ending.
_ALTERNATIVE = re.compile(r"^[^\W\d_]+(?:'[^\W\d_]+)*\*?$")
_TOPIC_KEYS = frozenset({"labels", "phrases", "complaints"})


class TaxonomyError(ValueError):
    """A topics file cannot be used; the message names the file and what is wrong."""


@dataclass(frozen=True)
class Topic:
    """One topic: its fixed id, its label and its phrases in each language.

    `complaints` are phrases that name a problem ("rude", "queue"); denied before a contrast
    ("not rude, but ...") they are a concession and do not count. `phrases` count always.
    """

    id: str
    labels: Mapping[str, str]
    phrases: Mapping[str, tuple[str, ...]]
    complaints: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Taxonomy:
    topics: tuple[Topic, ...]

    def ids(self) -> tuple[str, ...]:
        return tuple(topic.id for topic in self.topics)

    def topic(self, topic_id: str) -> Topic:
        for topic in self.topics:
            if topic.id == topic_id:
                return topic
        raise KeyError(topic_id)

    def label(self, topic_id: str, language: str) -> str:
        """The topic's label in `language` (else English); an id no longer in the taxonomy
        (a stored answer classified before a change) is shown as itself."""
        try:
            labels = self.topic(topic_id).labels
        except KeyError:
            return topic_id
        return labels.get(language) or labels.get("en") or topic_id


def load_taxonomy(path: Path | None = None) -> Taxonomy:
    """The built-in taxonomy, extended or replaced by the file at `path` (TOPICS_FILE)."""
    default = _parse(_read(DEFAULT_FILE), DEFAULT_FILE, base=None)
    if path is None:
        return default
    return _parse(_read(path), path, base=default)


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as error:
        raise TaxonomyError(f"topics file {path}: cannot read it ({error.strerror})") from None
    except tomllib.TOMLDecodeError as error:
        raise TaxonomyError(f"topics file {path}: not valid TOML: {error}") from None
    except UnicodeDecodeError:
        raise TaxonomyError(f"topics file {path}: not UTF-8 text") from None


def _parse(data: dict[str, Any], path: Path, base: Taxonomy | None) -> Taxonomy:
    def fail(message: str) -> TaxonomyError:
        return TaxonomyError(f"topics file {path}: {message}")

    unknown = set(data) - {"mode", "topics"}
    if unknown:
        raise fail(f"unknown key(s) {', '.join(sorted(unknown))} (expected mode, topics)")
    mode = data.get("mode", "extend")
    if mode not in ("extend", "replace"):
        raise fail(f'mode must be "extend" or "replace", not {mode!r}')
    tables = data.get("topics")
    if not isinstance(tables, dict) or not tables:
        raise fail("no [topics.<id>] tables")
    topics: dict[str, Topic] = {}
    if base is not None and mode == "extend":
        topics = {topic.id: topic for topic in base.topics}
    for topic_id, table in tables.items():
        where = f"topic {topic_id!r}"
        if not _ID.match(topic_id):
            raise fail(f"{where}: an id is 1-32 of a-z, 0-9 and _, starting with a letter")
        if not isinstance(table, dict):
            raise fail(f"{where}: expected a table [topics.{topic_id}]")
        extra = set(table) - _TOPIC_KEYS
        if extra:
            raise fail(f"{where}: unknown key(s) {', '.join(sorted(extra))}")
        labels = _labels(table.get("labels", {}), fail, where)
        phrases = _phrases(table.get("phrases", {}), fail, f"{where} phrases")
        complaints = _phrases(table.get("complaints", {}), fail, f"{where} complaints")
        old = topics.get(topic_id)
        if old is not None:
            labels = {**old.labels, **labels}
            phrases = _merge(old.phrases, phrases)
            complaints = _merge(old.complaints, complaints)
        if "en" not in labels:
            raise fail(f"{where}: needs at least an English label (labels.en)")
        if not any(phrases.values()) and not any(complaints.values()):
            raise fail(f"{where}: has no phrases")
        topics[topic_id] = Topic(topic_id, labels, phrases, complaints)
    return Taxonomy(tuple(topics.values()))


def _labels(value: Any, fail: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise fail(f'{where}: labels must be a table such as {{ en = "Waiting" }}')
    for language, label in value.items():
        if language not in LANGUAGES:
            raise fail(f"{where}: unknown language {language!r} (expected ru, uk, en)")
        if not isinstance(label, str) or not label.strip():
            raise fail(f"{where}: labels.{language} must be non-empty text")
    return {language: label.strip() for language, label in value.items()}


def _phrases(value: Any, fail: Any, where: str) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, dict):
        raise fail(f'{where}: expected a table of lists such as {{ en = ["queue"] }}')
    result: dict[str, tuple[str, ...]] = {}
    for language, items in value.items():
        if language not in LANGUAGES:
            raise fail(f"{where}: unknown language {language!r} (expected ru, uk, en)")
        if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
            raise fail(f"{where}.{language}: expected a list of texts")
        cleaned = []
        for item in items:
            words = item.lower().replace("ё", "е").replace("’", "'").split()
            alternatives = [alt for word in words for alt in word.split("|")]
            if not words or not all(_ALTERNATIVE.match(alt) for alt in alternatives):
                raise fail(
                    f"{where}.{language}: bad phrase {item!r} (words of letters; a word may"
                    " end with * to match any ending, and list alternatives with |)"
                )
            if any(alt.endswith("*") and len(alt) < 4 for alt in alternatives):
                raise fail(f"{where}.{language}: {item!r}: a prefix needs 3 letters before *")
            cleaned.append(" ".join(words))
        result[language] = tuple(dict.fromkeys(cleaned))
    return result


def _merge(
    old: Mapping[str, tuple[str, ...]], new: Mapping[str, tuple[str, ...]]
) -> dict[str, tuple[str, ...]]:
    merged = dict(old)
    for language, items in new.items():
        merged[language] = tuple(dict.fromkeys((*merged.get(language, ()), *items)))
    return merged
