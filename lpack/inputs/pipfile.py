"""Pipfile.lock: the ``default`` category (plus the categories asked for), markers evaluated.

pipenv resolves each category once, on the machine that runs ``pipenv lock``, and writes flat
``name -> {version, hashes, markers}`` tables. A package whose marker did not hold on that
machine is written unresolved (``"version": "*"``, no hashes, its dependencies missing): for a
target where that marker holds the lock has nothing to install, and the reader says so.
``stale`` reproduces pipenv's hash of the Pipfile (pipenv/utils/pipfile.py ``calculate_hash``;
plette's ``Pipfile.get_hash`` before it) without importing pipenv.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from lpack.core.errors import ConfigError
from lpack.core.targets import Target
from lpack.inputs import _lockfiles as lf
from lpack.inputs.locked import Local, Locked, Pin, Selection, canonical, marker_environment

KIND = "Pipfile.lock"
REGENERATE = "`pipenv lock`"
# Pipfile section -> Pipfile.lock category; any other Pipfile table is a category of its own name.
_CATEGORIES = {
    "packages": "default",
    "default": "default",
    "dev-packages": "develop",
    "develop": "develop",
    "dev": "develop",
}
# Pipfile tables that are not package categories (plette's PIPFILE_SECTIONS).
_NOT_PACKAGES = ("source", "packages", "dev-packages", "requires", "scripts", "pipfile", "pipenv")
_PYPI = {"name": "pypi", "url": "https://pypi.org/simple", "verify_ssl": True}


def read(path: Path, target: Target, selection: Selection) -> Locked:
    with lf.malformed(path, REGENERATE):
        data = lf.load_json_object(path)
        meta = lf.table(data, "_meta")
        env = marker_environment(target)
        pins: dict[str, Pin] = {}
        local: dict[str, Local] = {}
        for name, entry in _entries(path, data, selection):
            if name in pins or name in local or not lf.marker_true(entry.get("markers"), env):
                continue
            item = _item(path, name, entry, target)
            if isinstance(item, Local):
                local[name] = item
            else:
                pins[name] = item
        # pipenv's first source is the primary index, as in the Pipfile.
        urls = tuple(dict.fromkeys(lf.string(s, "url") for s in lf.array(meta, "sources")))
        return Locked(path, KIND, tuple(pins.values()), tuple(local.values()), urls)


def _entries(
    path: Path, data: Mapping[str, Any], selection: Selection
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(canonical name, entry) of ``default`` then each asked-for category; the first one wins."""
    for category in ["default", *(_category(path, data, g) for g in selection.groups)]:
        for name, entry in lf.table(data, category).items():
            if not isinstance(entry, dict):
                raise TypeError(f"{category}.{name} should be an object")
            yield canonical(name), entry


def _category(path: Path, data: Mapping[str, Any], group: str) -> str:
    category = _CATEGORIES.get(group, group)
    if category not in data:
        known = ", ".join(sorted(k for k in data if k != "_meta"))
        raise ConfigError(
            f"{path}: no package category {group!r} (it has: {known}); fix the name, or add "
            f"[{group}] to the Pipfile and run {REGENERATE}"
        )
    return category


def _item(path: Path, name: str, entry: Mapping[str, Any], target: Target) -> Pin | Local:
    if "path" in entry:
        return Local(name, lf.absolute(path.parent, lf.string(entry, "path")))
    if "git" in entry or any(k in entry for k in ("hg", "svn", "bzr")):
        raise ConfigError(
            f"{path}: {name} comes from version control; lpack does not install VCS "
            "dependencies yet; depend on a released version or a local checkout (a path entry)"
        )
    version = str(entry.get("version", ""))
    hashes = tuple(lf.array(entry, "hashes"))
    if not all(isinstance(h, str) for h in hashes):
        raise TypeError(f"the hashes of {name!r} should be strings")
    if "file" in entry:
        return Pin(name, version.removeprefix("=="), hashes, lf.string(entry, "file"))
    if not version.startswith("==") or version.startswith("==="):
        raise ConfigError(
            f"{path}: {name} is not pinned (version {version or 'missing'!r}): pipenv leaves a "
            f"package unresolved when its markers ({entry.get('markers', 'none')}) do not hold "
            f"on the machine that runs `pipenv lock`, and {target.label} needs it; run "
            "`pipenv lock` on a machine matching the target, or use a uv or Poetry lock"
        )
    return Pin(name, version[2:].strip(), hashes)


# --- stale ----------------------------------------------------------------------------------


def stale(lock: Path, pipfile: Path) -> str | None:
    """Why ``lock`` no longer matches ``pipfile``, or None when pipenv's hash of it agrees."""
    with lf.malformed(lock, REGENERATE):
        recorded = lf.string(
            lf.table(lf.table(lf.load_json_object(lock), "_meta"), "hash"), "sha256"
        )
    with lf.malformed(pipfile, REGENERATE, what="a Pipfile"):
        hashes = pipfile_hashes(lf.load_toml(pipfile))
    if recorded in hashes:
        return None
    return (
        f"{pipfile.name} changed since {lock.name} was written (its hash is {hashes[0][:12]}…, "
        f"the lock's {recorded[:12]}…); run {REGENERATE}"
    )


def pipfile_hashes(pipfile: Mapping[str, Any]) -> tuple[str, ...]:
    """pipenv's hash of a Pipfile: names canonical (pipenv 2025+), then as written (plette),
    then as written without custom categories (plette before categories)."""
    return (
        _digest(_hashed(pipfile, canonical, True)),
        _digest(_hashed(pipfile, str, True)),
        _digest(_hashed(pipfile, str, False)),
    )


def _hashed(pipfile: Mapping[str, Any], name: Any, categories: bool) -> dict[str, Any]:
    def section(key: str) -> dict[str, Any]:
        return {name(k): v for k, v in lf.table(pipfile, key).items()}

    data: dict[str, Any] = {
        "_meta": {
            "sources": pipfile.get("source", [_PYPI]),
            "requires": lf.table(pipfile, "requires"),
        },
        "default": section("packages"),
        "develop": section("dev-packages"),
    }
    for key in pipfile:
        if categories and key not in _NOT_PACKAGES and key not in ("default", "develop"):
            data[key] = section(key)
    return data


def _digest(data: Mapping[str, Any]) -> str:
    content = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(content.encode("utf-8")).hexdigest()
