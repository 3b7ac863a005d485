"""What the package rules share: the package's files listed once, how findings name many entries
and sizes, where a function's or a layer's importable names start, and its bytecode files.

The rules read entry names and modes from the central directory; the few that need contents
(symlink targets, secrets, .pyc headers) read through ``PackageSubject.reader`` and stay quiet
without one. Structural problems are reported once per rule and package, naming the first
entries, so a zip made on Windows gives one finding, not one per file.
"""

from __future__ import annotations

import posixpath
import re

from lpack.analysis.package import Entry
from lpack.analysis.subjects import PackageSubject
from lpack.core.patterns import lazy
from lpack.core.units import exact_bytes, human_bytes

PACKAGE_URL = "https://docs.aws.amazon.com/lambda/latest/dg/python-package.html"
LAYERS_URL = "https://docs.aws.amazon.com/lambda/latest/dg/packaging-layers.html"

SHOWN = 3  # entries named in a finding about many
_CACHED_PYC = re.compile(r"(?:^|/)__pycache__/[^/.]+\.([^/.]+)(?:\.opt-\d+)?\.pyc$")
_CPYTHON_TAG = lazy(r"cpython-(\d)(\d+)$")
SITE_PACKAGES = re.compile(r"python/lib/python3\.(\d+)/site-packages/")


def junk(name: str) -> bool:
    """macOS Finder's resource forks (``__MACOSX/._x.py``): extracted, never read."""
    return name.startswith("__MACOSX/")


_FILES: list[tuple[tuple[Entry, ...], list[Entry], frozenset[str]]] = []  # the last package's


def listing(s: PackageSubject) -> tuple[list[Entry], frozenset[str]]:
    """The package's files (folders and __MACOSX/ aside) and their names, computed once for all
    the rules that run on one package: a 250 MB package has tens of thousands of entries."""
    entries = s.package.entries
    if not _FILES or _FILES[0][0] is not entries:
        files = [e for e in entries if not e.is_dir and not junk(e.name)]
        _FILES[:] = [(entries, files, frozenset(e.name for e in files))]
    return _FILES[0][1], _FILES[0][2]


def package_files(s: PackageSubject) -> list[Entry]:
    return listing(s)[0]


def some(names: list[str]) -> str:
    shown = ", ".join(names[:SHOWN])
    return shown if len(names) <= SHOWN else f"{shown} and {len(names) - SHOWN} more"


def unzipped(size: int) -> str:
    return f"{human_bytes(size)} unzipped ({exact_bytes(size)})"


def count(n: int, one: str, many: str) -> str:
    """``1 entry is`` / ``3 entries are``: the count, the noun and the verb that agrees."""
    return f"{n} {one}" if n == 1 else f"{n} {many}"


def in_metadata(name: str) -> bool:
    return any(part.endswith((".dist-info", ".egg-info")) for part in name.split("/")[:-1])


def import_roots(s: PackageSubject) -> tuple[str, ...]:
    """Where the package's importable names start: the root of a function; python/ and the
    target's site-packages in a layer (any version's when the target is unknown)."""
    if s.kind != "layer":
        return ("",)
    if s.target is not None:
        return ("python/", f"python/lib/python3.{s.target.runtime.python[1]}/site-packages/")
    found = {m.group(0) for e in s.package.entries if (m := SITE_PACKAGES.match(e.name))}
    return ("python/", *sorted(found))


def handler_module(s: PackageSubject) -> str | None:
    """The handler's module as a path (``orders/api``), or None when there is no handler."""
    if not s.handler or "." not in s.handler:
        return None
    return s.handler.rsplit(".", 1)[0].replace(".", "/")


# -- bytecode files -------------------------------------------------------------------------------

def tag_version(tag: str) -> tuple[int, int] | None:
    match = _CPYTHON_TAG().match(tag)
    return (int(match.group(1)), int(match.group(2))) if match else None


def cached_pycs(s: PackageSubject) -> list[tuple[Entry, str]]:
    """(entry, tag) for every ``__pycache__/*.pyc``."""
    return [(e, m.group(1)) for e in package_files(s) if (m := _CACHED_PYC.search(e.name))]


def _module_path(name: str) -> str | None:
    """The module a source or extension file provides (``pkg/mod``; ``pkg`` for its __init__)."""
    folder, _, base = name.rpartition("/")
    if not base.endswith((".py", ".so", ".pyd")):
        return None
    stem = base.split(".", 1)[0]
    return folder if stem == "__init__" else posixpath.join(folder, stem)


def legacy_pycs(s: PackageSubject) -> tuple[list[Entry], list[Entry]]:
    """``x.pyc`` outside __pycache__: (never loaded, because an ``x.py``, an extension module or
    a regular package ``x/`` comes first in Python's search; the only form of their module)."""
    files = package_files(s)
    legacy = [e for e in files if e.name.endswith(".pyc") and not _CACHED_PYC.search(e.name)]
    if not legacy:
        return [], []
    forms = {m for e in files if (m := _module_path(e.name)) is not None}
    return [e for e in legacy if e.name[:-4] in forms], [e for e in legacy if e.name[:-4] not in forms]
