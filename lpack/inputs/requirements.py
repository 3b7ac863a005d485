"""A lock's set for the target, written as a requirements file the installer takes as it is.

Every line is an exact pin with its hashes, or a local project's folder (built into a wheel by
lpack, never asked of an index); the index options are the lock's own sources. Installed with
``--no-deps``: the lock already lists every package, so nothing is resolved again.
"""

from __future__ import annotations

from pathlib import Path

from lpack.inputs.locked import Locked


def from_lock(locked: Locked, own: Path | None = None) -> str:
    """The requirements text of ``locked``; ``own`` is the function's source folder: a local
    project that holds it is the function's own code, packaged from the source, not installed."""
    local = tuple(sorted(p for p in locked.local if own is None or not _holds(p.path, own)))
    installed = locked._replace(local=local)
    lines = [f"# {installed.describe()}", f"# read from {locked.source}"]
    lines += _index_options(locked)
    hashed = locked.hashed  # one line with a hash turns hash-checking on for all: all or none
    for pin in sorted(locked.pins):
        spec = f"{pin.name} @ {pin.url}" if pin.url else f"{pin.name}=={pin.version}"
        lines.append(" ".join([spec, *(f"--hash={h}" for h in pin.hashes if hashed)]))
    lines += [str(project.path) for project in local]
    return "\n".join(lines) + "\n"


def _index_options(locked: Locked) -> list[str]:
    options = []
    if locked.index_urls:
        options.append(f"--index-url {locked.index_urls[0]}")
        options += [f"--extra-index-url {url}" for url in locked.index_urls[1:]]
    elif locked.find_links:
        options.append("--no-index")  # the lock's packages came from these folders only
    options += [f"--find-links {link}" for link in locked.find_links]
    return options


def _holds(project: Path, source: Path) -> bool:
    project, source = project.resolve(), source.resolve()
    return project == source or project in source.parents
