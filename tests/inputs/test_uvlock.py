"""uv.lock reader, on locks written by the real `uv lock` (offline, from a local wheel folder)."""

from __future__ import annotations

import re
import subprocess
import textwrap
from pathlib import Path

import pytest

from lpack.core.errors import ConfigError
from lpack.core.targets import make_target
from lpack.inputs import uvlock
from lpack.inputs.locked import Local, Selection
from tests._locktools import local_names, make_local_project, make_wheels, pinned
from tests.factories.index import make_simple_index, serve

uv_module = pytest.importorskip("uv")

ARM312 = make_target("python3.12", "arm64", where="test")
X86_312 = make_target("python3.12", "x86_64", where="test")


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_wheels(tmp_path_factory.mktemp("wheels"))


def uv_lock(project: Path, *args: str) -> Path:
    """`uv lock` with the settings on the command line: the suite sets UV_NO_CONFIG, which
    makes uv ignore [tool.uv] settings (but not sources or workspaces)."""
    command = [uv_module.find_uv_bin(), "lock", "--no-progress", *args]
    subprocess.run(command, cwd=project, check=True, capture_output=True, text=True)
    return project / "uv.lock"


def offline(project: Path, wheels: Path) -> Path:
    return uv_lock(project, "--offline", "--no-index", "--find-links", str(wheels))


def write_project(folder: Path, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pyproject.toml").write_text(textwrap.dedent(body))
    return folder


APP = """\
    [project]
    name = "app"
    version = "0.1"
    requires-python = ">=3.10"
    dependencies = [
        "alpha==1.0",
        "armdep; platform_machine == 'aarch64'",
        "olddep; python_version < '3.12'",
        "withextra[fast]",
        "localpkg",
    ]

    [project.optional-dependencies]
    xtra = ["extradep"]

    [dependency-groups]
    dev = ["devdep", {include-group = "lint"}]
    lint = ["lintdep"]

    [tool.uv.sources]
    localpkg = { path = "libs/localpkg" }
    """


@pytest.fixture
def app(tmp_path: Path, wheels: Path) -> Path:
    """A virtual project (no build-system) with a path dependency and every kind of edge."""
    project = write_project(tmp_path / "app", APP)
    make_local_project(project / "libs" / "localpkg", "localpkg", requires=["beta"])
    return offline(project, wheels)


BASE = {"alpha": "1.0", "beta": "1.0", "withextra": "1.0", "gamma": "1.0"}


@pytest.mark.parametrize(
    ("runtime", "architecture", "expected"),
    [
        ("python3.12", "x86_64", BASE),
        ("python3.12", "arm64", {**BASE, "armdep": "1.0"}),
        ("python3.11", "x86_64", {**BASE, "olddep": "1.0"}),
        ("python3.11", "arm64", {**BASE, "armdep": "1.0", "olddep": "1.0"}),
    ],
    ids=["py312-x86_64", "py312-arm64", "py311-x86_64", "py311-arm64"],
)
def test_markers_are_evaluated_for_the_target(
    app: Path, wheels: Path, runtime: str, architecture: str, expected: dict[str, str]
) -> None:
    locked = uvlock.read(app, make_target(runtime, architecture, where="test"), Selection())
    assert pinned(locked) == expected  # alpha stays 1.0 although 2.0 is in the folder
    assert locked.kind == "uv.lock"
    assert locked.find_links == (str(wheels),)  # uv wrote it relative to the lock
    assert locked.index_urls == ()


def test_path_dependency_is_local_even_with_a_decoy_on_the_index(app: Path) -> None:
    locked = uvlock.read(app, ARM312, Selection())
    # the virtual root has nothing to build; localpkg 9.0 in the wheel folder is not used
    assert locked.local == (Local("localpkg", app.parent / "libs" / "localpkg"),)
    assert "localpkg" not in pinned(locked)


def test_dev_groups_only_on_request(app: Path) -> None:
    assert "devdep" not in pinned(uvlock.read(app, X86_312, Selection()))
    with_dev = pinned(uvlock.read(app, X86_312, Selection(groups=("dev",))))
    assert {"devdep", "lintdep"} <= with_dev.keys()  # include-group followed
    assert pinned(uvlock.read(app, X86_312, Selection(groups=("lint",)))).keys() - BASE.keys() == {
        "lintdep"
    }


def test_extras_of_the_root_and_of_an_edge(app: Path) -> None:
    assert "extradep" not in pinned(uvlock.read(app, X86_312, Selection()))
    assert pinned(uvlock.read(app, X86_312, Selection(extras=("xtra",))))["extradep"] == "1.0"
    assert pinned(uvlock.read(app, X86_312, Selection()))["gamma"] == "1.0"  # withextra[fast]


@pytest.mark.parametrize(
    ("selection", "message"),
    [
        (Selection(groups=("docs",)), "app has no dependency group 'docs' (it has: dev, lint)"),
        (Selection(extras=("fast",)), "app has no extra 'fast' (it has: xtra)"),
        (
            Selection(package="other"),
            "'other' is not a project of this workspace; the members are app",
        ),
    ],
    ids=["group", "extra", "package"],
)
def test_unknown_selection(app: Path, selection: Selection, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        uvlock.read(app, X86_312, selection)


def test_a_packaged_root_is_local(tmp_path: Path, wheels: Path) -> None:
    project = make_local_project(tmp_path / "svc", "svc", requires=["alpha==1.0"])
    locked = uvlock.read(offline(project, wheels), X86_312, Selection())
    assert locked.local == (Local("svc", project),)
    assert pinned(locked) == {"alpha": "1.0", "beta": "1.0"}


def test_versions_forked_by_marker(tmp_path: Path, wheels: Path) -> None:
    project = write_project(
        tmp_path / "fork",
        """\
        [project]
        name = "fork"
        version = "0.1"
        requires-python = ">=3.10"
        dependencies = ["alpha==1.0; platform_machine == 'aarch64'",
                        "alpha==2.0; platform_machine != 'aarch64'"]
        """,
    )
    lock = offline(project, wheels)
    assert pinned(uvlock.read(lock, ARM312, Selection()))["alpha"] == "1.0"
    assert pinned(uvlock.read(lock, X86_312, Selection()))["alpha"] == "2.0"


# --- workspaces ---------------------------------------------------------------------------


@pytest.fixture
def workspace(tmp_path: Path, wheels: Path) -> Path:
    root = write_project(
        tmp_path / "ws",
        """\
        [tool.uv.workspace]
        members = ["functions/*", "libs/*"]
        """,
    )
    fa = make_local_project(root / "functions" / "fa", "fa", requires=["alpha==1.0", "shared"])
    with (fa / "pyproject.toml").open("a") as f:
        f.write("\n[tool.uv.sources]\nshared = { workspace = true }\n")
    make_local_project(
        root / "functions" / "fb", "fb", requires=["gamma", "armdep; platform_machine == 'aarch64'"]
    )
    make_local_project(root / "libs" / "shared", "shared", requires=["beta"])
    return offline(root, wheels)


def test_each_member_gets_only_its_own_dependencies(workspace: Path) -> None:
    root = workspace.parent
    fa = uvlock.read(workspace, ARM312, Selection(package="fa"))
    assert pinned(fa) == {"alpha": "1.0", "beta": "1.0"}
    assert local_names(fa) == {"fa": root / "functions" / "fa", "shared": root / "libs" / "shared"}
    fb = uvlock.read(workspace, ARM312, Selection(package="FB"))
    assert pinned(fb) == {"gamma": "1.0", "armdep": "1.0"}
    assert local_names(fb) == {"fb": root / "functions" / "fb"}
    assert pinned(uvlock.read(workspace, X86_312, Selection(package="fb"))) == {"gamma": "1.0"}


def test_a_workspace_root_without_a_project_needs_a_member(workspace: Path) -> None:
    with pytest.raises(ConfigError, match="the workspace root is not a project .* fa, fb, shared"):
        uvlock.read(workspace, X86_312, Selection())
    with pytest.raises(
        ConfigError,
        match="'nope' is not a project of this workspace; the members are fa, fb, shared",
    ):
        uvlock.read(workspace, X86_312, Selection(package="nope"))


# --- an index: hashes and URLs ------------------------------------------------------------


def test_an_index_gives_hashes_and_the_index_url(tmp_path: Path, wheels: Path) -> None:
    project = make_local_project(tmp_path / "svc", "svc", requires=["alpha==1.0"])
    with serve(make_simple_index(wheels, tmp_path / "index")) as url:
        lock = uv_lock(project, "--default-index", f"{url}/simple")
    locked = uvlock.read(lock, X86_312, Selection())
    assert locked.index_urls == (f"{url}/simple",)
    assert locked.find_links == ()
    assert locked.hashed
    alpha = next(p for p in locked.pins if p.name == "alpha")
    assert len(alpha.hashes) == 1 and alpha.hashes[0].startswith("sha256:") and alpha.url is None


# --- stale --------------------------------------------------------------------------------


def test_a_fresh_lock_is_not_stale_though_uv_rewrites_markers(app: Path) -> None:
    # uv records python_version < '3.12' as python_full_version < '3.12', names normalised
    assert "python_full_version < '3.12'" in app.read_text()
    assert uvlock.stale(app, app.parent / "pyproject.toml") is None
    pyproject = app.parent / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text()
        .replace("alpha==1.0", "Alpha == 1.0")
        .replace("python_version < '3.12'", "python_full_version < '3.12.0'")
    )
    assert uvlock.stale(app, pyproject) is None


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        (
            "alpha==1.0",
            "alpha==2.0",
            "dependencies changed .*added 'alpha==2.0'; removed 'alpha==1.0'",
        ),
        ("platform_machine == 'aarch64'", "platform_machine == 'x86_64'", "dependencies changed"),
        (
            'lint = ["lintdep"]',
            'lint = ["lintdep", "gamma"]',
            "dependency group 'dev' changed .*added 'gamma'",
        ),
        (
            'xtra = ["extradep"]',
            'xtra = ["extradep", "gamma"]',
            "dependencies changed .*added 'gamma; extra == \"xtra\"'",
        ),
    ],
    ids=["version", "marker", "group", "extra"],
)
def test_a_changed_pyproject_makes_the_lock_stale(
    app: Path, old: str, new: str, reason: str
) -> None:
    pyproject = app.parent / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace(old, new))
    found = uvlock.stale(app, pyproject)
    assert found is not None and found.endswith("run `uv lock`")
    assert re.search(reason, found), found


def test_a_changed_member_makes_the_workspace_lock_stale(workspace: Path) -> None:
    root = workspace.parent
    assert uvlock.stale(workspace, root / "pyproject.toml") is None
    fb = root / "functions" / "fb" / "pyproject.toml"
    fb.write_text(fb.read_text().replace('"gamma"', '"gamma>=1"'))
    assert "dependencies changed" in (uvlock.stale(workspace, root / "pyproject.toml") or "")


# --- what lpack refuses ---------------------------------------------------------------------


def test_a_git_dependency_is_refused(app: Path) -> None:
    git = 'source = { git = "https://example.com/beta?rev=main#0123abcd" }'
    text, count = re.subn(
        r'(name = "beta"\nversion = "1.0"\n)source = \{[^}]*\}', rf"\g<1>{git}", app.read_text()
    )
    assert count == 1
    app.write_text(text)
    with pytest.raises(
        ConfigError, match="beta comes from git .* does not install git dependencies yet"
    ):
        uvlock.read(app, X86_312, Selection())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "version = 1\n[[package]\n",
            "not a lock file lpack can read .*regenerate it with `uv lock`",
        ),
        ("version = 2\n", "uv.lock format version 2 is not one lpack reads"),
        ('version = 1\n[[package]]\nname = "app"\n', "missing key 'source'"),
        ('version = 1\npackage = "app"\n', "'package' should be an array"),
        (
            'version = 1\n[[package]]\nname = "app"\nversion = "1"\nsource = { virtual = "." }\n'
            + 'dependencies = [{ name = "ghost" }]\n',
            "a dependency on 'ghost' matches 0 locked packages",
        ),
        (
            'version = 1\nrequires-python = ">=3.13"\n',
            "locked for Python >=3.13, but python3.12 x86_64 runs Python 3.12",
        ),
    ],
    ids=["toml", "version", "no-source", "wrong-type", "dangling-edge", "python"],
)
def test_malformed_locks(tmp_path: Path, text: str, message: str) -> None:
    lock = tmp_path / "uv.lock"
    lock.write_text(text)
    with pytest.raises(ConfigError, match=message) as raised:
        uvlock.read(lock, X86_312, Selection())
    assert str(raised.value).startswith(str(lock))


def test_conflicting_extras_choose_their_fork(tmp_path: Path, wheels: Path) -> None:
    # uv marks the fork edges extra == 'extra-4-conf-cpu' (its encoding of conf[cpu])
    project = write_project(
        tmp_path / "conf",
        """\
        [project]
        name = "conf"
        version = "0.1"
        requires-python = ">=3.10"
        dependencies = ["alpha"]

        [project.optional-dependencies]
        cpu = ["alpha==1.0"]
        gpu = ["alpha==2.0"]

        [tool.uv]
        conflicts = [[{extra = "cpu"}, {extra = "gpu"}]]
        """,
    )
    lock = uv_lock(project, "--offline", "--no-index", "--find-links", str(wheels))
    assert "extra == 'extra-4-conf-cpu'" in lock.read_text()
    assert pinned(uvlock.read(lock, X86_312, Selection()))["alpha"] == "2.0"
    assert pinned(uvlock.read(lock, X86_312, Selection(extras=("cpu",))))["alpha"] == "1.0"
    assert pinned(uvlock.read(lock, X86_312, Selection(extras=("gpu",))))["alpha"] == "2.0"
    with pytest.raises(ConfigError, match=r"alpha is reached in 2 versions \(1.0, 2.0\)"):
        uvlock.read(lock, X86_312, Selection(extras=("cpu", "gpu")))
