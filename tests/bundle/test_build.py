"""`lpack build` end to end: real installers, real wheels, real zips opened with zipfile."""

from __future__ import annotations

import hashlib
import os
import re
import stat
import zipfile
from pathlib import Path

import pytest

from lpack.bundle import zipwriter
from lpack.cli import main
from tests.factories import make_wheel

HANDLER = "def lambda_handler(event, context):\n    return {'ok': True}\n"


def project(root: Path, requirements: str | None = None, files: dict[str, str] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "lambda_function.py").write_text(HANDLER)
    for name, text in (files or {}).items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    if requirements is not None:
        (root / "requirements.txt").write_text(requirements)
    return root


def local(wheelhouse: Path, *lines: str) -> str:
    return "\n".join(["--no-index", f"--find-links {wheelhouse}", *lines]) + "\n"


def build(*args: str) -> int:
    return main(["build", "-q", *args])


def names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as zf:
        return zf.namelist()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("installer", ["uv", "pip"])
def test_installs_for_the_target_not_the_host(tmp_path: Path, wheelhouse: Path, installer: str) -> None:
    root = project(tmp_path / "fn", local(wheelhouse, "fastlib==1.0", "demo-pure==1.0"))
    assert build(str(root), "--runtime", "python3.13", "--arch", "arm64", "--installer", installer) == 0
    with zipfile.ZipFile(root / "dist" / "fn.zip") as zf:
        listed = zf.namelist()
        so = [n for n in listed if n.endswith(".so")]
        assert so == ["fastlib/_native.cpython-313-aarch64-linux-gnu.so"]
        assert zf.read(so[0])[18:20] == (183).to_bytes(2, "little")  # e_machine = EM_AARCH64
    assert "lambda_function.py" in listed
    assert "demo_pure/__init__.py" in listed and "demo_dep/__init__.py" in listed  # with its dependency
    assert any(n.startswith("demo_pure-1.0.dist-info/") for n in listed)  # metadata kept
    assert not any(n.startswith("bin/") for n in listed)  # console-script wrappers dropped
    assert not any(n.endswith((".pyc", "direct_url.json", ".lock")) for n in listed)
    assert "requirements.txt" not in listed  # a build input, not code


def test_x86_64_target_gets_x86_64_wheel(tmp_path: Path, wheelhouse: Path) -> None:
    root = project(tmp_path / "fn", local(wheelhouse, "fastlib==1.0"))
    assert build(str(root), "--runtime", "python3.12", "--arch", "x86_64") == 0
    assert "fastlib/_native.cpython-312-x86_64-linux-gnu.so" in names(root / "dist" / "fn.zip")


@pytest.mark.parametrize("installer", ["uv", "pip"])
def test_no_wheel_for_target_names_every_package(tmp_path: Path, wheelhouse: Path, installer: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path / "fn", local(wheelhouse, "demo-pure==1.1", "only-sdist", "armonly"))
    code = build(str(root), "--runtime", "python3.12", "--arch", "x86_64", "--installer", installer)
    err = capsys.readouterr().err
    assert code == 2
    errors = [line for line in err.splitlines() if line.startswith("lpack: error: ")]
    assert [line.split(": ", 4)[2:4] for line in errors] == [
        [f"{root / 'requirements.txt'}:4", "only-sdist"], [f"{root / 'requirements.txt'}:5", "armonly"]]
    assert all("no wheel for python3.12 x86_64" in line for line in errors)
    assert "Traceback" not in err
    assert not (root / "dist").exists()


def test_same_inputs_same_bytes_across_folders_and_clocks(tmp_path: Path, wheelhouse: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    reqs = local(wheelhouse, "demo-pure==1.0", "fastlib==1.0")
    first = project(tmp_path / "a" / "fn", reqs, {"pkg/util.py": "X = 1\n"})
    second = project(tmp_path / "elsewhere" / "deeper" / "fn", reqs, {"pkg/util.py": "X = 1\n"})
    os.utime(second / "lambda_function.py", (1_000_000_000, 1_000_000_000))
    os.chmod(second / "pkg" / "util.py", 0o600)  # a stricter umask on another machine
    assert build(str(first), "--arch", "arm64") == 0
    monkeypatch.setenv("LPACK_CACHE_DIR", str(tmp_path / "other-cache"))
    assert build(str(second), "--arch", "arm64") == 0
    assert sha256(first / "dist" / "fn.zip") == sha256(second / "dist" / "fn.zip")


def test_zip_entries_sorted_fixed_time_normalized_modes(tmp_path: Path, wheelhouse: Path) -> None:
    root = project(tmp_path / "fn", local(wheelhouse, "demo-pure==1.0"), {"run.sh": "#!/bin/sh\n"})
    os.chmod(root / "run.sh", 0o700)
    os.chmod(root / "lambda_function.py", 0o600)
    assert build(str(root)) == 0
    with zipfile.ZipFile(root / "dist" / "fn.zip") as zf:
        infos = zf.infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    modes = {i.filename: stat.S_IMODE(i.external_attr >> 16) for i in infos}
    assert modes["lambda_function.py"] == 0o644  # readable by the Lambda runtime user
    assert modes["run.sh"] == 0o755
    assert modes["demo_pure/"] == 0o755
    assert all(i.create_system == 3 and not i.extra for i in infos)


def test_source_date_epoch_sets_timestamps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = project(tmp_path / "fn")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # 2023-11-14 22:13:20 UTC
    assert build(str(root)) == 0
    with zipfile.ZipFile(root / "dist" / "fn.zip") as zf:
        assert zf.getinfo("lambda_function.py").date_time == (2023, 11, 14, 22, 13, 20)


def test_failed_write_keeps_previous_zip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = project(tmp_path / "fn")
    assert build(str(root)) == 0
    before = (root / "dist" / "fn.zip").read_bytes()
    (root / "lambda_function.py").write_text(HANDLER + "# edited\n")

    def fail_midway(out: object, members: object, stamp: object = None) -> None:
        out.write(b"PK\x03\x04 partial")  # type: ignore[attr-defined]
        raise KeyboardInterrupt

    monkeypatch.setattr(zipwriter, "write_zip", fail_midway)
    assert build(str(root)) == 130
    assert (root / "dist" / "fn.zip").read_bytes() == before
    assert sorted(p.name for p in (root / "dist").iterdir()) == ["fn.zip", "lpack-manifest.json"]  # no temporary left


def test_layer_puts_dependencies_under_python(tmp_path: Path, wheelhouse: Path) -> None:
    root = project(tmp_path / "fn", local(wheelhouse, "demo-pure==1.0"))
    assert build(str(root), "--as-layer") == 0
    listed = names(root / "dist" / "fn-layer.zip")
    assert all(n.startswith("python/") for n in listed)
    assert "python/demo_pure/__init__.py" in listed
    assert "python/lambda_function.py" not in listed and "lambda_function.py" not in listed


def test_default_and_user_excludes(tmp_path: Path) -> None:
    root = project(tmp_path / "fn", files={
        "pkg/__init__.py": "", "pkg/__pycache__/x.cpython-312.pyc": "", "pkg/mod.pyc": "",
        ".git/config": "", ".venv/pyvenv.cfg": "", "myenv/pyvenv.cfg": "", "myenv/lib/x.py": "",
        "dist/old.zip": "", ".idea/x.xml": "", "notes.swp": "", ".DS_Store": "",
        "tests/test_x.py": "", "docs/guide.md": "", "pkg/data.md": "", "notes/keep.md": "",
        "environment/settings.py": "",  # not a virtual environment: kept
    })
    (root / "pyproject.toml").write_text('[tool.lpack]\nexclude = ["tests/", "docs/", "pkg/*.md"]\n')
    assert build(str(root)) == 0
    assert sorted(n for n in names(root / "dist" / "fn.zip") if not n.endswith("/")) == [
        "environment/settings.py", "lambda_function.py", "notes/keep.md", "pkg/__init__.py",
    ]


def test_source_only_edit_reuses_dependencies(tmp_path: Path, wheelhouse: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path / "fn", local(wheelhouse, "demo-pure==1.0"))
    assert main(["build", str(root), "--format", "json"]) == 0
    assert '"dependencies": "installed"' in capsys.readouterr().out
    (root / "lambda_function.py").write_text(HANDLER + "# edited\n")
    assert main(["build", str(root), "--format", "json"]) == 0
    assert '"dependencies": "cached"' in capsys.readouterr().out
    with zipfile.ZipFile(root / "dist" / "fn.zip") as zf:
        assert zf.read("lambda_function.py").endswith(b"# edited\n")
        assert zf.testzip() is None  # copied compressed members still check out


def test_requirements_change_reinstalls(tmp_path: Path, wheelhouse: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path / "fn", local(wheelhouse, "demo-pure==1.0"))
    assert main(["build", str(root), "--format", "json"]) == 0
    capsys.readouterr()
    (root / "requirements.txt").write_text(local(wheelhouse, "demo-pure==1.1"))
    assert main(["build", str(root), "--format", "json"]) == 0
    assert '"dependencies": "installed"' in capsys.readouterr().out
    listed = names(root / "dist" / "fn.zip")
    assert "demo_pure-1.1.dist-info/METADATA" in listed
    assert not any(n.startswith("demo_pure-1.0") for n in listed)


def test_target_change_reinstalls(tmp_path: Path, wheelhouse: Path) -> None:
    root = project(tmp_path / "fn", local(wheelhouse, "fastlib==1.0"))
    assert build(str(root), "--arch", "arm64", "--runtime", "python3.12") == 0
    assert build(str(root), "--arch", "x86_64", "--runtime", "python3.12") == 0
    assert any("x86_64-linux-gnu" in n for n in names(root / "dist" / "fn.zip"))


def test_hashes_are_required_when_lock_has_them(tmp_path: Path, wheelhouse: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    wheel = next(wheelhouse.glob("demo_dep-2.0-*.whl"))
    good = hashlib.sha256(wheel.read_bytes()).hexdigest()
    root = project(tmp_path / "fn", local(wheelhouse, f"demo-dep==2.0 --hash=sha256:{good}"))
    assert build(str(root)) == 0
    (root / "requirements.txt").write_text(local(wheelhouse, f"demo-dep==2.0 --hash=sha256:{'0' * 64}"))
    assert build(str(root)) == 2
    # a lock with hashes must pin every requirement: an unhashed dependency is refused
    (root / "requirements.txt").write_text(local(wheelhouse, "demo-pure==1.0 --hash=sha256:" + hashlib.sha256(
        next(wheelhouse.glob("demo_pure-1.0-*.whl")).read_bytes()).hexdigest()))
    assert build(str(root)) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_credentials_in_index_urls_are_never_printed(tmp_path: Path, wheelhouse: Path,
                                                     capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # nothing listens on port 9: the installer fails at once instead of retrying with backoff
    monkeypatch.setenv("UV_HTTP_RETRIES", "0")
    monkeypatch.setenv("PIP_RETRIES", "0")
    root = project(tmp_path / "fn", "--index-url https://alice:s3cr3t-token@127.0.0.1:9/simple\nnothing-here\n")
    assert build(str(root)) == 2
    captured = capsys.readouterr()
    assert "s3cr3t-token" not in captured.err + captured.out
    assert "alice" not in captured.err + captured.out


def test_monorepo_installs_identical_dependencies_once(tmp_path: Path, wheelhouse: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "mono"
    (root / "src" / "app").mkdir(parents=True)
    (root / "src" / "app" / "__init__.py").write_text("")
    (root / "src" / "app" / "a.py").write_text(HANDLER.replace("lambda_handler", "handler"))
    (root / "requirements.txt").write_text(local(wheelhouse, "demo-pure==1.0"))
    (root / "pyproject.toml").write_text(
        '[tool.lpack]\nsource = "src"\nrequirements = "requirements.txt"\n'
        '[tool.lpack.functions.one]\nhandler = "app.a.handler"\n'
        '[tool.lpack.functions.two]\nhandler = "app.a.handler"\n'
        '[tool.lpack.functions.three]\nhandler = "app.a.handler"\nlayers = ["shared"]\n'
        '[tool.lpack.layers.shared]\nrequirements = "requirements.txt"\n'
    )
    assert main(["build", str(root), "--format", "json"]) == 0
    out = capsys.readouterr().out
    assert out.count('"dependencies": "installed"') == 1
    assert out.count('"dependencies": "cached"') == 2  # one function and the layer (another prefix)
    assert sorted(p.name for p in (root / "dist").glob("*.zip")) == ["one.zip", "shared.zip", "three.zip", "two.zip"]
    assert "demo_pure/__init__.py" not in names(root / "dist" / "three.zip")  # it has the layer
    assert "python/demo_pure/__init__.py" in names(root / "dist" / "shared.zip")
    assert "app/a.py" in names(root / "dist" / "one.zip")


def test_source_that_is_a_python_project_is_built_as_a_wheel(tmp_path: Path, wheelhouse: Path) -> None:
    root = tmp_path / "svc"
    (root / "orders").mkdir(parents=True)
    (root / "orders" / "__init__.py").write_text("")
    (root / "orders" / "api.py").write_text(HANDLER)
    (root / "tests").mkdir()
    (root / "tests" / "test_api.py").write_text("")
    # an in-tree PEP 517 backend needs nothing from an index, so the isolated build is offline
    (root / "backend.py").write_text(in_tree_backend("orders", "Requires-Dist: demo-pure==1.0\\n"))
    (root / "requirements.txt").write_text(local(wheelhouse))
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n'
        '[project]\nname = "orders"\nversion = "1.0"\ndependencies = ["demo-pure==1.0"]\n'
        '[tool.lpack]\nhandler = "orders.api.lambda_handler"\nrequirements = "requirements.txt"\n'
    )
    assert build(str(root)) == 0
    listed = names(root / "dist" / "svc.zip")
    assert "orders/api.py" in listed and "orders-1.0.dist-info/METADATA" in listed
    assert "demo_pure/__init__.py" in listed  # the project's dependency, installed for the target
    assert "tests/test_api.py" not in listed and "backend.py" not in listed


def in_tree_backend(name: str, requires: str = "") -> str:
    """A PEP 517 backend that needs nothing from an index, so an isolated build runs offline."""
    return IN_TREE_BACKEND.replace("orders", name).replace("REQUIRES", requires)


IN_TREE_BACKEND = '''
import base64, hashlib, os, zipfile

def _files():
    for folder, _, files in os.walk("orders"):
        for name in sorted(files):
            yield os.path.join(folder, name)

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    name = "orders-1.0-py3-none-any.whl"
    meta = "Metadata-Version: 2.1\\nName: orders\\nVersion: 1.0\\nREQUIRES"
    wheel = "Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"
    records = []
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as zf:
        entries = [(p, open(p, "rb").read()) for p in _files()]
        entries += [("orders-1.0.dist-info/METADATA", meta.encode()), ("orders-1.0.dist-info/WHEEL", wheel.encode())]
        for path, data in entries:
            zf.writestr(path, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            records.append(f"{path},sha256={digest},{len(data)}")
        records.append("orders-1.0.dist-info/RECORD,,")
        zf.writestr("orders-1.0.dist-info/RECORD", "\\n".join(records) + "\\n")
    return name

def get_requires_for_build_wheel(config_settings=None):
    return []
'''


def test_wheel_with_console_script_in_dependency(tmp_path: Path) -> None:
    house = tmp_path / "house"
    house.mkdir()
    make_wheel(house, "tool-x", "1.0", console_scripts={"toolx": "tool_x:main"})
    root = project(tmp_path / "fn", local(house, "tool-x==1.0"))
    assert build(str(root)) == 0
    listed = names(root / "dist" / "fn.zip")
    assert "tool_x/__init__.py" in listed and not any(n.startswith("bin/") for n in listed)


@pytest.mark.parametrize("installer", ["uv", "pip"])
def test_pip_configuration_file_is_honoured(tmp_path: Path, wheelhouse: Path, installer: str,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A private index or wheel folder set in pip.conf works with uv too."""
    conf = tmp_path / "pip.conf"
    conf.write_text(f"[global]\nno-index = true\nfind-links = {wheelhouse}\n")
    monkeypatch.setenv("PIP_CONFIG_FILE", str(conf))
    root = project(tmp_path / "fn", "demo-pure==1.0\n")
    assert build(str(root), "--installer", installer) == 0
    assert "demo_pure/__init__.py" in names(root / "dist" / "fn.zip")


def test_pip_environment_is_honoured_by_uv(tmp_path: Path, wheelhouse: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheelhouse))
    root = project(tmp_path / "fn", "demo-pure==1.0\n")
    assert build(str(root), "--installer", "uv") == 0
    assert "demo_pure/__init__.py" in names(root / "dist" / "fn.zip")


def test_wheel_timestamps_do_not_change_the_zip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """uv records the source wheel's mtime in dist-info/uv_cache.json; it must not reach the zip."""
    house = tmp_path / "house"
    house.mkdir()
    wheel = make_wheel(house, "stamped", "1.0")
    root = project(tmp_path / "fn", local(house, "stamped==1.0"))
    digests = []
    for when in (1_767_225_600, 1_769_904_000):  # 2026-01-01, 2026-02-01
        os.utime(wheel, (when, when))
        monkeypatch.setenv("LPACK_CACHE_DIR", str(tmp_path / f"cache-{when}"))
        monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / f"uv-{when}"))
        assert build(str(root)) == 0
        digests.append(sha256(root / "dist" / "fn.zip"))
        assert not any(n.endswith("uv_cache.json") for n in names(root / "dist" / "fn.zip"))
    assert digests[0] == digests[1]


def test_linked_shared_folder_is_packaged_and_loops_are_not(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    (shared / "common").mkdir(parents=True)
    (shared / "common" / "util.py").write_text("X = 1\n")
    root = project(tmp_path / "fn")
    (root / "common").symlink_to(shared / "common", target_is_directory=True)
    (root / "pyproject.toml").write_text('[tool.lpack]\nfollow-links = ["../shared"]\n')
    (root / "loop").mkdir()
    (root / "loop" / "again").symlink_to(root, target_is_directory=True)
    assert build(str(root)) == 0
    listed = names(root / "dist" / "fn.zip")
    assert "common/util.py" in listed
    assert not any(n.startswith("loop/again") for n in listed)


def test_user_excludes_apply_to_dependencies(tmp_path: Path) -> None:
    house = tmp_path / "house"
    house.mkdir()
    make_wheel(house, "heavy", "1.0", files={"heavy/__init__.py": "", "heavy/tests/test_a.py": "",
                                              "heavy/docs/guide.md": "# guide\n"})
    root = project(tmp_path / "fn", local(house, "heavy==1.0"))
    (root / "pyproject.toml").write_text('[tool.lpack]\nexclude = ["**/tests/", "*.md"]\n')
    assert build(str(root), "--as-layer") == 0  # patterns match below python/ in a layer
    listed = names(root / "dist" / "fn-layer.zip")
    assert "python/heavy/__init__.py" in listed
    assert not any("/tests/" in n or n.endswith(".md") for n in listed)


def test_local_project_requirements_are_built_into_wheels(tmp_path: Path, wheelhouse: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    """`../libs/shared` or `-e ../libs/shared` in requirements: a binary-only install cannot build
    it, so lpack builds its wheel with pypa build and installs that, for the target."""
    for name in ("shared", "tools"):
        lib = tmp_path / "libs" / name
        (lib / name).mkdir(parents=True)
        (lib / name / "__init__.py").write_text(f"NAME = {name!r}\n")
        (lib / "backend.py").write_text(in_tree_backend(name, "Requires-Dist: demo-pure==1.0\\n" if name == "shared" else ""))
        (lib / "pyproject.toml").write_text(
            f'[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n'
            f'[project]\nname = "{name}"\nversion = "1.0"\n')
    root = project(tmp_path / "fn", local(wheelhouse, "../libs/shared", "-r more.txt"))
    (root / "more.txt").write_text("-e ../libs/tools\n")
    assert main(["build", str(root), "--format", "json"]) == 0
    listed = names(root / "dist" / "fn.zip")
    assert {"shared/__init__.py", "tools/__init__.py", "demo_pure/__init__.py"} <= set(listed)
    assert '"dependencies": "installed"' in capsys.readouterr().out
    (root / "lambda_function.py").write_text(HANDLER + "# edited\n")
    assert main(["build", str(root), "--format", "json"]) == 0
    assert '"dependencies": "cached"' in capsys.readouterr().out
    (tmp_path / "libs" / "tools" / "tools" / "__init__.py").write_text("NAME = 'changed'\n")
    assert main(["build", str(root), "--format", "json"]) == 0
    assert '"dependencies": "installed"' in capsys.readouterr().out  # the library changed
    with zipfile.ZipFile(root / "dist" / "fn.zip") as zf:
        assert zf.read("tools/__init__.py") == b"NAME = 'changed'\n"


def test_a_local_library_may_link_to_a_folder_the_project_lists(tmp_path: Path, wheelhouse: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """A local library whose package links to a folder that follow-links lists builds (the link is
    followed as the copy for pypa build follows it); unlisted, the same link is refused."""
    shared = tmp_path / "shared" / "data"
    shared.mkdir(parents=True)
    (shared / "table.py").write_text("ROWS = 3\n")
    lib = tmp_path / "libs" / "tools"
    (lib / "tools").mkdir(parents=True)
    (lib / "tools" / "__init__.py").write_text("NAME = 'tools'\n")
    (lib / "tools" / "data").symlink_to(shared, target_is_directory=True)
    (lib / "backend.py").write_text(in_tree_backend("tools", ""))
    (lib / "pyproject.toml").write_text('[build-system]\nrequires = []\nbuild-backend = "backend"\n'
                                        'backend-path = ["."]\n[project]\nname = "tools"\nversion = "1.0"\n')
    root = project(tmp_path / "fn", local(wheelhouse, "../libs/tools"))
    assert main(["build", str(root)]) == 2
    assert "follow-links" in capsys.readouterr().err
    (root / "lpack.toml").write_text('follow-links = ["../libs", "../shared"]\n')
    assert main(["build", str(root), "--format", "json"]) == 0
    assert '"dependencies": "installed"' in capsys.readouterr().out
    (shared / "table.py").write_text("ROWS = 4\n")  # a change behind the link is a change of the library
    assert main(["build", str(root), "--format", "json"]) == 0
    assert '"dependencies": "installed"' in capsys.readouterr().out


def test_a_fresh_checkout_of_a_wheelhouse_keeps_the_cache_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A --find-links folder kept in git gets new modification times on every checkout (every CI
    runner): the dependency key follows the wheels' contents, so the cache (or a shared one) still
    hits; a wheel rebuilt with other contents is a new key."""
    house = tmp_path / "house"
    house.mkdir()
    make_wheel(house, "heavy", "1.0")
    root = project(tmp_path / "fn", local(house, "heavy==1.0"))
    assert main(["build", str(root), "--format", "json"]) == 0
    assert '"dependencies": "installed"' in capsys.readouterr().out
    for wheel in house.iterdir():
        os.utime(wheel, ns=(1_000_000_000, 1_000_000_000))  # a checkout's new mtimes, same bytes
    assert main(["build", str(root), "--format", "json"]) == 0
    assert '"dependencies": "cached"' in capsys.readouterr().out
    for wheel in house.iterdir():
        wheel.unlink()
    make_wheel(house, "heavy", "1.0", files={"heavy/__init__.py": "CHANGED = True\n"})
    assert main(["build", str(root), "--format", "json"]) == 0
    assert '"dependencies": "installed"' in capsys.readouterr().out


def test_progress_names_the_installers_steps(tmp_path: Path, wheelhouse: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """In a CI log (no terminal) each step is a plain line: resolving, installing, writing."""

    root = project(tmp_path / "fn", local(wheelhouse, "demo-pure==1.0"))
    assert main(["build", str(root), "--runtime", "python3.12"]) == 0
    err = capsys.readouterr().err
    assert re.search(r"^fn: uv: Resolved 2 packages", err, re.MULTILINE), err
    assert re.search(r"^fn: uv: Installed 2 packages", err, re.MULTILINE)
    assert "\x1b[" not in err and re.search(r"^fn: writing \S*dist/fn.zip$", err, re.MULTILINE)


def test_old_pips_host_python_check_is_recognised() -> None:
    """pip 23.2.1 (pypa/pip#12216) checks Requires-Python against the Python running it even with
    --python-version; lpack names that instead of echoing pip. The line is pip 23.2.1's own output
    for numpy 2.5.5 targeting python3.12 from Python 3.11 (newer pips, as in CI, do not fail)."""
    from lpack.bundle.install import _HOST_PYTHON_CHECK

    line = "ERROR: Package 'numpy' requires a different Python: 3.11.7 not in '>=3.12'"
    found = re.search(_HOST_PYTHON_CHECK, line)
    assert found is not None and (found["package"], found["host"]) == ("numpy", "3.11.7")


def test_a_package_the_index_does_not_have_is_named_as_such(tmp_path: Path, wheelhouse: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path / "fn", local(wheelhouse, "no-such-package==1.0"))
    assert build(str(root)) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].endswith("requirements.txt:3: no-such-package: not found in the --find-links folders")
    assert not (root / "dist").exists()


@pytest.fixture(scope="module")
def shelf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What the failures below need: two versions of requests, an sdist-only psycopg2, and a
    project with wheels for Windows only."""
    from tests.factories import make_sdist

    house = tmp_path_factory.mktemp("shelf")
    make_wheel(house, "requests", "2.31.0")
    make_wheel(house, "requests", "2.32.3")
    make_sdist(house, "psycopg2", "2.9.9")
    make_wheel(house, "winonly", "1.0", tag="cp312-cp312-win_amd64")
    return house


WRONG_REQUIREMENTS = ["# what the function needs", "requets==2.32.3", "requests==2.99.0", "psycopg2==2.9.9", "winonly"]


@pytest.mark.parametrize(("installer", "expected"), [
    pytest.param("uv", [
        ":4: requets: not found in the --find-links folders",
        ":5: requests: no version 2.99.0 (the index has up to 2.32.3)",
        (":6: psycopg2: no wheel for python3.12 arm64 (only an sdist; Lambda cannot compile it); "
         "use psycopg2-binary, or psycopg[binary] (Psycopg 3) instead"),
        ":7: winonly: no wheel for python3.12 arm64 (its wheels are for other platforms)",
    ], id="uv"),
    pytest.param("pip", [
        (":4: requets: no wheel for python3.12 arm64, or not in the package index at all (pip does not say which): "
         "check the spelling"),
        ":5: requests: no version 2.99.0 with a wheel for python3.12 arm64 (the index has up to 2.32.3)",
        (":6: psycopg2: no wheel for python3.12 arm64 (only an sdist; Lambda cannot compile it); "
         "use psycopg2-binary, or psycopg[binary] (Psycopg 3) instead"),
        (":7: winonly: no wheel for python3.12 arm64, or not in the package index at all (pip does not say which): "
         "check the spelling"),
    ], id="pip"),
])
def test_each_failing_requirement_is_named_with_its_line_and_cause(
    tmp_path: Path, shelf: Path, capsys: pytest.CaptureFixture[str], installer: str, expected: list[str]
) -> None:
    """A typo, a version that does not exist and a project without a Linux wheel each say so, at
    the line of requirements.txt that asks for them, in one run."""
    root = project(tmp_path / "fn", local(shelf, *WRONG_REQUIREMENTS))
    assert build(str(root), "--runtime", "python3.12", "--arch", "arm64", "--installer", installer) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[:-1] == [f"lpack: error: {root / 'requirements.txt'}{line}" for line in expected]
    assert err[-1].startswith("lpack: tip: check the name's spelling")


def test_a_lock_names_the_lock_file_and_the_line_of_the_package(tmp_path: Path) -> None:
    """From a lock, the line is the lock's entry for the package: the file the user has."""
    from lpack.bundle.install import _line_of
    from lpack.inputs.requirements_file import Requirements

    lock = tmp_path / "uv.lock"
    lock.write_text('version = 1\n\n[[package]]\nname = "psycopg2"\nversion = "2.9.9"\n')
    reqs = Requirements(["psycopg2==2.9.9"])
    assert _line_of(reqs, lock, "psycopg2") == f"{lock}:4"
    assert _line_of(reqs, lock, "requests") == str(lock)


def test_one_failing_function_does_not_stop_the_others(tmp_path: Path, wheelhouse: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "two"
    for name, requirement in (("good", "demo-pure==1.1"), ("bad", "no-such-package==1.0")):
        (root / name).mkdir(parents=True)
        (root / name / "app.py").write_text(HANDLER)
        (root / name / "requirements.txt").write_text(local(wheelhouse, requirement))
    (root / "lpack.toml").write_text(
        'runtime = "python3.12"\nhandler = "app.lambda_handler"\n'
        '[functions.bad]\nsource = "bad"\n[functions.good]\nsource = "good"\n')
    assert build(str(root)) == 2
    assert "demo_pure/__init__.py" in names(root / "dist" / "good.zip")
    assert not (root / "dist" / "bad.zip").exists()
    assert capsys.readouterr().err.startswith("lpack: error: bad: ")


def test_a_failing_build_backend_shows_its_own_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "svc"
    (root / "orders").mkdir(parents=True)
    (root / "orders" / "api.py").write_text(HANDLER)
    (root / "backend.py").write_text(
        "def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):\n"
        "    raise RuntimeError('orders: version file _version.py is missing; run make version')\n")
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n'
        '[project]\nname = "orders"\nversion = "1.0"\n[tool.lpack]\nhandler = "orders.api.lambda_handler"\n')
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    assert build(str(root)) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith(f"lpack: error: {root}: building its wheel failed: ")
    assert "version file _version.py is missing; run make version" in err[0]
    assert "--env-dir" not in err[0] and "Backend subprocess exited" not in err[0]
    assert sorted(p.relative_to(root) for p in root.rglob("*") if "__pycache__" not in p.parts) == before


def test_local_offsets_are_where_the_zip_puts_each_entry(tmp_path: Path) -> None:
    """The builder indexes the zip it wrote without reading it back: the offsets must be zipfile's."""
    source = tmp_path / "src"
    for name, text in (("a.py", "x = 1\n"), ("pkg/é.py", "y = 2\n" * 50), ("pkg/data.bin", "z" * 3000)):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_text(text)
    members = zipwriter.compress_files(sorted((p.relative_to(source).as_posix(), p) for p in source.rglob("*") if p.is_file()))
    zipwriter.atomic_write_zip(tmp_path / "out.zip", members)
    with zipfile.ZipFile(tmp_path / "out.zip") as zf:
        assert [i.header_offset for i in zf.infolist()] == zipwriter.local_offsets(members)
        assert zf.testzip() is None
