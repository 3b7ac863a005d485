"""A package (a .zip) read once through its central directory: nothing is extracted."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from lpack.errors import LpackError

if TYPE_CHECKING:
    from lpack.targets import Target


class Entry(NamedTuple):
    name: str
    size: int
    compressed_size: int
    mode: int  # permission bits (0 when the zip recorded no Unix mode)
    unix: bool = True  # the zip recorded a Unix mode for this entry (zips made on Windows do not)
    symlink: bool = False
    offset: int = 0  # of its local header: reading entries in this order reads the file once, forward

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
                 unix and stat.S_ISLNK(unix_mode), info.header_offset)


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

    def read(self, name: str) -> bytes:
        if name not in self._cache and self.index.path.is_dir():
            try:
                self._cache[name] = (self.index.path / name).read_bytes()
            except OSError as exc:
                raise LpackError(f"{self.index.path / name}: cannot read: {exc.strerror}") from exc
        if name not in self._cache:
            import zipfile

            if self._zip is None:
                self._zip = zipfile.ZipFile(self.index.path)
            try:
                self._cache[name] = self._zip.read(name)
            except (OSError, zipfile.BadZipFile, ValueError, EOFError) as exc:
                raise LpackError(f"{self.index.path}: entry {name} cannot be read ({exc}); the zip is corrupt") from exc
        return self._cache[name]

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


class PackageSubject(NamedTuple):
    """What the package and handler rules look at: one artifact, the layers it is deployed with,
    its target and handler. ``reader`` is None when only the central directory may be used
    (``lpack build`` after writing): rules that need contents then stay quiet."""

    package: PackageIndex
    kind: str  # "function" or "layer"
    layers: tuple[PackageIndex, ...] = ()
    layer_count: int = 0  # layers attached, including ones lpack did not build
    upload: str = "direct"  # "direct" (50 MB zipped applies) or "s3"
    function: str | None = None
    target: Target | None = None
    handler: str | None = None
    reader: PackageReader | None = None
    layer_readers: tuple[PackageReader, ...] = ()
    provided: frozenset[str] = frozenset()  # top-level import names the requirements will install
    is_source: bool = False  # ``package`` is a source folder, not a built zip
    described_layers: int = 0  # layers not in ``layers`` whose modules ``provided`` already lists

    @property
    def display(self) -> str:
        """How findings name this package: its path, relative to the working folder if inside."""
        return _display(self.package.path)

    def where(self, entry: str) -> str:
        """How findings name an entry: ``dist/fn.zip:pkg/mod.py`` inside a zip, ``src/pkg/mod.py``
        in a source folder (a file path, for editors, SARIF and inline ignores)."""
        if self.package.path.is_dir():
            return str(Path(self.display) / entry)
        return f"{self.display}:{entry}"


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
