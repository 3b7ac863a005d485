"""Zips that lie or that lpack cannot unzip: exit 2 naming the zip and the entry, and bounded reads."""

from __future__ import annotations

import struct
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from lpack.analysis.package import PackageReader, index_directory, read_package
from lpack.cli import main
from lpack.core.errors import LpackError

HANDLER = b"def lambda_handler(event, context):\n    return event\n"


def make_zip(path: Path, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data)
    return path


def patch_central(path: Path, name: str, offset: int, fmt: str, value: int) -> None:
    """Rewrite a field of ``name``'s central directory header (and its local header's, where it has one)."""
    data = bytearray(path.read_bytes())
    at = data.index(b"PK\x01\x02")
    while True:
        length = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46 : at + 46 + length] == name.encode():
            break
        at = data.index(b"PK\x01\x02", at + 4)
    struct.pack_into(fmt, data, at + offset, value)
    local = struct.unpack_from("<I", data, at + 42)[0]
    local_offset = {8: 6, 10: 8, 24: 22}.get(offset)  # flags, method, uncompressed size
    if local_offset is not None:
        struct.pack_into(fmt, data, local + local_offset, value)
    path.write_bytes(bytes(data))


def check_zip(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["check", str(path), "--handler", "app.lambda_handler", "--runtime", "python3.12"])
    return code, capsys.readouterr().err


@pytest.mark.parametrize(("offset", "fmt", "value", "says"), [
    pytest.param(8, "<H", 1, "is encrypted", id="encrypted-flag"),
    pytest.param(10, "<H", 99, "uses compression method 99", id="aes-method-99"),
    pytest.param(10, "<H", 1, "uses compression method 1,", id="shrink"),
    pytest.param(10, "<H", 6, "uses compression method 6,", id="implode"),
])
def test_entries_lambda_cannot_unzip_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], offset: int,
                                            fmt: str, value: int, says: str) -> None:
    path = make_zip(tmp_path / "fn.zip", {"app.py": HANDLER, "pkg/data.py": b"X = 1\n"})
    patch_central(path, "pkg/data.py", offset, fmt, value)
    code, err = check_zip(path, capsys)
    assert code == 2
    assert f"{path}: entry pkg/data.py {says}" in err


def test_bad_lzma_data_is_corrupt_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "fn.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_LZMA) as zf:
        zf.writestr("app.py", HANDLER * 50)
    data = bytearray(path.read_bytes())
    data[60:80] = b"\xff" * 20  # inside the LZMA stream
    path.write_bytes(bytes(data))
    reader = PackageReader(read_package(path))
    with pytest.raises(LpackError, match=r"entry app\.py cannot be read .*the zip is corrupt"):
        reader.read("app.py")


def test_an_entry_larger_than_it_declares_is_corrupt(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = make_zip(tmp_path / "fn.zip", {"app.py": HANDLER, "secrets.env": b"A=1\n" * 5000})
    patch_central(path, "secrets.env", 24, "<I", 10)
    with pytest.raises(LpackError, match=r"entry secrets\.env inflates past its declared size of 10 bytes"):
        PackageReader(read_package(path)).read("secrets.env")
    code, err = check_zip(path, capsys)
    assert code == 2
    assert "entry secrets.env inflates past its declared size" in err


def test_a_limited_read_inflates_only_what_it_asks_for(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "fn.zip", {"x.pyc": b"\xcb\x0d\r\n" + bytes(10_000), "s.txt": b"ab" * 10})
    reader = PackageReader(read_package(path))
    assert reader.read("x.pyc", 4) == b"\xcb\x0d\r\n"
    assert reader.read("s.txt", 3) == b"aba"
    assert reader.text("s.txt", limit=5) == "ababa"
    assert reader.read("s.txt") == b"ab" * 10


def test_an_opened_entry_seeks_and_reads_ranges(tmp_path: Path) -> None:
    content = bytes(range(256)) * 4096
    (tmp_path / "lib.so").write_bytes(content)
    for reader in (PackageReader(read_package(make_zip(tmp_path / "fn.zip", {"lib.so": content}))),
                   PackageReader(index_directory(tmp_path, [("lib.so", tmp_path / "lib.so")]))):
        with reader.open("lib.so") as stream:
            stream.seek(900_000)
            assert stream.read(4) == content[900_000:900_004]
            stream.seek(10)  # back: the zip entry is inflated again from its start
            assert stream.read(3) == content[10:13]
            stream.seek(2_000_000)
            assert stream.read(4) == b""  # past its end
        reader.close()


def test_a_corrupt_opened_entry_is_corrupt_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "fn.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("lib.so", bytes(range(256)) * 400)
    data = bytearray(path.read_bytes())
    data[60:80] = b"\xff" * 20  # inside the deflate stream
    path.write_bytes(bytes(data))
    reader = PackageReader(read_package(path))
    with pytest.raises(LpackError, match=r"entry lib\.so cannot be read .*the zip is corrupt"), reader.open("lib.so") as stream:
        stream.read()
    reader.close()


def test_an_entry_declaring_more_than_lambda_unpacks_is_not_read(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "fn.zip", {"big.so": b"\x7fELF" + bytes(100)})
    patch_central(path, "big.so", 24, "<I", 300_000_000)
    reader = PackageReader(read_package(path))
    assert reader.read("big.so", 4) == b"\x7fELF"
    with pytest.raises(LpackError, match=r"entry big\.so declares 300,000,000 bytes, more than Lambda unpacks"):
        reader.read("big.so")


def test_a_source_file_larger_than_lambda_unpacks_is_not_read_whole(tmp_path: Path) -> None:
    (tmp_path / "big.bin").write_bytes(b"\x7fELF")
    with open(tmp_path / "big.bin", "r+b") as handle:
        handle.truncate(300_000_000)  # sparse: no disk used
    reader = PackageReader(index_directory(tmp_path, [("big.bin", tmp_path / "big.bin")]))
    assert reader.read("big.bin", 4) == b"\x7fELF"
    with pytest.raises(LpackError, match=r"big\.bin declares 300,000,000 bytes"):
        reader.read("big.bin")


BOMB = textwrap.dedent("""
    import resource, sys, zipfile
    from lpack.cli import main
    path = sys.argv[1]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("app.py", "def lambda_handler(event, context):\\n    return event\\n")
        for name, size_mb in (("lib/_native.cpython-312-x86_64-linux-gnu.so", 1024), ("lib/big.py", 200),
                              ("lib-1.0.dist-info/RECORD", 1024), ("lib-1.0.dist-info/METADATA", 200)):
            info = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            with zf.open(info, "w", force_zip64=True) as out:
                block = bytes(1 << 20)
                for _ in range(size_mb):
                    out.write(block)
    limit = 600 << 20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    sys.exit(main(["check", path, "--handler", "app.lambda_handler", "--runtime", "python3.12"]))
""")


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS bounds memory on Linux")
def test_a_deflate_bomb_is_checked_in_bounded_memory(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", BOMB, str(tmp_path / "bomb.zip")], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode in (0, 1, 2), done.stderr
    assert "internal error" not in done.stderr, done.stderr
    assert "MemoryError" not in done.stdout + done.stderr
    assert "crashed" not in done.stdout
    assert (tmp_path / "bomb.zip").stat().st_size < 4_000_000  # 2.4 GB inflated
