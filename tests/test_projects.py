"""End to end (issues #11, #19): real projects locked by the real tools, offline, then
`lpack build` -- the zip holds exactly the locked set for the target, never a re-resolution, and
the project's tree is never written.

Every project is locked while its wheel folder holds only the old releases; then newer ones
(alpha 2.0, beta 1.5) and a decoy ``shared 9.0`` are published to it, so a build that resolved
again instead of installing the lock would ship them."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from lpack.cli import main
from tests._locktools import HOST_ARCH, HOST_MACHINE, make_local_project
from tests.bundle.test_build import in_tree_backend
from tests.factories import make_wheel
from tests.factories.index import make_simple_index, serve
from tests.inputs.test_pdm import pdm_lock
from tests.inputs.test_pipfile import pipenv_env
from tests.inputs.test_poetry import POETRY, poetry_lock

uv_module = pytest.importorskip("uv")
UV = uv_module.find_uv_bin()

RUNTIME = f"python{sys.version_info[0]}.{sys.version_info[1]}"  # the host's: `lpack invoke` runs it
LPACK = f'\n[tool.lpack]\nruntime = "{RUNTIME}"\n'
HANDLER = "import alpha\nimport beta\n\n\ndef handler(event, context):\n    return {'ok': True}\n"


# --- the wheel folders and the tools ------------------------------------------------------------


def old_wheels(dest: Path) -> Path:
    """What the tools lock from: alpha 1.0 needing beta, and one wheel per role."""
    make_wheel(dest, "alpha", "1.0", requires=["beta"])
    make_wheel(dest, "beta", "1.0")
    for name in ("armdep", "hostdep", "devdep", "gamma"):
        make_wheel(dest, name, "1.0")
    return dest


def publish_newer(wheels: Path, index: Path | None = None) -> None:
    """After locking: the releases a re-resolving build would pick instead of the locked ones."""
    make_wheel(wheels, "alpha", "2.0", requires=["beta"])
    make_wheel(wheels, "beta", "1.5")
    make_wheel(wheels, "shared", "9.0", files={"shared/__init__.py": "NAME = 'decoy'\n", "shared/DECOY": ""})
    if index is not None:
        make_simple_index(wheels, index)


def tool_env(home: Path) -> dict[str, str]:
    """uv, pip and pip-compile with no settings from this machine (module fixtures run before
    conftest's per-test `hermetic`)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_", "VIRTUAL_ENV"))}
    env.update(UV_NO_CONFIG="1", UV_CACHE_DIR=str(home / "uv-cache"), PIP_CONFIG_FILE=os.devnull,
               PIP_NO_CACHE_DIR="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    return env


def run(command: list[str], cwd: Path, env: dict[str, str]) -> None:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def uv_lock(project: Path, wheels: Path) -> None:
    run([UV, "lock", "--no-progress", "--offline", "--no-index", "--find-links", str(wheels)], project,
        tool_env(project.parent))


def write(folder: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(textwrap.dedent(text))
    return folder


def copy(project: Path, dest: Path) -> Path:
    """A copy to mutate (the virtualenv pipenv made is left behind)."""
    shutil.copytree(project, dest, ignore=shutil.ignore_patterns(".venv", "dist"))
    return dest


# --- what a build wrote, and that it wrote nothing else ----------------------------------------


def fingerprint(project: Path) -> dict[str, str]:
    """Every file of the tree but dist/: its path and sha256."""
    return {
        path.relative_to(project).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(project.rglob("*"))
        if path.is_file() and path.relative_to(project).parts[0] != "dist"
    }


def lpack(project: Path, *args: str) -> int:
    """`main(args)`, asserting the project's tree (all but dist/) is byte for byte unchanged."""
    before = fingerprint(project)
    code = main(list(args))
    assert fingerprint(project) == before
    return code


def build(project: Path, *args: str) -> int:
    return lpack(project, "build", str(project), "-q", *args)


def distributions(package: Path) -> set[str]:
    """``name==version`` of every top-level ``*.dist-info/`` folder in the zip."""
    with zipfile.ZipFile(package) as zf:
        tops = {name.split("/", 1)[0] for name in zf.namelist()}
    found = set()
    for top in tops:
        if top.endswith(".dist-info"):
            name, version = top[: -len(".dist-info")].rsplit("-", 1)
            found.add(f"{name.replace('_', '-').lower()}=={version}")
    return found


def names(package: Path) -> set[str]:
    with zipfile.ZipFile(package) as zf:
        return set(zf.namelist())


def one_error(err: str, *words: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("lpack: error: ") and all(w in lines[0] for w in words), lines[0]


BOTH = [pytest.param("x86_64", set(), id="x86_64"), pytest.param("arm64", {"armdep==1.0"}, id="arm64")]


# --- 1. a uv app --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def uv_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`uv init --app`: [project].dependencies, a dev group, no [build-system]; uv.lock."""
    base = tmp_path_factory.mktemp("uv-app")
    wheels = old_wheels(base / "wheels")
    project = write(base / "app", {
        "pyproject.toml": """\
            [project]
            name = "app"
            version = "0.1.0"
            requires-python = ">=3.10"
            dependencies = ["alpha==1.0", "armdep; platform_machine == 'aarch64'"]

            [dependency-groups]
            dev = ["devdep"]
            """ + LPACK + 'handler = "main.handler"\n',
        "main.py": HANDLER,
        ".python-version": "3.12\n",
        "README.md": "# app\n",
    })
    uv_lock(project, wheels)
    publish_newer(wheels)
    return project


@pytest.mark.parametrize(("arch", "more"), BOTH)
def test_uv_app_ships_the_locked_production_set(uv_app: Path, tmp_path: Path, arch: str, more: set[str]) -> None:
    project = copy(uv_app, tmp_path / "app")
    assert build(project, "--arch", arch) == 0
    package = project / "dist" / "app.zip"
    assert distributions(package) == {"alpha==1.0", "beta==1.0"} | more
    assert "main.py" in names(package)
    assert not names(package) & {"pyproject.toml", "uv.lock", ".python-version"}


def test_uv_app_dev_group_ships_when_configured(uv_app: Path, tmp_path: Path) -> None:
    project = copy(uv_app, tmp_path / "app")
    with (project / "pyproject.toml").open("a") as f:
        f.write('groups = ["dev"]\n')  # [tool.lpack] only: the lock stays fresh
    assert build(project, "--arch", "x86_64") == 0
    assert distributions(project / "dist" / "app.zip") == {"alpha==1.0", "beta==1.0", "devdep==1.0"}


# --- 2. a uv workspace --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Members orders (needs the member library shared) and billing, one function each."""
    base = tmp_path_factory.mktemp("uv-workspace")
    wheels = old_wheels(base / "wheels")
    root = write(base / "ws", {
        "pyproject.toml": """\
            [tool.uv.workspace]
            members = ["packages/*"]
            """ + LPACK + textwrap.dedent("""\
            [tool.lpack.functions.orders]
            package = "orders"
            source = "packages/orders/src"
            handler = "orders.handler.handler"

            [tool.lpack.functions.billing]
            package = "billing"
            source = "packages/billing/src"
            handler = "billing.handler.handler"
            """),
        "packages/orders/src/orders/__init__.py": "",
        "packages/orders/src/orders/handler.py": "import alpha\nimport shared\n\n\n"
                                                 "def handler(event, context):\n    return shared.NAME\n",
        "packages/billing/src/billing/__init__.py": "",
        "packages/billing/src/billing/handler.py": "import gamma\n\n\ndef handler(event, context):\n    return 1\n",
        "packages/shared/shared/__init__.py": "NAME = 'local'\n",
        "packages/shared/backend.py": in_tree_backend("shared", "Requires-Dist: beta\\n"),
        "packages/shared/pyproject.toml": """\
            [project]
            name = "shared"
            version = "1.0"
            dependencies = ["beta"]

            [build-system]
            requires = []
            build-backend = "backend"
            backend-path = ["."]
            """,
    })
    orders = make_local_project(root / "packages" / "orders", "orders", requires=["alpha==1.0", "shared"])
    with (orders / "pyproject.toml").open("a") as f:
        f.write("\n[tool.uv.sources]\nshared = { workspace = true }\n")
    make_local_project(root / "packages" / "billing", "billing",
                       requires=["gamma", "armdep; platform_machine == 'aarch64'"])
    uv_lock(root, wheels)
    publish_newer(wheels)  # with a public `shared 9.0` beside the member
    return root


@pytest.mark.parametrize(("arch", "more"), BOTH)
def test_workspace_each_function_ships_its_members_set(workspace: Path, tmp_path: Path, arch: str,
                                                       more: set[str]) -> None:
    root = copy(workspace, tmp_path / "ws")
    assert build(root, "--arch", arch) == 0
    assert distributions(root / "dist" / "orders.zip") == {"alpha==1.0", "beta==1.0", "shared==1.0"}
    assert distributions(root / "dist" / "billing.zip") == {"gamma==1.0"} | more
    assert "orders/handler.py" in names(root / "dist" / "orders.zip")
    assert "billing/handler.py" in names(root / "dist" / "billing.zip")


def test_workspace_member_library_is_built_from_its_folder_not_the_decoy(workspace: Path, tmp_path: Path) -> None:
    root = copy(workspace, tmp_path / "ws")
    assert build(root, "-f", "orders") == 0
    with zipfile.ZipFile(root / "dist" / "orders.zip") as zf:
        assert zf.read("shared/__init__.py") == b"NAME = 'local'\n"
        assert "shared/DECOY" not in zf.namelist()


# --- a uv workspace under a SAM template: each CodeUri folder is a member, uv.lock at the root ---


@pytest.fixture(scope="module")
def sam_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shape of whjye/sam_uv: a function and a layer, each a workspace member (no build system,
    so uv locks them as virtual projects) whose CodeUri/ContentUri is the member's folder, one uv.lock
    at the root; newer releases are published after locking."""
    base = tmp_path_factory.mktemp("sam-uv-workspace")
    wheels = old_wheels(base / "wheels")
    root = write(base / "ws", {
        "pyproject.toml": """\
            [project]
            name = "app"
            version = "0.1.0"
            requires-python = ">=3.11"
            dependencies = ["api", "common"]

            [tool.uv.sources]
            api = { workspace = true }
            common = { workspace = true }

            [tool.uv.workspace]
            members = ["lambda/api", "layers/common"]
            """,
        "lambda/api/pyproject.toml": """\
            [project]
            name = "api"
            version = "0.1.0"
            requires-python = ">=3.11"
            dependencies = ["alpha"]
            """,
        "lambda/api/app.py": "import alpha\nimport gamma\n\n\ndef handler(event, context):\n    return 1\n",
        "layers/common/pyproject.toml": """\
            [project]
            name = "common"
            version = "0.1.0"
            requires-python = ">=3.11"
            dependencies = ["gamma"]
            """,
        "template.yaml": f"""\
            Transform: AWS::Serverless-2016-10-31
            Resources:
              Api:
                Type: AWS::Serverless::Function
                Properties:
                  CodeUri: lambda/api
                  Handler: app.handler
                  Runtime: {RUNTIME}
                  Layers: [!Ref Common]
              Common:
                Type: AWS::Serverless::LayerVersion
                Properties:
                  ContentUri: layers/common
                  CompatibleRuntimes: [{RUNTIME}]
            """,
    })
    uv_lock(root, wheels)
    publish_newer(wheels)  # alpha 2.0 and beta 1.5: what a build that re-resolves would ship
    return root


def test_a_sam_function_in_a_uv_workspace_ships_its_members_locked_set(sam_workspace: Path, tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    root = copy(sam_workspace, tmp_path / "ws")
    assert lpack(root, "build", str(root)) == 0
    err = capsys.readouterr().err
    assert "lambda/api/pyproject.toml is the member api of the uv workspace locked by" in err
    assert distributions(root / "dist" / "Api.zip") == {"alpha==1.0", "beta==1.0"}  # not 2.0 / 1.5, not gamma
    assert distributions(root / "dist" / "Common.zip") == set()  # a layer's are under python/
    with zipfile.ZipFile(root / "dist" / "Common.zip") as zf:
        assert "python/gamma-1.0.dist-info/METADATA" in zf.namelist()
        assert not [n for n in zf.namelist() if n.endswith(("pyproject.toml", "README.md"))]


@pytest.mark.parametrize("template_in", [".", "deploy"])
def test_a_sam_code_uri_inside_a_member_ships_that_members_locked_set(sam_workspace: Path, tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str],
                                                                      template_in: str) -> None:
    """CodeUri: lambda/api/src, a src layout whose pyproject.toml is one level up: the member api's
    dependencies as the root uv.lock pins them (not the whole workspace's, not re-resolved, not
    none), and api's own code from src/, not also as a wheel. The template at the workspace's
    root, or in a folder of its own that no lock is in."""
    root = copy(sam_workspace, tmp_path / "ws")
    (root / "lambda" / "api" / "src").mkdir()
    (root / "lambda" / "api" / "app.py").rename(root / "lambda" / "api" / "src" / "app.py")
    template = (root / "template.yaml").read_text().replace("CodeUri: lambda/api", "CodeUri: lambda/api/src")
    if template_in != ".":
        template = template.replace("CodeUri: lambda/", "CodeUri: ../lambda/").replace("ContentUri: layers/",
                                                                                       "ContentUri: ../layers/")
        (root / "template.yaml").unlink()
    (root / template_in / "template.yaml").parent.mkdir(exist_ok=True)
    (root / template_in / "template.yaml").write_text(template)
    project = root / template_in
    assert lpack(project, "build", str(project)) == 0
    err = " ".join(capsys.readouterr().err.split())  # as the terminal's width folded it
    assert re.search(r"lambda/api/src is in \S*lambda/api, the member api of the uv workspace locked by", err), err
    assert distributions(project / "dist" / "Api.zip") == {"alpha==1.0", "beta==1.0"}  # not api, common or gamma
    with zipfile.ZipFile(project / "dist" / "Api.zip") as zf:
        assert "app.py" in zf.namelist()


def test_a_folder_inside_a_project_that_is_no_member_installs_nothing_of_it(sam_workspace: Path,
                                                                            tmp_path: Path) -> None:
    """Near miss: code below a pyproject.toml that no uv workspace locks (a tools folder, say)
    gets nothing of that project's dependencies."""
    from lpack.inputs.declared import Choice, choose

    root = copy(sam_workspace, tmp_path / "ws")
    tools = write(tmp_path / "tools", {"pyproject.toml": '[project]\nname = "tools"\nversion = "1"\n'
                                                          'dependencies = ["alpha"]\n', "lambda/app.py": ""})
    assert choose([tools / "lambda"], "fn") == Choice()
    inner = choose([root / "lambda" / "api" / "src"], "api")  # no lock scanned: found from the member's folder
    assert (inner.lock, inner.package) == (root / "uv.lock", "api")


def test_a_folder_the_nearest_uv_lock_does_not_lock_stays_unlocked(sam_workspace: Path, tmp_path: Path) -> None:
    """Near miss: a project below another project's uv.lock, not one of its members."""
    from lpack.inputs.declared import choose

    root = copy(sam_workspace, tmp_path / "ws")
    stray = write(root / "tools" / "stray", {"pyproject.toml": '[project]\nname = "stray"\nversion = "1"\n'
                                                               'dependencies = ["alpha"]\n'})
    chosen = choose([stray], "stray")
    assert (chosen.lock, chosen.manifest, chosen.package) == (None, stray / "pyproject.toml", None)
    member = choose([root / "lambda" / "api"], "api")
    assert (member.lock, member.package) == (root / "uv.lock", "api")


def test_a_member_the_workspace_lists_but_its_lock_does_not_is_refused(sam_workspace: Path, tmp_path: Path) -> None:
    """A member added to [tool.uv.workspace] without `uv lock` again: not built unlocked in silence."""
    from lpack.core.errors import ConfigError
    from lpack.inputs.declared import choose

    root = copy(sam_workspace, tmp_path / "ws")
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('members = ["lambda/api", "layers/common"]',
                                                       'members = ["lambda/*", "layers/common"]'))
    new = write(root / "lambda" / "orders", {"pyproject.toml": '[project]\nname = "orders"\nversion = "1"\n'
                                                               'dependencies = ["alpha"]\n'})
    with pytest.raises(ConfigError, match=r"uv.lock: the uv workspace lists .*lambda/orders as a member, but uv.lock "
                                          r"does not lock it; run `uv lock`"):
        choose([new], "orders")


# --- "same answer everywhere": check, check --files, invoke agree with build --------------------


@pytest.mark.parametrize(
    ("fixture", "sources", "functions"),
    [
        pytest.param("uv_app", ["main.py"], [()], id="uv-app"),
        pytest.param("workspace", ["packages/orders/src/orders/handler.py", "packages/billing/src/billing/handler.py"],
                     [("-f", "orders"), ("-f", "billing")], id="workspace"),
    ],
)
def test_check_and_invoke_agree_with_build(request: pytest.FixtureRequest, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str], fixture: str,
                                           sources: list[str], functions: list[tuple[str, ...]]) -> None:
    project = copy(request.getfixturevalue(fixture), tmp_path / "p")
    files = [str(project / "pyproject.toml"), *(str(project / s) for s in sources)]
    for args in (["check", str(project)], ["check", "--files", *files]):  # before any build: the source
        assert lpack(project, *args) == 0, capsys.readouterr()
    for function in functions:
        code = lpack(project, "invoke", str(project), *function, "--payload", "{}", "--python", sys.executable)
        assert code == 0, capsys.readouterr()
    assert build(project) == 0
    for args in (["check", str(project)], ["check", "--files", *files]):  # after: the zips
        assert lpack(project, *args) == 0
    out, err = capsys.readouterr()
    assert "LP204" not in out + err and "LP209" not in out + err


# --- 3. Poetry 2, src layout, packaged ----------------------------------------------------------


@pytest.fixture(scope="module")
def poetry_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    if not POETRY.exists():
        pytest.skip("poetry is not installed in this environment")
    base = tmp_path_factory.mktemp("poetry")
    wheels = old_wheels(base / "wheels")
    index = make_simple_index(wheels, base / "index")
    with serve(index) as url:
        project = write(base / "svc", {
            "pyproject.toml": f"""\
                [project]
                name = "my-svc"
                version = "0.1.0"
                requires-python = ">=3.10"
                dependencies = ["alpha==1.0", "armdep; platform_machine == 'aarch64'"]

                [tool.poetry.group.dev.dependencies]
                devdep = "*"

                [[tool.poetry.source]]
                name = "local"
                url = "{url}/simple/"
                priority = "primary"

                [build-system]
                requires = ["poetry-core>=2.0"]
                build-backend = "poetry.core.masonry.api"
                """ + LPACK + 'handler = "my_svc.handler.handler"\n',
            "src/my_svc/__init__.py": "",
            "src/my_svc/handler.py": HANDLER,
            "tests/test_handler.py": "def test_nothing():\n    pass\n",
        })
        poetry_lock(project, base / "poetry-home")
        publish_newer(wheels, index)
        yield project


@pytest.mark.parametrize(("arch", "more"), BOTH)
def test_poetry_src_layout_ships_its_wheel_and_the_locked_set(poetry_app: Path, tmp_path: Path, arch: str,
                                                              more: set[str]) -> None:
    project = copy(poetry_app, tmp_path / "svc")
    # before any build, check reads the code where the wheel takes it from (src/): no false LP204
    assert lpack(project, "check", str(project), "--arch", arch) == 0
    # poetry-core is not on the offline index: build the project's wheel with this environment's
    assert build(project, "--arch", arch, "--no-build-isolation") == 0
    package = project / "dist" / "svc.zip"
    assert distributions(package) == {"alpha==1.0", "beta==1.0", "my-svc==0.1.0"} | more
    listed = names(package)
    assert "my_svc/handler.py" in listed
    assert not {n for n in listed if n.startswith(("tests/", "src/"))}
    assert not listed & {"poetry.lock", "pyproject.toml"}


# --- 4. a packaged uv project ([build-system] + uv.lock) ----------------------------------------


@pytest.fixture(scope="module")
def uv_packaged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Requires-Dist is unpinned (alpha, beta): only the lock says 1.0."""
    base = tmp_path_factory.mktemp("uv-packaged")
    wheels = old_wheels(base / "wheels")
    project = write(base / "orders", {
        "pyproject.toml": """\
            [project]
            name = "orders"
            version = "1.0"
            requires-python = ">=3.10"
            dependencies = ["alpha", "beta"]

            [build-system]
            requires = []
            build-backend = "backend"
            backend-path = ["."]
            """ + LPACK + 'handler = "orders.handler.handler"\n',
        "backend.py": in_tree_backend("orders", "Requires-Dist: alpha\\nRequires-Dist: beta\\n"),
        "orders/__init__.py": "",
        "orders/handler.py": HANDLER,
    })
    uv_lock(project, wheels)
    publish_newer(wheels)
    return project


def test_packaged_uv_project_own_code_from_its_wheel_deps_from_the_lock(uv_packaged: Path, tmp_path: Path) -> None:
    project = copy(uv_packaged, tmp_path / "orders")
    assert build(project) == 0
    package = project / "dist" / "orders.zip"
    assert distributions(package) == {"alpha==1.0", "beta==1.0", "orders==1.0"}
    assert "orders/handler.py" in names(package) and "backend.py" not in names(package)


# --- 5. pylock.toml by `pip lock` ---------------------------------------------------------------


@pytest.fixture(scope="module")
def pylock_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("pylock")
    wheels = old_wheels(base / "wheels")
    project = write(base / "fn", {
        "requirements.in": "alpha==1.0\n",
        "pyproject.toml": LPACK + 'handler = "main.handler"\n',
        "main.py": HANDLER,
    })
    run([sys.executable, "-m", "pip", "lock", "-r", "requirements.in", "--no-index", "--find-links", str(wheels),
         "-o", "pylock.toml"], project, tool_env(base))
    publish_newer(wheels)
    return project


@pytest.mark.parametrize("arch", ["x86_64", "arm64"])
def test_pip_lock_pylock_ships_the_locked_set(pylock_project: Path, tmp_path: Path, arch: str) -> None:
    project = copy(pylock_project, tmp_path / "fn")
    assert build(project, "--arch", arch) == 0
    assert distributions(project / "dist" / "fn.zip") == {"alpha==1.0", "beta==1.0"}


# --- 6. hashes end to end: pdm, pipenv, pip-compile --generate-hashes ---------------------------


class Locked:
    """A locked project, the wheel file an attacker would replace, and the dependency only one
    architecture gets (pipenv and pip-compile resolve markers on this machine: the host's)."""

    def __init__(self, project: Path, wheel: Path, only: str = "armdep", arch: str = "arm64") -> None:
        self.project = project
        self.wheel = wheel  # the file the installer downloads for alpha 1.0
        self.only = only
        self.arch = arch


@pytest.fixture(scope="module")
def pdm_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Locked]:
    pdm = Path(sys.executable).parent / "pdm"
    if not pdm.exists():
        pytest.skip("pdm is not installed in this environment")
    base = tmp_path_factory.mktemp("pdm")
    wheels = old_wheels(base / "wheels")
    index = make_simple_index(wheels, base / "index")
    with serve(index) as url:
        project = write(base / "fn", {
            "pyproject.toml": f"""\
                [project]
                name = "fn"
                version = "0"
                requires-python = ">=3.10"
                dependencies = ["alpha==1.0", "armdep; platform_machine == 'aarch64'"]

                [dependency-groups]
                dev = ["devdep"]

                [tool.pdm]
                distribution = false

                [[tool.pdm.source]]
                name = "pypi"
                url = "{url}/simple/"
                verify_ssl = false
                """ + LPACK + 'handler = "main.handler"\n',
            "main.py": HANDLER,
        })
        pdm_lock(project, base / "pdm-home")
        (project / ".pdm.toml").unlink(missing_ok=True)
        shutil.rmtree(project / ".pdm-build", ignore_errors=True)
        publish_newer(wheels, index)
        yield Locked(project, index / "files" / "alpha-1.0-py3-none-any.whl")


@pytest.fixture(scope="module")
def pipenv_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Locked]:
    base = tmp_path_factory.mktemp("pipenv")
    wheels = old_wheels(base / "wheels")
    index = make_simple_index(wheels, base / "index")
    with serve(index) as url:
        project = write(base / "fn", {
            "Pipfile": f"""\
                [[source]]
                url = "{url}/simple"
                verify_ssl = false
                name = "local"

                [packages]
                alpha = "==1.0"
                hostdep = {{version = "*", markers = "platform_machine == '{HOST_MACHINE}'"}}

                [dev-packages]
                devdep = "*"
                """,
            "pyproject.toml": LPACK + 'handler = "main.handler"\n',
            "main.py": HANDLER,
        })
        run([sys.executable, "-m", "pipenv", "lock", "--python", sys.executable], project, pipenv_env(base / "home"))
        publish_newer(wheels, index)
        yield Locked(project, index / "files" / "alpha-1.0-py3-none-any.whl", "hostdep", HOST_ARCH)


@pytest.fixture(scope="module")
def compiled_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Locked]:
    """pip-compile writes `--find-links` but never `--no-index`: from an index instead, so the
    build stays on loopback rather than asking PyPI for the same names."""
    base = tmp_path_factory.mktemp("pip-compile")
    wheels = old_wheels(base / "wheels")
    index = make_simple_index(wheels, base / "index")
    with serve(index) as url:
        project = write(base / "fn", {
            "requirements.in": f"alpha==1.0\nhostdep; platform_machine == '{HOST_MACHINE}'\n",
            "pyproject.toml": LPACK + 'handler = "main.handler"\n',
            "main.py": HANDLER,
        })
        pip_compile = Path(sys.executable).parent / "pip-compile"
        run([str(pip_compile), "--quiet", "--generate-hashes", "--index-url", f"{url}/simple",
             "-o", "requirements.txt", "requirements.in"], project, {**tool_env(base), "NO_PROXY": "127.0.0.1"})
        publish_newer(wheels, index)
        yield Locked(project, index / "files" / "alpha-1.0-py3-none-any.whl", "hostdep", HOST_ARCH)


HASHED = ["pdm_project", "pipenv_project", "compiled_project"]


@pytest.mark.parametrize("fixture", HASHED)
def test_hashed_lock_builds_with_hashes(request: pytest.FixtureRequest, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str], fixture: str) -> None:
    locked: Locked = request.getfixturevalue(fixture)
    project = copy(locked.project, tmp_path / "fn")
    for arch in ("x86_64", "arm64"):
        assert build(project, "--arch", arch) == 0
        more = {f"{locked.only}==1.0"} if arch == locked.arch else set()
        assert distributions(project / "dist" / "fn.zip") == {"alpha==1.0", "beta==1.0"} | more
    # the source is main.py; the locks, manifests and the tools' local settings (pdm.toml) stay home
    assert {n for n in names(project / "dist" / "fn.zip") if "/" not in n} == {"main.py"}
    if locked.project.joinpath("requirements.txt").exists():
        assert "--hash=sha256:" in (project / "requirements.txt").read_text()
    else:
        capsys.readouterr()  # -q prints findings only: ask the report where the dependencies came from
        assert lpack(project, "build", str(project), "--format", "json") == 0
        (artifact,) = json.loads(capsys.readouterr().out)["artifacts"]
        assert artifact["dependency_source"].endswith("packages, hashes)")  # the install required them


@pytest.mark.parametrize("fixture", HASHED)
def test_a_wheel_replaced_after_locking_fails_the_build(request: pytest.FixtureRequest, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str], fixture: str) -> None:
    locked: Locked = request.getfixturevalue(fixture)
    project = copy(locked.project, tmp_path / "fn")
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))  # nothing verified earlier
    original = locked.wheel.read_bytes()
    evil = make_wheel(tmp_path / "evil", "alpha", "1.0", requires=["beta"], files={"alpha/__init__.py": "EVIL = 1\n"})
    try:
        locked.wheel.write_bytes(evil.read_bytes())
        capsys.readouterr()
        assert build(project) == 2
    finally:
        locked.wheel.write_bytes(original)
    # (the loopback server's thread also prints the broken pipe when uv aborts the download)
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("lpack: error:")]
    assert len(errors) == 1 and ": hash mismatch for alpha" in errors[0], errors
    declared = {"pdm_project": "pdm.lock", "pipenv_project": "Pipfile.lock", "compiled_project": "requirements.txt"}
    assert errors[0].startswith(f"lpack: error: {project / declared[fixture]}: hash mismatch for alpha")
    assert not (project / "dist").exists()


def test_a_hash_mismatch_says_which_package_and_names_the_lock(pdm_project: Locked, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    project = copy(pdm_project.project, tmp_path / "fn")
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))
    original = pdm_project.wheel.read_bytes()
    evil = make_wheel(tmp_path / "evil", "alpha", "1.0", requires=["beta"], files={"alpha/__init__.py": "EVIL = 1\n"})
    try:
        pdm_project.wheel.write_bytes(evil.read_bytes())
        capsys.readouterr()
        assert build(project) == 2
    finally:
        pdm_project.wheel.write_bytes(original)
    error = next(line for line in capsys.readouterr().err.splitlines() if line.startswith("lpack:"))
    assert error.startswith(f"lpack: error: {project / 'pdm.lock'}: hash mismatch for alpha==1.0: ")


# --- refused declarations: exit 2, one line naming the file -------------------------------------


def two_locks(project: Path) -> None:
    (project / "poetry.lock").write_text("# a Poetry lock\n")


def hand_written_requirements(project: Path) -> None:
    """One that says otherwise than the lock (alpha 1.0); one that pins what the lock pins is its copy."""
    (project / "requirements.txt").write_text("alpha==2.0\n")


def stale(project: Path) -> None:
    path = project / "pyproject.toml"
    path.write_text(path.read_text().replace('"alpha==1.0"', '"alpha==1.0", "gamma"'))


def malformed(project: Path) -> None:
    (project / "uv.lock").write_text("version = 1\n[[package]\nname = \n")


@pytest.mark.parametrize(
    ("mutate", "words"),
    [
        pytest.param(two_locks, ("uv.lock", "poetry.lock"), id="two-locks"),
        pytest.param(hand_written_requirements, ("uv.lock", "requirements.txt"), id="lock-and-requirements"),
        pytest.param(stale, ("uv.lock", "uv lock"), id="stale-lock"),
        pytest.param(malformed, ("uv.lock",), id="malformed-lock"),
    ],
)
def test_a_declaration_lpack_would_not_use_is_refused(uv_app: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str],
                                                      mutate: object, words: tuple[str, ...]) -> None:
    project = copy(uv_app, tmp_path / "app")
    mutate(project)  # type: ignore[operator]
    capsys.readouterr()
    assert build(project) == 2
    _, err = capsys.readouterr()
    one_error(err, *words)
    assert not (project / "dist").exists()


def test_poetry_dependencies_without_poetry_lock_are_refused(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    project = write(tmp_path / "legacy", {
        "pyproject.toml": """\
            [tool.poetry]
            name = "legacy"
            version = "0.1.0"

            [tool.poetry.dependencies]
            python = "^3.10"
            alpha = "1.0"
            """ + LPACK + 'handler = "main.handler"\n',
        "main.py": HANDLER,
    })
    assert build(project) == 2
    one_error(capsys.readouterr().err, "pyproject.toml", "poetry.lock", "poetry lock")


def test_poetry_2_project_without_its_lock_is_refused(poetry_app: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """Its dependencies are in [project], but their index is a [[tool.poetry.source]]: resolving
    them without the lock would ask PyPI instead."""
    project = copy(poetry_app, tmp_path / "svc")
    (project / "poetry.lock").unlink()
    assert build(project, "--no-build-isolation") == 2
    one_error(capsys.readouterr().err, "pyproject.toml", "no poetry.lock", "poetry lock")


@pytest.mark.parametrize(
    ("handler", "code"),
    [pytest.param("main.nowhere", "LP206", id="no-function"), pytest.param("nowhere.handler", "LP204", id="no-module")],
)
def test_a_missing_handler_is_a_finding_and_the_zip_is_written(uv_app: Path, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str],
                                                              handler: str, code: str) -> None:
    project = copy(uv_app, tmp_path / "app")
    path = project / "pyproject.toml"
    path.write_text(path.read_text().replace('handler = "main.handler"', f'handler = "{handler}"'))
    assert build(project) == 1
    assert f" {code} error " in capsys.readouterr().out
    assert distributions(project / "dist" / "app.zip") == {"alpha==1.0", "beta==1.0"}


# --- a SAM template whose CodeUri folder is the uv app --------------------------------------------

SAM_TEMPLATE = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  App:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: app/
      Handler: main.handler
      Runtime: python3.12
      Architectures: [arm64]
"""


def test_a_template_reads_its_code_folders_lock_and_every_command_agrees(
        uv_app: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "sam"
    copy(uv_app, root / "app")
    (root / "template.yaml").write_text(SAM_TEMPLATE)
    files = [str(root / "template.yaml"), str(root / "app" / "main.py")]
    for args in (["check", str(root)], ["check", "--files", *files],
                 ["invoke", str(root), "-f", "App", "--payload", "{}", "--python", sys.executable, "--arch", "x86_64"]):
        assert lpack(root, *args) == 0, capsys.readouterr()
    assert build(root) == 0
    assert distributions(root / "dist" / "App.zip") == {"alpha==1.0", "beta==1.0", "armdep==1.0"}
    assert lpack(root, "check", str(root)) == 0
    out, err = capsys.readouterr()
    assert "LP204" not in out + err and "LP209" not in out + err


def test_a_workspace_members_edit_after_a_build_makes_the_lock_stale(workspace: Path, tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """The staleness verdict is remembered between builds: by every manifest it read, not only the root's."""
    project = copy(workspace, tmp_path / "ws")
    assert build(project, "-f", "orders") == 0
    member = project / "packages" / "orders" / "pyproject.toml"
    member.write_text(member.read_text().replace('"alpha==1.0"', '"alpha==2.0"'))
    capsys.readouterr()
    assert build(project, "-f", "orders") == 2
    one_error(capsys.readouterr().err, "uv.lock", "packages/orders/pyproject.toml", "run `uv lock`")


def test_a_pylock_that_disagrees_with_its_requirements_in_is_stale(pylock_project: Path, tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    project = copy(pylock_project, tmp_path / "fn")
    (project / "requirements.in").write_text("alpha==2.0\n")
    assert build(project) == 2
    one_error(capsys.readouterr().err, "pylock.toml", "requirements.in pins alpha==2.0 but pylock.toml has 1.0")


def test_lpack_lock_reads_a_template_like_every_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """In a SAM folder, `lpack lock` finds the functions the template names (no [tool.lpack] needed)."""
    root = tmp_path / "sam"
    (root / "app").mkdir(parents=True)
    (root / "app" / "app.py").write_text("def handler(e, c):\n    return 1\n")
    (root / "app" / "requirements.txt").write_text("alpha==1.0\n")  # hand-written: lock says how to lock it
    (root / "template.yaml").write_text(SAM_TEMPLATE.replace("main.handler", "app.handler"))
    assert main(["lock", str(root)]) == 2
    err = capsys.readouterr().err
    assert "no Lambda function found" not in err and "requirements.in" in err
