"""Extract a function zip and its layers once, read-only, as Lambda's /var/task and /opt.

Each tree lives in ``<cache>/invoke/task/<sha256 of the zip>`` or ``<cache>/invoke/opt/<sha256
over the layers' digests, in order>``. A tree is built in a temporary sibling folder and renamed
into place, so its final name never holds half a tree and concurrent runs agree on one winner.
Files are 0o444 (0o555 when the zip gives them an execute bit) and folders 0o555: Lambda's
/var/task and /opt are read-only, so a handler that writes beside its code fails here as well.

Safety: no entry may land outside the tree (absolute names, ``..``, drive letters, backslash
tricks, symlinks that resolve outside, writes through symlinks), and a zip whose entries declare
more than ten times Lambda's unzipped limit is refused before anything is written.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import stat
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

from lpack.core.errors import LpackError

UNZIPPED_LIMIT_BYTES = 262_144_000  # Lambda: function and layers, unzipped
MAX_UNZIPPED_BYTES = 10 * UNZIPPED_LIMIT_BYTES  # beyond this a zip is a bomb, not a package
KEEP_TREES = 8  # per kind, most recently used
STALE_TEMP_S = 3600  # a temporary folder this old belongs to a run that was killed
_TEMP_PREFIX = ".tmp-"
_DRIVE = re.compile(r"[A-Za-z]:")
_READ_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError,
                NotImplementedError, RuntimeError, ValueError)


class _Entry(NamedTuple):
    info: zipfile.ZipInfo
    parts: tuple[str, ...]  # the safe relative path inside the tree

    @property
    def mode(self) -> int:
        return self.info.external_attr >> 16

    @property
    def is_symlink(self) -> bool:
        return stat.S_ISLNK(self.mode)


def extract_package(zip_path: Path, cache_root: Path, *, prefix: str = "") -> Path:
    """The function's code tree (the local /var/task), extracted once per distinct zip.

    ``prefix`` selects a folder inside the zip as the tree's root (``""``: the whole zip);
    entries outside it are left out.
    """
    digest = _sha256_file(zip_path)
    key = digest if not prefix else _sha256_text(f"{digest}\0{prefix}")
    return cached_tree(cache_root / "invoke" / "task", key,
                        lambda tree: _extract_all(tree, [zip_path], prefix))


def extract_layers(zips: Sequence[Path], cache_root: Path) -> Path:
    """The layers overlaid in order (the local /opt): a later layer's file replaces an earlier one's."""
    key = _sha256_text("\n".join(_sha256_file(path) for path in zips))
    return cached_tree(cache_root / "invoke" / "opt", key,
                        lambda tree: _extract_all(tree, zips, ""))


# --- the cache of trees ---------------------------------------------------------------------


def cached_tree(base: Path, key: str, fill: Callable[[Path], None]) -> Path:
    """``base/key``, made once by ``fill`` in a temporary sibling and renamed into place, read-only."""
    dest = base / key
    try:
        return dest if _touch(dest) else _create(base, dest, fill)
    except OSError as exc:
        raise LpackError(f"{base}: cannot write the invoke cache ({exc.strerror or exc}); "
                         "set LPACK_CACHE_DIR to a writable folder") from exc


def _touch(tree: Path) -> bool:
    """Mark the tree most recently used, so pruning keeps it; False if there is none."""
    try:
        os.utime(tree)
    except FileNotFoundError:
        return False
    return tree.is_dir()


def _create(base: Path, dest: Path, fill: Callable[[Path], None]) -> Path:
    base.mkdir(parents=True, exist_ok=True)
    _remove_stale_temps(base)
    tmp = Path(tempfile.mkdtemp(prefix=_TEMP_PREFIX, dir=base))
    try:
        fill(tmp)
        _seal(tmp)
        _rename_or_adopt(tmp, dest)
    finally:
        if tmp.exists():
            remove_tree(tmp)
    _touch(dest)
    _prune(base, keep=KEEP_TREES, protect=dest)
    return dest


def _rename_or_adopt(tmp: Path, dest: Path) -> None:
    try:
        os.rename(tmp, dest)
    except OSError:
        if not dest.is_dir():  # not a lost race: a real failure
            raise
        # another process finished the same tree first; ours is removed by the caller


def _remove_stale_temps(base: Path) -> None:
    cutoff = time.time() - STALE_TEMP_S
    for child in base.glob(_TEMP_PREFIX + "*"):
        try:
            if child.stat().st_mtime < cutoff:
                remove_tree(child)
        except OSError:
            pass  # another process removed it first


def _prune(base: Path, *, keep: int, protect: Path) -> None:
    trees = []
    for child in base.iterdir():
        if child.name.startswith(_TEMP_PREFIX) or child == protect or not child.is_dir():
            continue
        try:
            trees.append((child.stat().st_mtime, child))
        except OSError:
            continue
    trees.sort(reverse=True)
    for _, old in trees[keep - 1 :]:  # the protected tree is the newest
        remove_tree(old)


def remove_tree(path: Path) -> None:
    """Remove a tree even though its folders are read-only; a vanished tree is no error."""
    for root, _, _ in os.walk(path):
        try:
            os.chmod(root, 0o700)
        except OSError:
            pass
    shutil.rmtree(path, ignore_errors=True)


def _seal(tree: Path) -> None:
    for root, _, _ in os.walk(tree, topdown=False):
        os.chmod(root, 0o555)


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as file:
            for block in iter(lambda: file.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise _unreadable(path, exc) from exc
    return digest.hexdigest()


def _sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# --- extraction -----------------------------------------------------------------------------


def _extract_all(tree: Path, zips: Sequence[Path], prefix: str) -> None:
    """Extract ``zips`` in order into ``tree``, then set the read-only file modes."""
    executable: dict[Path, bool] = {}
    for zip_path in zips:
        try:
            archive = zipfile.ZipFile(zip_path)
        except (OSError, *_READ_ERRORS) as exc:
            raise _unreadable(zip_path, exc) from exc
        with archive:
            _extract_zip(archive, zip_path, tree, prefix, executable)
    for path, is_exec in executable.items():
        if path.is_file() and not path.is_symlink():
            os.chmod(path, 0o555 if is_exec else 0o444)


def _extract_zip(archive: zipfile.ZipFile, zip_path: Path, tree: Path, prefix: str,
                 executable: dict[Path, bool]) -> None:
    entries = _plan(archive, zip_path, prefix)
    real_tree = os.path.realpath(tree)
    # Files and folders first, then symlinks: nothing from this zip is written through its links.
    for entry in (e for e in entries if not e.is_symlink or e.info.is_dir()):
        with _entry_errors(zip_path, entry):
            target = _checked_target(tree, real_tree, zip_path, entry)
            if entry.info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
            else:
                _write_file(archive, entry.info, target)
                executable[target] = bool(entry.mode & 0o111)
    links = [e for e in entries if e.is_symlink and not e.info.is_dir()]
    for entry in links:
        with _entry_errors(zip_path, entry):
            _make_link(archive, zip_path, _checked_target(tree, real_tree, zip_path, entry), entry)
    for entry in links:  # checked once all exist: a link may pass through another link
        if not _inside(real_tree, os.path.realpath(tree.joinpath(*entry.parts))):
            raise _outside(zip_path, entry.info.filename, "is a symlink that points")


@contextlib.contextmanager
def _entry_errors(zip_path: Path, entry: _Entry) -> Iterator[None]:
    try:
        yield
    except _READ_ERRORS as exc:
        raise _unreadable(zip_path, exc) from exc
    except OSError as exc:  # a file where a folder is, a full disk...
        raise LpackError(f"{zip_path}: entry {entry.info.filename!r} cannot be extracted "
                         f"({exc.strerror or exc}); rebuild the package") from exc


def _plan(archive: zipfile.ZipFile, zip_path: Path, prefix: str) -> list[_Entry]:
    infos = archive.infolist()
    total = sum(info.file_size for info in infos)
    if total > MAX_UNZIPPED_BYTES:
        raise LpackError(
            f"{zip_path}: its entries unzip to {total:,} bytes, over ten times Lambda's limit of "
            f"{UNZIPPED_LIMIT_BYTES:,} bytes; refusing to extract it (a zip bomb?) — rebuild the package"
        )
    strip = tuple(p for p in prefix.replace("\\", "/").split("/") if p not in ("", "."))
    entries = []
    for info in infos:
        parts = _safe_parts(zip_path, info.filename)
        if parts[: len(strip)] == strip and parts[len(strip):]:
            entries.append(_Entry(info, parts[len(strip):]))
    return entries


def _safe_parts(zip_path: Path, name: str) -> tuple[str, ...]:
    """The entry's path as parts, or an error if unzipping it anywhere could leave the tree."""
    if "\0" in name or name.startswith(("/", "\\")) or _DRIVE.match(name):
        raise _outside(zip_path, name, "would be written")
    # Linux keeps a backslash as a character of the name, Windows tools read it as a separator:
    # refuse a name that escapes either way, keep the name as Linux would.
    if ".." in re.split(r"[/\\]", name):
        raise _outside(zip_path, name, "would be written")
    return tuple(p for p in name.split("/") if p not in ("", "."))


def _checked_target(tree: Path, real_tree: str, zip_path: Path, entry: _Entry) -> Path:
    """Where the entry goes; its folder must resolve inside the tree (links of earlier layers)."""
    target = tree.joinpath(*entry.parts)
    if not _inside(real_tree, os.path.realpath(target.parent)):
        raise _outside(zip_path, entry.info.filename, "would be written through a symlink")
    target.parent.mkdir(parents=True, exist_ok=True)
    return target


def _write_file(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path) -> None:
    if target.is_symlink() or target.is_file():
        target.unlink()  # a later entry or layer replaces the earlier file, as unzip -o does
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    with archive.open(info) as source, os.fdopen(os.open(target, flags, 0o644), "wb") as out:
        shutil.copyfileobj(source, out, 1 << 20)


def _make_link(archive: zipfile.ZipFile, zip_path: Path, target: Path, entry: _Entry) -> None:
    name = entry.info.filename
    link = archive.read(entry.info).decode("utf-8", errors="surrogateescape")
    if not link or "\0" in link or link.startswith("/") or _DRIVE.match(link):
        raise _outside(zip_path, name, f"is a symlink to {link!r} that points")
    if target.is_symlink() or target.is_file():
        target.unlink()
    elif target.exists():
        raise LpackError(f"{zip_path}: entry {name!r} is a symlink where a folder already is; "
                         "rebuild the package")
    os.symlink(link, target)


def _inside(real_tree: str, real_path: str) -> bool:
    return real_path == real_tree or real_path.startswith(real_tree + os.sep)


def _outside(zip_path: Path, name: str, what: str) -> LpackError:
    return LpackError(
        f"{zip_path}: entry {name!r} {what} outside the package; "
        "Lambda's unzip would refuse it too — rebuild the package"
    )


def _unreadable(path: Path, exc: BaseException) -> LpackError:
    return LpackError(f"{path}: not a readable zip file ({exc}); rebuild it with `lpack build`")

