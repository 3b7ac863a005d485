"""Dead-weight rules (LP143-LP145): tests, caches and documentation shipped in the package.

Each gives the ``exclude`` patterns that drop what it counts and the bytes that saves; the three
count each file once (tests, then caches, then docs), so their savings add up.
"""

from __future__ import annotations

import functools
import json
import posixpath
import re
from collections.abc import Iterable, Iterator

from lpack.analysis.package import Entry
from lpack.analysis.subjects import PackageSubject
from lpack.core import limits
from lpack.core.findings import Finding, Severity
from lpack.core.units import human_bytes
from lpack.rules import Rule, rule
from lpack.rules._package import (
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
