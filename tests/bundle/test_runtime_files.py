"""Only runtime files ship by default; layers hold dependencies only; --as-layer splits a function."""

from __future__ import annotations

from pathlib import Path

import pytest

from lpack.cli import main
from lpack.inputs.config import load_project
from lpack.plan import plan
from tests.bundle.test_build import build, local, names, project, sha256

NEWCOMER = {
    "README.md": "# my function\n", "LICENSE": "MIT\n", ".env": "TOKEN=secret\n", ".gitignore": "dist/\n",
    "tests/__init__.py": "", "tests/test_handler.py": "", "tests/conftest.py": "",
    "events/api.json": "{}\n", "Makefile": "all:\n", "app/__init__.py": "", "app/README.md": "# kept\n",
}


def files(path: Path) -> list[str]:
    return sorted(n for n in names(path) if not n.endswith("/"))


def test_a_newcomers_zip_holds_only_what_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path / "fn", files=NEWCOMER)
    assert main(["build", "-v", str(root), "--runtime", "python3.12"]) == 0
    assert files(root / "dist" / "fn.zip") == ["LICENSE", "app/README.md", "app/__init__.py", "lambda_function.py"]
    assert ("fn: left out by default: .env, .gitignore, Makefile, README.md, events/api.json, tests/ (3 files); "
            "include = [...] brings them back\n") in capsys.readouterr().out


def test_without_verbose_nothing_is_listed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path / "fn", files=NEWCOMER)
    assert main(["build", str(root), "--runtime", "python3.12"]) == 0
    assert "left out" not in capsys.readouterr().out


def test_include_brings_files_back(tmp_path: Path) -> None:
    root = project(tmp_path / "fn", files={**NEWCOMER, "tests/fixtures/data.json": "{}"})
    (root / "pyproject.toml").write_text('[tool.lpack]\ninclude = ["README.md", "tests/fixtures/", "events/"]\n')
    assert build(str(root), "--runtime", "python3.12") == 0
    assert files(root / "dist" / "fn.zip") == [
        "LICENSE", "README.md", "app/README.md", "app/__init__.py", "events/api.json", "lambda_function.py",
        "tests/fixtures/data.json",
    ]


def test_a_handler_named_like_a_test_ships(tmp_path: Path) -> None:
    root = project(tmp_path / "fn", files={"test_runner.py": "def handler(e, c):\n    return 1\n", "test_other.py": ""})
    (root / "pyproject.toml").write_text('[tool.lpack]\nhandler = "test_runner.handler"\n')
    assert build(str(root), "--runtime", "python3.12") == 0
    assert files(root / "dist" / "fn.zip") == ["lambda_function.py", "test_runner.py"]


def test_check_sees_the_same_files(tmp_path: Path) -> None:
    root = project(tmp_path / "fn", files=NEWCOMER)
    project_ = load_project(root)
    shipped = sorted(rel for rel, _ in plan(project_, project_.units[0]).packaged_files())
    assert shipped == ["LICENSE", "app/README.md", "app/__init__.py", "lambda_function.py"]


def multi_function(root: Path, wheelhouse: Path) -> Path:
    """examples/multi-function's shape, offline."""
    (root / "src" / "orders").mkdir(parents=True)
    (root / "src" / "orders" / "__init__.py").write_text("")
    for name in ("api", "worker"):
        (root / "src" / "orders" / f"{name}.py").write_text("import demo_pure\n\ndef handler(e, c):\n    return 1\n")
    (root / "requirements.txt").write_text(local(wheelhouse, "demo-pure==1.0"))
    (root / "pyproject.toml").write_text(
        '[tool.lpack]\nruntime = "python3.13"\narchitecture = "arm64"\nsource = "src"\nupload = "s3"\n\n'
        '[tool.lpack.layers.deps]\nrequirements = "requirements.txt"\n\n'
        '[tool.lpack.functions.orders-api]\nhandler = "orders.api.handler"\nlayers = ["deps"]\n\n'
        '[tool.lpack.functions.orders-worker]\nhandler = "orders.worker.handler"\nlayers = ["deps"]\n')
    return root


def test_a_declared_layer_holds_dependencies_only(tmp_path: Path, wheelhouse: Path) -> None:
    root = multi_function(tmp_path / "multi", wheelhouse)
    assert build(str(root)) == 0
    layer = files(root / "dist" / "deps.zip")
    assert "python/demo_pure/__init__.py" in layer
    assert not any(n.startswith("python/orders/") for n in layer)
    assert files(root / "dist" / "orders-api.zip") == ["orders/__init__.py", "orders/api.py", "orders/worker.py"]
    before = sha256(root / "dist" / "deps.zip")
    (root / "src" / "orders" / "api.py").write_text("import demo_pure\n\ndef handler(e, c):\n    return 2\n")
    assert build(str(root)) == 0
    assert sha256(root / "dist" / "deps.zip") == before  # a code edit is not a new layer version


def test_a_layer_ships_its_own_source(tmp_path: Path, wheelhouse: Path) -> None:
    root = multi_function(tmp_path / "multi", wheelhouse)
    (root / "shared" / "common").mkdir(parents=True)
    (root / "shared" / "common" / "__init__.py").write_text("")
    with (root / "pyproject.toml").open("a") as f:
        f.write('\n[tool.lpack.layers.common]\nsource = "shared"\n')
    assert build(str(root), "-f", "common") == 0
    assert files(root / "dist" / "common.zip") == ["python/common/__init__.py"]


def test_layer_flag_writes_the_function_without_its_dependencies(tmp_path: Path, wheelhouse: Path,
                                                                 capsys: pytest.CaptureFixture[str],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    root = project(tmp_path / "fn", local(wheelhouse, "demo-pure==1.0"))
    monkeypatch.chdir(root)
    assert build("--runtime", "python3.12") == 0
    assert "demo_pure/__init__.py" in names(root / "dist" / "fn.zip")  # the full package, built before
    assert main(["build", "--runtime", "python3.12", "--as-layer"]) == 0
    assert files(root / "dist" / "fn.zip") == ["lambda_function.py"]
    assert "python/demo_pure/__init__.py" in names(root / "dist" / "fn-layer.zip")
    out = capsys.readouterr().out
    assert "fn: dependencies from its layer dist/fn-layer.zip (--as-layer); this zip holds the code only\n" in out
