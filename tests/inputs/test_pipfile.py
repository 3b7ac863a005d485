"""Pipfile.lock reader, on a lock written by the real `pipenv lock` against a loopback index."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from lpack.core.errors import ConfigError
from lpack.core.targets import make_target
from lpack.inputs import pipfile
from lpack.inputs.locked import Local, Selection
from tests._locktools import (
    HOST_ARCH,
    HOST_MACHINE,
    OTHER_ARCH,
    OTHER_MACHINE,
    make_local_project,
    make_wheels,
    pinned,
)
from tests.factories.index import make_simple_index, serve

pytest.importorskip("pipenv")
pytestmark = pytest.mark.skipif(not HOST_ARCH, reason=f"pipenv locks for the host ({HOST_MACHINE})")

MINOR = sys.version_info[1]
HOST = make_target(f"python3.{MINOR}", HOST_ARCH or None, where="test")
OLDER = make_target(f"python3.{MINOR - 1}", HOST_ARCH or None, where="test")
OTHER = make_target(f"python3.{MINOR}", OTHER_ARCH or None, where="test")

PIPFILE = """\
    [[source]]
    url = "{url}/simple"
    verify_ssl = false
    name = "local"

    [packages]
    alpha = "==1.0"
    hostdep = {{version = "*", markers = "platform_machine == '{host}'"}}
    olddep = {{version = "*", markers = "python_version >= '3.{minor}'"}}
    localpkg = {{path = "./localpkg", editable = true}}

    [dev-packages]
    devdep = "*"

    [lambda_extra]
    extradep = "*"

    [otherarch]
    armdep = {{version = "*", markers = "platform_machine == '{other}'"}}
    """


def pipenv_env(home: Path) -> dict[str, str]:
    """pipenv and the pip it runs, kept inside ``home``: no user config, cache or virtualenv."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PIP_", "UV_", "PIPENV_", "VIRTUAL_ENV", "XDG_"))
    }
    env.update(
        HOME=str(home),
        XDG_CACHE_HOME=str(home / "cache"),
        XDG_DATA_HOME=str(home / "data"),
        XDG_CONFIG_HOME=str(home / "config"),
        VIRTUALENV_OVERRIDE_APP_DATA=str(home / "venv-data"),
        PIP_CONFIG_FILE=os.devnull,
        PIPENV_VENV_IN_PROJECT="1",
        PIPENV_IGNORE_VIRTUALENVS="1",
        PIPENV_CACHE_DIR=str(home / "pipenv-cache"),
        PIPENV_NOSPIN="1",
        PIPENV_YES="1",
        PIPENV_DONT_LOAD_ENV="1",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    return env


@pytest.fixture(scope="module")
def locked_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One real `pipenv lock` (about 8 s: it makes a virtualenv), shared by the module."""
    base = tmp_path_factory.mktemp("pipenv")
    wheels = make_wheels(base / "wheels")
    project = base / "project"
    make_local_project(project / "localpkg", "localpkg", requires=["beta"])
    with serve(make_simple_index(wheels, base / "index")) as url:
        (project / "Pipfile").write_text(
            textwrap.dedent(
                PIPFILE.format(url=url, host=HOST_MACHINE, other=OTHER_MACHINE, minor=MINOR)
            )
        )
        done = subprocess.run(
            [sys.executable, "-m", "pipenv", "lock", "--python", sys.executable],
            cwd=project,
            env=pipenv_env(base / "home"),
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        yield project


@pytest.fixture
def project(locked_project: Path, tmp_path: Path) -> Path:
    """A copy a test may edit (the lock and the Pipfile)."""
    copy = tmp_path / "project"
    copy.mkdir()
    for name in ("Pipfile", "Pipfile.lock"):
        (copy / name).write_bytes((locked_project / name).read_bytes())
    return copy


def test_default_packages_with_markers_for_the_host(locked_project: Path) -> None:
    locked = pipfile.read(locked_project / "Pipfile.lock", HOST, Selection())
    # alpha stays 1.0 although 2.0 is on the index; markers hold on the host
    assert pinned(locked) == {"alpha": "1.0", "beta": "1.0", "hostdep": "1.0", "olddep": "1.0"}
    assert all(len(p.hashes) == 1 and p.hashes[0].startswith("sha256:") for p in locked.pins)
    assert locked.hashed
    index = json.loads((locked_project / "Pipfile.lock").read_text())["_meta"]["sources"][0]["url"]
    assert locked.index_urls == (index,)


def test_markers_for_another_python_and_machine(locked_project: Path) -> None:
    assert "olddep" not in pinned(pipfile.read(locked_project / "Pipfile.lock", OLDER, Selection()))
    assert "hostdep" not in pinned(
        pipfile.read(locked_project / "Pipfile.lock", OTHER, Selection())
    )


def test_a_package_pipenv_left_unresolved_is_refused(locked_project: Path) -> None:
    # its marker did not hold where `pipenv lock` ran: pipenv wrote version "*" and no hashes
    lock = locked_project / "Pipfile.lock"
    assert json.loads(lock.read_text())["otherarch"]["armdep"] == {
        "markers": f"platform_machine == '{OTHER_MACHINE}'",
        "version": "*",
    }
    assert "armdep" not in pinned(pipfile.read(lock, HOST, Selection(groups=("otherarch",))))
    with pytest.raises(ConfigError, match=r"armdep is not pinned \(version '\*'\): pipenv leaves"):
        pipfile.read(lock, OTHER, Selection(groups=("otherarch",)))


def test_path_entry_is_local_even_with_a_decoy_on_the_index(locked_project: Path) -> None:
    locked = pipfile.read(locked_project / "Pipfile.lock", HOST, Selection())
    assert locked.local == (Local("localpkg", locked_project / "localpkg"),)  # not localpkg 9.0


@pytest.mark.parametrize(
    ("groups", "added"),
    [
        ((), set()),
        (("dev",), {"devdep"}),
        (("develop",), {"devdep"}),
        (("lambda_extra",), {"extradep"}),
        (("dev-packages", "lambda_extra"), {"devdep", "extradep"}),
    ],
    ids=["none", "dev", "develop", "custom", "both"],
)
def test_categories_on_request(
    locked_project: Path, groups: tuple[str, ...], added: set[str]
) -> None:
    names = set(
        pinned(pipfile.read(locked_project / "Pipfile.lock", HOST, Selection(groups=groups)))
    )
    assert names - {"alpha", "beta", "hostdep", "olddep"} == added


def test_unknown_category(locked_project: Path) -> None:
    message = "no package category 'docs' (it has: default, develop, lambda_extra, otherarch)"
    with pytest.raises(ConfigError, match=re.escape(message)):
        pipfile.read(locked_project / "Pipfile.lock", HOST, Selection(groups=("docs",)))


# --- stale ------------------------------------------------------------------------------------


def test_pipenvs_hash_is_reproduced(project: Path) -> None:
    assert pipfile.stale(project / "Pipfile.lock", project / "Pipfile") is None
    # pipenv hashes canonical names: a recased name does not make the lock stale
    text = (project / "Pipfile").read_text()
    (project / "Pipfile").write_text(text.replace("alpha = ", "Alpha = "))
    assert pipfile.stale(project / "Pipfile.lock", project / "Pipfile") is None


def test_a_changed_pipfile_makes_the_lock_stale(project: Path) -> None:
    text = (project / "Pipfile").read_text()
    (project / "Pipfile").write_text(text.replace('alpha = "==1.0"', 'alpha = "==2.0"'))
    reason = pipfile.stale(project / "Pipfile.lock", project / "Pipfile")
    assert reason is not None
    assert re.fullmatch(
        r"Pipfile changed since Pipfile.lock was written \(its hash is \w{12}…, "
        r"the lock's \w{12}…\); run `pipenv lock`",
        reason,
    )


# --- malformed --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "not a lock file lpack can read .*regenerate it with `pipenv lock`"),
        ("[]", "expected a JSON object, found list"),
        ('{"default": []}', "'default' should be a table"),
        ('{"default": {"a": "==1"}}', "default.a should be an object"),
        (
            '{"default": {"a": {"version": "==1", "hashes": "sha256:00"}}}',
            "'hashes' should be an array",
        ),
        ('{"default": {"a": {"version": "==1", "markers": "os_name =="}}}', "Expected"),
        (
            '{"default": {"a": {"git": "https://x/a.git", "ref": "0"}}}',
            "a comes from version control",
        ),
        ('{"default": {"a": {"hashes": []}}}', r"a is not pinned \(version 'missing'\)"),
        ('{"_meta": {"sources": [{"name": "x"}]}}', "missing key 'url'"),
    ],
    ids=["json", "list", "category", "entry", "hashes", "marker", "git", "unpinned", "source"],
)
def test_malformed_locks(tmp_path: Path, text: str, message: str) -> None:
    lock = tmp_path / "Pipfile.lock"
    lock.write_text(text)
    with pytest.raises(ConfigError, match=message) as raised:
        pipfile.read(lock, HOST, Selection())
    assert str(raised.value).startswith(str(lock))


def test_stale_of_a_malformed_pipfile(project: Path) -> None:
    (project / "Pipfile").write_text("[packages\n")
    with pytest.raises(
        ConfigError, match="Pipfile: not a Pipfile lpack can read .*fix it, then run `pipenv lock`"
    ):
        pipfile.stale(project / "Pipfile.lock", project / "Pipfile")


def _pipenv_requirements(project: Path) -> str:
    """What the real `pipenv requirements` exports from the lock (no header comment)."""
    done = subprocess.run([sys.executable, "-m", "pipenv", "requirements"], cwd=project,
                          env=pipenv_env(project.parent / "home"), capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_a_requirements_txt_exported_by_pipenv_is_the_lock(project: Path) -> None:
    """serverless-patterns' alb-lambda-rest-api-sam-py ships both: the lock is what gets installed."""
    from lpack.inputs.declared import choose

    exported = _pipenv_requirements(project)
    assert "alpha==1.0" in exported and not exported.startswith("#")  # no header says where it came from
    (project / "requirements.txt").write_text(exported)
    chosen = choose([project], "fn")
    assert chosen.lock == project / "Pipfile.lock"
    assert chosen.note.endswith("requirements.txt is an export of Pipfile.lock")


@pytest.mark.parametrize(("edit", "message"), [
    (("alpha==1.0", "alpha==2.0"), r"\(requirements.txt pins alpha==2.0 where Pipfile.lock has 1.0\)"),
    (("alpha==1.0", "alpha>=1.0"), r"\('alpha>=1.0' is not a pin of one version\)"),
    (("alpha==1.0", "alpha==1.0\ngamma==3.0"), r"pins gamma==3.0, which Pipfile.lock does not have"),
])
def test_a_requirements_txt_that_says_otherwise_is_refused(project: Path, edit: tuple[str, str], message: str) -> None:
    from lpack.inputs.declared import choose

    (project / "requirements.txt").write_text(_pipenv_requirements(project).replace(*edit))
    with pytest.raises(ConfigError, match=message):
        choose([project], "fn")
