"""A package (a .zip) read once through its central directory: nothing is extracted."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import NamedTuple

from lpack.errors import LpackError


class Entry(NamedTuple):
    name: str
    size: int
    compressed_size: int
    mode: int

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
            entries = tuple(
                Entry(i.filename, i.file_size, i.compress_size, stat.S_IMODE(i.external_attr >> 16))
                for i in zf.infolist()
            )
    except (OSError, zipfile.BadZipFile) as exc:
        raise LpackError(f"{path}: not a readable zip file ({exc}); rebuild it or check the path") from exc
    return PackageIndex(path, path.stat().st_size, entries)


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
    """What the package rules look at: one artifact and the layers it is deployed with."""

    package: PackageIndex
    kind: str  # "function" or "layer"
    layers: tuple[PackageIndex, ...] = ()
    layer_count: int = 0  # layers attached, including ones lpack did not build
    upload: str = "direct"  # "direct" (50 MB zipped applies) or "s3"
    function: str | None = None
