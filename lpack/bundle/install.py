"""Install requirements for the target (not the host) into a folder, with uv or pip.

Binary wheels only, with the target's platform tags, Python version and ABI: what
``pip install --platform ... --only-binary=:all: --target`` does, which AWS documents for
Lambda, and what ``uv pip install --python-platform ... --python-version ...`` does faster.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

from lpack.bundle.installer import Installer, find_installer
from lpack.core.errors import ResolveError, redact
from lpack.core.targets import Target

__all__ = ["Installer", "find_installer", "install", "requirement_args"]
from lpack.inputs.requirements_file import Requirements

_UV_NO_WHEEL = re.compile(
    r"Because (?:only )?(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:[=<>!~][^ ]*)? "
    r"(?:has no usable wheels|has no wheels with a matching)"
)
# uv: "Hash mismatch for `alpha==1.0`"; pip: "THESE PACKAGES DO NOT MATCH THE HASHES ..." then "    alpha==1.0 from ..."
_HASH_MISMATCH = re.compile(r"Hash mismatch for `(?P<uv>[^`]+)`|DO NOT MATCH THE HASHES.*?\n\s+(?P<pip>\S+(?: @ \S+)?) from ", re.DOTALL)
_UV_NOT_FOUND = re.compile(r"Because (?P<name>[A-Za-z0-9][A-Za-z0-9._-]*) was not found in the (?P<where>package registry|provided package locations)")
_UV_ONLY = re.compile(r"(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==\S+ has no (?:usable wheels|wheels with a matching)")
_HOST_PYTHON_CHECK = re.compile(r"Package '(?P<package>[^']+)' requires a different Python: (?P<host>\S+) not in")
_PIP_NO_WHEEL = re.compile(r"No matching distribution found for (?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)")


def requirement_args(files: Sequence[Path], require_hashes: bool) -> list[str]:
    args = [arg for path in files for arg in ("-r", str(path))]
    return args + ["--require-hashes"] if require_hashes else args


def install(installer: Installer, target: Target, dest: Path, args: Sequence[str],
            reqs: Requirements, cwd: Path, on_step: Callable[[str], None] = lambda _line: None) -> None:
    """Install into ``dest``, telling ``on_step`` the installer's steps (resolved, downloading,
    installed) as they happen; on failure raise ResolveError naming every package without a wheel."""
    cmd = installer.install_command(target, dest, args)
    returncode, output = _run_reporting(cmd, cwd, on_step)
    if returncode == 0:
        return
    origin = reqs.origin or (reqs.files[0] if reqs.files else cwd)  # the file the user wrote or locked
    mismatch = _HASH_MISMATCH.search(output)
    if mismatch:
        raise ResolveError(
            f"{origin}: hash mismatch for {mismatch['uv'] or mismatch['pip']}: the file the index served is not the one the lock "
            "recorded", tip="if the lock is right, the index's file changed since it was locked (a re-upload, "
            "or tampering): find out before deploying; if the lock is wrong, regenerate it")
    not_found = sorted({m["name"] for m in _UV_NOT_FOUND.finditer(output)})
    if not_found:
        where = "the package index" if "registry" in output else "the --find-links folders"
        raise ResolveError(
            f"{origin}: {', '.join(not_found)} was not found in {where}",
            tip="check the name's spelling, and the index (--index-url, PIP_INDEX_URL/UV_INDEX_URL) "
            "or --find-links the project uses")
    missing = _missing(output)
    if missing:
        missing |= _missing_elsewhere(installer, target, reqs, cwd, missing)
        names = ", ".join(sorted(missing))
        raise ResolveError(
            f"{origin}: no wheel for {target.label} "
            f"({', '.join(target.platform_tags()[:1])} or older, cp{target.runtime.python[0]}{target.runtime.python[1]}) "
            f"for: {names}",
            tip="pin a version that publishes manylinux wheels for this target, choose another "
            "runtime or architecture, or build the wheel on a matching machine and add it with --find-links",
        )
    what = origin
    if installer.name == "pip" and (host := _HOST_PYTHON_CHECK.search(output)):
        raise ResolveError(
            f"pip could not install {what} for {target.label}: it checked {host['package']}'s Requires-Python "
            f"against the Python running pip ({host['host']}), not the target's {target.runtime.python_version}",
            tip="this pip ignores --python-version there (pypa/pip#12216); upgrade it "
            "(`python -m pip install -U pip`), or use uv, lpack's default installer")
    raise ResolveError(f"{installer.name} could not install {what} for {target.label}: {_last_lines(output)}")


# The lines of uv's and pip's output that say which step they are at.
_STEP = re.compile(r"^(Resolved|Prepared|Installed|Downloading|Downloaded|Collecting|Installing collected"
                   r"|Successfully installed)\b")


def _run_reporting(cmd: Sequence[str], cwd: Path, on_step: Callable[[str], None]) -> tuple[int, str]:
    """Run ``cmd``, passing its step lines on as they come; return its exit code and output."""
    lines: list[str] = []
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=cwd,
                          env=_env()) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if _STEP.match(line):
                on_step(line.strip())
    return proc.returncode, "".join(lines)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("UV_NO_PROGRESS", "1")
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _missing(output: str) -> set[str]:
    names = {m.group("name") for m in _UV_NO_WHEEL.finditer(output)}
    names |= {m.group("name") for m in _UV_ONLY.finditer(output)}
    names |= {m.group("name") for m in _PIP_NO_WHEEL.finditer(output)}
    return {n.lower() for n in names}


def _missing_elsewhere(installer: Installer, target: Target, reqs: Requirements, cwd: Path,
                       known: set[str]) -> set[str]:
    """The installer stops at the first failure: try each other top-level requirement alone."""
    found: set[str] = set()
    others = [line for line, name in zip(reqs.lines, reqs.names) if name.lower() not in known]
    if len(others) > 25 or reqs.has_hashes:
        return found
    import tempfile

    with tempfile.TemporaryDirectory(prefix="lpack-probe-") as tmp:
        for line in others:
            probe = Path(tmp) / "requirements.txt"
            probe.write_text("\n".join([*_option_lines(reqs), line]) + "\n")
            cmd = installer.install_command(target, Path(tmp) / "t", ["-r", str(probe)], dry_run=True)
            result = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, env=_env(), check=False)
            if result.returncode:
                found |= _missing(result.stderr + result.stdout)
    return found


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


_NOT_OPTIONS = ("-r", "--requirement", "-c", "--constraint", "-e", "--editable", "--hash")


def _last_lines(output: str, count: int = 3) -> str:
    lines = [ln.strip() for ln in output.strip().splitlines() if ln.strip() and not ln.startswith("Using ")]
    return redact(" ".join(lines[-count:]) or "no output")
