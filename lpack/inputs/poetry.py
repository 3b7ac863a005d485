"""poetry.lock reader: the pins one target needs, as Poetry itself would install them.

Poetry 2 writes lock-version 2.1: every package names the ``groups`` that need it and the
``markers`` under which they do (a string, or one per group), so the set is a filter, as in
Poetry's ``Transaction.calculate_operations``. Poetry 1 writes lock-version 2.0 without them: the
set is then walked from the pyproject's dependencies through each package's
``[package.dependencies]``, markers and ``python`` constraints evaluated for the target.

Nothing is re-resolved: only what the lock names is returned. ``stale`` reproduces Poetry's
``Locker._get_content_hash`` (poetry/packages/locker.py, Poetry 2.5) without importing Poetry.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from lpack.core.errors import ConfigError
from lpack.core.targets import Target
from lpack.inputs._lockfiles import Unreadable, checked_field, file_hashes, load_manifest
from lpack.inputs._lockfiles import load_toml_or_refuse as _load
from lpack.inputs._lockfiles import nested_table as _table
from lpack.inputs.locked import Local, Locked, Pin, Selection, canonical, marker_environment

KIND = "poetry.lock"
PYPI_SIMPLE = "https://pypi.org/simple/"
FIX = "regenerate it with `poetry lock`"
# Poetry 2 source priorities, in the order pip should see the indexes; Poetry 1's
# `default = true` / `secondary = true` map to primary / supplemental.
_PRIORITIES = ("primary", "pypi", "supplemental", "explicit")
# Before Poetry 2.3, [dependency-groups] did not count in the content hash.
_GROUPS_HASHED_SINCE = (2, 3)


class _Edge(NamedTuple):
    """One dependency constraint: from the pyproject or a locked package's dependencies."""

    name: str  # canonical
    version: str = "*"  # a Poetry constraint ("^1.2", ">=1,<2", "1.0", "*")
    markers: str = ""
    python: str = "*"
    extras: tuple[str, ...] = ()
    optional: bool = False


class _Source(NamedTuple):
    type: str  # "" (PyPI), "legacy", "directory", "file", "url", "git"
    url: str = ""
    reference: str = ""


class _Package(NamedTuple):
    name: str  # canonical
    version: str
    optional: bool
    python: str  # "python-versions"
    groups: tuple[str, ...] | None  # None in lock-version 2.0
    markers: Mapping[str, str]  # canonical group -> marker; "" means any
    hashes: tuple[str, ...]
    source: _Source
    dependencies: tuple[_Edge, ...]
    extras: Mapping[str, frozenset[str]]  # extra -> canonical names it activates


# ---------------------------------------------------------------------------------------------
# The reader


def read(path: Path, target: Target, selection: Selection, manifest: Path) -> Locked:
    """The pins, local projects and indexes of ``path`` that ``target`` installs."""
    try:
        return _read(path, target, selection, manifest)
    except Unreadable as exc:
        raise _broken(path, str(exc)) from exc


def _read(path: Path, target: Target, selection: Selection, manifest: Path) -> Locked:
    lock = _load(path, FIX)
    pyproject = _load_manifest(manifest)
    packages = _packages(lock, path)
    _check_python(lock, path, target)
    _check_selection(selection, pyproject, lock, path, manifest)
    env = marker_environment(target)
    if all(p.groups is not None for p in packages):
        chosen = _by_groups(packages, selection, lock, env)
    else:
        chosen = _walk(packages, _roots(pyproject, selection, lock, manifest), env, path)
    pins, local = _split(_one_each(chosen, path), path)
    root = _root_local(pyproject, manifest)
    return Locked(
        source=path,
        kind=KIND,
        pins=pins,
        local=(*root, *local),
        index_urls=_index_urls(pyproject, chosen),
    )


def stale(lock: Path, pyproject: Path) -> str | None:
    """Why ``lock`` no longer matches ``pyproject`` (one line), or None when it does."""
    data = _load(lock, FIX)
    metadata = data.get("metadata")
    locked_hash = metadata.get("content-hash") if isinstance(metadata, dict) else None
    if not isinstance(locked_hash, str):
        return f"{lock.name} has no content-hash; run `poetry lock`"
    project = _load(pyproject, "fix the TOML syntax")
    hashes = {content_hash(project)}
    if _written_by(lock) < _GROUPS_HASHED_SINCE:
        hashes.add(content_hash(project, with_dependency_groups=False))
    if locked_hash in hashes:
        return None
    return f"{lock.name} is older than {pyproject.name}; run `poetry lock`"


def content_hash(pyproject: Mapping[str, Any], *, with_dependency_groups: bool = True) -> str:
    """Poetry's ``Locker._get_content_hash``: sha256 of the relevant pyproject tables as JSON."""
    project = _table(pyproject, "project")
    groups = _table(pyproject, "dependency-groups") if with_dependency_groups else {}
    poetry = _table(pyproject, "tool", "poetry")
    relevant_project = {
        key: project[key]
        for key in ("requires-python", "dependencies", "optional-dependencies")
        if project.get(key) is not None
    }
    relevant_poetry: dict[str, Any] = {}
    for key in ("dependencies", "source", "extras", "dev-dependencies", "group"):
        legacy = key != "group"  # always present (maybe null) unless [project] content exists
        if poetry.get(key) is None and (not legacy or relevant_project or groups):
            continue
        relevant_poetry[key] = poetry.get(key)
    content: dict[str, Any] = {}
    if relevant_project:
        content["project"] = relevant_project
    if groups:
        content["dependency-groups"] = groups
    content = {**content, "tool": {"poetry": relevant_poetry}} if content else relevant_poetry
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def _written_by(lock: Path) -> tuple[int, ...]:
    """The Poetry version in the lock's first line ("@generated by Poetry 2.1.3"); (9,) if none."""
    with lock.open(encoding="utf-8", errors="replace") as f:
        match = re.search(r"Poetry (\d+(?:\.\d+)*)", f.readline())
    return tuple(int(n) for n in match.group(1).split(".")) if match else (9,)


# ---------------------------------------------------------------------------------------------
# Files


def _load_manifest(manifest: Path) -> dict[str, Any]:
    return load_manifest(manifest, "poetry.lock")


def _broken(path: Path, what: str) -> ConfigError:
    return ConfigError(f"{path}: {what}; {FIX}")


def _field(table: Mapping[str, Any], key: str, kind: type | tuple[type, ...], path: Path, where: str,
           default: Any = None) -> Any:
    """``table[key]`` checked to be ``kind``; ``default`` when absent (missing if None)."""
    return checked_field(table, key, kind, path, where, default, fix=FIX)


# ---------------------------------------------------------------------------------------------
# The lock's packages


def _packages(lock: Mapping[str, Any], path: Path) -> list[_Package]:
    metadata = _field(lock, "metadata", dict, path, "the lock")
    version = _field(metadata, "lock-version", str, path, "[metadata]")
    if not re.fullmatch(r"[12]\.\d+", version):
        raise ConfigError(f"{path}: lock-version {version} is not one Poetry 1 or 2 writes; {FIX}")
    raw = _field(lock, "package", list, path, "the lock", default=[])
    return [_package(item, path, f"[[package]] #{n + 1}") for n, item in enumerate(raw)]


def _package(raw: Any, path: Path, where: str) -> _Package:
    if not isinstance(raw, dict):
        raise _broken(path, f"{where} is not a table")
    name = _field(raw, "name", str, path, where)
    where = f"[[package]] {name}"
    groups = raw.get("groups")
    if groups is not None and not _strings(groups):
        raise _broken(path, f"{where}: 'groups' is not a list of names")
    return _Package(
        name=canonical(name),
        version=_field(raw, "version", str, path, where),
        optional=_field(raw, "optional", bool, path, where, default=False),
        python=_field(raw, "python-versions", str, path, where, default="*"),
        groups=tuple(canonical(g) for g in groups) if groups is not None else None,
        markers=_group_markers(raw.get("markers", ""), groups or (), path, where),
        hashes=file_hashes(_field(raw, "files", list, path, where, default=[]), path, where, fix=FIX),
        source=_source(_field(raw, "source", dict, path, where, default={}), path, where),
        dependencies=_edges(_field(raw, "dependencies", dict, path, where, default={}), path, where),
        extras=_package_extras(_field(raw, "extras", dict, path, where, default={}), path, where),
    )


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _group_markers(raw: Any, groups: Sequence[str], path: Path, where: str) -> dict[str, str]:
    if isinstance(raw, str):
        return {canonical(g): raw for g in groups} if groups else {"main": raw}
    if isinstance(raw, dict) and all(isinstance(v, str) for v in raw.values()):
        return {canonical(g): m for g, m in raw.items()}
    raise _broken(path, f"{where}: 'markers' is neither a marker nor a table of them")


def _source(raw: Mapping[str, Any], path: Path, where: str) -> _Source:
    if not raw:
        return _Source("")
    return _Source(
        type=_field(raw, "type", str, path, f"{where} [package.source]"),
        url=_field(raw, "url", str, path, f"{where} [package.source]", default=""),
        reference=_field(raw, "reference", str, path, f"{where} [package.source]", default=""),
    )


def _package_extras(raw: Mapping[str, Any], path: Path, where: str) -> dict[str, frozenset[str]]:
    """``[package.extras]``: each a list of "name (constraint)" or PEP 508 strings."""
    extras = {}
    for extra, deps in raw.items():
        if not _strings(deps):
            raise _broken(path, f"{where}: extra {extra!r} is not a list of requirements")
        extras[canonical(extra)] = frozenset(_requirement_name(d) for d in deps)
    return extras


def _requirement_name(text: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", text)
    return canonical(match.group(1)) if match else ""


def _edges(raw: Mapping[str, Any], path: Path, where: str) -> tuple[_Edge, ...]:
    """A ``dependencies`` table: name -> constraint string, table, or list of tables."""
    edges: list[_Edge] = []
    for name, spec in raw.items():
        if canonical(name) == "python":
            continue
        for one in spec if isinstance(spec, list) else [spec]:
            edges.append(_edge(canonical(name), one, path, f"{where}: dependency {name!r}"))
    return tuple(edges)


def _edge(name: str, spec: Any, path: Path, where: str) -> _Edge:
    if isinstance(spec, str):
        return _Edge(name, spec)
    if not isinstance(spec, dict):
        raise _broken(path, f"{where} is neither a constraint nor a table")
    extras = _field(spec, "extras", list, path, where, default=[])
    markers = _field(spec, "markers", str, path, where, default="")
    platform = _field(spec, "platform", str, path, where, default="")
    if platform:  # Poetry's `platform = "linux"` is a sys_platform marker
        platform_marker = " or ".join(f'sys_platform == "{p.strip()}"' for p in platform.split("||"))
        markers = f"({markers}) and ({platform_marker})" if markers else platform_marker
    return _Edge(
        name=name,
        version=_field(spec, "version", str, path, where, default="*"),
        markers=markers,
        python=_field(spec, "python", str, path, where, default="*"),
        extras=tuple(canonical(e) for e in extras if isinstance(e, str)),
        optional=_field(spec, "optional", bool, path, where, default=False),
    )


# ---------------------------------------------------------------------------------------------
# Which packages: lock-version 2.1 (groups and markers in the lock)


def _by_groups(packages: Sequence[_Package], selection: Selection, lock: Mapping[str, Any],
               env: Mapping[str, str]) -> list[_Package]:
    groups = {"main", *(canonical(g) for g in selection.groups)}
    extras = tuple(canonical(e) for e in selection.extras)
    asked = _extra_packages(lock, extras)
    return [p for p in packages if _wanted(p, groups, extras, asked, env)]


def _wanted(package: _Package, groups: set[str], extras: Sequence[str], asked: set[str],
            env: Mapping[str, str]) -> bool:
    hit = [g for g in package.groups or () if g in groups]
    markers = [package.markers.get(g, "") for g in hit]
    if not any(holds(m, env, extras) for m in markers):
        return False
    # An optional package is there for an extra: only when one of the chosen extras asks for it.
    return not package.optional or package.name in asked or any("extra" in m for m in markers)


def _extra_packages(lock: Mapping[str, Any], extras: Sequence[str]) -> set[str]:
    table = lock.get("extras", {})
    if not isinstance(table, dict):
        return set()
    return {_requirement_name(n) for e, names in table.items() if canonical(e) in extras
            for n in (names if _strings(names) else [])}


# ---------------------------------------------------------------------------------------------
# Which packages: lock-version 2.0 (walk the graph from the pyproject's dependencies)


def _roots(pyproject: Mapping[str, Any], selection: Selection, lock: Mapping[str, Any],
           manifest: Path) -> list[_Edge]:
    """The root project's dependency edges: main, the chosen groups, the chosen extras."""
    project, poetry = _table(pyproject, "project"), _table(pyproject, "tool", "poetry")
    extras = {canonical(e) for e in selection.extras}
    if isinstance(project.get("dependencies"), list):  # Poetry 2: [tool.poetry] only enriches these
        edges = _pep508_edges(project["dependencies"], manifest)
    else:
        asked = _extra_packages(lock, tuple(extras)) | _extra_packages(poetry, tuple(extras))
        main = _edges(_table(poetry, "dependencies"), manifest, "[tool.poetry.dependencies]")
        edges = [e for e in main if not e.optional or e.name in asked]
    for extra, deps in _table(project, "optional-dependencies").items():
        if canonical(extra) in extras:
            edges += _pep508_edges(deps, manifest)
    return edges + _group_roots(pyproject, {canonical(g) for g in selection.groups}, manifest)


def _group_roots(pyproject: Mapping[str, Any], groups: set[str], manifest: Path) -> list[_Edge]:
    poetry = _table(pyproject, "tool", "poetry")
    tables = {canonical(g): _table(t, "dependencies") for g, t in _table(poetry, "group").items()}
    if "dev-dependencies" in poetry:  # Poetry 1.0-1.1
        tables.setdefault("dev", {}).update(_table(poetry, "dev-dependencies"))
    edges = [e for g, t in tables.items() if g in groups for e in _edges(t, manifest, f"group {g}")]
    for group, deps in _table(pyproject, "dependency-groups").items():
        if canonical(group) in groups and isinstance(deps, list):
            edges += _pep508_edges((d for d in deps if isinstance(d, str)), manifest)
    return edges


def _pep508_edges(requirements: Iterable[str], manifest: Path) -> list[_Edge]:
    from packaging.requirements import InvalidRequirement, Requirement

    edges = []
    for text in requirements:
        try:
            req = Requirement(text)
        except InvalidRequirement as exc:
            raise ConfigError(f"{manifest}: invalid requirement {text!r}: {exc}") from exc
        edges.append(_Edge(canonical(req.name), str(req.specifier) or "*", str(req.marker or ""),
                           extras=tuple(canonical(e) for e in req.extras)))
    return edges


def _walk(packages: Sequence[_Package], roots: Sequence[_Edge], env: Mapping[str, str],
          path: Path) -> list[_Package]:
    """Every package reachable from ``roots`` whose markers hold, with the extras asked of it."""
    by_name: dict[str, list[_Package]] = {}
    for p in packages:
        by_name.setdefault(p.name, []).append(p)
    reached: dict[int, set[str]] = {}  # id of a package -> the extras asked of it
    todo: list[tuple[_Edge, tuple[str, ...]]] = [(edge, ()) for edge in roots]
    while todo:
        edge, parent_extras = todo.pop()
        if not _applies(edge, parent_extras, env):
            continue
        package = _pick(by_name, edge, env, path)
        seen = id(package) in reached
        known = reached.setdefault(id(package), set())
        if seen and set(edge.extras) <= known:
            continue
        known.update(edge.extras)
        active = _active(package, known)
        todo += [(e, tuple(known)) for e in package.dependencies if e.name in active or not e.optional]
    return [p for p in packages if id(p) in reached]


def _active(package: _Package, extras: set[str]) -> set[str]:
    return {name for e in extras for name in package.extras.get(e, ())}


def _applies(edge: _Edge, extras: Sequence[str], env: Mapping[str, str]) -> bool:
    return holds(edge.markers, env, extras) and allows(edge.python, env["python_full_version"])


def _pick(by_name: Mapping[str, list[_Package]], edge: _Edge, env: Mapping[str, str],
          path: Path) -> _Package:
    """The locked package for ``edge``; several are locked only for different Pythons/markers."""
    found = by_name.get(edge.name, [])
    if len(found) > 1:
        found = [p for p in found if allows(p.python, env["python_full_version"])
                 and allows(edge.version, p.version)] or found
    if not found:
        raise ConfigError(f"{path}: {edge.name} is required but not locked; run `poetry lock`")
    if len(found) > 1:
        versions = ", ".join(p.version for p in found)
        raise ConfigError(f"{path}: {edge.name} is locked at {versions} and more than one fits the "
                          f"target; run `poetry lock`")
    return found[0]


# ---------------------------------------------------------------------------------------------
# Markers and Poetry's version constraints


def holds(marker: str, env: Mapping[str, str], extras: Sequence[str] = ()) -> bool:
    """A PEP 508 marker ("" is always true) for the target, with any of ``extras`` asked for."""
    if not marker.strip() or marker.strip() == "*":
        return True
    from packaging.markers import (
        InvalidMarker,
        Marker,
        UndefinedComparison,
        UndefinedEnvironmentName,
    )

    try:
        parsed = Marker(marker)
        return any(parsed.evaluate({**env, "extra": extra}) for extra in (*extras, ""))
    except (InvalidMarker, UndefinedComparison, UndefinedEnvironmentName) as exc:
        raise Unreadable(f"invalid marker {marker!r} ({exc})") from exc


_TOKEN = re.compile(r"(\^|~=|~|===|==|!=|>=|<=|>|<|=)?\s*(\*|[0-9][^\s,|]*)")


def allows(constraint: str, version: str) -> bool:
    """Whether a Poetry constraint (``^1.2``, ``~3.9``, ``>=3.8,<4``, ``3.7.* || >=3.9``) allows
    ``version``. Pre-releases count: the lock already chose the version."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    for alternative in re.split(r"\|\|?", constraint):
        specs = [_pep440(op or "", v) for op, v in _TOKEN.findall(alternative)]
        try:
            if SpecifierSet(",".join(s for s in specs if s)).contains(version, prereleases=True):
                return True
        except InvalidSpecifier as exc:
            raise Unreadable(f"cannot read the version constraint {constraint!r}") from exc
    return False


def _pep440(op: str, version: str) -> str:
    if version == "*":
        return ""
    if op in ("", "="):
        return f"=={version}"
    if op in ("^", "~"):
        return _caret(version) if op == "^" else _tilde(version)
    return f"{op}{version}"


def _release(version: str) -> list[int]:
    return [int(n) for n in re.findall(r"\d+", version.split("+")[0])[:3]] or [0]


def _caret(version: str) -> str:
    """``^1.2.3`` -> >=1.2.3,<2.0.0; ``^0.2.3`` -> <0.3.0; ``^0.0.3`` -> <0.0.4; ``^0`` -> <1."""
    parts = _release(version)
    first = next((i for i, n in enumerate(parts) if n), len(parts) - 1)
    upper = [*parts[:first], parts[first] + 1]
    return f">={version},<{'.'.join(map(str, upper))}"


def _tilde(version: str) -> str:
    """``~1.2.3`` -> >=1.2.3,<1.3.0; ``~1.2`` -> <1.3; ``~1`` -> <2."""
    parts = _release(version)
    keep = parts[:2] if len(parts) > 1 else parts[:1]
    upper = [*keep[:-1], keep[-1] + 1]
    return f">={version},<{'.'.join(map(str, upper))}"


# ---------------------------------------------------------------------------------------------
# Checks


def _check_python(lock: Mapping[str, Any], path: Path, target: Target) -> None:
    """The lock's markers were simplified for its Python range: outside it they are wrong."""
    wanted = lock["metadata"].get("python-versions", "*")
    if not isinstance(wanted, str):
        raise _broken(path, "[metadata] 'python-versions' is not a constraint")
    if not allows(wanted, f"{target.runtime.python_version}.0"):
        raise ConfigError(
            f"{path}: locked for Python {wanted}, which excludes the target {target.runtime.name}; "
            "choose a runtime the project allows, or widen its Python requirement and run `poetry lock`")


def _check_selection(selection: Selection, pyproject: Mapping[str, Any], lock: Mapping[str, Any],
                     path: Path, manifest: Path) -> None:
    name = _root_name(pyproject)
    if selection.package and canonical(selection.package) != name:
        raise ConfigError(f"{path}: Poetry has no workspace members, and the project here is "
                          f"{name or 'unnamed'}; drop `package` {selection.package!r}, or point "
                          "`lock` at that project's own poetry.lock")
    _check_known("dependency group", selection.groups, _group_names(pyproject, lock), manifest)
    _check_known("extra", selection.extras, _extra_names(pyproject, lock), manifest)


def _check_known(what: str, asked: Iterable[str], known: set[str], manifest: Path) -> None:
    missing = [a for a in asked if canonical(a) not in known]
    if missing:
        names = ", ".join(sorted(known)) or "none"
        raise ConfigError(f"{manifest}: no {what} {missing[0]!r} (the project has: {names}); "
                          "fix the selection in the lpack configuration")


def _group_names(pyproject: Mapping[str, Any], lock: Mapping[str, Any]) -> set[str]:
    poetry = _table(pyproject, "tool", "poetry")
    names = {"main", *_table(poetry, "group"), *_table(pyproject, "dependency-groups")}
    if "dev-dependencies" in poetry:
        names.add("dev")
    for package in lock.get("package", []):
        names.update(package.get("groups", ()))
    return {canonical(n) for n in names}


def _extra_names(pyproject: Mapping[str, Any], lock: Mapping[str, Any]) -> set[str]:
    poetry, project = _table(pyproject, "tool", "poetry"), _table(pyproject, "project")
    names = {*_table(lock, "extras"), *_table(poetry, "extras"), *_table(project, "optional-dependencies")}
    return {canonical(n) for n in names}


# ---------------------------------------------------------------------------------------------
# The result


def _one_each(chosen: Sequence[_Package], path: Path) -> list[_Package]:
    seen: dict[str, _Package] = {}
    for package in chosen:
        other = seen.setdefault(package.name, package)
        if other.version != package.version or other.source != package.source:
            raise ConfigError(f"{path}: {package.name} is locked at both {other.version} and "
                              f"{package.version} for this target; run `poetry lock`")
    return sorted(seen.values(), key=lambda p: p.name)


def _split(chosen: Sequence[_Package], path: Path) -> tuple[tuple[Pin, ...], tuple[Local, ...]]:
    pins: list[Pin] = []
    local: list[Local] = []
    for p in chosen:
        kind = p.source.type
        if kind in ("directory", "file"):
            local.append(Local(p.name, (path.parent / p.source.url).resolve()))
        elif kind == "git":
            raise ConfigError(f"{path}: {p.name} comes from git ({p.source.url}); git dependencies "
                              "are not supported yet; publish it to an index or make it a path dependency")
        elif kind == "url":
            pins.append(Pin(p.name, p.version, p.hashes, url=p.source.url))
        elif kind in ("", "legacy"):
            pins.append(Pin(p.name, p.version, p.hashes))
        else:
            raise _broken(path, f"{p.name} has the unknown source type {kind!r}")
    return tuple(pins), tuple(local)


def _root_name(pyproject: Mapping[str, Any]) -> str | None:
    name = _table(pyproject, "project").get("name") or _table(pyproject, "tool", "poetry").get("name")
    return canonical(name) if isinstance(name, str) else None


def _root_local(pyproject: Mapping[str, Any], manifest: Path) -> tuple[Local, ...]:
    """The project itself, built into a wheel, unless it says ``package-mode = false``."""
    if _table(pyproject, "tool", "poetry").get("package-mode", True) is False:
        return ()
    name = _root_name(pyproject)
    if name is None:
        raise ConfigError(f"{manifest}: the project has no name; set [project] name, or "
                          "`package-mode = false` under [tool.poetry] if it is not a package")
    return (Local(name, manifest.parent.resolve()),)


def _index_urls(pyproject: Mapping[str, Any], chosen: Sequence[_Package]) -> tuple[str, ...]:
    """The indexes the chosen pins come from, primary first, as Poetry orders its sources."""
    used = {p.source.url.rstrip("/") for p in chosen if p.source.type == "legacy"}
    if not used:
        return ()  # everything from PyPI (or local): the default index
    declared = _declared_sources(pyproject)
    pypi = any(p.source.type == "" for p in chosen)
    ranked = sorted(declared, key=lambda s: _PRIORITIES.index(s[0]))
    if pypi and not any(url == PYPI_SIMPLE for _, url in declared):
        ranked.insert(sum(1 for s in ranked if s[0] == "primary"), ("pypi", PYPI_SIMPLE))
    urls = [url for _, url in ranked if url.rstrip("/") in used or url == PYPI_SIMPLE and pypi]
    known = {u.rstrip("/") for u in urls}
    urls += sorted(u for u in used if u not in known)
    return tuple(urls)


def _declared_sources(pyproject: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``[[tool.poetry.source]]`` as (priority, url); PyPI named by name alone."""
    sources = _table(pyproject, "tool", "poetry").get("source", [])
    result = []
    for source in sources if isinstance(sources, list) else []:
        if not isinstance(source, dict):
            continue
        url = source.get("url") or (PYPI_SIMPLE if str(source.get("name", "")).lower() == "pypi" else "")
        if isinstance(url, str) and url:
            result.append((_priority(source), url))
    return result


def _priority(source: Mapping[str, Any]) -> str:
    priority = source.get("priority")
    if priority in _PRIORITIES:
        return str(priority)
    if source.get("secondary"):
        return "supplemental"
    return "primary"
