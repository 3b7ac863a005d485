"""Entry rules (LP120-LP124): entries Lambda cannot read, or that are unsafe to extract.

They need the central directory only, except LP123, which reads symbolic links' targets.
"""

from __future__ import annotations

import posixpath
import re
from collections import Counter
from collections.abc import Iterator

from lpack.analysis.package import Entry
from lpack.analysis.subjects import PackageSubject
from lpack.core.findings import Finding, Severity
from lpack.rules import Rule, rule
from lpack.rules._package import PACKAGE_URL, count, junk, some

PERMISSIONS_URL = "https://docs.aws.amazon.com/lambda/latest/dg/troubleshooting-deployment.html"


# Paths a symlink may point at: they exist on Lambda (its writable /tmp, the layers under /opt,
# the function under /var/task, the runtime and the OS). Anything else absolute is a path on
# the machine that made the zip (/home/..., /Users/...) and dangles on Lambda.
_LAMBDA_PATHS = ("/tmp", "/opt", "/var/task", "/var/lang", "/var/runtime", "/usr", "/lib", "/lib64",
                 "/etc", "/bin", "/sbin", "/dev", "/proc")


def _unreadable(entry: Entry) -> bool:
    if entry.is_dir:
        return entry.mode & 0o005 != 0o005  # listing needs r, entering needs x
    return not entry.mode & 0o004


@rule("LP120", "entry-not-world-readable", Severity.ERROR, subject=PackageSubject, source=PERMISSIONS_URL)
def entry_not_world_readable(r: Rule, s: PackageSubject) -> Iterator[Finding]:
    """## What it does
    Flags files the zip records without read permission for others (`0600`, `0640`) and folders
    without read and execute permission for others (`0700`, `0750`).

    ## Why is this bad?
    Lambda extracts the zip with the permissions it records and runs the function as a user that
    owns none of the files, so it needs "global read permissions on code files". An unreadable
    module fails at import with `PermissionError: [Errno 13] Permission denied` or
    `Runtime.ImportModuleError`; Python cannot see the modules in a folder it cannot list.

    A common cause: zips written with Python's `ZipFile.writestr(name, data)`, which records
    `0600`. Zips without Unix modes (made on Windows) are fine: Lambda applies its defaults. A
    source folder is not checked: `lpack build` writes `0644` files and `0755` folders.

    ## How to fix
    Rebuild the zip with `lpack build`, or `chmod -R a+rX` (files `644`, folders `755`) before zipping.
    """
    if s.is_source:
        return
    bad = [e for e in s.package.entries if e.unix and not e.symlink and not junk(e.name) and _unreadable(e)]
    if bad:
        named = [f"{e.name} ({e.mode:04o})" for e in bad]
        yield r.finding(
            f"{count(len(bad), 'entry is', 'entries are')} not readable by Lambda's runtime user: "
            f"{some(named)}",
            s.where(bad[0].name), function=s.function,
            fix="rebuild with files 0644 and folders 0755: chmod -R a+rX before zipping, or lpack build",
        )


def _escapes(name: str) -> bool:
    return name.startswith("/") or re.match(r"[A-Za-z]:[/\\]", name) is not None or ".." in name.split("/")


@rule("LP121", "entry-outside-package", Severity.ERROR, subject=PackageSubject, source=PACKAGE_URL)
def entry_outside_package(r: Rule, s: PackageSubject) -> Iterator[Finding]:
    """## What it does
    Flags entries whose names are absolute (`/etc/...`, `C:/...`) or contain `..` components.

    ## Why is this bad?
    Extracted naively, such an entry is written outside the package folder ("zip slip"); careful
    extractors refuse or rewrite it. Either way the file is not where the code expects it, and a
    zip that contains one was made by a tool that should not be trusted with the package.

    ## How to fix
    Rebuild the zip from the function's folder with relative names (`lpack build` does).
    """
    if s.is_source:
        return
    bad = [e.name for e in s.package.entries if _escapes(e.name)]
    if bad:
        yield r.finding(
            f"{count(len(bad), 'entry', 'entries')} would be written outside the package folder: {some(bad)}",
            s.where(bad[0]), function=s.function, fix="rebuild the zip with relative names",
        )


@rule("LP122", "backslash-in-entry-name", Severity.ERROR, subject=PackageSubject, source=PACKAGE_URL)
def backslash_in_entry_name(r: Rule, s: PackageSubject) -> Iterator[Finding]:
    r"""## What it does
    Flags entry names that contain backslashes (`pkg\mod.py`).

    ## Why is this bad?
    The zip format separates folders with `/`. Some Windows tools (PowerShell 5's
    `Compress-Archive`) write `\`, and Lambda extracts `pkg\mod.py` as one file with that
    name in the root: `import pkg.mod` fails with `Runtime.ImportModuleError`.

    ## How to fix
    Rebuild the zip with a tool that writes `/`: `lpack build`, Python's `zipfile`, 7-Zip, or
    PowerShell 7's `Compress-Archive`.
    """
    if s.is_source:
        return
    bad = [e.name for e in s.package.entries if "\\" in e.name]
    if bad:
        yield r.finding(
            f"{count(len(bad), 'entry name uses', 'entry names use')} backslashes as folder separators, which Lambda "
            f"keeps as part of the file name: {some(bad)}",
            s.where(bad[0]), function=s.function, fix="rebuild the zip with lpack build or another tool that writes '/'",
        )


def _link_problem(name: str, target: str) -> str | None:
    if target.startswith("/"):
        if any(target == p or target.startswith(p + "/") for p in _LAMBDA_PATHS):
            return None
        return f"{name} -> {target} (a path on the machine that made the zip)"
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(name), target))
    if resolved == ".." or resolved.startswith("../"):
        return f"{name} -> {target} (outside the package)"
    return None


@rule("LP123", "symlink-outside-package", Severity.ERROR, subject=PackageSubject, source=PACKAGE_URL)
def symlink_outside_package(r: Rule, s: PackageSubject) -> Iterator[Finding]:
    """## What it does
    Reads the target of each symbolic link in the zip and flags links that leave the package
    (`../../shared`) or point at an absolute path that does not exist on Lambda
    (`/home/me/project/lib`, `/Users/...`). Links inside the package are fine, and so are links
    to Lambda's own paths (`/tmp`, `/opt`, `/var/task`) and its operating system (`/usr`, `/lib64`).

    ## Why is this bad?
    On Lambda such a link dangles: whatever reads it gets `FileNotFoundError`. A link that
    leaves the package is also how a malicious zip writes outside its folder ("zip slip").

    ## How to fix
    Zip the files the links point at instead of the links (`zip -r` without `--symlinks`;
    `lpack build` follows links to folders and stores their files).
    """
    if s.reader is None or s.is_source:
        return
    bad = [p for e in s.package.entries if e.symlink and (p := _link_problem(e.name, s.reader.text(e.name)))]
    if bad:
        yield r.finding(
            f"{count(len(bad), 'symbolic link', 'symbolic links')} would dangle on Lambda: {some(bad)}",
            s.where(bad[0].split(" -> ", 1)[0]), function=s.function,
            fix="store the files the links point at instead of the links",
        )


@rule("LP124", "duplicate-entry", Severity.ERROR, subject=PackageSubject, source=PACKAGE_URL)
def duplicate_entry(r: Rule, s: PackageSubject) -> Iterator[Finding]:
    """## What it does
    Flags file names that appear more than once in the zip.

    ## Why is this bad?
    Which copy ends up on disk depends on the extractor (usually the last one wins), so the
    package that runs may not be the one that was tested; tools that list or hash the zip
    disagree about its contents.

    ## How to fix
    Rebuild the zip from scratch (`zip -r` into an existing zip adds; `lpack build` writes each
    name once, the function's own file winning over a dependency's).
    """
    if s.is_source:
        return
    counts = Counter(e.name for e in s.package.entries if not e.is_dir)
    dups = [f"{name} ({n} times)" for name, n in counts.items() if n > 1]
    if dups:
        first = next(name for name, n in counts.items() if n > 1)
        yield r.finding(
            f"{count(len(dups), 'file name appears', 'file names appear')} more than once; the extractor decides which "
            f"copy Lambda runs: {some(dups)}",
            s.where(first), function=s.function, fix="rebuild the zip from scratch instead of adding to it",
        )
