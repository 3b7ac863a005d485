"""`lpack check`'s per-zip index (issue #23): a built zip's package findings, remembered in lpack's
cache, so a zip that has not changed since the last check is not read again.

The key is the zip's path, size, mtime_ns and inode and a sha256 of its central directory (read
from the end of the file: the end-of-central-directory record and the directory it points at),
the same of each layer .zip it is judged with, and everything else the package rules read: the
unit's kind, handler, target, layer count, upload, features and name, lpack's version (in every
cache key), and the working folder (findings name paths from it). The findings are stored before
--select/--ignore and the configuration's ignores are applied, so a check with other codes
selected reads the same entry. A zip lpack cannot read is never remembered (its error is said
every time).
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from lpack.core.findings import Finding, Location, Severity

_EOCD = b"PK\x05\x06"
_TAIL = 22 + 65535  # the end-of-central-directory record and the longest comment


def zip_key(path: Path) -> list[Any] | None:
    """A zip's identity without reading its entries: stat and its central directory's digest."""
    try:
        with open(path, "rb") as handle:
            st = os.fstat(handle.fileno())
            handle.seek(max(st.st_size - _TAIL, 0))
            tail = handle.read()
            at = tail.rfind(_EOCD)
            digest = hashlib.sha256(tail[at:] if at >= 0 else tail)
            if at >= 0 and len(tail) - at >= 22:
                size, offset = struct.unpack("<II", tail[at + 12:at + 20])
                if offset != 0xFFFFFFFF and offset + size <= st.st_size:  # zip64: the tail says enough
                    handle.seek(offset)
                    digest.update(handle.read(size))
    except OSError:
        return None
    return [str(path), st.st_size, st.st_mtime_ns, st.st_ino, digest.hexdigest()]


def package_findings(zip_path: Path, layers: Iterable[Path], parts: dict[str, Any],
                     compute: Callable[[], list[Finding]]) -> list[Finding]:
    """``compute()``'s findings on ``zip_path``, or those remembered for it and these ``parts``."""
    from lpack.core.cache import default_root, memo

    key = zip_key(zip_path)
    layer_keys = [zip_key(layer) for layer in layers]
    if key is None or None in layer_keys:
        return compute()
    everything = {**parts, "zip": key, "layers": layer_keys, "cwd": os.getcwd(), "index": 1}
    text = memo(default_root(), "check-package", everything, lambda: json.dumps([_dump(f) for f in compute()]))
    try:
        return [_load(item) for item in json.loads(text)]
    except (ValueError, TypeError, KeyError):
        return compute()


def _dump(f: Finding) -> list[Any]:
    return [f.code, f.name, f.severity.value, f.message, list(f.location), f.function, f.fix]


def _load(item: list[Any]) -> Finding:
    code, name, severity, message, location, function, fix = item
    return Finding(code, name, Severity(severity), message, Location(*location), function, fix)
