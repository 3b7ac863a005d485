"""The modules the Lambda Python runtime ships (boto3 and its dependencies), for local runs.

On Lambda, ``import boto3`` works without bundling it: the runtime has it. Locally the
interpreter may not. When an invocation fails on a missing runtime-provided module, lpack
installs boto3 for the target (as the build installs dependencies: uv or pip, binary wheels,
your index settings) into the cache once (a read-only tree, as the invoke cache keeps the
package's), and the run is repeated. Without an index (offline)
it says what to do instead.
"""

from __future__ import annotations

import re
from pathlib import Path

from lpack.analysis.import_paths import RUNTIME_PROVIDED
from lpack.core.targets import Target

# What `pip install boto3` brings: the runtime's own copies of these are what functions import.
DISTRIBUTION = "boto3"
_MISSING = re.compile(r"No module named '(?P<name>[A-Za-z0-9_]+)")


def folder(cache_root: Path, target: Target) -> Path:
    return cache_root / "invoke" / "runtime" / f"{target.runtime.name}-{target.architecture}"


def missing_module(error: dict[str, object] | None, among: frozenset[str] = RUNTIME_PROVIDED) -> str | None:
    """The top-level module of ``among`` (the runtime-provided ones) an error document says is missing, if any."""
    if not error:
        return None
    match = _MISSING.search(str(error.get("errorMessage", "")))
    if match and match["name"] in among:
        return match["name"]
    return None


def install(cache_root: Path, target: Target) -> Path:
    """Install boto3 and its dependencies for ``target`` into the cache, once, and return the
    folder; raises lpack.core.errors.ResolveError when it cannot (no index, no wheel)."""
    from lpack.bundle.install import install as run_installer
    from lpack.bundle.installer import find_installer
    from lpack.inputs.requirements_file import Requirements
    from lpack.invoke.extract import cached_tree

    dest = folder(cache_root, target)

    def fill(tree: Path) -> None:
        run_installer(find_installer(None), target, tree, [DISTRIBUTION], Requirements([DISTRIBUTION]),
                      cwd=tree.parent)

    return cached_tree(dest.parent, dest.name, fill)
