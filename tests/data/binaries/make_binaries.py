"""Rebuild the small real binaries the native-code rule tests use: ``python make_binaries.py``.

Each file is built by a real toolchain where this machine has one, so the tests read what
compilers and linkers actually write, as pypa/packaging's ``tests/manylinux/`` does:

=======================  ===============================================================
x86_64-glibc_2_14.so     gcc -shared; memcpy@GLIBC_2.14 (+ __cxa_finalize@GLIBC_2.2.5)
x86_64-glibc_2_34.so     gcc -shared; dlopen@GLIBC_2.34 (libdl merged into libc in 2.34)
x86_64-glibc_2_36.so     gcc -shared; arc4random@GLIBC_2.36 (newer than Amazon Linux 2023)
x86_64-executable        gcc PIE executable; __libc_start_main@GLIBC_2.34, puts@GLIBC_2.2.5
aarch64-glibc_2_17.so    aarch64-linux-gnu-gcc -shared; memcpy@GLIBC_2.17
i386.so                  gcc -m32 -nostdlib -shared: a 32-bit ELF that needs no libc
x86_64-musl.so           gcc -shared -nostdlib, linked against a stub C library whose soname
                         is libc.musl-x86_64.so.1, so DT_NEEDED is what Alpine's linker
                         writes in musllinux wheels (checked against MarkupSafe 2.1.5's
                         cp312-musllinux_1_1_x86_64 wheel); no symbol versions, as with musl
win_amd64.dll            gcc -c, objcopy to pe-x86-64, GNU ld -m i386pep --dll: a PE32+ DLL
                         exporting PyInit__demo (what a Windows extension module exports)
win_amd64.exe            the same through GNU ld -m i386pep: a PE32+ console executable,
                         like the launchers pip (distlib) and setuptools ship
macos-arm64.bundle       written here: a Mach-O 64-bit MH_BUNDLE for arm64 (no macOS
                         linker on Linux) with the load commands a real extension has:
                         __TEXT/__LINKEDIT segments, LC_SYMTAB, LC_DYSYMTAB,
                         LC_BUILD_VERSION (macOS 11.0), LC_LOAD_DYLIB libSystem.B.dylib
macos-universal.bundle   written here: a universal (fat) file holding x86_64 and arm64
                         slices of that bundle, 4 KiB aligned, as lipo lays them out
=======================  ===============================================================

Made on Debian 12 (gcc 12.2, GNU binutils 2.40, glibc 2.36) with
``apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross``. A file whose tool is missing
is skipped and the committed copy kept. Check the results with ``readelf -V -d FILE``,
``objdump -T FILE``, ``objdump -p win_amd64.dll`` and
``llvm-objdump --macho --private-headers macos-arm64.bundle``.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SMALL = ["-O2", "-fno-ident", "-Wl,--build-id=none", "-Wl,-z,noseparate-code", "-s"]

SOURCES = {
    "memcpy.c": "#include <string.h>\n"
                "void copy(char *d, const char *s, size_t n) { memcpy(d, s, n); }\n",
    "dlopen.c": "#include <dlfcn.h>\n"
                "void *open_library(const char *path) { return dlopen(path, RTLD_NOW); }\n",
    "arc4random.c": "#include <stdlib.h>\nunsigned int random_word(void) { return arc4random(); }\n",
    "main.c": '#include <stdio.h>\nint main(void) { puts("hello"); return 0; }\n',
    "add.c": "int add_one(int x) { return x + 1; }\n",
    "demo.c": "int DllMain(void *module, unsigned long reason, void *reserved) { return 1; }\n"
              "void *PyInit__demo(void) { return 0; }\n",
    "launcher.c": "int main(void) { return 0; }\n",
    "musl_stub.c": "void *memcpy(void *d, const void *s, unsigned long n) { return d; }\n",
}

# (output, compiler, extra arguments, source): ELF files built by a C compiler.
ELF_BUILDS = [
    ("x86_64-glibc_2_14.so", "gcc", ["-shared", "-fPIC"], "memcpy.c"),
    ("x86_64-glibc_2_34.so", "gcc", ["-shared", "-fPIC"], "dlopen.c"),
    ("x86_64-glibc_2_36.so", "gcc", ["-shared", "-fPIC"], "arc4random.c"),
    ("x86_64-executable", "gcc", [], "main.c"),
    ("aarch64-glibc_2_17.so", "aarch64-linux-gnu-gcc",
     ["-shared", "-fPIC", "-Wl,-z,max-page-size=4096"], "memcpy.c"),
    ("i386.so", "gcc", ["-m32", "-nostdlib", "-shared", "-fPIC"], "add.c"),
    ("x86_64-musl.so", "gcc", ["-nostdlib", "-shared", "-fPIC", "{work}/libc.musl-x86_64.so.1"], "memcpy.c"),
]
MUSL_STUB = ("gcc", "-nostdlib", "-shared", "-fPIC", "-Wl,-soname,libc.musl-x86_64.so.1")

# Mach-O constants from <mach-o/loader.h> and <mach/machine.h>.
MH_MAGIC_64, FAT_MAGIC, MH_BUNDLE = 0xFEEDFACF, 0xCAFEBABE, 8
MH_NOUNDEFS, MH_DYLDLINK, MH_TWOLEVEL = 0x1, 0x4, 0x80
LC_SEGMENT_64, LC_SYMTAB, LC_DYSYMTAB, LC_LOAD_DYLIB, LC_BUILD_VERSION = 0x19, 0x2, 0xB, 0xC, 0x32
CPU_X86_64, CPU_ARM64 = (0x01000007, 3), (0x0100000C, 0)  # (cputype, cpusubtype ALL)
RET = {CPU_X86_64: b"\xc3", CPU_ARM64: struct.pack("<I", 0xD65F03C0)}
PAGE = 0x4000
READ, EXECUTE = 1, 4  # VM_PROT_*


def run(*cmd: str) -> bool:
    if shutil.which(cmd[0]) is None:
        print(f"skipped: {cmd[0]} is not installed (keeping the committed file)")
        return False
    subprocess.run(cmd, check=True)
    return True


def build_elves(work: Path) -> None:
    run(*MUSL_STUB, str(work / "musl_stub.c"), "-o", str(work / "libc.musl-x86_64.so.1"))
    for out, compiler, extra, source in ELF_BUILDS:
        extra = [arg.format(work=work) for arg in extra]
        if run(compiler, *SMALL, str(work / source), *extra, "-o", str(HERE / out)):
            print(f"built {out}")


def build_pe(work: Path) -> None:
    for out, source, link in (("win_amd64.dll", "demo.c", ["--dll", "-e", "DllMain", "--export-all-symbols"]),
                              ("win_amd64.exe", "launcher.c", ["-e", "main"])):
        obj, coff = work / f"{source}.o", work / f"{source}.obj"
        if not (run("gcc", "-O2", "-fno-ident", "-ffreestanding", "-fno-pic", "-fno-asynchronous-unwind-tables",
                    "-c", str(work / source), "-o", str(obj))
                and run("objcopy", "-R", ".note.GNU-stack", "-O", "pe-x86-64", str(obj), str(coff))
                and run("ld", "-m", "i386pep", *link, "-s", "--no-insert-timestamp", str(coff), "-o", str(HERE / out))):
            return
        print(f"built {out}")


def _segment(name: str, vmaddr: int, vmsize: int, fileoff: int, filesize: int, prot: int,
             sections: bytes = b"", nsects: int = 0) -> bytes:
    cmdsize = 72 + len(sections)
    return struct.pack("<II16sQQQQiiII", LC_SEGMENT_64, cmdsize, name.encode(), vmaddr, vmsize,
                       fileoff, filesize, prot, prot, nsects, 0) + sections


def macho_bundle(cpu: tuple[int, int]) -> bytes:
    """A Mach-O MH_BUNDLE whose __text holds one ``ret``: what ``cc -bundle`` makes, minus code."""
    code = RET[cpu]
    dylib = b"/usr/lib/libSystem.B.dylib\0"
    dylib += b"\0" * (-len(dylib) % 8)
    commands_size = (72 + 80) + 72 + 24 + 80 + 24 + (24 + len(dylib))
    text_at = 32 + commands_size
    end = text_at + len(code)
    text = struct.pack("<16s16sQQIIIIIIII", b"__text", b"__TEXT", text_at, len(code), text_at, 0, 0, 0,
                       0x80000400, 0, 0, 0)  # S_ATTR_PURE_INSTRUCTIONS | S_ATTR_SOME_INSTRUCTIONS
    commands = b"".join((
        _segment("__TEXT", 0, PAGE, 0, end, READ | EXECUTE, text, 1),
        _segment("__LINKEDIT", PAGE, PAGE, end, 0, READ),
        struct.pack("<IIIIII", LC_SYMTAB, 24, end, 0, end, 0),
        struct.pack("<II", LC_DYSYMTAB, 80) + bytes(72),
        struct.pack("<IIIIII", LC_BUILD_VERSION, 24, 1, 0x000B0000, 0x000B0000, 0),  # macOS 11.0
        struct.pack("<IIIIII", LC_LOAD_DYLIB, 24 + len(dylib), 24, 2, 0x05276403, 0x00010000) + dylib,
    ))
    assert len(commands) == commands_size
    header = struct.pack("<IiiIIIII", MH_MAGIC_64, cpu[0], cpu[1], MH_BUNDLE, 6, commands_size,
                         MH_NOUNDEFS | MH_DYLDLINK | MH_TWOLEVEL, 0)
    return header + commands + code


def macho_universal(cpus: list[tuple[int, int]], align: int = 12) -> bytes:
    """A fat file (big-endian fat_header + fat_arch entries), each slice 2**align aligned."""
    slices = [macho_bundle(cpu) for cpu in cpus]
    out = bytearray(struct.pack(">II", FAT_MAGIC, len(slices)))
    offset, body = 1 << align, bytearray()
    for cpu, data in zip(cpus, slices, strict=True):
        out += struct.pack(">iiIII", cpu[0], cpu[1], offset + len(body), len(data), align)
        body += data + b"\0" * (-len(data) % (1 << align))
    return bytes(out + b"\0" * (offset - len(out)) + body.rstrip(b"\0"))


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name, text in SOURCES.items():
            (work / name).write_text(text)
        build_elves(work)
        build_pe(work)
    (HERE / "macos-arm64.bundle").write_bytes(macho_bundle(CPU_ARM64))
    (HERE / "macos-universal.bundle").write_bytes(macho_universal([CPU_X86_64, CPU_ARM64]))
    print("wrote macos-arm64.bundle, macos-universal.bundle")
    total = sum(p.stat().st_size for p in HERE.iterdir() if p.suffix != ".py")
    print(f"fixtures: {total:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
