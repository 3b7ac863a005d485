"""The pdm.lock reader, on locks the real PDM writes against a loopback index and a find-links
folder, both built in the test."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from lpack.core.errors import ConfigError
from lpack.core.targets import Target, make_target
from lpack.inputs import pdm
from lpack.inputs.locked import Local, Locked, Selection
from tests.factories import make_wheel
from tests.factories.index import make_simple_index, serve

PDM = Path(sys.executable).parent / "pdm"
pytestmark = pytest.mark.skipif(not PDM.exists(), reason="pdm is not installed in this environment")

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
    "localdep @ file:///${{PROJECT_ROOT}}/localdep",
]

[project.optional-dependencies]
fast = ["extradep"]

[dependency-groups]
dev = ["devtool"]

[[tool.pdm.source]]
name = "pypi"
url = "{url}/simple/"
verify_ssl = false

[build-system]
requires = ["pdm-backend"]
build-backend = "pdm.backend"
"""

LOCALDEP_PYPROJECT = """\
[project]
name = "localdep"
version = "0.3"
dependencies = ["beta"]

[build-system]
requires = ["pdm-backend"]
build-backend = "pdm.backend"
"""

LINKS_PYPROJECT = """\
[project]
name = "script"
version = "0"
requires-python = ">=3.10"
dependencies = ["beta<2"]

[tool.pdm]
distribution = false

[[tool.pdm.source]]
name = "wheels"
url = "file:///${{PROJECT_ROOT}}/wheels"
type = "find_links"

[[tool.pdm.source]]
name = "pypi"
url = "{url}/simple"
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


def pdm_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PDM_", "PIP_", "UV_", "VIRTUAL_ENV")) and k.lower() not in ("http_proxy", "https_proxy")}
    env.update(PDM_HOME=str(home), PDM_CACHE_DIR=str(home / "cache"), PDM_CONFIG_FILE=str(home / "config.toml"),
               PDM_CHECK_UPDATE="false", PDM_NON_INTERACTIVE="1", PDM_IGNORE_ACTIVE_VENV="1",
               PDM_LOG_DIR=str(home / "log"), PDM_PYTHON=sys.executable, NO_PROXY="127.0.0.1")
    return env


def pdm_lock(project: Path, home: Path) -> Path:
    env = pdm_env(home)
    for args in (["config", "--local", "python.use_venv", "false"], ["lock", "-G", ":all"]):
        result = subprocess.run([str(PDM), *args], cwd=project, env=env, capture_output=True, text=True,
                                timeout=120, check=False)
        assert result.returncode == 0, result.stdout + result.stderr
    return project / "pdm.lock"


@pytest.fixture(scope="module")
def app(index: Index, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A packaged project: [project] deps, a dev group, an extra, a path dependency."""
    project = tmp_path_factory.mktemp("app")
    (project / "pyproject.toml").write_text(APP_PYPROJECT.format(url=index.url))
    (project / "localdep" / "localdep").mkdir(parents=True)
    (project / "localdep" / "pyproject.toml").write_text(LOCALDEP_PYPROJECT)
    (project / "localdep" / "localdep" / "__init__.py").write_text("")
    pdm_lock(project, tmp_path_factory.mktemp("pdm-home"))
    return project


def read(project: Path, target: Target = X86_312, selection: Selection | None = None) -> Locked:
    return pdm.read(project / "pdm.lock", target, selection or Selection(), project / "pyproject.toml")


def versions(locked: Locked) -> dict[str, str]:
    return {p.name: p.version for p in locked.pins}


def test_real_lock_has_groups_and_markers(app: Path) -> None:
    text = (app / "pdm.lock").read_text()
    assert 'strategy = ["inherit_metadata"]' in text and 'marker = "platform_machine == \\"aarch64\\""' in text


def test_default_group_pins_the_locked_old_versions_with_hashes(app: Path, index: Index) -> None:
    locked = read(app)
    assert versions(locked) == {"alpha": "1.0", "beta": "1.0"}
    alpha = next(p for p in locked.pins if p.name == "alpha")
    assert alpha.hashes == (index.sha256("alpha-1.0-py3-none-any.whl"),)
    assert locked.hashed and locked.kind == "pdm.lock"
    assert locked.index_urls == (f"{index.url}/simple/",) and locked.find_links == ()


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
        pytest.param(Selection(), set(), id="default-only"),
        pytest.param(Selection(groups=("dev",)), {"devtool"}, id="dev-group"),
        pytest.param(Selection(extras=("fast",)), {"extradep"}, id="extra"),
    ],
)
def test_groups_and_extras_only_when_selected(app: Path, selection: Selection, added: set[str]) -> None:
    assert set(versions(read(app, X86_312, selection))) == {"alpha", "beta"} | added


def test_unknown_group_is_a_config_error(app: Path) -> None:
    with pytest.raises(ConfigError, match=r"pdm.lock: no group or extra 'docs' in the project \(it has: dev, fast\)"):
        read(app, X86_312, Selection(groups=("docs",)))


def test_target_python_outside_the_lock_is_a_config_error(app: Path) -> None:
    with pytest.raises(ConfigError, match=r"locked for Python >=3.9, which excludes the target python3.8"):
        read(app, make_target("python3.8", "x86_64", where="test"))


def test_find_links_source_and_application(index: Index, tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(LINKS_PYPROJECT.format(url=index.url))
    shutil.copytree(index.wheels, tmp_path / "wheels")
    pdm_lock(tmp_path, tmp_path / "home")
    locked = read(tmp_path)
    assert versions(locked) == {"beta": "1.0"} and locked.local == ()
    assert locked.find_links == ((tmp_path / "wheels").resolve().as_uri(),)
    assert locked.index_urls == (f"{index.url}/simple",)


# --- stale ---------------------------------------------------------------------------------------


def test_fresh_lock_is_not_stale(app: Path) -> None:
    assert pdm.stale(app / "pdm.lock", app / "pyproject.toml") is None


def test_editing_the_dependencies_makes_the_lock_stale(app: Path, tmp_path: Path) -> None:
    shutil.copy(app / "pdm.lock", tmp_path / "pdm.lock")
    edited = (app / "pyproject.toml").read_text().replace('"alpha==1.0",', '"alpha==1.0",\n    "gamma",')
    (tmp_path / "pyproject.toml").write_text(edited)
    assert pdm.stale(tmp_path / "pdm.lock", tmp_path / "pyproject.toml") == (
        "pdm.lock is older than pyproject.toml; run `pdm lock`")


def test_editing_other_tables_keeps_the_lock_fresh(app: Path, tmp_path: Path) -> None:
    shutil.copy(app / "pdm.lock", tmp_path / "pdm.lock")
    edited = (app / "pyproject.toml").read_text().replace('version = "0.1.0"', 'version = "0.2.0"')
    (tmp_path / "pyproject.toml").write_text(edited + '\n[tool.other]\nkey = 1\n')
    assert pdm.stale(tmp_path / "pdm.lock", tmp_path / "pyproject.toml") is None


# --- malformed input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        pytest.param(lambda t: t + "\n[[[", r"invalid TOML", id="bad-toml"),
        pytest.param(lambda t: t.replace("[metadata]", "[meta]").replace("[[metadata.targets]]", "[[meta.t]]"),
                     r"the lock has no 'metadata'", id="no-metadata"),
        pytest.param(lambda t: t.replace('groups = ["default"]', 'groups = "default"', 1),
                     r"'groups' has the wrong type", id="groups-not-a-list"),
        pytest.param(lambda t: t.replace('groups = ["default"]\n', "", 1), r"inherit_metadata", id="no-groups"),
        pytest.param(lambda t: t.replace('marker = "platform_machine ==', 'marker = "platform_machine ===', 1),
                     r"invalid marker", id="bad-marker"),
        pytest.param(lambda t: t.replace('path = "./localdep"', 'git = "https://example.com/l.git"'),
                     r"not supported yet", id="git"),
    ],
)
def test_malformed_lock_is_a_config_error(app: Path, tmp_path: Path, edit: object, message: str) -> None:
    shutil.copy(app / "pyproject.toml", tmp_path / "pyproject.toml")
    lock = tmp_path / "pdm.lock"
    lock.write_text(edit((app / "pdm.lock").read_text()))  # type: ignore[operator]
    with pytest.raises(ConfigError, match=message) as caught:
        read(tmp_path, ARM_312)
    assert str(caught.value).startswith(str(lock))


@pytest.mark.parametrize(
    "pyproject",
    [
        pytest.param('[project]\nname = "x"\ndependencies = ["beta"]\n', id="plain"),
        pytest.param('[project]\nname = "x"\nrequires-python = ">=3.9"\n[dependency-groups]\nDev_Tools = ["alpha"]\n'
                     '[tool.pdm.dev-dependencies]\ndev-tools = ["gamma"]\nlint = ["delta"]\n', id="groups-merged"),
        pytest.param('[project]\nname = "x"\n[tool.pdm.resolution]\nallow-prereleases = true\n'
                     '[[tool.pdm.source]]\nname = "a"\nurl = "https://a.example/simple"\n', id="sources-resolution"),
    ],
)
def test_content_hash_is_pdms(tmp_path: Path, pyproject: str) -> None:
    from lpack.core.compat import tomllib

    with warnings.catch_warnings():  # PDM's own hashing, only in the test; it imports deprecated APIs
        warnings.simplefilter("ignore", DeprecationWarning)
        from pdm import termui
        from pdm.project.project_file import PyProject

    (tmp_path / "pyproject.toml").write_text(pyproject)
    expected = PyProject(tmp_path / "pyproject.toml", ui=termui.UI()).content_hash()
    assert pdm.content_hash(tomllib.loads(pyproject)) == expected
