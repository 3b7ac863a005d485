"""Which files go into the package: the source and the installed dependencies, minus excludes.

Patterns use gitignore semantics (pathspec). The defaults drop what never belongs in a Lambda
package and what makes builds differ between machines; the user's ``exclude`` adds to them.
``*.dist-info`` folders stay: libraries read their own metadata at run time.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import pathspec

# Never useful in a function's source tree: caches, VCS, virtual environments, build output,
# editor files, other tools' build folders.
SOURCE_EXCLUDES = (
    "__pycache__/", "*.py[cod]", "*$py.class",
    ".git/", ".hg/", ".svn/", ".bzr/",
    ".venv/", "venv/", ".tox/", ".nox/", ".pytest_cache/", ".mypy_cache/", ".ruff_cache/",
    ".hypothesis/", ".coverage", ".coverage.*", "htmlcov/",
    "/dist/", "/build/", "*.egg-info/", ".lpack/",
    ".aws-sam/", ".serverless/", "node_modules/", "cdk.out/", ".terraform/",
    ".idea/", ".vscode/", "*.swp", "*.swo", "*~", ".#*", "#*#", ".DS_Store", "Thumbs.db",
)

# Installers' leftovers in a --target folder: console-script wrappers whose shebang names the
# build machine's Python, uv's lock file, bytecode, and PEP 610 records of local paths.
DEPENDENCY_EXCLUDES = (
    "/bin/", "/.lock", "__pycache__/", "*.py[cod]", "*.dist-info/direct_url.json",
)


def spec(patterns: Iterable[str]) -> pathspec.GitIgnoreSpec:
    return pathspec.GitIgnoreSpec.from_lines(list(patterns))


def walk(root: Path, excludes: pathspec.GitIgnoreSpec, skip: Iterable[Path] = ()) -> Iterator[tuple[str, Path]]:
    """(posix path relative to root, path) for every file under root not excluded, sorted."""
    skipped = {p.resolve() for p in skip}
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        rel_dir = here.relative_to(root).as_posix()
        prefix = "" if rel_dir == "." else rel_dir + "/"
        kept = []
        for name in sorted(dirs):
            path = here / name
            if excludes.match_file(prefix + name + "/") or path.resolve() in skipped:
                continue
            if (path / "pyvenv.cfg").is_file():
                continue  # a virtual environment, whatever its name
            kept.append(name)
        dirs[:] = kept
        for name in sorted(files):
            rel = prefix + name
            path = here / name
            if not excludes.match_file(rel) and path.is_file() and path.resolve() not in skipped:
                yield rel, path
