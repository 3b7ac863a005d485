"""lpack.cdk under the real `cdk synth`: a CDK Python app with two lpack functions (x86_64 and
arm64), synthesised with no Docker on PATH, gives asset zips equal to `lpack build`'s; a second
synth with nothing changed rebuilds nothing and keeps the asset hashes; an edit changes only the
edited function's hash.

Network-marked (it needs the aws-cdk CLI from npm and aws-cdk-lib from PyPI, installed as
tests/data/cdk/README.md says; `LPACK_CDK_TOOLS=/path` points at them, default /tmp/cdk-tools);
skipped when they are not there. The synthesis itself reaches no network: the functions'
requirements install from a local folder of wheels, the stack has no `env`, `--no-lookups`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

from lpack.cli import main
from tests.factories.wheels import make_native_wheel, make_wheel

pytestmark = pytest.mark.network

ROOT = Path(__file__).resolve().parent.parent
CDK_TOOLS = Path(os.environ.get("LPACK_CDK_TOOLS", "/tmp/cdk-tools"))
STACK = "LpackStack"

APP = '''\
import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from lpack.cdk import LpackFunction, lpack_code


class LpackStack(cdk.Stack):
    def __init__(self, scope, construct_id, **kwargs):
        super().__init__(scope, construct_id, **kwargs)
        # runtime, architecture and handler from functions/orders/lpack.toml
        LpackFunction(self, "Orders", path="functions/orders")
        # zero config (lambda_function.py); the same target given to lpack and to the Function
        lambda_.Function(
            self, "Reports",
            code=lpack_code("functions/reports", runtime=lambda_.Runtime.PYTHON_3_13,
                            architecture=lambda_.Architecture.ARM_64),
            runtime=lambda_.Runtime.PYTHON_3_13, architecture=lambda_.Architecture.ARM_64,
            handler="lambda_function.lambda_handler",
        )


app = cdk.App()
LpackStack(app, "LpackStack")
app.synth()
'''

MISMATCH = APP.replace("architecture=lambda_.Architecture.ARM_64,\n            handler",
                       "architecture=lambda_.Architecture.X86_64,\n            handler")


def cdk_tools() -> tuple[str, str] | None:
    """The `cdk` command and a Python with aws-cdk-lib and lpack's dependencies."""
    local = CDK_TOOLS / "node_modules" / ".bin" / "cdk"
    cdk = str(local) if local.is_file() else shutil.which("cdk")
    venv = CDK_TOOLS / "venv" / "bin" / "python"
    python = str(venv) if venv.is_file() else sys.executable
    probe = subprocess.run([python, "-c", "import aws_cdk, lpack.cdk"], capture_output=True, check=False,
                           env={**os.environ, "PYTHONPATH": str(ROOT)})
    return None if cdk is None or probe.returncode else (cdk, python)


def without_docker(path: str) -> str:
    return os.pathsep.join(d for d in path.split(os.pathsep) if d and not (Path(d) / "docker").exists())


def write_app(app: Path, wheels: Path) -> None:
    requirements = f"--no-index\n--find-links {wheels}\npurelib==1.0\nfastlib==2.0\n"
    orders, reports = app / "functions" / "orders", app / "functions" / "reports"
    for folder in (orders, reports):
        folder.mkdir(parents=True)
        (folder / "requirements.txt").write_text(requirements)
    (orders / "app.py").write_text("import fastlib\nimport purelib\n\n\ndef handler(event, context):\n"
                                   "    return {'orders': len(event.get('orders', []))}\n")
    (orders / "lpack.toml").write_text('handler = "app.handler"\nruntime = "python3.13"\narchitecture = "x86_64"\n')
    (reports / "lambda_function.py").write_text("import fastlib\nimport purelib\n\n\n"
                                                "def lambda_handler(event, context):\n    return {'total': 0}\n")
    (app / "app.py").write_text(APP)
    (app / "cdk.json").write_text(json.dumps({"app": "python app.py"}) + "\n")


def synth(cdk: str, python: str, app: Path) -> tuple[dict[str, dict[str, Any]], str, float]:
    """Run `cdk synth`; each function's asset (by construct id): hash, path in cdk.out, packaging."""
    env = {**os.environ, "CDK_DISABLE_VERSION_CHECK": "1", "PYTHONDONTWRITEBYTECODE": "1",
           "PYTHONPATH": str(ROOT), "PATH": os.pathsep.join([str(Path(python).parent), without_docker(os.environ["PATH"])])}
    for key in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        env.pop(key, None)
    assert shutil.which("docker", path=env["PATH"]) is None
    start = time.perf_counter()
    done = subprocess.run([cdk, "synth", "--no-lookups", "--quiet"], cwd=app, env=env, capture_output=True,
                          text=True, timeout=600, check=False)
    seconds = time.perf_counter() - start
    assert done.returncode == 0, done.stderr
    out = app / "cdk.out"
    files = json.loads((out / f"{STACK}.assets.json").read_text())["files"]
    resources = json.loads((out / f"{STACK}.template.json").read_text())["Resources"]
    assets = {}
    for resource in resources.values():
        if resource["Type"] == "AWS::Lambda::Function":
            name = resource["Metadata"]["aws:cdk:path"].split("/")[1]
            key = resource["Properties"]["Code"]["S3Key"]
            asset_hash = key.removesuffix(".zip")
            assets[name] = {"hash": asset_hash, "path": out / files[asset_hash]["source"]["path"],
                            "packaging": files[asset_hash]["source"]["packaging"],
                            "runtime": resource["Properties"]["Runtime"],
                            "architectures": resource["Properties"].get("Architectures", ["x86_64"])}
    return assets, done.stderr, seconds


def files_of(zip_path: Path) -> dict[str, tuple[bytes, int]]:
    with zipfile.ZipFile(zip_path) as zf:
        return {i.filename: (zf.read(i), i.external_attr >> 16) for i in zf.infolist()}


def lpack_build(folder: Path, *args: str) -> Path:
    assert main(["build", str(folder), "-q", *args]) == 0
    (built,) = (folder / "dist").glob("*.zip")
    return built


def test_cdk_synth_bundles_through_lpack_without_docker(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tools = cdk_tools()
    if tools is None:
        pytest.skip(f"no `cdk` with aws-cdk-lib and lpack's dependencies (looked in {CDK_TOOLS} and on PATH); "
                    "see tests/data/cdk/README.md, then `pip install -e .` into that Python")
    cdk, python = tools
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    make_wheel(wheels, "purelib", "1.0")
    for machine in ("x86_64", "aarch64"):
        make_native_wheel(wheels, "fastlib", "2.0", python="cp313", machine=machine)
    app = tmp_path / "app"
    write_app(app, wheels)

    first, stderr, first_s = synth(cdk, python, app)
    assert "Bundling asset LpackStack/Orders" in stderr and "Bundling asset LpackStack/Reports" in stderr
    assert {n: (a["runtime"], a["architectures"], a["packaging"]) for n, a in first.items()} == {
        "Orders": ("python3.13", ["x86_64"], "file"), "Reports": ("python3.13", ["arm64"], "file")}

    # the asset CDK uploads is lpack's zip: the same files, bytes and modes, and the same zip bytes
    orders = lpack_build(app / "functions" / "orders")
    reports = lpack_build(app / "functions" / "reports", "--runtime", "python3.13", "--arch", "arm64")
    for name, built, machine in (("Orders", orders, "x86_64"), ("Reports", reports, "aarch64")):
        asset = first[name]["path"]
        assert files_of(asset) == files_of(built)
        assert asset.read_bytes() == built.read_bytes()
        assert any(machine in n and n.endswith(".so") for n in files_of(asset))  # the target's native wheel
    capsys.readouterr()

    # nothing changed: the same hashes, and nothing bundled (CDK finds asset.HASH in cdk.out)
    second, stderr, second_s = synth(cdk, python, app)
    assert {n: a["hash"] for n, a in second.items()} == {n: a["hash"] for n, a in first.items()}
    assert "Bundling asset" not in stderr and "lpack:" not in stderr

    # an edit to one function changes its hash only, and only it is bundled again
    source = app / "functions" / "reports" / "lambda_function.py"
    source.write_text(source.read_text().replace("'total': 0", "'total': 1"))
    third, stderr, third_s = synth(cdk, python, app)
    assert third["Orders"]["hash"] == first["Orders"]["hash"]
    assert third["Reports"]["hash"] != first["Reports"]["hash"]
    assert "Bundling asset LpackStack/Reports" in stderr and "Bundling asset LpackStack/Orders" not in stderr
    print(f"cdk synth: {first_s:.1f} s (two builds), {second_s:.1f} s (nothing changed), "
          f"{third_s:.1f} s (one function edited)", file=sys.stderr)


def test_a_function_whose_architecture_differs_from_the_package_is_refused(tmp_path: Path) -> None:
    tools = cdk_tools()
    if tools is None:
        pytest.skip(f"no `cdk` with aws-cdk-lib and lpack's dependencies (looked in {CDK_TOOLS} and on PATH)")
    _, python = tools
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    make_wheel(wheels, "purelib", "1.0")
    for machine in ("x86_64", "aarch64"):
        make_native_wheel(wheels, "fastlib", "2.0", python="cp313", machine=machine)
    app = tmp_path / "app"
    write_app(app, wheels)
    (app / "app.py").write_text(MISMATCH)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CDK_OUTDIR": str(tmp_path / "out"),
           "PATH": without_docker(os.environ["PATH"])}
    done = subprocess.run([python, "app.py"], cwd=app, env=env, capture_output=True, text=True, timeout=600,
                          check=False)
    assert done.returncode != 0
    assert ("lpack built reports for python3.13 arm64, but the function LpackStack/Reports runs python3.13 "
            "x86_64") in done.stderr
