"""Write files whole or not at all: a temporary file beside the target, renamed into place.

A temporary name carries its writer's process id, so the next writer can tell what a killed
build left behind (its process is gone) from what a concurrent one is still writing.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, TypeGuard

from lpack.core.errors import LpackError


class WriteError(LpackError, OSError):
    """A file or folder lpack must write cannot be (a full disk, a read-only folder, a file where a
    folder should be): the user's to fix, not a bug. Still an OSError, for writers that may fail."""


# What the disk or the folders refuse, as distinct from an error of what is being written
_REFUSALS = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is used up",
             errno.EFBIG: "the file is too large for that disk", errno.EROFS: "the file system is read-only",
             errno.EACCES: "permission denied", errno.EPERM: "permission denied",
             errno.EEXIST: "a file is where a folder should be", errno.ENOTDIR: "a file is where a folder should be",
             errno.ENAMETOOLONG: "the path is too long"}

_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)  # while writing: a read error of the content is not one


def is_refused_write(exc: BaseException) -> TypeGuard[OSError]:
    """Whether ``exc`` is the disk refusing a write (full, over quota, read-only), wherever it
    came from; not an error lpack already explained."""
    return isinstance(exc, OSError) and not isinstance(exc, LpackError) and exc.errno in (*_FULL, errno.EROFS)


def cannot_write(path: Path, exc: OSError, tip: str | None = None) -> WriteError:
    """The error for ``path`` that ``exc`` kept from being written, naming where and why."""
    why = _REFUSALS.get(exc.errno or 0) or exc.strerror or str(exc)
    where = f" ({exc.filename})" if exc.filename and str(exc.filename) != str(path) else ""
    return WriteError(f"cannot write {path}: {why}{where}",
                      tip=tip or f"{path.parent} must be a folder you can write to, on a disk with free space")


@contextmanager
def atomic_writer(path: Path, *, durable: bool = True, mode: int = 0o644, tip: str | None = None) -> Iterator[BinaryIO]:
    """Yield a binary file that becomes ``path`` only when the block ends without an error;
    ``durable`` flushes it to disk before the rename. What the disk or folder refuses is a
    WriteError naming ``path`` (with ``tip``, else a general one); the file it would replace
    stays as it was."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_litter(temporaries(path))
        tmp = path.parent / f".{path.name}.{os.getpid()}.{time.monotonic_ns()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except OSError as exc:
        raise cannot_write(path, exc, tip) from exc
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
            out.flush()
            if durable:
                os.fsync(out.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if is_refused_write(exc):
            raise cannot_write(path, exc, tip) from exc
        raise


def atomic_write_text(path: Path, text: str, *, durable: bool = True, tip: str | None = None) -> None:
    """``text`` as ``path``, whole or not at all; ``durable=False`` skips the flush to disk (for
    what a cache can always recompute)."""
    with atomic_writer(path, durable=durable, tip=tip) as out:
        out.write(text.encode("utf-8"))


def remove_litter(paths: Iterable[Path]) -> None:
    """Remove the temporary files and folders of writers that are gone: named ``...PID...`` after
    their prefix (``.NAME.zip.PID.NS.tmp``, ``entry-PID-XXXX``), whose process no longer runs, or
    older than a day (a reused process id). Another live writer's files are left alone."""
    import shutil

    for path in paths:
        if is_litter(path):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    path.unlink(missing_ok=True)


def temporaries(path: Path) -> list[Path]:
    """The temporary files of ``path``'s writers (``.NAME.*.tmp`` beside it): what
    ``path.parent.glob`` finds, without compiling a pattern for each name (a build writes
    hundreds of stamps and records, each under a name of its own)."""
    prefix = f".{path.name}."
    try:
        with os.scandir(path.parent) as entries:
            return [path.parent / e.name for e in entries
                    if e.name.startswith(prefix) and e.name[len(prefix):].endswith(".tmp")]
    except OSError:
        return []


def is_litter(path: Path, *, max_age_s: float = 24 * 3600) -> bool:
    try:
        age_s = time.time() - path.lstat().st_mtime
    except OSError:
        return False
    found = _WRITER.search(path.name)
    if found is None:
        return age_s > 10 * 60  # no writer's id in it: only when clearly abandoned
    return age_s > max_age_s or not _running(int(found.group(1) or found.group(2)))


_WRITER = re.compile(r"^entry-(\d+)-|\.(\d+)\.\d+\.tmp$")  # the writer's process id in a temporary name


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    return True


def wait_for_lock(fd: int, within_s: float, every_s: float = 0.05) -> bool:
    """Take the flock of the open file ``fd``, trying every ``every_s`` for up to ``within_s``;
    False when another holder kept it that long, or the file system has no locks."""
    import fcntl

    deadline = time.monotonic() + within_s
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() > deadline:
                return False
            time.sleep(every_s)
        except OSError:
            return False  # a file system without locks


class CacheWrites:
    """Writes of what a cache can always recompute (input records), done on two threads
    of the process that asks for them: creating a small file is a handful of system calls
    (the folder, its leftovers, the file, the rename), ~0.5 ms each on an overlay file system,
    which a build of 200 units paid 400 times on its one interpreter. A write the disk refuses
    is dropped, as it was before (the next build recomputes it). `settle` waits for all, and
    is called before anything may read them back or the process ends."""

    def __init__(self) -> None:
        import threading

        self._pool: Any = None
        self._pid = 0
        self._pending: list[Any] = []
        self._guard = threading.Lock()

    def submit(self, write: Callable[[], None]) -> None:
        from concurrent.futures import ThreadPoolExecutor

        with self._guard:
            if self._pool is None or self._pid != os.getpid():  # made in the process that writes (not before a fork)
                self._pool, self._pid, self._pending = ThreadPoolExecutor(2, thread_name_prefix="lpack-cache"), os.getpid(), []
            self._pending.append(self._pool.submit(_dropping_refusals, write))

    def text(self, path: Path, text: str) -> None:
        """``text`` as ``path`` (not flushed to disk), later."""
        self.submit(lambda: atomic_write_text(path, text, durable=False))

    def settle(self) -> None:
        """Wait for every write asked for so far (an error other than the disk's is raised here);
        the threads end (a long-lived process, `lpack serve`, builds again and again)."""
        with self._guard:
            pending, self._pending = self._pending, []
            pool, self._pool = (self._pool, None) if self._pid == os.getpid() else (None, None)
        try:
            for future in pending:
                future.result()
        finally:
            if pool is not None:
                pool.shutdown(wait=True)


def _dropping_refusals(write: Callable[[], None]) -> None:
    try:
        write()
    except OSError:
        pass  # a read-only or full cache: what it would have held is recomputed next time
