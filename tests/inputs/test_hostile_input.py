"""Hostile and broken input files: each is one `lpack: error:` line naming the file, exit 2 (issue 21)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from lpack.cli import main

HEADER = ("AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n"
          "    Properties:\n      Handler: app.handler\n      Runtime: python3.12\n      CodeUri: src/\n")
JSON_HEADER = '{"AWSTemplateFormatVersion": "2010-09-09", "Resources": {}, "Metadata": '


def billion_laughs(levels: int) -> str:
    anchors = ["  a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    anchors += [f"  a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "Metadata:\n" + "\n".join(anchors) + "\n" + HEADER + f"      Environment: {{Variables: {{X: *a{levels - 1}}}}}\n"


def one_error(capsys: pytest.CaptureFixture[str], argv: list[str], path: Path) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"lpack: error: {path}"), err
    assert "Traceback" not in err
    return err


TEMPLATES = {
    "billion-laughs": ("template.yaml", billion_laughs(10), "YAML aliases expand to more than 100,000 values"),
    "alias-contains-itself": ("template.yaml", HEADER + "Metadata: &a [*a]\n", "refers to a node that contains it"),
    "deep-yaml": ("template.yaml", HEADER + "Metadata: " + "[" * 5000 + "]" * 5000 + "\n", "nested more than 100"),
    "deep-yaml-parsable": ("template.yaml", HEADER + "Metadata: " + "[" * 150 + "]" * 150 + "\n", "nested more than"),
    "deep-json": ("template.json", JSON_HEADER + "[" * 100_000 + "]" * 100_000 + "}", "nested more than 100"),
    "deep-json-parsable": ("template.json", JSON_HEADER + "[" * 500 + "]" * 500 + "}", "nested more than 100"),
    "huge-int-yaml": ("template.yaml", HEADER + "Metadata: " + "9" * 5000 + "\n", "(line 9): int value"),
    "huge-int-json": ("template.json", JSON_HEADER + "9" * 5000 + "}", "more than 4,300 digits"),
    "bool-tag": ("template.yaml", HEADER + "Metadata: !!bool maybe\n", "(line 9): bool value 'maybe' cannot be read"),
    "int-tag": ("template.yaml", HEADER + "Metadata: !!int abc\n", "(line 9): int value 'abc' cannot be read"),
    "float-tag": ("template.yaml", HEADER + "Metadata: !!float abc\n", "(line 9): float value 'abc' cannot be read"),
}


@pytest.mark.parametrize(("name", "text", "message"), TEMPLATES.values(), ids=TEMPLATES)
def test_hostile_template(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, text: str,
                          message: str) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("def handler(event, context):\n    return 1\n")
    path = tmp_path / name
    path.write_text(text)
    start = time.monotonic()
    assert message in one_error(capsys, ["check", str(path)], path)
    assert time.monotonic() - start < 5


def test_a_few_anchors_still_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("def handler(event, context):\n    return 1\n")
    path = tmp_path / "template.yaml"
    path.write_text("Metadata:\n  env: &env {Variables: {STAGE: prod}}\n" + HEADER + "      Environment: *env\n")
    assert main(["check", str(path)]) == 0, capsys.readouterr()
