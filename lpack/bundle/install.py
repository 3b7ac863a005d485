"""Install requirements for the target (not the host) into a folder, with uv or pip.

Binary wheels only, with the target's platform tags, Python version and ABI: what
``pip install --platform ... --only-binary=:all: --target`` does, which AWS documents for
Lambda, and what ``uv pip install --python-platform ... --python-version ...`` does faster.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

from lpack.bundle.cache import CACHE_TIP
from lpack.bundle.installer import Installer
from lpack.core.errors import ResolveError, redact
from lpack.core.files import WriteError
from lpack.core.targets import Target
from lpack.inputs.requirements_file import Requirements

# What uv and pip print, as patterns that `re` compiles on first use: only a failed install reads
# most of them (compiled here, the twelve were 1.8 ms of every build's start-up).
_UV_NO_WHEEL = (
    r"Because (?:only )?(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:[=<>!~][^ ]*)? "
    r"(?:has no usable wheels|has no wheels with a matching)"
)
# uv: "Hash mismatch for `alpha==1.0`"; pip: "THESE PACKAGES DO NOT MATCH THE HASHES ..." then "    alpha==1.0 from ..."
_HASH_MISMATCH = r"(?s)Hash mismatch for `(?P<uv>[^`]+)`|DO NOT MATCH THE HASHES.*?\n\s+(?P<pip>\S+(?: @ \S+)?) from "
_UV_NOT_FOUND = r"Because (?P<name>[A-Za-z0-9][A-Za-z0-9._-]*) was not found in the (?P<where>package registry|provided package locations)"
_UV_ONLY = r"(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==\S+ has no (?:usable wheels|wheels with a matching)"
_HOST_PYTHON_CHECK = r"Package '(?P<package>[^']+)' requires a different Python: (?P<host>\S+) not in"
_PIP_NO_WHEEL = r"No matching distribution found for (?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)"
# uv 0.13: "Because there is no version of requests==2.99.0 and you require ...", and for a range
# "Because only requests<=2.32.3 is available and you require requests>=3, ..."
_UV_NO_VERSION = r"Because there is no version of (?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?P<spec>[=<>!~]\S*) and"
_UV_UP_TO = (r"only (?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:<=|==)(?P<newest>[^\s,]+) is available"
             r"(?: and you require [A-Za-z0-9._-]+(?P<spec>[=<>!~][^\s,]*),)?")
# uv: "psycopg2==2.9.9 has no usable wheels" (an sdist only) or "winonly==1.0 has no wheels with a
# matching platform tag" (wheels for other platforms)
_UV_WHEELS = r"(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:[=<>!~][^ ]*)? has no (?P<why>usable wheels|wheels with a)"
# pip: "Could not find a version that satisfies the requirement requests==2.99.0 (from versions: 2.31.0, 2.32.3)";
# the versions are the ones with a wheel for the target, "none" for a typo and for an sdist-only project alike
_PIP_VERSIONS = (r"satisfies the requirement (?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?"
                 r"(?P<spec>\S*) \(from versions: (?P<versions>[^)]*)\)")

# Projects that publish only an sdist for Linux (so no wheel Lambda can use), and the drop-in
# projects that publish wheels.
BINARY_ALTERNATIVES = {
    # https://www.psycopg.org/docs/install.html#psycopg-vs-psycopg-binary
    # https://www.psycopg.org/psycopg3/docs/basic/install.html#binary-installation
    "psycopg2": "psycopg2-binary, or psycopg[binary] (Psycopg 3)",
    # https://pypi.org/project/mysqlclient/ (wheels for Windows only); https://pypi.org/project/PyMySQL/ (pure Python,
    # pymysql.install_as_MySQLdb() keeps `import MySQLdb` working)
    "mysqlclient": "PyMySQL (pure Python; pymysql.install_as_MySQLdb() for code that imports MySQLdb)",
    # https://www.pycryptodome.org/src/installation ("an almost drop-in replacement for the old PyCrypto")
    "pycrypto": "pycryptodome (the same `Crypto` package)",
}

_TIPS = {
    "not-found": "check the name's spelling, and the index (--index-url, PIP_INDEX_URL/UV_INDEX_URL) "
                 "or --find-links the project uses",
    "no-version": "pin a version the index has, or point at the index that publishes the one you want",
    "no-wheel": "pin a version that publishes manylinux wheels for this target, choose another runtime or "
                "architecture, or build the wheel on a matching machine and add it with --find-links",
}


class _Problem(NamedTuple):
    name: str  # as the installer printed it
    kind: str  # a key of _TIPS
    what: str  # what is wrong with it, for the user


def requirement_args(files: Sequence[Path], require_hashes: bool) -> list[str]:
    args = [arg for path in files for arg in ("-r", str(path))]
    return args + ["--require-hashes"] if require_hashes else args


def install(installer: Installer, target: Target, dest: Path, args: Sequence[str],
            reqs: Requirements, cwd: Path, on_step: Callable[[str], None] = lambda _line: None) -> None:
    """Install into ``dest``, telling ``on_step`` the installer's steps (resolved, downloading,
    installed) as they happen; on failure raise ResolveError naming every package without a wheel."""
    cmd, environment = installer.install_command(target, dest, args)
    returncode, output = _run_reporting(cmd, cwd, environment, on_step)
    if returncode == 0:
        return
    refused = re.search(_REFUSED, output)
    if refused:
        said = next(line.strip() for line in output.splitlines() if refused[0] in line)
        raise WriteError(f"{installer.name} could not install into {dest}: {_REFUSED_WHY[refused[0]]} ({redact(said)})",
                         tip=f"{CACHE_TIP} (and UV_CACHE_DIR or PIP_CACHE_DIR for the installer's own cache)")
    origin = reqs.origin or (reqs.files[0] if reqs.files else cwd)  # the file the user wrote or locked
    mismatch = re.search(_HASH_MISMATCH, output)
    if mismatch:
        raise ResolveError(
            f"{origin}: hash mismatch for {mismatch['uv'] or mismatch['pip']}: the file the index served is not the one the lock "
            "recorded", tip="if the lock is right, the index's file changed since it was locked (a re-upload, "
            "or tampering): find out before deploying; if the lock is wrong, regenerate it")
    problems = _diagnose(output, installer, target, reqs, cwd)
    if problems:
        problems += _problems_elsewhere(installer, target, reqs, cwd, {_key(p.name) for p in problems})
        raise ResolveError("\n".join(f"{_line_of(reqs, origin, p.name)}: {p.name}: {p.what}" for p in problems),
                           tip=_TIPS[problems[0].kind])
    what = origin
    if installer.name == "pip" and (host := re.search(_HOST_PYTHON_CHECK, output)):
        raise ResolveError(
            f"pip could not install {what} for {target.label}: it checked {host['package']}'s Requires-Python "
            f"against the Python running pip ({host['host']}), not the target's {target.runtime.python_version}",
            tip="this pip ignores --python-version there (pypa/pip#12216); upgrade it "
            "(`python -m pip install -U pip`), or use uv, lpack's default installer")
    raise ResolveError(f"{installer.name} could not install {what} for {target.label}: {_last_lines(output)}")


# What uv and pip print when the disk refuses their writes (the OS's strerror, as Rust and Python quote it).
_REFUSED_WHY = {"No space left on device": "the disk is full", "Disk quota exceeded": "the disk quota is used up",
                "Read-only file system": "the file system is read-only"}
_REFUSED = "|".join(_REFUSED_WHY)

# The lines of uv's and pip's output that say which step they are at.
_STEP = (r"^(Resolved|Prepared|Installed|Downloading|Downloaded|Collecting|Installing collected"
                   r"|Successfully installed)\b")


def _run_reporting(cmd: Sequence[str], cwd: Path, environment: dict[str, str],
                   on_step: Callable[[str], None]) -> tuple[int, str]:
    """Run ``cmd``, passing its step lines on as they come; return its exit code and output."""
    lines: list[str] = []
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=cwd,
                          env=_env(environment)) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if re.match(_STEP, line):
                on_step(line.strip())
    return proc.returncode, "".join(lines)


def _env(environment: dict[str, str]) -> dict[str, str]:
    env = {**os.environ, **environment}
    env.setdefault("UV_NO_PROGRESS", "1")
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _diagnose(output: str, installer: Installer, target: Target, reqs: Requirements, cwd: Path) -> list[_Problem]:
    """What uv's or pip's output says is wrong, one problem per project."""
    found: dict[str, _Problem] = {}
    for problem in (*_uv_problems(output, installer, target, reqs, cwd), *_pip_problems(output, target)):
        found.setdefault(_key(problem.name), problem)
    return list(found.values())


def _uv_problems(output: str, installer: Installer, target: Target, reqs: Requirements, cwd: Path) -> Iterable[_Problem]:
    for m in re.finditer(_UV_NOT_FOUND, output):
        where = "the package index" if m["where"] == "package registry" else "the --find-links folders"
        yield _Problem(m["name"], "not-found", f"not found in {where}")
    for m in re.finditer(_UV_NO_VERSION, output):
        newest = _newest(installer, target, reqs, cwd, m["name"])
        yield _Problem(m["name"], "no-version", _no_version(m["spec"], newest))
    for m in re.finditer(_UV_UP_TO, output):
        if m["spec"]:
            yield _Problem(m["name"], "no-version", _no_version(m["spec"], m["newest"]))
    for m in re.finditer(_UV_WHEELS, output):
        only_sdist = m["why"] == "usable wheels"
        yield _Problem(m["name"], "no-wheel", _no_wheel(m["name"], target, only_sdist))


def _pip_problems(output: str, target: Target) -> Iterable[_Problem]:
    for m in re.finditer(_PIP_VERSIONS, output):
        versions = m["versions"].split(", ")
        if versions != ["none"]:
            yield _Problem(m["name"], "no-version", _no_version(m["spec"], versions[-1], f" with a wheel for {target.label}"))
        elif _key(m["name"]) in BINARY_ALTERNATIVES:
            yield _Problem(m["name"], "no-wheel", _no_wheel(m["name"], target, only_sdist=True))
        else:  # pip says the same for a name the index lacks and for a project without a usable wheel
            yield _Problem(m["name"], "not-found", f"no wheel for {target.label}, or not in the package index at all "
                                                   "(pip does not say which): check the spelling")


def _no_version(spec: str, newest: str | None, qualifier: str = "") -> str:
    wanted = f"version {spec[2:]}" if spec.startswith("==") else f"version matching {spec}" if spec else "version"
    return f"no {wanted}{qualifier}" + (f" (the index has up to {newest})" if newest else "")


def _no_wheel(name: str, target: Target, only_sdist: bool) -> str:
    why = "only an sdist; Lambda cannot compile it" if only_sdist else "its wheels are for other platforms"
    alternative = BINARY_ALTERNATIVES.get(_key(name))
    return f"no wheel for {target.label} ({why})" + (f"; use {alternative} instead" if alternative else "")


def _key(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _line_of(reqs: Requirements, origin: Path, name: str) -> str:
    """``file:line`` of the requirement (or the lock's entry) that names ``name``, else the file."""
    pattern = re.compile(r"(?<![A-Za-z0-9._-])" + r"[-_.]+".join(map(re.escape, re.split(r"[-_.]+", name)))
                         + r"(?![A-Za-z0-9._-]*[A-Za-z0-9])", re.IGNORECASE)
    for path in dict.fromkeys([origin, *reqs.files]):
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            continue
        for number, line in enumerate(lines, start=1):
            if not line.lstrip().startswith(("#", "-")) and pattern.search(line.split(" #", 1)[0]):
                return f"{path}:{number}"
    return str(origin)


def _newest(installer: Installer, target: Target, reqs: Requirements, cwd: Path, name: str) -> str | None:
    """The newest version the index has of ``name``: uv names it when asked for one above all."""
    if installer.name != "uv":
        return None
    found = re.search(_UV_UP_TO, _probe(installer, target, reqs, cwd, [f"{name}>=999999999"]))
    return found["newest"] if found else None


def _missing(output: str) -> set[str]:
    names = {m.group("name") for m in re.finditer(_UV_NO_WHEEL, output)}
    names |= {m.group("name") for m in re.finditer(_UV_ONLY, output)}
    names |= {m.group("name") for m in re.finditer(_PIP_NO_WHEEL, output)}
    return {n.lower() for n in names}


def _problems_elsewhere(installer: Installer, target: Target, reqs: Requirements, cwd: Path,
                        known: set[str]) -> list[_Problem]:
    """The installer stops at the first failure: try each other top-level requirement alone."""
    others = [line for line, name in zip(reqs.lines, reqs.names) if _key(name) not in known]
    if len(others) > 25 or reqs.has_hashes:
        return []
    return [problem for line in others
            for problem in _diagnose(_probe(installer, target, reqs, cwd, [line]), installer, target, reqs, cwd)]


def _probe(installer: Installer, target: Target, reqs: Requirements, cwd: Path, lines: list[str]) -> str:
    """The output of a dry run of ``lines`` with the requirements files' options (index, find-links)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="lpack-probe-") as tmp:
        probe = Path(tmp) / "requirements.txt"
        probe.write_text("\n".join([*_option_lines(reqs), *lines]) + "\n")
        cmd, environment = installer.install_command(target, Path(tmp) / "t", ["-r", str(probe)], dry_run=True)
        result = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, env=_env(environment), check=False)
    return "" if result.returncode == 0 else result.stderr + result.stdout


def _option_lines(reqs: Requirements) -> list[str]:
    """The option lines of the requirements files, with relative --find-links made absolute."""
    lines = []
    for path in reqs.files:
        for raw in path.read_text(encoding="utf-8").splitlines():
            parts = raw.split("#", 1)[0].split()
            if not parts or not parts[0].startswith("-") or parts[0] in _NOT_OPTIONS:
                continue
            if parts[0] in ("-f", "--find-links") and len(parts) > 1 and "://" not in parts[1]:
                parts[1] = str((path.parent / parts[1]).resolve())
            lines.append(" ".join(parts))
    return lines


_NOT_OPTIONS = "-r", "--requirement", "-c", "--constraint", "-e", "--editable", "--hash"


def _last_lines(output: str, count: int = 3) -> str:
    lines = [ln.strip() for ln in output.strip().splitlines() if ln.strip() and not ln.startswith("Using ")]
    return redact(" ".join(lines[-count:]) or "no output")
