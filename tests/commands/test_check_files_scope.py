"""`lpack check --files` (pre-commit) checks only the functions the changed files belong to, and
every function when a file is what they all read (issue #23)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lpack.cli import main
from lpack.commands.check import changed_units
from lpack.inputs.config import load_project

GOOD = "def lambda_handler(event, context):\n    return {'ok': True}\n"
BAD = "def handler(event, context):\n    return {'ok': True}\n"  # not the configured handler's name
COUNT = 50


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """50 functions, each its own source folder; a layer of its own code that fn001 uses."""
    root = tmp_path / "repo"
    config = 'runtime = "python3.12"\nhandler = "app.lambda_handler"\n[layers.tools]\nsource = "tools"\n'
    (root / "tools" / "python").mkdir(parents=True)
    (root / "tools" / "python" / "tools.py").write_text("X = 1\n")
    for i in range(COUNT):
        (root / f"fn{i:03d}").mkdir(parents=True)
        (root / f"fn{i:03d}" / "app.py").write_text(BAD if i % 10 == 9 else GOOD)
        config += f'[functions.fn{i:03d}]\nsource = "fn{i:03d}"\n' + ('layers = ["tools"]\n' if i == 1 else "")
    (root / "lpack.toml").write_text(config)
    (root / ".git").mkdir()  # the repository's root bounds the search for projects
    return root


def _check(capsys: pytest.CaptureFixture[str], *files: Path) -> tuple[int, str, set[str]]:
    code = main(["check", "--files", *map(str, files)])
    text = capsys.readouterr().out
    code_json = main(["check", "--files", "--format", "json", *map(str, files)])
    report = json.loads(capsys.readouterr().out)
    assert code_json == code
    return code, text, {str(f.get("function")) for f in report["findings"]}


def test_one_changed_file_checks_its_function_alone(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, text, _ = _check(capsys, root / "fn003" / "app.py")
    assert code == 0
    assert "checked 1 function from source" in text
    code, text, functions = _check(capsys, root / "fn019" / "app.py")
    assert code == 1
    assert "checked 1 function from source" in text
    assert functions == {"fn019"}  # not fn009's, fn029's, ... in the files not changed


def test_files_of_several_functions_check_those(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (root / "fn004" / "lib").mkdir()
    (root / "fn004" / "lib" / "x.py").write_text("Y = 2\n")
    code, text, functions = _check(capsys, root / "fn004" / "lib" / "x.py", root / "fn009" / "app.py",
                                   root / "README.md")
    assert code == 1
    assert "checked 2 functions from source" in text
    assert functions == {"fn009"}


def test_a_layers_file_checks_the_layer_and_the_functions_using_it(
        root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, text, _ = _check(capsys, root / "tools" / "python" / "tools.py")
    assert code == 0
    assert "checked 1 function from source; 1 layer from source" in text


@pytest.mark.parametrize("name", ["lpack.toml", "requirements.txt", "events.json"])
def test_a_file_every_function_reads_checks_them_all(
        root: Path, capsys: pytest.CaptureFixture[str], name: str) -> None:
    (root / name).touch()
    if name == "events.json":  # a test event inside one function's folder may be any function's
        (root / name).rename(root / "fn000" / name)
        name = "fn000/events.json"
    code, text, functions = _check(capsys, root / name)
    assert code == 1
    assert f"checked {COUNT} functions from source; 1 layer from source" in text
    assert functions == {f"fn{i:03d}" for i in range(9, COUNT, 10)}


def test_a_unit_whose_folder_is_a_link_holds_the_files_it_leads_to(root: Path) -> None:
    """A source folder named through a link (a template layer's ``python/``) holds a changed file
    by the folder it leads to, and by its own name; the other units do not."""
    (root / "shared").mkdir()
    (root / "shared" / "lib.py").write_text("Z = 3\n")
    (root / "fn005" / "python").symlink_to(root / "shared")
    project = load_project(root)
    units = tuple(u._replace(source=root / "fn005" / "python") if u.name == "fn005" else u for u in project.units)
    project = project._replace(units=units)
    assert changed_units(project, [root / "shared" / "lib.py"]) == {"fn005"}
    assert changed_units(project, [root / "fn005" / "python" / "lib.py"]) == {"fn005"}
    assert changed_units(project, [root / "fn006" / "app.py"]) == {"fn006"}
