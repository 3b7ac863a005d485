"""Findings: the unit every check produces. Rendering them is the reporters' job."""

from __future__ import annotations

import enum
from typing import Any, NamedTuple


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "info": 1}[self.value]


class Location(NamedTuple):
    """Where a finding points: a file (as the user names it: ``dist/fn.zip``, ``src/app.py``),
    the entry inside it when the file is a package zip, and a 1-based line and column."""

    file: str
    entry: str | None = None
    line: int | None = None
    column: int | None = None

    @property
    def path(self) -> str:
        """File and entry as one string, ``dist/fn.zip:app.py``: the JSON report's ``path``
        (version 1) and what text output shows. Reporters that can say more use the parts."""
        return self.file if self.entry is None else f"{self.file}:{self.entry}"


class _Fields(NamedTuple):
    code: str
    name: str
    severity: Severity
    message: str
    location: Location
    function: str | None = None
    fix: str | None = None


class Finding(_Fields):
    """A finding. ``location`` may be given as a plain file path; ``line`` and ``column``, given
    as keywords, go into the location (rules write ``r.finding(msg, s.where(entry), line=n)``)."""

    __slots__ = ()

    def __new__(  # noqa: PYI034
        cls, code: str, name: str, severity: Severity, message: str, location: Location | str,
        function: str | None = None, fix: str | None = None, *, line: int | None = None, column: int | None = None,
    ) -> Finding:
        where = Location(location) if isinstance(location, str) else location
        if line is not None or column is not None:
            where = where._replace(line=where.line if line is None else line,
                                   column=where.column if column is None else column)
        return super().__new__(cls, code, name, severity, message, where, function, fix)

    def _replace(self, **changes: Any) -> Finding:
        """As a NamedTuple's, and ``line=``/``column=`` move the location's."""
        moved = {key: changes.pop(key) for key in ("line", "column") if key in changes}
        if moved:
            changes["location"] = changes.get("location", self.location)._replace(**moved)
        return super()._replace(**changes)

    @property
    def path(self) -> str:
        return self.location.path

    @property
    def line(self) -> int | None:
        return self.location.line

    @property
    def column(self) -> int | None:
        return self.location.column

    def as_dict(self) -> dict[str, object]:
        """The JSON report's finding (version 1): ``path`` joins file and entry as it always has."""
        data: dict[str, object] = {
            "code": self.code,
            "name": self.name,
            "severity": self.severity.value,
            "message": self.message,
            "path": self.path,
        }
        for key in ("line", "column", "function", "fix"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return data


def summarize(findings: list[Finding]) -> dict[str, int]:
    counts = {severity.value: 0 for severity in Severity}
    for finding in findings:
        counts[finding.severity.value] += 1
    return counts
