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
"""

from __future__ import annotations

import csv
import posixpath
import re
from collections.abc import Iterable
from typing import NamedTuple

from lpack.analysis.package import PackageIndex, PackageReader
from lpack.core.errors import LpackError

_FOLDER = re.compile(r"(?P<project>[^/-]+)(?P<version>-[^/]+?)?\.(?P<kind>dist|egg)-info")
_NAME_FIELDS = ("Import-Name", "Import-Namespace")


def normalize(name: str) -> str:
    """A project or top-level import name compared the way installers compare project names
    (PEP 503), with ``_`` as the separator import names use."""
    return re.sub(r"[-_.]+", "_", name).lower()


class Distribution(NamedTuple):
    folder: str  # "six-1.16.0.dist-info"
    files: frozenset[str]  # from RECORD / installed-files.txt; empty when there is no such list
    names: frozenset[str]  # dotted import names its metadata claims (used only without files)
    project: str  # normalised project name (used only without files)

    def holds(self, name: str, entry: str) -> bool:
        """Whether the module ``name`` (dotted from the root), at ``entry``, is this distribution's."""
        if self.files:
            return entry in self.files
        parts = name.split(".")
        if normalize(parts[0]) == self.project:
            return True
        return any(".".join(parts[:i]) in self.names for i in range(1, len(parts) + 1))


def distributions(index: PackageIndex, reader: PackageReader) -> tuple[Distribution, ...]:
    """The distributions installed at the package root, each read from its metadata folder."""
    members: dict[str, set[str]] = {}
    for entry in index.entries:
        folder, slash, rest = entry.name.partition("/")
        if _FOLDER.fullmatch(folder) and "/" not in rest:
            inside = members.setdefault(folder, set())
            if rest or not slash:
                inside.add(rest)  # "": the name is a file (a distutils egg-info), not a folder
    found = (_distribution(folder, names, reader) for folder, names in sorted(members.items()))
    return tuple(d for d in found if d is not None)


def _distribution(folder: str, members: set[str], reader: PackageReader) -> Distribution | None:
    match = _FOLDER.fullmatch(folder)
    assert match is not None
    if match["kind"] == "dist":
        listing, base, metadata = "RECORD", "", "METADATA"
    else:
        listing, base, metadata = "installed-files.txt", folder + "/", "PKG-INFO"
    files = _listed(_text(reader, f"{folder}/{listing}"), base) if listing in members else frozenset()
    if files:
        return Distribution(folder, files, frozenset(), "")
    if match["kind"] == "egg" and match["version"] is None:
        return None  # the project's own egg_info/develop metadata, not an installed library
    top_level = _text(reader, f"{folder}/top_level.txt") if "top_level.txt" in members else ""
    names = {line.strip().replace("/", ".") for line in top_level.splitlines() if line.strip()}
    # An egg-info may also be a single PKG-INFO file named like the folder (distutils' install).
    if "" in members or metadata in members:
        names.update(_metadata_names(_text(reader, folder if "" in members else f"{folder}/{metadata}")))
    return Distribution(folder, frozenset(), frozenset(names), normalize(match["project"]))


def _text(reader: PackageReader, name: str) -> str:
    try:
        return reader.text(name)
    except LpackError:
        return ""  # a corrupt entry: the contents rules report it


def _listed(text: str, base: str) -> frozenset[str]:
    """The paths a RECORD (CSV, paths relative to the package root) or an installed-files.txt
    (one path a line, relative to the egg-info folder) lists, inside the package."""
    paths: set[str] = set()
    try:
        for row in csv.reader(text.splitlines()):
            if row and row[0]:
                path = posixpath.normpath(base + row[0])
                if not path.startswith("../"):
                    paths.add(path)
    except csv.Error:
        pass  # a damaged list owns what was read before the damage
    return frozenset(paths)


def _metadata_names(text: str) -> Iterable[str]:
    """``Import-Name`` / ``Import-Namespace`` values of a METADATA header (``; private`` dropped)."""
    for line in text.splitlines():
        if not line.strip():
            return  # the header ends at the first blank line; the description follows
        field, colon, value = line.partition(":")
        name = value.split(";", 1)[0].strip()
        if colon and field.strip() in _NAME_FIELDS and name:
            yield name
