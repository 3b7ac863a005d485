"""Install resolved wheels by copying their members' compressed bytes (issue #23).

A wheel is a zip whose members are already deflated. uv resolves the set for the target
(``uv pip compile --format pylock.toml``: each package's wheels, with their sha256), lpack picks
the wheel uv would install (the target's most preferred tag), fetches it (a ``--find-links`` file
in place; else downloaded once into ``CACHE/wheels/``, by its sha256) and verifies it
against uv's hash and the lock's ``--hash`` values. Its members then go into the cache entry as
they are, CRC and sizes included, with only what an install changes rewritten: ``.data/purelib``
and ``.data/platlib`` moved to the root, ``.data/scripts`` (and console-script wrappers, which
uv writes to ``bin/``) not shipped, ``INSTALLER`` and ``REQUESTED`` added, ``RECORD`` rewritten.
The entry holds the same names, contents and modes as ``uv pip install --target`` and lpack's
dependency excludes give (tests/bundle/test_wheel_copy.py compares both).

A wheel that cannot be copied (a member compressed otherwise than stored or deflated, encrypted,
``.data/headers`` or ``.data/data``) is installed by uv from the verified file; when the set
cannot be resolved or fetched this way (pip as the installer, an index that wants credentials,
a hash that does not match, uv's error), the caller installs as before, so its messages hold.
``LPACK_WHEEL_COPY=0`` always installs as before.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import os
import re
import struct
import subprocess
import sys
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from lpack.bundle import pipconfig, zipwriter
from lpack.bundle.installer import Installer, wheel_copy
from lpack.core import select
from lpack.core.targets import Target
from lpack.inputs.requirements_file import Requirements

if TYPE_CHECKING:
    from lpack.bundle._downloads import Downloads

_LOCAL = struct.Struct("<IHHHHHIIIHH")
_COPIED = (zipwriter.STORED, zipwriter.DEFLATED)


class Wheel(NamedTuple):
    name: str  # the project's name as the resolution gives it
    url: str  # file:// or http(s)://
    sha256: str


class _Unresolved(Exception):
    """This set cannot be installed by copying: the caller installs it as before."""


def install_members(installer: Installer, target: Target, args: Sequence[str], reqs: Requirements, cwd: Path,
                    cache_root: Path, work: Path, on_step: Callable[[str], None] = lambda _line: None,
                    ) -> list[zipwriter.Member] | None:
    """The dependency set's members, sorted by name, or None when it must be installed as before.
    ``work`` is a scratch folder for the wheels uv installs itself."""
    if installer.name != "uv" or not wheel_copy():
        return None
    try:
        wheels, read = _resolve_and_fetch(installer, target, args, reqs, cwd, cache_root / "wheels")
    except _Unresolved:
        return None
    on_step(f"Resolved {_packages(len(wheels))}")
    members: dict[str, zipwriter.Member] = {}
    leftovers: list[Path] = []
    for path, copied in read:
        if copied is None:
            leftovers.append(path)
        else:
            members.update((m.name, m) for m in copied)
    if leftovers:
        members.update((m.name, m) for m in _install_leftovers(installer, target, leftovers, reqs, work, on_step))
    on_step(f"Installed {_packages(len(read))} (their wheels' members copied as they are)")
    return [members[name] for name in sorted(members)]


def _packages(count: int) -> str:
    return f"{count} package{'s' * (count != 1)}"


# -- resolution ---------------------------------------------------------------------------------

def _resolve_and_fetch(installer: Installer, target: Target, args: Sequence[str], reqs: Requirements, cwd: Path,
                       store: Path) -> tuple[list[Wheel], list[_Read]]:
    """The wheel uv would install for each package of the set, its verified file and its members.

    uv checks the index while it resolves (a round trip per project: most of a cold build's
    time). Meanwhile the same resolution from uv's cached index pages alone (``--offline``, a few
    milliseconds) gives the wheels it will most likely choose, and those are fetched and read
    early; the index's answer decides what is used, and what it chose otherwise is fetched after."""
    from concurrent.futures import Future, ThreadPoolExecutor

    from lpack.bundle._downloads import Downloads

    ranks = _ranks(target)
    pool = ThreadPoolExecutor(max_workers=8)
    with Downloads() as http:
        try:
            locked = _locked_wheels(reqs, ranks)
            if locked is not None:  # the lock names each file: nothing to resolve
                return locked, list(pool.map(lambda wheel: _fetch_and_read(wheel, store, http), locked))
            online = pool.submit(_compile, installer, target, args, cwd, offline=False)
            guess = _guess(installer, target, args, cwd, ranks) if _asks_a_server(reqs) else []
            early: dict[Wheel, Future[_Read]] = {wheel: pool.submit(_fetch_and_read, wheel, store, http)
                                                 for wheel in guess}
            wheels = _choose(online.result(), ranks, cwd)
            if reqs.has_hashes:
                _check_locked(wheels, locked_hashes(reqs))
            fetching = [early.get(wheel) or pool.submit(_fetch_and_read, wheel, store, http) for wheel in wheels]
            return wheels, [future.result() for future in fetching]
        finally:
            pool.shutdown(wait=True, cancel_futures=True)  # an early fetch the index did not confirm ends here


def _locked_wheels(reqs: Requirements, ranks: dict[str, int]) -> list[Wheel] | None:
    """The wheel to install for each pin of a lock's set, from the files the lock itself lists
    (uv.lock, pylock.toml: each file's URL and sha256), as uv would choose among them for the
    target; None when the set is not such a lock's or the lock lacks a wheel for a pin (an sdist,
    a direct URL, a local project): then uv resolves it as before. The lock is the answer: the
    index is not asked again, and what it published since (a newer version, a re-upload) does
    not matter; each file is still checked against the lock's hash when fetched."""
    origin = reqs.origin
    if not (reqs.no_deps and reqs.has_hashes and origin is not None and not reqs.local_projects):
        return None
    listed = _lock_files(origin)
    chosen = []
    for name, hashes in locked_hashes(reqs).items():
        found = [(rank, Wheel(name, listed[sha256], sha256)) for sha256 in sorted(hashes) if sha256 in listed
                 and (rank := _rank(listed[sha256].rsplit("/", 1)[-1], ranks)) is not None]
        if not found:
            return None
        chosen.append(min(found)[1])
    return chosen if len(chosen) == len(reqs.lines) else None


def _lock_files(lock: Path) -> dict[str, str]:
    """sha256 -> URL of every wheel a uv.lock or pylock.toml lists (a pylock's path one as a file: URL)."""
    from lpack.core.compat import tomllib

    pylock = lock.name == "pylock.toml" or (lock.name.startswith("pylock.") and lock.name.endswith(".toml"))
    if lock.name != "uv.lock" and not pylock:
        return {}
    try:
        text = lock.read_text(encoding="utf-8")
        if not pylock:  # uv writes each file as { url = "...", hash = "sha256:...", ... }: 1 ms, not tomllib's 15
            found = {sha256.lower(): url for url, sha256 in re.findall(_UV_LOCK_FILE, text)}
            if found:
                return found
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError, ValueError):
        return {}
    files: dict[str, str] = {}
    for package in _tables(data.get("packages" if pylock else "package")):
        for wheel in _tables(package.get("wheels")):
            hashes = wheel.get("hashes") if pylock else {"sha256": str(wheel.get("hash", "")).removeprefix("sha256:")}
            url = wheel.get("url")
            if pylock and not url and isinstance(wheel.get("path"), str):  # relative to the lock (PEP 751); in a
                url = (lock.parent / wheel["path"]).resolve().as_uri()  # uv.lock, to its registry folder: not taken
            sha256 = hashes.get("sha256") if isinstance(hashes, dict) else None
            if isinstance(url, str) and isinstance(sha256, str) and sha256:
                files[sha256.lower()] = url
    return files


_UV_LOCK_FILE = r'\{\s*url\s*=\s*"([^"\\]+)"\s*,\s*hash\s*=\s*"sha256:([0-9a-fA-F]{64})"[^}\n]*\}'


def _tables(value: object) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _asks_a_server(reqs: Requirements) -> bool:
    """Whether resolving the set may wait for a server: not when the index is off (``--no-index``
    in a requirements file, pip's settings or UV_NO_INDEX) and every ``--find-links`` is a local
    folder or file. Then the resolution from uv's cache alone would only repeat the online one: a
    second uv process reading the same files, with nothing to fetch early, whose CPU a build on
    every core takes from the build itself."""
    options = [line.split() for path in reqs.files for line in _option_lines(path)]
    settings = pipconfig.settings()
    no_index = any(words[0] == "--no-index" for words in options) or "no-index" in settings or \
        os.environ.get("UV_NO_INDEX", "").lower() in ("1", "true", "yes", "on")
    places = [*_find_links(options), *settings.get("find-links", []),
              *os.environ.get("UV_FIND_LINKS", "").replace(",", " ").split()]
    return not no_index or any(re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", place) and not place.startswith("file:")
                               for place in places)


def _option_lines(path: Path) -> list[str]:
    """The option lines (``-f``, ``--no-index`` ...) of one requirements file."""
    try:
        text = re.sub(r"\\\r?\n", " ", path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return ["--find-links=unreadable://"]  # the install says what is wrong; guess as before
    return [line for line in (raw.split(" #", 1)[0].strip() for raw in text.splitlines()) if line.startswith("-")]


def _find_links(options: list[list[str]]) -> list[str]:
    """The places ``-f PLACE``, ``--find-links PLACE`` and ``--find-links=PLACE`` name."""
    places = []
    for words in options:
        flag, _, value = words[0].partition("=")
        if flag in ("-f", "--find-links"):
            places += [value] if value else words[1:2]
    return places


def _guess(installer: Installer, target: Target, args: Sequence[str], cwd: Path, ranks: dict[str, int]) -> list[Wheel]:
    """The wheels a resolution from uv's cache alone chooses; none when the cache cannot say."""
    try:
        return _choose(_compile(installer, target, args, cwd, offline=True), ranks, cwd)
    except _Unresolved:
        return []


def _compile(installer: Installer, target: Target, args: Sequence[str], cwd: Path, *, offline: bool) -> str:
    """``uv pip compile``'s pylock.toml for the set and the target (the answer of the resolution
    `resolve_early` started, if it did)."""
    cmd, env = _compile_command(installer, target, args, offline=offline)
    started = _early.pop((tuple(cmd), str(cwd)), None)
    if started is not None:
        stdout, _stderr = started.communicate()
        returncode = started.returncode
    else:
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, env=env, check=False)
        stdout, returncode = done.stdout, done.returncode
    if returncode != 0:
        raise _Unresolved  # uv install says what is wrong, as it always did
    return stdout


def _compile_command(installer: Installer, target: Target, args: Sequence[str], *,
                     offline: bool) -> tuple[list[str], dict[str, str]]:
    """``--python``: uv searching for an interpreter of the target's version took half a second."""
    cmd = [*installer.command, "pip", "compile", "--format", "pylock.toml", "--no-header", "--quiet",
           "--no-python-downloads", "--python", sys.executable, "--python-version", target.runtime.python_version,
           "--python-platform", target.uv_platform(), "--only-binary", ":all:", "--no-progress"]
    options, environment = pipconfig.as_uv(hashed="--require-hashes" in args)
    cmd += options + (["--offline"] if offline else [])
    cmd += [arg for arg in args if arg not in ("--require-hashes", "-r")]  # compile takes files as they are
    return cmd, {**os.environ, **environment, "UV_NO_PROGRESS": "1"}


# Resolutions started before the build needs them, by command line and folder (`resolve_early`).
_early: dict[tuple[tuple[str, ...], str], subprocess.Popen[str]] = {}


def resolve_early(installer: Installer, target: Target, args: Sequence[str], reqs: Requirements, cwd: Path) -> None:
    """Start uv's resolution of a set the build will install (and the guess beside it), so that
    uv asks the index while lpack goes on starting up (imports, checks, the source walk);
    `install_members` then takes their answers. Only for uv copying wheels, as `install_members`."""
    if installer.name != "uv" or not wheel_copy():
        return
    for offline in (False, True) if _asks_a_server(reqs) else (False,):
        cmd, env = _compile_command(installer, target, args, offline=offline)
        if (tuple(cmd), str(cwd)) not in _early:
            _early[tuple(cmd), str(cwd)] = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                                            text=True, cwd=cwd, env=env)


def forget_early() -> None:
    """Stop the resolutions started early that no install took (the unit failed before it, or
    the build was stopped)."""
    while _early:
        _key, process = _early.popitem()
        process.kill()
        process.communicate()


def _ranks(target: Target) -> dict[str, int]:
    """The target's wheel tags, most preferred first (as uv and pip rank them)."""
    from packaging import tags

    version = tuple(int(p) for p in target.runtime.python_version.split("."))
    platforms = target.platform_tags()
    ordered = [*tags.cpython_tags(version, None, platforms),
               *tags.compatible_tags(version, f"cp{version[0]}{version[1]}", platforms)]
    ranks: dict[str, int] = {}
    for rank, tag in enumerate(ordered):
        ranks.setdefault(str(tag), rank)
    return ranks


def _choose(pylock: str, ranks: dict[str, int], cwd: Path) -> list[Wheel]:
    from lpack.core.compat import tomllib

    try:
        packages = tomllib.loads(pylock).get("packages", [])
    except ValueError as exc:
        raise _Unresolved from exc
    chosen = []
    for package in packages:
        best: tuple[int, Wheel] | None = None
        archive = package.get("archive")  # a wheel named by its path or URL (a local project's, built here)
        for wheel in package.get("wheels") or ([archive] if isinstance(archive, dict) else []):
            url, sha256 = wheel.get("url") or "", (wheel.get("hashes") or {}).get("sha256", "")
            if not url and wheel.get("path"):
                url = (cwd / wheel["path"]).resolve().as_uri()  # relative to where uv ran
            rank = _rank(url.rsplit("/", 1)[-1], ranks)
            if rank is not None and sha256 and (best is None or rank < best[0]):
                best = (rank, Wheel(package["name"], url, sha256))
        if best is None:  # an sdist, a VCS or folder requirement: not for copying
            raise _Unresolved
        chosen.append(best[1])
    return chosen


def _rank(filename: str, ranks: dict[str, int]) -> int | None:
    from urllib.parse import unquote

    from packaging.utils import InvalidWheelFilename, parse_wheel_filename

    try:
        _name, _version, _build, wheel_tags = parse_wheel_filename(unquote(filename))
    except InvalidWheelFilename:
        return None
    found = [ranks[str(tag)] for tag in wheel_tags if str(tag) in ranks]
    return min(found) if found else None


def locked_hashes(reqs: Requirements) -> dict[str, set[str]]:
    """The sha256 values the requirements files allow for each project (pip's ``--hash`` lines)."""
    allowed: dict[str, set[str]] = {}
    for path in reqs.files:
        text = re.sub(r"\\\r?\n", " ", path.read_text(encoding="utf-8"))
        for line in text.splitlines():
            line = line.split(" #", 1)[0].strip()
            found = re.findall(r"--hash[=\s]+sha256:([0-9a-fA-F]{64})", line)
            name = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", line)
            if found and name:
                allowed.setdefault(_key(name[0]), set()).update(h.lower() for h in found)
    return allowed


def _key(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


# -- fetching -----------------------------------------------------------------------------------

def _check_locked(wheels: list[Wheel], locked: dict[str, set[str]]) -> None:
    for wheel in wheels:
        if wheel.sha256 not in locked.get(_key(wheel.name), ()):
            raise _Unresolved  # uv install reports the mismatch (or the missing hash) in its words


class _Read(NamedTuple):
    path: Path  # the verified wheel
    members: list[zipwriter.Member] | None  # `wheel_members`: None for uv to install it


def _fetch_and_read(wheel: Wheel, store: Path, http: Downloads) -> _Read:
    """The verified wheel and its members, read as soon as it is here (while uv may still be
    resolving, for a wheel fetched early) rather than after the index has answered."""
    path = _fetch(wheel, store, http)
    return _Read(path, wheel_members(path))


def _fetch(wheel: Wheel, store: Path, http: Downloads) -> Path:
    from urllib.parse import unquote, urlparse

    parsed = urlparse(wheel.url)
    if parsed.scheme == "file":
        path = Path(unquote(parsed.path))
        try:
            if _sha256(path) != wheel.sha256:
                raise _Unresolved
        except OSError as exc:  # gone since it was named: uv says what is wrong
            raise _Unresolved from exc
        return path
    filename = unquote(parsed.path.rsplit("/", 1)[-1])  # uv installs a leftover by its file's name
    kept = store / wheel.sha256[:2] / wheel.sha256 / filename
    if kept.is_file():
        try:
            os.utime(kept)  # its last use, for pruning
        except OSError:
            pass  # a read-only cache
        return kept
    if parsed.scheme not in ("http", "https") or parsed.username or parsed.password or "/" in filename:
        raise _Unresolved
    try:
        data = http.get(wheel.url)
    except (OSError, ValueError) as exc:  # an index that wants credentials, a proxy, a timeout
        raise _Unresolved from exc
    if hashlib.sha256(data).hexdigest() != wheel.sha256:
        raise _Unresolved
    from lpack.core.files import atomic_writer

    try:
        with atomic_writer(kept, durable=False) as out:
            out.write(data)
    except OSError as exc:
        raise _Unresolved from exc
    return kept


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# -- installing by copying ------------------------------------------------------------------------

def wheel_members(path: Path) -> list[zipwriter.Member] | None:
    """The members an install of the wheel at ``path`` ships, pointing at its compressed bytes
    (plus INSTALLER, REQUESTED and RECORD, written here); None if it cannot be installed by copying."""
    try:
        with zipfile.ZipFile(path) as zf, open(path, "rb") as raw:
            return _members(zf, raw, path)
    except (OSError, zipfile.BadZipFile, KeyError, ValueError, struct.error):
        return None


def _members(zf: zipfile.ZipFile, raw: io.BufferedReader, path: Path) -> list[zipwriter.Member] | None:
    infos = [info for info in zf.infolist() if not info.is_dir()]
    dist_info = _dist_info(infos)
    if dist_info is None:
        return None
    data_dir = dist_info[:-len(".dist-info")] + ".data/"
    record_name = f"{dist_info}/RECORD"
    recorded = _recorded(zf.read(record_name))
    members: list[zipwriter.Member] = []
    hashes: dict[str, tuple[str, str]] = {}
    for info in infos:
        name = info.filename
        if name in (record_name, f"{dist_info}/INSTALLER", f"{dist_info}/REQUESTED"):
            continue
        installed = _installed_name(name, data_dir)
        if installed == "":
            continue  # .data/scripts: uv puts them in bin/, which does not ship
        if installed is None or info.compress_type not in _COPIED or info.flag_bits & 0x1:
            return None
        if select.DEPENDENCY_EXCLUDES.match_file(installed):
            continue
        raw.seek(info.header_offset)
        header = _LOCAL.unpack(raw.read(_LOCAL.size))
        if header[0] != 0x04034B50:
            return None
        offset = info.header_offset + _LOCAL.size + header[9] + header[10]
        mode = zipwriter.EXEC_MODE if (info.external_attr >> 16) & 0o111 else zipwriter.FILE_MODE
        method = info.compress_type if info.file_size else zipwriter.STORED
        members.append(zipwriter.Member(installed, mode, info.CRC, info.file_size,
                                        info.compress_size if info.file_size else 0, method, None if info.file_size else b"",
                                        path if info.file_size else None, offset))
        hashes[installed] = recorded[name] if name in recorded else _hash_of(zf.read(name))
    for extra, data in ((f"{dist_info}/INSTALLER", b"uv"), (f"{dist_info}/REQUESTED", b"")):
        members.append(zipwriter.compress(extra, data, zipwriter.FILE_MODE))
        hashes[extra] = _hash_of(data)
    members.append(zipwriter.compress(record_name, _record(hashes, record_name), zipwriter.FILE_MODE))
    return members


def _dist_info(infos: list[zipfile.ZipInfo]) -> str | None:
    found = {info.filename.split("/", 1)[0] for info in infos
             if info.filename.count("/") == 1 and info.filename.endswith(".dist-info/RECORD")}
    return found.pop() if len(found) == 1 else None


def _installed_name(name: str, data_dir: str) -> str | None:
    """Where an install puts the wheel's member: its path in the tree; "" for not shipped; None
    for a place lpack does not copy to (the caller lets uv install the wheel)."""
    if ".." in name.split("/") or name.startswith("/") or "\\" in name:
        return None
    if not name.startswith(data_dir):
        return name
    scheme, _, rest = name[len(data_dir):].partition("/")
    if scheme in ("purelib", "platlib") and rest:
        return rest
    if scheme == "scripts":
        return ""
    return None  # headers, data: installed by uv as before


def _recorded(record: bytes) -> dict[str, tuple[str, str]]:
    rows = csv.reader(io.StringIO(record.decode("utf-8")))
    return {row[0]: (row[1], row[2]) for row in rows if len(row) >= 3}  # as uv keeps them: a hash, or none


def _hash_of(data: bytes) -> tuple[str, str]:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}", str(len(data))


def _record(hashes: dict[str, tuple[str, str]], record_name: str) -> bytes:
    """RECORD as uv writes it (sorted by path, RECORD's own line without a hash), less the lines
    of files that do not ship (as ``select.tidy_records`` leaves an installed RECORD)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for name in sorted([*hashes, record_name]):
        writer.writerow([name, *hashes.get(name, ("", ""))])
    return out.getvalue().encode("utf-8")


# -- the wheels copying cannot install ------------------------------------------------------------

def _install_leftovers(installer: Installer, target: Target, wheels: list[Path], reqs: Requirements, work: Path,
                       on_step: Callable[[str], None]) -> list[zipwriter.Member]:
    """Install verified wheel files with uv as before (``--no-deps``: the set is resolved)."""
    from lpack.bundle.install import install

    tree = work / "leftovers"
    work.mkdir(parents=True, exist_ok=True)
    install(installer, target, tree, ["--no-deps", *map(str, wheels)], reqs, cwd=work, on_step=on_step)
    select.tidy_records(tree, select.DEPENDENCY_EXCLUDES)
    return zipwriter.compress_files(list(select.walk(tree, select.DEPENDENCY_EXCLUDES)))
