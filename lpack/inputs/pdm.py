"""pdm.lock reader: the pins one target needs, as ``pdm sync`` would install them.

PDM (2.11+, lock_version 4.4+, the default ``inherit_metadata`` strategy) writes on every package
the ``groups`` that need it and the ``marker`` under which they do, so the set is a filter: the
``default`` group plus the chosen ones (PDM locks extras as groups too), markers true for the
target. Where the files come from is not in the lock but in ``[[tool.pdm.source]]``.

``stale`` reproduces PDM's ``PyProject.content_hash`` (pdm/project/project_file.py) and, for a
workspace root, ``WorkspaceManager.content_hash`` (pdm/project/workspace.py), PDM 2.29.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from lpack.core.errors import ConfigError
from lpack.core.targets import Target
from lpack.inputs._lockfiles import Unreadable, checked_field, file_hashes, load_manifest
from lpack.inputs._lockfiles import load_toml_or_refuse as _load
from lpack.inputs._lockfiles import nested_table as _table
from lpack.inputs.locked import Local, Locked, Pin, Selection, canonical, marker_environment

KIND = "pdm.lock"
PYPI_SIMPLE = "https://pypi.org/simple"
FIX = "regenerate it with `pdm lock`"
_VCS = ("git", "hg", "svn", "bzr")


class _Package(NamedTuple):
    name: str  # canonical
    version: str
    groups: tuple[str, ...]  # canonical
    marker: str  # "" means always
    hashes: tuple[str, ...]
    path: str  # a local project or file, relative to the lock's folder ("" if none)
    url: str  # a direct URL ("" if none)
    vcs: str  # "git+<repo>" for a VCS dependency ("" if none)


# ---------------------------------------------------------------------------------------------
# The reader


def read(path: Path, target: Target, selection: Selection, manifest: Path) -> Locked:
    """The pins, local projects, indexes and find-links of ``path`` that ``target`` installs."""
    try:
        return _read(path, target, selection, manifest)
    except Unreadable as exc:
        raise _broken(path, str(exc)) from exc


def _read(path: Path, target: Target, selection: Selection, manifest: Path) -> Locked:
    lock = _load(path, FIX)
    pyproject = _load_manifest(manifest)
    metadata = _field(lock, "metadata", dict, path, "the lock")
    packages = [_package(raw, path, n) for n, raw in enumerate(_field(lock, "package", list, path, "the lock", []))]
    _check_python(metadata, path, target)
    groups = _groups(selection, metadata, pyproject, path)
    env = marker_environment(target)
    chosen = _one_each([p for p in packages if set(p.groups) & groups and _holds(p.marker, env)], path)
    pins, local = _split(chosen, path)
    indexes, links = _sources(pyproject, manifest.parent.resolve())
    return Locked(
        source=path,
        kind=KIND,
        pins=pins,
        local=(*_root_local(pyproject, selection, manifest, path), *local),
        index_urls=indexes,
        find_links=links,
    )


def stale(lock: Path, pyproject: Path) -> str | None:
    """Why ``lock`` no longer matches ``pyproject`` (one line), or None when it does."""
    metadata = _load(lock, FIX).get("metadata")
    locked = metadata.get("content_hash") if isinstance(metadata, dict) else None
    algo, _, value = locked.partition(":") if isinstance(locked, str) else ("", "", "")
    if not value or algo not in hashlib.algorithms_available:
        return f"{lock.name} has no content_hash; run `pdm lock`"
    if workspace_hash(pyproject, algo) == value:
        return None
    return f"{lock.name} is older than {pyproject.name}; run `pdm lock`"


def content_hash(pyproject: Mapping[str, Any], algo: str = "sha256") -> str:
    """PDM's ``PyProject.content_hash``: the lock-relevant tables, as sorted JSON, hashed."""
    project, settings = _table(pyproject, "project"), _table(pyproject, "tool", "pdm")
    data = {
        "sources": settings.get("source", []),
        "dependencies": project.get("dependencies", []),
        "dev-dependencies": _dev_dependencies(pyproject),
        "optional-dependencies": project.get("optional-dependencies", {}),
        "requires-python": project.get("requires-python", ""),
        "resolution": settings.get("resolution", {}),
    }
    hasher = hashlib.new(algo)
    hasher.update(json.dumps(data, sort_keys=True).encode("utf-8"))
    return hasher.hexdigest()


def workspace_hash(pyproject: Path, algo: str = "sha256") -> str:
    """The hash PDM stores: ``content_hash``, chained with each member's for a workspace root."""
    data = _load(pyproject, "fix the TOML syntax")
    root_hash = content_hash(data, algo)
    workspace = _table(data, "tool", "pdm", "workspace")
    if not workspace:
        return root_hash
    root = pyproject.parent.resolve()
    hasher = hashlib.new(algo)
    hasher.update(root_hash.encode("utf-8"))
    for member in sorted(_members(root, workspace), key=lambda p: p.relative_to(root).as_posix()):
        member_data = _load(member / "pyproject.toml", "fix the TOML syntax")
        for part in (b"\0", member.relative_to(root).as_posix().encode(), b"\0"):
            hasher.update(part)
        hasher.update(content_hash(member_data, algo).encode("utf-8"))
    return hasher.hexdigest()


def _members(root: Path, workspace: Mapping[str, Any]) -> Iterator[Path]:
    """``[tool.pdm.workspace] members``: folders (or globs) holding a pyproject.toml."""
    seen: set[Path] = set()
    for pattern in workspace.get("members", []):
        paths = root.glob(pattern) if any(c in pattern for c in "*?[") else [root / pattern]
        for found in paths:
            found = found.resolve()
            if found not in seen and (found / "pyproject.toml").is_file():
                seen.add(found)
                yield found


def _dev_dependencies(pyproject: Mapping[str, Any]) -> dict[str, list[Any]]:
    """``[dependency-groups]`` then ``[tool.pdm.dev-dependencies]``, group names normalised."""
    groups: dict[str, list[Any]] = {}
    for group, deps in _table(pyproject, "dependency-groups").items():
        groups[canonical(group)] = list(deps)
    for group, deps in _table(pyproject, "tool", "pdm", "dev-dependencies").items():
        groups.setdefault(canonical(group), []).extend(deps)
    return groups


# ---------------------------------------------------------------------------------------------
# Files


def _load_manifest(manifest: Path) -> dict[str, Any]:
    return load_manifest(manifest, "pdm.lock")


def _broken(path: Path, what: str) -> ConfigError:
    return ConfigError(f"{path}: {what}; {FIX}")


def _field(table: Mapping[str, Any], key: str, kind: type | tuple[type, ...], path: Path, where: str,
           default: Any = None) -> Any:
    """``table[key]`` checked to be ``kind``; ``default`` when absent (missing if None)."""
    return checked_field(table, key, kind, path, where, default, fix=FIX)


# ---------------------------------------------------------------------------------------------
# The lock's packages


def _package(raw: Any, path: Path, index: int) -> _Package:
    if not isinstance(raw, dict):
        raise _broken(path, f"[[package]] #{index + 1} is not a table")
    name = _field(raw, "name", str, path, f"[[package]] #{index + 1}")
    where = f"[[package]] {name}"
    if "groups" not in raw:
        raise ConfigError(f"{path}: {where} names no groups: the lock was made without the "
                          "inherit_metadata strategy (PDM before 2.11); run `pdm lock --strategy inherit_metadata`")
    groups = _field(raw, "groups", list, path, where)
    if not all(isinstance(g, str) for g in groups):
        raise _broken(path, f"{where}: 'groups' is not a list of names")
    return _Package(
        name=canonical(name),
        version=_field(raw, "version", str, path, where, ""),
        groups=tuple(canonical(g) for g in groups),
        marker=_field(raw, "marker", str, path, where, ""),
        hashes=file_hashes(_field(raw, "files", list, path, where, []), path, where, fix=FIX),
        path=_field(raw, "path", str, path, where, ""),
        url=_field(raw, "url", str, path, where, ""),
        vcs=next((f"{vcs}+{raw[vcs]}" for vcs in _VCS if vcs in raw), ""),
    )


def _holds(marker: str, env: Mapping[str, str]) -> bool:
    if not marker.strip():
        return True
    from packaging.markers import (
        InvalidMarker,
        Marker,
        UndefinedComparison,
        UndefinedEnvironmentName,
    )

    try:
        return Marker(marker).evaluate(dict(env))
    except (InvalidMarker, UndefinedComparison, UndefinedEnvironmentName) as exc:
        raise Unreadable(f"invalid marker {marker!r} ({exc})") from exc


# ---------------------------------------------------------------------------------------------
# Checks


def _check_python(metadata: Mapping[str, Any], path: Path, target: Target) -> None:
    """A lock made for other Pythons (``[[metadata.targets]] requires_python``) does not fit."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    targets = _field(metadata, "targets", list, path, "[metadata]", [])
    ranges = [t.get("requires_python", "") for t in targets if isinstance(t, dict)]
    version = f"{target.runtime.python_version}.0"
    try:
        if not ranges or any(SpecifierSet(r).contains(version, prereleases=True) for r in ranges):
            return
    except InvalidSpecifier as exc:
        raise _broken(path, f"[metadata.targets]: invalid requires_python ({exc})") from exc
    raise ConfigError(
        f"{path}: locked for Python {' or '.join(ranges)}, which excludes the target "
        f"{target.runtime.name}; choose a runtime the project allows, or widen requires-python "
        "and run `pdm lock`")


def _groups(selection: Selection, metadata: Mapping[str, Any], pyproject: Mapping[str, Any],
            path: Path) -> set[str]:
    """``default`` plus the chosen groups and extras, each one the lock was made with."""
    locked = _field(metadata, "groups", list, path, "[metadata]", ["default"])
    locked_names = {canonical(g) for g in locked if isinstance(g, str)}
    project = _table(pyproject, "project")
    known = locked_names | set(map(canonical, _table(project, "optional-dependencies")))
    known |= set(_dev_dependencies(pyproject))
    for asked in (*selection.groups, *selection.extras):
        if canonical(asked) not in known:
            names = ", ".join(sorted(known - {"default"})) or "none"
            raise ConfigError(f"{path}: no group or extra {asked!r} in the project (it has: {names}); "
                              "fix the selection in the lpack configuration")
        if canonical(asked) not in locked_names:
            raise ConfigError(f"{path}: {asked!r} was not locked; run `pdm lock -G {asked}` "
                              "(or `pdm lock -G :all`)")
    return {"default", *(canonical(g) for g in (*selection.groups, *selection.extras))}


# ---------------------------------------------------------------------------------------------
# The result


def _one_each(chosen: Sequence[_Package], path: Path) -> list[_Package]:
    """One entry per name: PDM writes ``foo`` and ``foo[extra]`` as two entries of one version."""
    seen: dict[str, _Package] = {}
    for package in chosen:
        other = seen.setdefault(package.name, package)
        if (other.version, other.path, other.url) != (package.version, package.path, package.url):
            raise ConfigError(f"{path}: {package.name} is locked at both {other.version} and "
                              f"{package.version} for this target; run `pdm lock`")
        seen[package.name] = other._replace(hashes=tuple(dict.fromkeys(other.hashes + package.hashes)))
    return sorted(seen.values(), key=lambda p: p.name)


def _split(chosen: Sequence[_Package], path: Path) -> tuple[tuple[Pin, ...], tuple[Local, ...]]:
    pins: list[Pin] = []
    local: list[Local] = []
    for p in chosen:
        if p.vcs:
            raise ConfigError(f"{path}: {p.name} comes from {p.vcs}; git and other VCS dependencies "
                              "are not supported yet; publish it to an index or make it a path dependency")
        if p.path:
            local.append(Local(p.name, _local_path(p.path, path.parent)))
        elif p.url.startswith("file:"):
            local.append(Local(p.name, _local_path(p.url, path.parent)))
        else:
            pins.append(Pin(p.name, p.version, p.hashes, url=p.url or None))
    return tuple(pins), tuple(local)


def _local_path(text: str, root: Path) -> Path:
    """A lock ``path`` (relative to the project) or a ``file://`` URL, made absolute."""
    from urllib.parse import unquote, urlparse

    text = text.replace("${PROJECT_ROOT}", root.as_posix())
    if text.startswith("file:"):
        text = unquote(urlparse(text).path)
        text = "/" + text.lstrip("/")
    return (root / text).resolve()


def _root_local(pyproject: Mapping[str, Any], selection: Selection, manifest: Path,
                path: Path) -> tuple[Local, ...]:
    """The project itself, built into a wheel, when PDM treats it as a distribution."""
    name = _table(pyproject, "project").get("name")
    name = canonical(name) if isinstance(name, str) else None
    if selection.package and canonical(selection.package) != name:
        raise ConfigError(f"{path}: selecting the workspace member {selection.package!r} is not "
                          "supported for pdm.lock yet; point `lock` at the project that holds it")
    settings = _table(pyproject, "tool", "pdm")
    if "package-type" in settings:
        distribution = settings["package-type"] == "library"
    else:
        distribution = settings.get("distribution", True) is not False
    return (Local(name, manifest.parent.resolve()),) if name and distribution else ()


def _sources(pyproject: Mapping[str, Any], root: Path) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``[[tool.pdm.source]]``: indexes (the one named "pypi" replaces PyPI) and find-links."""
    sources = _table(pyproject, "tool", "pdm").get("source", [])
    indexes: list[str] = []
    links: list[str] = []
    primary = PYPI_SIMPLE
    for source in sources if isinstance(sources, list) else []:
        if not isinstance(source, dict):
            continue
        url = _expand(str(source.get("url") or ""), root)
        if str(source.get("name", "")).lower() == "pypi":
            primary = url or PYPI_SIMPLE
        elif url and source.get("type", "index") == "find_links":
            links.append(url)
        elif url:
            indexes.append(url)
    if primary == PYPI_SIMPLE and not indexes:
        return (), tuple(links)
    return (primary, *indexes), tuple(links)


def _expand(url: str, root: Path) -> str:
    """As PDM does: ``${PROJECT_ROOT}`` anywhere, ``${VAR}`` in the credentials."""
    url = url.replace("file:///${PROJECT_ROOT}", root.as_uri()).replace("${PROJECT_ROOT}", root.as_posix())
    scheme, sep, rest = url.partition("://")
    if sep and "@" in rest.split("/", 1)[0]:
        auth, at, host = rest.partition("@")
        auth = re.sub(r"\$\{(.+?)\}", lambda m: os.environ.get(m.group(1), ""), auth)
        url = f"{scheme}{sep}{auth}{at}{host}"
    return url
