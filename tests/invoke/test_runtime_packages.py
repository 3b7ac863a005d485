"""pkg_resources (setuptools) per runtime: `lpack check` and `lpack invoke` agree with each other and
with the runtimes' own site-packages (lpack/core/facts/runtime_packages.py): python3.11 and older
have setuptools, python3.12 and newer do not.

The local interpreter stands in for the runtime's Python: a virtual environment of this Python whose
site-packages holds a pkg_resources module, as the runtime's /var/lang/lib/python3.X/site-packages does.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from lpack.cli import main
from lpack.core.facts.runtime_packages import site_packages
from lpack.core.targets import RUNTIMES
from lpack.invoke import interpreter
from lpack.invoke.interpreter import find_interpreter

HANDLER = "import pkg_resources\n\n\ndef handler(event, context):\n    return pkg_resources.WHERE\n"


def _venv(where: Path, modules: dict[str, str]) -> Path:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True)
    python = where / "bin" / "python"
    site = subprocess.run([python, "-c", "import site; print(site.getsitepackages()[0])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    for name, text in modules.items():
        (Path(site) / name).write_text(text)
    return python


@pytest.fixture(scope="module")
def python_with_setuptools(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _venv(tmp_path_factory.mktemp("venv") / "venv", {"pkg_resources.py": "WHERE = 'runtime site-packages'\n"})


def _project(root: Path, runtime: str, requirements: str | None = None) -> Path:
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text(HANDLER)
    config = f'[tool.lpack]\nhandler = "app.handler"\nsource = "src"\nruntime = "{runtime}"\n'
    if requirements is not None:
        (root / "requirements.txt").write_text(requirements)
        config += 'requirements = "requirements.txt"\n'
    (root / "pyproject.toml").write_text(config)
    return root


@pytest.mark.parametrize("runtime", ["python3.10", "python3.11", "python3.12", "python3.14"])
def test_check_and_invoke_agree_on_pkg_resources(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 python_with_setuptools: Path, runtime: str) -> None:
    shipped = RUNTIMES[runtime].python <= (3, 11)
    root = _project(tmp_path / "fn", runtime)

    main(["check", str(root)])
    out, _ = capsys.readouterr()
    assert ("LP209" in out) is not shipped, out

    code = main(["invoke", str(root), "--python", str(python_with_setuptools), "--payload", "{}", "--format", "json"])
    out, err = capsys.readouterr()
    (invocation,) = json.loads(out)["invocations"]
    if shipped:
        assert code == 0 and invocation["response"] == "runtime site-packages", err
    else:
        assert code == 1
        assert invocation["error"]["errorMessage"] == "Unable to import module 'app': No module named 'pkg_resources'"
        assert (f"pkg_resources is not in the {runtime} runtime, as on Lambda (the python3.11 and older runtimes "
                "have setuptools): add setuptools to the requirements, or use importlib.metadata and "
                "importlib.resources") in err


def test_the_finding_says_which_runtimes_have_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["check", str(_project(tmp_path / "fn", "python3.12"))])
    out, _ = capsys.readouterr()
    assert ("No module named 'pkg_resources' -- the python3.11 and older runtimes have setuptools ('pkg_resources') "
            "in their own site-packages, python3.12 does not (fix: add setuptools to the requirements, or use "
            "importlib.metadata and importlib.resources)") in out


def test_setuptools_in_the_requirements_provides_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(_project(tmp_path / "fn", "python3.12", requirements="setuptools>=70\n"))]) == 0


def test_a_local_python_without_setuptools_says_what_to_do(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The python3.11 runtime has it; this machine's Python does not: the run fails, and says why."""
    bare = _venv(tmp_path / "bare", {})
    code = main(["invoke", str(_project(tmp_path / "fn", "python3.11")), "--python", str(bare), "--payload", "{}"])
    _, err = capsys.readouterr()
    assert code == 1
    assert (f"pkg_resources is in the python3.11 runtime's own site-packages (setuptools), not in Python "
            f"{'.'.join(map(str, sys.version_info[:3]))}'s here ({bare}): install setuptools for that Python") in err


def test_pip_is_in_every_runtime_and_setuptools_until_311() -> None:
    for runtime in RUNTIMES.values():
        modules = site_packages(runtime.python)
        assert "pip" in modules
        assert ("pkg_resources" in modules) is (runtime.python <= (3, 11))


def test_each_virtual_environment_is_its_own_interpreter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two environments of one binary have their own sys.executable and site-packages: the probe
    remembered for one is not the other's."""
    first, second = _venv(tmp_path / "one", {}), _venv(tmp_path / "two", {})
    runtime = RUNTIMES[f"python{sys.version_info[0]}.{sys.version_info[1]}"]
    assert find_interpreter(runtime, str(first)).path == str(first)
    monkeypatch.setattr(interpreter, "_PROBES", {})
    assert find_interpreter(runtime, str(second)).path == str(second)
