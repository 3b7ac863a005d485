"""Which files go into the package: the source and the installed dependencies, minus excludes.

Patterns use gitignore semantics (pathspec). The defaults drop what never belongs in a Lambda
package and what makes builds differ between machines; the user's ``exclude`` adds to them.
``*.dist-info`` folders stay: libraries read their own metadata at run time.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Protocol


class Defaults:
    """Built-in excludes, matched without compiling patterns (pathspec costs ~40 ms to import,
    which a rebuild after a source-only edit should not pay). Same semantics as the gitignore
    lines in ``as_patterns()``: folder names anywhere, folders at the root, file globs anywhere.
    """

    def __init__(self, dirs: Iterable[str], root_dirs: Iterable[str], files: Iterable[str],
                 root_files: Iterable[str] = (), in_dist_info: Iterable[str] = ()) -> None:
        self.dirs = {d for d in dirs if not _is_glob(d)}
        self.dir_globs = [d for d in dirs if _is_glob(d)]
        self.root_dirs = set(root_dirs)
        self.files = [f for f in files if _is_glob(f)]
        self.file_names = {f for f in files if not _is_glob(f)}
        self.root_files = {f for f in root_files if not _is_glob(f)}
        self.root_globs = [f for f in root_files if _is_glob(f)]
        self.in_dist_info = set(in_dist_info)

    def match_file(self, rel: str) -> bool:
        is_dir = rel.endswith("/")
        parts = rel.rstrip("/").split("/")
        folders = parts if is_dir else parts[:-1]
        if folders and folders[0] in self.root_dirs:
            return True
        if any(part in self.dirs or any(fnmatchcase(part, g) for g in self.dir_globs) for part in folders):
            return True
        if is_dir:
            return False
        name = parts[-1]
        if len(parts) == 1 and (name in self.root_files or any(fnmatchcase(name, g) for g in self.root_globs)):
            return True
        if len(parts) > 1 and parts[-2].endswith(".dist-info") and name in self.in_dist_info:
            return True
        return name in self.file_names or any(fnmatchcase(name, g) for g in self.files)

    def as_patterns(self) -> list[str]:
        """The same excludes as gitignore lines (a leading ``#`` escaped, as gitignore needs)."""
        return [f"\\{p}" if p.startswith("#") else p for p in self._patterns()]

    def _patterns(self) -> list[str]:
        return ([f"{d}/" for d in sorted(self.dirs) + self.dir_globs] + [f"/{d}/" for d in sorted(self.root_dirs)]
                + sorted(self.file_names) + self.files + [f"/{f}" for f in sorted(self.root_files) + self.root_globs]
                + [f"*.dist-info/{f}" for f in sorted(self.in_dist_info)])


def _is_glob(pattern: str) -> bool:
    return any(c in pattern for c in "*?[")


# Never useful in a function's source tree: caches, VCS, virtual environments, build output,
# editor files, other tools' build folders.
SOURCE_EXCLUDES = Defaults(
    dirs=("__pycache__", ".git", ".hg", ".svn", ".bzr", ".venv", "venv", ".tox", ".nox",
          ".pytest_cache", ".mypy_cache", ".ruff_cache", ".hypothesis", "htmlcov", ".lpack",
          ".aws-sam", ".serverless", "node_modules", "cdk.out", ".terraform", ".idea", ".vscode",
          "*.egg-info"),
    root_dirs=("dist", "build"),
    files=("*.py[cod]", "*$py.class", ".coverage", ".coverage.*", "*.swp", "*.swo", "*~", ".#*",
           "#*#", ".DS_Store", "Thumbs.db"),
)

# What a function's own source folder holds that does not run on Lambda: tests, sample events
# (`lpack events -o events/...`), docs, other tools' settings, deployment descriptions, and
# secrets files (`.env`: give Lambda environment variables instead). Left out of the function's
# and a layer's own source by default, never of dependencies (libraries read their own files);
# the `include` key brings any of them back. LICENSE, LICENCE, COPYING and NOTICE files ship
# (KEPT): a licence may require its text to travel with the code, and they are small.
NOT_RUNTIME = Defaults(
    dirs=(),
    root_dirs=("tests", "test", "events", "docs", ".github", ".gitlab", ".circleci", ".devcontainer"),
    files=("conftest.py", ".env", ".env.*", ".envrc"),
    root_files=(
        # documentation
        "README*", "CHANGELOG*", "CHANGES*", "HISTORY*", "CONTRIBUTING*", "CODE_OF_CONDUCT*", "*.md",
        # tests and sample events
        "test_*.py", "*_test.py", "pytest.ini", "tox.ini", "noxfile.py", "event*.json",
        # other tools' settings
        ".gitignore", ".gitattributes", ".gitmodules", ".editorconfig", ".pre-commit-config.yaml",
        "setup.cfg", "setup.py", "mypy.ini", ".flake8", ".pylintrc", ".coveragerc", "ruff.toml", ".ruff.toml",
        ".isort.cfg", ".tool-versions", "Makefile", "Justfile", "justfile",
        # container and deployment descriptions
        "Dockerfile", "Dockerfile.*", ".dockerignore", "docker-compose.y*ml", "compose.y*ml",
        "template.yaml", "template.yml", "template.json", "samconfig.toml", "samconfig.y*ml",
        "serverless.y*ml", "serverless.json", "serverless.ts", "serverless.js", "package.json", "package-lock.json",
        "cdk.json", "*.tf", "*.tfvars",
        ".terraform.lock.hcl",
    ),
)
KEPT = ("LICENSE*", "LICENCE*", "COPYING*", "NOTICE*")  # at the source root, though `*.md` matches them


# Installers' leftovers in a --target folder: console-script wrappers whose shebang names the
# build machine's Python, uv's lock file, bytecode, PEP 610 records of local paths, and uv's
# record of the source wheel's timestamp (which would make two builds of the same wheels differ).
DEPENDENCY_EXCLUDES = Defaults(
    dirs=("__pycache__",), root_dirs=("bin",), files=("*.py[cod]",), root_files=(".lock",),
    in_dist_info=("direct_url.json", "uv_cache.json"),
)


class Nothing:
    def match_file(self, rel: str) -> bool:
        return False


class SourcePatterns:
    """A deploy tool's packaging patterns over a function's own files (Serverless's
    ``package.patterns``, as gitignore lines), before ``also``: they decide files only, so a
    folder an earlier line excludes is still walked for the files a later line brings back, as
    Serverless's globs do. They are relative to the service's folder: a file of a function whose
    code is in its ``prefix`` folder (a serverless-python-requirements ``module``) is matched there."""

    def __init__(self, patterns: Matcher, also: Matcher, prefix: str = "") -> None:
        self.patterns, self.also, self.prefix = patterns, also, prefix

    def match_file(self, rel: str) -> bool:
        if not rel.endswith("/") and self.patterns.match_file(self.prefix + rel):
            return True
        return self.also.match_file(rel)


class RuntimeOnly:
    """A function's or layer's own source as it ships: SOURCE_EXCLUDES and NOT_RUNTIME left out,
    except what ``include`` (the user's patterns) and ``keep`` (exact paths, the handler's module)
    bring back. Remembers what NOT_RUNTIME left out, for ``lpack build -v``."""

    def __init__(self, include: Matcher, keep: Iterable[str] = ()) -> None:
        self.include = include
        self.keep = set(keep)
        self.left_out: list[str] = []

    def match_file(self, rel: str) -> bool:
        if SOURCE_EXCLUDES.match_file(rel):
            return True
        if rel.endswith("/"):
            return False  # walked: its files decide, so `include` can bring one back
        if not NOT_RUNTIME.match_file(rel) or rel in self.keep or self.include.match_file(rel):
            return False
        if "/" not in rel and any(fnmatchcase(rel, g) for g in KEPT):
            return False
        self.left_out.append(rel)
        return True


def describe_left_out(paths: Iterable[str]) -> str:
    """``README.md, tests/ (3 files), events/api.json``: a left-out root folder's files are
    counted under it, unless it is one file."""
    groups: dict[str, list[str]] = {}
    for rel in paths:
        top = rel.split("/", 1)[0]
        groups.setdefault(top + "/" if "/" in rel and top in NOT_RUNTIME.root_dirs else rel, []).append(rel)
    return ", ".join(files[0] if len(files) == 1 else f"{key} ({len(files)} files)" for key, files in groups.items())


def spec(patterns: Iterable[str]) -> Matcher:
    """The user's gitignore-style patterns; pathspec is imported only when there are some."""
    lines = list(patterns)
    if not lines:
        return Nothing()
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines(lines)


def tidy_records(tree: Path, excludes: Matcher) -> None:
    """Drop from each installed ``*.dist-info/RECORD`` the lines of files the package will not
    ship (excluded, or outside the tree like ``../../bin/tool``), so RECORD matches the package
    and does not carry the hash of a file that differs between machines."""
    for record in sorted(tree.glob("*.dist-info/RECORD")):
        lines = record.read_text(encoding="utf-8").splitlines(keepends=True)
        kept = [line for line in lines if _ships(line.split(",", 1)[0], excludes)]
        if kept != lines:
            record.write_text("".join(kept), encoding="utf-8")


def _ships(path: str, excludes: Matcher) -> bool:
    parts = path.strip('"').split("/")
    return ".." not in parts and not path.startswith("/") and not excludes.match_file("/".join(parts))


class Matcher(Protocol):
    def match_file(self, rel: str) -> bool: ...


def walk(root: Path, excludes: Matcher, skip: Iterable[Path] = (),
         within: Iterable[Path] = (), real: Callable[[Path], Path] = Path.resolve) -> Iterator[tuple[str, Path]]:
    """(posix path relative to root, path) for every file under root not excluded, sorted.

    Links to folders inside root or ``within`` (the project's root, then the folders its
    ``follow-links`` lists) are followed and their files stored as
    files; a link back to a folder already on the way down is not followed twice. A link to a
    folder anywhere else, or to a file outside root and the folders linked into it, is a
    ConfigError: ``secret -> /proc/self/environ``, ``-> ~/.aws/credentials`` or ``-> ~`` would
    put what it reaches in the zip. ``real`` resolves ``root``, ``skip`` and ``within`` (a build
    walking 200 functions of one project resolves its root and build inputs once, not 200 times).
    """
    skipped = {real(p) for p in skip}
    inside = [real(root)]  # where a linked file may point: root, and the folders linked into it
    allowed = (*(real(p) for p in within), inside[0])  # where a linked folder may point
    yield from _walk(root, inside[0], "", excludes, skipped, inside, allowed)


def _walk(here: Path, real_here: Path, prefix: str, excludes: Matcher, skipped: set[Path], inside: list[Path],
          allowed: tuple[Path, ...]) -> Iterator[tuple[str, Path]]:
    """``walk`` below ``here`` (really ``real_here``), whose files are ``prefix`` + their names:
    top-down as os.walk, one scandir a folder, and a path resolved only where it is a link."""
    try:
        with os.scandir(here) as listing:
            entries = sorted(listing, key=lambda entry: entry.name)
    except OSError:
        return  # as os.walk: a folder that cannot be listed is passed over
    files, folders = [], []
    for entry in entries:
        if not _is_dir(entry):
            files.append(entry)
            continue
        path = here / entry.name
        if excludes.match_file(prefix + entry.name + "/"):
            continue
        real_path = path.resolve() if entry.is_symlink() else real_here / entry.name
        if skipped and real_path in skipped:
            continue
        if os.path.isfile(os.path.join(entry.path, "pyvenv.cfg")):
            continue  # a virtual environment, whatever its name
        if entry.is_symlink():
            if real_path == real_here or real_path in real_here.parents:
                continue  # a link to a folder above: following it would never end
            inside.append(_linked_folder(path, allowed))
        folders.append((entry.name, path, real_path))
    for entry in files:
        rel, path = prefix + entry.name, here / entry.name
        if excludes.match_file(rel) or not _is_file(entry):
            continue
        link = entry.is_symlink()
        if skipped and (path.resolve() if link else real_here / entry.name) in skipped:
            continue
        if link:
            _check_link(path, inside)
        yield rel, path
    for name, path, real_path in folders:
        yield from _walk(path, real_path, prefix + name + "/", excludes, skipped, inside, allowed)


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def _is_file(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_file()
    except OSError:
        return False


# Folders of the running system, never source: /proc/self alone holds the build's environment and,
# through /proc/self/root, the whole file system.
_SYSTEM_FOLDERS = (Path("/proc"), Path("/sys"), Path("/dev"))


def _linked_folder(path: Path, allowed: tuple[Path, ...]) -> Path:
    from lpack.core.errors import ConfigError

    target = path.resolve()
    if any(target.is_relative_to(folder) for folder in _SYSTEM_FOLDERS):
        raise ConfigError(f"{path}: a link to {os.readlink(path)}, a folder of the running system: lpack does "
                          "not package it", tip="remove the link")
    if not any(target.is_relative_to(folder) for folder in allowed):
        project = allowed[0]
        raise ConfigError(f"{path}: a link to the folder {os.readlink(path)}, outside the project {project}: lpack "
                          "follows a link out of the project only to a folder that follow-links lists",
                          tip=f'if its files belong in the package, add follow-links = ["{os.path.relpath(target, project)}"] '
                          "to [tool.lpack] in pyproject.toml (or to lpack.toml); otherwise remove the link")
    return target


def _check_link(path: Path, inside: list[Path]) -> None:
    target = path.resolve()
    if not any(target.is_relative_to(folder) for folder in inside):
        from lpack.core.errors import ConfigError

        raise ConfigError(f"{path}: a link to {os.readlink(path)}, outside {inside[0]}: lpack does not package files "
                          "that links bring in from elsewhere",
                          tip="copy the file into the folder if it belongs in the package, or remove the link")
