"""Which findings are reported: the one place that decides, before any reporter sees them, as
flake8's DecisionEngine sits outside its formatters. ``--select``/``--ignore`` and config,
per-path ignores, and inline ``# lpack: ignore[LP201] reason`` comments on the line a finding
points at (in a file, or in an entry of a package zip)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from lpack.core.findings import Finding, Location
from lpack.core.patterns import lazy

INLINE = lazy(r"#\s*lpack:\s*ignore\[(?P<codes>[A-Z0-9,\s]+)\]")


def filter_findings(findings: Iterable[Finding], select: Iterable[str], ignore: Iterable[str],
                    per_path: Sequence[tuple[str, Sequence[str]]] = ()) -> list[Finding]:
    """flake8-style prefixes: keep codes starting with a selected prefix, drop ignored ones, drop
    codes ignored for a path glob, then drop findings silenced inline."""
    chosen, dropped = tuple(select), tuple(ignore)
    kept = []
    lines = _SourceLines()
    try:
        for f in findings:
            if chosen and not f.code.startswith(chosen):
                continue
            if dropped and f.code.startswith(dropped):
                continue
            if per_path and _path_ignored(f, per_path):
                continue
            if f.line and f.code in _inline_codes(lines.get(f.location)):
                continue
            kept.append(f)
    finally:
        lines.close()
    return kept


def _path_ignored(f: Finding, per_path: Sequence[tuple[str, Sequence[str]]]) -> bool:
    where = os.path.abspath(f.path)
    return any(fnmatchcase(where, glob) and f.code.startswith(tuple(codes)) for glob, codes in per_path)


def _inline_codes(text: str) -> set[str]:
    match = INLINE().search(text)
    return {c.strip() for c in match.group("codes").split(",")} if match else set()


class _SourceLines:
    """The text of the line a location points at: in a file, or in an entry inside a zip."""

    def __init__(self) -> None:
        self._texts: dict[tuple[str, str | None], list[str]] = {}
        self._zips: dict[str, Any] = {}

    def get(self, where: Location) -> str:
        key = (where.file, where.entry)
        if key not in self._texts:
            self._texts[key] = self._read(*key).splitlines()
        text, line = self._texts[key], where.line or 0
        return text[line - 1] if 0 < line <= len(text) else ""

    def _read(self, file: str, entry: str | None) -> str:
        try:
            if entry is not None:
                import zipfile

                zf = self._zips.get(file)
                if zf is None:
                    zf = self._zips[file] = zipfile.ZipFile(file)
                return str(zf.read(entry).decode("utf-8", errors="replace"))
            return Path(file).read_text(encoding="utf-8", errors="replace")
        except (OSError, KeyError, ValueError):
            return ""

    def close(self) -> None:
        for zf in self._zips.values():
            zf.close()
