"""Dead-weight rules: tests, caches and documentation shipped in the package (LP143-LP145), and
the same distribution shipped twice, in the function and a layer or in two layers (LP146, LP147).

Each gives the ``exclude`` patterns that drop what it counts and the bytes that saves; the three
count each file once (tests, then caches, then docs), so their savings add up.
"""

from __future__ import annotations

import functools
import json
import posixpath
import re
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from lpack.analysis.distributions import normalize
from lpack.analysis.package import Entry, PackageIndex, PackageReader, display_path
from lpack.analysis.subjects import PackageSubject
from lpack.core import limits
from lpack.core.errors import LpackError
from lpack.core.findings import Finding, Severity
from lpack.core.patterns import lazy
from lpack.core.units import human_bytes
from lpack.rules import Rule, _package, rule
from lpack.rules._package import (
    SITE_PACKAGES,
    cached_pycs,
    count,
    handler_module,
    import_roots,
    in_metadata,
    legacy_pycs,
    package_files,
    some,
    tag_version,
    unzipped,
)

WORTH_BYTES = 64 << 10  # dead weight under this is not worth a finding (a README.md is fine)

_TEST_DIRS = ("tests", "test")
# Test folders that are a library's run-time API: django.test (RequestFactory, override_settings).
_RUNTIME_TEST_DIRS = ("django/test/",)
_CACHE_DIRS = ("__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".hypothesis",
               ".ipynb_checkpoints", ".tox", ".nox")
_DOC_DIRS = ("docs", "doc")
_DOC_SUFFIXES = (".md", ".rst")
_LICENSE_NAMES = ("LICENSE", "LICENCE", "COPYING", "NOTICE")
_CODE_SUFFIXES = (".py", ".pyc", ".so", ".pyd")


def _relative(s: PackageSubject, name: str) -> str:
    """``name`` as lpack's ``exclude`` patterns see it: relative to the import root."""
    roots = sorted(import_roots(s), key=len, reverse=True)
    return next((name[len(r):] for r in roots if r and name.startswith(r)), name)


def _folder(name: str, folders: tuple[str, ...]) -> str | None:
    """The path up to the first folder of ``name`` called one of ``folders`` (``a/tests/``)."""
    if _needles(folders).search(name) is None:  # most names: no such folder at all
        return None
    wanted = set(folders)
    parts = name.split("/")
    for i, part in enumerate(parts[:-1]):
        if part.endswith((".dist-info", ".egg-info")):
            return None
        if part in wanted:
            return "/".join(parts[:i + 1]) + "/"
    return None


@functools.cache
def _needles(folders: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(f"{folder}/") for folder in folders))


def _weight_finding(r: Rule, s: PackageSubject, what: str, groups: dict[str, int], files: int,
                    patterns: list[str], note: str) -> Iterator[Finding]:
    size = sum(groups.values())
    if size < WORTH_BYTES:
        return
    biggest = [f"{g} ({human_bytes(n)})" for g, n in sorted(groups.items(), key=lambda kv: (-kv[1], kv[0]))]
    yield r.finding(
        f"{what} ship in the package: {count(files, 'file', 'files')}, {unzipped(size)}, in {some(biggest)}; {note}",
        s.display, function=s.function,
        fix=f"add to exclude in [tool.lpack] (saves {human_bytes(size)}): {json.dumps(patterns)}",
    )


def _runtime_tests(folder: str) -> bool:
    return any(("/" + folder).endswith("/" + protected) for protected in _RUNTIME_TEST_DIRS)


def _test_folder(name: str, module: str | None) -> str | None:
    """The test folder LP143 counts ``name`` in: not a run-time API's, not the handler's."""
    folder = _folder(name, _TEST_DIRS)
    if folder is None or _runtime_tests(folder) or (module is not None and module.startswith(folder)):
        return None
    return folder


def _counted_before(s: PackageSubject, name: str, *, caches: bool) -> bool:
    """Whether an earlier dead-weight rule counts ``name`` (tests, then caches, then docs), so
    that the bytes of the three findings add up to what their patterns save together."""
    return _test_folder(name, handler_module(s)) is not None or (caches and _folder(name, _CACHE_DIRS) is not None)


@rule("LP143", "tests-shipped", Severity.INFO, subject=PackageSubject, source=limits.QUOTAS_URL)
def tests_shipped(r: Rule, s: PackageSubject) -> Iterator[Finding]:
    """## What it does
    Adds up the files in `tests/` and `test/` folders (the function's own and those inside
    installed libraries, e.g. `numpy/_core/tests/`) and, when they pass 64 KB, gives the
    `exclude` patterns that drop them and the bytes that saves. One finding per package.

    ## Why is this bad?
    Libraries usually never import their own tests at run time, but they count towards the
    250 MB unzipped limit and make the package slower to deploy and to start. Test folders
    that are a library's run-time API (`django/test/`) and the handler's own module are kept.

    ## How to fix
    Add the patterns to `exclude` in `[tool.lpack]`. If a library does import its tests at run
    time, re-include its folder with a `!` pattern; to keep every test folder, ignore LP143.
    """
    module = handler_module(s)
    groups: dict[str, int] = {}
    files = 0
    names: set[str] = set()
    protected: set[str] = set()
    for entry in package_files(s):
        folder = _folder(entry.name, _TEST_DIRS)
        if folder is not None and _runtime_tests(folder):
            protected.add(folder)
        folder = _test_folder(entry.name, module)
        if folder is None:
            continue
        groups[folder] = groups.get(folder, 0) + entry.size
        names.add(folder.rstrip("/").rsplit("/", 1)[-1])
        files += 1
    patterns = [f"{n}/" for n in _TEST_DIRS if n in names]
    patterns += [f"!**/{_relative(s, p)}" for p in sorted(protected) if p.rstrip("/").endswith("/test")
                 and "test" in names]
    yield from _weight_finding(r, s, "tests", groups, files, patterns,
                               "libraries usually never import their tests at run time")


def _hash_based(s: PackageSubject, pycs: list[Entry]) -> bool:
    """Whether the package's __pycache__ was compiled in a hash-based mode (one file's header
    decides: compileall compiles a whole tree one way). Such files are deliberate and valid."""
    if s.reader is None or not pycs:
        return False
    header = s.reader.read(pycs[0].name, 8)
    return len(header) == 8 and int.from_bytes(header[4:8], "little") & 1 == 1


@rule("LP144", "caches-shipped", Severity.INFO, subject=PackageSubject, source=limits.QUOTAS_URL)
def caches_shipped(r: Rule, s: PackageSubject) -> Iterator[Finding]:
    """## What it does
    Adds up caches shipped in the package: `__pycache__` for the target's Python (another
    version's is LP140), `x.pyc` beside its `x.py`, and tool caches (`.pytest_cache`,
    `.mypy_cache`, `.ruff_cache`, `.hypothesis`, `.tox`, `.nox`). When they pass 64 KB, gives the
    `exclude` patterns that drop them and the bytes that saves. One finding per package.

    ## Why is this bad?
    Lambda's `/var/task` is read-only, and Python uses a timestamp-based `.pyc` only if the
    extracted `.py` has the very modification time it recorded, which zips (local time, 2-second
    steps) rarely keep: the files usually only add size. `__pycache__` compiled in a hash-based
    mode (`compileall --invalidation-mode unchecked-hash`, or with `SOURCE_DATE_EPOCH` set) is
    valid on Lambda and saves compile time at cold start: it is not counted. An `x.pyc` beside
    `x.py` is never loaded: the source wins.

    ## How to fix
    Add the patterns to `exclude` in `[tool.lpack]`; `lpack build` already leaves bytecode and
    tool caches out. To keep them, ignore LP144.
    """
    want = s.target.runtime.python if s.target else None
    pycs = cached_pycs(s)
    current = [e for e, tag in pycs if want is None or tag_version(tag) == want]
    valid = _hash_based(s, current)  # then the target's __pycache__ is deliberate and used
    skip = {e.name for e, tag in pycs if valid or (want is not None and tag_version(tag) != want)}
    groups: dict[str, int] = {}
    files = 0
    names: set[str] = set()
    for entry in package_files(s):
        folder = _folder(entry.name, _CACHE_DIRS)
        if folder is None or entry.name in skip or _counted_before(s, entry.name, caches=False):
            continue
        groups[folder] = groups.get(folder, 0) + entry.size
        names.add(folder.rstrip("/").rsplit("/", 1)[-1])
        files += 1
    beside, sourceless = legacy_pycs(s)
    for entry in (e for e in beside if not _counted_before(s, e.name, caches=False)):
        key = posixpath.join(posixpath.dirname(entry.name), "*.pyc")
        groups[key] = groups.get(key, 0) + entry.size
        files += 1
    patterns = [f"{n}/" for n in _CACHE_DIRS if n in names]
    if beside:
        patterns += ["*.pyc", *(f"!**/{_relative(s, e.name)}" for e in sourceless)]
    yield from _weight_finding(r, s, "caches", groups, files, patterns,
                               "Python on Lambda usually recompiles or never reads them")


def _docs_folders(s: PackageSubject) -> tuple[set[str], set[str]]:
    """(docs folders holding only documents, docs folders holding code, like boto3/docs/)."""
    return docs_folders(entry.name for entry in package_files(s))


def docs_folders(names: Iterable[str]) -> tuple[set[str], set[str]]:
    """Of file ``names``: (docs folders holding only documents, docs folders holding code)."""
    folders: set[str] = set()
    code: set[str] = set()
    for name in names:
        folder = _folder(name, _DOC_DIRS)
        if folder is not None:
            folders.add(folder)
            if name.endswith(_CODE_SUFFIXES):
                code.add(folder)
    return folders - code, code


def doc_file(name: str, pure: set[str]) -> bool:
    """Whether LP145 counts ``name`` as documentation: in a docs folder of ``pure`` (those
    holding no code), or a ``*.md``/``*.rst`` outside metadata that is not a license."""
    if _folder(name, _DOC_DIRS) in pure:
        return True
    return name.endswith(_DOC_SUFFIXES) and not in_metadata(name) and not _license(name)


def test_file(name: str, module: str | None = None) -> bool:
    """Whether LP143 counts ``name`` as a test file: in a ``tests/`` or ``test/`` folder that is
    neither a run-time API's (``django/test/``) nor the handler ``module``'s."""
    return _test_folder(name, module) is not None


def cache_file(name: str) -> bool:
    """Whether ``name`` is in a cache folder LP144 counts (``__pycache__``, tool caches)."""
    return _folder(name, _CACHE_DIRS) is not None


def _license(name: str) -> str:
    """The license-like prefix a file name starts with (``LICENSE`` for ``LICENSE.md``), or ""."""
    base = name.rsplit("/", 1)[-1]
    return next((base[:len(n)] for n in _LICENSE_NAMES if base.upper().startswith(n)), "")


def _keep_metadata(name: str) -> str:
    return "!**/*.egg-info/**" if ".egg-info/" in name else "!**/*.dist-info/**"


def _last(folder: str) -> str:
    return folder.rstrip("/").rsplit("/", 1)[-1]


@rule("LP145", "docs-shipped", Severity.INFO, subject=PackageSubject, source=limits.QUOTAS_URL)
def docs_shipped(r: Rule, s: PackageSubject) -> Iterator[Finding]:
    """## What it does
    Adds up documentation shipped in the package: `docs/` and `doc/` folders that hold no code,
    and `*.md` and `*.rst` files outside `*.dist-info` (license files aside). When they pass
    64 KB, gives the `exclude` patterns that drop them and the bytes that saves. One finding
    per package.

    ## Why is this bad?
    Libraries usually never read their documentation at run time; it counts towards the 250 MB
    unzipped limit. A `docs` folder with Python modules is code (`boto3/docs/` is imported when
    boto3 builds its clients) and is neither counted nor excluded by the patterns given.

    ## How to fix
    Add the patterns to `exclude` in `[tool.lpack]`; if a library reads a document at run time,
    re-include it with a `!` pattern. To keep every document, ignore LP145.
    """
    pure, code = _docs_folders(s)
    groups: dict[str, int] = {}
    files = 0
    suffixes: set[str] = set()
    kept: set[str] = set()  # documents the patterns must not drop: licenses, metadata
    for entry in package_files(s):
        if _counted_before(s, entry.name, caches=True):
            continue
        folder = _folder(entry.name, _DOC_DIRS)
        suffix = posixpath.splitext(entry.name)[1]
        if folder in pure:
            groups[folder] = groups.get(folder, 0) + entry.size
            files += 1
        elif suffix in _DOC_SUFFIXES and (in_metadata(entry.name) or _license(entry.name)):
            kept.add(_keep_metadata(entry.name) if in_metadata(entry.name) else f"!{_license(entry.name)}*")
        elif suffix in _DOC_SUFFIXES:
            groups[f"*{suffix}"] = groups.get(f"*{suffix}", 0) + entry.size
            suffixes.add(suffix)
            files += 1
    names = sorted({f"{_last(f)}/" for f in pure})
    patterns = names + [f"*{x}" for x in _DOC_SUFFIXES if x in suffixes]
    patterns += [f"!**/{_relative(s, f)}" for f in sorted(code) if f"{_last(f)}/" in names]
    patterns += sorted(kept) if suffixes else []
    yield from _weight_finding(r, s, "docs", groups, files, patterns,
                               "libraries usually never read them at run time")


# -- the same distribution shipped twice (LP146, LP147) ------------------------------------------

_DIST_INFO = lazy(r"(?P<name>[^/-]+)-(?P<version>[^/-]+)\.dist-info/")


class _Copy(NamedTuple):
    """One installed copy of a distribution: where (the package and its root) and which version."""

    where: str  # the package's display name
    root: str  # "" a function's root; "python/" or "python/lib/python3.X/site-packages/" in a layer
    folder: str  # "requests-2.32.3.dist-info"
    version: str
    layer: int  # -1 the function; else the layer's place in the function's list


def _copies(index: PackageIndex, roots: tuple[str, ...], where: str, layer: int) -> dict[str, list[_Copy]]:
    """Normalised project name -> its copies in ``index`` (from the central directory)."""
    found: dict[str, list[_Copy]] = {}
    seen: set[str] = set()
    for entry in index.entries:
        root = next((r for r in sorted(roots, key=len, reverse=True) if entry.name.startswith(r)), None)
        if root is None or (match := _DIST_INFO().match(entry.name, len(root))) is None:
            continue
        folder = match.group(0)[:-1]
        if root + folder not in seen:
            seen.add(root + folder)
            found.setdefault(normalize(match["name"]), []).append(_Copy(where, root, folder, match["version"], layer))
    return found


def _layer_roots(index: PackageIndex, s: PackageSubject) -> tuple[str, ...]:
    if s.target is not None:
        return (f"python/lib/python3.{s.target.runtime.python[1]}/site-packages/", "python/")
    return (*sorted({m.group(0) for e in index.entries if (m := SITE_PACKAGES.match(e.name))}), "python/")


def _copy_bytes(index: PackageIndex, reader: PackageReader | None, copy: _Copy) -> int:
    """The unzipped bytes of the files a copy's RECORD lists (its dist-info folder's without one)."""
    import csv  # only a package with a duplicated distribution pays for it

    sizes = {e.name: e.size for e in index.entries}
    listed: set[str] = set()
    own = reader if reader is not None else PackageReader(index)
    try:
        text = own.text(f"{copy.root}{copy.folder}/RECORD")
        listed = {copy.root + row[0] for row in csv.reader(text.splitlines()) if row and row[0]}
    except LpackError:
        pass
    finally:
        if reader is None:
            own.close()
    if not listed:
        listed = {n for n in sizes if n.startswith(f"{copy.root}{copy.folder}/")}
    return sum(sizes.get(n, 0) for n in listed)


def _packages(s: PackageSubject) -> list[tuple[PackageIndex, PackageReader | None, dict[str, list[_Copy]]]]:
    """The function and each layer it is deployed with, with their readers and copies."""
    readers = s.layer_readers if len(s.layer_readers) == len(s.layers) else (None,) * len(s.layers)
    found = [(s.package, s.reader, _copies(s.package, ("",), s.display, -1))]
    for i, (layer, reader) in enumerate(zip(s.layers, readers)):
        found.append((layer, reader, _copies(layer, _layer_roots(layer, s), display_path(layer.path), i)))
    return found


@rule("LP146", "function-and-layer-duplicate", Severity.WARNING, subject=PackageSubject, source=_package.LAYERS_URL)
def function_and_layer_duplicate(r: Rule, s: PackageSubject) -> Iterator[Finding]:
    """## What it does
    Finds a distribution (a `*.dist-info` folder, by project name) installed both in the function
    package and in a layer the function is deployed with, and says which copy Python imports,
    both versions and the bytes of the copy that is never imported (the files its RECORD lists).

    ## Why is this bad?
    Lambda's `sys.path` puts the function (`/var/task`) before every layer (`/opt/python/...`):
    the function's copy wins and the layer's is never imported by this function, yet both count
    towards the 250 MB unzipped limit of the function and its layers. With different versions,
    code written against the layer's version silently runs the function's.

    ## How to fix
    Take the distribution out of the function's requirements (it comes from the layer), or out
    of the layer. Distributions that only share a namespace package (`google-cloud-*`) are
    different projects and are not reported; a layer the function is not deployed with is not
    looked at.
    """
    if s.kind != "function" or not s.layers:
        return
    packages = _packages(s)
    mine = packages[0][2]
    for name, copies in sorted(mine.items()):
        for index, reader, theirs in packages[1:]:
            for other in theirs.get(name, ()):
                own = copies[0]
                versions = f"{own.version} in both" if own.version == other.version else \
                    f"the function's {own.version}, the layer's {other.version}"
                size = _copy_bytes(index, reader, other)
                yield r.finding(
                    f"{other.folder.split('-')[0]} is in the function ({own.folder}) and in the layer {other.where} "
                    f"({other.root}{other.folder}): {versions}; the function's copy is imported (/var/task comes "
                    f"first on sys.path), the layer's {human_bytes(size)} never is but counts towards the "
                    f"250 MB unzipped limit",
                    s.where(f"{own.folder}/"), function=s.function,
                    fix="remove it from the function's requirements (the layer provides it) or from the layer",
                )


@rule("LP147", "layers-duplicate", Severity.WARNING, subject=PackageSubject, source=_package.LAYERS_URL)
def layers_duplicate(r: Rule, s: PackageSubject) -> Iterator[Finding]:
    """## What it does
    Finds a distribution installed in two of the layers a function is deployed with, and says
    which copy Python imports, both versions and the bytes of the copy that is not imported.

    ## Why is this bad?
    Both copies count towards the 250 MB unzipped limit. Lambda extracts the layers into `/opt`
    in the order they are listed, a later layer's files replacing an earlier one's at the same
    path: with different versions the result mixes files of both, and both `*.dist-info`
    folders stay, so `importlib.metadata` may report either version. `/opt/python/lib/python3.X/
    site-packages` comes before `/opt/python` on `sys.path`, so a copy there wins over one in
    `python/`.

    ## How to fix
    Keep the distribution in one layer (usually a shared base layer) and out of the others.
    """
    if s.kind != "function" or len(s.layers) < 2:
        return
    layers = _packages(s)[1:]
    for name in sorted({n for _i, _r, copies in layers for n in copies}):
        found = [(index, reader, c) for index, reader, copies in layers for c in copies.get(name, ())]
        if len({c.layer for _i, _r, c in found}) < 2:
            continue
        winner = _imported(found)
        for index, reader, loser in (f for f in found if f[2] is not winner[2] and f[2].layer != winner[2].layer):
            won = winner[2]
            versions = f"{won.version} in both" if won.version == loser.version else \
                f"{won.version} and {loser.version}"
            yield r.finding(
                f"{won.folder.split('-')[0]} is in the layers {loser.where} ({loser.root}{loser.folder}) and "
                f"{won.where} ({won.root}{won.folder}): {versions}; {won.where}'s copy is imported, the other's "
                f"{human_bytes(_copy_bytes(index, reader, loser))} counts towards the 250 MB unzipped limit"
                + ("; with both dist-info folders in /opt, importlib.metadata may report either version"
                   if won.root == loser.root and won.version != loser.version else ""),
                s.display, function=s.function,
                fix="keep the distribution in one layer and out of the others",
            )


def _imported(found: list[tuple[PackageIndex, PackageReader | None, _Copy]]) -> tuple[PackageIndex, PackageReader | None, _Copy]:
    """The copy Python imports: site-packages before python/; at the same root, the last layer
    listed (extracted last, its files replace the earlier ones')."""
    return max(found, key=lambda f: (f[2].root != "python/", f[2].layer))
