"""lpack.api, the library face the CDK integration (lpack.cdk) stands on, and lpack.cdk's import
without aws-cdk-lib. Hermetic: no aws-cdk-lib needed (tests/test_cdk.py runs the real `cdk synth`)."""

from __future__ import annotations

import importlib
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from lpack.api import build_package, function_plan, package_digest
from lpack.core.errors import BuildError, ConfigError
from tests.factories.wheels import make_wheel


def write_function(folder: Path, wheels: Path, body: str = "return {'ok': True}") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "app.py").write_text(f"import purelib\n\n\ndef handler(event, context):\n    {body}\n")
    (folder / "requirements.txt").write_text(f"--no-index\n--find-links {wheels}\npurelib==1.0\n")
    return folder


@pytest.fixture
def function(tmp_path: Path) -> Path:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    make_wheel(wheels, "purelib", "1.0")
    return write_function(tmp_path / "functions" / "orders", wheels)


def digest(folder: Path, **kwargs: str) -> str:
    return package_digest(function_plan(folder, handler="app.handler", **kwargs))


def test_a_folder_without_lpack_configuration_is_a_function_with_the_handler_given(function: Path) -> None:
    unit_plan = function_plan(function, runtime="python3.13", architecture="arm64", handler="app.handler")
    assert (unit_plan.unit.name, unit_plan.unit.handler, unit_plan.target.label) == ("orders", "app.handler",
                                                                                      "python3.13 arm64")
    with pytest.raises(ConfigError, match=r"no Lambda function configured; handler\(event, context\) in app.py"):
        function_plan(function)  # no handler, no lambda_function.py, no [tool.lpack]: it says which it saw


def test_the_digest_is_known_before_building_and_moves_only_with_what_shapes_the_zip(function: Path) -> None:
    before = digest(function, runtime="python3.13")
    assert len(before) == 64 and before == digest(function, runtime="python3.13")
    assert not (function / "dist").exists()  # nothing built, nothing written
    (function / "README.md").write_text("not shipped\n")
    assert digest(function, runtime="python3.13") == before
    assert digest(function, runtime="python3.13", architecture="arm64") != before
    assert digest(function, runtime="python3.12") != before
    (function / "requirements.txt").write_text((function / "requirements.txt").read_text() + "# pinned again\n")
    changed_lock = digest(function, runtime="python3.13")
    assert changed_lock != before
    (function / "app.py").write_text((function / "app.py").read_text() + "# edited\n")
    assert digest(function, runtime="python3.13") not in (before, changed_lock)


def test_the_digest_includes_lpacks_version(function: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = digest(function)
    monkeypatch.setattr("lpack.api.__version__", "99.0.0")
    assert digest(function) != before


def test_build_package_writes_the_zip_where_asked_and_nothing_else(function: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    unit_plan = function_plan(function, runtime="python3.13", architecture="arm64", handler="app.handler")
    package = build_package(unit_plan, dist=out)
    assert package.path == out / "orders.zip" and sorted(p.name for p in out.iterdir()) == ["orders.zip"]
    assert (package.runtime, package.architecture) == ("python3.13", "arm64")
    assert not (function / "dist").exists()  # the user's tree is not written
    with zipfile.ZipFile(package.path) as zf:
        assert {"app.py", "purelib/__init__.py"} <= set(zf.namelist())
    assert "requirements.txt" not in zipfile.ZipFile(package.path).namelist()


def test_build_package_refuses_a_package_with_errors(function: Path, tmp_path: Path) -> None:
    unit_plan = function_plan(function, runtime="python3.13", handler="app.missing")
    with pytest.raises(BuildError, match=r"has errors: LP\d+ .*missing"):
        build_package(unit_plan, dist=tmp_path / "out")


def test_a_project_of_several_functions_needs_the_one_named(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("def handler(event, context):\n    return 1\n")
    (tmp_path / "lpack.toml").write_text('[functions.one]\nhandler = "a.handler"\n[functions.two]\nhandler = "a.handler"\n')
    with pytest.raises(ConfigError, match="name the function to package; this project has: one, two"):
        function_plan(tmp_path)
    assert function_plan(tmp_path, function="two").unit.name == "two"


def test_lpack_cdk_without_aws_cdk_lib_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("jsii", "aws_cdk", "constructs"):
        monkeypatch.setitem(sys.modules, name, None)  # as if not installed, even where it is
    monkeypatch.delitem(sys.modules, "lpack.cdk", raising=False)
    with pytest.raises(ImportError, match=r"pip install 'lpack-lambda\[cdk\]'"):
        importlib.import_module("lpack.cdk")


def test_importing_lpack_never_imports_aws_cdk() -> None:
    code = ("import sys, lpack, lpack.api, lpack.cli; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('aws_cdk', 'jsii', 'constructs')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_the_cdk_example_plans_what_its_app_says(tmp_path: Path) -> None:
    import ast

    example = Path(__file__).parent.parent / "examples" / "cdk"
    app = (example / "app.py").read_text()
    ast.parse(app)
    assert "from lpack.cdk import LpackFunction, lpack_code" in app
    orders = function_plan(example / "functions" / "orders")
    assert (orders.unit.handler, orders.target.label) == ("app.handler", "python3.13 x86_64")
    reports = function_plan(example / "functions" / "reports", runtime="python3.13", architecture="arm64")
    assert (reports.unit.handler, reports.unit.requirements) == ("lambda_function.lambda_handler",
                                                                 example / "functions" / "reports" / "requirements.txt")
    package = build_package(orders, dist=tmp_path)  # no dependencies: no network
    assert zipfile.ZipFile(package.path).namelist() == ["app.py"]
