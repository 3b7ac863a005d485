"""Reporters render a finding's Location part by part: the file, the entry inside a zip, line, column."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from lpack.cli import main
from lpack.core.findings import Finding, Location, Severity
from lpack.report import github, sarif
from lpack.rules import load_all

IN_ZIP = Location("dist/fn.zip", "app.py", line=3)


def a_zip_importing_yaml(tmp_path: Path) -> Path:
    archive = tmp_path / "fn.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        info = zipfile.ZipInfo("app.py")
        info.external_attr = 0o100644 << 16
        zf.writestr(info, "import yaml\ndef handler(event, context):\n    return yaml\n")
    return archive


def test_a_finding_is_built_from_a_plain_file_or_a_location() -> None:
    plain = Finding("LP209", "import-not-found", Severity.ERROR, "m", "src/app.py", line=2)
    inside = Finding("LP209", "import-not-found", Severity.ERROR, "m", IN_ZIP, column=5)

    assert plain.location == Location("src/app.py", line=2)
    assert (inside.location, inside.path, inside.line, inside.column) == (
        Location("dist/fn.zip", "app.py", 3, 5), "dist/fn.zip:app.py", 3, 5)
    assert inside._replace(line=4).location == Location("dist/fn.zip", "app.py", 4, 5)


def test_json_keeps_path_as_file_and_entry_joined() -> None:
    finding = Finding("LP209", "import-not-found", Severity.ERROR, "m", IN_ZIP)

    assert finding.as_dict() == {"code": "LP209", "name": "import-not-found", "severity": "error",
                                 "message": "m", "path": "dist/fn.zip:app.py", "line": 3}


def test_a_finding_inside_a_zip_names_file_and_entry_apart(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    archive = a_zip_importing_yaml(tmp_path)
    args = ["check", str(archive), "--handler", "app.handler", "--runtime", "python3.12"]

    assert main([*args, "--format", "github"]) == 1
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith(f"::error file={archive},line=1,title=LP209 import-not-found::")
    assert line.endswith(" (app.py). Fix: add PyYAML to the requirements and rebuild, or ship it in a layer")

    assert main([*args, "--format", "sarif"]) == 1
    (result,) = json.loads(capsys.readouterr().out)["runs"][0]["results"]
    (location,) = result["locations"]
    assert location["physicalLocation"] == {"artifactLocation": {"uri": str(archive)}, "region": {"startLine": 1}}
    assert location["logicalLocations"] == [{"name": "app.py", "fullyQualifiedName": f"{archive}:app.py"}]


def test_a_column_a_rule_sets_reaches_sarif_and_github() -> None:
    finding = load_all()["LP209"].finding("No module named 'yaml'", IN_ZIP, line=1, column=8)

    assert github.render([finding]).startswith(
        "::error file=dist/fn.zip,line=1,col=8,title=LP209 import-not-found::No module named 'yaml' (app.py)")
    (result,) = json.loads(sarif.render([finding]))["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["region"] == {"startLine": 1, "startColumn": 8}


def test_no_column_without_a_line() -> None:
    finding = Finding("LP101", "zipped-size-exceeded", Severity.ERROR, "m", Location("dist/fn.zip", column=3))

    assert github.render([finding]) == "::error file=dist/fn.zip,title=LP101 zipped-size-exceeded::m"


def format_choices() -> dict[str, tuple[str, ...]]:
    """Each command's --format choices, read from the parser the user meets."""
    from lpack.cli import _parser

    commands = next(a for a in _parser()._actions if a.dest == "command").choices
    return {name: tuple(a.choices) for name, sub in commands.items()  # type: ignore[union-attr]
            for a in sub._actions if a.dest == "format" and name in COMMAND_METHOD}


COMMAND_METHOD = {"build": "build", "check": "check", "rules": "rules"}


def test_the_reporter_registry_serves_every_commands_format() -> None:
    from lpack.report import REPORTERS, FindingsOnly, reporter

    choices = format_choices()
    assert choices == {"build": ("text", "json"), "check": ("text", "json", "sarif", "github"),
                       "rules": ("text", "json")}
    for command, formats in choices.items():
        for name in formats:
            method = getattr(type(reporter(name)), COMMAND_METHOD[command])
            assert method is not FindingsOnly._not_mine, (command, name)
    assert set(REPORTERS) == {name for formats in choices.values() for name in formats}
