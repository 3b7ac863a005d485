"""Container image rules (LP370-LP376) through `lpack check IMAGE` on real image files built in
tmp dirs -- the healthy near misses quiet, hostile files one line and exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from lpack.cli import main
from tests.analysis.test_image import (
    GB,
    base_layer,
    big_layer,
    config,
    docker_save,
    layer,
    oci_members,
    write_oci,
    write_tar,
)


def codes(capsys: pytest.CaptureFixture[str], *argv: str) -> list[tuple[str, str]]:
    main(["check", *argv, "--format", "json"])
    out = json.loads(capsys.readouterr().out)
    return [(f["code"], f["message"]) for f in out["findings"]]


def test_healthy_aws_base_image_is_quiet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = docker_save(tmp_path / "image.tar", [base_layer()], config())
    assert main(["check", str(path)]) == 0
    out = capsys.readouterr().out
    assert "image" in out and "LP37" not in out
    assert codes(capsys, str(path)) == []
    folder = write_oci(tmp_path / "oci", oci_members([base_layer()], config("arm64"), gz=True))
    assert codes(capsys, str(folder), "--arch", "arm64") == []


def test_too_large_and_near_miss(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    big = docker_save(tmp_path / "big.tar", [base_layer(), big_layer(int(10.1 * GB))], config())
    found = codes(capsys, str(big))
    assert [c for c, _ in found] == ["LP370"] and "10,737,418,240 bytes" in found[0][1]
    assert main(["check", str(big)]) == 1
    capsys.readouterr()
    near = docker_save(tmp_path / "near.tar", [base_layer(), big_layer(int(9.9 * GB))], config())
    assert codes(capsys, str(near)) == []


def test_architecture_mismatch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = docker_save(tmp_path / "arm.tar", [base_layer()], config("arm64"))
    found = codes(capsys, str(path))
    assert [c for c, _ in found] == ["LP371"] and "linux/arm64" in found[0][1] and "x86_64" in found[0][1]
    assert codes(capsys, str(path), "--arch", "arm64") == []


def test_unsupported_platform(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    windows = docker_save(tmp_path / "win.tar", [base_layer()], config(os="windows"))
    assert [c for c, _ in codes(capsys, str(windows))] == ["LP372"]
    ppc = docker_save(tmp_path / "ppc.tar", [base_layer()], config("ppc64le"))
    assert [c for c, _ in codes(capsys, str(ppc))] == ["LP372"]


def test_cannot_start(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = docker_save(tmp_path / "i.tar", [base_layer()], config(entrypoint=[], cmd=[]))
    assert [c for c, _ in codes(capsys, str(path))] == ["LP373"]
    only_cmd = docker_save(tmp_path / "c.tar", [base_layer()], config(entrypoint=[]))
    assert codes(capsys, str(only_cmd)) == []


def test_multi_platform_and_attestation(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    both = oci_members([base_layer()], config(), platforms=[("amd64", config("amd64")), ("arm64", config("arm64"))])
    found = codes(capsys, str(write_oci(tmp_path / "both", both)), "--arch", "arm64")
    assert [c for c, _ in found] == ["LP374"] and "checked linux/arm64" in found[0][1]
    attested = oci_members([base_layer()], config(), platforms=[("amd64", config())], attestation=True)
    found = codes(capsys, str(write_oci(tmp_path / "att", attested)))
    assert [c for c, _ in found] == ["LP374"] and "attestation" in found[0][1]


def test_no_runtime_interface_and_near_misses(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bare = layer({"app/app.py": b"print('hi')\n", "usr/bin/python3": b"ELF"})
    found = codes(capsys, str(docker_save(tmp_path / "bare.tar", [bare], config(entrypoint=["python3"]))))
    assert [c for c, _ in found] == ["LP376"]
    ric = layer({"usr/local/lib/python3.12/site-packages/awslambdaric/bootstrap.py": b""})
    path = docker_save(tmp_path / "ric.tar", [bare, ric], config(entrypoint=["python3", "-m", "awslambdaric"]))
    assert codes(capsys, str(path)) == []


def test_oci_layout_tar(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_tar(tmp_path / "oci.tar", oci_members([base_layer()], config(), gz=True))
    assert codes(capsys, str(path)) == []


@pytest.mark.parametrize("name, content", [
    ("junk.tar", b"not a tar at all" * 64),
    ("files.tar", None),
    ("missing.tar", "absent"),
])
def test_hostile_files_through_the_cli(tmp_path: Path, name: str, content: bytes | str | None) -> None:
    path = tmp_path / name
    if content is None:
        write_tar(path, {"a.txt": b"a"})
    elif isinstance(content, bytes):
        path.write_bytes(content)
    done = subprocess.run([sys.executable, "-m", "lpack", "check", str(path)], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) <= 2
    assert str(path) in done.stderr


def test_bad_layout_folder_through_the_cli(tmp_path: Path) -> None:
    members = oci_members([base_layer()], config(), gz=True)
    folder = write_oci(tmp_path / "oci", members)
    index = json.loads((folder / "index.json").read_text())
    (folder / "blobs" / "sha256" / index["manifests"][0]["digest"].removeprefix("sha256:")).write_text("{bad")
    done = subprocess.run([sys.executable, "-m", "lpack", "check", str(folder)], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 2 and "Traceback" not in done.stderr and "not valid JSON" in done.stderr
