"""The handler + role corpus (tests/data/iam_code/, rebuilt by its make_corpus.py): for each case,
`lpack check` predicts exactly the AccessDenied errors (LP570), the unused grants (LP571) and the
roles it cannot judge (LP572) that its expected.json lists, no more and no fewer."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from lpack.commands.check import CheckOptions, check
from lpack.core.findings import Finding

CORPUS = Path(__file__).parent.parent / "data" / "iam_code"
CASES = sorted(p.name for p in CORPUS.iterdir() if (p / "expected.json").is_file())


def _where(f: Finding) -> str:
    return f"{f.path}:{f.line}"


def observed(findings: list[Finding]) -> dict[str, object]:
    denied = [f"{_where(f)} {m.group(1)}" for f in findings if f.code == "LP570"
              and (m := re.search(r" needs ([^\s,]+)", f.message))]
    unused = [f"{_where(f)} {action}" for f in findings if f.code == "LP571"
              and (m := re.search(r" grants (.+?), which no code path", f.message))
              for action in m.group(1).split(", ")]
    return {"LP570": sorted(denied), "LP571": sorted(unused), "LP572": any(f.code == "LP572" for f in findings)}


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 30


@pytest.mark.parametrize("case", CASES)
def test_case(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = CORPUS / case
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    monkeypatch.chdir(folder)
    findings, _filters = check([Path(".")], CheckOptions(source=True))
    assert observed(findings) == {code: expected[code] for code in ("LP570", "LP571", "LP572")}, expected["about"]
