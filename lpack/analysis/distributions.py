"""Installed distributions at the root of a package: which of its modules are libraries, not the
function's own code.

An installer that follows the packaging specs (pip, uv, SAM's pip builds) writes a
``name-version.dist-info/RECORD`` listing every file it installed; that list is exact. Packages made
by other tools often lose it (``pip install --target`` then RECORD stripped, zips repacked by hand),
so without a file list a distribution claims import names instead, from what its metadata folder
still says (the "Recording installed projects" and "Core metadata" specifications):

- ``top_level.txt``: the top-level names setuptools writes into every wheel it builds;
- ``Import-Name:`` and ``Import-Namespace:`` in ``METADATA`` (core metadata 2.5, PEP 794);
- the project name itself, normalised (``typing-extensions`` -> ``typing_extensions``), which is
  the import name of most distributions that carry neither.

A legacy ``*.egg-info`` counts when it has ``installed-files.txt`` (its RECORD) or a version in its
name (``six-1.16.0-py3.12.egg-info``); a bare ``app.egg-info`` is what ``setup.py egg_info`` or
``develop`` writes beside the project's own source, and claims nothing.

``Libraries`` answers the same question for any file of the package (a test fixture, a data file),
wherever the metadata folders sit: the package root, a layer's ``python/`` and site-packages, or a
folder a function puts on ``sys.path`` itself.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Collection, Iterable, Iterator, Sequence
from typing import NamedTuple

from lpack.analysis.package import PackageIndex, PackageReader
from lpack.core.errors import LpackError
from lpack.core.patterns import lazy

_FOLDER = lazy(r"(?P<project>[^/-]+)(?P<version>-[^/]+?)?\.(?P<kind>dist|egg)-info")
_NAME_FIELDS = ("Import-Name", "Import-Namespace")
_MODULE_SUFFIXES = (".py", ".pyc", ".pyi", ".so", ".pyd")


def normalize(name: str) -> str:
    """A project or top-level import name compared the way installers compare project names
    (PEP 503), with ``_`` as the separator import names use."""
    return re.sub(r"[-_.]+", "_", name).lower()


class Distribution(NamedTuple):
    folder: str  # "six-1.16.0.dist-info"
    files: frozenset[str]  # from RECORD / installed-files.txt; empty when there is no such list
    names: frozenset[str]  # dotted import names its metadata claims (used only without files)
    project: str  # normalised project name (used only without files)
    root: str = ""  # the folder it is installed in ("" the package root, else ending in "/")

    def holds(self, name: str, entry: str) -> bool:
        """Whether the module ``name`` (dotted from the root), at ``entry``, is this distribution's."""
        if self.files:
            return entry in self.files
        return _claimed(name, (self.project,), self.names)

    def installs(self, top: str) -> bool:
        """Whether it installs the top-level module or package ``top`` (at its root)."""
        if self.files:
            return f"{self.root}{top}.py" in self.files or any(f.startswith(f"{self.root}{top}/") for f in self.files)
        return _claimed(top, (self.project,), self.names)


def _claimed(name: str, projects: Collection[str], names: Collection[str]) -> bool:
    """Whether the dotted ``name`` is inside a project's import name or one of ``names``."""
    parts = name.split(".")
    if normalize(parts[0]) in projects:
        return True
    return any(".".join(parts[:i]) in names for i in range(1, len(parts) + 1))


def distributions(index: PackageIndex, reader: PackageReader, root: str = "") -> tuple[Distribution, ...]:
    """The distributions installed in ``root`` (the package root by default; else a folder
    ending in ``/``), each read from its metadata folder."""
    members: dict[str, set[str]] = {}
    for entry in index.entries:
        if not entry.name.startswith(root):
            continue
        folder, slash, rest = entry.name[len(root):].partition("/")
        if _FOLDER().fullmatch(folder) and "/" not in rest:
            inside = members.setdefault(folder, set())
            if rest or not slash:
                inside.add(rest)  # "": the name is a file (a distutils egg-info), not a folder
    found = (_distribution(root, folder, names, reader) for folder, names in sorted(members.items()))
    return tuple(d for d in found if d is not None)


def installed(index: PackageIndex, reader: PackageReader) -> tuple[Distribution, ...]:
    """The distributions installed anywhere in the package: every folder that holds a metadata
    folder is a root (a layer's ``python/lib/python3.12/site-packages/``, a function's ``vendor/``)."""
    return tuple(d for root in _roots(index) for d in distributions(index, reader, root))


def _roots(index: PackageIndex) -> list[str]:
    roots: set[str] = set()
    for entry in index.entries:
        if "-info" not in entry.name:
            continue  # most names: no metadata folder at all
        parts = entry.name.split("/")
        found = next((i for i, part in enumerate(parts) if _FOLDER().fullmatch(part)), None)
        if found is not None:
            roots.add("".join(f"{part}/" for part in parts[:found]))
    return sorted(roots)


def _distribution(root: str, folder: str, members: set[str], reader: PackageReader) -> Distribution | None:
    match = _FOLDER().fullmatch(folder)
    assert match is not None
    if match["kind"] == "dist":
        listing, base, metadata = "RECORD", root, "METADATA"
    else:
        listing, base, metadata = "installed-files.txt", f"{root}{folder}/", "PKG-INFO"
    files = _listed(_text(reader, f"{root}{folder}/{listing}"), base) if listing in members else frozenset()
    if files:
        return Distribution(folder, files, frozenset(), "", root)
    if match["kind"] == "egg" and match["version"] is None:
        return None  # the project's own egg_info/develop metadata, not an installed library
    top_level = _text(reader, f"{root}{folder}/top_level.txt") if "top_level.txt" in members else ""
    names = {line.strip().replace("/", ".") for line in top_level.splitlines() if line.strip()}
    # An egg-info may also be a single PKG-INFO file named like the folder (distutils' install).
    if "" in members or metadata in members:
        names.update(_metadata_names(_text(reader, f"{root}{folder}" if "" in members else f"{root}{folder}/{metadata}")))
    return Distribution(folder, frozenset(), frozenset(names), normalize(match["project"]), root)


def module_of(path: str) -> str:
    """The dotted name of the module or package a file belongs to, from its path under a root:
    ``pkg/mod.py`` -> ``pkg.mod``, ``pkg/__init__.py`` and ``pkg/tests/key.pem`` -> ``pkg`` and
    ``pkg.tests``, a data file at the root -> ``""`` (no module's)."""
    folder, _, base = path.rpartition("/")
    parts = folder.split("/") if folder else []
    stem = base.split(".", 1)[0]
    if base.endswith(_MODULE_SUFFIXES) and stem and stem != "__init__":
        parts.append(stem)
    return ".".join(parts)


class Libraries:
    """Which files of a package its installed distributions own, read once: a listed file is its
    distribution's; a distribution without a file list owns every file inside the modules its
    metadata claims (code, data, test fixtures), as ``Distribution.holds`` decides for modules."""

    def __init__(self, found: Sequence[Distribution]) -> None:
        self._listed = frozenset().union(*(d.files for d in found))
        self._claims: dict[str, tuple[set[str], set[str]]] = {}  # root -> (projects, names)
        for d in found:
            if not d.files:
                projects, names = self._claims.setdefault(d.root, (set(), set()))
                projects.add(d.project)
                names.update(d.names)
        self._roots = sorted(self._claims, key=len, reverse=True)

    def holds(self, entry: str) -> bool:
        """Whether the file ``entry`` (its name in the package) is an installed library's."""
        if entry in self._listed:
            return True
        root = next((r for r in self._roots if entry.startswith(r)), None)
        name = module_of(entry[len(root):]) if root is not None else ""
        return bool(name) and _claimed(name, *self._claims[root or ""])


def _text(reader: PackageReader, name: str) -> str:
    try:
        return reader.text(name)
    except LpackError:
        return ""  # a corrupt entry: the contents rules report it


def _listed(text: str, base: str) -> frozenset[str]:
    """The paths a RECORD (CSV, paths relative to the package root) or an installed-files.txt
    (one path a line, relative to the egg-info folder) lists, inside the package."""
    return frozenset(path for path, _hash in listed_rows(text, base))


def listed_rows(text: str, base: str) -> Iterator[tuple[str, str]]:
    """(path inside the package, hash field as written: ``sha256=...`` or "") of each line of a
    RECORD or installed-files.txt; a path installed outside the package (a script) is left out,
    and a damaged list gives what was read before the damage."""
    import csv  # only a package with installed distributions pays for it

    try:
        for row in csv.reader(text.splitlines()):
            if row and row[0]:
                path = posixpath.normpath(base + row[0])
                if not path.startswith("../"):
                    yield path, row[1] if len(row) > 1 else ""
    except csv.Error:
        return


def _metadata_names(text: str) -> Iterable[str]:
    """``Import-Name`` / ``Import-Namespace`` values of a METADATA header (``; private`` dropped)."""
    for line in text.splitlines():
        if not line.strip():
            return  # the header ends at the first blank line; the description follows
        field, colon, value = line.partition(":")
        name = value.split(";", 1)[0].strip()
        if colon and field.strip() in _NAME_FIELDS and name:
            yield name
