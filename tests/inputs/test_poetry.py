"""The poetry.lock reader, on locks the real Poetry 2 writes against a loopback index, and on a
lock-version 2.0 file shaped as Poetry 1.8 writes it (Poetry 1 is not installed)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from lpack.core.errors import ConfigError
from lpack.core.targets import Target, make_target
from lpack.inputs import poetry
from lpack.inputs.locked import Local, Locked, Selection
from tests.factories import make_wheel
from tests.factories.index import make_simple_index, serve

POETRY = Path(sys.executable).parent / "poetry"
pytestmark = pytest.mark.skipif(not POETRY.exists(), reason="poetry is not installed in this environment")

X86_312 = make_target("python3.12", "x86_64", where="test")
ARM_312 = make_target("python3.12", "arm64", where="test")
X86_311 = make_target("python3.11", "x86_64", where="test")

APP_PYPROJECT = """\
[project]
name = "my-fn"
version = "0.1.0"
requires-python = ">=3.9"
dependencies = [
    "alpha==1.0",
    "armdep; platform_machine == 'aarch64'",
    "olddep; python_version < '3.12'",
    "localdep",
]

[project.optional-dependencies]
fast = ["extradep"]

[tool.poetry]
packages = [{{include = "my_fn"}}]

[tool.poetry.dependencies]
localdep = {{path = "localdep", develop = true}}

[tool.poetry.group.dev.dependencies]
devtool = "*"

[[tool.poetry.source]]
name = "local"
url = "{url}/simple/"
priority = "primary"

[build-system]
requires = ["poetry-core>=2.0"]
build-backend = "poetry.core.masonry.api"
"""

LOCALDEP_PYPROJECT = """\
[project]
name = "localdep"
version = "0.3"
dependencies = ["beta"]

[build-system]
requires = ["poetry-core>=2.0"]
build-backend = "poetry.core.masonry.api"
"""

SCRIPT_PYPROJECT = """\
[tool.poetry]
package-mode = false

[tool.poetry.dependencies]
python = "^3.10"
beta = {{version = "<2", markers = "platform_machine == 'aarch64'"}}

[[tool.poetry.source]]
name = "local"
url = "{url}/simple/"
priority = "primary"
"""


class Index:
    def __init__(self, url: str, wheels: Path) -> None:
        self.url = url
        self.wheels = wheels

    def sha256(self, filename: str) -> str:
        return "sha256:" + hashlib.sha256((self.wheels / filename).read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Index]:
    """A loopback index where each pinned project also has a newer version the lock must not pick."""
    wheels = tmp_path_factory.mktemp("wheels")
    for name, versions, requires in [
        ("alpha", ("1.0",), ["beta<2"]), ("alpha", ("2.0",), ["beta"]), ("beta", ("1.0", "2.0"), []),
        ("armdep", ("1.0",), []), ("olddep", ("1.0",), []), ("extradep", ("1.0",), []), ("devtool", ("1.0",), []),
    ]:
        for version in versions:
            make_wheel(wheels, name, version, requires=requires)
    root = make_simple_index(wheels, tmp_path_factory.mktemp("index"))
    with serve(root) as url:
        yield Index(url, wheels)


def poetry_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("POETRY_", "PIP_", "UV_")) and k.lower() not in ("http_proxy", "https_proxy")}
    env.update(POETRY_CACHE_DIR=str(home / "cache"), POETRY_CONFIG_DIR=str(home / "config"),
               POETRY_DATA_DIR=str(home / "data"), POETRY_VIRTUALENVS_CREATE="false",
               POETRY_NO_INTERACTION="1", NO_PROXY="127.0.0.1")
    return env


def poetry_lock(project: Path, home: Path) -> Path:
    result = subprocess.run([str(POETRY), "lock"], cwd=project, env=poetry_env(home),
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return project / "poetry.lock"


@pytest.fixture(scope="module")
def app(index: Index, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A packaged Poetry 2 project: [project] deps, a dev group, an extra, a path dependency."""
    project = tmp_path_factory.mktemp("app")
    (project / "pyproject.toml").write_text(APP_PYPROJECT.format(url=index.url))
    (project / "my_fn").mkdir()
    (project / "my_fn" / "__init__.py").write_text("")
    (project / "localdep" / "localdep").mkdir(parents=True)
    (project / "localdep" / "pyproject.toml").write_text(LOCALDEP_PYPROJECT)
    (project / "localdep" / "localdep" / "__init__.py").write_text("")
    poetry_lock(project, tmp_path_factory.mktemp("poetry-home"))
    return project


def read(project: Path, target: Target = X86_312, selection: Selection | None = None) -> Locked:
    return poetry.read(project / "poetry.lock", target, selection or Selection(), project / "pyproject.toml")


def versions(locked: Locked) -> dict[str, str]:
    return {p.name: p.version for p in locked.pins}


# --- Poetry 2, lock-version 2.1 ----------------------------------------------------------------


def test_real_lock_is_lock_version_2_1(app: Path) -> None:
    text = (app / "poetry.lock").read_text()
    assert 'lock-version = "2.1"' in text and 'groups = ["main"]' in text


def test_main_group_pins_the_locked_old_versions_with_hashes(app: Path, index: Index) -> None:
    locked = read(app)
    assert versions(locked) == {"alpha": "1.0", "beta": "1.0"}
    alpha = next(p for p in locked.pins if p.name == "alpha")
    assert alpha.hashes == (index.sha256("alpha-1.0-py3-none-any.whl"),)
    assert locked.hashed and locked.kind == "poetry.lock" and locked.source == app / "poetry.lock"
    assert locked.index_urls == (f"{index.url}/simple/",)


def test_packaged_root_and_path_dependency_are_local(app: Path) -> None:
    assert read(app).local == (Local("my-fn", app.resolve()), Local("localdep", (app / "localdep").resolve()))


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        pytest.param(X86_312, {"alpha", "beta"}, id="x86_64-3.12"),
        pytest.param(ARM_312, {"alpha", "beta", "armdep"}, id="arm64-3.12"),
        pytest.param(X86_311, {"alpha", "beta", "olddep"}, id="x86_64-3.11"),
    ],
)
def test_markers_are_evaluated_for_the_target(app: Path, target: Target, expected: set[str]) -> None:
    assert set(versions(read(app, target))) == expected


@pytest.mark.parametrize(
    ("selection", "added"),
    [
        pytest.param(Selection(), set(), id="main-only"),
        pytest.param(Selection(groups=("dev",)), {"devtool"}, id="dev-group"),
        pytest.param(Selection(extras=("fast",)), {"extradep"}, id="extra"),
    ],
)
def test_groups_and_extras_only_when_selected(app: Path, selection: Selection, added: set[str]) -> None:
    assert set(versions(read(app, X86_312, selection))) == {"alpha", "beta"} | added


def test_unknown_group_is_a_config_error(app: Path) -> None:
    with pytest.raises(ConfigError, match=r"pyproject.toml: no dependency group 'docs' \(the project has: dev, main\)"):
        read(app, X86_312, Selection(groups=("docs",)))


def test_target_python_outside_the_lock_is_a_config_error(app: Path) -> None:
    with pytest.raises(ConfigError, match=r"locked for Python >=3.9, which excludes the target python3.8"):
        read(app, make_target("python3.8", "x86_64", where="test"))


def test_package_mode_false_has_no_root(index: Index, tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(SCRIPT_PYPROJECT.format(url=index.url))
    poetry_lock(tmp_path, tmp_path / "home")
    assert read(tmp_path, X86_312).local == ()
    assert read(tmp_path, X86_312).pins == ()
    arm = read(tmp_path, ARM_312)
    assert versions(arm) == {"beta": "1.0"} and arm.local == ()


# --- stale ---------------------------------------------------------------------------------------


def test_fresh_lock_is_not_stale(app: Path) -> None:
    assert poetry.stale(app / "poetry.lock", app / "pyproject.toml") is None


def test_editing_the_dependencies_makes_the_lock_stale(app: Path, tmp_path: Path) -> None:
    shutil.copy(app / "poetry.lock", tmp_path / "poetry.lock")
    edited = (app / "pyproject.toml").read_text().replace('"alpha==1.0",', '"alpha==1.0",\n    "gamma",')
    (tmp_path / "pyproject.toml").write_text(edited)
    assert poetry.stale(tmp_path / "poetry.lock", tmp_path / "pyproject.toml") == (
        "poetry.lock is older than pyproject.toml; run `poetry lock`")


def test_editing_other_tables_keeps_the_lock_fresh(app: Path, tmp_path: Path) -> None:
    shutil.copy(app / "poetry.lock", tmp_path / "poetry.lock")
    edited = (app / "pyproject.toml").read_text().replace('version = "0.1.0"', 'version = "0.2.0"')
    (tmp_path / "pyproject.toml").write_text(edited + '\n[tool.other]\nkey = 1\n')
    assert poetry.stale(tmp_path / "poetry.lock", tmp_path / "pyproject.toml") is None


@pytest.mark.parametrize(
    "pyproject",
    [
        pytest.param('[tool.poetry.dependencies]\npython = "^3.9"\nbeta = "*"\n', id="poetry1-style"),
        pytest.param('[project]\nname = "x"\ndependencies = ["beta"]\n[dependency-groups]\ndev = ["alpha"]\n',
                     id="pep735-groups"),
        pytest.param('[project]\nname = "x"\nrequires-python = ">=3.9"\n'
                     '[tool.poetry.group.dev.dependencies]\nalpha = "*"\n', id="project-and-group"),
    ],
)
def test_content_hash_is_poetrys(pyproject: str) -> None:
    from poetry.core.utils._compat import tomllib  # Poetry's own reading, only in the test
    from poetry.packages.locker import Locker

    data = tomllib.loads(pyproject)
    assert poetry.content_hash(data) == Locker(Path("poetry.lock"), data)._get_content_hash()


# --- Poetry 1.8, lock-version 2.0 ----------------------------------------------------------------

V20_PYPROJECT = """\
[tool.poetry]
name = "legacy-fn"
version = "0.1.0"
description = ""
authors = []

[tool.poetry.dependencies]
python = "^3.9"
alpha = {version = "1.0", extras = ["speed"]}
olddep = {version = "*", python = "<3.12"}
extradep = {version = "*", optional = true}
localdep = {path = "localdep", develop = true}

[tool.poetry.extras]
fast = ["extradep"]

[tool.poetry.group.dev.dependencies]
devtool = "*"

[[tool.poetry.source]]
name = "local"
url = "http://127.0.0.1:9/simple/"
priority = "primary"
"""


def v20_package(name: str, version: str, extra: str = "", optional: bool = False) -> str:
    digest = hashlib.sha256(f"{name}-{version}".encode()).hexdigest()
    return textwrap.dedent(f"""\
        [[package]]
        name = "{name}"
        version = "{version}"
        description = ""
        optional = {str(optional).lower()}
        python-versions = "*"
        files = [
            {{file = "{name}-{version}-py3-none-any.whl", hash = "sha256:{digest}"}},
        ]
        """) + extra + textwrap.dedent("""
        [package.source]
        type = "legacy"
        url = "http://127.0.0.1:9/simple"
        reference = "local"

        """)


V20_LOCK = (
    "# This file is automatically @generated by Poetry 1.8.3 and should not be changed by hand.\n\n"
    + v20_package("alpha", "1.0", textwrap.dedent("""
        [package.dependencies]
        beta = [
            {version = "1.0", markers = "platform_machine == \\"aarch64\\""},
            {version = "2.0", markers = "platform_machine != \\"aarch64\\""},
        ]
        speedup = {version = ">=1.0", optional = true}

        [package.extras]
        speed = ["speedup (>=1.0)"]
        """))
    + v20_package("beta", "1.0") + v20_package("beta", "2.0") + v20_package("devtool", "1.0")
    + v20_package("extradep", "1.0", optional=True)
    + textwrap.dedent("""\
        [[package]]
        name = "localdep"
        version = "0.3"
        description = ""
        optional = false
        python-versions = "*"
        files = []
        develop = true

        [package.source]
        type = "directory"
        url = "localdep"

        """)
    + v20_package("olddep", "1.0") + v20_package("speedup", "1.0", optional=True)
    + textwrap.dedent("""\
        [extras]
        fast = ["extradep"]

        [metadata]
        lock-version = "2.0"
        python-versions = "^3.9"
        content-hash = "CONTENT_HASH"
        """)
)


@pytest.fixture
def legacy(tmp_path: Path) -> Path:
    from lpack.core.compat import tomllib

    (tmp_path / "pyproject.toml").write_text(V20_PYPROJECT)
    digest = poetry.content_hash(tomllib.loads(V20_PYPROJECT))
    (tmp_path / "poetry.lock").write_text(V20_LOCK.replace("CONTENT_HASH", digest))
    return tmp_path


@pytest.mark.parametrize(
    ("target", "selection", "expected"),
    [
        pytest.param(X86_312, Selection(), {"alpha": "1.0", "beta": "2.0", "speedup": "1.0"}, id="x86_64"),
        pytest.param(ARM_312, Selection(), {"alpha": "1.0", "beta": "1.0", "speedup": "1.0"}, id="arm64"),
        pytest.param(X86_311, Selection(), {"alpha": "1.0", "beta": "2.0", "speedup": "1.0", "olddep": "1.0"},
                     id="python-3.11"),
        pytest.param(X86_312, Selection(groups=("dev",), extras=("fast",)),
                     {"alpha": "1.0", "beta": "2.0", "speedup": "1.0", "devtool": "1.0", "extradep": "1.0"},
                     id="dev-and-extra"),
    ],
)
def test_lock_version_2_0_is_walked_from_the_pyproject(
        legacy: Path, target: Target, selection: Selection, expected: dict[str, str]) -> None:
    locked = read(legacy, target, selection)
    assert versions(locked) == expected
    assert locked.local == (Local("legacy-fn", legacy.resolve()), Local("localdep", (legacy / "localdep").resolve()))
    assert locked.hashed and locked.index_urls == ("http://127.0.0.1:9/simple/",)


def test_lock_version_2_0_hash_is_read_as_fresh(legacy: Path) -> None:
    assert poetry.stale(legacy / "poetry.lock", legacy / "pyproject.toml") is None
    with (legacy / "pyproject.toml").open("a") as f:
        f.write('gamma = "*"\n')  # lands in [[tool.poetry.source]]: a table the hash covers
    assert poetry.stale(legacy / "poetry.lock", legacy / "pyproject.toml") is not None


# --- malformed input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        pytest.param(lambda t: t + "\n[[[", r"invalid TOML", id="bad-toml"),
        pytest.param(lambda t: t.replace("[metadata]", "[meta]"), r"the lock has no 'metadata'", id="no-metadata"),
        pytest.param(lambda t: t.replace('lock-version = "2.0"', 'lock-version = "9.0"'), r"lock-version 9.0",
                     id="future-version"),
        pytest.param(lambda t: t.replace('version = "1.0"\n', "version = 1\n", 1), r"'version' has the wrong type",
                     id="version-not-a-string"),
        pytest.param(lambda t: t.replace("files = []", "files = 3"), r"'files' has the wrong type", id="files"),
        pytest.param(lambda t: t.replace('markers = "platform_machine ==', 'markers = "platform_machine ===', 1),
                     r"invalid marker", id="bad-marker"),
        pytest.param(lambda t: t.replace('type = "directory"', 'type = "git"'),
                     r"git dependencies are not supported yet", id="git"),
        pytest.param(lambda t: t.replace('name = "beta"', 'nom = "beta"', 1), r"#2 has no 'name'", id="no-name"),
    ],
)
def test_malformed_lock_is_a_config_error(legacy: Path, edit: object, message: str) -> None:
    lock = legacy / "poetry.lock"
    lock.write_text(edit(lock.read_text()))  # type: ignore[operator]
    with pytest.raises(ConfigError, match=message) as caught:
        read(legacy, ARM_312)
    assert str(caught.value).startswith(str(lock))
    assert "poetry lock" in str(caught.value) or "git" in str(caught.value)


def test_missing_pyproject_is_a_config_error(legacy: Path) -> None:
    (legacy / "pyproject.toml").unlink()
    with pytest.raises(ConfigError, match=r"pyproject.toml: no such file"):
        read(legacy)
