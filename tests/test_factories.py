"""The fixture factories build real artefacts: binutils reads the ELF objects, and the
real installers (uv and pip) install the wheels for a foreign target from a local
find-links folder, with no index and no network."""

from __future__ import annotations

import base64
import csv
import gzip
import hashlib
import importlib.util
import io
import os
import re
import shutil
import struct
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from tests.factories import (
    elf_hash,
    expand_tags,
    make_elf,
    make_native_wheel,
    make_sdist,
    make_wheel,
    normalize,
)

READELF = shutil.which("readelf")
OBJDUMP = shutil.which("objdump")
needs_readelf = pytest.mark.skipif(READELF is None, reason="readelf (binutils) not installed")
needs_objdump = pytest.mark.skipif(OBJDUMP is None, reason="objdump (binutils) not installed")

READELF_MACHINE = {"x86_64": "Advanced Micro Devices X86-64", "aarch64": "AArch64"}
NATIVE_SO = "fastlib/_native.cpython-312-aarch64-linux-gnu.so"


def _uv_bin() -> str | None:
    try:
        from uv import find_uv_bin
    except ImportError:
        return shutil.which("uv")
    try:
        return find_uv_bin()
    except FileNotFoundError:
        return shutil.which("uv")


UV = _uv_bin()


def _run(cmd: Sequence[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, check=False)


# --------------------------------------------------------------------------- ELF


def test_elf_hash_matches_values_in_real_glibc_binaries() -> None:
    # vna_hash values as printed by `objdump -p /bin/ls` on a glibc system.
    assert elf_hash("GLIBC_2.2.5") == 0x09691A75
    assert elf_hash("GLIBC_2.17") == 0x06969197
    assert elf_hash("GLIBC_2.34") == 0x069691B4
    assert elf_hash("GLIBC_2.3.4") == 0x09691974
    assert elf_hash(b"GLIBC_2.4") == 0x0D696914


@pytest.mark.parametrize("machine,e_machine", [("x86_64", 62), ("aarch64", 183)])
def test_elf_header_fields(machine: str, e_machine: int) -> None:
    data = make_elf(machine)
    assert data[:4] == b"\x7fELF" and data[4] == 2 and data[5] == 1  # ELF64, LE
    e_type, got_machine = struct.unpack_from("<HH", data, 16)
    assert (e_type, got_machine) == (3, e_machine)  # ET_DYN
    assert make_elf(machine) == data  # deterministic


def test_make_elf_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        make_elf("riscv64")
    with pytest.raises(ValueError):
        make_elf("x86_64", ["GLIBCXX_3.4.29"])


@needs_readelf
@pytest.mark.parametrize("machine", ["x86_64", "aarch64"])
def test_readelf_reads_machine_dynamic_and_version_needs(tmp_path: Path, machine: str) -> None:
    so = tmp_path / "_native.so"
    so.write_bytes(make_elf(machine, ["GLIBC_2.17", "GLIBC_2.34"], soname="_native.so"))
    res = _run([str(READELF), "-h", "-d", "-V", "-W", str(so)])
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""  # readelf warns on stderr about any malformed structure
    out = res.stdout
    assert re.search(r"Class:\s+ELF64", out)
    assert re.search(r"Data:\s+2's complement, little endian", out)
    assert re.search(r"Type:\s+DYN \(Shared object file\)", out)
    assert re.search(rf"Machine:\s+{re.escape(READELF_MACHINE[machine])}\n", out)
    assert "Shared library: [libc.so.6]" in out
    assert "Library soname: [_native.so]" in out
    assert re.search(r"\(VERNEEDNUM\)\s+1\n", out)
    assert "Version needs section '.gnu.version_r' contains 1 entry" in out
    assert re.search(r"File: libc\.so\.6\s+Cnt: 2", out)
    assert re.search(r"Name: GLIBC_2\.17\s+Flags: none\s+Version: 2", out)
    assert re.search(r"Name: GLIBC_2\.34\s+Flags: none\s+Version: 3", out)


@needs_readelf
def test_readelf_without_version_needs(tmp_path: Path) -> None:
    so = tmp_path / "plain.so"
    so.write_bytes(make_elf("x86_64"))
    res = _run([str(READELF), "-a", "-W", str(so)])
    assert res.returncode == 0 and res.stderr == ""
    assert "Shared library: [libc.so.6]" in res.stdout
    assert "VERNEED" not in res.stdout
    assert "No version information found in this file." in res.stdout


@needs_objdump
def test_objdump_reports_vernaux_hashes(tmp_path: Path) -> None:
    so = tmp_path / "_native.so"
    so.write_bytes(make_elf("aarch64", ["GLIBC_2.17", "GLIBC_2.28"]))
    res = _run([str(OBJDUMP), "-p", str(so)])
    assert res.returncode == 0, res.stderr
    assert "required from libc.so.6:" in res.stdout
    assert re.search(r"0x06969197 0x00 02 GLIBC_2\.17\n", res.stdout)
    assert re.search(r"0x06969188 0x00 03 GLIBC_2\.28\n", res.stdout)


# ------------------------------------------------------------------ wheel layout


def _read_zip(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


def _check_record(entries: dict[str, bytes], dist_info: str) -> None:
    rows = list(csv.reader(io.StringIO(entries[f"{dist_info}/RECORD"].decode())))
    assert [r[0] for r in rows] == list(entries)  # every entry, in archive order
    assert rows[-1] == [f"{dist_info}/RECORD", "", ""]
    for path, digest, size in rows[:-1]:
        data = entries[path]
        b64 = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        assert (digest, int(size)) == (f"sha256={b64}", len(data))


def test_expand_tags_and_normalize() -> None:
    assert expand_tags("py2.py3-none-any") == ["py2-none-any", "py3-none-any"]
    assert expand_tags("cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64") == [
        "cp312-cp312-manylinux_2_17_x86_64",
        "cp312-cp312-manylinux2014_x86_64",
    ]
    assert normalize("Foo.Bar-baz__Q") == "foo_bar_baz_q"


def test_pure_wheel_is_spec_compliant_and_deterministic(tmp_path: Path) -> None:
    whl = make_wheel(
        tmp_path / "a",
        "Demo.Pure",
        "1.0",
        requires=["dep>=1", 'extra; python_version < "3.11"'],
        console_scripts={"demo": "demo_pure:main"},
    )
    assert whl.name == "demo_pure-1.0-py3-none-any.whl"
    again = make_wheel(
        tmp_path / "b",
        "Demo.Pure",
        "1.0",
        requires=["dep>=1", 'extra; python_version < "3.11"'],
        console_scripts={"demo": "demo_pure:main"},
    )
    assert whl.read_bytes() == again.read_bytes()

    entries = _read_zip(whl)
    di = "demo_pure-1.0.dist-info"
    assert list(entries) == [
        "demo_pure/__init__.py",
        f"{di}/METADATA",
        f"{di}/WHEEL",
        f"{di}/entry_points.txt",
        f"{di}/RECORD",
    ]
    assert entries["demo_pure/__init__.py"] == b'__version__ = "1.0"\n'
    meta = entries[f"{di}/METADATA"].decode()
    assert meta.startswith("Metadata-Version: 2.1\nName: Demo.Pure\nVersion: 1.0\n")
    assert "Requires-Dist: dep>=1\n" in meta
    assert 'Requires-Dist: extra; python_version < "3.11"\n' in meta
    wheel = entries[f"{di}/WHEEL"].decode()
    assert "Wheel-Version: 1.0\n" in wheel and "Root-Is-Purelib: true\n" in wheel
    assert re.findall(r"^Tag: (.*)$", wheel, re.MULTILINE) == ["py3-none-any"]
    assert entries[f"{di}/entry_points.txt"] == b"[console_scripts]\ndemo = demo_pure:main\n"
    _check_record(entries, di)
    with zipfile.ZipFile(whl) as zf:
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_custom_files_and_multi_tag(tmp_path: Path) -> None:
    whl = make_wheel(
        tmp_path,
        "x",
        "2.0",
        tag="py2.py3-none-any",
        files={"b.py": "B = 1\n", "a/data.bin": b"\x00\x01"},
    )
    entries = _read_zip(whl)
    assert list(entries)[:2] == ["a/data.bin", "b.py"]
    wheel = entries["x-2.0.dist-info/WHEEL"].decode()
    assert re.findall(r"^Tag: (.*)$", wheel, re.MULTILINE) == ["py2-none-any", "py3-none-any"]
    _check_record(entries, "x-2.0.dist-info")
    with pytest.raises(ValueError):
        make_wheel(tmp_path, "x", "2.0", files={"../evil.py": ""})


@pytest.mark.parametrize("machine", ["x86_64", "aarch64"])
def test_native_wheel_tags_and_extension(tmp_path: Path, machine: str) -> None:
    whl = make_native_wheel(
        tmp_path, "Fast-Lib", "1.0", machine=machine, glibc_versions=("GLIBC_2.17", "GLIBC_2.28")
    )
    plat = f"manylinux_2_17_{machine}.manylinux2014_{machine}"
    assert whl.name == f"fast_lib-1.0-cp312-cp312-{plat}.whl"
    entries = _read_zip(whl)
    so = f"fast_lib/_native.cpython-312-{machine}-linux-gnu.so"
    assert entries[so] == make_elf(
        machine, ("GLIBC_2.17", "GLIBC_2.28"), soname=so.rsplit("/", 1)[1]
    )
    wheel = entries["fast_lib-1.0.dist-info/WHEEL"].decode()
    assert "Root-Is-Purelib: false\n" in wheel
    assert re.findall(r"^Tag: (.*)$", wheel, re.MULTILINE) == [
        f"cp312-cp312-manylinux_2_17_{machine}",
        f"cp312-cp312-manylinux2014_{machine}",
    ]
    _check_record(entries, "fast_lib-1.0.dist-info")


def test_native_wheel_abi3_and_newer_manylinux(tmp_path: Path) -> None:
    whl = make_native_wheel(
        tmp_path,
        "fl",
        "1.0",
        python="cp310",
        abi="abi3",
        machine="aarch64",
        manylinux="manylinux_2_28",
    )
    assert whl.name == "fl-1.0-cp310-abi3-manylinux_2_28_aarch64.whl"  # no legacy alias
    entries = _read_zip(whl)
    assert struct.unpack_from("<H", entries["fl/_native.abi3.so"], 18) == (183,)
    with pytest.raises(ValueError):
        make_native_wheel(tmp_path, "fl", "1.0", machine="armv7l")


def test_sdist_layout_and_determinism(tmp_path: Path) -> None:
    sdist = make_sdist(tmp_path / "a", "Only.Sdist", "1.0")
    assert sdist.name == "only_sdist-1.0.tar.gz"
    assert sdist.read_bytes() == make_sdist(tmp_path / "b", "Only.Sdist", "1.0").read_bytes()
    with gzip.open(sdist) as gz, tarfile.open(fileobj=gz) as tar:
        members = {m.name: m for m in tar.getmembers()}
        assert sorted(members) == [
            "only_sdist-1.0/PKG-INFO",
            "only_sdist-1.0/only_sdist/__init__.py",
            "only_sdist-1.0/pyproject.toml",
        ]
        assert all(m.mtime == 0 and m.isfile() for m in members.values())
        pkg_info = tar.extractfile(members["only_sdist-1.0/PKG-INFO"])
        assert pkg_info is not None and b"Name: Only.Sdist\nVersion: 1.0\n" in pkg_info.read()
        pyproject = tar.extractfile(members["only_sdist-1.0/pyproject.toml"])
        assert pyproject is not None and b"setuptools.build_meta" in pyproject.read()


@pytest.mark.skipif(
    importlib.util.find_spec("setuptools") is None,
    reason="setuptools not installed (needed to build the sdist offline)",
)
def test_sdist_builds_into_a_wheel_offline(tmp_path: Path) -> None:
    sdist = make_sdist(tmp_path / "src", "only-sdist", "1.0")
    res = _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--no-cache-dir",
            "-w",
            str(tmp_path / "out"),
            str(sdist),
        ],
        env=_hermetic_env(),
    )
    assert res.returncode == 0, res.stdout + res.stderr
    built = _read_zip(tmp_path / "out" / "only_sdist-1.0-py3-none-any.whl")
    assert built["only_sdist/__init__.py"] == b'__version__ = "1.0"\n'


# ------------------------------------------------------------ real installers

Installer = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def find_links(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("find-links")
    make_wheel(d, "demo-pure", "1.0", console_scripts={"demo": "demo_pure:main"})
    make_wheel(d, "app-with-dep", "1.0", requires=["demo-pure>=1.0"])
    make_native_wheel(d, "fastlib", "1.0", machine="aarch64", glibc_versions=("GLIBC_2.17",))
    make_sdist(d, "only-sdist", "1.0")
    return d


def _hermetic_env() -> dict[str, str]:
    # Drop PIP_*/UV_* settings from the host (e.g. PIP_FIND_LINKS) and ignore config files.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_"))}
    env.update(
        PIP_CONFIG_FILE=os.devnull,
        PIP_NO_INPUT="1",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        UV_PYTHON_DOWNLOADS="never",
        UV_NO_PROGRESS="1",
    )
    return env


def _uv_install(
    find_links: Path, target: Path, *names: str, machine: str = "aarch64"
) -> subprocess.CompletedProcess[str]:
    assert UV is not None
    return _run(
        [
            UV,
            "pip",
            "install",
            "--no-config",
            "--no-cache",
            "--python",
            sys.executable,
            "--target",
            str(target),
            "--no-index",
            "--find-links",
            str(find_links),
            "--only-binary",
            ":all:",
            "--python-version",
            "3.12",
            "--python-platform",
            f"{machine}-manylinux_2_34",
            *names,
        ],
        env=_hermetic_env(),
    )


def _pip_install(
    find_links: Path, target: Path, *names: str, machine: str = "aarch64"
) -> subprocess.CompletedProcess[str]:
    return _run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-cache-dir",
            "--no-compile",
            "--target",
            str(target),
            "--no-index",
            "--find-links",
            str(find_links),
            "--only-binary=:all:",
            "--platform",
            f"manylinux_2_17_{machine}",
            "--platform",
            f"manylinux2014_{machine}",
            "--implementation",
            "cp",
            "--python-version",
            "3.12",
            "--abi",
            "cp312",
            "--abi",
            "abi3",
            "--abi",
            "none",
            *names,
        ],
        env=_hermetic_env(),
    )


@pytest.fixture(params=["uv", "pip"])
def install(request: pytest.FixtureRequest) -> Installer:
    if request.param == "uv":
        if UV is None:
            pytest.skip("uv not found (neither on PATH nor the `uv` Python package)")
        return _uv_install
    return _pip_install


def test_installs_pure_and_native_aarch64_wheels(
    install: Installer, find_links: Path, tmp_path: Path
) -> None:
    target = tmp_path / "t"
    res = install(find_links, target, "fastlib", "demo-pure")
    assert res.returncode == 0, res.stdout + res.stderr
    so = target / NATIVE_SO
    assert so.read_bytes() == make_elf("aarch64", ["GLIBC_2.17"], soname=so.name)
    assert (target / "fastlib" / "__init__.py").is_file()
    assert (target / "demo_pure" / "__init__.py").is_file()
    for di in ("fastlib-1.0.dist-info", "demo_pure-1.0.dist-info"):
        assert (target / di / "METADATA").is_file() and (target / di / "RECORD").is_file()
    assert (target / "bin" / "demo").is_file()  # console_scripts entry point honoured


def test_x86_64_target_does_not_take_aarch64_wheel(
    install: Installer, find_links: Path, tmp_path: Path
) -> None:
    ok = install(find_links, tmp_path / "pure", "demo-pure", machine="x86_64")
    assert ok.returncode == 0, ok.stdout + ok.stderr  # control: x86_64 target itself works
    res = install(find_links, tmp_path / "t", "fastlib", machine="x86_64")
    assert res.returncode != 0
    # uv: "fastlib==1.0 has no wheels with a matching platform tag"; pip: "No matching ..."
    assert re.search(
        r"fastlib.*no wheels with a matching platform tag|"
        r"No matching distribution found for fastlib",
        res.stderr,
    ), res.stderr
    assert not (tmp_path / "t" / "fastlib").exists()


def test_sdist_only_package_is_refused_with_only_binary(
    install: Installer, find_links: Path, tmp_path: Path
) -> None:
    res = install(find_links, tmp_path / "t", "only-sdist")
    assert res.returncode != 0
    assert re.search(
        r"only-sdist.*has no usable wheels|"
        r"No matching distribution found for only-sdist",
        res.stderr,
    ), res.stderr
    assert not (tmp_path / "t" / "only_sdist").exists()


def test_dependency_comes_from_the_same_find_links(
    install: Installer, find_links: Path, tmp_path: Path
) -> None:
    target = tmp_path / "t"
    res = install(find_links, target, "app-with-dep")
    assert res.returncode == 0, res.stdout + res.stderr
    assert (target / "app_with_dep" / "__init__.py").is_file()
    assert (target / "demo_pure" / "__init__.py").is_file()
    assert (target / "demo_pure-1.0.dist-info" / "METADATA").is_file()
