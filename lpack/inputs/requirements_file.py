"""Read requirements files as pip does, enough to fingerprint them and to explain failures.

The installer itself reads the files (so ``--index-url``, ``--find-links``, ``--hash`` and the
rest are honoured exactly); lpack only follows ``-r``/``-c`` includes to hash every file that
shapes the result, notes whether hashes are present, and lists the top-level requirement names.
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

from lpack.core.errors import ConfigError

MAX_INCLUDE_DEPTH = 32  # -r/-c files deep: more is a mistake (or a generated attack), not a project
_INCLUDE = re.compile(r"^\s*(-r|--requirement|-c|--constraint)(?:\s+|=)(?P<path>\S+)")
_FIND_LINKS = re.compile(r"^\s*(-f|--find-links)(?:\s+|=)(?P<path>\S+)")
_NAME = re.compile(r"^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[[^\]]*\])?\s*(?:[<>=!~;@(-]|$)")
_ENV_VARS = re.compile(r"\$\{([A-Z0-9_]+)\}")

# Installer settings that change what gets installed; part of the cache key.
INSTALLER_ENV = (
    "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_NO_INDEX", "PIP_CONSTRAINT",
    "PIP_PRE", "UV_INDEX_URL", "UV_EXTRA_INDEX_URL", "UV_DEFAULT_INDEX", "UV_INDEX",
    "UV_FIND_LINKS", "UV_NO_INDEX", "UV_CONSTRAINT", "UV_OVERRIDE", "UV_PRERELEASE",
    "UV_EXCLUDE_NEWER",
)


class Requirements:
    def __init__(self, lines: list[str] | None = None) -> None:
        self.files: list[Path] = []
        self.lines: list[str] = lines or []  # requirement lines (no options), in order
        self.names: list[str] = []  # top-level project names, when parseable
        self.has_hashes = False
        self.local_paths: list[Path] = []  # find-links folders, local files
        self.local_projects: list[Path] = []  # local folders that are Python projects
        self.no_deps = False  # a complete set (from a lock): install exactly it, resolve nothing
        self.origin: Path | None = None  # the declaration these lines were written from, for messages

    @property
    def empty(self) -> bool:
        return not self.lines

    def copy(self) -> Requirements:
        """Another Requirements with the same contents, whose lists can be added to."""
        other = Requirements(list(self.lines))
        other.files, other.names = list(self.files), list(self.names)
        other.local_paths, other.local_projects = list(self.local_paths), list(self.local_projects)
        other.has_hashes, other.no_deps, other.origin = self.has_hashes, self.no_deps, self.origin
        return other

    def fingerprint(self, within: tuple[Path, ...] = (), known: dict[Path, str] | None = None) -> str:
        """A digest of the files and of the local folders they name; links in those folders are
        followed as far as ``within`` (the project's root and its follow-links) lets a build.
        ``known``: the local paths' fingerprints a run has worked out already (five sets sharing
        one wheelhouse walk it once), and where this one adds its own."""
        import hashlib  # here: its import loads OpenSSL, and most checks need no digest

        digest = hashlib.sha256()
        for path in self.files:
            digest.update(str(path.name).encode() + b"\0" + path.read_bytes() + b"\0")
        known = {} if known is None else known
        for path in self.local_paths:
            if (found := known.get(path)) is None:
                found = known[path] = _path_fingerprint(path, within)
            digest.update(found.encode())
        return digest.hexdigest()


def read_requirements(path: Path, extra_lines: list[str] | None = None) -> Requirements:
    reqs = Requirements()
    _read(path, reqs, seen=set())
    for line in extra_lines or []:
        _add_requirement(line, path.parent, reqs)
    return reqs


def _logical_lines(text: str) -> list[str]:
    joined = re.sub(r"\\\r?\n", " ", text)
    lines = []
    for raw in joined.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", raw).strip()
        if line:
            lines.append(_ENV_VARS.sub(lambda m: os.environ.get(m.group(1), m.group(0)), line))
    return lines


def _read(path: Path, reqs: Requirements, seen: set[Path], chain: tuple[Path, ...] = (), by: str = "") -> None:
    """Read ``path`` and the files it includes; ``chain`` holds the files including it, ``by``
    names the line that does (``a.txt: line 3``), for errors in a file the user did not name."""
    path = path.resolve()
    if path in seen:
        return  # included twice (a and b both include c): read once
    seen.add(path)
    text = _text(path, by)
    reqs.files.append(path)
    for line in _logical_lines(text):
        include = _INCLUDE.match(line)
        if include:
            where = f"{path}: line {_line_number(text, line)}"
            _read(_included(where, include.group("path"), (*chain, path)), reqs, seen, (*chain, path), where)
            continue
        links = _FIND_LINKS.match(line)
        if links:
            local = (path.parent / links.group("path"))
            if "://" not in links.group("path") and local.exists():
                reqs.local_paths.append(local.resolve())
            continue
        if line.startswith("-") and not line.startswith(("-e", "--editable")):
            continue  # an option line (--index-url, --hash on its own, --pre ...)
        try:
            _add_requirement(line, path.parent, reqs)
        except ValueError as exc:  # shlex: an unclosed quote
            raise ConfigError(f"{path}: line {_line_number(text, line)}: {exc}; close the quote") from exc


def _included(where: str, name: str, chain: tuple[Path, ...]) -> Path:
    """The file a ``-r``/``-c`` line at ``where`` names, below the files in ``chain``."""
    if "\0" in name:
        raise ConfigError(f"{where}: the included path {name!r} contains a NUL byte; correct the -r/-c line")
    try:
        target = (chain[-1].parent / name).resolve()
    except (OSError, RuntimeError, ValueError) as exc:  # a symbolic link loop, a name too long
        raise ConfigError(f"{where}: includes {name!r}, which cannot be read ({exc})") from exc
    if target in chain:
        raise ConfigError(f"{where}: includes {name!r}, which includes this file again (a cycle pip never ends); "
                          "remove one of the -r/-c lines")
    if len(chain) >= MAX_INCLUDE_DEPTH:
        raise ConfigError(f"{where}: includes {name!r}, more than {MAX_INCLUDE_DEPTH} files deep; "
                          "include the files from one requirements file instead")
    if target.is_dir():
        raise ConfigError(f"{where}: includes {name!r}, which is a folder; name a requirements file")
    if not target.is_file():
        raise ConfigError(f"{where}: includes {name!r}, which does not exist")
    return target


def _line_number(text: str, line: str) -> int:
    """The line of ``text`` where the logical ``line`` starts (1 when it cannot be told)."""
    start = line[:30]
    return next((n for n, raw in enumerate(text.splitlines(), start=1) if raw.strip().startswith(start)), 1)


def _text(path: Path, by: str = "") -> str:
    """The file's text; errors name the line that includes it, when one does."""
    included = f" (included at {by})" if by else ""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read requirements file: {exc.strerror}{included}") from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise ConfigError(f"{path}: line {line}: not UTF-8 text{included}; save the requirements file "
                          "as UTF-8") from exc


def _add_requirement(line: str, base: Path, reqs: Requirements) -> None:
    if "--hash" in line:
        reqs.has_hashes = True
    if line.startswith(("-e", "--editable")):
        spec = line.split(None, 1)[-1]
    else:  # shlex only when quoted: it costs 2 ms a line on a hashed lock's long lines
        spec = shlex.split(line)[0] if ("'" in line or '"' in line) else line.split(None, 1)[0]
    reqs.lines.append(line)
    local = base / spec
    if ("/" in spec or spec.startswith(".")) and local.exists():
        reqs.local_paths.append(local.resolve())
        if local.is_dir() and ((local / "pyproject.toml").is_file() or (local / "setup.py").is_file()):
            reqs.local_projects.append(local.resolve())
        return
    name = _NAME.match(line)  # PEP 508 name (packaging's parser costs 25 ms to import)
    if name:
        reqs.names.append(name.group(1))


def _path_fingerprint(path: Path, within: tuple[Path, ...] = ()) -> str:
    """Names and contents of a local folder's files (a --find-links folder, a local project), or of
    one local file: the same on every machine and checkout, so a dependency cache key (shared in
    CI) does not change with a git checkout's new modification times."""
    from lpack.core.cache import remembered_sha256
    from lpack.core.select import SOURCE_EXCLUDES, walk

    if path.is_file():
        return f"{path.name}:{remembered_sha256(path)}\n"
    return "\n".join(f"{rel}:{remembered_sha256(child)}" for rel, child in walk(path, SOURCE_EXCLUDES, within=within)) + "\n"


def rewrite(reqs: Requirements, wheels: dict[Path, Path], folder: Path, *, hashed: bool = False) -> list[Path]:
    """Copies of the requirements files in ``folder`` in which each local project is replaced by
    the wheel built from it, and every other relative path is made absolute. Returns the copies,
    in the order of ``reqs.files``. In a ``hashed`` install each built wheel carries its own
    sha256, as hash-checking mode requires of every line."""
    copies = {path: folder / f"requirements-{i}.txt" for i, path in enumerate(reqs.files)}
    if hashed:
        wheels = {project: Path(f"{wheel} --hash=sha256:{_sha256(wheel)}") for project, wheel in wheels.items()}
    for path, copy in copies.items():
        lines = [_rewrite_line(line, path.parent, copies, wheels) for line in _logical_lines(path.read_text(encoding="utf-8"))]
        copy.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return list(copies.values())


def _rewrite_line(line: str, base: Path, copies: dict[Path, Path], wheels: dict[Path, Path]) -> str:
    include = _INCLUDE.match(line)
    if include:
        target = (base / include.group("path")).resolve()
        return f"{include.group(1)} {copies.get(target, target)}"
    links = _FIND_LINKS.match(line)
    if links and "://" not in links.group("path"):
        return f"--find-links {(base / links.group('path')).resolve()}"
    editable = line.startswith(("-e ", "--editable"))
    spec_line = line.split(None, 1)[-1] if editable else line
    spec, _, rest = spec_line.partition(" ")
    local = base / spec
    if ("/" in spec or spec.startswith(".")) and local.exists():
        resolved = local.resolve()
        return f"{wheels.get(resolved, resolved)} {rest}".strip()
    return line


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()
