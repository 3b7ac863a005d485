"""lpack's cache folder and its keys: where remembered work lives, and the one way to name it.

Every key is the sha256 of what shapes the remembered result, lpack's version and CACHE_FORMAT,
so an entry is read back only by the lpack that could have written it. ``memo`` remembers small
texts (a lock's set for a target, a staleness verdict) by the bytes they came from.
"""

from __future__ import annotations

import json
import os
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
    import hashlib  # here: its import loads OpenSSL (~2 ms), which a check that memoizes nothing never needs

    stamp = {"lpack": __version__, "cache_format": CACHE_FORMAT}
    blob = json.dumps({**stamp, **parts}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


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
        atomic_write_text(path, text, durable=False)
    except OSError:
        pass
    return text


def file_digest(path: Path | None) -> str:
    """sha256 of a file's bytes ("" for none or a missing file)."""
    if path is None or not path.is_file():
        return ""
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def remembered_sha256(path: Path) -> str:
    """sha256 of a file, remembered in lpack's cache by its path, size, mtime and inode, so an
    unchanged file (a wheelhouse's wheel, a built zip) is hashed once, not on every run. Raises
    OSError when the file cannot be read."""
    st = path.stat()
    where = {"path": str(path.resolve()), "size": st.st_size, "mtime": st.st_mtime_ns, "inode": st.st_ino}

    def digest() -> str:
        import hashlib

        sha = hashlib.sha256()
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                sha.update(chunk)
        return sha.hexdigest()

    return memo(default_root(), "file-sha256", where, digest)
