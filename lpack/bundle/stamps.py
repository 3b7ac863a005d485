"""Stat stamps: a unit whose inputs are as they were when its zip was built is decided without
reading its sources, installing or writing anything (issue #23: a no-op build of 200 functions).

A stamp is kept in lpack's cache, one per unit, under a key of everything that shapes the zip or
its findings other than files: lpack's version, the unit's settings (all of them, canonical), the
project's root, dist/, the target, the working folder (findings name paths from it), the
installer's environment and pip's configuration, SOURCE_DATE_EPOCH (the zip's timestamps), and
the layer .zips the build is given. Every stamp of the units that share all of that but their
settings and target (a project's build) is in one file, a `StampBook` (``stamps/books/``): a build
reads it once and writes it once, not 200 small files each way. It records, beside the zip's own stat and the package findings of the build:
- ``files``: each source file packaged (path, size, mtime_ns, inode);
- ``folders``: each folder under the source (except lpack's default excludes: caches, VCS, virtual
  environments) with its mtime_ns and inode: a file added, removed or renamed changes it;
- ``declared``: the dependency declaration's files (requirements and their includes, a lock and its
  manifest) and the local paths they name (--find-links folders, each file in them), by stat.

When every stat matches, the unit is current: its zip is kept and the build reports what the
stamp recorded. When only source stats differ (a checkout, a touch), the content digest
(`inputs_digest`) decides: the same digest keeps the zip and refreshes the stamp. Any other
difference (a declaration, a wheelhouse, the zip itself, a project layer's zip) builds the unit.
Not covered: a new version of the installer itself (uv, pip) with the same environment; `lpack
build --refresh` builds everything.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from lpack.core.findings import Finding, Location, Severity

STAMP_VERSION = 1
Stat = list[Any]  # [path, size, mtime_ns, inode]


def stat_of(path: Path | str) -> Stat | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [str(path), st.st_size, st.st_mtime_ns, st.st_ino]


def stats(paths: Iterable[Path | str]) -> list[Stat]:
    return [stat_of(p) or [str(p), -1, -1, -1] for p in paths]


def same(recorded: Iterable[Stat]) -> bool:
    """Whether every recorded stat is as it is now (a missing file recorded as missing is the same)."""
    return all((stat_of(item[0]) or [item[0], -1, -1, -1]) == list(item) for item in recorded)


def folders(root: Path, prune: bool = True) -> list[Stat]:
    """The folders under ``root`` a source walk may visit (links followed once), by stat; with
    ``prune``, not those lpack always leaves out (caches, VCS, virtual environments)."""
    from lpack.core.select import SOURCE_EXCLUDES

    found: list[Stat] = []
    seen: set[tuple[int, int]] = set()
    for folder, dirs, _files in os.walk(root, followlinks=True):
        st = os.stat(folder)
        if (st.st_dev, st.st_ino) in seen:
            dirs[:] = []
            continue
        seen.add((st.st_dev, st.st_ino))
        found.append([folder, 0, st.st_mtime_ns, st.st_ino])  # a folder's size says nothing
        rel = os.path.relpath(folder, root)
        prefix = "" if rel == "." else rel.replace(os.sep, "/") + "/"
        dirs[:] = sorted(d for d in dirs if not (prune and SOURCE_EXCLUDES.match_file(prefix + d + "/")))
    return found


def same_folders(recorded: Iterable[Stat]) -> bool:
    for item in recorded:
        now = stat_of(item[0])
        if now is None or [now[0], 0, now[2], now[3]] != list(item):
            return False
    return True


def local_stats(paths: Iterable[Path]) -> list[Stat]:
    """A dependency declaration's local paths (--find-links folders, local files and projects):
    each path, and every file and folder under a folder, by stat."""
    found: list[Stat] = []
    for path in paths:
        found += stats([path])
        if path.is_dir():
            seen: set[tuple[int, int]] = set()
            for folder, dirs, files in os.walk(path, followlinks=True):  # a link's folder is the path's
                st = os.stat(folder)
                if (st.st_dev, st.st_ino) in seen:
                    dirs[:] = []
                    continue
                seen.add((st.st_dev, st.st_ino))
                dirs.sort()
                found += stats([os.path.join(folder, d) for d in dirs])
                found += stats([os.path.join(folder, f) for f in sorted(files)])
    return found


_PLAIN = frozenset((str, int, float, bool))


def canonical(value: Any) -> Any:
    """A JSON-able form of settings that is the same in every run (no set order, no object ids)."""
    if value is None or type(value) in _PLAIN:  # most of a unit's settings: asked first
        return value
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return {f: canonical(getattr(value, f)) for f in value._fields}
    if isinstance(value, dict):
        return {str(k): canonical(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted((canonical(v) for v in value), key=repr)
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value) if not isinstance(value, Path) else str(value)


def stamp_path(cache_root: Path, key: str) -> Path:
    return cache_root / "stamps" / key[:2] / key


def read_stamp(cache_root: Path, key: str) -> dict[str, Any] | None:
    try:
        data = json.loads(stamp_path(cache_root, key).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("version") == STAMP_VERSION else None


def write_stamp(cache_root: Path, key: str, record: dict[str, Any]) -> None:
    from lpack.core.files import atomic_write_text

    try:
        atomic_write_text(stamp_path(cache_root, key), json.dumps({**record, "version": STAMP_VERSION}) + "\n",
                          durable=False)
    except OSError:
        pass  # a read-only cache: the next build decides from the contents, as before


BOOK_VERSION = 1
_LOCK_WAIT_S = 10.0


class StampBook:
    """One project's stamps (a build's `_stamp_parts`), by each unit's stamp key: read once when
    first asked, written by `save` (the stamps put since merged, under a lock, with what other
    processes saved meanwhile: a build's worker processes, another build). A unit keeps one stamp
    per target: a new one replaces the stamp of its earlier settings."""

    def __init__(self, cache_root: Path, key: str) -> None:
        self.path = cache_root / "stamps" / "books" / f"{key}.json"
        self._read: dict[str, dict[str, Any]] | None = None
        self._put: dict[str, dict[str, Any]] = {}

    def get(self, key: str) -> dict[str, Any] | None:
        if key in self._put:
            return self._put[key]
        if self._read is None:
            self._read = _read_book(self.path)
        return self._read.get(key)

    def put(self, key: str, record: dict[str, Any], unit: str, target: str) -> None:
        """The unit's stamp, saved with the next `save` (threads of one build may put at once)."""
        self._put[key] = {**record, "unit": [unit, target], "version": STAMP_VERSION}

    def save(self) -> None:
        """Write the stamps put since the last save (none: nothing written); a cache that
        refuses the write keeps what it had (the next build decides from the contents)."""
        from lpack.core.files import atomic_write_text

        put, self._put = self._put, {}
        if not put:
            return
        replaced = {tuple(r["unit"]) for r in put.values()}
        try:
            with _locked(self.path.with_suffix(".lock")):
                records = {k: r for k, r in _read_book(self.path).items() if tuple(r.get("unit", ())) not in replaced}
                records.update(put)
                atomic_write_text(self.path, json.dumps({"version": BOOK_VERSION, "stamps": records}) + "\n",
                                  durable=False)
        except OSError:
            return
        self._read = records


def _read_book(path: Path) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        found = data["stamps"] if data["version"] == BOOK_VERSION else {}
    except (OSError, ValueError, TypeError, KeyError):
        return {}
    if not isinstance(found, dict):
        return {}
    return {k: r for k, r in found.items()
            if isinstance(r, dict) and r.get("version") == STAMP_VERSION and isinstance(r.get("unit"), list)}


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """The lock file at ``path`` held (flock); a file system without locks, or a holder that
    keeps it over ten seconds, is not waited for: a lost stamp only costs its unit a rebuild."""
    from lpack.core.files import wait_for_lock

    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        wait_for_lock(fd, _LOCK_WAIT_S, every_s=0.01)  # held or not, the stamps are saved
        yield
    finally:
        os.close(fd)


def finding_to_json(f: Finding) -> list[Any]:
    return [f.code, f.name, f.severity.value, f.message, list(f.location), f.function, f.fix]


def finding_from_json(data: list[Any]) -> Finding:
    code, name, severity, message, location, function, fix = data
    return Finding(code, name, Severity(severity), message, Location(*location), function, fix)


def file_sha256(path: Path) -> str | None:
    """A file's sha256, remembered by its path, size, mtime and inode (as wheelhouse files are);
    None when it cannot be read."""
    from lpack.core.cache import remembered_sha256

    try:
        return remembered_sha256(path)
    except OSError:
        return None


def stamped_digest(unit_plan: Any, digest_of: Any) -> str:
    """``digest_of(unit_plan, files)`` (`inputs_digest`), remembered with the stats of what it
    read (the source's files and folders, the dependency declaration): while they are as they
    were, the digest is not computed again (`lpack check` asks it of every built zip)."""
    from lpack.core.cache import default_root, make_key

    unit = unit_plan.unit
    root = default_root()
    key = make_key({"digest-stamp": STAMP_VERSION, "unit": canonical(unit), "target": unit_plan.target.label,
                    "root": str(unit_plan.project.root)})
    record = read_stamp(root, key)
    try:
        if record is not None and same(record["declared"]) and same(record["files"]) and \
                same_folders(record["folders"]):
            return str(record["digest"])
    except (KeyError, TypeError, ValueError):
        pass
    declared = stats([unit.dependencies] if unit.dependencies is not None else [])
    folder_stats = folders(unit.source, prune=not unit.include) if unit.source is not None else []
    files = list(unit_plan.source_files())
    digest = str(digest_of(unit_plan, files))
    write_stamp(root, key, {"declared": declared, "files": stats(p for _rel, p in files), "folders": folder_stats,
                            "digest": digest})
    return digest
