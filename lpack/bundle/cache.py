"""The dependency cache: installed and compressed dependency trees, keyed on what shapes them.

A key is the sha256 of the requirements (every included file and local wheel folder), the target,
the installer and its version, installer settings from the environment, lpack's version and
CACHE_FORMAT.
Each entry holds ``deps.zip`` (the selected dependency files, already compressed, so a build
copies their bytes instead of recompressing) and ``meta.json``. Entries are written to a
temporary folder and renamed into place, so a killed build never leaves a half entry.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from lpack import __version__

# The layout and encoding of what the cache holds (an entry's deps.zip and meta.json, a memo's
# text). Raise it whenever that changes, e.g. how entries are compressed: every key changes with
# it, so old entries are never read back as new ones (they are simply not found).
CACHE_FORMAT = 1


def default_root() -> Path:
    if os.environ.get("LPACK_CACHE_DIR"):
        return Path(os.environ["LPACK_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "lpack"


def make_key(parts: Mapping[str, Any]) -> str:
    stamp = {"lpack": __version__, "cache_format": CACHE_FORMAT}
    blob = json.dumps({**stamp, **parts}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


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


def memo(root: Path, namespace: str, parts: Mapping[str, Any], compute: Callable[[], str]) -> str:
    """``compute()``'s text, remembered under the key of ``parts``: what a rebuild would
    otherwise work out again from the same bytes (a lock's set for a target, a staleness
    verdict) is read back instead. A cache that cannot be written only costs speed."""
    path = root / "memo" / namespace / make_key(parts)
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        pass
    text = compute()
    try:
        from lpack.core.files import atomic_write_text

        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, text)
    except OSError:
        pass
    return text


def file_digest(path: Path | None) -> str:
    """sha256 of a file's bytes ("" for none or a missing file)."""
    if path is None or not path.is_file():
        return ""
    return hashlib.sha256(path.read_bytes()).hexdigest()
