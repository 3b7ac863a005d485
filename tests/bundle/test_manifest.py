"""dist/lpack-manifest.json: written by every build, merged across builds, validated against
schemas/manifest.schema.json, and what `lpack check` reads to tell a stale zip when the cache is
fresh (a CI runner that restored dist/)."""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from pathlib import Path

import jsonschema
import pytest

from lpack import __version__
from lpack.bundle.manifest import declared_hashes
from lpack.cli import main
from tests.factories import make_wheel

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "schemas" / "manifest.schema.json").read_text())
CONFIG = """\
runtime = "python3.12"
architecture = "arm64"

[functions.api]
source = "api"
handler = "app.handler"
requirements = "requirements.txt"
layers = ["deps"]

[functions.worker]
source = "worker"
handler = "app.handler"

[layers.deps]
requirements = "layer-requirements.txt"
"""


def project(tmp_path: Path) -> Path:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    make_wheel(wheels, "demo-dep", "1.0")
    make_wheel(wheels, "Other_Dep", "3.1")
    digest = hashlib.sha256(next(wheels.glob("demo_dep-1.0-*.whl")).read_bytes()).hexdigest()
    root = tmp_path / "proj"
    for name in ("api", "worker"):
        (root / name).mkdir(parents=True)
        (root / name / "app.py").write_text(f"def handler(event, context):\n    return {name!r}\n")
    (root / "requirements.txt").write_text(f"--no-index\n--find-links {wheels}\ndemo-dep==1.0 \\\n    --hash=sha256:{digest}\n")
    (root / "layer-requirements.txt").write_text(f"--no-index\n--find-links {wheels}\nother-dep==3.1\n")
    (root / "lpack.toml").write_text(CONFIG)
    return root


def manifest(root: Path) -> dict[str, dict[str, object]]:
    document = json.loads((root / "dist" / "lpack-manifest.json").read_text())
    jsonschema.validate(document, SCHEMA)
    return {e["name"]: e for e in document["artifacts"]}


def test_every_build_writes_the_manifest(tmp_path: Path) -> None:
    root = project(tmp_path)
    assert main(["build", str(root), "-q"]) == 0
    entries = manifest(root)
    assert list(entries) == ["api", "deps", "worker"]
    for name, entry in entries.items():
        data = (root / "dist" / f"{name}.zip").read_bytes()
        assert entry["path"] == f"{name}.zip"
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["sha256_base64"] == base64.b64encode(hashlib.sha256(data).digest()).decode()
        assert entry["size_bytes"] == len(data)
        assert (entry["runtime"], entry["architecture"], entry["lpack_version"]) == ("python3.12", "arm64", __version__)
    assert entries["deps"]["kind"] == "layer" and entries["api"]["kind"] == "function"
    wheel = next((tmp_path / "wheels").glob("demo_dep-1.0-*.whl"))
    assert entries["api"]["dependencies"] == [
        {"name": "demo-dep", "version": "1.0", "hashes": [hashlib.sha256(wheel.read_bytes()).hexdigest()]}]
    # the layer's python/*.dist-info; an unhashed requirements file lists no hashes
    assert entries["deps"]["dependencies"] == [{"name": "Other_Dep", "version": "3.1", "hashes": []}]
    assert entries["worker"]["dependencies"] == entries["api"]["dependencies"]  # the project's requirements.txt
    # nothing but the zips and the manifest: what SAM/Serverless/Terraform glob is unchanged
    assert sorted(p.name for p in (root / "dist").iterdir()) == [
        "api.zip", "deps.zip", "lpack-manifest.json", "worker.zip"]
    assert sorted(p.name for p in (root / "dist").glob("*.zip")) == ["api.zip", "deps.zip", "worker.zip"]


def test_the_manifest_is_deterministic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = project(tmp_path)
    assert main(["build", str(root), "-q"]) == 0
    first = (root / "dist" / "lpack-manifest.json").read_bytes()
    (root / "dist" / "lpack-manifest.json").unlink()
    monkeypatch.setenv("LPACK_CACHE_DIR", str(tmp_path / "other-cache"))
    assert main(["build", str(root), "-q", "--refresh"]) == 0
    assert (root / "dist" / "lpack-manifest.json").read_bytes() == first
    assert first.decode() == json.dumps(json.loads(first), indent=2, sort_keys=True) + "\n"


def test_building_one_function_keeps_the_others_entries(tmp_path: Path) -> None:
    root = project(tmp_path)
    assert main(["build", str(root), "-q"]) == 0
    before = manifest(root)
    (root / "worker" / "app.py").write_text("def handler(event, context):\n    return 'new'\n")
    assert main(["build", str(root), "-q", "-f", "worker"]) == 0
    after = manifest(root)
    assert {n: after[n] for n in ("api", "deps")} == {n: before[n] for n in ("api", "deps")}
    assert after["worker"]["sha256"] != before["worker"]["sha256"]

    (root / "dist" / "api.zip").unlink()  # an entry whose zip is gone is dropped by the next build
    assert main(["build", str(root), "-q", "-f", "worker"]) == 0
    assert list(manifest(root)) == ["deps", "worker"]


def test_a_broken_manifest_is_rewritten(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / "dist").mkdir()
    (root / "dist" / "lpack-manifest.json").write_text("{not json")
    assert main(["build", str(root), "-q", "-f", "worker"]) == 0
    assert list(manifest(root)) == ["worker"]


def test_a_half_written_manifest_of_a_killed_build_is_removed_by_the_next_build(tmp_path: Path) -> None:
    """A build killed while it wrote the manifest leaves its temporary copy; the next build removes
    it even when the manifest it would write is the one there (a no-op build)."""
    import subprocess
    import sys

    root = project(tmp_path)
    assert main(["build", str(root), "-q"]) == 0
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    half = root / "dist" / f".lpack-manifest.json.{gone.stdout.strip()}.12345.tmp"  # its writer is gone
    half.write_text('{"version": 1, "artif')
    assert main(["build", str(root), "-q"]) == 0
    assert not half.exists()
    assert sorted(p.name for p in (root / "dist").iterdir() if p.name.startswith("."))  == []


def test_check_finds_a_stale_zip_through_the_manifest_with_a_fresh_cache(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path)
    assert main(["build", str(root), "-q"]) == 0
    monkeypatch.setenv("LPACK_CACHE_DIR", str(tmp_path / "fresh-cache"))  # a CI runner that restored dist/
    capsys.readouterr()
    main(["check", str(root)])
    assert "older than its inputs" not in capsys.readouterr().err

    (root / "worker" / "app.py").write_text("def handler(event, context):\n    return 'edited'\n")
    main(["check", str(root)])
    err = capsys.readouterr().err
    assert "worker.zip is older than its inputs" in err and "api.zip" not in err

    (root / "dist" / "lpack-manifest.json").unlink()  # no record anywhere: the zip is taken as it is
    main(["check", str(root)])
    assert "older than its inputs" not in capsys.readouterr().err


def test_declared_hashes_reads_requirements_and_locks_written_as_requirements() -> None:
    text = ("--no-index\nDemo_Dep[extra]==1.0 \\\n    --hash=sha256:" + "A" * 64 + " \\\n    --hash=sha256:" + "b" * 64
            + "\nother @ https://example.com/o.whl --hash=sha256:" + "c" * 64 + "\nplain==2\n")
    assert declared_hashes(text) == {"demo-dep": ["a" * 64, "b" * 64], "other": ["c" * 64], "plain": []}


def test_the_manifest_lists_the_installed_dist_info(tmp_path: Path) -> None:
    root = project(tmp_path)
    assert main(["build", str(root), "-q", "-f", "deps"]) == 0
    with zipfile.ZipFile(root / "dist" / "deps.zip") as zf:
        assert "python/other_dep-3.1.dist-info/METADATA" in zf.namelist()


def test_a_checkout_in_another_folder_is_not_stale(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """CI runners check out to different folders (and a CDK asset hash must not change with the
    machine): the inputs digest holds paths relative to the project, so dist/ restored beside a
    checkout elsewhere is current there, and an edit still makes it stale."""
    import shutil

    root = project(tmp_path)
    assert main(["build", str(root), "-q"]) == 0
    moved = Path(shutil.copytree(root, tmp_path / "elsewhere" / "checkout"))
    monkeypatch.setenv("LPACK_CACHE_DIR", str(tmp_path / "fresh-cache"))
    capsys.readouterr()
    main(["check", str(moved)])
    assert "older than its inputs" not in capsys.readouterr().err
    assert main(["plan", str(moved), "--format", "json"]) == 0
    assert all(unit["current"] for unit in json.loads(capsys.readouterr().out)["units"])

    (moved / "worker" / "app.py").write_text("def handler(event, context):\n    return 'edited'\n")
    main(["check", str(moved)])
    assert "worker.zip is older than its inputs" in capsys.readouterr().err
