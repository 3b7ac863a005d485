"""What people read in a terminal: findings as linters print them, -q/-qq, colour, -o, and help
that fits any width."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lpack.cli import _parser, main

COMMANDS = ["build", "check", "lock", "invoke", "validate-config", "events", "rules"]
IMPORTS_YAML = "import yaml\n\n\ndef lambda_handler(event, context):\n    return yaml\n"
FINDING = ("LP209 error Runtime.ImportModuleError: Unable to import module 'lambda_function': No module "
           "named 'yaml' (fix: add PyYAML to the requirements and rebuild, or ship it in a layer)")


def built_with_a_missing_import(root: Path) -> Path:
    """A function whose handler imports yaml without declaring it, built into dist/fn.zip."""
    root.mkdir()
    (root / "lambda_function.py").write_text(IMPORTS_YAML)
    (root / "pyproject.toml").write_text('[tool.lpack]\nname = "fn"\nruntime = "python3.12"\n')
    assert main(["build", "-qq", str(root)]) == 1
    return root


def help_text(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exc:
        main([*argv, "--help"])
    assert exc.value.code == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("command", [[], *([c] for c in COMMANDS)], ids=["lpack", *COMMANDS])
def test_help_fits_80_columns_without_splitting_a_word(
    command: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "1000")
    wide = help_text(command, capsys)
    monkeypatch.setenv("COLUMNS", "80")
    narrow = help_text(command, capsys)

    assert [line for line in narrow.splitlines() if len(line) > 80] == []
    assert narrow.split() == wide.split()  # the same words in the same order: none split across lines


@pytest.mark.parametrize("command", [c for c in COMMANDS if c != "events"])
def test_every_command_has_examples(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert f"Examples:\n  lpack {command}" in help_text([command], capsys)


def test_help_cites_only_options_the_command_has(capsys: pytest.CaptureFixture[str]) -> None:
    assert "--strict" not in help_text(["lock"], capsys)
    assert "3 internal error" in help_text(["invoke"], capsys)


def test_a_subcommand_error_shows_its_usage_and_the_closest_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["check", "--selec", "LP1"])  # no prefix matching: --selec is not --select

    assert exc.value.code == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("usage: lpack check ")
    assert err[-2:] == ["lpack: error: unrecognized arguments: --selec", "lpack: tip: did you mean '--select'?"]


def test_an_unknown_command_gets_did_you_mean(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["buidl"])

    assert capsys.readouterr().err.splitlines()[-1] == "lpack: tip: did you mean 'build'?"


def test_no_parser_accepts_abbreviations() -> None:
    parser = _parser()
    subparsers = [a for a in parser._actions if a.choices and "build" in a.choices]
    assert parser.allow_abbrev is False
    assert all(sub.allow_abbrev is False for sub in subparsers[0].choices.values())  # type: ignore[union-attr]


def test_a_finding_in_a_built_zip_points_at_the_source_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(built_with_a_missing_import(tmp_path / "fn"))
    monkeypatch.setenv("NO_COLOR", "1")

    assert main(["check"]) == 1
    assert capsys.readouterr().out == (f"lambda_function.py:1: {FINDING}\n"
                                       "checked 1 function from dist/*.zip; 1 error\n")


def test_quiet_prints_findings_only_and_silent_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(built_with_a_missing_import(tmp_path / "fn"))

    assert main(["check", "-q"]) == 1
    assert capsys.readouterr().out == f"lambda_function.py:1: {FINDING}\n"
    assert main(["check", "-qq"]) == 1
    assert main(["check", "--silent"]) == 1
    assert main(["build", "-qq"]) == 1
    assert capsys.readouterr() == ("", "")
    assert main(["build", "-q"]) == 1
    assert capsys.readouterr().out == f"lambda_function.py:1: {FINDING}\n"  # the source file, not the zip


@pytest.mark.parametrize(("env", "flag", "coloured"), [
    ({"NO_COLOR": "1"}, [], False),
    ({"FORCE_COLOR": "1"}, [], True),
    ({"FORCE_COLOR": "1"}, ["--color", "never"], False),
    ({}, ["--color", "always"], True),
    ({}, [], False),  # not a terminal
], ids=["NO_COLOR", "FORCE_COLOR", "never-beats-FORCE_COLOR", "always", "pipe"])
def test_the_severity_is_a_word_with_or_without_colour(
    env: dict[str, str], flag: list[str], coloured: bool, tmp_path: Path,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(built_with_a_missing_import(tmp_path / "fn"))
    for name in ("NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    assert main(["check", "-q", *flag]) == 1
    out = capsys.readouterr().out
    assert ("\x1b[" in out) is coloured
    assert re.sub(r"\x1b\[[0-9;]*m", "", out) == f"lambda_function.py:1: {FINDING}\n"


def test_nothing_checked_is_never_no_findings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# notes\n")

    assert main(["check", "--files", str(readme)]) == 0
    assert capsys.readouterr().out == "lpack check: no Lambda project or IAM policy among these files\n"


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
def test_output_file_for_every_format(fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(built_with_a_missing_import(tmp_path / "fn"))
    capsys.readouterr()

    assert main(["check", "--format", fmt, "-o", "out/report"]) == 1
    assert capsys.readouterr().out == ""
    written = Path("out/report").read_text()
    assert "LP209" in written
    if fmt in ("json", "sarif"):
        json.loads(written)
    assert [p.name for p in Path("out").iterdir()] == ["report"]  # no temporary file left


def test_build_says_how_long_and_what_next(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "fn"
    root.mkdir()
    (root / "lambda_function.py").write_text("def lambda_handler(event, context):\n    return 1\n")
    monkeypatch.chdir(root)

    assert main(["build", "--runtime", "python3.12"]) == 0
    lines = capsys.readouterr().out.splitlines()
    b64 = json.loads(_json_build(capsys))["artifacts"][0]["sha256_base64"]
    assert re.fullmatch(r"built 1 artifact in \d+\.\d s", lines[-3])
    assert lines[-2:] == ["next: lpack invoke fn -e events/EVENT.json (a sample: lpack events)",
                          f'fn: source_code_hash = "{b64}"']


def _json_build(capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["build", "--runtime", "python3.12", "--format", "json"]) == 0
    return capsys.readouterr().out


@pytest.mark.skipif(shutil.which("tmux") is None, reason="needs Debian's tmux")
def test_build_screen_fits_an_80x24_terminal(tmp_path: Path) -> None:
    """The build as a person sees it in a real 80x24 terminal: progress, table, next steps."""
    root = tmp_path / "fn"
    root.mkdir()
    (root / "lambda_function.py").write_text("def lambda_handler(event, context):\n    return 1\n")
    socket = str(tmp_path / "tmux.sock")
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "COLUMNS", "LINES")}
    command = f"{sys.executable} -m lpack build --runtime python3.12; echo EXIT=$?; sleep 30"
    tmux = ["tmux", "-S", socket, "-f", "/dev/null"]
    subprocess.run([*tmux, "new-session", "-d", "-x", "80", "-y", "24", "-c", str(root), command],
                   check=True, env={**env, "TERM": "xterm-256color"})
    try:
        screen = ""
        for _ in range(200):
            screen = subprocess.run([*tmux, "capture-pane", "-p", "-J"], capture_output=True, text=True,
                                    check=True).stdout
            if "EXIT=" in screen:
                break
            time.sleep(0.1)
    finally:
        subprocess.run([*tmux, "kill-server"], check=False)
    assert "EXIT=0" in screen
    assert "Traceback" not in screen
    assert [line for line in screen.splitlines() if len(line) > 80] == []


def test_build_prints_a_file_name_its_stdout_cannot_encode(tmp_path: Path) -> None:
    """PYTHONIOENCODING=ascii (a C locale, a CI runner): café.py is shown escaped, not a crash after the build."""
    root = tmp_path / "fn"
    root.mkdir()
    (root / "lambda_function.py").write_text("def lambda_handler(event, context):\n    return 1\n")
    (root / "café.py").write_text("X = 1\n")
    (root / "pyproject.toml").write_text('[tool.lpack]\nname = "fn"\nruntime = "python3.12"\n')
    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    done = subprocess.run([sys.executable, "-m", "lpack", "build"], cwd=root, env=env, capture_output=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert b"caf\\xe9.py 6 B" in done.stdout
    assert b"internal error" not in done.stderr
