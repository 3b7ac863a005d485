"""The first hour, as issue #20 walks it: a folder with a handler and requirements.txt, then
`lpack build`, `lpack events api -o events/api.json`, `lpack invoke -e events/api.json`, with no
configuration and whatever Pythons this machine has (the default target's may be missing)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from lpack.cli import main

HANDLER = """\
import json

import demo_pure


def lambda_handler(event, context):
    return {"statusCode": 200, "body": json.dumps({"method": event["httpMethod"], "lib": demo_pure.__name__})}
"""


def test_the_newcomers_path_builds_only_what_runs_and_invokes_it(
        tmp_path: Path, wheelhouse: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "f"
    folder.mkdir()
    monkeypatch.chdir(folder)
    (folder / "lambda_function.py").write_text(HANDLER)
    (folder / "requirements.txt").write_text(f"--no-index\n--find-links {wheelhouse}\ndemo-pure==1.0\n")
    (folder / "README.md").write_text("# my function\n")

    assert main(["build"]) == 0
    assert main(["events", "api", "-o", "events/api.json"]) == 0
    capsys.readouterr()
    assert main(["invoke", "-e", "events/api.json"]) == 0

    out = capsys.readouterr().out
    assert json.loads(out[out.index("{"):out.index("}\n") + 1])["statusCode"] == 200
    assert "REPORT RequestId:" in out
    with zipfile.ZipFile(folder / "dist" / "f.zip") as zf:
        tops = {name.split("/")[0] for name in zf.namelist()}
    # the handler and its dependencies; not the README, the test event or the requirements
    assert tops == {"lambda_function.py", "demo_pure", "demo_pure-1.0.dist-info", "demo_dep", "demo_dep-2.0.dist-info"}
