"""A package (a .zip) read once through its central directory: nothing is extracted."""

from __future__ import annotations

import os
import stat
import zlib
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from lpack.core.errors import LpackError
from lpack.core.findings import Finding, Location

T = TypeVar("T")


class Entry(NamedTuple):
    name: str
    size: int
    compressed_size: int
    mode: int  # permission bits (0 when the zip recorded no Unix mode)
    unix: bool = True  # the zip recorded a Unix mode for this entry (zips made on Windows do not)
    symlink: bool = False
    offset: int = 0  # of its local header: reading entries in this order reads the file once, forward
    method: int = 8  # compression: 0 stored, 8 deflated (others are read through zipfile)
    crc: int = 0

    @property
    def is_dir(self) -> bool:
        return self.name.endswith("/")

    @property
    def top_level(self) -> str:
        return self.name.split("/", 1)[0]


class PackageIndex(NamedTuple):
    path: Path
    size_zipped: int
    entries: tuple[Entry, ...]

    @property
    def size_unzipped(self) -> int:
        return sum(e.size for e in self.entries)

    @property
    def files(self) -> int:
        return sum(1 for e in self.entries if not e.is_dir)


def read_package(path: Path) -> PackageIndex:
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            entries = tuple(_entry(i) for i in zf.infolist())
    except (OSError, zipfile.BadZipFile, zipfile.LargeZipFile, ValueError) as exc:
        raise LpackError(f"{path}: not a readable zip file ({exc}); rebuild it or check the path") from exc
    return PackageIndex(path, path.stat().st_size, entries)


def _entry(info: Any) -> Entry:
    unix_mode = info.external_attr >> 16
    unix = info.create_system == 3 and unix_mode != 0
    return Entry(info.filename, info.file_size, info.compress_size, stat.S_IMODE(unix_mode), unix,
                 unix and stat.S_ISLNK(unix_mode), info.header_offset, info.compress_type, info.CRC)


def index_directory(root: Path, files: list[tuple[str, Path]]) -> PackageIndex:
    """A source folder seen as a package: the selected files, as they would be zipped."""
    entries = []
    for rel, path in files:
        info = path.stat()
        entries.append(Entry(rel, info.st_size, info.st_size, stat.S_IMODE(info.st_mode)))
    return PackageIndex(root, 0, tuple(entries))


class PackageReader:
    """The contents of a package's entries, each decompressed at most once, on first request."""

    def __init__(self, index: PackageIndex) -> None:
        self.index = index
        self._zip: Any = None
        self._cache: dict[str, bytes] = {}
        self._entries: dict[str, Entry] | None = None

    def read(self, name: str) -> bytes:
        if name not in self._cache and self.index.path.is_dir():
            try:
                self._cache[name] = (self.index.path / name).read_bytes()
            except OSError as exc:
                raise LpackError(f"{self.index.path / name}: cannot read: {exc.strerror}") from exc
        entry = self._by_name().get(name) if name not in self._cache else None
        if entry is not None and entry.method in (0, 8):  # the common case, without zipfile
            self._cache[name] = self._inflate(entry, self._raw([entry])[name])
        if name not in self._cache:
            import zipfile

            if self._zip is None:
                self._zip = zipfile.ZipFile(self.index.path)
            try:
                self._cache[name] = self._zip.read(name)
            except (OSError, zipfile.BadZipFile, ValueError, EOFError) as exc:
                raise LpackError(f"{self.index.path}: entry {name} cannot be read ({exc}); the zip is corrupt") from exc
        return self._cache[name]

    def map(self, func: Callable[[bytes], T], names: Sequence[str]) -> list[T]:
        """``func(contents)`` for each entry, in order: compressed bytes are read in one forward
        pass and inflated in parallel threads (zlib releases the GIL); contents are not kept, so
        a package of large binaries is never held in memory whole."""
        entries = self._by_name()
        simple = [n for n in names if n not in self._cache and n in entries and entries[n].method in (0, 8)
                  and not self.index.path.is_dir()]
        if len(simple) < 4:
            return [func(self.read(n)) for n in names]
        raw = self._raw(sorted((entries[n] for n in simple), key=lambda e: e.offset))
        from concurrent.futures import ThreadPoolExecutor

        def inflate(name: str) -> T:
            return func(self._inflate(entries[name], raw.pop(name)))

        with ThreadPoolExecutor(max_workers=(os.cpu_count() or 1)) as pool:
            done = dict(zip(simple, pool.map(inflate, simple)))
        return [done[n] if n in done else func(self.read(n)) for n in names]

    def _by_name(self) -> dict[str, Entry]:
        if self._entries is None:
            self._entries = {} if self.index.path.is_dir() else {e.name: e for e in self.index.entries}
        return self._entries

    def _inflate(self, entry: Entry, data: bytes) -> bytes:
        try:
            content = zlib.decompress(data, -15) if entry.method == 8 else data
        except zlib.error as exc:
            raise LpackError(f"{self.index.path}: entry {entry.name} cannot be inflated ({exc}); the zip is corrupt") from exc
        if zlib.crc32(content) != entry.crc or len(content) != entry.size:
            raise LpackError(f"{self.index.path}: entry {entry.name} is corrupt (CRC or size mismatch)")
        return content

    def _raw(self, entries: list[Entry]) -> dict[str, bytes]:
        raw: dict[str, bytes] = {}
        try:
            with open(self.index.path, "rb") as handle:
                for entry in entries:
                    handle.seek(entry.offset)
                    header = handle.read(30)
                    if len(header) < 30 or header[:4] != b"PK\x03\x04":
                        raise LpackError(f"{self.index.path}: entry {entry.name} has no local header; the zip is corrupt")
                    skip = int.from_bytes(header[26:28], "little") + int.from_bytes(header[28:30], "little")
                    handle.seek(skip, os.SEEK_CUR)
                    raw[entry.name] = handle.read(entry.compressed_size)
        except OSError as exc:
            raise LpackError(f"{self.index.path}: cannot read: {exc.strerror}") from exc
        return raw

    def text(self, name: str) -> str:
        return self.read(name).decode("utf-8", errors="replace")

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()
            self._zip = None


def largest_top_level(index: PackageIndex, strip: str = "", count: int = 8) -> list[tuple[str, int]]:
    """Unzipped bytes per top-level name (after ``strip``, e.g. ``python/``), largest first."""
    sizes: dict[str, int] = {}
    for entry in index.entries:
        if entry.is_dir:
            continue
        name = entry.name[len(strip):] if strip and entry.name.startswith(strip) else entry.name
        top = name.split("/", 1)[0]
        sizes[top] = sizes.get(top, 0) + entry.size
    return sorted(sizes.items(), key=lambda kv: (-kv[1], kv[0]))[:count]


def at_source_files(findings: list[Finding], sources: Callable[[], Iterable[tuple[str, Path]]]) -> list[Finding]:
    """Findings on a built zip's entries that are the unit's own source files point at those files
    (``app.py:3``, clickable in editors and CI logs), not into the gitignored ``dist/fn.zip``.
    ``sources`` gives (entry, file) pairs, e.g. a plan's ``packaged_files``; read only when needed."""
    if not any(f.location.entry for f in findings):
        return findings
    files = dict(sources())

    def moved(where: Location) -> Location:
        source = files.get(where.entry or "")
        return where if source is None else Location(display_path(source), None, where.line, where.column)

    return [f._replace(location=moved(f.location)) for f in findings]


def display_path(path: Path) -> str:
    """A path as findings and messages show it: relative to the working folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
