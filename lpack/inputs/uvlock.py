"""uv.lock: the production set of one project (or one workspace member), for one target.

uv locks one universal resolution for a whole workspace. The set a function ships is what its
project reaches through the lock's dependency edges: every edge marker evaluated for the target,
an edge's ``extra = [..]`` adding that package's optional dependencies, the root's extras and
dependency groups only when asked for. Walking from one member gives that member's dependencies
only (uv#5792), never its neighbours'. Format: https://docs.astral.sh/uv/concepts/projects/layout/
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from lpack.core.errors import ConfigError
from lpack.core.targets import Target
from lpack.inputs import _lockfiles as lf
from lpack.inputs.locked import Local, Locked, Pin, Selection, canonical, marker_environment

KIND = "uv.lock"
REGENERATE = "`uv lock`"
_LOCAL_SOURCES = ("editable", "directory", "virtual", "path")
_ROOT_PATHS = (".", "")


class _Lock(NamedTuple):
    path: Path
    packages: list[dict[str, Any]]
    by_name: dict[str, list[int]]  # canonical name -> indexes into packages
    members: tuple[str, ...]  # canonical names of the workspace members ([manifest])


def read(path: Path, target: Target, selection: Selection) -> Locked:
    with lf.malformed(path, REGENERATE):
        lock = _load(path, target)
        root = _root(lock, selection)
        _check_selection(lock, root, selection)
        env = _environment(target, lock.packages[root]["name"], selection)
        reached = _walk(lock, root, selection, env)
        return _locked(lock, root, reached)


# --- reading the file ---------------------------------------------------------------------


def _load(path: Path, target: Target) -> _Lock:
    data = lf.load_toml(path)
    version = data.get("version")
    if version != 1:
        raise ConfigError(
            f"{path}: uv.lock format version {version!r} is not one lpack reads (it reads "
            f"version 1); update lpack, or lock with a uv that writes version 1"
        )
    lf.check_requires_python(path, data.get("requires-python"), target, REGENERATE)
    packages = lf.array(data, "package")
    by_name: dict[str, list[int]] = {}
    for i, package in enumerate(packages):
        by_name.setdefault(canonical(lf.string(package, "name")), []).append(i)
    members = tuple(canonical(m) for m in lf.array(lf.table(data, "manifest"), "members"))
    return _Lock(path, packages, by_name, members)


def _source(package: Mapping[str, Any]) -> tuple[str, Any]:
    """``source = { registry = "..." }`` -> ("registry", "...")."""
    source = lf.table(package, "source")
    if len(source) == 0:
        raise KeyError("source")
    kind = next(iter(source))
    return kind, source[kind]


def _is_root(package: Mapping[str, Any]) -> bool:
    kind, value = _source(package)
    return kind in ("editable", "directory", "virtual") and value in _ROOT_PATHS


# --- the root and what is asked of it -------------------------------------------------------


def _root(lock: _Lock, selection: Selection) -> int:
    if selection.package is None:
        return _lock_root(lock)
    wanted = canonical(selection.package)
    names = lock.members or (canonical(lock.packages[_lock_root(lock)]["name"]),)
    if wanted not in names:
        raise ConfigError(
            f"{lock.path}: {selection.package!r} is not a project of this workspace; "
            f"the members are {', '.join(sorted(names))}"
        )
    locals_ = [i for i in lock.by_name[wanted] if _source(lock.packages[i])[0] in _LOCAL_SOURCES]
    if len(locals_) != 1:
        raise ValueError(f"workspace member {wanted!r} is not locked as one local project")
    return locals_[0]


def _lock_root(lock: _Lock) -> int:
    roots = [i for i, package in enumerate(lock.packages) if _is_root(package)]
    if roots:
        return roots[0]
    members = ", ".join(sorted(lock.members)) or "none"
    raise ConfigError(
        f"{lock.path}: the workspace root is not a project (no [project] table); "
        f"set the function's package to one of the members: {members}"
    )


def _check_selection(lock: _Lock, root: int, selection: Selection) -> None:
    package = lock.packages[root]
    metadata = lf.table(package, "metadata")
    extras = {*lf.table(package, "optional-dependencies"), *lf.array(metadata, "provides-extras")}
    groups = {*lf.table(package, "dev-dependencies"), *lf.table(metadata, "requires-dev")}
    _check_names(lock.path, package["name"], "extra", selection.extras, extras)
    _check_names(lock.path, package["name"], "dependency group", selection.groups, groups)


def _check_names(
    path: Path, project: str, what: str, asked: Iterable[str], known: Iterable[str]
) -> None:
    known_names = {canonical(k) for k in known}
    unknown = [a for a in asked if canonical(a) not in known_names]
    if unknown:
        listed = ", ".join(sorted(known_names)) or "none"
        raise ConfigError(
            f"{path}: {project} has no {what} {unknown[0]!r} (it has: {listed}); "
            f"fix the name, or add it to pyproject.toml and run {REGENERATE}"
        )


# --- markers --------------------------------------------------------------------------------

# With `[tool.uv] conflicts`, uv marks fork edges with its own encoding of the root's extras and
# groups: extra == 'extra-4-conf-cpu' (the extra cpu of conf), extra != 'group-3-app-dev'.
_CONFLICT = re.compile(r"""extra\s*(==|!=)\s*(['"])((?:extra|group)-\d+-[^'"]+)\2""")


def _environment(target: Target, root_name: str, selection: Selection) -> dict[str, Any]:
    """Marker variables for the target, plus the root's chosen extras and groups as uv encodes
    them (evaluated as PEP 751 ``extras``)."""
    name = canonical(root_name)
    active = {f"extra-{len(name)}-{name}-{canonical(e)}" for e in selection.extras}
    active |= {f"group-{len(name)}-{name}-{canonical(g)}" for g in selection.groups}
    env: dict[str, Any] = dict(marker_environment(target))
    env.update(extras=frozenset(active), dependency_groups=frozenset())
    return env


def _marker_true(marker: object, env: Mapping[str, Any]) -> bool:
    if isinstance(marker, str) and _CONFLICT.search(marker):

        def as_set(m: re.Match[str]) -> str:
            return f"'{m[3]}' {'in' if m[1] == '==' else 'not in'} extras"

        return lf.marker_true(_CONFLICT.sub(as_set, marker), env, lock_file=True)
    return lf.marker_true(marker, env)


# --- walking the graph --------------------------------------------------------------------


def _walk(lock: _Lock, root: int, selection: Selection, env: Mapping[str, Any]) -> list[int]:
    """Indexes of the packages reached from ``root``, in the lock's order."""
    seen: set[tuple[int, str | None]] = {(root, None)}
    todo: list[tuple[int, str | None]] = []
    for edge in _root_edges(lock.packages[root], selection):
        todo += _follow(lock, edge, env)
    while todo:
        state = todo.pop()
        if state in seen:
            continue
        seen.add(state)
        for edge in _edges(lock.packages[state[0]], state[1]):
            todo += _follow(lock, edge, env)
    return sorted({index for index, _ in seen})


def _root_edges(package: Mapping[str, Any], selection: Selection) -> Iterator[dict[str, Any]]:
    yield from _edges(package, None)
    optional = {canonical(k): v for k, v in lf.table(package, "optional-dependencies").items()}
    groups = {canonical(k): v for k, v in lf.table(package, "dev-dependencies").items()}
    for extra in selection.extras:
        yield from optional.get(canonical(extra), [])
    for group in selection.groups:
        yield from groups.get(canonical(group), [])


def _edges(package: Mapping[str, Any], extra: str | None) -> list[dict[str, Any]]:
    """A package's own dependencies (``extra`` None), or those of one of its extras."""
    if extra is None:
        return lf.array(package, "dependencies")
    optional = {canonical(k): v for k, v in lf.table(package, "optional-dependencies").items()}
    edges = optional.get(extra, [])
    if not isinstance(edges, list):
        raise TypeError(f"optional-dependencies of {package['name']!r} should be an array")
    return edges


def _follow(
    lock: _Lock, edge: Mapping[str, Any], env: Mapping[str, Any]
) -> list[tuple[int, str | None]]:
    """The states an edge leads to for this target: the package, and each extra it asks for."""
    if not _marker_true(edge.get("marker"), env):
        return []
    index = _resolve(lock, edge)
    return [(index, None)] + [(index, canonical(e)) for e in lf.array(edge, "extra")]


def _resolve(lock: _Lock, edge: Mapping[str, Any]) -> int:
    """The package an edge names; ``version`` and ``source`` tell same-named packages apart."""
    name = canonical(lf.string(edge, "name"))
    candidates = lock.by_name.get(name, [])
    if len(candidates) > 1:
        candidates = [i for i in candidates if _matches(lock.packages[i], edge)]
    if len(candidates) != 1:
        raise ValueError(f"a dependency on {name!r} matches {len(candidates)} locked packages")
    return candidates[0]


def _matches(package: Mapping[str, Any], edge: Mapping[str, Any]) -> bool:
    if "version" in edge and package.get("version") != edge["version"]:
        return False
    return "source" not in edge or package.get("source") == edge["source"]


# --- what was reached ---------------------------------------------------------------------


def _locked(lock: _Lock, root: int, reached: list[int]) -> Locked:
    ordered = [root] + [i for i in reached if i != root]
    _check_one_version(lock, ordered)
    pins: list[Pin] = []
    local: list[Local] = []
    registries: list[str] = []
    for index in ordered:
        package = lock.packages[index]
        kind, value = _source(package)
        if kind == "registry":
            registries.append(value)
        item = _item(lock.path, package, kind, value)
        if isinstance(item, Pin):
            pins.append(item)
        elif isinstance(item, Local):
            local.append(item)
    index_urls, find_links = _registries(lock.path.parent, registries)
    return Locked(lock.path, KIND, tuple(pins), tuple(local), index_urls, find_links)


def _check_one_version(lock: _Lock, reached: list[int]) -> None:
    versions: dict[str, list[str]] = {}
    for index in reached:
        package = lock.packages[index]
        versions.setdefault(canonical(package["name"]), []).append(str(package.get("version")))
    for name, found in versions.items():
        if len(found) > 1:
            raise ConfigError(
                f"{lock.path}: {name} is reached in {len(found)} versions ({', '.join(found)}) "
                f"for this target; check the selected extras and groups do not conflict"
            )


def _item(path: Path, package: Mapping[str, Any], kind: str, value: Any) -> Pin | Local | None:
    name = canonical(lf.string(package, "name"))
    if kind == "virtual":
        return None  # nothing to build; its dependencies were followed
    if kind in _LOCAL_SOURCES:
        return Local(name, lf.absolute(path.parent, value))
    if kind == "git":
        raise ConfigError(
            f"{path}: {name} comes from git ({value}); lpack does not install git dependencies "
            f"yet; depend on a released version or a local checkout (a path source)"
        )
    if kind not in ("registry", "url"):
        raise ValueError(f"{name} has a source lpack does not know: {kind!r}")
    url = value if kind == "url" else None
    return Pin(name, lf.string(package, "version"), _hashes(package), url)


def _hashes(package: Mapping[str, Any]) -> tuple[str, ...]:
    files = [*lf.array(package, "wheels"), lf.table(package, "sdist")]
    found = [lf.string(f, "hash") for f in files if "hash" in f]
    return tuple(dict.fromkeys(found))


def _registries(base: Path, registries: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Index URLs, and the local folders uv writes relative to the lock (``find-links``)."""
    urls = [r for r in registries if "://" in r]
    folders = [str(lf.absolute(base, r)) for r in registries if "://" not in r]
    pages = [u for u in urls if u.lower().endswith((".html", ".htm"))]
    indexes = lf.ordered_indexes([u for u in urls if u not in pages])
    return indexes, tuple(dict.fromkeys(folders + pages))


# --- stale ----------------------------------------------------------------------------------


def stale(lock: Path, pyproject: Path) -> str | None:
    """Why ``lock`` no longer matches what the projects declare, or None when it does.

    uv records each local project's declared requirements in its ``[package.metadata]``; this
    compares them (names, extras, versions and markers; not sources) with the project's
    pyproject.toml: ``pyproject`` itself, then every workspace member and path dependency.
    """
    with lf.malformed(lock, REGENERATE):
        data = lf.load_toml(lock)
        projects = _local_projects(lock, data)
    folder = lf.absolute(pyproject.parent, ".")
    if folder not in projects and _declares_project(pyproject):
        return f"{lock.name} does not lock the project in {pyproject.parent}; run {REGENERATE}"
    for project in sorted(projects, key=lambda p: (p != folder, str(p))):
        reason = _project_stale(lock, project / "pyproject.toml", projects[project], data)
        if reason:
            return reason
    return None


def local_manifests(lock: Path) -> list[Path]:
    """The pyproject.toml of every project the lock builds from source (root, members, paths):
    what ``stale`` compares, so a verdict on them can be remembered by their bytes."""
    with lf.malformed(lock, REGENERATE):
        projects = _local_projects(lock, lf.load_toml(lock))
    return sorted(folder / "pyproject.toml" for folder in projects)


def _local_projects(lock: Path, data: Mapping[str, Any]) -> dict[Path, dict[str, Any]]:
    """Folder -> package of the projects the lock builds from source (root, members, paths)."""
    found = {}
    for package in lf.array(data, "package"):
        kind, value = _source(package)
        if kind in ("editable", "directory", "virtual"):
            found[lf.absolute(lock.parent, value)] = package
    return found


def member_at(lock: Path, folder: Path) -> str | None:
    """The workspace member whose project is ``folder``, named as the lock names it; None when
    the lock builds no member there (or only the project at its own root)."""
    stat = lock.stat()
    return _member_folders(lock, stat.st_size, stat.st_mtime_ns).get(Path(os.path.normpath(folder.absolute())))


@lru_cache(maxsize=8)
def _member_folders(lock: Path, _size: int, _mtime_ns: int) -> dict[Path, str]:
    """Folder -> name of the lock's workspace members but its root: read once a run for the
    functions of one workspace (its lock's size and mtime tell a rewritten one)."""
    with lf.malformed(lock, REGENERATE):
        data = lf.load_toml(lock)
        members = {canonical(m) for m in lf.array(lf.table(data, "manifest"), "members")}
        root = lf.absolute(lock.parent, ".")
        return {where: lf.string(package, "name") for where, package in _local_projects(lock, data).items()
                if where != root and canonical(lf.string(package, "name")) in members}


def _declares_project(pyproject: Path) -> bool:
    with lf.malformed(pyproject, REGENERATE, what="a pyproject.toml"):
        return bool(lf.table(lf.load_toml(pyproject), "project"))


def _project_stale(
    lock: Path, pyproject: Path, package: Mapping[str, Any], data: Mapping[str, Any]
) -> str | None:
    from lpack.inputs import _requirements as reqs

    if not pyproject.is_file():
        return None
    with lf.malformed(pyproject, REGENERATE, what="a pyproject.toml"):
        declared = reqs.declared(lf.load_toml(pyproject))
    if declared is None:
        return None
    with lf.malformed(lock, REGENERATE):
        recorded = reqs.recorded(lf.table(package, "metadata"))
        return reqs.difference(pyproject, declared, recorded, data.get("requires-python"))
