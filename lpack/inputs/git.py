"""The files git says changed since a ref, for ``--changed-since REF``.

"Changed since REF" is what CI asks of a branch: every file that differs between the merge base
of REF and HEAD (where the branch left REF, as ``git diff REF...HEAD``) and the working tree —
committed on the branch, staged or not — and the untracked files git does not ignore. A file
deleted or renamed counts under its old path too.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import NamedTuple

from lpack.core.errors import UsageError


class Changes(NamedTuple):
    paths: frozenset[Path]  # absolute, resolved
    top: Path  # the repository's root
    base: str  # the merge base of REF and HEAD


def changes(folder: Path, ref: str) -> Changes:
    """The paths changed since ``ref`` in the repository holding ``folder``."""
    top = Path(_git(folder, ["rev-parse", "--show-toplevel"], f"{folder}: not in a git repository",
                    "--changed-since compares with git; run it in a clone").strip())
    if ref.startswith("-"):
        raise UsageError(f"--changed-since {ref}: not a git ref", tip="name a branch, tag or commit, e.g. origin/main")
    base = _git(folder, ["merge-base", ref, "HEAD"], f"--changed-since {ref}: git knows no such commit "
                f"in {top}", "fetch it first (in CI: a checkout with fetch-depth: 0), or name a branch, tag or commit").strip()
    names = _git(folder, ["diff", "--name-only", "--no-renames", "-z", base, "--"], f"git diff {base} failed in {top}")
    names += _git(folder, ["ls-files", "--others", "--exclude-standard", "-z", "--full-name", ":/"],
                  f"git ls-files failed in {top}")
    return Changes(frozenset((top / name).resolve() for name in names.split("\0") if name), top.resolve(), base)


def file_at(changes: Changes, path: Path) -> str | None:
    """The text of ``path`` at the merge base; None when it did not exist there (or is not text)."""
    try:
        rel = path.resolve().relative_to(changes.top).as_posix()
        done = subprocess.run(["git", "show", f"{changes.base}:{rel}"], cwd=changes.top, capture_output=True,
                              check=False)
        return done.stdout.decode("utf-8") if done.returncode == 0 else None
    except (ValueError, OSError, UnicodeDecodeError):
        return None


def _git(folder: Path, args: list[str], error: str, tip: str | None = None) -> str:
    try:
        done = subprocess.run(["git", "-c", "core.quotepath=off", *args], cwd=folder, capture_output=True,
                              text=True, check=False)
    except OSError as exc:
        raise UsageError(f"--changed-since needs git: {exc.strerror or exc}", tip="install git") from exc
    if done.returncode:
        detail = done.stderr.strip().splitlines()[-1:] or [""]
        raise UsageError(f"{error}{': ' + detail[0] if detail[0] and 'not a git repository' not in detail[0] else ''}", tip=tip)
    return done.stdout
