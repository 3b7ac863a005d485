"""Findings: the unit every check produces. Rendering them is the reporters' job."""

from __future__ import annotations

import enum
from typing import NamedTuple


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "info": 1}[self.value]


class Finding(NamedTuple):
    code: str
    name: str
    severity: Severity
    message: str
    path: str
    line: int | None = None
    function: str | None = None
    fix: str | None = None

    def as_dict(self) -> dict[str, object]:
        data: dict[str, object] = {
            "code": self.code,
            "name": self.name,
            "severity": self.severity.value,
            "message": self.message,
            "path": self.path,
        }
        for key in ("line", "function", "fix"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return data


def summarize(findings: list[Finding]) -> dict[str, int]:
    counts = {severity.value: 0 for severity in Severity}
    for finding in findings:
        counts[finding.severity.value] += 1
    return counts
