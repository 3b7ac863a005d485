"""`lpack terraform-external` speaks Terraform's external data source protocol: run as Terraform
runs it (a subprocess, the query as a JSON object of strings on stdin, in Terraform's working
folder), it prints one JSON object of strings on stdout and exits 0; a bad query or a build that
fails exits non-zero with one line on stderr (what Terraform shows) and nothing on stdout.
Real wheels from a local folder, real builds, zips opened and hashed again."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.factories.wheels import make_wheel

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "terraform"
RESULT_KEYS = {"filename", "source_code_hash", "output_base64sha256", "output_sha256", "output_size",
               "function", "kind", "handler", "runtime", "architecture"}


def external(query: object, cwd: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    """The program, as the external provider runs it: stdin the query's JSON, stdout read whole."""
    text = query if isinstance(query, str) else json.dumps(query)
    env = {**os.environ, "LPACK_CACHE_DIR": str(cache), "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "lpack", "terraform-external"], input=text, cwd=cwd,
                          capture_output=True, text=True, env=env, check=False, timeout=300)


def result(run: subprocess.CompletedProcess[str]) -> dict[str, str]:
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)  # the whole of stdout is one JSON object
    assert isinstance(data, dict) and all(isinstance(v, str) for v in data.values())  # Terraform's map of strings
    return data


def wheels(tmp_path: Path) -> Path:
    folder = tmp_path / "wheels"
    folder.mkdir(exist_ok=True)
    make_wheel(folder, "attrs", "23.2.0")
    make_wheel(folder, "six", "1.10.0")
    return folder


def requirements(folder: Path, found: Path, *pins: str) -> None:
    (folder / "requirements.txt").write_text("\n".join(["--no-index", f"--find-links {found}", *pins]) + "\n",
                                             encoding="utf-8")


@pytest.fixture
def infra(tmp_path: Path) -> Path:
    """Terraform's working folder with one zero-config function in functions/orders."""
    fn = tmp_path / "infra" / "functions" / "orders"
    fn.mkdir(parents=True)
    (fn / "lambda_function.py").write_text("import six\n\n\ndef lambda_handler(event, context):\n"
                                           "    return six.PY3\n", encoding="utf-8")
    requirements(fn, wheels(tmp_path), "six==1.10.0")
    return tmp_path / "infra"


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_the_result_names_the_zip_and_its_hashes(infra: Path, tmp_path: Path) -> None:
    before = snapshot(infra / "functions" / "orders")
    out = result(external({"project": "functions/orders", "runtime": "python3.12", "architecture": "arm64"},
                          infra, tmp_path / "cache"))
    assert set(out) == RESULT_KEYS
    assert out["filename"] == "functions/orders/dist/orders.zip"  # relative to Terraform's working folder
    data = (infra / out["filename"]).read_bytes()
    digest = hashlib.sha256(data).digest()
    assert out["source_code_hash"] == out["output_base64sha256"] == base64.b64encode(digest).decode()
    assert out["output_sha256"] == digest.hex()
    assert out["output_size"] == str(len(data))
    assert (out["function"], out["kind"], out["handler"], out["runtime"], out["architecture"]) == (
        "orders", "function", "lambda_function.lambda_handler", "python3.12", "arm64")
    with zipfile.ZipFile(infra / out["filename"]) as zf:
        assert {"lambda_function.py", "six/__init__.py"} <= set(zf.namelist())
    after = snapshot(infra / "functions" / "orders")
    assert {k: v for k, v in after.items() if not k.startswith("dist/")} == before  # the source is untouched
    assert [k for k in after if k.startswith("dist/")] == ["dist/orders.zip"]


def test_every_plan_gets_the_same_answer_from_the_cache(infra: Path, tmp_path: Path) -> None:
    query = {"project": "functions/orders", "runtime": "python3.12"}
    first = external(query, infra, tmp_path / "cache")
    second = external(query, infra, tmp_path / "cache")
    assert result(second) == result(first)
    assert second.stdout == first.stdout  # byte for byte: the plan does not change


def test_a_changed_source_changes_the_hash(infra: Path, tmp_path: Path) -> None:
    query = {"project": "functions/orders"}
    first = result(external(query, infra, tmp_path / "cache"))
    handler = infra / "functions" / "orders" / "lambda_function.py"
    handler.write_text(handler.read_text() + "# changed\n", encoding="utf-8")
    second = result(external(query, infra, tmp_path / "cache"))
    assert second["source_code_hash"] != first["source_code_hash"]
    assert second["filename"] == first["filename"]


def test_empty_values_and_dist_elsewhere(infra: Path, tmp_path: Path) -> None:
    """A module variable that defaults to "" means "not given"; `dist` keeps the project's folder clean."""
    before = snapshot(infra / "functions")
    out = result(external({"project": "functions/orders", "runtime": "", "architecture": "", "function": "",
                           "dist": "builds"}, infra, tmp_path / "cache"))
    assert out["filename"] == "builds/orders.zip"
    assert (out["runtime"], out["architecture"]) == ("python3.14", "x86_64")  # lpack's default target
    assert snapshot(infra / "functions") == before


def test_a_project_with_several_functions_needs_function(tmp_path: Path) -> None:
    project = tmp_path / "svc"
    (project / "src").mkdir(parents=True)
    (project / "src" / "app.py").write_text("def api(e, c):\n    return 1\n\n\ndef worker(e, c):\n    return 2\n",
                                             encoding="utf-8")
    (project / "lpack.toml").write_text('runtime = "python3.13"\nsource = "src"\n\n[functions.api]\n'
                                        'handler = "app.api"\n\n[functions.worker]\nhandler = "app.worker"\n',
                                        encoding="utf-8")
    run = external({"project": "svc"}, tmp_path, tmp_path / "cache")
    assert (run.returncode, run.stdout) == (2, "")
    assert run.stderr.count("\n") == 1 and "2 functions (api, worker)" in run.stderr and '"function"' in run.stderr
    out = result(external({"project": "svc", "function": "worker"}, tmp_path, tmp_path / "cache"))
    assert (out["function"], out["handler"], out["runtime"], out["filename"]) == (
        "worker", "app.worker", "python3.13", "svc/dist/worker.zip")


@pytest.mark.parametrize(("query", "says"), [
    pytest.param("project=.", "got invalid JSON", id="not-json"),
    pytest.param("", "got nothing", id="empty-stdin"),
    pytest.param('["functions/orders"]', "got a JSON array", id="not-an-object"),
    pytest.param({"project": "functions/orders", "memory": 512}, "unknown key 'memory'", id="unknown-key"),
    pytest.param({"project": "functions/orders", "runtime": 3.12}, "'runtime' must be a string", id="not-a-string"),
    pytest.param({"projct": "functions/orders"}, "did you mean 'project'?", id="misspelt-key"),
    pytest.param({"project": "functions/orders", "function": "payments"}, "no function or layer named 'payments'",
                 id="unknown-function"),
    pytest.param({"project": "functions/orders", "runtime": "python2.7"}, "unknown runtime 'python2.7'",
                 id="unknown-runtime"),
    pytest.param({"project": "functions/orders", "architecture": "aarch64"}, "Lambda calls it arm64",
                 id="unknown-architecture"),
    pytest.param({"project": "functions/missing"}, "functions/missing", id="no-such-project"),
])
def test_a_bad_query_is_one_line_on_stderr(query: object, says: str, infra: Path, tmp_path: Path) -> None:
    run = external(query, infra, tmp_path / "cache")
    assert run.returncode == 2
    assert run.stdout == ""  # Terraform ignores stdout on failure; nothing half-written either
    assert run.stderr.startswith("lpack: error: ") and run.stderr.count("\n") == 1, run.stderr
    assert says in run.stderr
    assert "Traceback" not in run.stderr
    assert not (infra / "functions" / "orders" / "dist").exists()


def test_a_package_that_cannot_start_fails_the_plan(infra: Path, tmp_path: Path) -> None:
    (infra / "functions" / "orders" / "lpack.toml").write_text('handler = "lambda_function.handle"\n', encoding="utf-8")
    run = external({"project": "functions/orders"}, infra, tmp_path / "cache")
    assert (run.returncode, run.stdout) == (2, "")
    assert run.stderr.count("\n") == 1 and re.search(r"orders: LP2\d\d ", run.stderr), run.stderr


def test_an_installer_that_fails_says_why_on_stderr(infra: Path, tmp_path: Path) -> None:
    requirements(infra / "functions" / "orders", wheels(tmp_path), "six==9.9.9")  # not in the wheel folder
    run = external({"project": "functions/orders"}, infra, tmp_path / "cache")
    assert (run.returncode, run.stdout) == (2, "")
    assert "six" in run.stderr and "Traceback" not in run.stderr


def test_the_terraform_example_builds_as_its_data_source_asks(tmp_path: Path) -> None:
    """examples/terraform: the query main.tf sends (path.module is "." in a root module), from a
    copy whose lock installs from local wheels of the same pins; main.tf reads only keys that exist."""
    root = Path(shutil.copytree(EXAMPLE, tmp_path / "terraform", ignore=shutil.ignore_patterns("dist")))
    lock = (root / "orders" / "requirements.txt").read_text()
    pins = re.findall(r"^([A-Za-z0-9_.-]+==[^\s\\]+)", lock, flags=re.MULTILINE)
    assert pins == ["attrs==23.2.0"] and "--hash=sha256:" in lock
    requirements(root / "orders", wheels(tmp_path), *pins)
    main_tf = (root / "main.tf").read_text()
    assert 'program = ["lpack", "terraform-external"]' in main_tf
    assert 'project      = "${path.module}/orders"' in main_tf
    out = result(external({"project": "./orders"}, root, tmp_path / "cache"))
    assert set(re.findall(r"data\.external\.orders\.result\.(\w+)", main_tf)) <= set(out)
    assert (out["runtime"], out["architecture"], out["filename"]) == ("python3.12", "arm64", "orders/dist/orders.zip")
    with zipfile.ZipFile(root / out["filename"]) as zf:
        assert {"lambda_function.py", "attrs/__init__.py"} <= set(zf.namelist())
        assert not any(n.endswith((".tf", ".md", "lpack.toml", "requirements.txt")) for n in zf.namelist())


@pytest.mark.network
def test_the_terraform_example_builds_its_real_lock(tmp_path: Path) -> None:
    root = Path(shutil.copytree(EXAMPLE, tmp_path / "terraform", ignore=shutil.ignore_patterns("dist")))
    out = result(external({"project": "./orders"}, root, tmp_path / "cache"))
    with zipfile.ZipFile(root / out["filename"]) as zf:
        assert "attrs-23.2.0.dist-info/METADATA" in zf.namelist()
