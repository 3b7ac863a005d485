"""The dependency cache: installed and compressed dependency trees, keyed on what shapes them.

A key is the sha256 of the requirements (every included file and local wheel folder), the target,
the installer and its version, installer settings from the environment, lpack's version and
CACHE_FORMAT.
Each entry holds ``deps.zip`` (the selected dependency files, already compressed, so a build
copies their bytes instead of recompressing) and ``meta.json``. ``--slim`` keeps its result of an
entry in the same shape under ``slim/`` (SLIM: keyed on the entry's key and the slim tools), so a
source-only edit strips nothing again. Entries are written to a
temporary folder and renamed into place, so a killed build never leaves a half entry.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import threading
from pathlib import Path
from typing import NamedTuple

_WAIT_S = 30 * 60  # how long a build waits for another installing the same key before installing too
CACHE_TIP = "free space on its disk, or choose another cache folder with --cache-dir or LPACK_CACHE_DIR"
USED_MARKER = "used"  # an entry's file whose mtime is when a build last used it
DEPS, SLIM = "deps", "slim"  # the kinds of entry: an install, and --slim's result of one


class CacheEntry(NamedTuple):
    key: str
    path: Path
    size_bytes: int
    last_used: float  # seconds since the epoch


class DependencyCache:
    """Entries are committed by one rename: a reader sees a whole entry or none. Builds of the
    same key take turns through a lock file per key (``locks/KEY.lock``), and the threads of one
    build (``--jobs``) through a lock per key in memory: ``lookup`` of a missing entry holds both,
    so a concurrent build or thread waits and then finds the entry, and ``commit`` (or
    ``release_mine`` when a unit's build ends without one) lets them go."""

    def __init__(self, root: Path, kind: str = DEPS) -> None:
        self.root = root
        self.kind = kind

    def entry(self, key: str) -> Path:
        return self.root / self.kind / key[:2] / key

    def lookup(self, key: str) -> Path | None:
        """The key's entry, else None and this thread holds the key's lock until its commit (or
        ``release_mine``).
        What killed builds left in tmp/ is removed first, whether this build installs or not."""
        self._sweep()
        entry = self._complete(key)
        if entry is not None:
            return entry
        self._lock(key)
        entry = self._complete(key)  # another build may have made it while this one waited
        if entry is not None:
            _release(self._lock_path(key))
        return entry

    def _sweep(self) -> None:
        from lpack.core.files import remove_litter

        remove_litter((self.root / "tmp").glob("entry-*"))

    def staging(self) -> Path:
        """A new temporary folder for an entry; what killed builds left there is removed."""
        import tempfile

        from lpack.core.files import cannot_write

        tmp = self.root / "tmp"
        try:
            tmp.mkdir(parents=True, exist_ok=True)
            self._sweep()
            return Path(tempfile.mkdtemp(prefix=f"entry-{os.getpid()}-", dir=tmp))
        except OSError as exc:
            raise cannot_write(tmp, exc, tip=CACHE_TIP) from exc

    def commit(self, key: str, staged: Path) -> Path:
        """Rename ``staged`` into place as the key's entry. If another build committed the key
        first, its whole entry is as good as this one: it stays and ``staged`` is removed.
        An entry that is not whole (``--refresh``, or an older lpack's) is replaced."""
        from lpack.core.files import cannot_write

        entry = self.entry(key)
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            self._replace(key, staged, entry)
        except OSError as exc:
            raise cannot_write(entry, exc, tip=CACHE_TIP) from exc
        finally:
            shutil.rmtree(staged, ignore_errors=True)
            _release(self._lock_path(key))
        return entry

    def _replace(self, key: str, staged: Path, entry: Path) -> None:
        if entry.exists():  # --refresh, or a partial entry: moved aside whole, then removed
            aside = self.staging()
            with contextlib.suppress(FileNotFoundError):  # another build moved it first
                os.replace(entry, aside)
            shutil.rmtree(aside, ignore_errors=True)
        try:
            os.rename(staged, entry)
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST) or self._complete(key) is None:
                raise  # not another build's whole entry in the way

    def _complete(self, key: str) -> Path | None:
        entry = self.entry(key)
        return entry if (entry / "meta.json").is_file() and (entry / "deps.zip").is_file() else None

    # -- last use and pruning (lpack cache prune) -----------------------------------------------

    def used(self, entry: Path) -> None:
        """Record that a build used ``entry`` now (atime is unreliable: noatime, relatime); a
        cache that cannot be written only loses that record."""
        with contextlib.suppress(OSError):
            (entry / USED_MARKER).touch()

    def entries(self) -> list[CacheEntry]:
        """Every whole entry, with its size and when a build last used (or committed) it."""
        found = []
        for entry in sorted((self.root / self.kind).glob("??/*")):
            if self._complete(entry.name) != entry:
                continue
            try:
                size = sum(f.stat().st_size for f in entry.iterdir() if f.is_file())
                stamps = [(entry / n).stat().st_mtime for n in (USED_MARKER, "meta.json") if (entry / n).is_file()]
            except OSError:
                continue  # removed while listed
            found.append(CacheEntry(entry.name, entry, size, max(stamps, default=0.0)))
        return found

    def remove(self, key: str) -> bool:
        """Remove the key's entry unless a build holds its lock (installing it, or waiting to);
        moved aside whole first, so a reader never sees part of it."""
        path = self._lock_path(key)
        if path in _HELD:
            return False
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            fd = -1  # a cache without locks
        try:
            if fd >= 0 and not _try_lock(fd):
                return False
            aside = self.staging()
            try:
                os.replace(self.entry(key), aside / key)
            except FileNotFoundError:
                return False
            finally:
                shutil.rmtree(aside, ignore_errors=True)
            return True
        finally:
            if fd >= 0:
                os.close(fd)

    def _lock_path(self, key: str) -> Path:
        return self.root / "locks" / f"{key}.lock"

    def release_mine(self) -> None:
        """Let go every key this thread holds without an entry (its install failed, or a unit's
        build ended early): the next build or thread waiting for one installs it instead."""
        me = threading.get_ident()
        with _GUARD:
            mine = [path for path, (_fd, owner) in _HELD.items() if owner == me]
        for path in mine:
            _release(path)

    def _lock(self, key: str) -> None:
        """Hold the key's lock, waiting up to _WAIT_S for another thread of this build, then for
        another build; a cache where locks cannot be made (read-only) goes without: the commit
        is safe without them."""
        path = self._lock_path(key)
        with _GUARD:
            if path in _HELD and _HELD[path][1] == threading.get_ident():
                return  # this thread holds it already (an install that failed without a release)
        if not _turn(path).acquire(timeout=_WAIT_S):
            return  # as a lock file that stays held: install too
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            fd = None  # the in-memory turn alone, so this build's threads still take turns
        from lpack.core.files import wait_for_lock

        if fd is not None and not wait_for_lock(fd, _WAIT_S):
            os.close(fd)
            fd = None
        with _GUARD:
            _HELD[path] = (fd, threading.get_ident())


_GUARD = threading.Lock()  # guards the two tables below
_TURNS: dict[Path, threading.Lock] = {}  # one per key this process has looked up: its threads take turns
# the keys this process holds: their lock file (flock is per open file) and the thread holding them
_HELD: dict[Path, tuple[int | None, int]] = {}


def _turn(path: Path) -> threading.Lock:
    with _GUARD:
        return _TURNS.setdefault(path, threading.Lock())


def _try_lock(fd: int) -> bool:
    """Take a lock file without waiting; False if a build holds it (a file system without
    locks: True, as the commit is safe without them)."""
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError:
        pass
    return True


def _release(path: Path) -> None:
    with _GUARD:
        if path not in _HELD or _HELD[path][1] != threading.get_ident():
            return  # not held, or held by another thread (after this one's commit let it go)
        fd = _HELD.pop(path)[0]
    if fd is not None:
        os.close(fd)  # closing the file releases its lock
    _turn(path).release()

