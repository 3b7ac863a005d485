"""pylock.toml reader, on locks written by the real `pip lock` and `uv export --format pylock.toml`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lpack.core.errors import ConfigError
from lpack.core.targets import Target, make_target
from lpack.inputs import pylock
from lpack.inputs.locked import Local, Selection
from tests._locktools import (
    HOST_ARCH,
    HOST_MACHINE,
    OTHER_ARCH,
    local_names,
    make_local_project,
    make_wheels,
    pinned,
)

uv_module = pytest.importorskip("uv")

ARM312 = make_target("python3.12", "arm64", where="test")
X86_312 = make_target("python3.12", "x86_64", where="test")
needs_known_host = pytest.mark.skipif(
    not HOST_ARCH, reason=f"pip locks for the host ({HOST_MACHINE})"
)


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_wheels(tmp_path_factory.mktemp("wheels"))


def run(command: list[str], cwd: Path) -> None:
    """``command`` with no installer settings from this machine (module fixtures run before
    conftest's per-test ``hermetic``), its uv cache beside ``cwd``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_"))}
    env.update(UV_NO_CONFIG="1", UV_CACHE_DIR=str(cwd.parent / "uv-cache"), PIP_CONFIG_FILE=os.devnull)
    subprocess.run(command, cwd=cwd, env=env, check=True, capture_output=True, text=True)


def pip_lock(folder: Path, wheels: Path, *requirements: str) -> Path:
    """`pip lock` (pip >= 25.1) from the wheel folder only, with no cache outside the test."""
    options = ["--no-cache-dir", "--no-index", "--find-links", str(wheels), "-o", "pylock.toml"]
    run([sys.executable, "-m", "pip", "lock", *options, *requirements], folder)
    return folder / "pylock.toml"


def uv_export(project: Path, wheels: Path, *args: str) -> Path:
    """`uv lock` then `uv export --format pylock.toml` (settings on the command line: the suite
    sets UV_NO_CONFIG)."""
    uv = uv_module.find_uv_bin()
    run([uv, "lock", "--offline", "--no-index", "--find-links", str(wheels)], project)
    run([uv, "export", "--frozen", "--format", "pylock.toml", "-o", "pylock.toml", *args], project)
    return project / "pylock.toml"


def write_project(folder: Path, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pyproject.toml").write_text(textwrap.dedent(body))
    return folder


# --- pip lock ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pip_locked(tmp_path_factory: pytest.TempPathFactory, wheels: Path) -> Path:
    """One real `pip lock` (seconds), read by several tests: none of them writes to it."""
    folder = tmp_path_factory.mktemp("pip-locked")
    make_local_project(folder / "localpkg", "localpkg", requires=["beta"])
    return pip_lock(folder, wheels, "alpha==1.0", "./localpkg", "fastlib")


@needs_known_host
def test_pip_lock_pins_files_and_a_local_directory(pip_locked: Path, wheels: Path) -> None:
    locked = pylock.read(
        pip_locked, make_target("python3.12", HOST_ARCH, where="test"), Selection()
    )
    assert pinned(locked) == {"alpha": "1.0", "beta": "1.0", "fastlib": "1.0"}  # not alpha 2.0
    # the local project, although localpkg 9.0 is in the wheel folder
    assert locked.local == (Local("localpkg", pip_locked.parent / "localpkg"),)
    alpha = next(p for p in locked.pins if p.name == "alpha")
    assert alpha.url == (wheels / "alpha-1.0-py3-none-any.whl").as_uri()
    assert len(alpha.hashes) == 1 and alpha.hashes[0].startswith("sha256:")
    assert locked.hashed and locked.index_urls == () and locked.find_links == ()


@needs_known_host
def test_pip_lock_has_no_file_for_the_other_machine(pip_locked: Path) -> None:
    # pip lock locks for the machine it runs on: fastlib has only the host's wheel
    message = f"fastlib 1.0 has no file python3.12 {OTHER_ARCH} can install .*{HOST_MACHINE}.whl, and no sdist"
    with pytest.raises(ConfigError, match=message):
        pylock.read(pip_locked, make_target("python3.12", OTHER_ARCH, where="test"), Selection())


@needs_known_host
def test_pip_lock_writes_the_hosts_choices_without_markers(tmp_path: Path, wheels: Path) -> None:
    lock = pip_lock(
        tmp_path,
        wheels,
        "armdep; platform_machine == 'aarch64'",
        "x86dep; platform_machine == 'x86_64'",
    )
    assert "marker" not in lock.read_text()
    host_dep = {"x86_64": "x86dep", "arm64": "armdep"}[HOST_ARCH]
    # what the lock says is all lpack can install, whatever the target
    assert pinned(
        pylock.read(lock, make_target("python3.12", OTHER_ARCH, where="test"), Selection())
    ) == {host_dep: "1.0"}


# --- uv export --------------------------------------------------------------------------------


APP = """\
    [project]
    name = "app"
    version = "0.1"
    requires-python = ">=3.10"
    dependencies = [
        "alpha==1.0",
        "armdep; platform_machine == 'aarch64'",
        "olddep; python_version < '3.12'",
        "fastlib",
        "localpkg",
    ]

    [dependency-groups]
    dev = ["devdep"]

    [tool.uv.sources]
    localpkg = { path = "libs/localpkg" }
    """


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory, wheels: Path) -> Path:
    """One real `uv lock` and `uv export`, read by several tests: none of them writes to it."""
    project = write_project(tmp_path_factory.mktemp("exported") / "app", APP)
    make_local_project(project / "libs" / "localpkg", "localpkg", requires=["beta"])
    return uv_export(project, wheels, "--no-dev")


BASE = {"alpha": "1.0", "beta": "1.0", "fastlib": "1.0"}


@pytest.mark.parametrize(
    ("runtime", "architecture", "expected"),
    [
        ("python3.12", "x86_64", BASE),
        ("python3.12", "arm64", {**BASE, "armdep": "1.0"}),
        ("python3.11", "x86_64", {**BASE, "olddep": "1.0"}),
    ],
    ids=["py312-x86_64", "py312-arm64", "py311-x86_64"],
)
def test_uv_export_markers_are_evaluated_for_the_target(
    exported: Path, wheels: Path, runtime: str, architecture: str, expected: dict[str, str]
) -> None:
    locked = pylock.read(exported, make_target(runtime, architecture, where="test"), Selection())
    assert pinned(locked) == expected
    machine = {"x86_64": "x86_64", "arm64": "aarch64"}[architecture]
    fastlib = next(p for p in locked.pins if p.name == "fastlib")
    assert fastlib.url is not None and fastlib.url.endswith(f"_{machine}.whl")  # the target's wheel
    assert len(fastlib.hashes) == 2  # either machine's file
    assert locked.find_links == (str(wheels),)  # uv writes a find-links folder as the index


def test_uv_export_directory_is_local_and_dev_left_out(exported: Path) -> None:
    locked = pylock.read(exported, X86_312, Selection())
    assert local_names(locked) == {"localpkg": exported.parent / "libs" / "localpkg"}
    assert "localpkg" not in pinned(locked) and "devdep" not in pinned(locked)


def test_groups_and_extras_cannot_be_chosen_after_uv_export(exported: Path) -> None:
    # uv export resolves extras and groups when it writes; the lock has none left to choose
    with pytest.raises(ConfigError, match="the lock has no dependency groups to choose from"):
        pylock.read(exported, X86_312, Selection(groups=("dev",)))


def test_uv_export_of_one_workspace_member(tmp_path: Path, wheels: Path) -> None:
    root = write_project(tmp_path / "ws", '[tool.uv.workspace]\nmembers = ["functions/*"]\n')
    make_local_project(root / "functions" / "fa", "fa", requires=["alpha==1.0"])
    make_local_project(root / "functions" / "fb", "fb", requires=["gamma"])
    lock = uv_export(root, wheels, "--package", "fb")
    locked = pylock.read(lock, ARM312, Selection())
    assert pinned(locked) == {"gamma": "1.0"}
    assert local_names(locked) == {"fb": root / "functions" / "fb"}


# --- PEP 751 extras and dependency groups (no tool here writes them yet) -----------------------


def write_lock(folder: Path, body: str) -> Path:
    lock = folder / "pylock.prod.toml"
    lock.write_text(textwrap.dedent(body))
    return lock


WHEEL = 'wheels = [{ name = "x-1.0-py3-none-any.whl", url = "https://files.example/x-1.0-py3-none-any.whl", hashes = { sha256 = "00" } }]'
SPEC_LOCK = f"""\
    lock-version = "1.0"
    created-by = "hand"
    extras = ["xtra"]
    dependency-groups = ["dev", "base"]
    default-groups = ["base"]

    [[packages]]
    name = "always"
    version = "1.0"
    {WHEEL}

    [[packages]]
    name = "base-dep"
    version = "1.0"
    marker = "'base' in dependency_groups"
    {WHEEL}

    [[packages]]
    name = "dev-dep"
    version = "1.0"
    marker = "'dev' in dependency_groups"
    {WHEEL}

    [[packages]]
    name = "extra-dep"
    version = "1.0"
    marker = "'xtra' in extras and platform_machine == 'aarch64'"
    {WHEEL}
    """


@pytest.mark.parametrize(
    ("selection", "target", "expected"),
    [
        (Selection(), ARM312, {"always", "base-dep"}),
        (Selection(groups=("dev",)), ARM312, {"always", "base-dep", "dev-dep"}),
        (Selection(extras=("xtra",)), ARM312, {"always", "base-dep", "extra-dep"}),
        (Selection(extras=("xtra",)), X86_312, {"always", "base-dep"}),
    ],
    ids=["default-groups", "dev", "extra", "extra-other-machine"],
)
def test_pep751_extras_and_groups(
    tmp_path: Path, selection: Selection, target: Target, expected: set[str]
) -> None:
    lock = write_lock(tmp_path, SPEC_LOCK)
    assert set(pinned(pylock.read(lock, target, selection))) == expected


def test_unknown_extra(tmp_path: Path) -> None:
    lock = write_lock(tmp_path, SPEC_LOCK)
    with pytest.raises(ConfigError, match=re.escape("the lock has no extra 'fast' (it has: xtra)")):
        pylock.read(lock, X86_312, Selection(extras=("fast",)))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('lock-version = "1.0"\n[[packages]\n', "not a lock file lpack can read"),
        ('lock-version = "2.0"\n', "lock-version '2.0' is not one lpack reads"),
        ('created-by = "x"\n', "missing key 'lock-version'"),
        (
            'lock-version = "1.0"\n[[packages]]\nname = "a"\nversion = "1"\nwheels = "a.whl"\n',
            "'wheels' should be an array",
        ),
        (
            'lock-version = "1.0"\n[[packages]]\nname = "a"\nversion = "1"\n',
            "a has no wheels, sdist, archive, directory or vcs",
        ),
        (
            'lock-version = "1.0"\n[[packages]]\nname = "a"\nmarker = "platform_machine ="\n',
            "Expected",
        ),
        (
            'lock-version = "1.0"\n[[packages]]\nname = "a"\nvcs = { type = "git", url = "https://x" }\n',
            "a comes from version control",
        ),
        ('lock-version = "1.0"\nrequires-python = "<3.12"\n', "locked for Python <3.12"),
    ],
    ids=["toml", "version", "no-version", "wrong-type", "no-source", "bad-marker", "vcs", "python"],
)
def test_malformed_locks(tmp_path: Path, text: str, message: str) -> None:
    lock = tmp_path / "pylock.toml"
    lock.write_text(text)
    with pytest.raises(ConfigError, match=message) as raised:
        pylock.read(lock, X86_312, Selection())
    assert str(raised.value).startswith(str(lock))
