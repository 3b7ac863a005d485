"""Requirements as uv.lock records them and as pyproject.toml declares them, compared by meaning.

uv rewrites what it records: ``python_version < '3.12'`` becomes ``python_full_version < '3.12'``,
``and`` terms are sorted, names and extras normalised, an optional dependency gains
``extra == '<name>'``. So two requirements are the same when their names, extras and version
specifiers are, and their markers agree on every environment of a small grid: comparing the
strings would call every such lock stale.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from lpack.analysis.package import display_path
from lpack.inputs import _lockfiles as lf
from lpack.inputs.locked import canonical

_PYTHONS = [f"3.{minor}.{patch}" for minor in range(6, 17) for patch in (0, 1)]
_MACHINES = ("x86_64", "aarch64")
_PLATFORMS = (
    ("linux", "Linux", "posix"),
    ("darwin", "Darwin", "posix"),
    ("win32", "Windows", "nt"),
)


class Declared(NamedTuple):
    dist: list[Requirement]  # dependencies, and optional ones with their ``extra ==`` marker
    groups: dict[str, list[Requirement]]  # canonical group name -> requirements


def declared(pyproject: Mapping[str, Any]) -> Declared | None:
    """What a pyproject.toml declares, as uv records it; None without a [project] table."""
    project = lf.table(pyproject, "project")
    if not project:
        return None
    dist = [Requirement(r) for r in lf.array(project, "dependencies")]
    for extra, requirements in lf.table(project, "optional-dependencies").items():
        dist += [_with_extra(Requirement(r), canonical(extra)) for r in requirements]
    groups = _groups(lf.table(pyproject, "dependency-groups"))
    legacy = lf.array(lf.table(lf.table(pyproject, "tool"), "uv"), "dev-dependencies")
    if legacy:
        groups["dev"] = groups.get("dev", []) + [Requirement(r) for r in legacy]
    return Declared(dist, groups)


def recorded(metadata: Mapping[str, Any]) -> Declared:
    """What uv recorded in a package's ``[package.metadata]``."""
    dist = [_from_table(t) for t in lf.array(metadata, "requires-dist")]
    groups = {
        canonical(g): [_from_table(t) for t in tables]
        for g, tables in lf.table(metadata, "requires-dev").items()
    }
    return Declared(dist, groups)


def difference(
    pyproject: Path, declared: Declared, recorded: Declared, requires_python: object
) -> str | None:
    """A one-line reason the two differ, or None."""
    grid = _grid(_extras([declared, recorded]), requires_python)
    where = display_path(pyproject)
    changed = _changed(f"{where}'s dependencies", declared.dist, recorded.dist, grid)
    for group in sorted({*declared.groups, *recorded.groups}):
        changed = changed or _changed(
            f"{where}'s dependency group {group!r}",
            declared.groups.get(group, []),
            recorded.groups.get(group, []),
            grid,
        )
    return changed



def _changed(
    what: str, now: Sequence[Requirement], then: Sequence[Requirement], grid: list[dict[str, str]]
) -> str | None:
    now_keys = {_key(r, grid): str(r) for r in now}
    then_keys = {_key(r, grid): str(r) for r in then}
    added = sorted(f"'{now_keys[k]}'" for k in now_keys.keys() - then_keys.keys())
    removed = sorted(f"'{then_keys[k]}'" for k in then_keys.keys() - now_keys.keys())
    if not added and not removed:
        return None
    parts = [f"added {', '.join(added)}"] * bool(added) + [f"removed {', '.join(removed)}"] * bool(
        removed
    )
    return f"{what} changed since uv.lock was written ({'; '.join(parts)}); run `uv lock`"


def _key(req: Requirement, grid: list[dict[str, str]]) -> tuple[object, ...]:
    marker = req.marker
    signature = tuple(marker.evaluate(env) for env in grid) if marker else ()
    if signature and all(signature):
        signature = ()
    specifiers = frozenset(req.specifier)
    return canonical(req.name), frozenset(canonical(e) for e in req.extras), specifiers, signature


def _with_extra(req: Requirement, extra: str) -> Requirement:
    condition = f"extra == '{extra}'"
    req.marker = Marker(f"({req.marker}) and {condition}" if req.marker else condition)
    return req


def _from_table(entry: Mapping[str, Any]) -> Requirement:
    extras = lf.array(entry, "extras")
    text = lf.string(entry, "name") + (f"[{','.join(extras)}]" if extras else "")
    text += str(entry.get("specifier", ""))
    if entry.get("marker"):
        text += f"; {entry['marker']}"
    return Requirement(text)


def _groups(tables: Mapping[str, Any]) -> dict[str, list[Requirement]]:
    """PEP 735 groups with every ``{include-group = ..}`` expanded."""
    by_name = {canonical(k): v for k, v in tables.items()}
    return {name: _expand(by_name, name, ()) for name in by_name}


def _expand(groups: Mapping[str, Any], name: str, seen: tuple[str, ...]) -> list[Requirement]:
    if name in seen or name not in groups:
        raise ValueError(f"dependency group {name!r} is missing or includes itself")
    out: list[Requirement] = []
    for item in groups[name]:
        if isinstance(item, dict):
            out += _expand(groups, canonical(lf.string(item, "include-group")), (*seen, name))
        else:
            out.append(Requirement(item))
    return out


def _extras(declarations: Iterable[Declared]) -> set[str]:
    names: set[str] = set()
    for declaration in declarations:
        for req in [*declaration.dist, *itertools.chain(*declaration.groups.values())]:
            names.update(_extra_names(str(req.marker or "")))
    return names


def _extra_names(marker: str) -> set[str]:
    import re

    return {canonical(m) for m in re.findall(r"extra\s*==\s*['\"]([^'\"]+)['\"]", marker)}


def _grid(extras: set[str], requires_python: object) -> list[dict[str, str]]:
    """Environments to compare markers on: Pythons the lock covers x machines x systems x extras."""
    spec = SpecifierSet(requires_python if isinstance(requires_python, str) else "")
    pythons = [p for p in _PYTHONS if spec.contains(p, prereleases=True)] or _PYTHONS
    grid = []
    for python, machine, (platform, system, os_name), extra in itertools.product(
        pythons, _MACHINES, _PLATFORMS, ["", *sorted(extras)]
    ):
        grid.append(
            {
                "python_version": python.rsplit(".", 1)[0],
                "python_full_version": python,
                "implementation_name": "cpython",
                "implementation_version": python,
                "platform_python_implementation": "CPython",
                "platform_machine": machine,
                "sys_platform": platform,
                "platform_system": system,
                "os_name": os_name,
                "platform_release": "",
                "platform_version": "",
                "extra": extra,
            }
        )
    return grid
