"""``--slim``: leave out of the dependencies only what is provably unneeded at run time.

What goes: the files LP143 counts as tests and LP145 as documentation (the same definitions,
from ``lpack.rules.weight``), ``__pycache__`` and an ``x.pyc`` beside its ``x.py`` (LP144's),
and ``*.pyi`` stubs (read by type checkers, never imported). Every ``*.dist-info`` stays; its
RECORD loses the lines of the files left out, so ``importlib.metadata`` and pip agree with the
package (serverless-python-requirements #441: their slim broke ``importlib.metadata``).

ELF shared libraries lose what only debuggers read with a real ``strip --strip-unneeded`` (the
debug sections and the static symbol table ``.symtab``; what Debian's dh_strip does to shared
libraries: ``--strip-debug`` alone left pyarrow's 100 MB of libraries as they were) only when the
result is proved to load the same: it still parses as ELF for the same machine, and every section
the loader maps (``SHF_ALLOC``: code, data, ``.dynsym``, ``.dynamic``, relocations...) has the very
bytes it had; then, when a Python of the target is installed, each top-level package holding a
stripped library is imported from the slim tree. Anything else keeps the original file
(serverless-python-requirements #318: their strip broke ``.so`` files).

Members are filtered, never copied and deleted: the wheel-copy path's members simply are not
written. The same members give the same result (strip is deterministic), so the zip is
byte-reproducible.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import struct
import subprocess
import tempfile
import zlib
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

from lpack.bundle import zipwriter
from lpack.core.targets import Target
from lpack.rules import weight
from lpack.rules._package import in_metadata

# A Python of the target (its path), or None: the import check is then skipped.
FindPython = Callable[[Target], "str | None"]
IMPORT_TIMEOUT_S = 300
_NO_PACKAGE = ("bin", "__pycache__")


class Saved(NamedTuple):
    """What ``--slim`` left out of one distribution (or top-level folder no RECORD owns)."""

    package: str
    files: int
    size: int  # bytes unzipped
    stripped: int = 0  # of which debug sections stripped from shared libraries

    def as_dict(self) -> dict[str, object]:
        return {"package": self.package, "files": self.files, "saved_bytes": self.size,
                "stripped_bytes": self.stripped}


class Slimmed(NamedTuple):
    members: list[zipwriter.Member]
    saved: tuple[Saved, ...]  # by package, largest first
    kept: tuple[str, ...] = ()  # shared libraries kept as they were, and why


def reason(name: str, pure_docs: set[str], sources: frozenset[str]) -> str | None:
    """Why ``name`` (a dependency file) is left out, or None to keep it."""
    if in_metadata(name):
        return None
    if weight.test_file(name):
        return "tests"
    if weight.cache_file(name) or (name.endswith(".pyc") and name[:-1] in sources):
        return "caches"
    if name.endswith(".pyi"):
        return "stubs"
    if weight.doc_file(name, pure_docs):
        return "docs"
    return None


def removable(names: Sequence[str]) -> dict[str, str]:
    """Of file ``names`` (relative to site-packages), those ``--slim`` leaves out, and why."""
    pure, _code = weight.docs_folders(names)
    sources = frozenset(n for n in names if n.endswith(".py"))
    return {n: why for n in names if (why := reason(n, pure, sources)) is not None}


def slim(members: list[zipwriter.Member], target: Target, find_python: FindPython | None = None,
         strip: bool = True) -> Slimmed:
    """The dependency ``members`` without what is provably unneeded, RECORDs fixed, and
    shared libraries stripped where proved safe."""
    files = [m.name for m in members if not m.name.endswith("/")]
    gone = removable(files)
    owners = _owners(members)
    kept = [m for m in members if m.name not in gone]
    kept = [_fixed_record(m, gone) if m.name.endswith(".dist-info/RECORD") else m for m in kept]
    saved: dict[str, list[int]] = {}
    for m in members:
        if m.name in gone:
            _add(saved, _owner(m.name, owners), m.size, 0)
    notes: list[str] = []
    if strip:
        kept, notes = _stripped(kept, target, find_python, saved, owners)
    ordered = sorted((Saved(p, n, size, s) for p, (n, size, s) in saved.items()), key=lambda s: (-s.size, s.package))
    return Slimmed(kept, tuple(ordered), tuple(notes))


def _add(saved: dict[str, list[int]], package: str, size: int, stripped: int) -> None:
    row = saved.setdefault(package, [0, 0, 0])
    row[0] += 1 if not stripped else 0
    row[1] += size
    row[2] += stripped


def _owner(name: str, owners: dict[str, str]) -> str:
    return owners.get(name) or name.split("/", 1)[0]


# -- members' bytes ---------------------------------------------------------------------------

def read(member: zipwriter.Member) -> bytes:
    """The uncompressed bytes of ``member``."""
    raw = member.data
    if raw is None:
        assert member.source is not None
        with open(member.source, "rb") as handle:
            handle.seek(member.offset)
            raw = handle.read(member.compressed_size)
    return zlib.decompress(raw, -15) if member.method == zipwriter.DEFLATED else raw


def _record_rows(data: bytes) -> list[tuple[str, str]]:
    """(path, the line as written) of each line of a RECORD (CSV: a path may be quoted)."""
    rows = []
    for line in data.decode("utf-8").splitlines(keepends=True):
        fields = next(csv.reader(io.StringIO(line)), [])
        rows.append((fields[0] if fields else "", line))
    return rows


def record_paths(data: bytes) -> list[str]:
    """The paths a RECORD's bytes list."""
    return [path for path, _line in _record_rows(data) if path]


def _owners(members: Iterable[zipwriter.Member]) -> dict[str, str]:
    """Each file a RECORD lists -> its distribution's name (``numpy-2.1.0.dist-info`` -> numpy)."""
    owners: dict[str, str] = {}
    for m in members:
        if m.name.endswith(".dist-info/RECORD") and m.name.count("/") == 1:
            dist = m.name.split("/", 1)[0].removesuffix(".dist-info").split("-", 1)[0]
            for path, _line in _record_rows(read(m)):
                owners.setdefault(path, dist)
    return owners


def _fixed_record(member: zipwriter.Member, gone: dict[str, str]) -> zipwriter.Member:
    rows = _record_rows(read(member))
    kept = [line for path, line in rows if path not in gone]
    if len(kept) == len(rows):
        return member
    return zipwriter.compress(member.name, "".join(kept).encode("utf-8"), member.mode)


# -- shared libraries: strip --strip-unneeded, proved --------------------------------------------

def shared_library(name: str) -> bool:
    base = name.rsplit("/", 1)[-1]
    return base.endswith(".so") or ".so." in base


def strip_tool(target: Target) -> list[str] | None:
    """The command that strips debug sections from the target's ELF files here, or None."""
    import platform

    host = {"amd64": "x86_64", "arm64": "aarch64"}.get(platform.machine().lower(), platform.machine().lower())
    wanted = "aarch64" if target.architecture == "arm64" else "x86_64"
    names = ["strip"] if host == wanted else []
    names += [f"{wanted}-linux-gnu-strip", "llvm-strip"]
    found = next((shutil.which(n) for n in names if shutil.which(n)), None)
    return None if found is None else [found, "--strip-unneeded"]


def tools(target: Target, find_python: FindPython | None) -> list[str]:
    """What decides a slim zip's bytes besides its members: the strip (its version line) and
    whether a Python of the target checks the imports (a remote cache's key holds them)."""
    tool = strip_tool(target)
    version = ""
    if tool is not None:
        done = subprocess.run([tool[0], "--version"], capture_output=True, text=True, check=False)
        version = " ".join(line.strip() for line in done.stdout.splitlines()[:3])
    python = find_python(target) if find_python is not None else None
    name = os.path.basename(tool[0]) if tool is not None else "no strip"
    return [name, version, "import check" if python else "no import check"]


class _Candidate(NamedTuple):
    at: int  # its place in the members
    member: zipwriter.Member
    stripped: zipwriter.Member


def _stripped(members: list[zipwriter.Member], target: Target, find_python: FindPython | None,
              saved: dict[str, list[int]], owners: dict[str, str]) -> tuple[list[zipwriter.Member], list[str]]:
    tool = strip_tool(target)
    libraries = [(i, m) for i, m in enumerate(members) if shared_library(m.name) and m.size]
    if tool is None or not libraries:
        return members, [f"no strip for {target.architecture} here: shared libraries kept"] if libraries else []
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="lpack-slim-") as work:
        candidates = [c for i, m in libraries if (c := _strip_one(tool, i, m, Path(work), notes)) is not None]
        result = list(members)
        for c in candidates:
            result[c.at] = c.stripped
        failed = _import_failures(result, members, candidates, target, find_python, Path(work))
    packages = set(top_level_packages(m.name for m in result))
    for c in candidates:  # a failed package's libraries go back, and those of folders like numpy.libs/
        top = c.member.name.split("/", 1)[0]
        if top in failed or (failed and top not in packages):
            result[c.at] = c.member
            why = failed.get(top) or "; ".join(f"{p}: {e}" for p, e in sorted(failed.items()))
            notes.append(f"{c.member.name}: kept unstripped: an import failed after the strip ({why})")
        else:
            _add(saved, _owner(c.member.name, owners), c.member.size - c.stripped.size, c.member.size - c.stripped.size)
    return result, notes


def _strip_one(tool: list[str], index: int, member: zipwriter.Member, work: Path,
               notes: list[str]) -> _Candidate | None:
    original = read(member)
    if not original.startswith(b"\x7fELF"):
        return None
    source, out = work / "in.so", work / "out.so"
    source.write_bytes(original)
    out.unlink(missing_ok=True)
    done = subprocess.run([*tool, "-o", str(out), str(source)], capture_output=True, check=False)
    stripped = out.read_bytes() if done.returncode == 0 and out.is_file() else b""
    if not stripped or len(stripped) >= len(original):
        return None  # nothing to strip, or strip refused it: kept as it is
    if not same_load(original, stripped):
        notes.append(f"{member.name}: kept unstripped: strip changed what the loader maps")
        return None
    return _Candidate(index, member, zipwriter.compress(member.name, stripped, member.mode))


_SHF_ALLOC, _SHT_NOBITS = 2, 8


class LoadImage(NamedTuple):
    """What the dynamic loader reads of an ELF file: its machine, its program headers with the
    file bytes each maps, and (to name them) its SHF_ALLOC sections' bytes."""

    machine: int
    segments: tuple[tuple[tuple[int, ...], bytes], ...]
    sections: dict[str, bytes]


def load_image(data: bytes) -> LoadImage | None:
    """The load image of an ELF file, or None when it does not parse."""
    try:
        if data[:4] != b"\x7fELF" or data[4] not in (1, 2) or data[5] not in (1, 2):
            return None
        end = "<" if data[5] == 1 else ">"
        wide = data[4] == 2
        head = struct.Struct(end + ("HHIQQQIHHHHHH" if wide else "HHIIIIIHHHHHH"))
        (_t, machine, _v, _e, phoff, shoff, _f, _eh, phentsize, phnum, shentsize, shnum, shstrndx) = \
            head.unpack_from(data, 16)
        program = struct.Struct(end + ("IIQQQQQQ" if wide else "IIIIIIII"))
        headers = [program.unpack_from(data, phoff + i * phentsize) for i in range(phnum)]
        # (type, flags, offset, vaddr, paddr, filesz, memsz, align) in 64-bit order; 32-bit puts flags 7th
        offsets = [(h[2], h[5]) if wide else (h[1], h[4]) for h in headers]
        mapped = _without_section_table(data, wide)  # the first segment maps the ELF header too
        segments = tuple((tuple(h), mapped[offset:offset + size]) for h, (offset, size) in zip(headers, offsets))
        section = struct.Struct(end + ("IIQQQQIIQQ" if wide else "IIIIIIIIII"))
        rows = [section.unpack_from(data, shoff + i * shentsize) for i in range(shnum)]
        names = rows[shstrndx]
        strings = data[names[4]:names[4] + names[5]]
        found: dict[str, bytes] = {}
        for name, kind, flags, _addr, offset, size, *_rest in rows:
            if flags & _SHF_ALLOC:
                label = strings[name:strings.index(b"\0", name)].decode("utf-8", "replace")
                found[label] = str(size).encode() if kind == _SHT_NOBITS else data[offset:offset + size]
        return LoadImage(machine, segments, found)
    except (struct.error, ValueError, IndexError):
        return None


def _without_section_table(data: bytes, wide: bool) -> bytes:
    """``data`` with the ELF header's section-table fields (e_shoff; e_shentsize, e_shnum,
    e_shstrndx) zeroed: strip rewrites them, and the loader never reads them."""
    shoff, shfields = ((40, 48), (58, 64)) if wide else ((32, 36), (46, 52))
    image = bytearray(data[:max(shoff[1], shfields[1])])
    image[shoff[0]:shoff[1]] = bytes(shoff[1] - shoff[0])
    image[shfields[0]:shfields[1]] = bytes(shfields[1] - shfields[0])
    return bytes(image) + data[len(image):]


def same_load(original: bytes, stripped: bytes) -> bool:
    """Whether ``stripped`` parses as ELF for the same machine as ``original``, with the same
    program headers mapping the same bytes (what the loader reads: code, data, the dynamic
    symbols and relocations, at the same addresses and alignment) and every SHF_ALLOC section
    the same. A file that strip had to lay out anew (one patchelf edited) fails: its segments move."""
    before, after = load_image(original), load_image(stripped)
    return before is not None and after is not None and before == after and bool(before.segments)


def top_level_packages(names: Iterable[str]) -> list[str]:
    """The importable top-level names among file ``names``: packages (``x/__init__.py``) and
    modules (``x.py``, ``x.cpython-312-x86_64-linux-gnu.so``) at the root."""
    found = set()
    for name in names:
        first, _, rest = name.partition("/")
        if rest == "__init__.py" and first.isidentifier():
            found.add(first)
        elif not rest and first.endswith((".py", ".so")) and first.split(".", 1)[0].isidentifier():
            found.add(first.split(".", 1)[0])
    return sorted(found - set(_NO_PACKAGE))


def _import_failures(slimmed: list[zipwriter.Member], original: list[zipwriter.Member], candidates: list[_Candidate],
                     target: Target, find_python: FindPython | None, work: Path) -> dict[str, str]:
    """Top-level folder -> why importing it from the slim tree failed where the original imports
    (nothing when no Python of the target is installed: the ELF proof stands alone)."""
    python = find_python(target) if find_python is not None and candidates else None
    if python is None:
        return {}
    touched = {c.member.name.split("/", 1)[0] for c in candidates}
    packages = top_level_packages(m.name for m in slimmed)
    if touched <= set(packages):  # else a library outside packages (numpy.libs/): any package may load it
        packages = [p for p in packages if p in touched]
    failed = import_errors(python, _unpacked(slimmed, work / "slim"), packages)
    if failed:  # a package that fails without strip too fails for another reason: not strip's
        before = import_errors(python, _unpacked(original, work / "original"), list(failed))
        failed = {p: why for p, why in failed.items() if p not in before}
    return failed


def _unpacked(members: list[zipwriter.Member], tree: Path) -> Path:
    for m in members:
        path = tree / m.name
        if m.name.endswith("/"):
            path.mkdir(parents=True, exist_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(read(m))
        os.chmod(path, m.mode)
    return tree


_IMPORT_ALL = """\
import importlib, json, sys
sys.path.insert(0, sys.argv[1])
failed = {}
for name in sys.argv[2:]:
    try:
        importlib.import_module(name)
    except BaseException as exc:
        failed[name] = f"{type(exc).__name__}: {exc}"[:300]
print(json.dumps(failed))
"""


def import_errors(python: str, tree: Path, packages: list[str]) -> dict[str, str]:
    """Each of ``packages`` that does not import from ``tree`` with ``python`` (isolated:
    ``-I``, the tree first on sys.path), and why."""
    import json

    if not packages:
        return {}
    try:
        done = subprocess.run([python, "-I", "-c", _IMPORT_ALL, str(tree), *packages], capture_output=True,
                              text=True, timeout=IMPORT_TIMEOUT_S, check=False, cwd=tree)
        answer = json.loads(done.stdout.strip().splitlines()[-1]) if done.stdout.strip() else None
    except (OSError, subprocess.TimeoutExpired, ValueError) as exc:
        return dict.fromkeys(packages, f"the import check could not run: {exc}")
    if not isinstance(answer, dict):
        return dict.fromkeys(packages, f"the import check failed: {done.stderr.strip()[-300:]}")
    return {str(k): str(v) for k, v in answer.items()}


# -- the cache's entry of a slim result (lpack.bundle.cache SLIM) --------------------------------

def write_entry(folder: Path, slimmed: Slimmed, tools_used: list[str]) -> None:
    """Write ``slimmed`` as a cache entry: its members' bytes as they are (``deps.zip``) and
    what was left out and kept (``meta.json``)."""
    import json

    from lpack.bundle.cache import CACHE_TIP
    from lpack.core.files import atomic_write_text

    zipwriter.atomic_write_zip(folder / "deps.zip", slimmed.members, durable=False, tip=CACHE_TIP)
    meta = {"tools": tools_used, "saved": [list(s) for s in slimmed.saved], "kept": list(slimmed.kept)}
    atomic_write_text(folder / "meta.json", json.dumps(meta, indent=2) + "\n", durable=False, tip=CACHE_TIP)


def from_entry(entry: Path) -> Slimmed:
    """The slim result a cache entry holds (``write_entry``)."""
    import json

    meta = json.loads((entry / "meta.json").read_text(encoding="utf-8"))
    saved = tuple(Saved(str(p), int(n), int(size), int(s)) for p, n, size, s in meta["saved"])
    return Slimmed(zipwriter.read_members(entry / "deps.zip"), saved, tuple(str(k) for k in meta["kept"]))
