"""A built package as a folder: the zip's entries, bytes and permissions as in the zip, written
whole or not at all (`lpack build --out DIR`, `--sam-build-dir`).

The folder is extracted into a temporary sibling (``.NAME.PID.NS.tmp``) and renamed into place; a
folder already there is renamed aside first and removed after, so ``DIR`` is at every moment
either the old package or the new one, never half of either.
"""

from __future__ import annotations

import glob
import os
import shutil
import stat
import time
import zipfile
from pathlib import Path, PurePosixPath

from lpack.core.errors import UsageError
from lpack.core.files import cannot_write, is_refused_write, remove_litter

_TIP = "choose a folder you can write to, on a disk with free space"


def write_unpacked(zip_path: Path, dest: Path) -> int:
    """Replace ``dest`` by the files of ``zip_path``; return how many files were written."""
    if dest.is_symlink() or (dest.exists() and not dest.is_dir()):
        raise UsageError(f"{dest}: exists and is not a folder; lpack writes the package's files into a folder there",
                         tip="remove it, or choose another folder")
    parent = dest.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        remove_litter(parent.glob(f".{glob.escape(dest.name)}.*.tmp"))
        tmp = parent / f".{dest.name}.{os.getpid()}.{time.monotonic_ns()}.tmp"
        tmp.mkdir()
    except OSError as exc:
        raise cannot_write(dest, exc, _TIP) from exc
    try:
        files = _extract(zip_path, tmp)
        _swap(tmp, dest)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if is_refused_write(exc) or isinstance(exc, PermissionError):
            raise cannot_write(dest, exc, _TIP) from exc
        raise
    return files


def _extract(zip_path: Path, root: Path) -> int:
    files = 0
    with zipfile.ZipFile(zip_path) as zf:
        for info in zf.infolist():
            relative = _safe(info.filename)
            mode = (info.external_attr >> 16) & 0o7777
            target = root.joinpath(*relative.parts)
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                os.chmod(target, stat.S_IMODE(mode) or 0o755)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as source, open(target, "wb") as out:
                shutil.copyfileobj(source, out, 1 << 20)
            os.chmod(target, stat.S_IMODE(mode) or 0o644)
            files += 1
    return files


def _safe(name: str) -> PurePosixPath:
    """An entry name lpack wrote is relative and stays inside; anything else is refused, not extracted."""
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or "\\" in name or not path.parts:
        raise UsageError(f"zip entry {name!r} would land outside the folder; not written")
    return path


def _swap(new: Path, dest: Path) -> None:
    if not dest.exists():
        new.rename(dest)
        return
    old = dest.parent / f".{dest.name}.old.{os.getpid()}.{time.monotonic_ns()}.tmp"
    dest.rename(old)
    try:
        new.rename(dest)
    except BaseException:
        old.rename(dest)  # the old package back, whole
        raise
    shutil.rmtree(old, ignore_errors=True)
