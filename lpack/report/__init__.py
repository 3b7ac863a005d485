"""Renderings of results. Reporters never compute findings; the core never imports these."""

from __future__ import annotations

from collections.abc import Iterable

from lpack.findings import Finding


def filter_findings(findings: Iterable[Finding], select: Iterable[str], ignore: Iterable[str]) -> list[Finding]:
    """flake8-style: keep codes starting with a selected prefix, then drop ignored prefixes."""
    chosen = tuple(select)
    dropped = tuple(ignore)
    return [
        f for f in findings
        if (not chosen or f.code.startswith(chosen)) and not (dropped and f.code.startswith(dropped))
    ]
