"""The plain TOML most lpack configurations are written in, read without tomllib.

tomllib is pure Python: importing it costs ~2 ms and reading a 400-function ``lpack.toml`` ~5 ms,
a tenth of a pre-commit check. A configuration is mostly ``[a.b]`` headers and ``key = value``
lines whose values are plain strings, integers, booleans and one-line arrays of plain strings.
``loads`` reads exactly that subset and gives up (None) on anything else: another kind of value,
an escape, a dotted key, a multi-line array, a table defined twice or a key set twice, a
character outside printable ASCII outside a string... The caller then reads the text with
tomllib, which also reports the mistakes. Where ``loads`` answers, its answer is tomllib's
(tests/inputs/test_simple_toml.py holds the two to it).
"""

from __future__ import annotations

import re
from typing import Any

_KEY = r"[A-Za-z0-9_-]+"
_STRING = r'"[^"\\\x00-\x1f\x7f]*"'
_INTEGER = r"-?(?:0|[1-9][0-9]{0,17})"  # no sign, underscore or leading zero: tomllib's, below 2**63
_COMMENT = r"(?:[ \t]*#[^\x00-\x08\x0a-\x1f\x7f]*)?"
_HEADER = re.compile(rf"\[[ \t]*({_KEY}(?:\.{_KEY})*)[ \t]*\]{_COMMENT}")
_VALUE = re.compile(rf"({_KEY})[ \t]*=[ \t]*({_STRING}|{_INTEGER}|true|false|"
                    rf"\[[ \t]*(?:{_STRING}[ \t]*,[ \t]*)*(?:{_STRING}[ \t]*)?\]){_COMMENT}")
_ITEM = re.compile(_STRING)


def loads(text: str) -> dict[str, Any] | None:
    """The document ``text`` holds, or None when it is not in the plain subset."""
    document: dict[str, Any] = {}
    table = document
    for line in text.split("\n"):
        line = line.strip(" \t")
        if not line or line[0] == "#":
            if line and not _COMMENT_ONLY.fullmatch(line):
                return None
            continue
        if line[0] == "[":
            found = _HEADER.fullmatch(line)
            opened = _define(document, found.group(1).split(".")) if found else None
            if opened is None:
                return None
            table = opened
            continue
        found = _VALUE.fullmatch(line)
        if found is None or found.group(1) in table:
            return None
        table[found.group(1)] = _value(found.group(2))
    return document


_COMMENT_ONLY = re.compile(r"#[^\x00-\x08\x0a-\x1f\x7f]*")


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


def _value(text: str) -> Any:
    if text[0] == '"':
        return text[1:-1]
    if text[0] == "[":
        return [item[1:-1] for item in _ITEM.findall(text)]
    if text == "true":
        return True
    if text == "false":
        return False
    return int(text)
