"""Writer of minimal, valid ELF64 little-endian shared objects (ET_DYN) for tests.

The output has exactly what tools inspecting a manylinux extension module look at:

* an ELF header with ``e_machine`` set (System V gABI, "ELF Header"),
* PT_LOAD + PT_DYNAMIC program headers, with file offset == virtual address,
* ``.dynstr``, ``.gnu.version_r`` (SHT_GNU_verneed: one Elf64_Verneed for libc.so.6
  followed by one Elf64_Vernaux per GLIBC_x.y, as in the LSB "Symbol Versioning"
  chapter), ``.dynamic`` (DT_NEEDED, DT_SONAME, DT_STRTAB, DT_STRSZ, DT_VERNEED,
  DT_VERNEEDNUM, DT_NULL) and ``.shstrtab`` with the section header table after them.

``readelf -h -d -V`` and ``objdump -p`` read the result without warnings. No symbols or
code: nothing here is meant to be loaded, only inspected.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

__all__ = ["EM_AARCH64", "EM_X86_64", "MACHINES", "elf_hash", "make_elf"]

EM_X86_64 = 62
EM_AARCH64 = 183
MACHINES: dict[str, int] = {"x86_64": EM_X86_64, "aarch64": EM_AARCH64}

# e_type / p_type / sh_type / d_tag constants (gABI; GNU extensions from elf.h).
ET_DYN = 3
PT_LOAD, PT_DYNAMIC = 1, 2
PF_W, PF_R = 2, 4
SHT_STRTAB, SHT_DYNAMIC, SHT_GNU_VERNEED = 3, 6, 0x6FFFFFFE
SHF_WRITE, SHF_ALLOC = 1, 2
DT_NULL, DT_NEEDED, DT_STRTAB, DT_STRSZ, DT_SONAME = 0, 1, 5, 10, 14
DT_VERNEED, DT_VERNEEDNUM = 0x6FFFFFFE, 0x6FFFFFFF

EHDR_SIZE, PHDR_SIZE, SHDR_SIZE = 64, 56, 64  # sizeof(Elf64_Ehdr/Phdr/Shdr)
VERNEED_SIZE = VERNAUX_SIZE = 16  # sizeof(Elf64_Verneed), sizeof(Elf64_Vernaux)
DYN_SIZE = 16  # sizeof(Elf64_Dyn)


def elf_hash(name: str | bytes) -> int:
    """The SysV ELF hash (gABI "Hash Table"), stored in ``Vernaux.vna_hash``."""
    h = 0
    for c in name.encode() if isinstance(name, str) else name:
        h = ((h << 4) + c) & 0xFFFFFFFF
        g = h & 0xF0000000
        if g:
            h ^= g >> 24
        h &= ~g & 0xFFFFFFFF
    return h


class _StrTab:
    """A string table: starts with NUL, each string NUL-terminated, deduplicated."""

    def __init__(self) -> None:
        self.data = bytearray(b"\0")
        self._index: dict[str, int] = {"": 0}

    def add(self, s: str) -> int:
        if s not in self._index:
            self._index[s] = len(self.data)
            self.data += s.encode() + b"\0"
        return self._index[s]


def _align(n: int, a: int) -> int:
    return (n + a - 1) & ~(a - 1)


def make_elf(machine: str, glibc_versions: Sequence[str] = (), soname: str | None = None) -> bytes:
    """Return the bytes of an ELF64 LE shared object for ``machine`` ("x86_64"/"aarch64")
    needing libc.so.6 and, if given, the symbol versions ``glibc_versions`` from it."""
    if machine not in MACHINES:
        raise ValueError(f"unknown machine {machine!r}; expected one of {sorted(MACHINES)}")
    versions = list(dict.fromkeys(glibc_versions))  # dedupe, keep order
    for v in versions:
        if not v.startswith("GLIBC_"):
            raise ValueError(f"not a glibc version name: {v!r}")

    dynstr = _StrTab()
    libc = dynstr.add("libc.so.6")
    soname_off = dynstr.add(soname) if soname else None
    names = [dynstr.add(v) for v in versions]

    # .gnu.version_r: Elf64_Verneed {vn_version, vn_cnt, vn_file, vn_aux, vn_next}
    # then Elf64_Vernaux {vna_hash, vna_flags, vna_other, vna_name, vna_next} each.
    verneed = b""
    if versions:
        verneed = struct.pack("<HHIII", 1, len(versions), libc, VERNEED_SIZE, 0)
        for i, (v, off) in enumerate(zip(versions, names, strict=True)):
            nxt = VERNAUX_SIZE if i + 1 < len(versions) else 0
            # vna_other is the version index used by .gnu.version; 0/1 are reserved.
            verneed += struct.pack("<IHHII", elf_hash(v), 0, i + 2, off, nxt)

    # File layout (offset == vaddr): Ehdr, 2 Phdrs, .dynstr, .gnu.version_r, .dynamic,
    # .shstrtab, section header table.
    phnum = 2
    dynstr_off = EHDR_SIZE + phnum * PHDR_SIZE
    verneed_off = _align(dynstr_off + len(dynstr.data), 8)

    dyn: list[tuple[int, int]] = [(DT_NEEDED, libc)]
    if soname_off is not None:
        dyn.append((DT_SONAME, soname_off))
    dyn += [(DT_STRTAB, dynstr_off), (DT_STRSZ, len(dynstr.data))]
    if versions:
        dyn += [(DT_VERNEED, verneed_off), (DT_VERNEEDNUM, 1)]
    dyn.append((DT_NULL, 0))
    dynamic = b"".join(struct.pack("<qQ", tag, val) for tag, val in dyn)  # Elf64_Dyn
    dynamic_off = _align(verneed_off + len(verneed), 8)
    load_end = dynamic_off + len(dynamic)

    shstrtab = _StrTab()
    # (name, sh_type, sh_flags, offset, data, sh_link, sh_info, sh_addralign, sh_entsize)
    sections: list[tuple[str, int, int, int, bytes, int, int, int, int]] = [
        (".dynstr", SHT_STRTAB, SHF_ALLOC, dynstr_off, bytes(dynstr.data), 0, 0, 1, 0),
    ]
    if versions:  # sh_link -> .dynstr (index 1), sh_info = number of Verneed entries
        sections.append(
            (".gnu.version_r", SHT_GNU_VERNEED, SHF_ALLOC, verneed_off, verneed, 1, 1, 8, 0)
        )
    sections.append(
        (".dynamic", SHT_DYNAMIC, SHF_WRITE | SHF_ALLOC, dynamic_off, dynamic, 1, 0, 8, DYN_SIZE)
    )
    shstr_name = shstrtab.add(".shstrtab")
    name_offs = [shstrtab.add(s[0]) for s in sections]
    shstrtab_off = load_end
    shoff = _align(shstrtab_off + len(shstrtab.data), 8)
    shnum = len(sections) + 2  # SHN_UNDEF entry + sections + .shstrtab

    out = bytearray(shoff + shnum * SHDR_SIZE)
    # fmt: off
    # e_ident: magic, ELFCLASS64=2, ELFDATA2LSB=1, EV_CURRENT=1, ELFOSABI_SYSV=0, padding.
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    struct.pack_into(
        "<16sHHIQQQIHHHHHH", out, 0,
        ident, ET_DYN, MACHINES[machine], 1,  # e_ident, e_type, e_machine, e_version
        0, EHDR_SIZE, shoff, 0,               # e_entry, e_phoff, e_shoff, e_flags
        EHDR_SIZE, PHDR_SIZE, phnum,          # e_ehsize, e_phentsize, e_phnum
        SHDR_SIZE, shnum, shnum - 1,          # e_shentsize, e_shnum, e_shstrndx (last)
    )
    # Elf64_Phdr {p_type, p_flags, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_align}
    struct.pack_into("<IIQQQQQQ", out, EHDR_SIZE, PT_LOAD, PF_R | PF_W,
                     0, 0, 0, load_end, load_end, 0x1000)
    struct.pack_into("<IIQQQQQQ", out, EHDR_SIZE + PHDR_SIZE, PT_DYNAMIC, PF_R | PF_W,
                     dynamic_off, dynamic_off, dynamic_off, len(dynamic), len(dynamic), 8)
    # fmt: on

    sections.append((".shstrtab", SHT_STRTAB, 0, shstrtab_off, bytes(shstrtab.data), 0, 0, 1, 0))
    name_offs.append(shstr_name)
    for i, (sec, name_off) in enumerate(zip(sections, name_offs, strict=True), start=1):
        _, sh_type, flags, off, data, link, info, align, entsize = sec
        out[off : off + len(data)] = data
        addr = off if flags & SHF_ALLOC else 0
        # Elf64_Shdr {sh_name, sh_type, sh_flags, sh_addr, sh_offset, sh_size,
        #             sh_link, sh_info, sh_addralign, sh_entsize}; entry 0 stays zero.
        shdr = (name_off, sh_type, flags, addr, off, len(data), link, info, align, entsize)
        struct.pack_into("<IIQQQQIIQQ", out, shoff + i * SHDR_SIZE, *shdr)
    return bytes(out)
