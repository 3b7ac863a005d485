"""GitHub Actions workflow commands: one ``::error``/``::warning``/``::notice`` line per finding,
which GitHub shows as annotations on the pull request."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from lpack.core.findings import Finding, Severity
from lpack.report import FindingsOnly

_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render(findings: Sequence[Finding]) -> str:
    lines = []
    for f in findings:
        where = f.location
        props = [f"file={_escape_property(where.file)}"]
        if where.line:
            props.append(f"line={where.line}")
            if where.column:
                props.append(f"col={where.column}")
        props.append(f"title={_escape_property(f'{f.code} {f.name}')}")
        inside = f" ({where.entry})" if where.entry is not None else ""
        message = f"{f.message}{inside}" + (f". Fix: {f.fix}" if f.fix else "")
        lines.append(f"::{_LEVEL[f.severity]} {','.join(props)}::{_escape_data(message)}")
    return "\n".join(lines)


class GithubReporter(FindingsOnly):
    name = "github"

    def check(self, out: TextIO, findings: Sequence[Finding], quiet: int,
              looked: Sequence[tuple[str, str]] = ()) -> None:
        text = render(findings)
        out.write(text + "\n" if text else "")
