"""Placeholders in texts an operator writes (ANNIVERSARY_TEXT, TEMPLATES_FILE): `{name}`,
with the Fluent spelling `{ $name }` accepted too. Filled by plain substitution, never
str.format: a stray brace in a business's text is left alone instead of raising."""

from __future__ import annotations

import re
from collections.abc import Mapping

PLACEHOLDER = re.compile(r"\{\s*\$?([a-z_]+)\s*\}")


def names_in(text: str) -> list[str]:
    """The placeholders of `text`, in order of first appearance."""
    return list(dict.fromkeys(match.group(1) for match in PLACEHOLDER.finditer(text)))


def fill(text: str, values: Mapping[str, str]) -> str:
    """`text` with each placeholder named in `values` replaced; others stay as written."""
    return PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), text)
