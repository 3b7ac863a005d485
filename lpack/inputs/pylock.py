"""pylock.toml (PEP 751): the packages whose marker holds for the target, each from its own file.

A PEP 751 lock is a flat list: a package is installed when its ``marker`` is true for the
target, with the PEP 751 variables ``extras`` and ``dependency_groups`` set from the selection
(plus the lock's ``default-groups``). Each pinned package gets the one file of the lock the
target can install (the most specific compatible wheel, else the sdist) as its URL, with every
hash the lock records for it. Spec: https://packaging.python.org/en/latest/specifications/pylock-toml/
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from lpack.core.errors import ConfigError
from lpack.core.targets import Target
from lpack.inputs import _lockfiles as lf
from lpack.inputs.locked import Local, Locked, Pin, Selection, canonical, marker_environment

KIND = "pylock.toml"
REGENERATE = "the tool that wrote it (`pip lock`, `uv export --format pylock.toml`)"


def read(path: Path, target: Target, selection: Selection) -> Locked:
    with lf.malformed(path, REGENERATE):
        data = lf.load_toml(path)
        _check_version(path, data)
        lf.check_requires_python(path, data.get("requires-python"), target, REGENERATE)
        env = _environment(path, data, target, selection)
        chosen = [
            p
            for p in lf.array(data, "packages")
            if lf.marker_true(p.get("marker"), env, lock_file=True)
        ]
        _check_unique(path, chosen)
        items = [_item(path, package, target) for package in chosen]
        pins = tuple(i for i in items if isinstance(i, Pin))
        local = tuple(i for i in items if isinstance(i, Local))
        index_urls, find_links = _indexes(chosen)
        return Locked(path, KIND, pins, local, index_urls, find_links)


def _check_version(path: Path, data: Mapping[str, Any]) -> None:
    version = lf.string(data, "lock-version")
    if version.split(".")[0] != "1":
        raise ConfigError(
            f"{path}: lock-version {version!r} is not one lpack reads (it reads 1.x); "
            f"update lpack, or regenerate the lock with {REGENERATE}"
        )


# --- the marker environment ---------------------------------------------------------------


def _environment(
    path: Path, data: Mapping[str, Any], target: Target, selection: Selection
) -> dict[str, Any]:
    """PEP 508 variables for the target, plus PEP 751's ``extras`` and ``dependency_groups``."""
    extras = _chosen(path, data, "extras", "extra", selection.extras)
    groups = _chosen(path, data, "dependency-groups", "dependency group", selection.groups)
    defaults = {canonical(g) for g in lf.array(data, "default-groups")}
    env: dict[str, Any] = dict(marker_environment(target))
    env["extras"] = frozenset(extras)
    env["dependency_groups"] = frozenset(groups | defaults)
    return env


def _chosen(
    path: Path, data: Mapping[str, Any], key: str, what: str, asked: tuple[str, ...]
) -> set[str]:
    """The selection's names, each checked against what the lock says it can install."""
    names = {canonical(a) for a in asked}
    known = {canonical(k) for k in lf.array(data, key)}
    unknown = sorted(names - known)
    if unknown and not known:
        raise ConfigError(
            f"{path}: the lock has no {what}s to choose from (its tool chose them when it "
            f"wrote it); drop {unknown[0]!r} from the selection, or lock again with it"
        )
    if unknown:
        raise ConfigError(
            f"{path}: the lock has no {what} {unknown[0]!r} (it has: {', '.join(sorted(known))}); "
            "fix the name, or lock again with it"
        )
    return names


def _check_unique(path: Path, chosen: list[dict[str, Any]]) -> None:
    seen: set[str] = set()
    for package in chosen:
        name = canonical(lf.string(package, "name"))
        if name in seen:
            raise ConfigError(
                f"{path}: {name} is locked more than once with markers that all hold for this "
                f"target; regenerate the lock with {REGENERATE}"
            )
        seen.add(name)


# --- one package --------------------------------------------------------------------------


def _item(path: Path, package: Mapping[str, Any], target: Target) -> Pin | Local:
    name = canonical(lf.string(package, "name"))
    _check_package_python(path, name, package, target)
    if "vcs" in package:
        raise ConfigError(
            f"{path}: {name} comes from version control; lpack does not install VCS "
            "dependencies yet; depend on a released version or a local checkout (a directory)"
        )
    if "directory" in package:
        return Local(
            name, lf.absolute(path.parent, lf.string(lf.table(package, "directory"), "path"))
        )
    if "archive" in package:
        archive = lf.table(package, "archive")
        version = str(package.get("version", ""))
        return Pin(name, version, _file_hashes([archive]), _location(path, archive))
    files = [
        *lf.array(package, "wheels"),
        *([lf.table(package, "sdist")] if "sdist" in package else []),
    ]
    if not files:
        raise ValueError(f"{name} has no wheels, sdist, archive, directory or vcs")
    version = lf.string(package, "version")
    return Pin(name, version, _file_hashes(files), _pick(path, name, version, package, target))


def _check_package_python(
    path: Path, name: str, package: Mapping[str, Any], target: Target
) -> None:
    from packaging.specifiers import SpecifierSet

    spec = package.get("requires-python")
    if spec is not None and not SpecifierSet(spec).contains(
        lf.python_full_version(target), prereleases=True
    ):
        raise ConfigError(
            f"{path}: {name} requires Python {spec}, but {target.label} runs Python "
            f"{target.runtime.python_version}; lock for the target's Python"
        )


def _file_hashes(files: list[dict[str, Any]]) -> tuple[str, ...]:
    hashes = [h for f in files for h in lf.hash_strings(lf.table(f, "hashes"))]
    return tuple(dict.fromkeys(hashes))


def _location(path: Path, file: Mapping[str, Any]) -> str:
    """A file's URL, or its path made absolute (PEP 751 paths are relative to the lock)."""
    if "url" in file:
        return lf.string(file, "url")
    return str(lf.absolute(path.parent, lf.string(file, "path")))


def _filename(file: Mapping[str, Any]) -> str:
    if "name" in file:
        return lf.string(file, "name")
    where = lf.string(file, "url") if "url" in file else lf.string(file, "path")
    return unquote(urlsplit(where).path).rsplit("/", 1)[-1]


def _pick(path: Path, name: str, version: str, package: Mapping[str, Any], target: Target) -> str:
    """The most specific wheel the target accepts, else the sdist."""
    from packaging.utils import parse_wheel_filename

    rank = {tag: i for i, tag in enumerate(lf.target_tags(target))}
    best, best_rank = None, math.inf
    for wheel in lf.array(package, "wheels"):
        wheel_rank = min(rank.get(t, math.inf) for t in parse_wheel_filename(_filename(wheel))[3])
        if wheel_rank < best_rank:
            best, best_rank = wheel, wheel_rank
    if best is None and "sdist" in package:
        best = lf.table(package, "sdist")
    if best is None:
        listed = ", ".join(_filename(w) for w in lf.array(package, "wheels"))
        raise ConfigError(
            f"{path}: {name} {version} has no file {target.label} can install (the lock has "
            f"{listed}, and no sdist); lock for the target: `pip lock` locks for the machine "
            "it runs on, `uv export --format pylock.toml` for every platform"
        )
    return _location(path, best)


# --- where the files come from ------------------------------------------------------------


def _indexes(chosen: list[dict[str, Any]]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``index`` URLs (uv writes them): a folder holding the files is a find-links location."""
    urls: list[str] = []
    folders: list[str] = []
    for package in chosen:
        if "index" not in package:
            continue
        index = lf.string(package, "index")
        if _is_flat(index, package):
            folders.append(
                url2pathname(urlsplit(index).path) if index.startswith("file:") else index
            )
        else:
            urls.append(index)
    return lf.ordered_indexes(urls), tuple(dict.fromkeys(folders))


def _is_flat(index: str, package: Mapping[str, Any]) -> bool:
    files = [
        *lf.array(package, "wheels"),
        *([lf.table(package, "sdist")] if "sdist" in package else []),
    ]
    urls = [str(f.get("url", "")) for f in files]
    return bool(urls) and all(u.rsplit("/", 1)[0] == index.rstrip("/") for u in urls)
