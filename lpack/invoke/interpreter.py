"""Which local Python runs the package, and whether it can load the package's native code.

Lambda runs the runtime's CPython on Amazon Linux; locally the nearest stand-in is the same
``major.minor`` on Linux with the same machine. Candidates are tried in order: ``--python``,
``python3.X`` on PATH, pyenv's installs, uv's installs, then the interpreter running lpack.
Each one is run once (a pyenv shim is on PATH even when its version is not active, and then it
fails), and the facts come from the interpreter itself rather than from its name; they are
remembered in the cache, keyed by the binary's path, size and mtime, so the next run need not
start it again.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

from lpack.analysis.binary import read_binary
from lpack.core.errors import LpackError
from lpack.core.targets import Runtime

PROBE_TIMEOUT_S = 20
_PROBE_CODE = ("import sys, platform, json; print(json.dumps([sys.version_info[:3], "
               "platform.machine(), platform.system(), sys.executable]))")
_PROBES: dict[str, _Facts] = {}  # successful probes, by the path that was run
_MACHINES = {"amd64": "x86_64", "x64": "x86_64", "arm64": "aarch64"}
_LAMBDA_ARCH = {"x86_64": "x86_64", "aarch64": "arm64"}
_CPYTHON_TAG = re.compile(r"\.cpython-(?P<major>\d)(?P<minor>\d+)[a-z]*(?:-[^/]*)?\.so$")
_SHARED_OBJECT = re.compile(r"\.so(\.[0-9.]+)?$")
_HEAD_BYTES = 64  # the ELF64 header: e_machine is at offset 18


class Interpreter(NamedTuple):
    path: str
    version: tuple[int, int]  # major, minor of the interpreter
    full_version: str  # e.g. "3.12.1"
    machine: str  # platform.machine() of that interpreter: "x86_64", "aarch64", "arm64"...
    system: str  # platform.system(): "Linux", "Darwin"...
    matches: bool  # version == the target runtime's Python
    how: str  # "--python", "PATH", "pyenv", "uv" or "this interpreter"


class _Facts(NamedTuple):
    executable: str
    version: tuple[int, int, int]
    machine: str
    system: str


# --- finding an interpreter -----------------------------------------------------------------


def find_interpreter(runtime: Runtime, explicit: str | None = None) -> Interpreter:
    """The interpreter to run the package with; see the module docstring for the order."""
    if explicit:
        return _explicit(runtime, explicit)
    for how, candidate in _candidates(runtime):
        facts = _probe(candidate)
        if isinstance(facts, _Facts) and facts.version[:2] == runtime.python:
            return _interpreter(facts, runtime, how)
    return _interpreter(_this_interpreter(), runtime, "this interpreter")


def installed_runtime(runtimes: Sequence[Runtime]) -> Runtime | None:
    """The newest of ``runtimes`` whose ``python3.X`` is installed here (PATH, pyenv, uv, or the
    interpreter running lpack), or None."""
    for runtime in sorted(runtimes, key=lambda r: r.python, reverse=True):
        if find_interpreter(runtime).matches:
            return runtime
    return None


def nearest_runtime(wanted: Runtime, runtimes: Sequence[Runtime]) -> tuple[Runtime, Interpreter] | None:
    """Of ``runtimes`` other than ``wanted``, the installed one whose Python is nearest to its
    (the newer of two as near) and its interpreter, or None."""
    def distance(runtime: Runtime) -> tuple[int, int]:
        return abs(runtime.python[1] - wanted.python[1]), -runtime.python[1]

    for runtime in sorted((r for r in runtimes if r.python != wanted.python), key=distance):
        found = find_interpreter(runtime)
        if found.matches:
            return runtime, found
    return None


def _explicit(runtime: Runtime, explicit: str) -> Interpreter:
    facts = _probe(shutil.which(explicit) or explicit)
    if not isinstance(facts, _Facts):
        raise LpackError(f"--python {explicit}: cannot run it as Python ({facts}); "
                         f"pass the path of a Python {runtime.python_version} interpreter")
    return _interpreter(facts, runtime, "--python")


def _candidates(runtime: Runtime) -> Iterator[tuple[str, str]]:
    """(how, path) in order of preference; each is probed before use, lazily."""
    name = f"python{runtime.python_version}"
    on_path = shutil.which(name)
    if on_path and Path(on_path).parent != _pyenv_root() / "shims":
        yield "PATH", on_path  # a pyenv shim fails unless its version is active: pyenv's own come next
    for found in _pyenv_pythons(runtime):
        yield "pyenv", found
    for found in _uv_pythons(runtime):
        yield "uv", found


def _pyenv_root() -> Path:
    return Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")


def _pyenv_pythons(runtime: Runtime) -> list[str]:
    root = _pyenv_root()
    name = f"python{runtime.python_version}"
    found = [p for p in root.glob(f"versions/{runtime.python_version}.*/bin/{name}") if p.is_file()]
    return [str(p) for p in sorted(found, key=lambda p: _patch_key(p.parents[1].name), reverse=True)]


def _patch_key(version_name: str) -> tuple[int, ...]:
    """``3.12.10`` sorts after ``3.12.9``; a suffix (``3.12.0rc1``) keeps only its numbers' start."""
    return tuple(int(m) for m in re.findall(r"\d+", version_name.split("-")[0])[:3])


def _uv_pythons(runtime: Runtime) -> list[str]:
    """Pythons uv installed (`uv python install 3.12`), newest patch first, read from uv's folder
    rather than by running `uv python find` (a quarter of a second)."""
    base = os.environ.get("UV_PYTHON_INSTALL_DIR")
    if base:
        root = Path(base)
    else:
        data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        root = Path(data) / "uv" / "python"
    version = runtime.python_version
    found = [p for p in root.glob(f"cpython-{version}.*/bin/python{version}") if p.is_file()]
    return [str(p) for p in sorted(found, key=lambda p: _patch_key(p.parents[1].name.split("-")[1]), reverse=True)]


def _probe(path: str) -> _Facts | str:
    """The interpreter's facts (cached by path, and on disk by the binary's identity), or why it
    could not be run (not cached)."""
    if path in _PROBES:
        return _PROBES[path]
    identity = _identity(path)
    known = _probe_cache().get(identity) if identity else None
    if known:
        _PROBES[path] = facts = _Facts(known[0], tuple(known[1]), known[2], known[3])  # type: ignore[arg-type]
        return facts
    facts_or_reason = _run_probe(path)
    if isinstance(facts_or_reason, _Facts):
        _PROBES[path] = facts_or_reason
        if identity:
            _remember(identity, facts_or_reason)
    return facts_or_reason


def _identity(path: str) -> str | None:
    """The path run and the resolved binary with its size and mtime: a new install at the same path is
    a new key, and so is another virtual environment of the same binary (its own sys.executable and
    site-packages). Scripts (shims, wrappers) are not remembered: what they run can change under them."""
    try:
        real = os.path.realpath(path)
        info = os.stat(real)
        with open(real, "rb") as file:
            if file.read(2) == b"#!":
                return None
    except OSError:
        return None
    return f"{real}:{info.st_size}:{info.st_mtime_ns}:{os.path.abspath(path)}"


def _probe_cache_file() -> Path:
    from lpack.core.cache import default_root

    return default_root() / "invoke" / "interpreters.json"


def _probe_cache() -> dict[str, list[object]]:
    try:
        data = json.loads(_probe_cache_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _remember(identity: str, facts: _Facts) -> None:
    from lpack.core.files import atomic_write_text

    known = _probe_cache()
    known[identity] = [facts.executable, list(facts.version), facts.machine, facts.system]
    try:
        atomic_write_text(_probe_cache_file(), json.dumps(known, indent=1, sort_keys=True))
    except OSError:
        pass  # a read-only cache only costs speed


def _run_probe(path: str) -> _Facts | str:
    try:
        out = subprocess.run([path, "-I", "-S", "-c", _PROBE_CODE], capture_output=True,
                             text=True, timeout=PROBE_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        return f"it did not answer within {PROBE_TIMEOUT_S} s"
    except OSError as exc:
        return exc.strerror or str(exc)
    if out.returncode != 0:  # a pyenv shim: "pyenv: python3.12: command not found"
        return (out.stderr.strip().splitlines() or [f"exit status {out.returncode}"])[0]
    try:
        (major, minor, micro), machine, system, executable = json.loads(out.stdout)
        return _Facts(executable or path, (int(major), int(minor), int(micro)), machine, system)
    except (ValueError, TypeError):
        return f"unexpected output {out.stdout.strip()[:80]!r}"


def _interpreter(facts: _Facts, runtime: Runtime, how: str) -> Interpreter:
    return Interpreter(
        path=facts.executable, version=facts.version[:2],
        full_version=".".join(map(str, facts.version)), machine=facts.machine,
        system=facts.system, matches=facts.version[:2] == runtime.python, how=how,
    )


def _this_interpreter() -> _Facts:
    import platform

    major, minor, micro = sys.version_info[:3]
    return _Facts(sys.executable, (major, minor, micro), platform.machine(), platform.system())


# --- can it load the package's native code? ------------------------------------------------


class _Native(NamedTuple):
    rel: str  # path inside its tree, with "/"
    elf_machine: str  # "" when not ELF
    cpython: tuple[int, int] | None  # from a *.cpython-3XY-*.so name


def host_problem(trees: Sequence[Path], interpreter: Interpreter) -> str | None:
    """Why ``interpreter`` on this machine cannot load the trees' native code, in one line."""
    found = sorted(_natives(trees))
    elves = [n for n in found if n.elf_machine]
    if elves and interpreter.system != "Linux":
        return (f"the package holds Linux native code ({_first(elves)}) which cannot load on "
                f"{interpreter.system}; run lpack invoke on Linux (or in CI)")
    host = normalize_machine(interpreter.machine)
    foreign = [n for n in elves if normalize_machine(n.elf_machine) != host]
    if foreign:
        return _machine_problem(foreign, host)
    other = [n for n in found if n.cpython and n.cpython != interpreter.version]
    if other:
        wanted = "{}.{}".format(*other[0].cpython or (0, 0))
        have = "{}.{}".format(*interpreter.version)
        return (f"the package holds extension modules for CPython {wanted} ({_first(other)}) and "
                f"the interpreter is Python {have} ({interpreter.path}): install Python {wanted} "
                f"(e.g. `uv python install {wanted}`) or pass --python")
    return None


def normalize_machine(machine: str) -> str:
    """One name per machine: ``amd64`` is ``x86_64``, ``arm64`` is ``aarch64``."""
    lowered = machine.lower()
    return _MACHINES.get(lowered, lowered)


def _machine_problem(foreign: list[_Native], host: str) -> str:
    theirs = normalize_machine(foreign[0].elf_machine)
    remedies = []
    if host in _LAMBDA_ARCH:
        remedies.append(f"build it with --arch {_LAMBDA_ARCH[host]} to run it here")
    if theirs in _LAMBDA_ARCH:
        remedies.append(f"run lpack invoke on an {_LAMBDA_ARCH[theirs]} machine")
    advice = ", or ".join(remedies) or "Lambda runs only x86_64 and arm64 code; rebuild it"
    return (f"the package holds {theirs} Linux code ({_first(foreign)}) and this machine runs "
            f"{host}: {advice}")


def _first(natives: list[_Native]) -> str:
    more = len(natives) - 1
    return natives[0].rel + (f" and {more} more" if more else "")


def _natives(trees: Sequence[Path]) -> Iterator[_Native]:
    for tree in trees:
        for root, _, files in os.walk(tree):
            for name in files:
                path = Path(root, name)
                native = _native(path, path.relative_to(tree).as_posix())
                if native:
                    yield native


def _native(path: Path, rel: str) -> _Native | None:
    """The file's facts if it is a shared object, an ELF executable or a CPython extension."""
    try:
        info = path.lstat()
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode):
        return None  # a link's target is visited as itself
    tag = _CPYTHON_TAG.search(path.name)
    cpython = (int(tag["major"]), int(tag["minor"])) if tag else None
    if not (_SHARED_OBJECT.search(path.name) or info.st_mode & 0o111):
        return None
    machine = _elf_machine(path)
    return _Native(rel, machine, cpython) if machine or cpython else None


def _elf_machine(path: Path) -> str:
    try:
        with open(path, "rb") as file:
            head = file.read(_HEAD_BYTES)
    except OSError:
        return ""
    binary = read_binary(head) if head[:4] == b"\x7fELF" else None
    return binary.machine if binary and binary.format == "elf" else ""
