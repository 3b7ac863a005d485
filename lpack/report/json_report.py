"""The versioned JSON report (schemas/report.schema.json)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from lpack import __version__
from lpack.core.findings import Finding, summarize

REPORT_VERSION = 1


def render(findings: Sequence[Finding], artifacts: Sequence[Any] = (),
           failures: Sequence[tuple[str, Exception]] = ()) -> str:
    report: dict[str, Any] = {
        "version": REPORT_VERSION,
        "tool": {"name": "lpack", "version": __version__},
        "artifacts": [a.as_dict() for a in artifacts],
        **({"failures": [{"name": n, "error": str(e)} for n, e in failures]} if failures else {}),
        "findings": [f.as_dict() for f in findings],
        "summary": summarize(list(findings)),
    }
    return json.dumps(report, indent=2)
