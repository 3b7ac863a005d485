"""The shared dependency cache on S3, against a real S3 server: moto's standalone server, started
as a process on loopback for these tests and stopped after them (not an in-process mock).

Two "machines" are two dependency caches (LPACK_CACHE_DIR) and two copies of a project in
different folders; wheels come from a local folder (--no-index --find-links)."""

from __future__ import annotations

import hashlib
import json
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from lpack.cli import main
from tests.factories.s3 import free_port, moto_server
from tests.factories.wheels import make_wheel

boto3 = pytest.importorskip("boto3")
pytest.importorskip("moto.server")

SECRET = "planted-Secret-0123456789abcdefGHIJ"  # must never appear in anything lpack prints
HANDLER = "import demo_remote\n\n\ndef lambda_handler(event, context):\n    return demo_remote.VALUE\n"


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """moto_server on 127.0.0.1 and a free port; its URL. Stopped (and waited for) after the module."""
    log = tmp_path_factory.mktemp("moto") / "server.log"
    with moto_server(log, {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}) as url:
        yield url


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Credentials for the test server only (the secret is a planted value), no profile files,
    no instance metadata lookups."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIATESTREMOTECACHE1")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_REGION"):
        monkeypatch.delenv(key, raising=False)


@pytest.fixture
def bucket(s3_server: str, aws: None) -> str:
    name = f"lpack-{uuid.uuid4().hex[:12]}"
    s3(s3_server).create_bucket(Bucket=name)
    return name


def s3(endpoint: str) -> Any:
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    house = tmp_path_factory.mktemp("remote-wheels")
    make_wheel(house, "demo-remote", "1.0", requires=["demo-remote-dep"],
               files={"demo_remote/__init__.py": "VALUE = 1\n"})
    make_wheel(house, "demo-remote-dep", "2.0")
    make_wheel(house, "demo-remote", "1.1", files={"demo_remote/__init__.py": "VALUE = 2\n"})
    return house


def machine(tmp_path: Path, name: str, wheels: Path, pin: str = "demo-remote==1.0") -> tuple[Path, Path]:
    """A project folder and an empty dependency cache of one machine."""
    root = tmp_path / name / "work" / "fn"
    root.mkdir(parents=True)
    (root / "lambda_function.py").write_text(HANDLER)
    (root / "requirements.txt").write_text(f"--no-index\n--find-links {wheels}\n{pin}\n")
    return root, tmp_path / name / "cache"


def build(root: Path, cache: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
          *args: str) -> tuple[int, dict[str, Any], str]:
    monkeypatch.setenv("LPACK_CACHE_DIR", str(cache))
    capsys.readouterr()
    code = main(["build", str(root), "--format", "json", *args])
    out, err = capsys.readouterr()
    return code, json.loads(out), err


def remote(endpoint: str, bucket: str) -> list[str]:
    return ["--remote-cache", f"s3://{bucket}/team/lpack", "--remote-cache-endpoint", endpoint]


def objects(endpoint: str, bucket: str) -> list[str]:
    listed = s3(endpoint).list_objects_v2(Bucket=bucket)
    return sorted(o["Key"] for o in listed.get("Contents", []))


def zip_digest(root: Path) -> str:
    return hashlib.sha256((root / "dist" / "fn.zip").read_bytes()).hexdigest()


def test_machine_b_with_an_empty_cache_downloads_the_same_zip_and_reports_the_same_findings(
    tmp_path: Path, wheels: Path, s3_server: str, bucket: str,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    a_root, a_cache = machine(tmp_path, "a", wheels)
    (a_root / "lambda_function.py").write_text("import no_such_module_here\n" + HANDLER)  # a finding, to compare
    code, report_a, err = build(a_root, a_cache, monkeypatch, capsys, *remote(s3_server, bucket))
    assert (code, report_a["artifacts"][0]["dependencies"], err.count("warning")) == (1, "installed", 0)
    assert "artifact" not in report_a["artifacts"][0]
    stored = objects(s3_server, bucket)
    assert [k.rsplit("/", 1)[0] for k in stored] == ["team/lpack/artifacts/v1"] * 2 + ["team/lpack/v1"] * 2
    assert stored[1] == stored[0].removesuffix(".json") + ".zip"
    record = json.loads(s3(s3_server).get_object(Bucket=bucket, Key=stored[0])["Body"].read())
    assert record["sha256"] == zip_digest(a_root) and record["name"] == "fn"
    assert [f[0] for f in record["judged"]["findings"]] == ["LP209"] and str(tmp_path) not in json.dumps(record)
    assert [d["version"] for d in record["installed"]] == ["1.0", "2.0"]  # what dist/lpack-manifest.json lists

    b_root, b_cache = machine(tmp_path, "b", wheels)
    (b_root / "lambda_function.py").write_text("import no_such_module_here\n" + HANDLER)
    code, report_b, err = build(b_root, b_cache, monkeypatch, capsys, *remote(s3_server, bucket))
    [artifact] = report_b["artifacts"]
    assert (code, artifact["artifact"], artifact["dependencies"], err) == (1, "remote", "remote", "")
    jsonschema.validate(report_b, json.loads((Path(__file__).parents[2] / "schemas" / "report.schema.json").read_text()))
    assert zip_digest(b_root) == zip_digest(a_root)
    # judged as a built zip, and on B's own source file
    assert relative(report_b["findings"], b_root) == relative(report_a["findings"], a_root)
    assert [(f["code"], f["path"]) for f in relative(report_b["findings"], b_root)] == [("LP209", "lambda_function.py")]
    assert {k: artifact[k] for k in ("sha256", "size_unzipped", "files", "largest", "packages")} == \
        {k: report_a["artifacts"][0][k] for k in ("sha256", "size_unzipped", "files", "largest", "packages")}
    manifest = "dist/lpack-manifest.json"
    assert (b_root / manifest).read_text() == (a_root / manifest).read_text()
    assert list((b_cache / "deps").glob("*/*/meta.json")) == []  # nothing installed, nothing fetched

    # B's next build is a no-op (its stamp), and B wrote nothing back
    code, report_b, _ = build(b_root, b_cache, monkeypatch, capsys, *remote(s3_server, bucket))
    assert report_b["artifacts"][0]["current"] is True
    assert relative(report_b["findings"], b_root) == relative(report_a["findings"], a_root)
    assert objects(s3_server, bucket) == stored


def relative(findings: list[dict[str, Any]], root: Path) -> list[dict[str, Any]]:
    return [{**f, "path": Path(f["path"]).relative_to(root).as_posix()} for f in findings]


@pytest.mark.parametrize("change", ["source", "mode", "SOURCE_DATE_EPOCH"])
def test_a_change_that_changes_the_zip_builds_it_from_the_shared_dependencies(
    change: str, tmp_path: Path, wheels: Path, s3_server: str, bucket: str,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    a_root = built_on_a(tmp_path, wheels, s3_server, bucket, monkeypatch, capsys)
    stored = objects(s3_server, bucket)

    b_root, b_cache = machine(tmp_path, "b", wheels)
    if change == "source":
        (b_root / "lambda_function.py").write_text(HANDLER + "# edited on B\n")
    elif change == "mode":
        (b_root / "lambda_function.py").chmod(0o755)
    else:
        monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    code, report, err = build(b_root, b_cache, monkeypatch, capsys, *remote(s3_server, bucket))
    assert (code, report["artifacts"][0]["dependencies"], err) == (0, "remote", "")
    assert "artifact" not in report["artifacts"][0] and zip_digest(b_root) != zip_digest(a_root)
    added = sorted(set(objects(s3_server, bucket)) - set(stored))  # B shares its package in turn
    assert [k.rsplit("/", 1)[0] for k in added] == ["team/lpack/artifacts/v1"] * 2


@pytest.mark.parametrize("record", ["on the zip", "in its own object"])
def test_a_corrupted_remote_package_is_never_used(
    record: str, tmp_path: Path, wheels: Path, s3_server: str, bucket: str,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    a_root = built_on_a(tmp_path, wheels, s3_server, bucket, monkeypatch, capsys)
    [zip_object] = [k for k in objects(s3_server, bucket) if k.endswith(".zip") and "/artifacts/" in k]
    flip_a_byte(s3_server, bucket, zip_object, keep_metadata=record == "on the zip")

    b_root, b_cache = machine(tmp_path, "b", wheels)
    code, report, err = build(b_root, b_cache, monkeypatch, capsys, *remote(s3_server, bucket))
    assert (code, report["artifacts"][0]["dependencies"]) == (0, "installed")  # the remote is off after
    assert "artifact" not in report["artifacts"][0]
    assert err == (f"lpack: warning: remote cache s3://{bucket}/team/lpack: {zip_object} does not match its "
                   "recorded sha256; not used; building locally\n")
    assert zip_digest(b_root) == zip_digest(a_root)


def built_on_a(tmp_path: Path, wheels: Path, endpoint: str, bucket: str, monkeypatch: pytest.MonkeyPatch,
               capsys: pytest.CaptureFixture[str]) -> Path:
    """Machine A's project, built with the remote cache (which it writes back)."""
    a_root, a_cache = machine(tmp_path, "a", wheels)
    build(a_root, a_cache, monkeypatch, capsys, *remote(endpoint, bucket))
    return a_root


def flip_a_byte(endpoint: str, bucket: str, key: str, keep_metadata: bool = False) -> None:
    client = s3(endpoint)
    found = client.get_object(Bucket=bucket, Key=key)
    data = bytearray(found["Body"].read())
    data[len(data) // 2] ^= 0xFF  # one flipped byte, same size
    client.put_object(Bucket=bucket, Key=key, Body=bytes(data), Metadata=found["Metadata"] if keep_metadata else {})


def test_a_package_is_one_request_and_one_without_a_record_is_not_there(
    tmp_path: Path, wheels: Path, s3_server: str, bucket: str,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    a_root = built_on_a(tmp_path, wheels, s3_server, bucket, monkeypatch, capsys)
    record_object, zip_object = [k for k in objects(s3_server, bucket) if "/artifacts/" in k]
    client = s3(s3_server)
    on_zip = json.loads(client.get_object(Bucket=bucket, Key=zip_object)["Metadata"]["lpack-record"])
    assert on_zip == json.loads(client.get_object(Bucket=bucket, Key=record_object)["Body"].read())

    client.delete_object(Bucket=bucket, Key=record_object)  # the zip carries its record
    b_root, b_cache = machine(tmp_path, "b", wheels)
    code, report, err = build(b_root, b_cache, monkeypatch, capsys, *remote(s3_server, bucket))
    assert (code, report["artifacts"][0].get("artifact"), err) == (0, "remote", "")

    # a zip whose record is not written (an upload cut short): not there, no warning
    data = client.get_object(Bucket=bucket, Key=zip_object)["Body"].read()
    client.put_object(Bucket=bucket, Key=zip_object, Body=data)
    c_root, c_cache = machine(tmp_path, "c", wheels)
    code, report, err = build(c_root, c_cache, monkeypatch, capsys, *remote(s3_server, bucket))
    assert (code, report["artifacts"][0].get("artifact"), report["artifacts"][0]["dependencies"], err) == \
        (0, None, "remote", "")
    assert zip_digest(c_root) == zip_digest(a_root)


def test_a_corrupted_remote_entry_is_never_used(
    tmp_path: Path, wheels: Path, s3_server: str, bucket: str,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    a_root = built_on_a(tmp_path, wheels, s3_server, bucket, monkeypatch, capsys)
    for key in objects(s3_server, bucket):
        if "/artifacts/" in key:  # the package is not there: the dependencies are looked up
            s3(s3_server).delete_object(Bucket=bucket, Key=key)
    [zip_object] = [k for k in objects(s3_server, bucket) if k.endswith(".zip")]
    flip_a_byte(s3_server, bucket, zip_object)

    b_root, b_cache = machine(tmp_path, "b", wheels)
    code, report, err = build(b_root, b_cache, monkeypatch, capsys, *remote(s3_server, bucket))
    assert (code, report["artifacts"][0]["dependencies"]) == (0, "installed")
    assert err == (f"lpack: warning: remote cache s3://{bucket}/team/lpack: {zip_object} does not match its "
                   "recorded sha256; not used; building locally\n")
    assert zip_digest(b_root) == zip_digest(a_root)


@pytest.mark.parametrize("endpoint", ["stopped", "wrong"])
def test_an_unreachable_remote_is_one_warning_and_a_local_build(
    endpoint: str, tmp_path: Path, wheels: Path, aws: None,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"http://127.0.0.1:{free_port()}" if endpoint == "stopped" else "http://lpack-no-such-host.invalid"
    root, cache = machine(tmp_path, "a", wheels)
    started = time.monotonic()
    code, report, err = build(root, cache, monkeypatch, capsys, *remote(url, "any-bucket"))
    assert (code, report["artifacts"][0]["dependencies"]) == (0, "installed")
    assert err.count("\n") == 1 and err.startswith("lpack: warning: remote cache s3://any-bucket/team/lpack: ")
    assert err.endswith("; building locally\n") and SECRET not in err
    assert time.monotonic() - started < 30  # short timeouts, no retry storm


def test_read_only_reads_but_never_writes(
    tmp_path: Path, wheels: Path, s3_server: str, bucket: str,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    root, cache = machine(tmp_path, "fork", wheels)
    code, report, err = build(root, cache, monkeypatch, capsys, *remote(s3_server, bucket), "--remote-cache-read-only")
    assert (code, report["artifacts"][0]["dependencies"], err) == (0, "installed", "")
    assert objects(s3_server, bucket) == []

    monkeypatch.setenv("LPACK_REMOTE_CACHE", f"s3://{bucket}/team/lpack")  # the environment's way
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3_server)  # as botocore reads it
    monkeypatch.setenv("LPACK_REMOTE_CACHE_READ_ONLY", "1")
    code, report, err = build(root, tmp_path / "fork" / "cache2", monkeypatch, capsys)
    assert (report["artifacts"][0]["dependencies"], objects(s3_server, bucket)) == ("installed", [])

    monkeypatch.delenv("LPACK_REMOTE_CACHE_READ_ONLY")  # another machine shares its package...
    other, other_cache = machine(tmp_path, "main", wheels)
    build(other, other_cache, monkeypatch, capsys)
    stored = objects(s3_server, bucket)
    monkeypatch.setenv("LPACK_REMOTE_CACHE_READ_ONLY", "1")  # ...which a read-only build downloads
    code, report, err = build(root, tmp_path / "fork" / "cache3", monkeypatch, capsys)
    assert (code, report["artifacts"][0].get("artifact"), err) == (0, "remote", "")
    assert zip_digest(root) == zip_digest(other) and objects(s3_server, bucket) == stored


def test_credentials_never_appear_in_what_lpack_prints(
    tmp_path: Path, wheels: Path, s3_server: str, bucket: str,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    root, cache = machine(tmp_path, "a", wheels)
    monkeypatch.setenv("LPACK_CACHE_DIR", str(cache))
    capsys.readouterr()
    for args in ([], ["-v"], ["--format", "json"]):
        main(["build", str(root), *remote(s3_server, bucket), *args])
    # a bucket that does not exist, and a URL with credentials in it: errors are printed
    main(["build", str(root), "--refresh", *remote(s3_server, "no-such-bucket")])
    assert main(["build", str(root), "--remote-cache", f"s3://AKIA:{SECRET}@{bucket}/x"]) == 2
    out, err = capsys.readouterr()
    assert "no-such-bucket" in err  # the warning was printed...
    assert SECRET not in out + err and "AKIATESTREMOTECACHE1" not in out + err  # ...without the keys


def test_without_boto3_the_error_says_what_to_install(
    tmp_path: Path, wheels: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "boto3" else real(name, *a))
    root, cache = machine(tmp_path, "a", wheels)
    monkeypatch.setenv("LPACK_CACHE_DIR", str(cache))
    assert main(["build", str(root), "--remote-cache", "s3://bucket/x"]) == 2
    assert capsys.readouterr().err.splitlines()[-2:] == [
        "lpack: error: --remote-cache s3://bucket/x needs boto3, which is not installed",
        "lpack: tip: pip install 'lpack-lambda[s3]'"]


def test_the_cache_key_is_the_same_on_two_machines_and_follows_the_lock(
    tmp_path: Path, wheels: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    a_root, a_cache = machine(tmp_path, "a", wheels)
    b_root, b_cache = machine(tmp_path, "b", wheels)

    def key(root: Path, cache: Path) -> dict[str, Any]:
        monkeypatch.setenv("LPACK_CACHE_DIR", str(cache))
        capsys.readouterr()
        assert main(["cache", "key", str(root), "--format", "json"]) == 0
        return dict(json.loads(capsys.readouterr().out))

    a, b = key(a_root, a_cache), key(b_root, b_cache)
    assert [u["key"] for u in a["units"]] == [u["key"] for u in b["units"]] and a["units"][0]["key"]
    assert a["combined"] == b["combined"] and a["combined"].startswith("lpack-deps-")
    assert list((a_cache / "deps").glob("*/*")) == []  # nothing was installed to say it

    code, _, _ = build(a_root, a_cache, monkeypatch, capsys)  # the build uses that very key
    assert code == 0 and [p.name for p in (a_cache / "deps").glob("*/*")] == [a["units"][0]["key"]]

    (b_root / "requirements.txt").write_text(f"--no-index\n--find-links {wheels}\ndemo-remote==1.1\n")
    assert key(b_root, b_cache)["combined"] != a["combined"]
    capsys.readouterr()
    assert main(["cache", "key", str(a_root), "--combined"]) == 0
    assert capsys.readouterr().out == a["combined"] + "\n"
    shutil.rmtree(tmp_path / "a")


def test_units_building_at_once_share_one_warning(
    tmp_path: Path, wheels: Path, aws: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    root = tmp_path / "app"
    (root / "src").mkdir(parents=True)
    (root / "src" / "lambda_function.py").write_text(HANDLER)
    for pin in ("1.0", "1.1"):
        (root / f"requirements-{pin}.txt").write_text(f"--no-index\n--find-links {wheels}\ndemo-remote=={pin}\n")
    (root / "pyproject.toml").write_text(
        '[tool.lpack]\nsource = "src"\n\n'
        '[tool.lpack.functions.one]\nhandler = "lambda_function.lambda_handler"\nrequirements = "requirements-1.0.txt"\n\n'
        '[tool.lpack.functions.two]\nhandler = "lambda_function.lambda_handler"\nrequirements = "requirements-1.1.txt"\n')
    code, report, err = build(root, tmp_path / "cache", monkeypatch, capsys, "--jobs", "2",
                              *remote(f"http://127.0.0.1:{free_port()}", "any-bucket"))
    assert code == 0 and [a["dependencies"] for a in report["artifacts"]] == ["installed", "installed"]
    assert err.count("lpack: warning: remote cache") == 1, err


def test_a_function_with_a_layer_is_judged_again_with_this_machines_layer(
    tmp_path: Path, wheels: Path, s3_server: str, bucket: str,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    def project(name: str) -> Path:
        root = tmp_path / name / "app"
        (root / "src").mkdir(parents=True)
        (root / "src" / "lambda_function.py").write_text("import no_such_module_here\n" + HANDLER)
        (root / "requirements.txt").write_text(f"--no-index\n--find-links {wheels}\ndemo-remote==1.0\n")
        (root / "pyproject.toml").write_text(
            '[tool.lpack]\nsource = "src"\n\n[tool.lpack.layers.deps]\nrequirements = "requirements.txt"\n\n'
            '[tool.lpack.functions.fn]\nhandler = "lambda_function.lambda_handler"\nlayers = ["deps"]\n')
        return root

    a_root, b_root = project("a"), project("b")
    code, report_a, _ = build(a_root, tmp_path / "a" / "cache", monkeypatch, capsys, *remote(s3_server, bucket))
    code, report_b, err = build(b_root, tmp_path / "b" / "cache", monkeypatch, capsys, *remote(s3_server, bucket))
    assert [(a["name"], a.get("artifact")) for a in report_b["artifacts"]] == [("deps", "remote"), ("fn", "remote")]
    assert relative(report_b["findings"], b_root) == relative(report_a["findings"], a_root)
    assert [f["code"] for f in report_b["findings"]] == ["LP209"] and err == ""

    # deployed with one more layer, which has the module: the same zip, judged with it, is fine
    import zipfile

    with zipfile.ZipFile(tmp_path / "extra.zip", "w") as zf:
        zf.writestr("python/no_such_module_here.py", "")
    shutil.rmtree(b_root / "dist")
    code, report_b, err = build(b_root, tmp_path / "b" / "cache2", monkeypatch, capsys,
                                *remote(s3_server, bucket), "--layer", str(tmp_path / "extra.zip"))
    assert [(a["name"], a.get("artifact")) for a in report_b["artifacts"]] == [("deps", "remote"), ("fn", "remote")]
    assert (code, report_b["findings"], err) == (0, [], "")
    for name in ("deps", "fn"):
        assert (b_root / "dist" / f"{name}.zip").read_bytes() == (a_root / "dist" / f"{name}.zip").read_bytes()
