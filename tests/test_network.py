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
