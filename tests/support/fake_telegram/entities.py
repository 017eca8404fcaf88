"""Formatted texts: HTML, MarkdownV2 and legacy Markdown parsed into plain text and
entities the way Telegram stores them, with its errors and UTF-16 offsets."""

from __future__ import annotations

from typing import Any

from tests.support.fake_telegram.models import ApiError, JSONDict


def _utf16_len(text: str) -> int:
    # Entity offsets and lengths are counted in UTF-16 code units.
    return sum(2 if ord(ch) > 0xFFFF else 1 for ch in text) if not text.isascii() else len(text)


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
