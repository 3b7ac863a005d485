"""Native code the target cannot load (LP110-LP115), and the binary reader behind it.

The binaries are real: compiled by gcc / aarch64-linux-gnu-gcc / GNU ld, or written to Apple's
and Microsoft's layouts, by tests/data/binaries/make_binaries.py. Each rule is tested for what
it must flag and for the near misses healthy packages are full of.
"""

from __future__ import annotations

import random
import struct
import subprocess
import sys
import zipfile
from collections.abc import Mapping
from pathlib import Path

import pytest

from lpack import rules
from lpack.analysis.binary import UNKNOWN, read_binary
from lpack.analysis.package import PackageReader, read_package
from lpack.analysis.subjects import PackageSubject
from lpack.core.findings import Finding, Severity
from lpack.core.targets import make_target
from tests.factories import make_elf
from tests.factories.readers import RecordingReader

BINARIES = Path(__file__).parent.parent / "data" / "binaries"
NATIVE_CODES = tuple(f"LP11{i}" for i in range(10))


def binary(name: str) -> bytes:
    return (BINARIES / name).read_bytes()


def wheel(*tags: str) -> str:
    return "Wheel-Version: 1.0\nGenerator: bdist_wheel (0.45.1)\nRoot-Is-Purelib: false\n" + "".join(
        f"Tag: {tag}\n" for tag in tags)




def make_zip(tmp_path: Path, files: Mapping[str, bytes | str]) -> Path:
    """A zip as installers and lpack write them: Unix modes, 0755 for native code, 0644 otherwise."""
    path = tmp_path / "package.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.create_system = 3
            executable = isinstance(data, bytes) and data[:4] == b"\x7fELF"
            info.external_attr = (0o100755 if executable else 0o100644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return path


def run_native(subject: PackageSubject) -> list[Finding]:
    """Only this family's rules, for tests that count what the rules read."""
    return [f for r in rules.rules_for(PackageSubject) if r.code in NATIVE_CODES for f in r.func(r, subject)]


def check(tmp_path: Path, files: Mapping[str, bytes | str], runtime: str = "python3.12",
          arch: str = "x86_64", kind: str = "function", read: bool = True) -> list[Finding]:
    index = read_package(make_zip(tmp_path, files))
    reader = RecordingReader(index) if read else None
    subject = PackageSubject(package=index, kind=kind, target=make_target(runtime, arch, where="test"), reader=reader,
                             function="fn")
    try:
        return [f for f in rules.run(subject) if f.code in NATIVE_CODES]
    finally:
        if reader is not None:
            reader.close()


def codes(findings: list[Finding]) -> list[str]:
    return [f.code for f in findings]


# -- the reader ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "fmt", "machine", "bits", "glibc"),
    [
        ("x86_64-glibc_2_14.so", "elf", "x86_64", 64, (2, 14)),
        ("x86_64-glibc_2_34.so", "elf", "x86_64", 64, (2, 34)),
        ("x86_64-glibc_2_36.so", "elf", "x86_64", 64, (2, 36)),
        ("x86_64-executable", "elf", "x86_64", 64, (2, 34)),
        ("x86_64-musl.so", "elf", "x86_64", 64, None),
        ("aarch64-glibc_2_17.so", "elf", "aarch64", 64, (2, 17)),
        ("i386.so", "elf", "i386", 32, None),
        ("macos-arm64.bundle", "mach-o", "arm64", 0, None),
        ("macos-universal.bundle", "mach-o", "x86_64, arm64", 0, None),
        ("win_amd64.dll", "pe", "x86_64", 0, None),
        ("win_amd64.exe", "pe", "x86_64", 0, None),
    ],
)
def test_reader_identifies_real_binaries(name: str, fmt: str, machine: str, bits: int,
                                         glibc: tuple[int, ...] | None) -> None:
    found = read_binary(binary(name))
    assert (found.format, found.machine, found.bits, found.glibc) == (fmt, machine, bits, glibc)


def test_reader_reads_versions_and_needed_libraries() -> None:
    found = read_binary(binary("x86_64-glibc_2_34.so"))
    assert found.versions == ("GLIBC_2.2.5", "GLIBC_2.34")
    assert found.needed == ("libc.so.6",)
    assert read_binary(binary("x86_64-musl.so")).needed == ("libc.musl-x86_64.so.1",)
    assert read_binary(binary("x86_64-glibc_2_34.so")).describe() == "x86_64 ELF"
    assert read_binary(binary("i386.so")).describe() == "32-bit i386 ELF"
    assert read_binary(binary("macos-arm64.bundle")).describe() == "Mach-O (macOS) arm64 bundle"
    assert read_binary(binary("win_amd64.dll")).describe() == "PE (Windows) x86_64 dll"


def test_reader_ignores_unnumbered_glibc_versions() -> None:
    found = read_binary(make_elf("x86_64", ["GLIBC_2.17", "GLIBC_PRIVATE"]))
    assert found.versions == ("GLIBC_2.17", "GLIBC_PRIVATE")
    assert found.glibc == (2, 17)


@pytest.mark.parametrize(
    "data",
    [b"", b"\x7fEL", b"\x7fELF", b"\x7fELF\x03\x01", b"MZ", b"MZ" + bytes(62) + b"\xff\xff\xff\x7f",
     b"MZ" + bytes(100), b"\xca\xfe\xba\xbe\x00\x00\x00\x41", b"\xca\xfe\xba\xbe", b"#!/bin/sh\n",
     b"\xcf\xfa\xed\xfe\x0c"],
    ids=["empty", "short-elf", "elf-magic-only", "bad-elf-class", "mz-only", "mz-far-pe",
         "dos-program", "java-class", "fat-magic-only", "script", "short-macho"],
)
def test_reader_calls_garbage_unknown(data: bytes) -> None:
    assert read_binary(data) == UNKNOWN


def test_reader_never_raises_on_truncated_or_corrupt_files() -> None:
    rng = random.Random(110)
    for name in ("x86_64-glibc_2_34.so", "i386.so", "macos-universal.bundle", "win_amd64.dll"):
        data = binary(name)
        for cut in range(0, len(data), 13):
            read_binary(data[:cut])
        for _ in range(300):
            corrupt = bytearray(data)
            for _ in range(rng.randint(1, 12)):
                corrupt[rng.randrange(len(corrupt))] = rng.randrange(256)
            assert read_binary(bytes(corrupt)).format in ("elf", "mach-o", "pe", "unknown")


def test_reader_keeps_the_header_when_sections_are_cut_off() -> None:
    data = binary("x86_64-glibc_2_34.so")
    found = read_binary(data[:2000])  # the section headers are at the end
    assert (found.format, found.machine, found.versions) == ("elf", "x86_64", ())


@pytest.mark.parametrize("name", sorted(p.name for p in BINARIES.iterdir() if p.suffix != ".py"))
def test_a_streamed_file_reads_as_its_bytes_do(tmp_path: Path, name: str) -> None:
    reader = PackageReader(read_package(make_zip(tmp_path, {f"lib/{name}": binary(name)})))
    with reader.open(f"lib/{name}") as stream:
        assert read_binary(stream) == read_binary(binary(name))
    reader.close()


@pytest.mark.parametrize(
    ("field", "at", "value"),
    [("e_shoff", 40, 1 << 62), ("e_shoff", 40, 10_000_000), ("e_shnum", 60, 0xFFFF), ("sh_size", 0, 1 << 62),
     ("sh_offset", 0, 1 << 40), ("sh_link", 0, 0xFFFF)],
)
def test_offsets_and_sizes_that_lie_keep_the_header_only(tmp_path: Path, field: str, at: int, value: int) -> None:
    data = bytearray(make_elf("x86_64", ["GLIBC_2.17"]))
    if field.startswith("sh_"):  # of .dynstr, section 1: Elf64_Shdr offset 24, size 32, link 40
        (shoff,) = struct.unpack_from("<Q", data, 40)
        at = shoff + 64 + {"sh_offset": 24, "sh_size": 32, "sh_link": 40}[field]
        if field == "sh_link":  # of .gnu.version_r, section 2
            at += 64
    struct.pack_into({"e_shnum": "<H", "sh_link": "<I"}.get(field, "<Q"), data, at, value)
    reader = PackageReader(read_package(make_zip(tmp_path, {"lib/x.so": bytes(data)})))
    with reader.open("lib/x.so") as stream:
        found = read_binary(stream)
    reader.close()
    assert (found.format, found.machine) == ("elf", "x86_64")
    assert found.versions in ((), ("GLIBC_2.17",))  # what the sections that do not lie give
    assert found == read_binary(bytes(data))


CHECK_UNDER_LIMIT = """
import resource, sys
from lpack.cli import main
limit = 160 << 20  # reading the library whole takes over 400 MB
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
sys.exit(main(["check", sys.argv[1], "--handler", "app.lambda_handler", "--runtime", "python3.12"]))
"""


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS bounds memory on Linux")
def test_a_200_mb_library_is_checked_from_its_headers_in_bounded_memory(tmp_path: Path) -> None:
    elf = bytearray(make_elf("x86_64", ["GLIBC_2.36"]))
    (shoff,) = struct.unpack_from("<Q", elf, 40)
    table, moved = elf[shoff:], (200 << 20) - (len(elf) - shoff)
    struct.pack_into("<Q", elf, 40, moved)  # the section headers at the end, as linkers put them
    path = tmp_path / "big.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("app.py", "def lambda_handler(event, context):\n    return event\n")
        with zf.open("lib/_native.cpython-312-x86_64-linux-gnu.so", "w", force_zip64=True) as out:
            out.write(elf[:shoff])
            for left in range(moved - shoff, 0, -(1 << 20)):
                out.write(bytes(min(left, 1 << 20)))
            out.write(table)
    done = subprocess.run([sys.executable, "-c", CHECK_UNDER_LIMIT, str(path)], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "lib/_native.cpython-312-x86_64-linux-gnu.so needs GLIBC_2.36" in done.stdout  # its sections were read
    assert "crashed" not in done.stdout and "MemoryError" not in done.stdout + done.stderr


# -- LP110 elf-wrong-machine -------------------------------------------------------------------


def test_x86_64_code_in_an_arm64_function(tmp_path: Path) -> None:
    findings = check(tmp_path, {"fastlib/_speedups.cpython-312-aarch64-linux-gnu.so": binary("x86_64-glibc_2_14.so")},
                     arch="arm64")
    assert codes(findings) == ["LP110"]
    assert findings[0].message == (
        "fastlib/_speedups.cpython-312-aarch64-linux-gnu.so is an x86_64 ELF; "
        "python3.12 arm64 loads only aarch64 code")
    assert findings[0].path.endswith("package.zip:fastlib/_speedups.cpython-312-aarch64-linux-gnu.so")
    assert findings[0].severity is Severity.ERROR and findings[0].function == "fn"
    assert findings[0].fix is not None and "lpack build --runtime python3.12 --arch arm64" in findings[0].fix


@pytest.mark.parametrize(
    ("fixture", "described"),
    [("aarch64-glibc_2_17.so", "an aarch64 ELF"), ("i386.so", "a 32-bit i386 ELF")],
    ids=["aarch64", "32-bit"],
)
def test_other_machines_in_an_x86_64_function(tmp_path: Path, fixture: str, described: str) -> None:
    findings = check(tmp_path, {"vendor.libs/libthing-1a2b3c.so.1": binary(fixture)})
    assert codes(findings) == ["LP110"]
    assert f"is {described};" in findings[0].message


def test_big_endian_elf_is_another_machine(tmp_path: Path) -> None:
    data = bytearray(make_elf("x86_64", ["GLIBC_2.17"]))
    data[5] = 2  # ELFDATA2MSB
    findings = check(tmp_path, {"pkg/libbig.so": bytes(data)})
    assert codes(findings) == ["LP110"] and "big-endian" in findings[0].message


def test_wrong_machine_program_in_a_layer_bin_folder(tmp_path: Path) -> None:
    findings = check(tmp_path, {"bin/tool": binary("x86_64-executable"), "bin/script": "#!/bin/sh\necho hi\n"},
                     arch="arm64", kind="layer")
    assert codes(findings) == ["LP110"] and findings[0].message.startswith("bin/tool is an x86_64 ELF")


def test_one_finding_per_top_level_folder(tmp_path: Path) -> None:
    x86 = binary("x86_64-glibc_2_14.so")
    findings = check(tmp_path, {
        "numpy/_core/_multiarray_umath.cpython-312-aarch64-linux-gnu.so": x86,
        "numpy/_core/_umath_tests.cpython-312-aarch64-linux-gnu.so": x86,
        "numpy/linalg/_umath_linalg.cpython-312-aarch64-linux-gnu.so": x86,
        "numpy.libs/libopenblas64_p-r0-0cf96a72.3.23.dev.so": x86,
    }, arch="arm64")
    assert codes(findings) == ["LP110", "LP110"]
    assert findings[0].message.endswith("(2 more files in numpy/)")
    assert "numpy.libs/libopenblas64_p" in findings[1].message and "more" not in findings[1].message


@pytest.mark.parametrize(("arch", "fixture"), [("x86_64", "x86_64-glibc_2_14.so"), ("arm64", "aarch64-glibc_2_17.so")])
def test_right_machine_is_quiet(tmp_path: Path, arch: str, fixture: str) -> None:
    machine = "aarch64" if arch == "arm64" else "x86_64"
    assert check(tmp_path, {
        f"fastlib/_native.cpython-311-{machine}-linux-gnu.so": binary(fixture),
        "fastlib/_stable.abi3.so": binary(fixture),
        "fastlib.libs/libgfortran-040039e1.so.5.0.0": binary(fixture),
    }, runtime="python3.11", arch=arch) == []


@pytest.mark.parametrize("arch", ["x86_64", "arm64"])
def test_one_library_per_machine_chosen_at_run_time_is_quiet(tmp_path: Path, arch: str) -> None:
    """tls_client ships a library per platform in one py3-none-any wheel and picks one by machine."""
    assert check(tmp_path, {
        "tls_client/dependencies/tls-client-64.so": binary("x86_64-glibc_2_14.so"),
        "tls_client/dependencies/tls-client-arm64.so": binary("aarch64-glibc_2_17.so"),
        "tls_client/dependencies/tls-client-32.so": binary("i386.so"),
        "tls_client/dependencies/tls-client-darwin-arm64.dylib": binary("macos-arm64.bundle"),
        "tls_client/dependencies/tls-client-windows-64.dll": binary("win_amd64.dll"),
    }, arch=arch) == []


def test_an_extension_module_is_flagged_even_beside_a_right_machine_library(tmp_path: Path) -> None:
    findings = check(tmp_path, {
        "pkg/libhelper.so": binary("aarch64-glibc_2_17.so"),
        "pkg/_core.cpython-312-aarch64-linux-gnu.so": binary("x86_64-glibc_2_14.so"),
    }, arch="arm64")
    assert codes(findings) == ["LP110"] and "pkg/_core.cpython-312" in findings[0].message


def test_contents_rules_are_quiet_without_a_reader(tmp_path: Path) -> None:
    assert check(tmp_path, {"pkg/_core.so": binary("x86_64-glibc_2_36.so"),
                            "pkg-1.0.dist-info/WHEEL": wheel("cp312-cp312-win_amd64")},
                 arch="arm64", read=False) == []


def test_no_target_no_findings(tmp_path: Path) -> None:
    index = read_package(make_zip(tmp_path, {"pkg/_core.cpython-313-x86_64-linux-gnu.so": binary("i386.so")}))
    assert run_native(PackageSubject(package=index, kind="function", reader=PackageReader(index))) == []


# -- LP111 macos-or-windows-binary -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "described"),
    [("macos-arm64.bundle", "a Mach-O (macOS) arm64 bundle file"),
     ("macos-universal.bundle", "a Mach-O (macOS) x86_64, arm64 universal file"),
     ("win_amd64.dll", "a PE (Windows) x86_64 dll file")],
    ids=["mach-o", "universal", "pe"],
)
def test_macos_and_windows_shared_objects(tmp_path: Path, fixture: str, described: str) -> None:
    findings = check(tmp_path, {"markupsafe/_speedups.so": binary(fixture)})
    assert codes(findings) == ["LP111"]
    assert findings[0].message == (f"markupsafe/_speedups.so is {described}; "
                                   "Lambda runs Linux and loads only ELF files")


def test_launchers_dlls_and_dylibs_are_never_read(tmp_path: Path) -> None:
    """Windows launchers (pip, setuptools), per-platform libraries (sounddevice), .NET assemblies."""
    files: dict[str, bytes | str] = {
        "pip/_vendor/distlib/t64.exe": binary("win_amd64.exe"),
        "pip/_vendor/distlib/w64-arm.exe": binary("win_amd64.exe"),
        "setuptools/cli-64.exe": binary("win_amd64.exe"),
        "_sounddevice_data/portaudio-binaries/libportaudio64bit.dll": binary("win_amd64.dll"),
        "_sounddevice_data/portaudio-binaries/libportaudio.dylib": binary("macos-universal.bundle"),
        "clr_loader/ffi/dlls/amd64/ClrLoader.dll": binary("win_amd64.dll"),
        "PIL/.dylibs/libjpeg.62.dylib": binary("macos-arm64.bundle"),
        "app.py": "print('hi')\n",
    }
    index = read_package(make_zip(tmp_path, files))
    reader = RecordingReader(index)
    subject = PackageSubject(package=index, kind="function", target=make_target("python3.12", "x86_64", where="t"), reader=reader)
    assert run_native(subject) == []
    assert reader.reads == []
    reader.close()


def test_each_candidate_is_read_once_and_nothing_else_is_read(tmp_path: Path) -> None:
    files: dict[str, bytes | str] = {
        "numpy/_core/_multiarray_umath.cpython-312-x86_64-linux-gnu.so": binary("x86_64-glibc_2_36.so"),
        "numpy/_core/_rational_tests.cpython-312-x86_64-linux-gnu.so": binary("x86_64-glibc_2_14.so"),
        "numpy.libs/libscipy_openblas64_-ff651d7f.so": binary("x86_64-glibc_2_14.so"),
        "numpy/_core/big_data.npy": bytes(200_000),
        "numpy/__init__.py": "",
        "numpy-2.2.6.dist-info/WHEEL": wheel("cp312-cp312-manylinux_2_17_x86_64"),
        "numpy-2.2.6.dist-info/RECORD": "",
    }
    index = read_package(make_zip(tmp_path, files))
    reader = RecordingReader(index)
    subject = PackageSubject(package=index, kind="function", target=make_target("python3.12", "x86_64", where="t"), reader=reader)
    assert codes(run_native(subject)) == ["LP113"]
    assert sorted(reader.reads) == sorted(n for n in files if n.endswith((".so", "/WHEEL")))  # once each
    reader.close()


# -- LP112 extension-suffix-mismatch ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "runtime", "arch", "built_for"),
    [
        ("_core.cpython-313-x86_64-linux-gnu.so", "python3.12", "x86_64", "CPython 3.13 on x86_64 Linux"),
        ("_core.cpython-311-x86_64-linux-gnu.so", "python3.12", "x86_64", "CPython 3.11 on x86_64 Linux"),
        ("_core.cpython-313t-x86_64-linux-gnu.so", "python3.13", "x86_64",
         "CPython 3.13 free-threaded on x86_64 Linux"),
        ("_core.cpython-312-aarch64-linux-gnu.so", "python3.12", "x86_64", "CPython 3.12 on aarch64 Linux"),
        ("_core.cpython-312-x86_64-linux-gnu.so", "python3.12", "arm64", "CPython 3.12 on x86_64 Linux"),
        ("_core.cpython-312-x86_64-linux-musl.so", "python3.12", "x86_64",
         "CPython 3.12 on x86_64 Linux with musl libc"),
        ("_core.cpython-312-darwin.so", "python3.12", "x86_64", "CPython 3.12 on macOS"),
        ("_core.cp312-win_amd64.pyd", "python3.12", "x86_64", "Windows (cp312-win_amd64)"),
        ("_core.pyd", "python3.12", "x86_64", "Windows"),
        ("_core.pypy310-pp73-x86_64-linux-gnu.so", "python3.10", "x86_64", "PyPy (pypy310-pp73-x86_64-linux-gnu)"),
    ],
    ids=["newer-python", "older-python", "free-threaded", "aarch64-on-x86_64", "x86_64-on-arm64", "musl",
         "darwin", "windows-tagged", "windows-plain", "pypy"],
)
def test_extension_module_named_for_another_python_or_platform(
        tmp_path: Path, name: str, runtime: str, arch: str, built_for: str) -> None:
    findings = check(tmp_path, {f"fastlib/{name}": binary("x86_64-glibc_2_14.so")}, runtime=runtime, arch=arch)
    assert codes(findings) == ["LP112"]
    assert findings[0].message.startswith(f"fastlib/{name} is an extension module for {built_for}; ")
    minor, machine = runtime.removeprefix("python3."), "aarch64" if arch == "arm64" else "x86_64"
    assert findings[0].message.endswith(f"imports only *.cpython-3{minor}-{machine}-linux-gnu.so and *.abi3.so")


def test_extension_names_need_no_reader(tmp_path: Path) -> None:
    findings = check(tmp_path, {"pkg/_core.cpython-313-x86_64-linux-gnu.so": b"not read"}, read=False)
    assert codes(findings) == ["LP112"]


@pytest.mark.parametrize(
    "name",
    ["_core.cpython-312-x86_64-linux-gnu.so", "_core.abi3.so", "_core.so", "libopenblas64_p-r0-0cf96a72.3.23.dev.so",
     "libgfortran-040039e1.so.5.0.0", "libfoo.1.so"],
    ids=["target-tag", "abi3", "untagged", "dotted-library", "versioned-library", "numbered-library"],
)
def test_names_the_target_imports_or_that_are_not_modules(tmp_path: Path, name: str) -> None:
    assert check(tmp_path, {f"fastlib/{name}": binary("x86_64-glibc_2_14.so")}) == []


def test_builds_for_several_pythons_side_by_side(tmp_path: Path) -> None:
    elf = binary("x86_64-glibc_2_14.so")
    assert check(tmp_path, {
        "fastlib/_core.cpython-311-x86_64-linux-gnu.so": elf,
        "fastlib/_core.cpython-312-x86_64-linux-gnu.so": elf,
        "fastlib/_core.cpython-313-x86_64-linux-gnu.so": elf,
        "fastlib/_core.cp312-win_amd64.pyd": binary("win_amd64.dll"),
        "fastlib/_other.abi3.so": elf,
        "fastlib/_other.cpython-312-darwin.so": binary("macos-arm64.bundle"),
    }) == []


# -- layers: which folders the target reads --------------------------------------------------------


def test_layer_folders_for_another_python_are_not_read(tmp_path: Path) -> None:
    """A layer for several runtimes: python3.12 reads python/ and python/lib/python3.12/site-packages/."""
    elf = binary("x86_64-glibc_2_14.so")
    findings = check(tmp_path, {
        "python/lib/python3.11/site-packages/fastlib/_core.cpython-311-x86_64-linux-gnu.so": elf,
        "python/lib/python3.11/site-packages/fastlib-1.0.dist-info/WHEEL": wheel("cp311-cp311-manylinux2014_x86_64"),
        "python/lib/python3.12/site-packages/fastlib/_core.cpython-312-x86_64-linux-gnu.so": elf,
        "python/lib/python3.12/site-packages/fastlib-1.0.dist-info/WHEEL": wheel("cp312-cp312-manylinux2014_x86_64"),
        "python/lib/python3.12/site-packages/slowlib/_core.cpython-311-x86_64-linux-gnu.so": elf,
        "python/otherlib/_core.cpython-313-x86_64-linux-gnu.so": elf,
        "python/otherlib-2.0.dist-info/WHEEL": wheel("cp313-cp313-manylinux2014_x86_64"),
    }, kind="layer")
    assert codes(findings) == ["LP112", "LP112", "LP114"]
    assert [f.message.split(" ", 1)[0] for f in findings] == [
        "python/lib/python3.12/site-packages/slowlib/_core.cpython-311-x86_64-linux-gnu.so",
        "python/otherlib/_core.cpython-313-x86_64-linux-gnu.so", "otherlib"]


def test_layer_lib_folder_is_checked(tmp_path: Path) -> None:
    findings = check(tmp_path, {"lib/libpq.so.5": binary("x86_64-glibc_2_34.so")}, runtime="python3.11", kind="layer")
    assert codes(findings) == ["LP113"]


# -- LP113 glibc-too-new ---------------------------------------------------------------------------


def test_glibc_2_34_on_amazon_linux_2(tmp_path: Path) -> None:
    findings = check(tmp_path, {"pkg/_core.cpython-311-x86_64-linux-gnu.so": binary("x86_64-glibc_2_34.so")},
                     runtime="python3.11")
    assert codes(findings) == ["LP113"]
    assert findings[0].message == ("pkg/_core.cpython-311-x86_64-linux-gnu.so needs GLIBC_2.34; "
                                   "python3.11 runs on Amazon Linux 2 with glibc 2.26")
    assert findings[0].fix == ("install wheels tagged manylinux_2_26 or older (manylinux2014 works on every runtime); "
                               "pin an older release if the project has none, or move to python3.12 or newer (glibc 2.34)")


def test_glibc_2_36_on_amazon_linux_2023(tmp_path: Path) -> None:
    findings = check(tmp_path, {"pkg/_core.abi3.so": binary("x86_64-glibc_2_36.so")}, runtime="python3.13")
    assert codes(findings) == ["LP113"] and "needs GLIBC_2.36; python3.13 runs on Amazon Linux 2023 with glibc 2.34" in (
        findings[0].message)
    assert findings[0].fix is not None and "move to" not in findings[0].fix  # no runtime has a newer glibc


def test_names_the_newest_need_in_each_folder(tmp_path: Path) -> None:
    findings = check(tmp_path, {
        "pkg/a.abi3.so": binary("x86_64-glibc_2_34.so"),
        "pkg/b.abi3.so": binary("x86_64-glibc_2_36.so"),
        "pkg/c.abi3.so": binary("x86_64-glibc_2_14.so"),
    }, runtime="python3.11")
    assert [f.message for f in findings] == [
        "pkg/b.abi3.so needs GLIBC_2.36; python3.11 runs on Amazon Linux 2 with glibc 2.26 (1 more file in pkg/)"]


def test_program_needing_a_newer_glibc(tmp_path: Path) -> None:
    files = {"bin/tool": binary("x86_64-executable")}
    assert codes(check(tmp_path, files, runtime="python3.11", kind="layer")) == ["LP113"]
    assert check(tmp_path, files, runtime="python3.12", kind="layer") == []


@pytest.mark.parametrize(
    ("runtime", "arch", "fixture"),
    [("python3.12", "x86_64", "x86_64-glibc_2_34.so"), ("python3.11", "x86_64", "x86_64-glibc_2_14.so"),
     ("python3.11", "arm64", "aarch64-glibc_2_17.so")],
    ids=["2.34-on-al2023", "2.14-on-al2", "2.17-on-al2-arm64"],
)
def test_glibc_the_runtime_has(tmp_path: Path, runtime: str, arch: str, fixture: str) -> None:
    assert check(tmp_path, {"pkg/_core.abi3.so": binary(fixture)}, runtime=runtime, arch=arch) == []


def test_glibc_private_does_not_count(tmp_path: Path) -> None:
    elf = make_elf("x86_64", ["GLIBC_2.17", "GLIBC_PRIVATE"])
    assert check(tmp_path, {"pkg/_core.abi3.so": elf}, runtime="python3.11") == []


def test_wrong_machine_is_reported_once(tmp_path: Path) -> None:
    findings = check(tmp_path, {"pkg/libx.so": binary("x86_64-glibc_2_36.so")}, runtime="python3.11", arch="arm64")
    assert codes(findings) == ["LP110"]


# -- LP114 wheel-tag-mismatch ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("runtime", "arch", "tags", "reason"),
    [
        ("python3.11", "x86_64", ["cp311-cp311-manylinux_2_28_x86_64"],
         "manylinux_2_28_x86_64 needs glibc 2.28, and Amazon Linux 2 (python3.11) has 2.26"),
        ("python3.12", "x86_64", ["cp312-cp312-manylinux_2_35_x86_64"],
         "manylinux_2_35_x86_64 needs glibc 2.35, and Amazon Linux 2023 (python3.12) has 2.34"),
        ("python3.12", "x86_64", ["cp313-cp313-manylinux_2_17_x86_64", "cp313-cp313-manylinux2014_x86_64"],
         "cp313-cp313 is not for CPython 3.12"),
        ("python3.12", "x86_64", ["cp313-abi3-manylinux_2_17_x86_64"],
         "cp313-abi3 needs CPython 3.13 or newer, and python3.12 is 3.12"),
        ("python3.12", "arm64", ["cp312-cp312-manylinux_2_17_x86_64"], "manylinux_2_17_x86_64 is not for aarch64 Linux"),
        ("python3.12", "x86_64", ["cp312-cp312-musllinux_1_2_x86_64"],
         "musllinux_1_2_x86_64 needs musl libc, and Amazon Linux 2023 has glibc"),
        ("python3.12", "arm64", ["cp312-cp312-macosx_11_0_arm64"], "macosx_11_0_arm64 is for macOS"),
        ("python3.12", "x86_64", ["cp312-cp312-win_amd64"], "win_amd64 is for Windows"),
        ("python3.12", "x86_64", ["py2-none-any"], "py2-none is not for CPython 3.12"),
        ("python3.12", "x86_64", ["pp310-pypy310_pp73-manylinux_2_17_x86_64"], "pp310-pypy310_pp73 is not for CPython 3.12"),
    ],
    ids=["manylinux_2_28-on-al2", "manylinux_2_35-on-al2023", "other-python", "abi3-too-new", "other-machine",
         "musllinux", "macos", "windows", "python2", "pypy"],
)
def test_wheel_for_another_target(tmp_path: Path, runtime: str, arch: str, tags: list[str], reason: str) -> None:
    findings = check(tmp_path, {"fastlib-1.0.dist-info/WHEEL": wheel(*tags)}, runtime=runtime, arch=arch)
    assert codes(findings) == ["LP114"]
    others = f" (and {len(tags) - 1} other tag)" if len(tags) > 1 else ""
    assert findings[0].message == f"fastlib 1.0 was installed from a wheel for {tags[0]}{others}: {reason}"
    assert findings[0].path.endswith("package.zip:fastlib-1.0.dist-info/WHEEL")


@pytest.mark.parametrize(
    ("runtime", "arch", "tags"),
    [
        ("python3.12", "x86_64", ["cp312-cp312-manylinux_2_28_x86_64"]),
        ("python3.12", "x86_64", ["cp312-cp312-manylinux_2_34_x86_64"]),
        ("python3.11", "x86_64", ["cp311-cp311-manylinux_2_17_x86_64", "cp311-cp311-manylinux2014_x86_64"]),
        ("python3.10", "x86_64", ["cp310-cp310-manylinux_2_5_x86_64", "cp310-cp310-manylinux1_x86_64"]),
        ("python3.12", "arm64", ["cp312-cp312-manylinux2014_aarch64"]),
        ("python3.12", "x86_64", ["py3-none-any"]),
        ("python3.12", "x86_64", ["py2.py3-none-any"]),
        ("python3.13", "x86_64", ["cp39-abi3-manylinux_2_17_x86_64"]),
        ("python3.12", "x86_64", ["cp312-abi3-manylinux_2_28_x86_64"]),
        ("python3.12", "x86_64", ["py3-none-musllinux_1_1_x86_64", "py3-none-manylinux_2_17_x86_64"]),
        ("python3.12", "x86_64", ["cp312-cp312-macosx_11_0_arm64", "cp312-cp312-manylinux_2_17_x86_64"]),
        ("python3.12", "x86_64", ["cp312-cp312-linux_x86_64"]),
        ("python3.12", "x86_64", ["py311-none-any"]),
        ("python3.12", "x86_64", ["cp310-none-any"]),
    ],
    ids=["manylinux_2_28-on-al2023", "manylinux_2_34-on-al2023", "manylinux2014", "manylinux1", "aarch64",
         "pure", "py2.py3", "abi3", "abi3-same-minor", "any-tag-fits", "any-tag-fits-2", "locally-built",
         "py311-on-3.12", "cp310-none"],
)
def test_wheel_the_target_can_run(tmp_path: Path, runtime: str, arch: str, tags: list[str]) -> None:
    assert check(tmp_path, {"fastlib-1.0.dist-info/WHEEL": wheel(*tags)}, runtime=runtime, arch=arch) == []


def test_one_finding_per_distribution(tmp_path: Path) -> None:
    findings = check(tmp_path, {
        "numpy-2.2.6.dist-info/WHEEL": wheel("cp312-cp312-manylinux_2_28_x86_64"),
        "pydantic_core-2.33.2.dist-info/WHEEL": wheel("cp312-cp312-manylinux_2_17_x86_64",
                                                      "cp312-cp312-manylinux2014_x86_64"),
        "six-1.17.0.dist-info/WHEEL": wheel("py2-none-any", "py3-none-any"),
    }, runtime="python3.11")
    assert [f.message.split(" was ")[0] for f in findings] == ["numpy 2.2.6", "pydantic_core 2.33.2"]


def test_wheel_files_that_do_not_describe_an_installed_distribution(tmp_path: Path) -> None:
    assert check(tmp_path, {
        "setuptools/_vendor/packaging-24.2.dist-info/WHEEL": wheel("cp312-cp312-win_amd64"),  # vendored
        "nothing-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\n",  # no Tag lines
        "broken-1.0.dist-info/WHEEL": "Tag: garbage\nTag: also-garbage\n",
    }) == []


# -- LP115 musl-binary -----------------------------------------------------------------------------


def test_library_linked_against_musl(tmp_path: Path) -> None:
    findings = check(tmp_path, {"markupsafe.libs/libhelper-1a2b3c.so": binary("x86_64-musl.so")})
    assert codes(findings) == ["LP115"]
    assert findings[0].message == ("markupsafe.libs/libhelper-1a2b3c.so links musl libc (libc.musl-x86_64.so.1); "
                                   "Amazon Linux 2023 has glibc, not musl")


def test_library_that_needs_no_libc_is_quiet(tmp_path: Path) -> None:
    elf = make_elf("x86_64")
    assert check(tmp_path, {"pkg/libnothing.so": elf}) == []


# -- the rule table --------------------------------------------------------------------------------


def test_every_native_rule_is_documented() -> None:
    native = [r for r in rules.rules_for(PackageSubject) if r.code in NATIVE_CODES]
    assert [r.code for r in native] == ["LP110", "LP111", "LP112", "LP113", "LP114", "LP115"]
    for r in native:
        assert r.source.startswith("https://docs.aws.amazon.com/lambda/")
        assert [line for line in r.doc.splitlines() if line.startswith("## ")][:3] == [
            "## What it does", "## Why is this bad?", "## How to fix"]


# -- real packages, built by lpack for the target --------------------------------------------------


@pytest.mark.network
@pytest.mark.parametrize(
    ("runtime", "arch", "kind"),
    [("python3.12", "arm64", "function"), ("python3.11", "x86_64", "function"), ("python3.12", "arm64", "layer")],
    ids=["python3.12-arm64", "python3.11-x86_64", "python3.12-arm64-layer"],
)
def test_real_native_wheels_built_for_the_target_raise_nothing(tmp_path: Path, runtime: str, arch: str,
                                                               kind: str) -> None:
    """Unpinned on purpose: whatever lpack installs for the target today must pass these rules
    (on python3.12 that includes manylinux_2_28 wheels; python3.11 needs manylinux2014 ones)."""
    from lpack.cli import main

    root = tmp_path / "fn"
    root.mkdir()
    (root / "lambda_function.py").write_text(
        "import cryptography, numpy, pydantic_core\n\ndef lambda_handler(event, context):\n    return 1\n")
    (root / "requirements.txt").write_text("numpy\npydantic-core\ncryptography\n")
    layer = ["--as-layer"] if kind == "layer" else []
    assert main(["build", str(root), "-q", "--runtime", runtime, "--arch", arch, *layer]) == 0

    index = read_package(root / "dist" / ("fn-layer.zip" if layer else "fn.zip"))
    reader = PackageReader(index)
    target = make_target(runtime, arch, where="test")
    findings = [f for f in rules.run(PackageSubject(package=index, kind=kind, target=target, reader=reader))
                if f.code in NATIVE_CODES]
    wheels = {e.name: reader.text(e.name) for e in index.entries if e.name.endswith(".dist-info/WHEEL")}
    elves = [read_binary(reader.read(e.name)) for e in index.entries if e.name.endswith(".so")]
    reader.close()

    assert [f for f in findings if f.severity in (Severity.ERROR, Severity.WARNING)] == []
    tags = {name.rsplit("/", 2)[-2]: [line[5:] for line in text.splitlines() if line.startswith("Tag: ")]
            for name, text in wheels.items()}
    print(f"{runtime} {arch} {kind}: {tags}")
    assert {"numpy", "pydantic_core", "cryptography"} <= {name.split("-")[0] for name in tags}
    assert len(elves) >= 3 and all(b.format == "elf" and b.machine == target.machine for b in elves)
    assert any(b.glibc for b in elves)  # the glibc check had real symbol versions to read
    if (runtime, kind) == ("python3.12", "function"):  # the same files, checked for the wrong runtime
        wrong = PackageSubject(package=index, kind=kind, target=make_target("python3.11", arch, where="test"),
                               reader=PackageReader(index))
        assert {"LP112", "LP114"} <= {f.code for f in rules.run(wrong)}
        assert wrong.reader is not None
        wrong.reader.close()
