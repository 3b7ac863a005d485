"""A package (a .zip) read once through its central directory: nothing is extracted."""

from __future__ import annotations

import functools
import os
import stat
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, NamedTuple, TypeVar

from lpack.core.errors import LpackError
from lpack.core.findings import Finding, Location

T = TypeVar("T")

# Lambda unpacks at most this much (the function's unzipped-size quota): an entry declaring more is
# never inflated whole, so a 2 MB zip that declares a 2 GiB file cannot take gigabytes of memory.
READ_MAX_BYTES = 262_144_000
TEXT_MAX_BYTES = 16 << 20  # text a rule scans: larger files (a 2 GiB RECORD) are read to this size
_READABLE_METHODS = {0: "stored", 8: "deflated", 12: "bzip2", 14: "LZMA"}  # what zipfile inflates
_CHUNK = 1 << 20
_PARALLEL_MAX_BYTES = 32 << 20  # larger entries are inflated one at a time, not in every thread at once


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
    flags: int = 0  # general purpose bit flag: bit 0 set means encrypted

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
    for entry in entries:
        _check_readable(path, entry)
    return PackageIndex(path, path.stat().st_size, entries)


def _check_readable(path: Path, entry: Entry) -> None:
    """Lambda unzips neither encrypted entries nor exotic compression: say so before any rule reads."""
    if entry.flags & 1:
        raise LpackError(f"{path}: entry {entry.name} is encrypted; Lambda cannot unzip it: "
                         "rebuild the zip without a password")
    if entry.method not in _READABLE_METHODS:
        raise LpackError(f"{path}: entry {entry.name} uses compression method {entry.method}, which Lambda "
                         "cannot unzip: rebuild the zip with deflate (zip -r, or lpack build)")


def _entry(info: Any) -> Entry:
    unix_mode = info.external_attr >> 16
    unix = info.create_system == 3 and unix_mode != 0
    return Entry(info.filename, info.file_size, info.compress_size, stat.S_IMODE(unix_mode), unix,
                 unix and stat.S_ISLNK(unix_mode), info.header_offset, info.compress_type, info.CRC,
                 info.flag_bits)


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

    def read(self, name: str, limit: int | None = None) -> bytes:
        """The entry's contents; with ``limit``, only its first ``limit`` bytes (a .pyc's magic
        number, an ELF header), streamed so that no more is ever inflated. Whole reads are checked
        (CRC and size) and refused past ``READ_MAX_BYTES``."""
        if name in self._cache:
            return self._cache[name][:limit]
        if self.index.path.is_dir():
            if limit is None and (size := self.size(name)) > READ_MAX_BYTES:
                self._check_size(Entry(name, size, size, 0))
            return self._file(name, limit)
        entry = self._by_name().get(name)
        if entry is not None:
            _check_readable(self.index.path, entry)
        if limit is None and entry is not None:
            self._check_size(entry)
        if entry is not None and entry.method in (0, 8):  # the common case, without zipfile
            if limit is not None:
                return self._stream(entry, limit)
            self._cache[name] = self._inflate(entry, self._raw([entry])[name])
            return self._cache[name]
        content = self._zipfile_read(name, READ_MAX_BYTES if limit is None else limit)
        if limit is None:
            self._cache[name] = content
        return content

    def _file(self, name: str, limit: int | None) -> bytes:
        try:
            with open(self.index.path / name, "rb") as handle:
                content = handle.read(-1 if limit is None else limit)
        except OSError as exc:
            raise LpackError(f"{self.index.path / name}: cannot read: {exc.strerror}") from exc
        if limit is None:
            self._cache[name] = content
        return content

    @contextmanager
    def open(self, name: str) -> Iterator[IO[bytes]]:
        """The entry as a seekable stream, to read a few ranges of a large file (an ELF file's
        headers) without holding it: a zip entry is inflated in bounded blocks, forward, and never
        past its declared size; seeking back starts it again. Read errors say the zip is corrupt."""
        import lzma
        import zipfile

        entry = self._by_name().get(name)
        if entry is not None:
            _check_readable(self.index.path, entry)
        where = self.index.path / name if self.index.path.is_dir() else self.index.path
        try:
            if self.index.path.is_dir():
                with open(where, "rb") as handle:
                    yield handle
                return
            if self._zip is None:
                self._zip = zipfile.ZipFile(self.index.path)
            with self._zip.open(name) as member:
                yield member
        except OSError as exc:
            raise LpackError(f"{where}: cannot read: {exc.strerror or exc}") from exc
        except (zipfile.BadZipFile, EOFError, KeyError, RuntimeError, NotImplementedError, lzma.LZMAError,
                zlib.error) as exc:
            raise LpackError(f"{where}: entry {name} cannot be read ({exc}); the zip is corrupt") from exc

    def _check_size(self, entry: Entry) -> None:
        if entry.size > READ_MAX_BYTES:
            raise LpackError(f"{self.index.path}: entry {entry.name} declares {entry.size:,} bytes, more than "
                             f"Lambda unpacks ({READ_MAX_BYTES:,}); it is not read: leave it out of the package")

    def _zipfile_read(self, name: str, cap: int) -> bytes:
        """bzip2 and LZMA entries (and entries the index does not list), through zipfile, bounded."""
        import lzma
        import zipfile

        try:
            if self._zip is None:
                self._zip = zipfile.ZipFile(self.index.path)
            with self._zip.open(name) as member:
                return bytes(member.read(cap))
        except (OSError, zipfile.BadZipFile, ValueError, EOFError, KeyError, RuntimeError, NotImplementedError,
                lzma.LZMAError, zlib.error) as exc:
            raise LpackError(f"{self.index.path}: entry {name} cannot be read ({exc}); the zip is corrupt") from exc

    def map(self, func: Callable[[bytes], T], names: Sequence[str]) -> list[T]:
        """``func(contents)`` for each entry, in order: compressed bytes are read in one forward
        pass and inflated in parallel threads (zlib releases the GIL); contents are not kept, so
        a package of large binaries is never held in memory whole. Entries over
        ``_PARALLEL_MAX_BYTES`` are read one at a time, so threads never hold several at once."""
        entries = self._by_name()
        simple = [n for n in names if n not in self._cache and n in entries and entries[n].method in (0, 8)
                  and not entries[n].flags & 1 and entries[n].size <= _PARALLEL_MAX_BYTES
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
        """The whole entry, inflating at most one byte past its declared size: a size that lies is corrupt."""
        try:
            content = zlib.decompressobj(-15).decompress(data, entry.size + 1) if entry.method == 8 else data
        except zlib.error as exc:
            raise LpackError(f"{self.index.path}: entry {entry.name} cannot be inflated ({exc}); the zip is corrupt") from exc
        if len(content) > entry.size:
            raise LpackError(f"{self.index.path}: entry {entry.name} inflates past its declared size of "
                             f"{entry.size:,} bytes; the zip is corrupt")
        if zlib.crc32(content) != entry.crc or len(content) != entry.size:
            raise LpackError(f"{self.index.path}: entry {entry.name} is corrupt (CRC or size mismatch)")
        return content

    def _stream(self, entry: Entry, limit: int) -> bytes:
        """The first ``limit`` bytes of a stored or deflated entry, reading compressed data in blocks."""
        out = bytearray()
        inflater = zlib.decompressobj(-15)
        try:
            with open(self.index.path, "rb") as handle:
                left = self._seek_data(handle, entry)
                while left and len(out) < limit:
                    block = handle.read(min(_CHUNK, left))
                    if not block:
                        break
                    left -= len(block)
                    while block and len(out) < limit:
                        out += inflater.decompress(block, limit - len(out)) if entry.method == 8 else block
                        block = inflater.unconsumed_tail if entry.method == 8 else b""
        except OSError as exc:
            raise LpackError(f"{self.index.path}: cannot read: {exc.strerror}") from exc
        except zlib.error as exc:
            raise LpackError(f"{self.index.path}: entry {entry.name} cannot be inflated ({exc}); the zip is corrupt") from exc
        return bytes(out[:limit])

    def _seek_data(self, handle: Any, entry: Entry) -> int:
        """Position ``handle`` at the entry's compressed data; its compressed size."""
        handle.seek(entry.offset)
        header = handle.read(30)
        if len(header) < 30 or header[:4] != b"PK\x03\x04":
            raise LpackError(f"{self.index.path}: entry {entry.name} has no local header; the zip is corrupt")
        handle.seek(int.from_bytes(header[26:28], "little") + int.from_bytes(header[28:30], "little"), os.SEEK_CUR)
        return entry.compressed_size

    def _raw(self, entries: list[Entry]) -> dict[str, bytes]:
        raw: dict[str, bytes] = {}
        try:
            with open(self.index.path, "rb") as handle:
                for entry in entries:
                    raw[entry.name] = handle.read(self._seek_data(handle, entry))
        except OSError as exc:
            raise LpackError(f"{self.index.path}: cannot read: {exc.strerror}") from exc
        return raw

    def text(self, name: str, limit: int = TEXT_MAX_BYTES) -> str:
        """The entry as text, at most its first ``limit`` bytes (a 2 GiB RECORD is not scanned whole)."""
        return self.read(name, limit if self.size(name) > limit else None).decode("utf-8", errors="replace")

    def size(self, name: str) -> int:
        """The entry's size as the zip's directory (or the file system) gives it, without reading it."""
        entry = self._by_name().get(name)
        if entry is not None:
            return entry.size
        try:
            return (self.index.path / name).stat().st_size if self.index.path.is_dir() else 0
        except OSError:
            return 0

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
    return _displayed(str(path), os.getcwd())


@functools.lru_cache(maxsize=4096)
def _displayed(path: str, cwd: str) -> str:
    """`display_path`, worked out once per path and working folder (a build of 200 functions
    names each zip, configuration and requirements file several times: ~8 system calls each)."""
    try:
        return str(Path(path).resolve().relative_to(Path(cwd).resolve()))
    except ValueError:
        return path
