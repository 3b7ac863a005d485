"""Which installer builds the target's dependency set (uv, else pip) and what identifies it in
the cache key. Kept apart from ``install``, which runs it: a rebuild that takes its
dependencies from the cache names the installer without loading subprocess handling."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from lpack.bundle import pipconfig
from lpack.core.errors import UsageError
from lpack.core.targets import Target


class Installer(NamedTuple):
    name: str  # "uv" or "pip"
    command: tuple[str, ...]
    identity: str  # what the cache key records of this installer: its version, or its binary

    def install_command(self, target: Target, dest: Path, args: Sequence[str], *,
                        dry_run: bool = False) -> tuple[list[str], dict[str, str]]:
        """The command, and the environment variables to add to lpack's own when running it."""
        if self.name == "uv":
            cmd = [*self.command, "pip", "install", "--target", str(dest),
                   "--python-version", target.runtime.python_version,
                   "--python-platform", target.uv_platform(),
                   "--only-binary", ":all:", "--no-progress"]
            options, environment = pipconfig.as_uv(hashed="--require-hashes" in args)  # uv reads UV_*, not pip's files
            cmd += options
            if dry_run:
                cmd.append("--dry-run")
            return cmd + list(args), environment
        cmd = [*self.command, "install", "--target", str(dest), "--only-binary=:all:",
               "--implementation", "cp", "--python-version", target.runtime.python_version,
               "--abi", target.runtime.abi, "--abi", "abi3", "--abi", "none",
               "--no-compile", "--no-warn-script-location", "--disable-pip-version-check",
               "--upgrade"]
        for tag in target.platform_tags():
            cmd += ["--platform", tag]
        if dry_run:
            cmd.append("--dry-run")
        return cmd + list(args), {}


WHEEL_COPY_ENV = "LPACK_WHEEL_COPY"  # "0": install and compress, never copy the wheels' members


def wheel_copy() -> bool:
    """Whether uv's resolved wheels are installed by copying their compressed members (issue #23)."""
    return os.environ.get(WHEEL_COPY_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


def find_installer(preferred: str | None) -> Installer:
    """uv unless pip is asked for, or uv is unavailable."""
    if preferred in (None, "uv"):
        uv = _find_uv()
        if uv:
            return Installer("uv", (uv,), _uv_identity(uv))
        if preferred == "uv":
            raise UsageError("uv was asked for but is not installed; `pip install uv`, or use --installer pip")
    pip = (sys.executable, "-m", "pip")
    version = _version([*pip, "--version"])
    if not version:
        raise UsageError(f"pip is not available in {sys.executable}; install it, or install uv")
    return Installer("pip", pip, version)


def _uv_identity(uv: str) -> str:
    """uv's version (``uv 0.9.2``): the same on every machine, as the cache keys it is part of
    must be for a shared cache. Remembered by the binary's path, size and mtime, so a rebuild
    does not run it; a uv that does not say falls back to those."""
    from lpack.core.cache import default_root, memo

    info = os.stat(uv)
    stamp = f"{uv}:{info.st_size}:{info.st_mtime_ns}"
    version = memo(default_root(), "uv-version", {"binary": stamp},
                   lambda: packaged_version(uv, info.st_size) or _version([uv, "--version"]) or stamp)
    return version.split(" (")[0]  # not the build host (x86_64-unknown-linux-gnu): it installs for the target


def packaged_version(binary: str, size: int, places: Sequence[str] | None = None) -> str | None:
    """``uv X.Y.Z`` when ``binary`` is the file the ``uv`` distribution installed (lpack depends
    on it): a ``uv-X.Y.Z.dist-info`` in ``places`` (sys.path's site-packages) whose RECORD lists
    that file with this size. Running ``uv --version`` took 6-10 ms of a build on an empty cache.
    None for any other uv."""
    real = os.path.realpath(binary)
    for place in places if places is not None else [p for p in sys.path if os.path.basename(p) == "site-packages"]:
        try:
            folders = [name for name in os.listdir(place) if name.startswith("uv-") and name.endswith(".dist-info")]
            for folder in folders:
                with open(os.path.join(place, folder, "RECORD"), encoding="utf-8") as record:
                    if any(_lists(line, place, real, size) for line in record):
                        return f"uv {folder[len('uv-'):-len('.dist-info')]}"
        except (OSError, UnicodeDecodeError):
            continue
    return None


def _lists(line: str, place: str, real: str, size: int) -> bool:
    """Whether a RECORD line (path,hash,size) is the file ``real`` with ``size`` bytes."""
    path, _hash, listed = (line.rstrip("\r\n").rsplit(",", 2) + ["", ""])[:3]
    return listed == str(size) and os.path.realpath(os.path.join(place, path)) == real


def _find_uv() -> str | None:
    found = shutil.which("uv")
    if found:
        return found
    try:
        from uv import find_uv_bin

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        return None


def _version(cmd: list[str]) -> str:
    import subprocess

    try:
        out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip().split(" from ")[0]
