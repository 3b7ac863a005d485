"""SARIF 2.1.0, as GitHub code scanning accepts it: one run, the rules that produced findings in
``tool.driver.rules``, one result per finding with its physical location."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, TextIO

from lpack import __version__
from lpack.core.findings import Finding, Severity
from lpack.report import FindingsOnly

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def render(findings: Sequence[Finding]) -> str:
    from lpack.rules import load_all

    registry = load_all()
    codes = sorted({f.code for f in findings})
    index = {code: i for i, code in enumerate(codes)}
    rules = [_rule(registry[code]) for code in codes if code in registry]
    log = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "lpack", "version": __version__, "semanticVersion": __version__, "rules": rules,
            }},
            "results": [_result(f, index[f.code]) for f in findings],
            "columnKind": "unicodeCodePoints",
        }],
    }
    return json.dumps(log, indent=2)


def _rule(rule: Any) -> dict[str, Any]:
    doc = rule.doc
    summary = doc.split("## What it does", 1)[-1].split("##", 1)[0].strip().replace("\n", " ")
    data: dict[str, Any] = {
        "id": rule.code, "name": rule.name,
        "shortDescription": {"text": rule.name.replace("-", " ")},
        "fullDescription": {"text": summary or rule.name},
        "help": {"text": doc, "markdown": doc},
        "defaultConfiguration": {"level": _LEVEL[rule.severity]},
        "properties": {"tags": ["lambda", rule.subject]},
    }
    if rule.source:
        data["helpUri"] = rule.source
    return data


def _result(f: Finding, rule_index: int) -> dict[str, Any]:
    where = f.location
    location: dict[str, Any] = {"physicalLocation": {"artifactLocation": {"uri": where.file}}}
    if where.line:
        region = {"startLine": where.line, **({"startColumn": where.column} if where.column else {})}
        location["physicalLocation"]["region"] = region
    if where.entry is not None:  # the entry inside the package zip the artifact location names
        location["logicalLocations"] = [{"name": where.entry, "fullyQualifiedName": where.path}]
    inside = f" (in {where.entry})" if where.entry else ""
    text = f.message + inside + (f" Fix: {f.fix}" if f.fix else "")
    result: dict[str, Any] = {
        "ruleId": f.code, "ruleIndex": rule_index, "level": _LEVEL[f.severity],
        "message": {"text": text}, "locations": [location],
    }
    if f.function:
        result["properties"] = {"function": f.function}
    return result


class SarifReporter(FindingsOnly):
    name = "sarif"

    def check(self, out: TextIO, findings: Sequence[Finding], quiet: int,
              looked: Sequence[tuple[str, str]] = ()) -> None:
        out.write(render(findings) + "\n")
