"""GitHub Actions workflow commands: one ``::error``/``::warning``/``::notice`` line per finding,
which GitHub shows as annotations on the pull request."""

from __future__ import annotations

from collections.abc import Sequence

from lpack.core.findings import Finding, Severity

_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render(findings: Sequence[Finding]) -> str:
    lines = []
    for f in findings:
        file = f.path.split(".zip:", 1)[0] + ".zip" if ".zip:" in f.path else f.path
        props = [f"file={_escape_property(file)}"]
        if f.line:
            props.append(f"line={f.line}")
        props.append(f"title={_escape_property(f'{f.code} {f.name}')}")
        inside = f" ({f.path.split('.zip:', 1)[1]})" if ".zip:" in f.path else ""
        message = f"{f.message}{inside}" + (f". Fix: {f.fix}" if f.fix else "")
        lines.append(f"::{_LEVEL[f.severity]} {','.join(props)}::{_escape_data(message)}")
    return "\n".join(lines)
