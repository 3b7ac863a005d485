"""Layout rules (LP125-LP127): code where Lambda does not look for it, in a layer or a function."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

from lpack.analysis.subjects import PackageSubject
from lpack.core.findings import Finding, Severity
from lpack.rules import Rule, rule
from lpack.rules._package import (
    LAYERS_URL,
    PACKAGE_URL,
    SITE_PACKAGES,
    count,
    handler_module,
    listing,
    package_files,
    some,
)


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
    Put the code under `python/` (`lpack build --as-layer` does), or install with
    `pip install --target python/`.
    """
    if s.kind != "layer" or s.is_source:
        return
    bad = [e.name for e in package_files(s) if _outside_python(e.name)]
    if bad:
        yield r.finding(
            f"{count(len(bad), 'Python file is', 'Python files are')} outside python/ and so "
            f"not on sys.path: {some(bad)}",
            s.where(bad[0]), function=s.function, fix="put the code under python/ (lpack build --as-layer does)",
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
    Rebuild the layer for the target runtime (`lpack build --as-layer --runtime python3.X`), or
    install into `python/`, which every version reads (native extensions must still match).
    """
    if s.kind != "layer" or s.is_source or s.target is None:
        return
    minor = s.target.runtime.python[1]
    versions = Counter(int(m.group(1)) for e in package_files(s) if (m := SITE_PACKAGES.match(e.name)))
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
    files = package_files(s)
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

    A folder with `__init__.py` is a real package: its modules import each other through it
    (`from orders import db`), so zipping its contents would break them. There the mistake is
    the handler path, and the rule says which one to use (`handler = "orders.api.handler"`).

    ## How to fix
    Zip the folder's contents (`cd myfunc && zip -r ../function.zip .`), or point the handler
    into the folder. `lpack build` zips the source folder's contents. If the handler does name
    the folder, give it (`--handler myfunc/app.handler`, or `handler` in the configuration) and
    the rule checks the layout against it. For a package (`orders/__init__.py`), name the
    module through the package: `handler = "orders.api.handler"`.
    """
    if s.kind != "function":
        return
    folder = _single_folder(s)
    if folder is None:
        return
    module = handler_module(s)
    if module is not None and module.split("/", 1)[0] == folder:
        return
    names = listing(s)[1]
    if module is None and f"{folder}/__init__.py" in names:
        return  # a regular package: the handler most likely names it
    if module is not None and f"{folder}/__init__.py" in names:
        yield _handler_outside_package(r, s, folder, module, names)
        return
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


def _handler_outside_package(r: Rule, s: PackageSubject, folder: str, module: str, names: frozenset[str]) -> Finding:
    """The folder is a package (it has __init__.py): the handler path is wrong, not the zip."""
    function = (s.handler or "").rsplit(".", 1)[-1]
    dotted = module.replace("/", ".")
    found = any(f"{folder}/{module}{end}" in names for end in (".py", "/__init__.py"))
    handler = f"{folder}.{dotted}.{function}" if found else f"{folder}.MODULE.{function}"
    where = f"; it is {folder}.{dotted} in the package {folder}/" if found else ""
    return r.finding(
        f"every file is inside the package {folder}/, but the handler {s.handler} imports {dotted} "
        f"from the package root{where}",
        s.where(f"{folder}/"), function=s.function,
        fix=f'set handler = "{handler}"' + ("" if found else f", naming the module of {folder}/ that defines it"),
    )
