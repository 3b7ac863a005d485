"""Reload on save: notice when the project's files change, by polling their modification times.

Polling every ``interval_s`` (0.25 s) costs a walk of the project's tree; it needs no dependency
and sees the same edits on every filesystem (a network share, a container's bind mount, an editor
that saves by renaming). What lpack writes itself (dist/, caches, bytecode) and what tools keep
in dotted folders (.git, .venv, .aws-sam) is not watched.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

INTERVAL_S = 0.25
SKIPPED_DIRS = frozenset({"__pycache__", "node_modules", "dist", "build", "cdk.out", "htmlcov"})
SKIPPED_SUFFIXES = (".pyc", ".pyo", ".swp", ".swx", "~", ".tmp")

Snapshot = dict[str, tuple[int, int]]


def snapshot(root: Path, skip: frozenset[Path] = frozenset()) -> Snapshot:
    """Every watched file under ``root``: its modification time (ns) and size."""
    found: Snapshot = {}
    for path in _files(root, skip):
        try:
            stat = os.stat(path)
        except OSError:  # removed while we looked: the next poll sees it gone
            continue
        found[path] = (stat.st_mtime_ns, stat.st_size)
    return found


def _files(root: Path, skip: frozenset[Path]) -> Iterator[str]:
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in SKIPPED_DIRS
                   and not d.endswith(".egg-info") and Path(folder, d) not in skip]
        for name in files:
            if not name.startswith(".") and not name.endswith(SKIPPED_SUFFIXES):
                yield os.path.join(folder, name)


def changed(before: Snapshot, after: Snapshot) -> list[str]:
    """The files added, removed or modified between two snapshots."""
    return sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))


class Watcher:
    """A daemon thread that calls ``on_change(paths)`` once per burst of changes under ``root``."""

    def __init__(self, root: Path, on_change: Callable[[list[str]], None], skip: frozenset[Path] = frozenset(),
                 interval_s: float = INTERVAL_S) -> None:
        self.root = root
        self.skip = skip
        self.interval_s = interval_s
        self._on_change = on_change
        self._stop = threading.Event()
        self._known = snapshot(root, skip)
        self._thread = threading.Thread(target=self._run, name="lpack-serve-watcher", daemon=True)

    def start(self) -> Watcher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            now = snapshot(self.root, self.skip)
            paths = changed(self._known, now)
            if not paths:
                continue
            settled = self._settled(now)  # an editor's save can be several writes: wait for the last
            self._known = settled
            self._on_change(changed_paths(paths, settled, now))

    def _settled(self, now: Snapshot) -> Snapshot:
        while not self._stop.wait(0.05):
            again = snapshot(self.root, self.skip)
            if again == now:
                return again
            now = again
        return now


def changed_paths(first: list[str], settled: Snapshot, seen: Snapshot) -> list[str]:
    return sorted(set(first) | set(changed(seen, settled)))
