"""The reply templates a manager sends a customer from a case: the five steps of
handling a complaint (built in, translated) and a business's own (TEMPLATES_FILE).

A template may need one value only the manager knows: `{date}` (by when it is fixed)
or `{bonus}` (what is offered). Nothing goes out with a blank: the manager is asked
for the value, or picks the template's variant without it (`without`), sees the exact
text the customer will get, and confirms it with one tap (bot/cases/handlers.py).

TEMPLATES_FILE is TOML. Each table is a template, by id (a-z, 0-9 and _, at most 20
characters); the buttons follow the file's order:

    replace = false            # true: offer only these (and the built-in "improved")

    [apologise_coffee]
    label.en = "2. Apologise + coffee"
    label.ru = "2. Извиниться + кофе"
    text.en = "We are sorry. Your next {bonus} at {company} is on us."
    text.ru = "Нам очень жаль. Ваш следующий {bonus} в {company} за наш счёт."
    without.en = "We are sorry. We will do better."   # optional: offered instead of asking

Placeholders: `{company}` (COMPANY_NAME), `{date}`, `{bonus}` (asked of the manager; at
most one of them per template); `{ $name }` works too. A language a template lacks is
read in DEFAULT_LANGUAGE, else in the first language the template has. A table named
like a built-in (thank, apologise, apologise_bonus, promise_fix, cannot_fix, improved)
replaces it. "improved" is also what "resolve and tell the customer" sends.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.cases.service import Template
from bot.config import SUPPORTED_LANGUAGES as LANGUAGES
from bot.core.placeholders import fill, names_in
from bot.i18n import Translator

# What a manager is asked for; a template needs at most one of them.
VALUES = ("date", "bonus")
PLACEHOLDERS = ("company", *VALUES)
_ID = re.compile(r"^[a-z][a-z0-9_]{0,19}$")
LABEL_MAX = 64
TEXT_MAX = 3000
# A date or a bonus, as the manager types it.
VALUE_MAX = 200


class TemplatesFileError(ValueError):
    """TEMPLATES_FILE cannot be used; the message names the template and field."""


@dataclass(frozen=True, slots=True)
class CaseTemplate:
    """One template: per language its button label, its text, and the variant without
    the value it asks for (absent: the manager must give the value)."""

    id: str
    labels: Mapping[str, str]
    texts: Mapping[str, str]
    without: Mapping[str, str]

    @property
    def value(self) -> str | None:
        """The value the manager is asked for ("date" or "bonus"), if any."""
        for text in self.texts.values():
            for name in names_in(text):
                if name in VALUES:
                    return name
        return None


class TemplateBook:
    """The templates on offer, in button order, read in a customer's language."""

    def __init__(self, templates: Sequence[CaseTemplate], fallback: str) -> None:
        self._templates = {template.id: template for template in templates}
        self._fallback = fallback

    def __iter__(self) -> Iterator[CaseTemplate]:
        return iter(self._templates.values())

    def get(self, template_id: str) -> CaseTemplate | None:
        return self._templates.get(template_id)

    def label(self, template: CaseTemplate, language: str) -> str:
        return self._in(template.labels, language)

    def draft(
        self, template: CaseTemplate, language: str, *, company: str, value: str | None
    ) -> str:
        """The text the customer gets: with the value, or the variant without it (the
        caller offers that only when `template.without` has one)."""
        if template.value is not None and value is None:
            return fill(self._in(template.without, language), {"company": company}).strip()
        values = {"company": company}
        if template.value is not None and value is not None:
            values[template.value] = value
        return fill(self._in(template.texts, language), values).strip()

    def _in(self, texts: Mapping[str, str], language: str) -> str:
        for code in (language, self._fallback):
            if code in texts:
                return texts[code]
        return next(iter(texts.values()))


def built_in_templates(translator: Translator) -> list[CaseTemplate]:
    """The five steps, from the translations (bot/locales/*/cases.ftl)."""
    as_written = {name: "{" + name + "}" for name in PLACEHOLDERS}
    found = []
    for template in Template:
        without_key = template.key + "-without"
        found.append(
            CaseTemplate(
                id=template.value,
                labels={lang: translator.get(lang, template.label_key) for lang in LANGUAGES},
                texts={
                    lang: translator.get(lang, template.key, **as_written) for lang in LANGUAGES
                },
                without={
                    lang: translator.get(lang, without_key, **as_written)
                    for lang in LANGUAGES
                    if translator.has(without_key, lang)
                },
            )
        )
    return found


def template_book(translator: Translator, path: Path | None) -> TemplateBook:
    """The built-in templates, replaced or extended by TEMPLATES_FILE."""
    built_in = built_in_templates(translator)
    if path is None:
        return TemplateBook(built_in, translator.fallback)
    own, replace = read_templates_file(path)
    by_id = {template.id: template for template in ([] if replace else built_in)}
    by_id.update((template.id, template) for template in own)
    # Resolving "and tell the customer" sends "improved": it is always there.
    improved = next(t for t in built_in if t.id == Template.IMPROVED.value)
    by_id.setdefault(improved.id, improved)
    return TemplateBook(list(by_id.values()), translator.fallback)


def read_templates_file(path: Path) -> tuple[list[CaseTemplate], bool]:
    """The file's templates and its `replace` flag; TemplatesFileError when unusable."""
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except OSError as error:
        raise TemplatesFileError(f"{path}: cannot be read ({error.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise TemplatesFileError(f"{path}: not valid TOML: {error}") from None
    replace = data.pop("replace", False)
    if not isinstance(replace, bool):
        raise TemplatesFileError(f"{path}: replace must be true or false")
    if not data:
        raise TemplatesFileError(f"{path}: no templates")
    return [_template(path, name, table) for name, table in data.items()], replace


def _template(path: Path, name: str, table: Any) -> CaseTemplate:
    where = f"{path}: [{name}]"
    if not _ID.match(name):
        raise TemplatesFileError(f"{where}: an id is a-z, 0-9 and _, at most 20 characters")
    if not isinstance(table, dict):
        raise TemplatesFileError(f"{where}: expected a table with label, text and without")
    unknown = set(table) - {"label", "text", "without"}
    if unknown:
        raise TemplatesFileError(f"{where}: unknown field {sorted(unknown)[0]!r}")
    labels = _by_language(where, "label", table.get("label"), LABEL_MAX, required=True)
    texts = _by_language(where, "text", table.get("text"), TEXT_MAX, required=True)
    without = _by_language(where, "without", table.get("without"), TEXT_MAX, required=False)
    asked = set()
    for language, text in texts.items():
        names = names_in(text)
        _known(where, f"text.{language}", names)
        values = [n for n in names if n in VALUES]
        if len(values) > 1:
            raise TemplatesFileError(
                f"{where}: text.{language} asks for both {{date}} and {{bonus}}; use one"
            )
        asked.add(values[0] if values else None)
    if len(asked) > 1:
        raise TemplatesFileError(f"{where}: its languages ask for different values")
    for language, text in without.items():
        names = names_in(text)
        _known(where, f"without.{language}", names)
        if set(names) & set(VALUES):
            raise TemplatesFileError(
                f"{where}: without.{language} is the text with no {{date}} or {{bonus}}"
            )
    return CaseTemplate(id=name, labels=labels, texts=texts, without=without)


def _by_language(
    where: str, field: str, value: Any, limit: int, *, required: bool
) -> dict[str, str]:
    if value is None and not required:
        return {}
    if not isinstance(value, dict) or not value:
        raise TemplatesFileError(
            f'{where}: {field} needs at least one language, e.g. {field}.en = "..."'
        )
    found = {}
    for language, text in value.items():
        if language not in LANGUAGES:
            raise TemplatesFileError(
                f"{where}: {field}.{language}: languages are {', '.join(LANGUAGES)}"
            )
        if not isinstance(text, str) or not text.strip() or len(text) > limit:
            raise TemplatesFileError(
                f"{where}: {field}.{language} must be text of 1 to {limit} characters"
            )
        found[language] = text
    return found


def _known(where: str, field: str, names: list[str]) -> None:
    unknown = [name for name in names if name not in PLACEHOLDERS]
    if unknown:
        raise TemplatesFileError(
            f"{where}: {field}: unknown placeholder {{{unknown[0]}}}; "
            f"known: {', '.join('{' + n + '}' for n in PLACEHOLDERS)}"
        )
