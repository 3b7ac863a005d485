"""Contents rules: entries Lambda cannot read or that are unsafe, secrets, and dead weight.

They look at entry names and modes from the central directory; the few that need contents
(symlink targets, secrets, .pyc headers) read through ``PackageSubject.reader`` and stay quiet
without one. Secrets are searched only in the function's own text files: files that a
``*.dist-info/RECORD`` lists belong to an installed distribution and are not read, so a 250 MB
package costs a few small reads. Structural problems are reported once per rule and package,
naming the first entries, so a zip made on Windows gives one finding, not one per file.
"""

from __future__ import annotations

import csv
import functools
import json
import posixpath
import re
import weakref
from collections import Counter
from collections.abc import Iterator

from lpack.analysis import secrets
from lpack.analysis.package import Entry, PackageReader
from lpack.analysis.subjects import PackageSubject
from lpack.core import limits
from lpack.core.findings import Finding, Severity
from lpack.core.units import exact_bytes, human_bytes
from lpack.rules import Rule, rule

PACKAGE_URL = "https://docs.aws.amazon.com/lambda/latest/dg/python-package.html"
LAYERS_URL = "https://docs.aws.amazon.com/lambda/latest/dg/packaging-layers.html"
PERMISSIONS_URL = "https://docs.aws.amazon.com/lambda/latest/dg/troubleshooting-deployment.html"
# Rules cite Lambda's own pages (the project's convention); LP130's doc names IAM's page on keys.
EXECUTION_ROLE_URL = "https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html"
SECRETS_URL = "https://docs.aws.amazon.com/lambda/latest/dg/with-secrets-manager.html"

SCAN_MAX_FILE_BYTES = 1 << 20  # larger files are data, not code: not searched for secrets
SCAN_BUDGET_BYTES = 32 << 20  # at most this much of the function's own files is read per rule
WORTH_BYTES = 64 << 10  # dead weight under this is not worth a finding (a README.md is fine)
SHOWN = 3  # entries named in a finding about many

# Paths a symlink may point at: they exist on Lambda (its writable /tmp, the layers under /opt,
# the function under /var/task, the runtime and the OS). Anything else absolute is a path on
# the machine that made the zip (/home/..., /Users/...) and dangles on Lambda.
_LAMBDA_PATHS = ("/tmp", "/opt", "/var/task", "/var/lang", "/var/runtime", "/usr", "/lib", "/lib64",
                 "/etc", "/bin", "/sbin", "/dev", "/proc")

_BINARY_SUFFIXES = frozenset({
    ".so", ".pyd", ".pyc", ".pyo", ".dll", ".dylib", ".a", ".o", ".exe", ".bin", ".dat", ".db",
    ".sqlite", ".sqlite3", ".zip", ".gz", ".tgz", ".bz2", ".xz", ".zst", ".whl", ".egg", ".jar",
    ".class", ".png", ".jpg", ".jpeg", ".gif", ".bmp", ".ico", ".webp", ".tif", ".tiff", ".pdf",
    ".woff", ".woff2", ".ttf", ".otf", ".eot", ".mo", ".npy", ".npz", ".pkl", ".pickle", ".joblib",
    ".parquet", ".h5", ".hdf5", ".onnx", ".pt", ".safetensors", ".tflite", ".wasm", ".mp3", ".mp4",
    ".wav", ".ogg", ".flac", ".mov", ".avi",
})

# First magic number of each CPython version's .pyc files (importlib/_bootstrap_external.py:
# each version's numbers lie between its start and the next one's).
_PYC_MAGIC_STARTS = (
    (3390, (3, 7)), (3400, (3, 8)), (3420, (3, 9)), (3430, (3, 10)), (3450, (3, 11)),
    (3500, (3, 12)), (3550, (3, 13)), (3600, (3, 14)), (3650, (3, 15)), (3700, (3, 16)),
)
_CACHED_PYC = re.compile(r"(?:^|/)__pycache__/[^/.]+\.([^/.]+)(?:\.opt-\d+)?\.pyc$")
_CPYTHON_TAG = re.compile(r"cpython-(\d)(\d+)$")
_SITE_PACKAGES = re.compile(r"python/lib/python3\.(\d+)/site-packages/")

_TEST_DIRS = ("tests", "test")
# Test folders that are a library's run-time API: django.test (RequestFactory, override_settings).
_RUNTIME_TEST_DIRS = ("django/test/",)
_CACHE_DIRS = ("__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".hypothesis",
               ".ipynb_checkpoints", ".tox", ".nox")
_DOC_DIRS = ("docs", "doc")
_DOC_SUFFIXES = (".md", ".rst")
_LICENSE_NAMES = ("LICENSE", "LICENCE", "COPYING", "NOTICE")
_CODE_SUFFIXES = (".py", ".pyc", ".so", ".pyd")
_RUNTIME_SDK = ("boto3", "botocore", "s3transfer")


# -- helpers --------------------------------------------------------------------------------------

def _junk(name: str) -> bool:
    """macOS Finder's resource forks (``__MACOSX/._x.py``): extracted, never read."""
    return name.startswith("__MACOSX/")


_FILES: list[tuple[tuple[Entry, ...], list[Entry], frozenset[str]]] = []  # the last package's


def _listing(s: PackageSubject) -> tuple[list[Entry], frozenset[str]]:
    """The package's files (folders and __MACOSX/ aside) and their names, computed once for all
    the rules that run on one package: a 250 MB package has tens of thousands of entries."""
    entries = s.package.entries
    if not _FILES or _FILES[0][0] is not entries:
        files = [e for e in entries if not e.is_dir and not _junk(e.name)]
        _FILES[:] = [(entries, files, frozenset(e.name for e in files))]
    return _FILES[0][1], _FILES[0][2]


def _files(s: PackageSubject) -> list[Entry]:
    return _listing(s)[0]


def _some(names: list[str]) -> str:
    shown = ", ".join(names[:SHOWN])
    return shown if len(names) <= SHOWN else f"{shown} and {len(names) - SHOWN} more"


def _size(size: int) -> str:
    return f"{human_bytes(size)} unzipped ({exact_bytes(size)})"


def _count(n: int, one: str, many: str) -> str:
    """``1 entry is`` / ``3 entries are``: the count, the noun and the verb that agrees."""
    return f"{n} {one}" if n == 1 else f"{n} {many}"


def _in_metadata(name: str) -> bool:
    return any(part.endswith((".dist-info", ".egg-info")) for part in name.split("/")[:-1])


def _import_roots(s: PackageSubject) -> tuple[str, ...]:
    """Where the package's importable names start: the root of a function; python/ and the
    target's site-packages in a layer (any version's when the target is unknown)."""
    if s.kind != "layer":
        return ("",)
    if s.target is not None:
        return ("python/", f"python/lib/python3.{s.target.runtime.python[1]}/site-packages/")
    found = {m.group(0) for e in s.package.entries if (m := _SITE_PACKAGES.match(e.name))}
    return ("python/", *sorted(found))


def _relative(s: PackageSubject, name: str) -> str:
    """``name`` as lpack's ``exclude`` patterns see it: relative to the import root."""
    roots = sorted(_import_roots(s), key=len, reverse=True)
    return next((name[len(r):] for r in roots if r and name.startswith(r)), name)


def _handler_module(s: PackageSubject) -> str | None:
    """The handler's module as a path (``orders/api``), or None when there is no handler."""
    if not s.handler or "." not in s.handler:
        return None
    return s.handler.rsplit(".", 1)[0].replace(".", "/")


# -- entries Lambda cannot read, or that are unsafe -------------------------------------------

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
    bad = [e for e in s.package.entries if e.unix and not e.symlink and not _junk(e.name) and _unreadable(e)]
    if bad:
        named = [f"{e.name} ({e.mode:04o})" for e in bad]
        yield r.finding(
            f"{_count(len(bad), 'entry is', 'entries are')} not readable by Lambda's runtime user: "
            f"{_some(named)}",
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
            f"{_count(len(bad), 'entry', 'entries')} would be written outside the package folder: {_some(bad)}",
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
            f"{_count(len(bad), 'entry name uses', 'entry names use')} backslashes as folder separators, which Lambda "
            f"keeps as part of the file name: {_some(bad)}",
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
            f"{_count(len(bad), 'symbolic link', 'symbolic links')} would dangle on Lambda: {_some(bad)}",
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
            f"{_count(len(dups), 'file name appears', 'file names appear')} more than once; the extractor decides which "
            f"copy Lambda runs: {_some(dups)}",
            s.where(first), function=s.function, fix="rebuild the zip from scratch instead of adding to it",
        )


# -- layout ---------------------------------------------------------------------------------------

def _python_file(name: str) -> bool:
    return (name.endswith((".py", ".pyc", ".pth")) or re.search(r"\.(?:cpython-[^/.]+|abi3)\.so$", name) is not None
            or ".dist-info/" in name)


def _outside_python(name: str) -> bool:
    """A layer entry Python code would need but that is not on sys.path."""
    top, _, rest = name.partition("/")
    if top == "python":
        # python/lib/python3.X/... is on sys.path only through its site-packages folder
        return re.match(r"lib/python3\.\d+/(?!site-packages/)", rest) is not None and _python_file(name)
    if top in ("bin", "extensions"):
        return False  # /opt/bin is on PATH; /opt/extensions holds extensions, scripts included
    if top == "lib":
        return re.match(r"lib/python3\.\d+/", name) is not None  # site-packages without python/
    return _python_file(name)


@rule("LP125", "layer-code-outside-python", Severity.ERROR, subject=PackageSubject, source=LAYERS_URL)
def layer_code_outside_python(r: Rule, s: PackageSubject) -> Iterator[Finding]:
    """## What it does
    In a layer, flags Python code (modules, packages, `*.dist-info`) that is not under `python/`
    or `python/lib/python3.X/site-packages/`, the two layer folders Lambda puts on `sys.path`.

    ## Why is this bad?
    Lambda extracts a layer into `/opt` and adds `/opt/python` and
    `/opt/python/lib/python3.X/site-packages` to `sys.path`. A package at the layer's root
    (`requests/`) or in `lib/python3.X/site-packages/` is on disk but cannot be imported:
    `Runtime.ImportModuleError: No module named 'requests'`.

    `bin/` (on `PATH`), `lib/` (shared libraries, on `LD_LIBRARY_PATH`), `extensions/` and data
    folders outside `python/` are legitimate and not flagged.

    ## How to fix
    Put the code under `python/` (`lpack build --layer` does), or install with
    `pip install --target python/`.
    """
    if s.kind != "layer" or s.is_source:
        return
    bad = [e.name for e in _files(s) if _outside_python(e.name)]
    if bad:
        yield r.finding(
            f"{_count(len(bad), 'Python file is', 'Python files are')} outside python/ and so "
            f"not on sys.path: {_some(bad)}",
            s.where(bad[0]), function=s.function, fix="put the code under python/ (lpack build --layer does)",
        )


@rule("LP126", "layer-wrong-python-version", Severity.ERROR, subject=PackageSubject, source=LAYERS_URL)
def layer_wrong_python_version(r: Rule, s: PackageSubject) -> Iterator[Finding]:
    """## What it does
    In a layer, flags code under `python/lib/python3.Y/site-packages/` when Y is not the target
    runtime's Python version and the layer has no folder for the target's version.

    ## Why is this bad?
    Lambda adds only `/opt/python/lib/python3.X/site-packages` for its own version X: code for
    another version is invisible (`Runtime.ImportModuleError`). A layer with folders for several
    versions, the target's among them, is fine.

    ## How to fix
    Rebuild the layer for the target runtime (`lpack build --layer --runtime python3.X`), or
    install into `python/`, which every version reads (native extensions must still match).
    """
    if s.kind != "layer" or s.is_source or s.target is None:
        return
    minor = s.target.runtime.python[1]
    versions = Counter(int(m.group(1)) for e in _files(s) if (m := _SITE_PACKAGES.match(e.name)))
    if versions and minor not in versions:
        found = sorted(versions)
        folders = ", ".join(f"python/lib/python3.{v}/site-packages/" for v in found)
        yield r.finding(
            f"{sum(versions.values())} files are in {folders}, which {s.target.runtime.name} does not "
            f"read: it adds python/ and python/lib/python3.{minor}/site-packages/ to sys.path",
            s.where(f"python/lib/python3.{found[0]}/site-packages/"), function=s.function,
            fix=f"rebuild the layer for {s.target.runtime.name}, or install into python/",
        )


def _single_folder(s: PackageSubject) -> str | None:
    """The one top-level folder that holds every file (macOS's __MACOSX/ aside), if there is one."""
    files = _files(s)
    tops = {e.top_level for e in files}
    if len(tops) != 1 or any("/" not in e.name for e in files):
        return None
    return tops.pop()


@rule("LP127", "function-in-subfolder", Severity.ERROR, subject=PackageSubject, source=PACKAGE_URL)
def function_in_subfolder(r: Rule, s: PackageSubject) -> Iterator[Finding]:
    """## What it does
    Flags a function package whose files all sit inside one top-level folder (`myfunc/...`)
    that the handler does not name: the folder was zipped instead of its contents.

    ## Why is this bad?
    Lambda imports the handler's module from the package root, so `lambda_function.py` inside
    `myfunc/` is not found: `Runtime.ImportModuleError: No module named 'lambda_function'`.
    With a handler that names the folder (`myfunc/lambda_function.handler`,
    `orders.api.handler` for a package `orders/`) the layout is right and nothing is reported.
    Without a handler to compare with, a folder without `__init__.py` is reported as a warning.

    ## How to fix
    Zip the folder's contents (`cd myfunc && zip -r ../function.zip .`), or point the handler
    into the folder. `lpack build` zips the source folder's contents. If the handler does name
    the folder, give it (`--handler myfunc/app.handler`, or `handler` in the configuration) and
    the rule checks the layout against it.
    """
    if s.kind != "function":
        return
    folder = _single_folder(s)
    if folder is None:
        return
    module = _handler_module(s)
    if module is not None and module.split("/", 1)[0] == folder:
        return
    names = _listing(s)[1]
    if module is None and f"{folder}/__init__.py" in names:
        return  # a regular package: the handler most likely names it
    if module is not None:
        inside = f"{folder}/{module}.py"
        where = f"; it is at {inside}" if inside in names else ""
        message = (f"every file is inside {folder}/, but the handler {s.handler} imports {module.replace('/', '.')} "
                   f"from the package root{where}")
        yield r.finding(message, s.where(f"{folder}/"), function=s.function,
                        fix=f"zip the contents of {folder}/, not the folder itself")
        return
    yield r.finding(
        f"every file is inside {folder}/: unless the handler names it ({folder}/module.function), "
        "Lambda will not find the handler's module",
        s.where(f"{folder}/"), function=s.function, severity=Severity.WARNING,
        fix=f"zip the contents of {folder}/, not the folder itself",
    )


# -- secrets --------------------------------------------------------------------------------------

_OWNED: weakref.WeakKeyDictionary[PackageReader, tuple[str | None, frozenset[str]]] = weakref.WeakKeyDictionary()


def _record_paths(text: str, prefix: str) -> set[str]:
    paths = set()
    try:
        for row in csv.reader(text.splitlines()):
            if row and row[0]:
                path = posixpath.normpath(posixpath.join(prefix, row[0]))
                if not path.startswith("../"):
                    paths.add(path)
    except csv.Error:
        pass  # a damaged RECORD owns what was read before the damage; the rest is searched
    return paths


def _distributions(s: PackageSubject, reader: PackageReader) -> Iterator[tuple[str, set[str]]]:
    """(prefix, files) for each installed distribution: from ``*.dist-info/RECORD`` (paths
    relative to the folder holding the dist-info) or ``*.egg-info/installed-files.txt``."""
    for entry in s.package.entries:
        if entry.name.endswith(".dist-info/RECORD"):
            prefix = posixpath.dirname(posixpath.dirname(entry.name))
            yield prefix, _record_paths(reader.text(entry.name), prefix)
        elif entry.name.endswith(".egg-info/installed-files.txt"):
            folder = posixpath.dirname(entry.name)
            lines = reader.text(entry.name).splitlines()
            paths = {posixpath.normpath(posixpath.join(folder, line.strip())) for line in lines if line.strip()}
            yield posixpath.dirname(folder), {p for p in paths if not p.startswith("../")}


def _owned(s: PackageSubject, reader: PackageReader) -> frozenset[str]:
    """Files installed by a distribution, except the one that holds the handler's module (the
    function's own project, installed from its wheel): its files are the function's own."""
    cached = _OWNED.get(reader)
    if cached is not None and cached[0] == s.handler:
        return cached[1]
    module = _handler_module(s)
    owned: set[str] = set()
    for prefix, paths in _distributions(s, reader):
        top = posixpath.join(prefix, module.split("/", 1)[0]) if module else None
        if top and (f"{top}.py" in paths or any(p.startswith(top + "/") for p in paths)):
            continue
        owned |= paths
    result = frozenset(owned)
    _OWNED[reader] = (s.handler, result)
    return result


def _text(reader: PackageReader, entry: Entry) -> str | None:
    data = reader.read(entry.name)
    return None if b"\0" in data[:8192] else data.decode("utf-8", errors="replace")


def _own_text_files(s: PackageSubject, reader: PackageReader) -> Iterator[tuple[Entry, str]]:
    """The function's own text files (not installed by a distribution, at most 1 MB each, at
    most ``SCAN_BUDGET_BYTES`` in all), with their text."""
    owned = _owned(s, reader)
    budget = SCAN_BUDGET_BYTES
    for entry in _files(s):
        suffix = posixpath.splitext(entry.name)[1].lower()
        if (entry.symlink or entry.size > SCAN_MAX_FILE_BYTES or suffix in _BINARY_SUFFIXES
                or entry.name in owned or _in_metadata(entry.name)):
            continue
        if entry.size > budget:
            return
        budget -= entry.size
        text = _text(reader, entry)
        if text is not None:
            yield entry, text


@rule("LP130", "aws-access-key", Severity.ERROR, subject=PackageSubject, source=EXECUTION_ROLE_URL)
def aws_access_key(r: Rule, s: PackageSubject) -> Iterator[Finding]:
    """## What it does
    Searches the function's own text files for AWS access keys: an access key ID (`AKIA...`,
    long-term; `ASIA...`, temporary) with a 40-character secret access key within five lines,
    or a secret access key named as one (`aws_secret_access_key = "..."`). An access key ID
    alone is a warning. Findings give the file and line, never the key: at most
    `AKIA************ABCD`.

    AWS's documentation keys (`AKIAIOSFODNN7EXAMPLE`, `wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY`)
    are not secrets. Files a `*.dist-info/RECORD` lists belong to installed libraries and are
    not searched, nor binaries, nor files over 1 MB.

    ## Why is this bad?
    Anyone who can read the package (`GetFunction` returns a download link for it) can use the
    key; a long-term key works until someone deactivates it. A function never needs one: the
    runtime gives it temporary credentials for its execution role.

    ## How to fix
    Deactivate and rotate the key in IAM now, remove it from the code, and grant the execution
    role the permissions the code needs. A key ID alone is not usable without its secret, but
    names a key of your account: find where its secret went. A made-up key in a test fixture:
    exclude the tests from the package, or ignore LP130 for that path (`per-path-ignores`).
    IAM's guide to access keys:
    https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html
    """
    if s.reader is None:
        return
    for entry, text in _own_text_files(s, s.reader):
        for key in secrets.aws_keys(text):
            yield _aws_finding(r, s, entry, key)


def _aws_finding(r: Rule, s: PackageSubject, entry: Entry, key: secrets.AwsKey) -> Finding:
    fix = "deactivate and rotate the key in IAM, remove it, and use the function's execution role"
    kind = "temporary access key" if key.temporary else "access key"
    if not key.masked:
        message = f"a secret access key on line {key.line} (its key ID may be elsewhere)"
    elif key.secret_line is None:
        message = (f"{kind} ID {key.masked} on line {key.line} without a secret access key nearby: "
                   "not usable alone, but it names a key of your account")
        return r.finding(message, s.where(entry.name), line=key.line, function=s.function,
                         severity=Severity.WARNING, fix="find where its secret is, and rotate the key")
    else:
        message = (f"{kind} ID {key.masked} on line {key.line} with its secret access key on line "
                   f"{key.secret_line}: whoever can read the package can use them")
    return r.finding(message, s.where(entry.name), line=key.line, function=s.function, fix=fix)


@rule("LP131", "private-key", Severity.ERROR, subject=PackageSubject, source=SECRETS_URL)
def private_key(r: Rule, s: PackageSubject) -> Iterator[Finding]:
    """## What it does
    Searches the function's own text files for PEM private keys (`-----BEGIN RSA PRIVATE
    KEY-----`, `OPENSSH`, `EC`, PKCS#8, PGP) followed by a key body. Code that only looks for the
    marker (`if pem.startswith("-----BEGIN PRIVATE KEY-----")`) has no body and is not flagged.
    Test keys inside installed libraries (files a `*.dist-info/RECORD` lists) are not searched.

    ## Why is this bad?
    Anyone who can read the package can use the key: sign as your service, decrypt its traffic,
    log in where the key is trusted.

    ## How to fix
    Store the key in AWS Secrets Manager (or SSM Parameter Store) and read it at run time; treat
    the shipped key as leaked and replace it. A test fixture: exclude the tests from the package,
    or ignore LP131 for that path (`per-path-ignores`).
    """
    if s.reader is None:
        return
    for entry, text in _own_text_files(s, s.reader):
        for key in secrets.private_keys(text):
            what = f"{key.kind} private key" if key.kind else "private key"
            if key.encrypted:
                what = f"passphrase-protected {what}"
            yield r.finding(
                f"{what} on line {key.line}", s.where(entry.name), line=key.line, function=s.function,
                fix="move it to Secrets Manager and read it at run time; replace the key",
            )


@rule("LP132", "dotenv-credentials", Severity.ERROR, subject=PackageSubject, source=SECRETS_URL)
def dotenv_credentials(r: Rule, s: PackageSubject) -> Iterator[Finding]:
    """## What it does
    Reads `.env` and `.env.*` files anywhere in the package and flags assignments of
    credential-looking names (`*PASSWORD`, `*TOKEN`, `*_SECRET`, `*_API_KEY`, other `*_KEY`s
    when the value looks generated) to real-looking values, and URLs with a password in them
    (`postgres://app:...@db.example.com/orders`). The value is never shown.

    Placeholders are not secrets: empty values, `${OTHER}`, `<your-key>`, `changeme`, `xxxx`,
    ARNs and `{{resolve:...}}` references, URLs to `localhost`. Templates (`.env.example`,
    `.env.sample`, `.env.template`) are not read. Names that are not credentials
    (`PARTITION_KEY`, `S3_KEY`, `PUBLIC_KEY`, `KMS_KEY`) are not flagged.

    ## Why is this bad?
    A `.env` file is meant to stay on the machine that has it; in the package, its secrets go
    to everyone who can read the code, and rotate only when someone remembers the file.

    ## How to fix
    Exclude `.env` files (`exclude = [".env", ".env.*"]`) and set the values as the function's
    environment (encrypted with KMS) or, for secrets, in AWS Secrets Manager. A value that is not
    a secret despite its name: ignore LP132 for that file (`per-path-ignores`).
    """
    if s.reader is None:
        return
    for entry in _files(s):
        if not secrets.is_dotenv(entry.name) or entry.size > SCAN_MAX_FILE_BYTES or entry.symlink:
            continue
        text = _text(s.reader, entry)
        if text is None:
            continue
        taken = frozenset(line for k in secrets.aws_keys(text) for line in (k.line, k.secret_line) if line)
        found = secrets.dotenv_credentials(text, skip_lines=taken)
        if found:
            named = [f"{f.name} (line {f.line})" for f in found]
            yield r.finding(
                f"{_some(named)} set to values that look like real credentials (not shown)",
                s.where(entry.name), line=found[0].line, function=s.function,
                fix='exclude = [".env", ".env.*"]; set the values in the function\'s environment or Secrets Manager',
            )


# -- bytecode -------------------------------------------------------------------------------------

def pyc_version(header: bytes) -> tuple[int, int] | None:
    """The CPython version a .pyc file's magic number belongs to (3.7 and later), or None."""
    if len(header) < 4 or header[2:4] != b"\r\n":
        return None
    magic = int.from_bytes(header[:2], "little")
    versions = [v for start, v in _PYC_MAGIC_STARTS if start <= magic]
    return versions[-1] if versions and magic < _PYC_MAGIC_STARTS[-1][0] + 50 else None


def _tag_version(tag: str) -> tuple[int, int] | None:
    match = _CPYTHON_TAG.match(tag)
    return (int(match.group(1)), int(match.group(2))) if match else None


def _version(v: tuple[int, int] | None) -> str:
    return f"Python {v[0]}.{v[1]}" if v else "another Python"


def _cached_pycs(s: PackageSubject) -> list[tuple[Entry, str]]:
    """(entry, tag) for every ``__pycache__/*.pyc``."""
    return [(e, m.group(1)) for e in _files(s) if (m := _CACHED_PYC.search(e.name))]


def _module_path(name: str) -> str | None:
    """The module a source or extension file provides (``pkg/mod``; ``pkg`` for its __init__)."""
    folder, _, base = name.rpartition("/")
    if not base.endswith((".py", ".so", ".pyd")):
        return None
    stem = base.split(".", 1)[0]
    return folder if stem == "__init__" else posixpath.join(folder, stem)


def _legacy_pycs(s: PackageSubject) -> tuple[list[Entry], list[Entry]]:
    """``x.pyc`` outside __pycache__: (never loaded, because an ``x.py``, an extension module or
    a regular package ``x/`` comes first in Python's search; the only form of their module)."""
    files = _files(s)
    legacy = [e for e in files if e.name.endswith(".pyc") and not _CACHED_PYC.search(e.name)]
    if not legacy:
        return [], []
    forms = {m for e in files if (m := _module_path(e.name)) is not None}
    return [e for e in legacy if e.name[:-4] in forms], [e for e in legacy if e.name[:-4] not in forms]


def _sourceless(s: PackageSubject) -> list[tuple[Entry, tuple[int, int] | None]]:
    """Legacy .pyc files without a .py beside them, with the version their header names."""
    if s.reader is None:
        return []
    reader = s.reader
    return [(e, pyc_version(reader.read(e.name)[:4])) for e in _legacy_pycs(s)[1]]


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
    stale = [(e, tag) for e, tag in _cached_pycs(s) if _tag_version(tag) != want]
    if stale:
        tags = sorted({tag for _, tag in stale})
        size = sum(e.size for e, _ in stale)
        yield r.finding(
            f"{_count(len(stale), '.pyc file', '.pyc files')} compiled for {', '.join(tags)}, {_size(size)}, which "
            f"{s.target.runtime.name} never reads: was the package built with another Python?",
            s.where(stale[0][0].name), function=s.function,
            fix='add "__pycache__/" to exclude and build with the target\'s Python',
        )
    broken = [(e, v) for e, v in _sourceless(s) if v != want]
    if broken:
        named = [f"{e.name} ({_version(v)})" for e, v in broken]
        yield r.finding(
            f"{_count(len(broken), 'module ships', 'modules ship')} only as bytecode for another Python, which "
            f"{s.target.runtime.name} cannot load (bad magic number): {_some(named)}",
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
            f"{_count(len(fine), 'module ships', 'modules ship')} only as bytecode, which only Python "
            f"{want[0]}.{want[1]} can load: {_some(fine)}", s.where(fine[0]), function=s.function,
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
    """
    found: dict[str, str] = {}
    size = 0
    for root in _import_roots(s):
        for entry in _files(s):
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
            f"{named} {'is' if len(present) == 1 else 'are'} in the package, {_size(size)}, although the "
            f"runtime provides {'it' if len(present) == 1 else 'them'}; fine if deliberate, e.g. to pin a "
            "newer boto3 than the runtime's",
            s.display, function=s.function,
            fix="unless you need a specific version, drop boto3 from the function's requirements",
        )


# -- dead weight ----------------------------------------------------------------------------------

def _folder(name: str, folders: tuple[str, ...]) -> str | None:
    """The path up to the first folder of ``name`` called one of ``folders`` (``a/tests/``)."""
    if not any(needle in name for needle in _needles(folders)):  # most names: no such folder at all
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
def _needles(folders: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f"{folder}/" for folder in folders)


def _weight_finding(r: Rule, s: PackageSubject, what: str, groups: dict[str, int], files: int,
                    patterns: list[str], note: str) -> Iterator[Finding]:
    size = sum(groups.values())
    if size < WORTH_BYTES:
        return
    biggest = [f"{g} ({human_bytes(n)})" for g, n in sorted(groups.items(), key=lambda kv: (-kv[1], kv[0]))]
    yield r.finding(
        f"{what} ship in the package: {_count(files, 'file', 'files')}, {_size(size)}, in {_some(biggest)}; {note}",
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
    return _test_folder(name, _handler_module(s)) is not None or (caches and _folder(name, _CACHE_DIRS) is not None)


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
    module = _handler_module(s)
    groups: dict[str, int] = {}
    files = 0
    names: set[str] = set()
    protected: set[str] = set()
    for entry in _files(s):
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
    header = s.reader.read(pycs[0].name)[:8]
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
    pycs = _cached_pycs(s)
    current = [e for e, tag in pycs if want is None or _tag_version(tag) == want]
    valid = _hash_based(s, current)  # then the target's __pycache__ is deliberate and used
    skip = {e.name for e, tag in pycs if valid or (want is not None and _tag_version(tag) != want)}
    groups: dict[str, int] = {}
    files = 0
    names: set[str] = set()
    for entry in _files(s):
        folder = _folder(entry.name, _CACHE_DIRS)
        if folder is None or entry.name in skip or _counted_before(s, entry.name, caches=False):
            continue
        groups[folder] = groups.get(folder, 0) + entry.size
        names.add(folder.rstrip("/").rsplit("/", 1)[-1])
        files += 1
    beside, sourceless = _legacy_pycs(s)
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
    folders: set[str] = set()
    code: set[str] = set()
    for entry in _files(s):
        folder = _folder(entry.name, _DOC_DIRS)
        if folder is not None:
            folders.add(folder)
            if entry.name.endswith(_CODE_SUFFIXES):
                code.add(folder)
    return folders - code, code


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
    for entry in _files(s):
        if _counted_before(s, entry.name, caches=True):
            continue
        folder = _folder(entry.name, _DOC_DIRS)
        suffix = posixpath.splitext(entry.name)[1]
        if folder in pure:
            groups[folder] = groups.get(folder, 0) + entry.size
            files += 1
        elif suffix in _DOC_SUFFIXES and (_in_metadata(entry.name) or _license(entry.name)):
            kept.add(_keep_metadata(entry.name) if _in_metadata(entry.name) else f"!{_license(entry.name)}*")
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
