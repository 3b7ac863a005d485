"""What `lpack invoke` says when the run is not quite Lambda's: a runtime whose Python is not
installed here, a function that finds no AWS credentials."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from lpack.core.targets import RUNTIMES
from tests.invoke.test_runner import APP, RUNTIME, invoke, make_zip

PYENV = Path("/root/.pyenv/versions")


def _installed_elsewhere() -> Path | None:
    """A real pyenv Python of a Lambda runtime newer than this one, to install in a pyenv of the test's own."""
    mine = sys.version_info[:2]
    newer = [p for p in PYENV.glob("3.*") if (p / "bin").is_dir()
             and tuple(map(int, p.name.split(".")[:2])) > mine
             and f"python{'.'.join(p.name.split('.')[:2])}" in RUNTIMES]
    return max(newer, key=lambda p: tuple(map(int, p.name.split(".")[:2])), default=None)


@pytest.fixture
def only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A machine whose Pythons are this interpreter and those put in the returned pyenv folder."""
    pyenv = tmp_path / "pyenv"
    (pyenv / "versions").mkdir(parents=True)
    (tmp_path / "bin").mkdir()
    monkeypatch.setenv("PYENV_ROOT", str(pyenv))
    monkeypatch.setenv("UV_PYTHON_INSTALL_DIR", str(tmp_path / "uv"))
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    return pyenv / "versions"


def test_a_runtime_not_installed_names_the_nearest_that_is(tmp_path: Path, only: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    found = _installed_elsewhere()
    if found is None:
        pytest.skip("needs a pyenv Python newer than this one")
    (only / found.name).symlink_to(found)
    version = ".".join(found.name.split(".")[:2])
    package = make_zip(tmp_path / "app.zip", {"app.py": APP})
    code, _, err = invoke(capsys, str(package), "--handler", "app.handler", "--runtime", "python3.14", "--payload", "{}")
    assert code == 0
    assert "python3.14 is not installed here" in err
    assert (f"the nearest Lambda runtime installed here is python{version} (Python {found.name}, "
            f"{only / found.name}/bin/python{version}): pass --runtime python{version} to run as it") in err


def test_with_only_this_python_it_is_the_nearest(tmp_path: Path, only: Path, capsys: pytest.CaptureFixture[str]) -> None:
    package = make_zip(tmp_path / "app.zip", {"app.py": APP})
    code, _, err = invoke(capsys, str(package), "--handler", "app.handler", "--runtime", "python3.14", "--payload", "{}")
    assert code == 0
    assert f"installed here is {RUNTIME} (Python " in err and f"--runtime {RUNTIME} to run as it" in err


def test_no_nearest_when_python_is_chosen(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    package = make_zip(tmp_path / "app.zip", {"app.py": APP})
    other = "python3.14" if RUNTIME != "python3.14" else "python3.13"
    code, _, err = invoke(capsys, str(package), "--handler", "app.handler", "--runtime", other,
                          "--python", sys.executable, "--payload", "{}")
    assert code == 0
    assert f"{other} is not installed here" in err and "the nearest Lambda runtime" not in err


# -- no credentials ---------------------------------------------------------------------------

BOTOCORE = {  # botocore's exception, raised from botocore's code as when it finds no credentials
    "botocore/__init__.py": "",
    "botocore/exceptions.py": "class NoCredentialsError(Exception):\n    pass\n",
    "botocore/auth.py": ("from botocore.exceptions import NoCredentialsError\n\n\ndef add_auth():\n"
                         "    raise NoCredentialsError('Unable to locate credentials')\n"),
}
HANDLERS = '''\
import botocore.auth


class NoCredentialsError(Exception):
    pass


def handler(event, context):
    if event.get("own"):
        raise NoCredentialsError("a class of the function's own")
    if event.get("other"):
        raise ValueError("not about credentials")
    botocore.auth.add_auth()
'''
HINT = ("botocore found no AWS credentials: the function sees only the variables Lambda would set, not your "
        "shell's; pass your profile with --pass-env AWS_PROFILE --pass-env HOME (or your keys: --pass-env "
        "AWS_ACCESS_KEY_ID --pass-env AWS_SECRET_ACCESS_KEY --pass-env AWS_SESSION_TOKEN)")


def _run(tmp_path: Path, capsys: pytest.CaptureFixture[str], *events: dict[str, bool]) -> tuple[int, str, str]:
    package = make_zip(tmp_path / "fn.zip", {**BOTOCORE, "app.py": HANDLERS})
    folder = tmp_path / "events"
    folder.mkdir()
    for i, event in enumerate(events):
        (folder / f"{i:02d}.json").write_text(json.dumps(event))
    return invoke(capsys, str(package), "--handler", "app.handler", "--runtime", RUNTIME,
                  "--python", sys.executable, "--event", str(folder))


def test_no_credentials_from_botocore_gets_one_hint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(tmp_path, capsys, {}, {})
    assert code == 1
    assert out.count("NoCredentialsError") >= 2
    assert err.count(HINT) == 1
    assert f"lpack: note: fn: {HINT}\n" in err


@pytest.mark.parametrize("event", [{"own": True}, {"other": True}], ids=["own-class-of-that-name", "other-error"])
def test_other_errors_get_no_hint(tmp_path: Path, capsys: pytest.CaptureFixture[str], event: dict[str, bool]) -> None:
    code, _, err = _run(tmp_path, capsys, event)
    assert code == 1
    assert "credentials" not in err
