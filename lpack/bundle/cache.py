"""The dependency cache: installed and compressed dependency trees, keyed on what shapes them.

A key is the sha256 of the requirements (every included file and local wheel folder), the target,
the installer and its version, installer settings from the environment, lpack's version and
CACHE_FORMAT.
Each entry holds ``deps.zip`` (the selected dependency files, already compressed, so a build
copies their bytes instead of recompressing) and ``meta.json``. Entries are written to a
temporary folder and renamed into place, so a killed build never leaves a half entry.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from lpack.core.cache import CACHE_FORMAT, default_root, make_key

__all__ = ["CACHE_FORMAT", "DependencyCache", "default_root", "make_key"]

class DependencyCache:
    def __init__(self, root: Path) -> None:
        self.root = root

    def entry(self, key: str) -> Path:
        return self.root / "deps" / key[:2] / key

    def lookup(self, key: str) -> Path | None:
        entry = self.entry(key)
        return entry if (entry / "meta.json").is_file() and (entry / "deps.zip").is_file() else None

    def staging(self) -> Path:
        import tempfile

        (self.root / "tmp").mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix="entry-", dir=self.root / "tmp"))

    def commit(self, key: str, staged: Path) -> Path:
        entry = self.entry(key)
        entry.parent.mkdir(parents=True, exist_ok=True)
        if entry.exists():  # another build got there first, or --refresh
            shutil.rmtree(entry, ignore_errors=True)
        os.replace(staged, entry)
        return entry
