"""The versioned JSON report (schemas/report.schema.json)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, TextIO

from lpack import __version__
from lpack.core.findings import Finding, summarize
from lpack.report import FindingsOnly

REPORT_VERSION = 1


def render(findings: Sequence[Finding], artifacts: Sequence[Any] = (),
           failures: Sequence[tuple[str, Exception]] = (), unchanged: Sequence[tuple[str, str]] = ()) -> str:
    report: dict[str, Any] = {
        "version": REPORT_VERSION,
        "tool": {"name": "lpack", "version": __version__},
        "artifacts": [a.as_dict() for a in artifacts],
        **({"failures": [{"name": n, "error": str(e)} for n, e in failures]} if failures else {}),
        **({"unchanged": [{"name": n, "why": w} for n, w in unchanged]} if unchanged else {}),
        "findings": [f.as_dict() for f in findings],
        "summary": summarize(list(findings)),
    }
    return json.dumps(report, indent=2)


class JsonReporter(FindingsOnly):
    """The versioned report for check and build; plain JSON documents for `lpack rules`."""

    name = "json"

    def check(self, out: TextIO, findings: Sequence[Finding], quiet: int,
              looked: Sequence[tuple[str, str]] = ()) -> None:
        out.write(render(findings) + "\n")

    def build(self, out: TextIO, result: Any, findings: Sequence[Finding], verbose: bool,
              quiet: int = 0, elapsed_s: float | None = None) -> None:
        out.write(render(findings, result.artifacts, result.failures, getattr(result, "unchanged", ())) + "\n")

    def rules(self, out: TextIO, rules: Sequence[Any]) -> None:
        out.write(json.dumps([{"code": r.code, "name": r.name, "severity": r.severity.value} for r in rules],
                             indent=2) + "\n")

    def rule(self, out: TextIO, rule: Any) -> None:
        out.write(json.dumps({"code": rule.code, "name": rule.name, "severity": rule.severity.value,
                              "source": rule.source, "doc": rule.doc}, indent=2) + "\n")
