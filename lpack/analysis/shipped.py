"""What a package ships, read from its own ``*.dist-info`` folders: each distribution's name,
version, licence, requirements and files (RECORD, with their sha256), and the package's files
no distribution owns (the function's own code). ``lpack sbom`` and ``lpack audit`` describe
exactly this, never a lock's set for every platform.

Core metadata (https://packaging.python.org/en/latest/specifications/core-metadata/): ``Name``,
``Version``, ``License-Expression`` (2.4, an SPDX expression), else ``License`` (free text) and
``Classifier: License :: ...``; ``Requires-Dist`` (PEP 508). RECORD (the "Recording installed
projects" specification): ``path,sha256=<urlsafe base64, no padding>,size`` per installed file.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import NamedTuple

from lpack.analysis.distributions import installed, listed_rows
from lpack.analysis.package import Entry, PackageIndex, PackageReader

_HEADER_FIELDS = {"name", "version", "license-expression", "license", "classifier", "requires-dist", "summary"}


def normalized(name: str) -> str:
    """A project name as PyPI and purl compare it (PEP 503): lowercase, runs of ``-_.`` as ``-``."""
    return re.sub(r"[-_.]+", "-", name).lower()


class Owned(NamedTuple):
    path: str  # in the package
    sha256: str  # hex, as RECORD gives it; "" when it gives none (RECORD itself, .pyc written at install)


class Distribution(NamedTuple):
    name: str  # as METADATA spells it
    version: str
    folder: str  # "requests-2.32.3.dist-info"
    root: str  # where it is installed: "" the package root, "python/" in a layer, ...
    license_expression: str  # License-Expression (an SPDX expression), or ""
    license: str  # License (free text), or ""
    classifiers: tuple[str, ...]  # its "License :: ..." classifiers
    requires: tuple[str, ...]  # Requires-Dist, as written
    summary: str
    files: tuple[Owned, ...]  # from RECORD, in RECORD's order

    @property
    def key(self) -> str:
        return normalized(self.name)

    @property
    def purl(self) -> str:
        return f"pkg:pypi/{self.key}@{self.version}"


class Contents(NamedTuple):
    package: PackageIndex
    distributions: tuple[Distribution, ...]  # by root, then name
    own: tuple[Entry, ...]  # files no distribution owns: the function's (or layer's) own code and data


def read_contents(index: PackageIndex, reader: PackageReader) -> Contents:
    """The distributions a package ships (at its root, a layer's ``python/``, or any folder that
    holds ``*.dist-info``), each read from METADATA and RECORD, and the files none of them owns."""
    found = [d for d in installed(index, reader) if d.folder.endswith(".dist-info")]
    names = [n for d in found for n in (f"{d.root}{d.folder}/METADATA", f"{d.root}{d.folder}/RECORD")]
    present = {e.name for e in index.entries}
    texts = reader.map(lambda data: data.decode("utf-8", "replace"), [n for n in names if n in present])
    by_name = dict(zip([n for n in names if n in present], texts))
    read = [_distribution(d.folder, d.root, by_name.get(f"{d.root}{d.folder}/METADATA", ""),
                          by_name.get(f"{d.root}{d.folder}/RECORD", "")) for d in found]
    shipped = tuple(d for d in read if d is not None)
    owned = {f.path for d in shipped for f in d.files}
    folders = tuple(f"{d.root}{d.folder}/" for d in shipped)
    own = tuple(e for e in index.entries if not e.is_dir and e.name not in owned and not e.name.startswith(folders))
    return Contents(index, shipped, own)


def _distribution(folder: str, root: str, metadata: str, record: str) -> Distribution | None:
    fields = header(metadata)
    name, version = _first(fields, "name"), _first(fields, "version")
    if not name or not version:
        return None  # not an installed distribution lpack can name
    classifiers = tuple(c for c in fields.get("classifier", ()) if c.startswith("License ::"))
    return Distribution(name, version, folder, root, _first(fields, "license-expression"),
                        _first(fields, "license"), classifiers, tuple(fields.get("requires-dist", ())),
                        _first(fields, "summary"), tuple(_record(record, root)))


def _first(fields: dict[str, list[str]], key: str) -> str:
    values = fields.get(key)
    return values[0].strip() if values else ""


def header(text: str) -> dict[str, list[str]]:
    """The fields of a core metadata header (RFC 822 style, up to the first blank line) that lpack
    reads, by lowercased name; a folded line continues the previous value."""
    fields: dict[str, list[str]] = {}
    last: list[str] | None = None
    for line in text.splitlines():
        if not line.strip():
            break
        if line[:1] in " \t" and last is not None:
            last[-1] += "\n" + line.strip()
            continue
        key, colon, value = line.partition(":")
        key = key.strip().lower()
        last = fields.setdefault(key, []) if colon and key in _HEADER_FIELDS else None
        if last is not None:
            last.append(value.strip())
    return fields


def _record(text: str, root: str) -> Iterator[Owned]:
    for path, digest in listed_rows(text, root):  # a script installed outside the package is not shipped
        yield Owned(path, _hex(digest))


def _hex(value: str) -> str:
    algorithm, _, digest = value.partition("=")
    if algorithm != "sha256" or not digest:
        return ""
    try:
        return base64.urlsafe_b64decode(digest + "=" * (-len(digest) % 4)).hex()
    except (binascii.Error, ValueError):
        return ""


class Requirement(NamedTuple):
    name: str  # normalised key
    extra: bool  # only with an extra of the requiring distribution
    marker: str  # the environment marker as written, "" for none


def requirements(dist: Distribution) -> Iterator[Requirement]:
    """Its Requires-Dist entries, each with the normalised name it asks for."""
    for text in dist.requires:
        spec, _, marker = text.partition(";")
        match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", spec)
        if match:
            yield Requirement(normalized(match.group(1)), "extra" in marker, marker.strip())


def dependency_graph(dists: Sequence[Distribution], python: tuple[int, int], machine: str) -> dict[str, list[str]]:
    """For each shipped distribution (by key), the shipped distributions its Requires-Dist names:
    markers evaluated for the target (Linux, its Python and machine); a requirement of an extra
    counts when the package it names is shipped."""
    keys = {d.key for d in dists}
    graph: dict[str, list[str]] = {}
    for dist in dists:
        wanted = {r.name for r in requirements(dist)
                  if r.name in keys and r.name != dist.key and (r.extra or _applies(r.marker, python, machine))}
        graph[dist.key] = sorted(wanted)
    return graph


def _applies(marker: str, python: tuple[int, int], machine: str) -> bool:
    if not marker:
        return True
    from packaging.markers import InvalidMarker, Marker

    version = f"{python[0]}.{python[1]}"
    environment = {"python_version": version, "python_full_version": f"{version}.0", "sys_platform": "linux",
                   "platform_system": "Linux", "os_name": "posix", "platform_machine": machine,
                   "implementation_name": "cpython", "platform_python_implementation": "CPython", "extra": ""}
    try:
        return Marker(marker).evaluate(environment)
    except InvalidMarker:
        return True  # an unreadable marker: the edge is kept, as the installer may have


def pulled_in_by(graph: Mapping[str, Sequence[str]], key: str) -> list[list[str]]:
    """The chains from a top-level distribution (one no other shipped distribution requires) down
    to ``key``, shortest first: ``[["requests", "urllib3"]]``; ``[[key]]`` when it is top-level."""
    parents: dict[str, list[str]] = {}
    for parent, children in graph.items():
        for child in children:
            parents.setdefault(child, []).append(parent)
    chains: list[list[str]] = []
    frontier = [[key]]
    seen = {key}
    while frontier:
        following = []
        for chain in frontier:
            above = sorted(p for p in parents.get(chain[0], ()) if p not in chain)
            if not above:
                chains.append(chain)
            for parent in above:
                if parent not in seen:
                    seen.add(parent)
                    following.append([parent, *chain])
        frontier = following
    return chains or [[key]]


def imported_names(reader: PackageReader, files: Iterable[Entry]) -> frozenset[str]:
    """The top-level module names the given Python files import (``import boto3``, ``from
    botocore.config import Config``), read with ast; a file that does not parse adds nothing."""
    import ast

    names: set[str] = set()
    for entry in files:
        if not entry.name.endswith(".py"):
            continue
        try:
            tree = ast.parse(reader.read(entry.name))
        except (SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".", 1)[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module.split(".", 1)[0])
    return frozenset(names)
