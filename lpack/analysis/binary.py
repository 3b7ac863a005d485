"""What kind of native binary a file is, and for ELF what decides whether Linux can load it.

From the first bytes: ELF, Mach-O (thin or universal, either byte order) or PE (``MZ`` whose
``e_lfanew`` points at ``PE\\0\\0``). For ELF: class (32/64-bit), byte order, ``e_machine``,
the symbol versions it needs (``.gnu.version_r``, SHT_GNU_verneed, found through the section
headers; names from the string table its ``sh_link`` names) and its DT_NEEDED libraries.

References: System V gABI "ELF Header" and "Sections"; LSB "Symbol Versioning"; Apple
``<mach-o/loader.h>`` and ``<mach-o/fat.h>``; Microsoft "PE Format". Like pypa/packaging's
``_elffile.py`` this reads with :mod:`struct` only, and it never raises: a truncated or corrupt
header gives ``UNKNOWN``; corrupt sections give the header's facts without versions.

It reads a file's bytes or a seekable stream (a zip entry: see ``PackageReader.open``). From a
stream it reads the first 4 KiB, then for ELF the section header table and only the sections it
uses, each a bounded range, in file order: never the whole file. Errors of the stream itself
(a corrupt zip) are the stream's to report.
"""

from __future__ import annotations

import struct
from typing import IO, NamedTuple

from lpack.core.patterns import lazy

# ELF e_machine (gABI), Mach-O cputype (<mach/machine.h>), PE Machine -> a name people know.
ELF_MACHINES = {2: "sparc", 3: "i386", 8: "mips", 20: "ppc", 21: "ppc64", 22: "s390x", 40: "arm",
                43: "sparcv9", 62: "x86_64", 183: "aarch64", 243: "riscv", 258: "loongarch"}
MACHO_CPUS = {7: "i386", 0x01000007: "x86_64", 12: "arm", 0x0100000C: "arm64",
              0x0200000C: "arm64_32", 18: "ppc", 0x01000012: "ppc64"}
PE_MACHINES = {0x14C: "i386", 0x8664: "x86_64", 0x1C0: "arm", 0x1C4: "arm", 0xAA64: "arm64"}

SHT_DYNAMIC, SHT_GNU_VERNEED = 6, 0x6FFFFFFE
DT_NULL, DT_NEEDED = 0, 1
_MACHO_THIN = {b"\xfe\xed\xfa\xce": ">", b"\xce\xfa\xed\xfe": "<",  # MH_MAGIC, MH_CIGAM
               b"\xfe\xed\xfa\xcf": ">", b"\xcf\xfa\xed\xfe": "<"}  # MH_MAGIC_64, MH_CIGAM_64
_MACHO_FAT = {b"\xca\xfe\xba\xbe": (">", 20), b"\xbe\xba\xfe\xca": ("<", 20),  # FAT_MAGIC(_CIGAM)
              b"\xca\xfe\xba\xbf": (">", 32), b"\xbf\xba\xfe\xca": ("<", 32)}  # FAT_MAGIC_64
_MACHO_FILETYPES = {1: "object", 2: "executable", 6: "dylib", 8: "bundle"}
_FAT_MAX_ARCHES = 20  # 0xcafebabe also starts Java class files, whose next word is >= 45
_GLIBC = lazy(r"GLIBC_(\d+(?:\.\d+)+)")
_PARSE_ERRORS = (struct.error, LookupError, ValueError, OverflowError)
_HEAD_BYTES = 4096  # the ELF header, a Mach-O (fat) header, a PE's MS-DOS stub
_RANGE_MAX_BYTES = 64 << 20  # of a section table or section: a larger one is read only this far


class Binary(NamedTuple):
    format: str  # "elf", "mach-o", "pe" or "unknown"
    machine: str = ""  # "x86_64", "aarch64", "arm64", ...; Mach-O universal: "x86_64, arm64"
    bits: int = 0  # ELF class: 32 or 64
    little_endian: bool = True
    kind: str = ""  # Mach-O file type ("bundle", "dylib"...), PE "dll" or "executable"
    versions: tuple[str, ...] = ()  # ELF symbol versions needed: "GLIBC_2.17", "GLIBC_PRIVATE"...
    needed: tuple[str, ...] = ()  # ELF DT_NEEDED: "libc.so.6", ...

    @property
    def glibc(self) -> tuple[int, ...] | None:
        """The newest numbered ``GLIBC_x.y`` version needed; GLIBC_PRIVATE and others don't count."""
        numbers = [tuple(int(p) for p in m[1].split(".")) for v in self.versions if (m := _GLIBC().fullmatch(v))]
        return max(numbers, default=None)

    def describe(self) -> str:
        """``x86_64 ELF``, ``32-bit i386 ELF``, ``Mach-O (macOS) arm64 bundle``, ``PE (Windows) x86_64 dll``."""
        if self.format == "elf":
            bits = "" if self.bits == 64 else f"{self.bits}-bit "
            order = "" if self.little_endian else "big-endian "
            return f"{bits}{order}{self.machine} ELF"
        system = {"mach-o": "Mach-O (macOS)", "pe": "PE (Windows)"}.get(self.format, self.format)
        return " ".join(p for p in (system, self.machine, self.kind) if p)


UNKNOWN = Binary("unknown")


def read_binary(source: bytes | IO[bytes]) -> Binary:
    """Identify a file, ``source`` (its bytes, or a seekable stream of them), as ELF, Mach-O or PE;
    anything else is ``UNKNOWN``. From a stream only the headers and the sections they point at are
    read, each a bounded range, so a 250 MB library is never held in memory to read its headers."""
    file = _File(source)
    try:
        head = file.at(0, _HEAD_BYTES)
        if head[:4] == b"\x7fELF":
            return _elf(file, head)
        if head[:4] in _MACHO_THIN:
            return _macho_thin(head, _MACHO_THIN[head[:4]])
        if head[:4] in _MACHO_FAT:
            return _macho_fat(head, *_MACHO_FAT[head[:4]])
        if head[:2] == b"MZ":
            return _pe(file, head)
    except _PARSE_ERRORS:
        pass
    return UNKNOWN


class _File:
    """Ranges of a file: slices of its bytes, or a seek and a bounded read of a stream."""

    def __init__(self, source: bytes | IO[bytes]) -> None:
        self.source = source

    def at(self, offset: int, size: int) -> bytes:
        """``size`` bytes from ``offset``, fewer at the end of the file and never more than
        ``_RANGE_MAX_BYTES``: a section that claims gigabytes is read no further than that."""
        if offset < 0 or size < 0:
            raise ValueError(f"no section is {size:,} bytes at {offset:,}")
        size = min(size, _RANGE_MAX_BYTES)
        if isinstance(self.source, bytes):
            return self.source[offset : offset + size]
        self.source.seek(offset)
        return self.source.read(size)


def _elf(file: _File, head: bytes) -> Binary:
    ei_class, ei_data = head[4], head[5]
    if ei_class not in (1, 2) or ei_data not in (1, 2):
        return UNKNOWN
    end, bits = ("<" if ei_data == 1 else ">"), 32 * ei_class
    (e_machine,) = struct.unpack_from(end + "H", head, 18)
    header = Binary("elf", ELF_MACHINES.get(e_machine, f"e_machine {e_machine}"), bits, ei_data == 1)
    try:
        sections = _sections(file, head, end, bits)
        contents = _contents(file, sections)
        return header._replace(versions=_verneed(contents, end, sections),
                               needed=_needed(contents, end, bits, sections))
    except _PARSE_ERRORS:
        return header


class _Section(NamedTuple):
    type: int
    offset: int
    size: int
    link: int
    info: int


def _sections(file: _File, head: bytes, end: str, bits: int) -> list[_Section]:
    # e_shoff, e_shentsize, e_shnum at these offsets of Elf32_Ehdr / Elf64_Ehdr.
    shoff_fmt, shoff_at, shent_at = ("I", 32, 46) if bits == 32 else ("Q", 40, 58)
    (shoff,) = struct.unpack_from(end + shoff_fmt, head, shoff_at)
    shentsize, shnum = struct.unpack_from(end + "HH", head, shent_at)
    # Elf32_Shdr / Elf64_Shdr: name, type, flags, addr, offset, size, link, info, ...
    fmt = end + ("IIIIIIII" if bits == 32 else "IIQQQQII")
    count = shnum if shoff else 0
    table = file.at(shoff, (count - 1) * shentsize + struct.calcsize(fmt)) if count else b""
    sections = []
    for i in range(count):
        _, sh_type, _, _, offset, size, link, info = struct.unpack_from(fmt, table, i * shentsize)
        sections.append(_Section(sh_type, offset, size, link, info))
    return sections


def _contents(file: _File, sections: list[_Section]) -> dict[int, bytes]:
    """The bytes of the version-needs and dynamic sections and of the string tables they name, by
    section number, read in file order (a stream is then read forward, once)."""
    wanted = {i for i, s in enumerate(sections) if s.type in (SHT_GNU_VERNEED, SHT_DYNAMIC)}
    wanted |= {sections[i].link for i in wanted if sections[i].link < len(sections)}
    return {i: file.at(sections[i].offset, sections[i].size) for i in sorted(wanted, key=lambda i: sections[i].offset)}


def _string(table: bytes, index: int) -> str:
    if not 0 <= index < len(table):
        raise ValueError("string index outside its table")
    return table[index : table.index(b"\0", index)].decode("ascii", errors="replace")


def _verneed(contents: dict[int, bytes], end: str, sections: list[_Section]) -> tuple[str, ...]:
    names: list[str] = []
    for number, sec in enumerate(sections):
        if sec.type != SHT_GNU_VERNEED:
            continue
        data, strings, at = contents[number], contents[sec.link], 0
        for _ in range(sec.info):  # Elf_Verneed: vn_version, vn_cnt, vn_file, vn_aux, vn_next
            _, count, _, aux, nxt = struct.unpack_from(end + "HHIII", data, at)
            vna = at + aux
            for _ in range(count):  # Elf_Vernaux: vna_hash, vna_flags, vna_other, vna_name, vna_next
                _, _, _, name, vna_next = struct.unpack_from(end + "IHHII", data, vna)
                names.append(_string(strings, name))
                if not vna_next:
                    break
                vna += vna_next
            if not nxt:
                break
            at += nxt
    return tuple(dict.fromkeys(names))


def _needed(contents: dict[int, bytes], end: str, bits: int, sections: list[_Section]) -> tuple[str, ...]:
    fmt = end + ("iI" if bits == 32 else "qQ")  # Elf_Dyn: d_tag, d_val
    size = struct.calcsize(fmt)
    needed: list[str] = []
    for number, sec in enumerate(sections):
        if sec.type != SHT_DYNAMIC:
            continue
        data = contents[number]
        for at in range(0, len(data) - size + 1, size):
            tag, value = struct.unpack_from(fmt, data, at)
            if tag == DT_NULL:
                break
            if tag == DT_NEEDED:
                needed.append(_string(contents[sec.link], value))
    return tuple(needed)


def _macho_thin(head: bytes, end: str) -> Binary:
    cputype, _, filetype = struct.unpack_from(end + "iII", head, 4)  # mach_header after magic
    return Binary("mach-o", _cpu(cputype), kind=_MACHO_FILETYPES.get(filetype, ""))


def _macho_fat(head: bytes, end: str, entry_size: int) -> Binary:
    (count,) = struct.unpack_from(end + "I", head, 4)  # fat_header.nfat_arch
    if not 0 < count <= _FAT_MAX_ARCHES:  # so the fat_arch entries are all in the head
        return UNKNOWN
    cpus = [struct.unpack_from(end + "i", head, 8 + i * entry_size)[0] for i in range(count)]
    return Binary("mach-o", ", ".join(_cpu(c) for c in cpus), kind="universal")


def _cpu(cputype: int) -> str:
    return MACHO_CPUS.get(cputype, f"cputype {cputype:#x}")


def _pe(file: _File, head: bytes) -> Binary:
    (pe_at,) = struct.unpack_from("<I", head, 0x3C)  # e_lfanew
    pe = file.at(pe_at, 24)  # signature and COFF file header
    if pe[:4] != b"PE\0\0":
        return UNKNOWN  # an MS-DOS program, or not a program at all
    machine, _, _, _, _, _, characteristics = struct.unpack_from("<HHIIIHH", pe, 4)
    kind = "dll" if characteristics & 0x2000 else "executable"  # IMAGE_FILE_DLL
    return Binary("pe", PE_MACHINES.get(machine, f"machine {machine:#x}"), kind=kind)
