"""Where the target comes from: the configuration, else .python-version, else requires-python,
else the default; every build says which, and why a file that was there did not decide it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from lpack.cli import main
from lpack.core.targets import RUNTIMES, lifecycle
from tests.conftest import PINNED_TODAY

HANDLER = "def lambda_handler(event, context):\n    return {'ok': True}\n"
ADVICE = "set runtime and architecture in [tool.lpack] or pass --runtime/--arch"


def project(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in {"lambda_function.py": HANDLER, **files}.items():
        (root / name).write_text(text)
    return root


def target_line(root: Path, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["build", str(root), *args]) == 0
    return capsys.readouterr().out.splitlines()[0]


def built_runtime(root: Path, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    assert main(["build", str(root), "--format", "json"]) == 0
    artifact = json.loads(capsys.readouterr().out)["artifacts"][0]
    return artifact["runtime"], artifact["target_source"]


@pytest.mark.parametrize("written", ["3.12", "3.12.4", "cpython-3.12", "cpython-3.12.4-linux-x86_64-gnu",
                                     "# pinned by uv\n3.12\n3.11\n"])
def test_python_version_names_the_runtime(tmp_path: Path, capsys: pytest.CaptureFixture[str], written: str) -> None:
    root = project(tmp_path / "fn", {".python-version": written + "\n"})

    assert target_line(root, capsys) == "fn: target python3.12 x86_64 (from .python-version)"
    assert built_runtime(root, capsys) == ("python3.12", ".python-version")


def test_requires_python_gives_the_newest_runtime_it_allows(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path / "fn", {"pyproject.toml": '[project]\nname = "fn"\nversion = "1"\n'
                                                       'requires-python = ">=3.11,<3.13"\n'})

    assert target_line(root, capsys) == "fn: target python3.12 x86_64 (from requires-python '>=3.11,<3.13')"
    assert built_runtime(root, capsys) == ("python3.12", "requires-python '>=3.11,<3.13'")


def test_a_patch_bound_still_allows_its_series(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path / "fn", {"pyproject.toml": '[project]\nname = "fn"\nversion = "1"\n'
                                                       'requires-python = "==3.12.1"\n'})

    assert target_line(root, capsys) == "fn: target python3.12 x86_64 (from requires-python '==3.12.1')"


@pytest.mark.parametrize(("written", "why"), [
    pytest.param("2.7", ".python-version says '2.7', which is no Lambda runtime's Python", id="python2"),
    pytest.param("pypy3.10", ".python-version says 'pypy3.10', which is no Lambda runtime's Python", id="pypy"),
    pytest.param("3.7", ".python-version says '3.7', but Lambda no longer creates python3.7 functions", id="blocked"),
])
def test_a_python_version_lambda_cannot_run_falls_back_and_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], written: str, why: str
) -> None:
    root = project(tmp_path / "fn", {".python-version": written + "\n"})

    assert target_line(root, capsys) == f"fn: target python3.14 x86_64 (the default; {why}; {ADVICE})"
    assert built_runtime(root, capsys) == ("python3.14", "default")


def test_then_requires_python_decides(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path / "fn", {".python-version": "2.7\n", "pyproject.toml": (
        '[project]\nname = "fn"\nversion = "1"\nrequires-python = ">=3.11,<3.13"\n')})

    assert target_line(root, capsys) == ("fn: target python3.12 x86_64 (from requires-python '>=3.11,<3.13'; "
                                         ".python-version says '2.7', which is no Lambda runtime's Python)")


def test_requires_python_that_allows_no_runtime_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path / "fn", {"pyproject.toml": '[project]\nname = "fn"\nversion = "1"\n'
                                                       'requires-python = ">=3.15"\n'})

    assert target_line(root, capsys) == ("fn: target python3.14 x86_64 (the default; requires-python '>=3.15' "
                                         f"allows no Lambda runtime's Python; {ADVICE})")


def test_the_configuration_and_the_command_line_win(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path / "fn", {".python-version": "3.12\n", "pyproject.toml": (
        '[project]\nname = "fn"\nversion = "1"\n\n[tool.lpack]\nruntime = "python3.13"\n')})

    assert target_line(root, capsys) == "fn: target python3.13 x86_64 (from pyproject.toml [tool.lpack])"
    assert target_line(root, capsys, "--runtime", "python3.11") == "fn: target python3.11 x86_64 (from --runtime)"


def test_a_templates_runtime_wins(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path / "app", {".python-version": "3.12\n", "template.yaml": (
        "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n"
        "      CodeUri: .\n      Handler: lambda_function.lambda_handler\n      Runtime: python3.13\n")})

    assert target_line(root / "template.yaml", capsys) == "Fn: target python3.13 x86_64 (from template.yaml)"


def test_the_default_with_nothing_to_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path / "fn", {})

    assert target_line(root, capsys) == f"fn: target python3.14 x86_64 (the default; {ADVICE})"


# -- a first invoke runs under a Python that is installed -----------------------------------


def test_invoke_with_no_target_runs_the_newest_runtime_installed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    here = next((r for r in RUNTIMES.values() if r.python == sys.version_info[:2]), None)
    if here is None or here.name == "python3.14" or lifecycle(here, PINNED_TODAY) != "supported":
        pytest.skip("needs lpack to run under a supported Lambda runtime's Python other than the default")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # only the Python running lpack is found
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "no-pyenv"))
    monkeypatch.setenv("UV_PYTHON_INSTALL_DIR", str(tmp_path / "no-uv"))
    root = project(tmp_path / "fn", {"event.json": "{}"})
    monkeypatch.chdir(root)

    assert main(["invoke", "-e", "event.json", "--format", "json"]) == 0

    captured = capsys.readouterr()
    assert json.loads(captured.out)["runtime"] == here.name
    assert captured.err.splitlines()[0] == (
        f"lpack: note: no runtime is configured and python3.14, the default, is not installed here: running "
        f"{here.name}, the newest Lambda runtime installed (set runtime, or `uv python install 3.14` to run "
        "the default)")
    assert not (root / "dist").exists()  # dist/ keeps what `lpack build` makes


@pytest.mark.parametrize(("constraint", "runtime"), [
    ("~3.12", "python3.12"),  # >=3.12,<3.13 (dacci/lambda-python-poetry-demo wrote "~3.9")
    ("^3.11", max((r for r in RUNTIMES.values() if lifecycle(r, PINNED_TODAY) != "blocked"),
                  key=lambda r: r.python).name),  # >=3.11,<4: the newest
    (">=3.11,<3.13", "python3.12"),
])
def test_poetrys_python_constraint_decides_without_requires_python(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                  constraint: str, runtime: str) -> None:
    root = project(tmp_path / "fn", {"pyproject.toml": f'[tool.poetry]\nname = "fn"\n\n[tool.poetry.dependencies]\n'
                                                       f'python = "{constraint}"\n'})

    assert built_runtime(root, capsys) == (runtime, f"[tool.poetry.dependencies] python '{constraint}'")


def test_requires_python_wins_over_poetrys_constraint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path / "fn", {"pyproject.toml": '[project]\nname = "fn"\nversion = "1"\n'
                                                       'requires-python = ">=3.11,<3.12"\n\n'
                                                       '[tool.poetry.dependencies]\npython = "~3.12"\n'})

    assert built_runtime(root, capsys) == ("python3.11", "requires-python '>=3.11,<3.12'")


@pytest.mark.parametrize(("pyproject", "package"), [
    ('[tool.poetry]\nname = "demo"\n\n[build-system]\nrequires = ["poetry-core"]\n', True),  # Poetry 1
    ('[tool.poetry]\nname = "demo"\npackage-mode = false\n\n[build-system]\nrequires = ["poetry-core"]\n', False),
    ('[tool.poetry]\nname = "demo"\n', False),  # no build system: nothing builds it
    ('[project]\nname = "demo"\n\n[build-system]\nrequires = ["hatchling"]\n', True),
])
def test_which_source_folders_are_python_projects_built_into_a_wheel(tmp_path: Path, pyproject: str,
                                                                       package: bool) -> None:
    from lpack.plan import is_python_project

    (tmp_path / "pyproject.toml").write_text(pyproject)
    assert is_python_project(tmp_path) is package
