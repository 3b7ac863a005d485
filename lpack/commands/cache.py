"""`lpack cache`: the dependency cache's keys (for a CI cache step), its folder, and pruning it."""

from __future__ import annotations

import contextlib
import hashlib
import re
import stat
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from lpack.bundle.builder import BuildOptions, DependencyKey, dependency_keys
from lpack.bundle.cache import SLIM, CacheEntry, DependencyCache
from lpack.core.cache import default_root
from lpack.core.errors import UsageError

# An entry used this recently is kept whatever prune is asked: a running build may be reading it
# (a build copies its deps.zip's bytes while writing the zips, after its lookup).
IN_USE_S = 10 * 60
_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
_AGES = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def keys(project_path: Path, template: Path | None, config: Path | None, options: BuildOptions) -> dict[str, Any]:
    """Each unit's dependency cache key and one combined key over them all: the same keys the
    build computes, so a CI cache keyed on ``combined`` changes exactly when an install would."""
    from lpack.commands.build import load_project

    found = dependency_keys(load_project(project_path, template, config, options), options)
    return {"version": 1, "units": [_unit(k) for k in found], "combined": combined_key(found)}


def _unit(key: DependencyKey) -> dict[str, Any]:
    return {"name": key.unit, "kind": key.kind, "runtime": key.target.runtime.name,
            "architecture": key.target.architecture, "key": key.key, "dependencies": key.source}


def combined_key(found: Sequence[DependencyKey]) -> str:
    """``lpack-deps-`` and a digest of the units' keys (their order does not matter)."""
    digest = hashlib.sha256("\n".join(sorted({k.key for k in found if k.key})).encode()).hexdigest()
    return f"lpack-deps-{digest[:40]}"


class Pruned(NamedTuple):
    removed: list[CacheEntry]
    kept_in_use: list[CacheEntry]  # chosen, but a build holds or just used them
    remaining_bytes: int
    wheels_removed: tuple[CacheEntry, ...] = ()  # downloaded wheels (CACHE/wheels, issue #23)
    records_removed: tuple[CacheEntry, ...] = ()  # small records lpack works out again when missing (RECORDS)


def prune(root: Path | None, older_than_s: float | None, max_size_bytes: int | None, *,
          dry_run: bool = False, now: float | None = None) -> Pruned:
    """Remove entries not used for ``older_than_s``, then the least recently used until the rest
    fit ``max_size_bytes``. Never an entry a build holds (its lock) or used in the last IN_USE_S.
    The wheels builds downloaded to copy their members, and --slim's results, count as entries too."""
    cache = DependencyCache(root or default_root())
    slims = DependencyCache(cache.root, SLIM)  # --slim's results of entries: pruned as entries
    now = time.time() if now is None else now
    wheels = _wheels(cache.root)
    slimmed = slims.entries()
    entries = sorted([*cache.entries(), *slimmed, *wheels], key=lambda e: e.last_used)
    chosen = [e for e in entries if older_than_s is not None and now - e.last_used > older_than_s]
    if max_size_bytes is not None:
        total = sum(e.size_bytes for e in entries if e not in chosen)
        for entry in entries:
            if total <= max_size_bytes:
                break
            if entry not in chosen:
                chosen.append(entry)
                total -= entry.size_bytes
    removed, in_use, wheels_removed = [], [], []
    for entry in chosen:
        if entry in wheels:
            if now - entry.last_used >= IN_USE_S and (dry_run or _remove_wheel(entry.path)):
                wheels_removed.append(entry)
        elif now - entry.last_used < IN_USE_S or not (dry_run or (slims if entry in slimmed else cache).remove(entry.key)):
            in_use.append(entry)
        else:
            removed.append(entry)
    gone = sum(e.size_bytes for e in removed + wheels_removed)
    records = _old_records(cache.root, max(older_than_s, IN_USE_S), now) if older_than_s is not None else []
    if not dry_run:
        records = [r for r in records if _remove_record(r.path)]
    return Pruned(removed, in_use, sum(e.size_bytes for e in entries) - gone, tuple(wheels_removed), tuple(records))


# The cache's small records: stamps, memos, input records, check's replays, configuration
# markers. Each is written whole (atomically) and worked out again when missing, so one not
# written for --older-than goes (a project built again the day after only decides its first
# no-op from contents). Lock files stay: another build may hold one.
RECORDS = ("stamps", "memo", "inputs", "check", "valid-config")


def _old_records(root: Path, older_than_s: float, now: float) -> list[CacheEntry]:
    found = []
    for folder in RECORDS:
        for path in sorted((root / folder).rglob("*")):
            if path.name.startswith(".") or path.suffix == ".lock":
                continue  # a writer's temporary file (its writer removes it), or a lock
            try:
                info = path.lstat()
            except OSError:
                continue
            if stat.S_ISREG(info.st_mode) and now - info.st_mtime > older_than_s:
                found.append(CacheEntry(path.name, path, info.st_size, info.st_mtime))
    return found


def _remove_record(path: Path) -> bool:
    try:
        path.unlink()
    except OSError:
        return False
    with contextlib.suppress(OSError):
        path.parent.rmdir()  # its folder, if this was its last record
    return True


def _wheels(root: Path) -> list[CacheEntry]:
    """The downloaded wheels (``wheels/AB/SHA256/NAME.whl``), last used when their mtime says."""
    found = []
    for path in sorted((root / "wheels").glob("??/*/*.whl")):
        try:
            info = path.stat()
        except OSError:
            continue
        found.append(CacheEntry(path.name, path, info.st_size, info.st_mtime))
    return found


def _remove_wheel(path: Path) -> bool:
    try:
        path.unlink()
        path.parent.rmdir()
    except FileNotFoundError:
        return False
    except OSError:
        pass  # the folder holds another file: the wheel is gone all the same
    return True


def parse_size(text: str) -> int:
    """``5G``, ``500M``, ``1.5GB``, ``1024`` (bytes; K/M/G/T are powers of 1024)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*", text.lower())
    if not match:
        raise UsageError(f"--max-size {text!r}: not a size", tip="e.g. --max-size 5G, 500M or 1073741824")
    return int(float(match.group(1)) * _UNITS[match.group(2)])


def parse_age(text: str) -> float:
    """``30d``, ``12h``, ``2w``, ``90m``, ``45s`` -> seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*", text.lower())
    if not match:
        raise UsageError(f"--older-than {text!r}: not an age", tip="e.g. --older-than 30d, 12h or 2w")
    return float(match.group(1)) * _AGES[match.group(2)]
