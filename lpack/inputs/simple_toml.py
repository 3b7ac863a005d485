"""The plain TOML most lpack configurations are written in, read without tomllib.

tomllib is pure Python: importing it costs ~2 ms and reading a 400-function ``lpack.toml`` ~5 ms,
a tenth of a pre-commit check. A configuration is mostly ``[a.b]`` headers and ``key = value``
lines whose values are plain strings, integers, booleans and one-line arrays of plain strings.
``loads`` reads exactly that subset and gives up (None) on anything else: another kind of value,
an escape, a dotted key, a multi-line array, a table defined twice or a key set twice, a
character outside printable ASCII outside a string... The caller then reads the text with
tomllib, which also reports the mistakes. Where ``loads`` answers, its answer is tomllib's
(tests/inputs/test_simple_toml.py holds the two to it). String methods only: compiling regular
expressions for it cost more than it saved on a small configuration.
"""

from __future__ import annotations

from typing import Any

_SPACE = " \t"


def loads(text: str) -> dict[str, Any] | None:
    """The document ``text`` holds, or None when it is not in the plain subset."""
    document: dict[str, Any] = {}
    table: dict[str, Any] | None = document
    for line in text.split("\n"):
        line = line.strip(_SPACE)
        if not line:
            continue
        if line[0] == "#":
            if not _comment(line):
                return None
        elif line[0] == "[":
            head, closed, rest = line[1:].partition("]")
            keys = head.strip(_SPACE).split(".")
            if not closed or not _comment(rest.lstrip(_SPACE)) or not all(map(_key, keys)):
                return None
            table = _define(document, keys)
        else:
            key, equals, rest = line.partition("=")
            key = key.rstrip(_SPACE)
            if not equals or not _key(key) or table is None or key in table:
                return None
            value, rest = _value(rest.lstrip(_SPACE))
            if value is None or not _comment(rest.lstrip(_SPACE)):
                return None
            table[key] = value
        if table is None:
            return None
    return document


_KEY_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"


def _key(text: str) -> bool:
    """A bare key: ASCII letters, digits, '_' and '-' (nothing left once they are stripped)."""
    return bool(text) and not text.strip(_KEY_CHARS)


def _comment(rest: str) -> bool:
    """Nothing, or a comment (no control character but tab) is what may end a line."""
    return not rest or (rest[0] == "#" and rest[1:].replace("\t", " ").isprintable())


def _string(text: str) -> tuple[str | None, str]:
    """A plain basic string at the start of ``text`` (no escape, no control character) and what
    follows it."""
    end = text.find('"', 1)
    inner = text[1:end]
    if end < 0 or "\\" in inner or not inner.isprintable():
        return None, text
    return inner, text[end + 1:]


def _value(text: str) -> tuple[Any, str]:
    """The value at the start of ``text`` and what follows it; None when not a plain one."""
    if text[:1] == '"':
        return _string(text)
    if text[:1] == "[":
        return _array(text)
    end = 0
    while end < len(text) and text[end] not in " \t#":
        end += 1
    token, rest = text[:end], text[end:]
    if token in ("true", "false"):
        return token == "true", rest
    digits = token[1:] if token[:1] == "-" else token
    if digits.isascii() and digits.isdigit() and (digits == "0" or digits[0] != "0") and len(digits) <= 18:
        return int(token), rest  # no sign, underscore or leading zero: tomllib's, below 2**63
    return None, text


def _array(text: str) -> tuple[list[str] | None, str]:
    """A one-line array of plain strings (a trailing comma allowed)."""
    items: list[str] = []
    rest = text[1:].lstrip(_SPACE)
    while rest[:1] != "]":
        if rest[:1] != '"':
            return None, text
        item, rest = _string(rest)
        if item is None:
            return None, text
        items.append(item)
        rest = rest.lstrip(_SPACE)
        if rest[:1] == ",":
            rest = rest[1:].lstrip(_SPACE)
        elif rest[:1] != "]":
            return None, text
    return items, rest[1:]


def _define(document: dict[str, Any], keys: list[str]) -> dict[str, Any] | None:
    """The table a ``[a.b.c]`` header opens; None when it exists already (defining it again is an
    error, or legal only in cases left to tomllib) or a key on the way holds a value."""
    table = document
    for key in keys[:-1]:
        table = table.setdefault(key, {})
        if not isinstance(table, dict):
            return None
    if keys[-1] in table:
        return None
    new: dict[str, Any] = {}
    table[keys[-1]] = new
    return new
