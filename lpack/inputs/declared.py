"""Which dependency declaration a function installs from, decided once for every command.

A project may declare its dependencies in many places: ``requirements.txt``, PEP 621
``[project].dependencies`` and PEP 735 ``[dependency-groups]``, ``[tool.poetry]``, a
``Pipfile``, and the locks their tools write (``uv.lock``, ``poetry.lock``, ``pdm.lock``,
``Pipfile.lock``, ``pylock.toml``). Precedence, for a function without ``requirements`` or
``lock`` in its configuration:

1. a lock file (exactly one; a second one is an error), with its own manifest beside it;
2. otherwise ``requirements.txt`` (a pip-tools, uv, ``lpack lock`` or hatch-pip-compile compile of
   ``pyproject.toml`` is its lock);
3. otherwise ``[project].dependencies`` (resolved by the installer: not locked).

Every declaration found is either used or refused: two competing sources, a lock older than its
manifest, or a manifest whose lock is missing (Poetry, pipenv) stop the build with exit 2 and a
line naming the file and what to do. A ``requirements.txt`` exported from the lock (``uv
export``, ``poetry export``, ``pdm export``, ``pipenv requirements``: its header says so, or
every line pins a version the lock has) is the same truth: the lock is installed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from lpack.analysis.package import display_path
from lpack.core.compat import tomllib
from lpack.core.errors import ConfigError, LpackError
from lpack.core.targets import Target
from lpack.inputs.locked import Locked, Selection, canonical

LOCK_NAMES = ("uv.lock", "poetry.lock", "pdm.lock", "Pipfile.lock")
REQUIREMENTS = "requirements.txt"
_PYLOCK = re.compile(r"^pylock\.([^.]+\.)?toml$")
# The tool whose lock a requirements.txt was exported from, by its header comment.
_EXPORTED = (("uv export", "uv.lock"), ("poetry export", "poetry.lock"), ("pdm export", "pdm.lock"),
             ("pipenv requirements", "Pipfile.lock"))


def is_lock(path: Path) -> bool:
    return path.name in LOCK_NAMES or bool(_PYLOCK.match(path.name))


def lock_kind(path: Path) -> str:
    return "pylock.toml" if _PYLOCK.match(path.name) else path.name


class Choice(NamedTuple):
    """The dependency declaration a unit installs from (at most one of the three paths is set)."""

    requirements: Path | None = None  # a requirements file (pip's format, maybe a pip-tools lock)
    lock: Path | None = None  # a lock file, read natively
    manifest: Path | None = None  # pyproject.toml whose [project] dependencies are installed unlocked
    note: str = ""  # what was found and set aside, said with the build
    unlocked: Path | None = None  # a requirements.in with no lock yet: only `lpack lock` may proceed
    package: str | None = None  # the uv workspace member the function's folder is: what of the lock it ships

    @property
    def path(self) -> Path | None:
        return self.requirements or self.lock or self.manifest


class Found(NamedTuple):
    kind: str  # "requirements", "lock", "pep621", "poetry", "Pipfile"
    path: Path


def choose(folders: Iterable[Path], where: str, *, requirements: Path | None = None,
           lock: Path | None = None) -> Choice:
    """The declaration to install from: the configured one, else the one found in ``folders``
    (the project's root, then the function's source folder)."""
    if requirements is not None and lock is not None:
        raise ConfigError(f"{where}: both `requirements` and `lock` are set; keep the one to install from")
    if requirements is not None:
        return Choice(requirements=requirements)
    if lock is not None:
        if not is_lock(lock):
            raise ConfigError(f"{where}: lock: {lock.name!r} is not a lock lpack reads; name a uv.lock, "
                              "poetry.lock, pdm.lock, Pipfile.lock or pylock.toml (a requirements file goes in `requirements`)")
        _refuse_stale(lock)
        return Choice(lock=lock)
    folders = list(folders)
    found = _dedupe(f for folder in folders for f in scan(folder))
    choice = _decide(found, where)
    own = folders[-1] if folders else None  # the function's source folder (or the project's root)
    if own is not None and choice.lock is not None and lock_kind(choice.lock) == "uv.lock":
        return _as_member(choice, choice.lock, own)
    if own is not None and choice.manifest is not None and choice.manifest.parent == own:
        return _in_workspace(own) or choice
    if own is not None and choice == Choice():
        return _in_enclosing_member(own) or choice
    return choice


def _as_member(choice: Choice, lock: Path, own: Path) -> Choice:
    """``choice`` (a uv.lock) for the workspace member the function's folder is, or is in: a SAM
    CodeUri of ``member/src`` (a src layout) ships the member's locked dependencies, as its
    pyproject.toml one level up declares them."""
    top = lock.parent.absolute()
    folder = own.absolute()
    while True:
        if (name := _member(lock, folder)) is not None:
            return choice._replace(package=name, note=choice.note if folder == own.absolute() else
                                   _joined(choice.note, _inside(own, folder, name, lock)))
        if folder.parent == folder or top not in folder.parent.parents:
            return choice._replace(package=None)  # the member's folder is below the lock's, never the root
        folder = folder.parent


def _in_enclosing_member(own: Path) -> Choice | None:
    """For a folder that declares nothing and no lock was found for: the uv workspace member it
    is in (its nearest pyproject.toml above), locked by the workspace's uv.lock; None when that
    project is no member (its dependencies are not this folder's)."""
    for parent in list(own.absolute().parents)[:_WORKSPACE_DEPTH]:
        if (parent / "pyproject.toml").is_file():
            found = workspace_lock(parent)
            if found is None or found.lock is None or found.package is None:
                return None
            return found._replace(note=_inside(own, parent, found.package, found.lock))
        if (parent / ".git").exists():
            return None
    return None


def _inside(own: Path, member: Path, name: str, lock: Path) -> str:
    return (f"{display_path(own)} is in {display_path(member)}, the member {name} of the uv workspace locked by "
            f"{display_path(lock)}")


def _joined(*notes: str) -> str:
    return "; ".join(n for n in notes if n)


def _member(lock: Path, folder: Path) -> str | None:
    from lpack.inputs import uvlock

    return uvlock.member_at(lock, folder)


# How far above a function's folder a uv workspace's root (its uv.lock) is looked for.
_WORKSPACE_DEPTH = 6


def workspace_lock(folder: Path) -> Choice | None:
    """`_in_workspace` for a folder with a pyproject.toml (a SAM layer's, say); None otherwise."""
    return _in_workspace(folder) if (folder / "pyproject.toml").is_file() else None


def _in_workspace(folder: Path) -> Choice | None:
    """A project folder with no lock of its own that a uv workspace above it locks as one of its
    members (``[tool.uv.workspace] members``): the workspace's uv.lock, for that member. uv keeps
    one lock, at the workspace root, for every member."""
    for parent in list(folder.absolute().parents)[:_WORKSPACE_DEPTH]:
        lock = parent / "uv.lock"
        if lock.is_file():
            name = _member(lock, folder)
            if name is None and _lists_member(parent / "pyproject.toml", folder):
                raise ConfigError(f"{display_path(lock)}: the uv workspace lists {display_path(folder)} as a member, "
                                  "but uv.lock does not lock it; run `uv lock` (lpack installs what the lock pins)")
            if name is None:
                return None  # the nearest uv.lock is another project's: not this folder's lock
            _refuse_stale(lock)
            return Choice(lock=lock, package=name,
                          note=f"{display_path(folder / 'pyproject.toml')} is the member {name} of the uv workspace "
                               f"locked by {display_path(lock)}")
        if (parent / ".git").exists():
            return None  # the repository's root: a workspace does not reach above it
    return None


def _lists_member(pyproject: Path, folder: Path) -> bool:
    """Whether the workspace root's ``[tool.uv.workspace] members`` (globs) names ``folder`` and
    its ``exclude`` does not."""
    from fnmatch import fnmatch

    try:
        workspace = read_toml(pyproject).get("tool", {}).get("uv", {}).get("workspace", {})
        rel = folder.absolute().relative_to(pyproject.parent.absolute()).as_posix()
    except (ConfigError, AttributeError, ValueError):
        return False
    if not isinstance(workspace, dict):
        return False

    def named(key: str) -> bool:
        patterns = workspace.get(key, [])
        return isinstance(patterns, list) and any(isinstance(p, str) and fnmatch(rel, p.strip("/")) for p in patterns)
    return named("members") and not named("exclude")


def _dedupe(found: Iterable[Found]) -> list[Found]:
    """Each declaration once when the root is the source folder (one pyproject.toml may hold two:
    [project] and [tool.poetry])."""
    seen: dict[tuple[str, Path], Found] = {}
    for item in found:
        seen.setdefault((item.kind, item.path.resolve()), item)
    return list(seen.values())


def _decide(found: list[Found], where: str) -> Choice:
    locks = [f.path for f in found if f.kind == "lock"]
    requirements = [f.path for f in found if f.kind == "requirements"]
    manifests = [f for f in found if f.kind in ("pep621", "poetry", "Pipfile")]
    if len(locks) > 1:
        names = " and ".join(display_path(p) for p in locks)
        raise ConfigError(f"{where}: {names} both declare the dependencies; choose one with "
                          "`lock = \"...\"` in the function's configuration, or delete the other")
    if locks:
        return _with_lock(locks[0], requirements, manifests, where)
    for manifest in manifests:
        if manifest.kind == "poetry":
            raise ConfigError(f"{display_path(manifest.path)}: [tool.poetry] declares dependencies or their sources but "
                              "there is no poetry.lock beside it; run `poetry lock` (lpack installs what the lock pins)")
        if manifest.kind == "Pipfile":
            raise ConfigError(f"{display_path(manifest.path)}: declares dependencies but there is no Pipfile.lock "
                              "beside it; run `pipenv lock` (lpack installs what the lock pins)")
    unlocked = [f.path for f in found if f.kind == "requirements.in"]
    if unlocked and not manifests:
        return Choice(unlocked=unlocked[0])  # `lpack lock` locks it; anything else refuses it
    pep621 = [m.path for m in manifests]
    if requirements and pep621:
        if all(_compiled_from(r, "pyproject.toml") for r in requirements):
            return Choice(requirements=requirements[0], note=f"{display_path(requirements[0])} locks {display_path(pep621[0])}")
        raise ConfigError(f"{where}: {display_path(requirements[0])} and {display_path(pep621[0])} [project].dependencies both "
                          "declare the dependencies; set `requirements = \"...\"` in [tool.lpack] to install from "
                          "the file, or move its lines into [project].dependencies and delete it")
    if len(requirements) > 1:
        raise ConfigError(f"{where}: {' and '.join(display_path(r) for r in requirements)} both declare the dependencies; "
                          "set `requirements = \"...\"` in the function's configuration")
    if requirements:
        return Choice(requirements=requirements[0])
    if pep621:
        return Choice(manifest=pep621[0])
    return Choice()


def _with_lock(lock: Path, requirements: list[Path], manifests: list[Found], where: str) -> Choice:
    kind = lock_kind(lock)
    for manifest in manifests:
        if not _belongs(manifest.kind, kind):
            raise ConfigError(f"{where}: {display_path(manifest.path)} and {display_path(lock)} declare the dependencies with "
                              "different tools; choose one with `lock = \"...\"` or `requirements = \"...\"` "
                              "in the function's configuration")
    for req in requirements:
        why = None if _exported_from(req, kind) else _differs(req, lock)
        if why is not None:
            raise ConfigError(f"{where}: {display_path(req)} and {display_path(lock)} both declare the dependencies "
                              f"({why}); set `lock = \"{lock.name}\"` or `requirements = \"{req.name}\"` in the "
                              "function's configuration, or delete the one you no longer use")
    _refuse_stale(lock)
    note = f"{display_path(requirements[0])} is an export of {lock.name}" if requirements else ""
    return Choice(lock=lock, note=note)


_EXACT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*===?\s*([^\s;,#\\]+)\s*(?:;.*)?$")


def _differs(requirements: Path, lock: Path) -> str | None:
    """How a requirements file beside a lock says something else than the lock, or None when
    every line pins a version the lock has (an export without a header: `pipenv requirements`,
    `poetry export` write none), so that installing the lock installs what the file says."""
    from lpack.inputs.requirements_file import read_requirements

    try:
        lines = read_requirements(requirements).lines
        versions, local = _lock_contents(lock)
    except (OSError, ValueError, LpackError):
        return "lpack could not compare them"
    if not lines:
        return f"{requirements.name} pins nothing"
    for line in lines:
        if _local_path(line, requirements.parent) in local:  # a project of the repository the lock has too
            continue
        exact = _EXACT.match(line.split(" --hash", 1)[0].strip())
        if exact is None:
            return f"{line.split(';')[0].strip()!r} is not a pin of one version"
        name, version = canonical(exact[1]), exact[2]
        if name not in versions:
            return f"{requirements.name} pins {name}=={version}, which {lock.name} does not have"
        if not any(_same_version(version, locked) for locked in versions[name]):
            return (f"{requirements.name} pins {name}=={version} where {lock.name} has "
                    f"{', '.join(sorted(versions[name]))}")
    return None


def _same_version(a: str, b: str) -> bool:
    """PEP 440's equality: ``1.0`` is ``1.0.0``."""
    from packaging.version import InvalidVersion, Version

    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a == b


def _lock_contents(lock: Path) -> tuple[dict[str, set[str]], set[Path]]:
    """Every version the lock holds of each package, whatever its markers and groups, and the
    folders of the local projects it installs."""
    import json

    if lock_kind(lock) == "Pipfile.lock":
        data = json.loads(lock.read_text(encoding="utf-8"))
        specs = [(name, spec) for section in ("default", "develop")
                 for name, spec in (data.get(section) or {}).items() if isinstance(spec, dict)]
        entries = [(name, str(spec.get("version", "")).lstrip("=")) for name, spec in specs]
        places = [spec.get("path") for _name, spec in specs]
    else:
        data = read_toml(lock)
        packages = [p for p in data.get("packages" if lock_kind(lock) == "pylock.toml" else "package") or []
                    if isinstance(p, dict)]
        entries = [(str(p.get("name", "")), str(p.get("version", ""))) for p in packages]
        # uv: source = {editable|directory|path = ...}; poetry: [package.source] url; pdm: path, editable;
        # pylock: directory = {path = ...}
        places = [value for p in packages for table in (p, p.get("source"), p.get("directory"))
                  if isinstance(table, dict) for key, value in table.items()
                  if key in ("editable", "directory", "path", "url")]
    versions: dict[str, set[str]] = {}
    for name, version in entries:
        if name and version:
            versions.setdefault(canonical(name), set()).add(version)
    local = {(lock.parent / place).resolve() for place in places if isinstance(place, str) and "://" not in place}
    return versions, local


def _local_path(line: str, folder: Path) -> Path | None:
    """The folder a requirement line installs (``./pkg``, ``-e ./pkg``, ``file:./pkg``), if it names one."""
    text = line.removeprefix("-e").strip().removeprefix("file:").split(";", 1)[0].strip()
    if not text.startswith((".", "/")):
        return None
    return (folder / text).resolve()


def _belongs(manifest: str, lock: str) -> bool:
    """Whether a manifest is the one this lock was made from."""
    if lock == "Pipfile.lock":
        return manifest == "Pipfile"
    if lock == "poetry.lock":
        return manifest in ("poetry", "pep621")
    return manifest == "pep621"


def scan(folder: Path) -> list[Found]:
    """The dependency declarations in one folder."""
    found: list[Found] = []
    for name in LOCK_NAMES:
        if (folder / name).is_file():
            found.append(Found("lock", folder / name))
    found += [Found("lock", p) for p in sorted(folder.glob("pylock*.toml")) if _PYLOCK.match(p.name)]
    if (folder / REQUIREMENTS).is_file():
        found.append(Found("requirements", folder / REQUIREMENTS))
    elif (folder / "requirements.in").is_file():
        found.append(Found("requirements.in", folder / "requirements.in"))
    if (folder / "Pipfile").is_file():
        found.append(Found("Pipfile", folder / "Pipfile"))
    pyproject = folder / "pyproject.toml"
    if pyproject.is_file():
        found += [Found(kind, pyproject) for kind in _pyproject_kinds(read_toml(pyproject))]
    return found


def _pyproject_kinds(data: Mapping[str, Any]) -> list[str]:
    kinds = []
    project = data.get("project")
    declares = isinstance(project, dict) and (project.get("dependencies") or "dependencies" in project.get("dynamic", ()))
    if declares or data.get("dependency-groups"):
        kinds.append("pep621")
    poetry = data.get("tool", {}).get("poetry", {}) if isinstance(data.get("tool"), dict) else {}
    deps = poetry.get("dependencies") if isinstance(poetry, dict) else None
    # a [[tool.poetry.source]] is where the dependencies come from: only Poetry's lock says it
    sources = poetry.get("source") if isinstance(poetry, dict) else None
    if isinstance(deps, dict) and any(name.lower() != "python" for name in deps) or sources:
        kinds.append("poetry")
    return kinds


def read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc


def _header(path: Path) -> str:
    try:
        with path.open(encoding="utf-8", errors="replace") as stream:
            return "".join(line for _, line in zip(range(12), stream) if line.startswith("#"))
    except OSError:
        return ""


def _compiled_from(requirements: Path, manifest: str) -> bool:
    """A pip-tools, uv or `lpack lock` compile of the manifest: its lock, not a competitor."""
    header = _header(requirements)
    if "hatch-pip-compile" in header:  # Hatch's lock of its default environment, from pyproject.toml
        return manifest == "pyproject.toml"
    compiled = "pip-compile" in header or "pip compile" in header or "generated by lpack lock" in header
    return manifest in header and compiled


def _exported_from(requirements: Path, lock: str) -> bool:
    header = _header(requirements)
    return any(tool in header and name == lock for tool, name in _EXPORTED)


def _refuse_stale(lock: Path) -> None:
    reason = stale_reason(lock)
    if reason:
        raise ConfigError(f"{display_path(lock)}: {reason}")


def stale_reason(lock: Path) -> str | None:
    """Why the lock no longer matches its manifests (by content, not mtimes), or None. The verdict
    is remembered in the cache with the bytes of every manifest it read (a uv workspace's members
    too), so a rebuild neither parses the lock for it nor misses a member's edit."""
    import json

    from lpack.core.cache import default_root, file_digest, make_key

    record = default_root() / "memo" / "stale" / make_key({"lock": file_digest(lock), "path": str(lock)})
    try:
        remembered = json.loads(record.read_text(encoding="utf-8"))
        if all(file_digest(Path(path)) == digest for path, digest in remembered["manifests"].items()):
            return remembered["verdict"] or None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    verdict = _stale_reason(lock)
    manifests = {str(path): file_digest(path) for path in _manifests_read(lock)}
    try:
        from lpack.core.files import atomic_write_text

        atomic_write_text(record, json.dumps({"verdict": verdict or "", "manifests": manifests}), durable=False)
    except OSError:
        pass  # a read-only cache only costs speed
    return verdict


def _manifests_read(lock: Path) -> list[Path]:
    """The files a staleness verdict on ``lock`` depends on, besides the lock itself."""
    if lock_kind(lock) == "uv.lock":
        from lpack.inputs import uvlock

        return sorted({*uvlock.local_manifests(lock), lock.parent / "pyproject.toml"})
    manifest = manifest_of(lock)
    return [manifest] if manifest is not None else []


def manifest_of(lock: Path) -> Path | None:
    """The file a lock was made from, when it is beside the lock (for a pylock.toml, the
    requirements.in `pip lock -r` takes)."""
    name = {"Pipfile.lock": "Pipfile", "pylock.toml": "requirements.in"}.get(lock_kind(lock), "pyproject.toml")
    return lock.parent / name if name and (lock.parent / name).is_file() else None


def _stale_reason(lock: Path) -> str | None:
    kind = lock_kind(lock)
    folder = lock.parent
    if kind == "uv.lock" and (folder / "pyproject.toml").is_file():
        from lpack.inputs import uvlock

        return uvlock.stale(lock, folder / "pyproject.toml")
    if kind == "poetry.lock" and (folder / "pyproject.toml").is_file():
        from lpack.inputs import poetry

        return poetry.stale(lock, folder / "pyproject.toml")
    if kind == "pdm.lock" and (folder / "pyproject.toml").is_file():
        from lpack.inputs import pdm

        return pdm.stale(lock, folder / "pyproject.toml")
    if kind == "Pipfile.lock" and (folder / "Pipfile").is_file():
        from lpack.inputs import pipfile

        return pipfile.stale(lock, folder / "Pipfile")
    if kind == "pylock.toml" and (folder / "requirements.in").is_file():
        return _pins_disagree(lock, folder / "requirements.in")
    return None


def _pins_disagree(lock: Path, requirements_in: Path) -> str | None:
    """pip records no inputs in a pylock.toml: an exact ``name==version`` in the requirements.in
    beside it that the lock pins otherwise is what can be told."""
    from lpack.inputs.requirements_file import read_requirements

    versions, _local = _lock_contents(lock)
    for line in read_requirements(requirements_in).lines:
        exact = _EXACT.match(line)
        name = canonical(exact[1]) if exact else ""
        if exact and name in versions and exact[2] not in versions[name]:
            return (f"{requirements_in.name} pins {name}=={exact[2]} but {lock.name} has "
                    f"{', '.join(sorted(versions[name]))}; "
                    f"lock it again (`pip lock -r {requirements_in.name} -o {lock.name}`)")
    return None



def read_lock(lock: Path, target: Target, selection: Selection) -> Locked:
    """The lock's production set for the target, through the reader of its format."""
    kind = lock_kind(lock)
    if kind == "uv.lock":
        from lpack.inputs import uvlock

        return uvlock.read(lock, target, selection)
    if kind == "pylock.toml":
        from lpack.inputs import pylock

        return pylock.read(lock, target, selection)
    if kind == "Pipfile.lock":
        from lpack.inputs import pipfile

        return pipfile.read(lock, target, selection)
    if kind == "poetry.lock":
        from lpack.inputs import poetry

        return poetry.read(lock, target, selection, lock.parent / "pyproject.toml")
    from lpack.inputs import pdm

    return pdm.read(lock, target, selection, lock.parent / "pyproject.toml")


def manifest_requirements(pyproject: Path, selection: Selection) -> list[str]:
    """PEP 508 lines of ``[project].dependencies``, the selected extras and PEP 735 groups
    (``{include-group = ...}`` followed)."""
    data = read_toml(pyproject)
    project: dict[str, Any] = data.get("project") or {}
    lines = [str(d) for d in project.get("dependencies", [])]
    optional = project.get("optional-dependencies", {})
    for extra in selection.extras:
        if extra not in optional:
            raise ConfigError(f"{pyproject}: extras: no [project.optional-dependencies] {extra!r}; "
                              f"it has: {', '.join(optional) or 'none'}")
        lines += [str(d) for d in optional[extra]]
    groups = data.get("dependency-groups", {})
    for group in selection.groups:
        lines += _group(groups, group, pyproject, ())
    return lines


def _group(groups: Mapping[str, Any], name: str, pyproject: Path, seen: tuple[str, ...]) -> list[str]:
    if name not in groups:
        raise ConfigError(f"{pyproject}: groups: no [dependency-groups] {name!r}; it has: {', '.join(groups) or 'none'}")
    if name in seen:
        raise ConfigError(f"{pyproject}: [dependency-groups] {name!r} includes itself")
    lines: list[str] = []
    for item in groups[name]:
        if isinstance(item, dict) and "include-group" in item:
            lines += _group(groups, str(item["include-group"]), pyproject, (*seen, name))
        else:
            lines.append(str(item))
    return lines


def refuse_unlocked(unlocked: Path | None) -> None:
    """A build, check or invoke of a function whose requirements.in was never locked."""
    if unlocked is not None:
        raise ConfigError(f"{display_path(unlocked)}: loose requirements without their lock; run `lpack lock` "
                          "(it writes requirements.txt beside it, pinned with hashes for the target)")
