"""The examples build as their READMEs say (copied to a temporary folder; no network)."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest

from lpack.cli import main

EXAMPLES = Path(__file__).parent.parent / "examples"


def copy(name: str, tmp_path: Path) -> Path:
    return Path(shutil.copytree(EXAMPLES / name, tmp_path / name, ignore=shutil.ignore_patterns("dist")))


@pytest.mark.parametrize("name", ["hello-world", "area"])
def test_zero_config_examples(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = copy(name, tmp_path)
    assert main(["build", str(root), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    (artifact,) = report["artifacts"]
    assert (artifact["name"], artifact["runtime"], artifact["architecture"]) == (name, "python3.14", "x86_64")
    with zipfile.ZipFile(root / "dist" / f"{name}.zip") as zf:
        assert "lambda_function.py" in zf.namelist()
    assert json.loads((root / "event.json").read_text())


def test_area_handler_from_the_package(tmp_path: Path) -> None:
    """The zip's handler computes what the getting-started guide says, imported from the zip."""
    import importlib
    import sys

    root = copy("area", tmp_path)
    assert main(["build", str(root), "-q"]) == 0
    sys.path.insert(0, str(root / "dist" / "area.zip"))
    try:
        module = importlib.import_module("lambda_function")
        event = json.loads((root / "event.json").read_text())
        assert module.lambda_handler(event, None) == {"area": 42}
        assert module.__file__ is not None and "area.zip" in module.__file__
    finally:
        sys.path.remove(str(root / "dist" / "area.zip"))
        sys.modules.pop("lambda_function", None)


@pytest.mark.network
def test_with_deps_example_is_built_for_arm64(tmp_path: Path) -> None:
    root = copy("with-deps", tmp_path)
    assert main(["build", str(root), "-q"]) == 0
    with zipfile.ZipFile(root / "dist" / "rectangle.zip") as zf:
        assert any(n.startswith("pydantic_core/") and n.endswith("aarch64-linux-gnu.so") for n in zf.namelist())


@pytest.mark.network
def test_multi_function_example(tmp_path: Path) -> None:
    root = copy("multi-function", tmp_path)
    assert main(["build", str(root), "-q"]) == 0
    assert sorted(p.name for p in (root / "dist").iterdir()) == ["deps.zip", "orders-api.zip", "orders-worker.zip"]
    with zipfile.ZipFile(root / "dist" / "deps.zip") as zf:
        assert "python/dateutil/parser/__init__.py" in zf.namelist()
    with zipfile.ZipFile(root / "dist" / "orders-api.zip") as zf:
        assert sorted(zf.namelist()) == ["orders/", "orders/__init__.py", "orders/api.py", "orders/worker.py"]
