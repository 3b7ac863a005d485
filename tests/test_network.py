"""Builds against PyPI: run with `python3 -m pytest -m network`."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from lpack.cli import main

pytestmark = pytest.mark.network


@pytest.mark.parametrize("installer", ["uv", "pip"])
def test_numpy_for_arm64_python312(tmp_path: Path, installer: str) -> None:
    root = tmp_path / "fn"
    root.mkdir()
    (root / "lambda_function.py").write_text("import numpy\n\ndef lambda_handler(e, c):\n    return 1\n")
    (root / "requirements.txt").write_text("numpy==2.2.6\n")
    assert main(["build", str(root), "-q", "--runtime", "python3.12", "--arch", "arm64",
                 "--installer", installer]) == 0
    with zipfile.ZipFile(root / "dist" / "fn.zip") as zf:
        extensions = [n for n in zf.namelist() if n.endswith(".so")]
        assert extensions and all("x86_64" not in n for n in extensions)
        core = next(n for n in extensions if "_multiarray_umath" in n)
        assert core.endswith("cpython-312-aarch64-linux-gnu.so")
        assert zf.read(core)[18:20] == (183).to_bytes(2, "little")  # EM_AARCH64
        wheel = next(n for n in zf.namelist() if n.startswith("numpy-2.2.6.dist-info/WHEEL"))
        assert "manylinux_2_17_aarch64" in zf.read(wheel).decode()


def test_uv_app_example_ships_exactly_its_lock(tmp_path: Path) -> None:
    """examples/uv-app: uv.lock's pins for python3.12 arm64, from PyPI, old requests kept."""
    import shutil

    root = tmp_path / "uv-app"
    shutil.copytree(Path(__file__).parent.parent / "examples" / "uv-app", root,
                    ignore=shutil.ignore_patterns("dist"))
    assert main(["build", str(root), "-q"]) == 0
    with zipfile.ZipFile(root / "dist" / "uv-app.zip") as zf:
        dists = sorted(n.split("/")[0] for n in zf.namelist() if n.endswith(".dist-info/"))
        assert "uv.lock" not in zf.namelist() and "pyproject.toml" not in zf.namelist()
    assert dists == ["certifi-2026.10.19.post1.dist-info", "charset_normalizer-3.5.3.dist-info",
                     "idna-3.21.dist-info", "requests-2.30.0.dist-info", "urllib3-2.8.0.dist-info"]


def _example(name: str, tmp_path: Path) -> Path:
    import shutil

    return Path(shutil.copytree(Path(__file__).parent.parent / "examples" / name, tmp_path / name,
                                ignore=shutil.ignore_patterns("dist")))


def _shipped(zip_path: Path) -> tuple[list[str], list[str]]:
    """The zip's dist-info folders, and every entry that is a build input or a test."""
    inputs = ("pyproject.toml", "uv.lock", "poetry.lock", "pylock.toml", "requirements.in",
              "requirements-dev.in", "lpack.toml", "event.json")
    with zipfile.ZipFile(zip_path) as zf:
        names = zf.namelist()
    dists = sorted(n.split("/")[0] for n in names if n.endswith(".dist-info/"))
    stray = [n for n in names if n.rsplit("/", 1)[-1] in inputs or n.startswith("tests/")
             or "pytest" in n.split("/")[0]]
    return dists, stray


def test_uv_workspace_example_ships_each_members_lock(tmp_path: Path) -> None:
    """examples/uv-workspace: each function gets its member's locked deps and the shared member."""
    root = _example("uv-workspace", tmp_path)
    assert main(["build", str(root), "-q"]) == 0
    dists, stray = _shipped(root / "dist" / "orders.zip")
    assert dists == ["attrs-23.1.0.dist-info", "common-0.1.0.dist-info"] and not stray
    dists, stray = _shipped(root / "dist" / "billing.zip")
    assert dists == ["common-0.1.0.dist-info", "python_dateutil-2.8.2.dist-info", "six-1.17.0.dist-info"]
    assert not stray
    with zipfile.ZipFile(root / "dist" / "orders.zip") as zf:
        assert {"orders/handler.py", "common/__init__.py"} <= set(zf.namelist())
        assert not any(n.startswith("billing/") for n in zf.namelist())
    assert sorted(p.name for p in root.rglob("*") if p.suffix == ".egg-info" or p.name == "build") == []


def test_poetry_src_example_ships_its_wheel_and_lock(tmp_path: Path) -> None:
    """examples/poetry-src: the project's wheel (poetry-core) plus poetry.lock, no dev group, no tests."""
    root = _example("poetry-src", tmp_path)
    assert main(["build", str(root), "-q"]) == 0
    dists, stray = _shipped(root / "dist" / "poetry-src.zip")
    assert dists == ["python_slugify-8.0.1.dist-info", "slugger-0.1.0.dist-info", "text_unidecode-1.3.dist-info"]
    assert not stray
    with zipfile.ZipFile(root / "dist" / "poetry-src.zip") as zf:
        assert "slugger/handler.py" in zf.namelist()


def test_packaged_pep621_example_ships_the_locked_not_the_newest(tmp_path: Path) -> None:
    """examples/packaged-pep621: loose ranges, uv.lock's older pins win over the wheel's Requires-Dist."""
    root = _example("packaged-pep621", tmp_path)
    assert main(["build", str(root), "-q"]) == 0
    dists, stray = _shipped(root / "dist" / "packaged-pep621.zip")
    assert dists == ["humanize-4.4.0.dist-info", "reports-0.2.0.dist-info", "tabulate-0.8.10.dist-info"]
    assert not stray


def test_pylock_example_ships_pip_locks_pins(tmp_path: Path) -> None:
    """examples/pylock: `pip lock`'s pylock.toml for x86_64, installed as pinned."""
    root = _example("pylock", tmp_path)
    assert main(["build", str(root), "-q"]) == 0
    dists, stray = _shipped(root / "dist" / "pylock.zip")
    assert dists == ["jmespath-1.0.0.dist-info", "python_dateutil-2.8.1.dist-info", "six-1.17.0.dist-info"]
    assert not stray
