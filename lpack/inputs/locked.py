"""The dependency set a function ships, as every lock format reads into it.

A reader turns one lock file (uv.lock, poetry.lock, pdm.lock, Pipfile.lock, pylock.toml) into a
``Locked``: the exact ``name==version`` pins the function needs for one target (environment
markers already evaluated, dev groups left out), their hashes, the local projects that must be
built from their folders (never looked up on an index), and where the pinned files come from.
The installer is then told to install exactly that set with ``--no-deps``: nothing re-resolved.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

from lpack.core.targets import Target


class Pin(NamedTuple):
    """One locked distribution: canonical name, exact version, and its allowed hashes."""

    name: str  # canonical (PEP 503): lower case, runs of -_. as "-"
    version: str
    hashes: tuple[str, ...] = ()  # "sha256:<hex>", any of the lock's files for this version
    url: str | None = None  # a direct URL (or file path) the lock pins instead of an index


class Local(NamedTuple):
    """A project installed from its folder: a workspace member, a ``path`` dependency, the
    function's own packaged project. Built into a wheel in a temporary copy; never fetched."""

    name: str
    path: Path  # absolute folder (or a .whl / sdist file)


class Locked(NamedTuple):
    source: Path  # the lock file
    kind: str  # "uv.lock", "poetry.lock", "pdm.lock", "Pipfile.lock", "pylock.toml"
    pins: tuple[Pin, ...]
    local: tuple[Local, ...] = ()
    index_urls: tuple[str, ...] = ()  # first one is the primary index, the rest are extra
    find_links: tuple[str, ...] = ()  # absolute folders or URLs

    @property
    def hashed(self) -> bool:
        """Every pin has a hash (then the install requires them)."""
        return bool(self.pins) and all(p.hashes for p in self.pins)

    def describe(self) -> str:
        count = len(self.pins) + len(self.local)
        hashes = ", hashes" if self.hashed else ""
        return f"{self.source.name} ({count} package{'s' * (count != 1)}{hashes})"


class Selection(NamedTuple):
    """What of a lock a function asks for."""

    package: str | None = None  # a workspace member's name; None: the project at the lock's root
    groups: tuple[str, ...] = ()  # dependency groups / Poetry groups to add to the main ones
    extras: tuple[str, ...] = ()  # the root project's optional-dependencies to add


def marker_environment(target: Target) -> Mapping[str, str]:
    """PEP 508 marker variables as the Lambda runtime's interpreter reports them."""
    major, minor = target.runtime.python
    return {
        "implementation_name": "cpython",
        "implementation_version": f"{major}.{minor}.0",
        "os_name": "posix",
        "platform_machine": target.machine,
        "platform_python_implementation": "CPython",
        "platform_release": "",
        "platform_system": "Linux",
        "platform_version": "",
        "python_full_version": f"{major}.{minor}.0",
        "python_version": f"{major}.{minor}",
        "sys_platform": "linux",
        "extra": "",
    }


def canonical(name: str) -> str:
    import re

    return re.sub(r"[-_.]+", "-", name).lower()
