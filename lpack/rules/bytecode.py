"""Bytecode rules (LP140-LP142): what the target's Python can load, and what the runtime already has.

LP140 and LP141 read the bytecode in the package (``__pycache__`` tags, the magic number of a
sourceless ``x.pyc``); LP142 notes the AWS SDK that every Python runtime provides.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from lpack.analysis.package import Entry
from lpack.analysis.subjects import PackageSubject
from lpack.core.findings import Finding, Severity
from lpack.rules import Rule, rule
from lpack.rules._package import (
    PACKAGE_URL,
    cached_pycs,
    count,
    import_roots,
    legacy_pycs,
    package_files,
    some,
    tag_version,
    unzipped,
)

# First magic number of each CPython version's .pyc files (importlib/_bootstrap_external.py:
# each version's numbers lie between its start and the next one's).
_PYC_MAGIC_STARTS = (
    (3390, (3, 7)), (3400, (3, 8)), (3420, (3, 9)), (3430, (3, 10)), (3450, (3, 11)),
    (3500, (3, 12)), (3550, (3, 13)), (3600, (3, 14)), (3650, (3, 15)), (3700, (3, 16)),
)
_RUNTIME_SDK = ("boto3", "botocore", "s3transfer")


def pyc_version(header: bytes) -> tuple[int, int] | None:
    """The CPython version a .pyc file's magic number belongs to (3.7 and later), or None."""
    if len(header) < 4 or header[2:4] != b"\r\n":
        return None
    magic = int.from_bytes(header[:2], "little")
    versions = [v for start, v in _PYC_MAGIC_STARTS if start <= magic]
    return versions[-1] if versions and magic < _PYC_MAGIC_STARTS[-1][0] + 50 else None


def _version(v: tuple[int, int] | None) -> str:
    return f"Python {v[0]}.{v[1]}" if v else "another Python"


def _sourceless(s: PackageSubject) -> list[tuple[Entry, tuple[int, int] | None]]:
    """Legacy .pyc files without a .py beside them, with the version their header names."""
    if s.reader is None:
        return []
    reader = s.reader
    return [(e, pyc_version(reader.read(e.name, 4))) for e in legacy_pycs(s)[1]]


@rule("LP140", "pyc-wrong-python", Severity.WARNING, subject=PackageSubject, source=PACKAGE_URL)
def pyc_wrong_python(r: Rule, s: PackageSubject) -> Iterator[Finding]:
    """## What it does
    Flags bytecode compiled by another Python than the target runtime's:
    `__pycache__/x.cpython-313.pyc` in a package for python3.12, and `x.pyc` files without a
    `x.py` whose magic number belongs to another version.

    ## Why is this bad?
    Python never reads another version's `__pycache__` files: they are dead weight, and a sign
    that the package was built with a different Python (check its native extensions too). A
    sourceless `x.pyc` from another version fails to import: `ImportError: bad magic number`.

    ## How to fix
    Exclude `__pycache__/` and build with the target's Python (`lpack build` installs for the
    target and ships no bytecode); recompile sourceless modules with the target's Python or ship
    their `.py` files.
    """
    if s.target is None:
        return
    want = s.target.runtime.python
    stale = [(e, tag) for e, tag in cached_pycs(s) if tag_version(tag) != want]
    if stale:
        tags = sorted({tag for _, tag in stale})
        size = sum(e.size for e, _ in stale)
        yield r.finding(
            f"{count(len(stale), '.pyc file', '.pyc files')} compiled for {', '.join(tags)}, {unzipped(size)}, which "
            f"{s.target.runtime.name} never reads: was the package built with another Python?",
            s.where(stale[0][0].name), function=s.function,
            fix='add "__pycache__/" to exclude and build with the target\'s Python',
        )
    broken = [(e, v) for e, v in _sourceless(s) if v != want]
    if broken:
        named = [f"{e.name} ({_version(v)})" for e, v in broken]
        yield r.finding(
            f"{count(len(broken), 'module ships', 'modules ship')} only as bytecode for another Python, which "
            f"{s.target.runtime.name} cannot load (bad magic number): {some(named)}",
            s.where(broken[0][0].name), function=s.function,
            fix=f"ship the .py files, or compile them with Python {want[0]}.{want[1]}",
        )


@rule("LP141", "sourceless-module", Severity.INFO, subject=PackageSubject, source=PACKAGE_URL)
def sourceless_module(r: Rule, s: PackageSubject) -> Iterator[Finding]:
    """## What it does
    Notes modules that ship only as bytecode (`x.pyc` without `x.py`) compiled for the target's
    Python (for another version see LP140).

    ## Why is this bad?
    It works, but only on this Python version: moving the function to a newer runtime breaks
    its imports, and tracebacks show no source lines. Fine if deliberate.

    ## How to fix
    Ship the `.py` files; to save compile time at cold start, ship them with
    `__pycache__` compiled by the target's Python in `unchecked-hash` mode. Deliberate: ignore LP141.
    """
    if s.target is None:
        return
    want = s.target.runtime.python
    fine = [e.name for e, v in _sourceless(s) if v == want]
    if fine:
        yield r.finding(
            f"{count(len(fine), 'module ships', 'modules ship')} only as bytecode, which only Python "
            f"{want[0]}.{want[1]} can load: {some(fine)}", s.where(fine[0]), function=s.function,
            fix="ship the .py files (fine if deliberate)",
        )


# -- the runtime's own packages -------------------------------------------------------------------

@rule("LP142", "boto3-vendored", Severity.INFO, subject=PackageSubject, source=PACKAGE_URL)
def boto3_vendored(r: Rule, s: PackageSubject) -> Iterator[Finding]:
    """## What it does
    Notes boto3 or botocore (and s3transfer) in the package, with the bytes they take.

    ## Why is this bad?
    Every Python runtime already provides the AWS SDK, so the copy in the package often only
    adds 15-25 MB towards the 250 MB limit, and its security updates become yours to ship. Fine
    if deliberate: pinning a newer boto3 than the runtime's (for an API it does not have yet, or
    to control upgrades) is a good reason, and the copy in the package wins over the runtime's.

    ## How to fix
    If you do not need a specific version, remove boto3 from the function's requirements (keep it
    in a development group for local runs). Otherwise ignore LP142 for this function.
    When another library needs it (s3fs pulls botocore in through aiobotocore), the fix names
    that library, read from the package's metadata: keep the SDK, or drop that library.
    Functions built from one CodeUri share one finding.
    """
    found: dict[str, str] = {}
    size = 0
    for root in import_roots(s):
        for entry in package_files(s):
            rel = entry.name[len(root):] if entry.name.startswith(root) else None
            top = rel.split("/", 1)[0] if rel and "/" in rel else ""
            name = top.split("-", 1)[0] if top.endswith(".dist-info") else top
            if name in _RUNTIME_SDK:
                size += entry.size
                if top.endswith(".dist-info"):
                    found[name] = top[len(name) + 1:-len(".dist-info")]
                else:
                    found.setdefault(name, "")
    present = [n for n in _RUNTIME_SDK[:2] if n in found]
    if present:
        named = " and ".join(f"{n} {found[n]}".strip() for n in present)
        yield r.finding(
            f"{named} {'is' if len(present) == 1 else 'are'} in the package, {unzipped(size)}, although the "
            f"runtime provides {'it' if len(present) == 1 else 'them'}; fine if deliberate, e.g. to pin a "
            "newer boto3 than the runtime's",
            s.display, function=s.function, fix=_sdk_fix(s, present),
        )


def _sdk_fix(s: PackageSubject, present: list[str]) -> str:
    """What to do about the SDK in the package, by what brought it in: the package's dist-info
    metadata says which installed distributions require it, up to the ones nothing requires (the
    function's own requirements)."""
    requirers = _requirers(s)
    sdk = "boto3" if "boto3" in present else "botocore"
    roots = _roots(sdk, requirers)
    if not roots or roots == [sdk]:
        return f"unless you need a specific version, drop {sdk} from the function's requirements"
    via = sorted(requirers.get(sdk, ()))
    through = f" (through {', '.join(via)})" if via and via != roots else ""
    return (f"{sdk} comes in with {', '.join(roots)}{through}, which {'needs' if len(roots) == 1 else 'need'} it: "
            "keep it (ignore LP142 for this function), or drop that requirement")


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirers(s: PackageSubject) -> dict[str, set[str]]:
    """For each distribution in the package, the distributions in the package that require it
    (Requires-Dist without an ``extra`` marker: what an install of the requirer pulls in)."""
    if s.reader is None:
        return {}
    from email.parser import HeaderParser

    installed: dict[str, str] = {}
    for root in import_roots(s):
        for entry in package_files(s):
            rel = entry.name[len(root):] if entry.name.startswith(root) else ""
            if rel.count("/") == 1 and rel.endswith(".dist-info/METADATA"):
                installed[_normal(rel.split("/")[0].rsplit(".", 1)[0].split("-")[0])] = entry.name
    requirers: dict[str, set[str]] = {}
    for name, metadata in installed.items():
        headers = HeaderParser().parsestr(s.reader.text(metadata, _METADATA_HEAD))
        for requirement in headers.get_all("Requires-Dist") or []:
            spec, _, marker = requirement.partition(";")
            if "extra" in marker:
                continue
            required = _normal(re.split(r"[\s\[(<>=!~;@]", spec.strip(), maxsplit=1)[0])
            if required in installed and required != name:
                requirers.setdefault(required, set()).add(name)
    return requirers


# the metadata headers come before the long description, which may be large
_METADATA_HEAD = 64 * 1024


def _roots(name: str, requirers: dict[str, set[str]]) -> list[str]:
    """The distributions nothing else in the package requires that ``name`` is installed for."""
    roots, seen, todo = set(), {name}, [name]
    while todo:
        current = todo.pop()
        above = requirers.get(current, set()) - seen
        if not requirers.get(current):
            roots.add(current)
        seen |= above
        todo += above
    return sorted(roots)
