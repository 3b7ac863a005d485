"""Finding a local Python for the runtime, and whether it can load the package's native code."""

from __future__ import annotations

import datetime as dt
import os
import platform
import sys
from pathlib import Path

import pytest

from lpack.analysis.binary import read_binary
from lpack.core.errors import LpackError
from lpack.core.targets import RUNTIMES, Runtime
from lpack.invoke.interpreter import Interpreter, find_interpreter, host_problem
from tests.factories import make_elf

HERE = (sys.version_info[0], sys.version_info[1])
THIS_RUNTIME = next(r for r in RUNTIMES.values() if r.python == HERE)
NOWHERE = Runtime("python3.99", (3, 99), "Amazon Linux 2023", (2, 34), dt.date(2030, 1, 1),
                  None, None, None)


def _script(folder: Path, name: str, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


# --- find_interpreter -----------------------------------------------------------------------


def test_explicit_python_is_probed() -> None:
    found = find_interpreter(THIS_RUNTIME, sys.executable)
    assert found.how == "--python"
    assert found.matches
    assert found.version == HERE
    assert found.full_version == ".".join(map(str, sys.version_info[:3]))
    assert found.machine == platform.machine()
    assert found.system == platform.system()


def test_explicit_python_of_another_version_is_allowed_but_does_not_match() -> None:
    found = find_interpreter(NOWHERE, sys.executable)
    assert (found.how, found.matches, found.version) == ("--python", False, HERE)


def test_explicit_python_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "python3.12"
    with pytest.raises(LpackError, match=rf"^--python {missing}: cannot run it as Python \("):
        find_interpreter(THIS_RUNTIME, str(missing))


def test_explicit_python_that_fails_says_why(tmp_path: Path) -> None:
    shim = _script(tmp_path, "python3.12", 'echo "pyenv: python3.12: command not found" >&2\nexit 127\n')
    with pytest.raises(LpackError, match=r"\(pyenv: python3.12: command not found\)"):
        find_interpreter(THIS_RUNTIME, str(shim))


def test_python_on_path_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / f"python{THIS_RUNTIME.python_version}").symlink_to(sys.executable)
    monkeypatch.setenv("PATH", str(bin_dir))
    found = find_interpreter(THIS_RUNTIME)
    assert (found.how, found.matches, found.version) == ("PATH", True, HERE)


def test_a_pyenv_shim_that_fails_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ran = tmp_path / "shim-ran"
    _script(tmp_path / "shims", "python3.99",
            f'touch "{ran}"\necho "pyenv: python3.99: command not found" >&2\nexit 127\n')
    monkeypatch.setenv("PATH", f"{tmp_path / 'shims'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))

    found = find_interpreter(NOWHERE)

    assert ran.exists()  # it was run, and its failure was noticed
    assert found.how == "this interpreter"
    assert found.path == sys.executable
    assert not found.matches


def test_pyenv_installs_newest_patch_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"python{THIS_RUNTIME.python_version}"
    for version in ("0", "9", "10"):
        bin_dir = tmp_path / "pyenv" / "versions" / f"{THIS_RUNTIME.python_version}.{version}" / "bin"
        bin_dir.mkdir(parents=True)
        (bin_dir / name).symlink_to(sys.executable)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))

    found = find_interpreter(THIS_RUNTIME)

    assert (found.how, found.matches) == ("pyenv", True)
    assert f"{THIS_RUNTIME.python_version}.10" in found.path


def test_a_runtime_installed_nowhere_falls_back_to_this_interpreter() -> None:
    found = find_interpreter(NOWHERE)
    assert found == Interpreter(sys.executable, HERE, platform.python_version(),
                                platform.machine(), platform.system(), False, "this interpreter")


# --- host_problem ---------------------------------------------------------------------------

PYDANTIC = "pydantic_core/_pydantic_core.cpython-312-aarch64-linux-gnu.so"


def _interpreter(machine: str = "x86_64", system: str = "Linux",
                 version: tuple[int, int] = (3, 12)) -> Interpreter:
    path = "/usr/bin/python{}.{}".format(*version)
    return Interpreter(path, version, "{}.{}.1".format(*version), machine, system, True, "PATH")


def _put(tree: Path, rel: str, data: bytes, mode: int = 0o644) -> Path:
    path = tree / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    path.chmod(mode)
    return path


def test_first_64_bytes_are_enough_for_the_machine() -> None:
    for machine in ("x86_64", "aarch64"):
        assert read_binary(make_elf(machine, ["GLIBC_2.17"])[:64]).machine == machine


def test_code_for_another_machine(tmp_path: Path) -> None:
    _put(tmp_path / "task", PYDANTIC, make_elf("aarch64"))
    assert host_problem([tmp_path / "task"], _interpreter("x86_64")) == (
        f"the package holds aarch64 Linux code ({PYDANTIC}) and this machine runs x86_64: "
        "build it with --arch x86_64 to run it here, or run lpack invoke on an arm64 machine"
    )


def test_code_for_another_machine_counts_the_others(tmp_path: Path) -> None:
    _put(tmp_path / "task", "b/two.so", make_elf("x86_64"))
    _put(tmp_path / "task", "a/one.so.1", make_elf("x86_64"))
    _put(tmp_path / "opt", "bin/tool", make_elf("x86_64"), 0o755)
    _put(tmp_path / "opt", "python/fine.so", make_elf("aarch64"))
    problem = host_problem([tmp_path / "task", tmp_path / "opt"], _interpreter("arm64"))
    assert problem == (
        "the package holds x86_64 Linux code (a/one.so.1 and 2 more) and this machine runs "
        "aarch64: build it with --arch arm64 to run it here, or run lpack invoke on an x86_64 machine"
    )


@pytest.mark.parametrize("host", ["aarch64", "arm64", "ARM64"])
def test_same_machine_under_another_name_is_fine(tmp_path: Path, host: str) -> None:
    _put(tmp_path, PYDANTIC, make_elf("aarch64"))
    assert host_problem([tmp_path], _interpreter(host)) is None


def test_matching_machine_and_version_is_fine(tmp_path: Path) -> None:
    _put(tmp_path, "x/y.cpython-312-x86_64-linux-gnu.so", make_elf("x86_64"))
    _put(tmp_path, "bin/tool", make_elf("x86_64"), 0o755)
    assert host_problem([tmp_path], _interpreter("amd64")) is None


def test_linux_code_on_another_system(tmp_path: Path) -> None:
    _put(tmp_path, "x/y.cpython-312-x86_64-linux-gnu.so", make_elf("x86_64"))
    assert host_problem([tmp_path], _interpreter("x86_64", "Darwin")) == (
        "the package holds Linux native code (x/y.cpython-312-x86_64-linux-gnu.so) which cannot "
        "load on Darwin; run lpack invoke on Linux (or in CI)"
    )


def test_extension_for_another_python(tmp_path: Path) -> None:
    _put(tmp_path, "x/y.cpython-312-x86_64-linux-gnu.so", make_elf("x86_64"))
    assert host_problem([tmp_path], _interpreter(version=(3, 11))) == (
        "the package holds extension modules for CPython 3.12 (x/y.cpython-312-x86_64-linux-gnu.so) "
        "and the interpreter is Python 3.11 (/usr/bin/python3.11): install Python 3.12 "
        "(e.g. `uv python install 3.12`) or pass --python"
    )


@pytest.mark.parametrize("name", ["x/_speed.abi3.so", "x/_plain.so", "x/libfoo.so.1.2"])
def test_abi3_and_untagged_extensions_are_fine(tmp_path: Path, name: str) -> None:
    _put(tmp_path, name, make_elf("x86_64"))
    assert host_problem([tmp_path], _interpreter(version=(3, 13))) is None


def test_pure_python_is_fine_anywhere(tmp_path: Path) -> None:
    _put(tmp_path, "app.py", b"def handler(e, c):\n    return 1\n")
    _put(tmp_path, "bin/run", b"#!/bin/sh\nexit 0\n", 0o755)
    assert host_problem([tmp_path], _interpreter("arm64", "Darwin", (3, 9))) is None


def test_elf_data_that_is_neither_shared_nor_executable_is_not_code(tmp_path: Path) -> None:
    _put(tmp_path, "fixtures/sample.bin", make_elf("aarch64"))
    assert host_problem([tmp_path], _interpreter("x86_64")) is None


def test_symlinks_are_not_counted_twice(tmp_path: Path) -> None:
    _put(tmp_path, "lib/libz.so.1.3", make_elf("aarch64"))
    (tmp_path / "lib" / "libz.so.1").symlink_to("libz.so.1.3")
    problem = host_problem([tmp_path], _interpreter("x86_64"))
    assert problem is not None
    assert "(lib/libz.so.1.3)" in problem


def test_pyenvs_own_shims_are_not_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """pyenv's shim for an inactive version only fails; the version it would run is found directly."""
    root = tmp_path / "pyenv"
    ran = tmp_path / "shim-ran"
    name = f"python{THIS_RUNTIME.python_version}"
    _script(root / "shims", name, f'touch "{ran}"\nexit 127\n')
    version_bin = root / "versions" / f"{THIS_RUNTIME.python_version}.4" / "bin"
    version_bin.mkdir(parents=True)
    (version_bin / name).symlink_to(sys.executable)
    monkeypatch.setenv("PATH", str(root / "shims"))
    monkeypatch.setenv("PYENV_ROOT", str(root))

    found = find_interpreter(THIS_RUNTIME)

    assert not ran.exists()
    assert (found.how, found.matches) == ("pyenv", True)


def test_pythons_uv_installed_are_found_in_its_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"python{THIS_RUNTIME.python_version}"
    for patch in ("2", "11"):
        folder = tmp_path / "uv" / f"cpython-{THIS_RUNTIME.python_version}.{patch}-linux-x86_64-gnu" / "bin"
        folder.mkdir(parents=True)
        (folder / name).symlink_to(sys.executable)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "no-pyenv"))
    monkeypatch.setenv("UV_PYTHON_INSTALL_DIR", str(tmp_path / "uv"))

    found = find_interpreter(THIS_RUNTIME)

    assert (found.how, found.matches) == ("uv", True)


def test_what_a_python_is_is_remembered_in_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from lpack.core.cache import default_root
    from lpack.invoke import interpreter

    monkeypatch.setattr(interpreter, "_PROBES", {})
    find_interpreter(THIS_RUNTIME, sys.executable)
    remembered = json.loads((default_root() / "invoke" / "interpreters.json").read_text())
    real = os.path.realpath(sys.executable)
    ((_key, facts),) = [(k, v) for k, v in remembered.items() if k.startswith(real + ":")]
    assert facts[1][:2] == list(HERE)
    monkeypatch.setattr(interpreter, "_PROBES", {})
    monkeypatch.setattr(interpreter, "_run_probe", lambda path: pytest.fail("probed again"))
    assert find_interpreter(THIS_RUNTIME, sys.executable).matches
