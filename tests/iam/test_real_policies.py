"""lpack's IAM rules on real policies (tests/data/iam_real/: AWS SAM's policy templates, aws-samples
serverless patterns, the Lambda developer guide's resource policies): each gets exactly the findings
its entry in cases.json expects, the healthy ones none."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lpack.rules.engine import check_policy_file

REAL = Path(__file__).resolve().parent.parent / "data" / "iam_real"
CASES: list[dict[str, Any]] = json.loads((REAL / "cases.json").read_text(encoding="utf-8"))


def test_the_corpus_is_complete() -> None:
    files = {case["file"] for case in CASES}
    assert files == {p.name for p in REAL.glob("*.json")} - {"cases.json"}
    assert len(files) >= 15
    assert all(case["source"].startswith("https://") and case["licence"] for case in CASES)
    assert sum(1 for case in CASES if case["kind"] == "resource") >= 3


@pytest.mark.parametrize("case", CASES, ids=[case["file"].removesuffix(".json") for case in CASES])
def test_real_policy_findings(case: dict[str, Any]) -> None:
    found = [f for f in check_policy_file(REAL / case["file"], case["kind"]) if f.code.startswith("LP5")]
    assert sorted(f.code for f in found) == sorted(case["expect"]), [f"{f.code}: {f.message}" for f in found]
