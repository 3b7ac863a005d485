"""Reading container images from disk without Docker: real `docker save` tars (legacy and Docker
25+'s OCI form), OCI layout folders and OCI layouts in a tar, built here with tarfile, gzip and
json and proper sha256 digests. The 10 GB cases use sparse files: the reader takes a layer's size
from its tar header, so they cost no disk and no time."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest

from lpack.analysis.image import read_image
from lpack.core.errors import LpackError

GB = 1 << 30
ENTRYPOINT = b"#!/bin/sh\nexec /var/runtime/bootstrap \"$@\"\n"
APP = b"def handler(event, context):\n    return {}\n"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
INDEX = "application/vnd.oci.image.index.v1+json"


# -- builders --------------------------------------------------------------------------------------

def layer(files: dict[str, bytes]) -> bytes:
    """A layer: a real tar of ``files`` (path -> content)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o755
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def base_layer() -> bytes:
    """What an AWS base image holds: the entrypoint, the runtime, the function."""
    return layer({"lambda-entrypoint.sh": ENTRYPOINT, "var/runtime/bootstrap.py": b"# runtime\n",
                  "var/task/app.py": APP})


def config(arch: str = "amd64", *, os: str = "linux", entrypoint: list[str] | None = None,
           cmd: list[str] | None = None) -> dict[str, Any]:
    run: dict[str, Any] = {"Env": ["LAMBDA_TASK_ROOT=/var/task"], "WorkingDir": "/var/task"}
    run["Entrypoint"] = ["/lambda-entrypoint.sh"] if entrypoint is None else entrypoint
    run["Cmd"] = ["app.handler"] if cmd is None else cmd
    return {"architecture": arch, "os": os, "config": run, "rootfs": {"type": "layers", "diff_ids": []}}


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Sparse:
    """A blob of ``size`` bytes: ``head``, then a hole (zeros that take no disk)."""

    def __init__(self, head: bytes, size: int) -> None:
        self.head, self.size = head, size


def big_layer(size: int) -> Sparse:
    """A layer whose one file, /var/task/model.bin, is ``size`` bytes of zeros."""
    info = tarfile.TarInfo("var/task/model.bin")
    info.size = size
    head = info.tobuf(format=tarfile.GNU_FORMAT)
    return Sparse(head, len(head) + -(-size // 512) * 512 + 1024)


def write_blob(path: Path, blob: bytes | Sparse) -> None:
    with open(path, "wb") as out:
        if isinstance(blob, Sparse):
            out.write(blob.head)
            out.truncate(blob.size)
        else:
            out.write(blob)


def write_tar(path: Path, members: dict[str, bytes | Sparse]) -> Path:
    """A tar of ``members``, written header by header so a sparse member stays sparse."""
    with open(path, "wb") as out:
        for name, blob in members.items():
            info = tarfile.TarInfo(name)
            info.size = blob.size if isinstance(blob, Sparse) else len(blob)
            out.write(info.tobuf(format=tarfile.GNU_FORMAT))
            start = out.tell()
            out.write(blob.head if isinstance(blob, Sparse) else blob)
            out.seek(start + -(-info.size // 512) * 512)
        out.write(bytes(1024))
    return path


def oci_members(layers: list[bytes | Sparse], cfg: dict[str, Any], *, gz: bool = False,
                platforms: list[tuple[str, dict[str, Any]]] | None = None,
                attestation: bool = False) -> dict[str, bytes | Sparse]:
    """The files of an OCI layout (name -> content); ``platforms``: an index of several images."""
    members: dict[str, bytes | Sparse] = {"oci-layout": b'{"imageLayoutVersion": "1.0.0"}'}

    def add(data: bytes | Sparse) -> str:
        if isinstance(data, Sparse):  # a sparse blob's digest is not checked; name it by its head
            name = digest(data.head + str(data.size).encode())
        else:
            name = digest(data)
        members[f"blobs/sha256/{name.removeprefix('sha256:')}"] = data
        return name

    def image(cfg: dict[str, Any]) -> dict[str, Any]:
        descs = []
        for blob in layers:
            data = gzip.compress(blob, mtime=0) if gz and isinstance(blob, bytes) else blob
            media = "application/vnd.oci.image.layer.v1.tar" + ("+gzip" if gz else "")
            descs.append({"mediaType": media, "digest": add(data),
                          "size": data.size if isinstance(data, Sparse) else len(data)})
        cfg_bytes = json.dumps(cfg).encode()
        manifest = json.dumps({"schemaVersion": 2, "mediaType": MANIFEST, "layers": descs,
                               "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                          "digest": add(cfg_bytes), "size": len(cfg_bytes)}}).encode()
        return {"mediaType": MANIFEST, "digest": add(manifest), "size": len(manifest)}

    entries = []
    for arch, each in platforms or [("", cfg)]:
        desc = image(each)
        if arch:
            desc["platform"] = {"os": "linux", "architecture": arch}
        entries.append(desc)
    if attestation:
        statement = b'{"_type": "https://in-toto.io/Statement/v0.1"}'
        entries.append({"mediaType": MANIFEST, "digest": add(statement), "size": len(statement),
                        "platform": {"os": "unknown", "architecture": "unknown"},
                        "annotations": {"vnd.docker.reference.type": "attestation-manifest"}})
    members["index.json"] = json.dumps({"schemaVersion": 2, "mediaType": INDEX, "manifests": entries}).encode()
    return members


def write_oci(folder: Path, members: dict[str, bytes | Sparse]) -> Path:
    for name, data in members.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        write_blob(folder / name, data)
    return folder


def docker_save(path: Path, layers: list[bytes | Sparse], cfg: dict[str, Any]) -> Path:
    """A legacy `docker save` tar: manifest.json, <id>/layer.tar, <id>.json."""
    cfg_bytes = json.dumps(cfg).encode()
    cfg_name = digest(cfg_bytes).removeprefix("sha256:") + ".json"
    members: dict[str, bytes | Sparse] = {cfg_name: cfg_bytes}
    names = []
    for number, blob in enumerate(layers):
        names.append(f"{number:064x}/layer.tar")
        members[names[-1]] = blob
    members["manifest.json"] = json.dumps([{"Config": cfg_name, "RepoTags": ["fn:latest"], "Layers": names}]).encode()
    return write_tar(path, members)


# -- the three layouts -------------------------------------------------------------------------------

def test_legacy_docker_save(tmp_path: Path) -> None:
    image = read_image(docker_save(tmp_path / "image.tar", [base_layer(), layer({"var/task/x.py": b"x"})], config()))
    assert (image.layout, image.platform) == ("docker save tar", "linux/amd64")
    assert image.entrypoint == ("/lambda-entrypoint.sh",) and image.cmd == ("app.handler",)
    assert image.workdir == "/var/task" and image.env == ("LAMBDA_TASK_ROOT=/var/task",)
    assert image.size_bytes == len(base_layer()) + len(layer({"var/task/x.py": b"x"}))
    assert image.markers == {"entrypoint", "runtime"} and image.fully_read


def test_oci_folder_with_gzip_layers_counts_them_uncompressed(tmp_path: Path) -> None:
    blob = base_layer()
    image = read_image(write_oci(tmp_path, oci_members([blob], config("arm64"), gz=True)), "arm64")
    assert image.layout == "OCI layout" and image.architecture == "arm64"
    assert image.layers[0].compression == "gzip" and image.size_bytes == len(blob)
    assert image.layers[0].stored_bytes < len(blob) and image.markers == {"entrypoint", "runtime"}


def test_oci_layout_tar_and_docker25_save(tmp_path: Path) -> None:
    members = oci_members([base_layer()], config())
    image = read_image(write_tar(tmp_path / "oci.tar", members))
    assert image.layout == "OCI layout tar" and image.size_bytes == len(base_layer())
    # Docker 25+: an OCI layout with a manifest.json beside it
    members["manifest.json"] = b"[]"
    assert read_image(write_tar(tmp_path / "d25.tar", members)).layout == "docker save tar"


def test_multi_platform_index_picks_the_target(tmp_path: Path) -> None:
    members = oci_members([base_layer()], config(), platforms=[("amd64", config("amd64")), ("arm64", config("arm64"))])
    folder = write_oci(tmp_path, members)
    assert read_image(folder, "arm64").architecture == "arm64"
    image = read_image(folder, "x86_64")
    assert image.architecture == "amd64" and image.platforms == ("linux/amd64", "linux/arm64")


def test_nested_index_as_docker_25_saves_it(tmp_path: Path) -> None:
    """index.json -> an image index (no media type on the outer descriptor) -> the manifest."""
    members = oci_members([base_layer()], config(), platforms=[("arm64", config("arm64"))], attestation=True)
    inner = members["index.json"]
    assert isinstance(inner, bytes)
    members[f"blobs/sha256/{digest(inner).removeprefix('sha256:')}"] = inner
    members["index.json"] = json.dumps({"schemaVersion": 2, "manifests": [
        {"digest": digest(inner), "size": len(inner)}]}).encode()
    image = read_image(write_oci(tmp_path, members), "arm64")
    assert image.architecture == "arm64" and image.attestations == 1 and image.platforms == ()


def test_awslambdaric_in_site_packages_is_a_runtime_interface(tmp_path: Path) -> None:
    ric = layer({"usr/local/lib/python3.12/site-packages/awslambdaric/__main__.py": b"", "app/app.py": APP})
    image = read_image(docker_save(tmp_path / "i.tar", [ric], config(entrypoint=["python", "-m", "awslambdaric"])))
    assert image.markers == {"awslambdaric"}


def test_whiteout_in_a_later_layer_hides_the_entrypoint(tmp_path: Path) -> None:
    gone = layer({".wh.lambda-entrypoint.sh": b"", "var/.wh..wh..opq": b"", "var/task/app.py": APP})
    image = read_image(docker_save(tmp_path / "i.tar", [base_layer(), gone], config()))
    assert image.markers == frozenset()
    kept = layer({"var/task/.wh.old.py": b""})
    assert read_image(docker_save(tmp_path / "k.tar", [base_layer(), kept], config())).markers == {"entrypoint", "runtime"}


def test_sparse_layer_sizes_come_from_headers(tmp_path: Path) -> None:
    """10.1 GB in a docker-save tar and in an OCI folder: read in well under a second."""
    size = int(10.1 * GB)
    legacy = read_image(docker_save(tmp_path / "big.tar", [base_layer(), big_layer(size)], config()))
    assert legacy.size_bytes > size and legacy.markers == {"entrypoint", "runtime"}
    oci = read_image(write_oci(tmp_path / "oci", oci_members([big_layer(size)], config())))
    assert oci.size_bytes > size
    assert (tmp_path / "big.tar").stat().st_blocks * 512 < 10 << 20  # the test costs no disk


def _has_zstd() -> bool:
    import importlib

    for module in ("compression.zstd", "zstandard"):
        try:
            importlib.import_module(module)
        except ImportError:
            continue
        return True
    return False


@pytest.mark.skipif(_has_zstd(), reason="this Python can read zstd layers")
def test_zstd_layer_without_a_decompressor_is_unreadable_not_guessed(tmp_path: Path) -> None:
    zstd_frame = b"\x28\xb5\x2f\xfd" + bytes(60)
    image = read_image(write_oci(tmp_path, oci_members([zstd_frame], config())))
    assert image.layers[0].size_bytes is None and "zstd" in image.layers[0].unreadable
    assert not image.fully_read


# -- hostile input: one clear error naming the file ------------------------------------------------

def _fails(path: Path, *words: str) -> None:
    with pytest.raises(LpackError) as caught:
        read_image(path)
    message = str(caught.value)
    assert str(path) in message and "\n" not in message
    for word in words:
        assert word in message


def test_bad_json(tmp_path: Path) -> None:
    members = oci_members([base_layer()], config())
    members["index.json"] = b"{not json"
    _fails(write_oci(tmp_path, members), "index.json", "not valid JSON")


def test_deeply_nested_json(tmp_path: Path) -> None:
    members = oci_members([base_layer()], config())
    members["index.json"] = b"[" * 200_000 + b"]" * 200_000
    _fails(write_oci(tmp_path, members), "index.json", "nests too deep")


def test_missing_blob(tmp_path: Path) -> None:
    folder = write_oci(tmp_path, oci_members([base_layer()], config()))
    blobs = sorted((folder / "blobs" / "sha256").iterdir(), key=lambda p: p.stat().st_size)
    blobs[-1].unlink()  # the layer
    _fails(folder, "missing")


def test_path_traversal_in_manifest(tmp_path: Path) -> None:
    path = write_tar(tmp_path / "evil.tar", {"manifest.json": json.dumps(
        [{"Config": "../../etc/passwd", "Layers": []}]).encode()})
    _fails(path, "outside the archive")


def test_digest_that_is_a_path(tmp_path: Path) -> None:
    members = oci_members([base_layer()], config())
    members["index.json"] = json.dumps({"manifests": [{"mediaType": MANIFEST, "digest": "sha256:../../x"}]}).encode()
    _fails(write_oci(tmp_path, members), "not a sha256 digest")


def test_symlinked_blob_is_not_followed(tmp_path: Path) -> None:
    folder = write_oci(tmp_path / "oci", oci_members([base_layer()], config()))
    (tmp_path / "secret").write_text("{}")
    blob = max((folder / "blobs" / "sha256").iterdir(), key=lambda p: p.stat().st_size)
    blob.unlink()
    blob.symlink_to(tmp_path / "secret")
    _fails(folder, "not a regular file")


def test_symlink_member_in_a_docker_save_tar_is_not_followed(tmp_path: Path) -> None:
    path = tmp_path / "link.tar"
    with tarfile.open(path, "w") as tar:
        data = json.dumps([{"Config": "c.json", "Layers": ["l/layer.tar"]}]).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("c.json")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(link)
    _fails(path, "c.json", "not a regular file")


def test_truncated_gzip_layer(tmp_path: Path) -> None:
    folder = write_oci(tmp_path, oci_members([base_layer() * 4], config(), gz=True))
    blob = max((folder / "blobs" / "sha256").iterdir(), key=lambda p: p.stat().st_size)
    blob.write_bytes(blob.read_bytes()[:-40])
    _fails(folder, "gzip")


def test_huge_declared_header_size(tmp_path: Path) -> None:
    info = tarfile.TarInfo("././@PaxHeader")
    info.type, info.size = tarfile.XHDTYPE, 1 << 40
    path = tmp_path / "huge.tar"
    path.write_bytes(info.tobuf(format=tarfile.GNU_FORMAT) + bytes(1024))
    _fails(path, "declares")


def test_not_a_tar_and_not_an_image(tmp_path: Path) -> None:
    (tmp_path / "junk.tar").write_bytes(b"hello" * 300)
    _fails(tmp_path / "junk.tar", "not a readable tar")
    _fails(write_tar(tmp_path / "files.tar", {"a.txt": b"a"}), "not a container image")
