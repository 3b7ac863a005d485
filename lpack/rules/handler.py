"""Handler rules: the handler string, its module, the function and its signature, the module's syntax
for the target Python, and the imports that fail when Lambda loads it -- read with ``ast``, never
imported. The analysis lives in lpack/analysis/handler_analysis.py (and the modules it uses, beside
it); these rules word what it finds.

Every message quotes the error Lambda would log (awslambdaric ``bootstrap.py``), and every finding in
a Python file carries its line, so ``# lpack: ignore[LP2xx] reason`` on that line silences it.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterator

from lpack.analysis.handler_analysis import (
    MAX_MODULE_BYTES,
    HandlerAnalysis,
    ImportProblem,
    analysis,
)
from lpack.analysis.handler_name import HandlerName, split_handler
from lpack.analysis.import_paths import (
    RUNTIME_PROVIDED,
    Missing,
    ModuleLocation,
    runtime_site_packages,
)
from lpack.analysis.package import Entry
from lpack.analysis.signature import call_error, is_generator
from lpack.analysis.subjects import HandlerSubject, PackageSubject
from lpack.core import stdlib
from lpack.core.facts import delivery as facts
from lpack.core.facts import runtime_packages
from lpack.core.findings import Finding, Severity
from lpack.core.units import exact_bytes
from lpack.rules import Rule, rule

HANDLER_URL = "https://docs.aws.amazon.com/lambda/latest/dg/python-handler.html"
PACKAGE_URL = "https://docs.aws.amazon.com/lambda/latest/dg/python-package.html"
API_URL = "https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html"

MAX_HANDLER_LENGTH = 128  # CreateFunction: "Maximum length of 128", pattern [^\s]+

# Import names whose distribution is named differently, for the fix of a missing import.
_DISTRIBUTIONS = {
    "yaml": "PyYAML", "PIL": "Pillow", "cv2": "opencv-python-headless", "sklearn": "scikit-learn",
    "bs4": "beautifulsoup4", "jwt": "PyJWT", "dotenv": "python-dotenv", "attr": "attrs",
    "Crypto": "pycryptodome", "OpenSSL": "pyOpenSSL", "jose": "python-jose",
    "psycopg2": "psycopg2-binary", "MySQLdb": "mysqlclient", "docx": "python-docx",
    "magic": "python-magic", "multipart": "python-multipart", "fitz": "PyMuPDF",
    "aws_lambda_powertools": "aws-lambda-powertools", "google.protobuf": "protobuf",
}


# Where the runtime's own error texts come from: every handler rule quotes them.
BOOTSTRAP_ERRORS = (
    "The error texts are those of `_get_handler` in awslambdaric's `bootstrap.py`, the runtime\n"
    "interface client of the managed Python runtimes:\n"
    "https://github.com/aws/aws-lambda-python-runtime-interface-client/blob/main/awslambdaric/bootstrap.py"
)

def _named(s: HandlerSubject) -> HandlerAnalysis | None:
    """The shared analysis, when the subject is a function with a well-formed handler (LP201) that
    names a Python module.function, not a start script an exec wrapper runs (LP212)."""
    if s.kind != "function" or s.handler is None or _script(s) or _handler_problems(s.handler):
        return None
    return analysis(s)


def _script(s: HandlerSubject) -> str | None:
    """The package file the handler names when an exec wrapper starts it as a program (the Lambda
    Web Adapter's ``run.sh``): a shell script's name, a name without a dot, or a file the package
    has under that exact name. None without a wrapper, or for a ``module.function`` handler."""
    if not s.features.exec_wrapper or s.kind != "function" or s.handler is None:
        return None
    name = s.handler.removeprefix("./")
    if name.endswith(facts.SCRIPT_SUFFIXES) or "." not in name:
        return name
    return name if not name.endswith(".py") and _entry(s, name) is not None else None


def _entry(s: PackageSubject, name: str) -> Entry | None:
    return next((e for e in s.package.entries if e.name == name and not e.is_dir), None)


def _not_executable(s: HandlerSubject, entry: Entry) -> str | None:
    """Why Lambda cannot execute ``entry`` (its mode bits), or None when it can or lpack cannot tell
    (a symbolic link; a source folder on Windows, which has no execute bits)."""
    if entry.symlink or (s.is_source and os.name == "nt"):
        return None
    if not s.is_source and not entry.unix:
        return (f"the zip records no Unix permissions for {entry.name} (it was made on Windows), so Lambda "
                "extracts it without the execute bit")
    if entry.mode & 0o111 == 0:
        return f"{entry.name} is not executable (mode {entry.mode:04o})"
    return None


def _executable_fix(s: HandlerSubject, name: str) -> str:
    if s.is_source:
        return (f"chmod +x {name} (and `git update-index --chmod=+x {name}`, so a checkout keeps it); "
                "lpack build keeps the execute bit")
    return f"rebuild the zip from a folder where {name} is executable (chmod +x {name}; lpack build keeps the bit)"


def _analysis(s: HandlerSubject) -> HandlerAnalysis | None:
    """As ``_named``, when Lambda will look for the handler module in the package and layers (not a
    built-in or already imported standard-library module: LP202, LP203)."""
    a = _named(s)
    if a is None or a.handler is None:
        return None
    return None if a.handler.dotted.split(".")[0] in a.preloaded else a


def _analysed(s: HandlerSubject) -> HandlerAnalysis | None:
    """As ``_analysis``, with the handler module and what it imports analysed (syntax, imports)."""
    a = _analysis(s)
    if a is not None:
        a.analyse()
    return a


def _runtime(a: HandlerAnalysis) -> str:
    return f"python{a.python[0]}.{a.python[1]}"


def _handler_problems(text: str) -> list[str]:
    problems = []
    if len(text) > MAX_HANDLER_LENGTH:
        problems.append(f"handler is {len(text)} characters; Lambda's API accepts at most {MAX_HANDLER_LENGTH}")
    if re.search(r"\s", text):
        problems.append(f"handler {text!r} contains whitespace, which Lambda's API rejects")
    handler = split_handler(text)
    if handler is None:
        problems.append(f"Runtime.MalformedHandlerName: Bad handler '{text}': "
                        "not enough values to unpack (expected 2, got 1)")
    elif not handler.module:
        problems.append(f"handler '{text}' is malformed: it has no module name before the last dot")
    elif not handler.function:
        problems.append(f"handler '{text}' is malformed: it has no function name after the last dot")
    elif not all(re.split(r"[./]", handler.module)):
        problems.append(f"handler '{text}' is malformed: its module path '{handler.module}' has an empty part")
    return problems


@rule("LP201", "handler-malformed", Severity.ERROR, subject=HandlerSubject, source=API_URL)
def handler_malformed(r: Rule, s: HandlerSubject) -> Iterator[Finding]:
    """## What it does
    Checks the shape of the handler string: `module.function`, or a path `src/orders/api.handler`
    (`/` read as `.`), split on the last dot; at most 128 characters; no whitespace.

    ## Why is this bad?
    Without a dot Lambda fails at every cold start with `Runtime.MalformedHandlerName: Bad handler
    'x': not enough values to unpack (expected 2, got 1)`. An empty module or function part cannot
    be imported or found. Lambda's API refuses a handler over 128 characters or with whitespace
    (`CreateFunction` pattern `[^\\s]+`).

    ## How to fix
    Name the file without `.py` and the function: `lambda_function.lambda_handler` for
    `lambda_function.py`, `src/orders/api.handler` for `handler` in `src/orders/api.py`.
    """
    if s.kind != "function" or s.handler is None or _script(s):
        return
    fix = "use module.function, e.g. lambda_function.lambda_handler, or a path: src/orders/api.handler"
    for problem in _handler_problems(s.handler):
        yield r.finding(problem, s.display, function=s.function, fix=fix)


@rule("LP202", "handler-builtin-module", Severity.ERROR, subject=HandlerSubject, source=HANDLER_URL, references=BOOTSTRAP_ERRORS)
def handler_builtin_module(r: Rule, s: HandlerSubject) -> Iterator[Finding]:
    """## What it does
    Flags a handler module whose first name is a module built into the target's interpreter
    (`sys.builtin_module_names`: `sys`, `time`, `errno`, `posix`, ...).

    ## Why is this bad?
    Lambda refuses it before importing anything: `Runtime.BuiltInModuleConflict: Cannot use
    built-in module time as a handler module`. A `time.py` in the package never gets a chance.

    ## How to fix
    Rename the file (`time.py` -> `clock.py`) and the handler with it.

    """
    a = _named(s)
    if a is None or a.handler is None:
        return
    top = a.handler.module.split(".")[0]
    if top in stdlib.builtin_modules(a.python):
        yield r.finding(
            f"Runtime.BuiltInModuleConflict: Cannot use built-in module {a.handler.module} as a handler module",
            s.display, function=s.function, fix=f"rename {top}.py (e.g. to {top}_handler.py) and the handler with it",
        )


@rule("LP203", "handler-stdlib-module", Severity.ERROR, subject=HandlerSubject, source=PACKAGE_URL, references=BOOTSTRAP_ERRORS)
def handler_stdlib_module(r: Rule, s: HandlerSubject) -> Iterator[Finding]:
    """## What it does
    Flags a handler module that Lambda will take from the standard library instead of the package:
    either a module the runtime has already imported before it loads the handler (`json`,
    `logging`, `os`, `decimal`, `traceback`, ...; lpack/stdlib.py lists them), or a standard-library
    name the package does not contain.

    ## Why is this bad?
    `importlib.import_module("json")` returns the `json` already in `sys.modules`, so a `json.py` in
    the package is never loaded and Lambda looks the handler up on the standard library's module:
    `Runtime.HandlerNotFound: Handler 'handler' missing on module 'json'` (or
    `Runtime.ImportModuleError` for a module path below it).

    ## How to fix
    Give the handler module a name of its own (`json.py` -> `json_api.py`) and update the handler.

    """
    a = _named(s)
    if a is None or a.handler is None:
        return
    h, top = a.handler, a.handler.dotted.split(".")[0]
    if h.module.split(".")[0] in stdlib.builtin_modules(a.python):
        return  # LP202
    loc = a.location
    absent = isinstance(loc, Missing) and loc.name == top and not a.unseen_layers
    if top in a.preloaded:
        why = f"the runtime has imported the standard library's '{top}' before it loads the handler"
    elif top in a.stdlib and absent:
        why = f"there is no '{top}' in the package or its layers, so Lambda imports the standard library's"
    else:
        return
    if h.dotted == top:
        error = f"Runtime.HandlerNotFound: Handler '{h.function}' missing on module '{h.module}'"
    else:
        error = f"Runtime.ImportModuleError: Lambda looks for '{h.dotted}' inside the standard library's '{top}'"
    yield r.finding(f"handler module '{h.module}': {why} -- {error}", s.display, function=s.function,
                    fix=f"rename the module (e.g. {top}_handler.py) and the handler with it")


@rule("LP204", "handler-module-not-found", Severity.ERROR, subject=HandlerSubject, source=PACKAGE_URL, references=BOOTSTRAP_ERRORS)
def handler_module_not_found(r: Rule, s: HandlerSubject) -> Iterator[Finding]:
    """## What it does
    Looks for the handler module the way Python's import system will on Lambda: in the package root
    (`/var/task`), then in the layers' `python/lib/python3.X/site-packages/` and `python/` folders.
    `a/b/c.py`, `a/b/c/__init__.py`, namespace packages (folders without `__init__.py`) and compiled
    modules (`c.cpython-312-x86_64-linux-gnu.so`, `c.pyc`) count.

    ## Why is this bad?
    Every cold start fails: `Runtime.ImportModuleError: Unable to import module 'app': No module
    named 'app'`. The usual causes: the code was zipped inside an extra top-level folder, the
    handler names the file with `.py`, or the case differs (Lambda's file system is case-sensitive).

    A top-level folder with `__init__.py` is a real package: its modules import each other through
    it (`from orders import db`), so zipping its contents would break them. There the mistake is
    the handler path.

    ## How to fix
    Zip the folder's contents rather than the folder, or correct the handler string. The fix line
    says which cause lpack found. For a module in a package (`orders/api.py` beside
    `orders/__init__.py`, handler `api.handler`), name it through the package, as Lambda imports it
    from the root: `handler = "orders.api.handler"` (`orders/api.handler` works too: Lambda reads
    `/` in the module path as `.`). Layers lpack cannot see (not built by it) may hold the module, so
    the rule stays quiet when there are any.

    """
    a = _analysis(s)
    if a is None or a.handler is None or a.unseen_layers:
        return
    loc, h = a.location, a.handler
    top = h.dotted.split(".")[0]
    if not isinstance(loc, Missing) or (loc.name == top and top in a.stdlib):
        return  # found, or LP203
    if loc.name == top and (top in RUNTIME_PROVIDED or top in runtime_site_packages(a.python) or top in s.provided):
        return  # installed by the requirements (a function that is itself a distribution)
    yield r.finding(f"Runtime.ImportModuleError: Unable to import module '{h.module}': {loc.message}",
                    s.display, function=s.function, fix=_module_hint(a, h))


def _module_hint(a: HandlerAnalysis, h: HandlerName) -> str:
    path = h.dotted.replace(".", "/")
    if a.s.handler and not a.s.handler.endswith(".py") and _entry(a.s, a.s.handler) is not None:
        return (f"'{a.s.handler}' is a file of the package, a start script for an exec wrapper: set "
                f"AWS_LAMBDA_EXEC_WRAPPER (e.g. {facts.WEB_ADAPTER_WRAPPER} with the Lambda Web Adapter layer), "
                "or name a Python module.function")
    if h.dotted.endswith(".py"):
        name = h.module[:-3]
        return f"leave out '.py': the handler for {name}.py is '{name}.{h.function}'"
    wrong_case = a.path.case_mismatch(h.dotted)
    if wrong_case:
        return f"the package has '{wrong_case}': names are case-sensitive on Lambda"
    folder = a.path.nested_folder(h.dotted)
    if folder and _in_regular_package(a, folder, h):
        return (f"'{h.module}' is {folder}.{h.dotted} in the package {folder}/ (it has __init__.py), and Lambda "
                f'imports from the root: set handler = "{folder}.{h.dotted}.{h.function}"')
    if folder:
        where = "make that folder the source root" if a.s.is_source else "zip the folder's contents, not the folder"
        return (f"'{path}' is inside the top-level folder '{folder}/', but Lambda imports from the root: "
                f"{where}, or set the handler to '{folder}/{h.module}.{h.function}'")
    return f"the package root needs {path}.py (or {path}/__init__.py): check the handler and the package contents"


def _in_regular_package(a: HandlerAnalysis, folder: str, h: HandlerName) -> bool:
    """Whether ``folder`` is a regular package at the root (its ``__init__``, not a plain folder) through
    which ``folder.<handler module>`` imports: then the handler path is wrong, not the zip, and
    zipping the folder's contents would break the package's own imports (``from orders import db``)."""
    package = a.path.find(folder)
    if not (isinstance(package, ModuleLocation) and package.in_package and package.kind != "namespace"):
        return False
    return isinstance(a.path.find(f"{folder}.{h.dotted}"), ModuleLocation)


@rule("LP205", "module-syntax-error", Severity.ERROR, subject=HandlerSubject, source=HANDLER_URL, references=BOOTSTRAP_ERRORS)
def module_syntax_error(r: Rule, s: HandlerSubject) -> Iterator[Finding]:
    """## What it does
    Parses the handler module, the packages above it and the package's own modules it imports at
    load time, for the target's Python version, and compiles them (without running them):
    - with this interpreter's parser and compiler, which catch any error when the target is the
      same Python or older;
    - with `ast.parse(..., feature_version=(3, X))` when the target is older: it catches syntax
      the target does not have yet (`match` before 3.10, `except*` before 3.11, PEP 695
      `def f[T]()` / `type X = int` before 3.12) -- best effort, as Python documents;
    - on a 3.12+ interpreter with an older target, PEP 701 f-strings (a nested string reusing the
      enclosing quote, a backslash or a comment in a replacement field), which feature_version
      does not check;
    - when the target is newer than this interpreter, which cannot parse the newer grammar, with
      the target's `python3.X` if it is on PATH; without it lpack reports an error only when no
      grammar newer than this interpreter's could explain it, and otherwise says nothing.

    ## Why is this bad?
    Lambda fails at every cold start: `Runtime.UserCodeSyntaxError: Syntax error in module 'app':
    invalid syntax (app.py, line 3)`.

    ## How to fix
    Fix the line, or (for syntax newer than the target) rewrite it or target a newer runtime.

    """
    a = _analysed(s)
    if a is None or a.handler is None:
        return
    for entry, problem in a.syntax.items():
        via = a.via.get(entry)
        chain = f" ({entry} is imported by {via.entry} line {via.line})" if via else ""
        newer = problem.found_by.startswith(("ast", "PEP"))
        fix = f"rewrite it for {_runtime(a)}, or target a newer runtime" if newer else "fix the syntax error"
        yield r.finding(
            f"Runtime.UserCodeSyntaxError: Syntax error in module '{a.handler.module}': {problem.message}{chain} "
            f"[{_runtime(a)}, checked with {problem.found_by}]",
            s.where(entry), line=problem.line, function=s.function, fix=fix,
        )


def _handler_node(a: HandlerAnalysis) -> ast.AST | None:
    """The statement that binds the handler, when there is exactly one and it is a def or a lambda."""
    module = a.module
    if module is None or a.handler is None:
        return None
    bound = a.bindings(module).names.get(a.handler.function, [])
    return bound[0] if len(bound) == 1 else None


@rule("LP206", "handler-not-found", Severity.ERROR, subject=HandlerSubject, source=HANDLER_URL, references=BOOTSTRAP_ERRORS)
def handler_not_found(r: Rule, s: HandlerSubject) -> Iterator[Finding]:
    """## What it does
    Checks that the handler module binds the function name at module level: a `def` or
    `async def`, a class, an assignment (`handler = Mangum(app)`), an import
    (`from app.api import handler`), including inside `if`/`try` branches.

    ## Why is this bad?
    Every cold start fails: `Runtime.HandlerNotFound: Handler 'handler' missing on module 'app'`.

    ## How to fix
    Define the function, or correct the handler's function part (the fix line names a close match).
    lpack stays quiet where names can appear at run time: a star import, a module `__getattr__`,
    `globals()`, `exec` or `sys.modules` tricks. The finding is on line 1 of the module.

    """
    a = _analysis(s)
    if a is None or a.handler is None:
        return
    loc, h = a.location, a.handler
    if isinstance(loc, ModuleLocation) and loc.kind == "namespace":
        entry = loc.search[0].folder if loc.in_package else ""
        yield r.finding(f"Runtime.HandlerNotFound: Handler '{h.function}' missing on module '{h.module}' "
                        f"('{h.dotted}' is a folder without __init__.py: a namespace package with no code)",
                        s.where(entry) if entry else s.display, function=s.function,
                        fix=f"point the handler at the file that defines {h.function}")
        return
    module = a.module
    if module is None:
        return
    known = a.bindings(module)
    if known.dynamic or h.function in known.names:
        return
    if module.location.is_package and isinstance(a.path.find(f"{h.dotted}.{h.function}"), ModuleLocation):
        return  # a submodule: an attribute once something imports it (and not callable)
    import difflib  # only a handler that is not found pays for it

    functions = [n.name for n in module.tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    close = difflib.get_close_matches(h.function, functions, n=1)
    fix = (f"the module defines {close[0]}(): set the handler to '{h.module}.{close[0]}'" if close
           else f"define {h.function}(event, context) in {module.location.entry}, or correct the handler")
    yield r.finding(f"Runtime.HandlerNotFound: Handler '{h.function}' missing on module '{h.module}'",
                    s.where(module.location.entry), line=1, function=s.function, fix=fix)


@rule("LP207", "handler-signature", Severity.ERROR, subject=HandlerSubject, source=HANDLER_URL)
def handler_signature(r: Rule, s: HandlerSubject) -> Iterator[Finding]:
    """## What it does
    Checks that the handler, when it is a plain `def` (or a `lambda`) bound once at module level,
    can be called with two positional arguments, as Lambda calls it: `handler(event, context)`.
    `def h(event, context=None)`, `def h(event, context, *_)`, `def h(*args)` and keyword-only
    parameters with defaults are fine.

    ## Why is this bad?
    Every invocation fails with a `TypeError` before your code runs, e.g.
    `handler() takes 1 positional argument but 2 were given`.

    ## How to fix
    Accept both: `def handler(event, context):`. A decorated function is not judged: decorators
    may change the signature.
    """
    a = _analysis(s)
    node = _handler_node(a) if a else None
    if a is None or a.handler is None or a.module is None or node is None:
        return
    name = a.handler.function
    error = None
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not node.decorator_list:
        error = call_error(name, node.args)
    elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Lambda) and len(node.targets) == 1:
        error = call_error("<lambda>", node.value.args)
    if error:
        yield r.finding(
            f"handler '{name}' cannot be called as {name}(event, context): every invocation fails with "
            f"TypeError: {error}",
            s.where(a.module.location.entry), line=getattr(node, "lineno", None), function=s.function,
            fix=f"accept both arguments: def {name}(event, context):",
        )


@rule("LP208", "handler-async-or-generator", Severity.ERROR, subject=HandlerSubject, source=HANDLER_URL, references=BOOTSTRAP_ERRORS)
def handler_async_or_generator(r: Rule, s: HandlerSubject) -> Iterator[Finding]:
    """## What it does
    Flags a handler that is an undecorated `async def`, or a `def` that contains `yield`.

    ## Why is this bad?
    Lambda's Python runtime calls the handler and serializes what it returns; it never awaits or
    iterates it. An `async def` returns a coroutine that never runs, a generator a generator
    object, and every invocation fails: `Runtime.MarshalError: Unable to marshal response: Object
    of type coroutine is not JSON serializable`.

    ## How to fix
    Keep the handler synchronous and run the coroutine inside it:
    `def handler(event, context): return asyncio.run(main(event, context))`; return a list instead
    of yielding. A decorated function is not judged (an adapter may make it synchronous).

    """
    a = _analysis(s)
    node = _handler_node(a) if a else None
    if a is None or a.handler is None or a.module is None or node is None:
        return
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or node.decorator_list:
        return
    name, where = a.handler.function, s.where(a.module.location.entry)
    if isinstance(node, ast.AsyncFunctionDef):
        yield r.finding(
            f"handler '{name}' is an async def: Lambda calls it without awaiting, so every invocation "
            "returns an un-run coroutine and fails with Runtime.MarshalError: Unable to marshal response: "
            "Object of type coroutine is not JSON serializable",
            where, line=node.lineno, function=s.function,
            fix=f"make {name} a plain def that returns asyncio.run(...) of the async code",
        )
    elif is_generator(node):
        yield r.finding(
            f"handler '{name}' is a generator (it yields): every invocation fails with Runtime.MarshalError: "
            "Unable to marshal response: Object of type generator is not JSON serializable",
            where, line=node.lineno, function=s.function, fix="return a list (or another JSON value) instead",
        )


def _import_text(a: HandlerAnalysis, p: ImportProblem) -> tuple[str, str]:
    """(what goes wrong, how to fix it) for one failing import."""
    top, note = p.missing.partition(".")[0], ""
    if p.missing and p.missing == top:
        removal, added = stdlib.removal(top, a.python), stdlib.added_in(top, a.python)
        if removal:
            note = (f"'{top}' was removed from the standard library in Python "
                    f"{removal.removed[0]}.{removal.removed[1]} ({removal.reference})")
            fix = f"use {removal.instead}"
        elif added:
            note = f"'{top}' is in the standard library from Python {added[0]}.{added[1]}; the target is {_runtime(a)}"
            backport = stdlib.BACKPORTS.get(top)
            fix = f"target python{added[0]}.{added[1]} or newer" + (f", or add {backport} to the requirements"
                                                                      if backport else "")
        elif runtime_packages.shipped_until(top):
            note, fix = _gone_from_runtime(a, top)
        else:
            fix = _requirement_hint(a, top)
    elif p.missing:
        fix = f"check the module name: the package has no {p.missing.replace('.', '/')}.py"
    elif p.error.startswith("cannot import name"):
        fix = "check the name: the module does not define it"
    elif "no known parent package" in p.error and a.handler is not None:
        fix = (f"Lambda imports '{a.handler.module}' as a top-level module: use absolute imports, or move the "
               f"code into a package and set the handler to 'package/{a.handler.module}.{a.handler.function}'")
    else:
        fix = "use fewer dots, or an absolute import"
    return note, fix


def _gone_from_runtime(a: HandlerAnalysis, top: str) -> tuple[str, str]:
    """A module older runtimes had in their own site-packages (setuptools' pkg_resources)."""
    last = runtime_packages.shipped_until(top) or (0, 0)
    older = f"python{last[0]}.{last[1]}"
    fix = "add setuptools to the requirements" + (
        ", or use importlib.metadata and importlib.resources" if top == "pkg_resources" else "")
    return (f"the {older} and older runtimes have setuptools ('{top}') in their own site-packages, "
            f"{_runtime(a)} does not"), fix


def _requirement_hint(a: HandlerAnalysis, top: str) -> str:
    folder = a.path.nested_folder(top)
    if folder:
        return f"'{top}' is inside the top-level folder '{folder}/': import it as '{folder}.{top}', or make '{folder}/' the root"
    layer = a.path.other_python_layer(top)
    if layer:
        return f"a layer has '{top}' under {layer}, which {_runtime(a)} does not search: build the layer for {_runtime(a)}"
    dist = next((d for name, d in _DISTRIBUTIONS.items() if name.split(".")[0] == top), top)
    where = "to the requirements" if a.s.is_source else "to the requirements and rebuild"
    return f"add {dist} {where}, or ship it in a layer"


def _error_type(error: str) -> str:
    return "ModuleNotFoundError" if error.startswith("No module named") else "ImportError"


@rule("LP209", "import-not-found", Severity.ERROR, subject=HandlerSubject, source=PACKAGE_URL, references=BOOTSTRAP_ERRORS)
def import_not_found(r: Rule, s: HandlerSubject) -> Iterator[Finding]:
    """## What it does
    Follows the imports that run when Lambda loads the handler: in the handler module, the packages
    above it and the package's own modules they import -- not installed libraries. A module is a
    library when a `*.dist-info/RECORD` (or an egg-info's `installed-files.txt`) lists its file or,
    where that list is missing (zips made by other tools), when a `*.dist-info` (or a versioned
    `*.egg-info`) names its top-level package in `top_level.txt`, as `Import-Name` in its
    metadata, or as its project name (`typing-extensions` for `typing_extensions`). The
    distribution that holds the handler's own package is the function's code, and so is what a
    bare `app.egg-info` (from `setup.py develop`) names. Each `import x` / `from x import y` must
    find `x` in the package, its layers, the target Python's standard library (lpack/stdlib.py),
    the runtime (boto3, botocore, s3transfer, jmespath, urllib3, dateutil, six, awslambdaric,
    simplejson, snapshot_restore_py; pip, and setuptools with `pkg_resources` on python3.11 and older
    only) or, for a source folder, the requirements. Relative imports must resolve
    inside the package, and `from x import y` of the package's own module must find `y` (or be an
    attribute every module has: `__doc__`, `__file__`, `__name__`, `__spec__`, `__path__` of a
    package, ...).

    Not checked: imports inside `try` blocks that catch `ImportError` (or `Exception`), under
    `if TYPE_CHECKING:`, `if __name__ == "__main__":`, a `sys.version_info` test the target fails,
    or any `if` lpack cannot decide; `importlib.import_module`; code in layers; submodules that
    exist only at run time: `six.moves` and below (six serves them from `sys.meta_path`, vendored
    copies too), and those of any module that assigns into `sys.modules` or installs a finder on
    `sys.meta_path` / `sys.path_hooks`.

    ## Why is this bad?
    Every cold start fails: `Runtime.ImportModuleError: Unable to import module 'app': No module
    named 'requests'`. A module the target's standard library no longer has (`imp` on python3.12,
    `cgi` on python3.13) or does not have yet (`tomllib` on python3.10) fails the same way.

    ## How to fix
    Add the distribution to the requirements (or a layer), or follow the fix line. When the import
    is deliberate (the module arrives another way), silence the line with
    `# lpack: ignore[LP209] reason`.

    """
    a = _analysed(s)
    if a is None or a.handler is None:
        return
    failing: dict[str, list[ImportProblem]] = {}
    for p in a.problems:
        if p.ref.function is None:
            failing.setdefault(p.error, []).append(p)
    for error, found in failing.items():
        first = found[0]
        note, fix = _import_text(a, first)
        via = a.via.get(first.entry)
        chain = f" ({first.entry} is imported by {via.entry} line {via.line})" if via else ""
        yield r.finding(
            f"Runtime.ImportModuleError: Unable to import module '{a.handler.module}': {error}"
            + (f" -- {note}" if note else "") + chain + _also(found[1:]),
            s.where(first.entry), line=first.ref.line, function=s.function, fix=fix,
        )


def _also(others: list[ImportProblem]) -> str:
    """Where else the same import fails: the finding is at the first, the others are named."""
    if not others:
        return ""
    places = [f"{p.entry} line {p.ref.line}" for p in others[:5]]
    more = f" and {len(others) - 5} more" if len(others) > 5 else ""
    return f" (also imported at {', '.join(places)}{more})"


@rule("LP210", "import-not-found-in-function", Severity.WARNING, subject=HandlerSubject, source=PACKAGE_URL)
def import_not_found_in_function(r: Rule, s: HandlerSubject) -> Iterator[Finding]:
    """## What it does
    The check of LP209 for imports inside functions of the same modules.

    ## Why is this bad?
    The import fails when the function runs (for the handler itself: every invocation) with
    `ModuleNotFoundError`, and tests that never call that path will not notice.

    ## How to fix
    As for LP209. If the function never runs on Lambda (a local helper), silence the line with
    `# lpack: ignore[LP210] reason`, or guard the import with `try`/`except ImportError`.
    """
    a = _analysed(s)
    if a is None or a.handler is None:
        return
    for p in a.problems:
        if p.ref.function is None:
            continue
        note, fix = _import_text(a, p)
        yield r.finding(
            f"`{p.ref.statement}` in {p.ref.function}() fails when it runs: {_error_type(p.error)}: {p.error}"
            + (f" -- {note}" if note else ""),
            s.where(p.entry), line=p.ref.line, function=s.function, fix=fix,
        )


@rule("LP211", "module-shadows-stdlib", Severity.WARNING, subject=HandlerSubject, source=PACKAGE_URL)
def module_shadows_stdlib(r: Rule, s: HandlerSubject) -> Iterator[Finding]:
    """## What it does
    Flags an import, in the modules LP209 follows, of a standard-library name that the package also
    has as its own module (`queue.py`, `email/`, `logging.py`).

    ## Why is this bad?
    The package comes first on `sys.path`, so its `queue.py` hides the standard library's `queue`
    from every module in the function, the runtime's and boto3's included. For a module the
    runtime has already imported (`logging`, `json`, `os`, ...) it is the other way round: the
    import gets the standard library's, and the package's file is never used.

    ## How to fix
    Rename the package's module (`queue.py` -> `work_queue.py`) and its imports.
    """
    a = _analysed(s)
    if a is None or a.handler is None:
        return
    seen: set[tuple[str, str]] = set()
    for sh in a.shadowing:
        if (sh.entry, sh.module) in seen:
            continue
        seen.add((sh.entry, sh.module))
        if sh.ignored:
            message = (f"`{sh.ref.statement}` gets the standard library's '{sh.module}' (built in, or imported by "
                       f"the runtime before the handler): the package's {sh.file} is never used")
        else:
            message = (f"the package's {sh.file} hides the standard library's '{sh.module}' from every module "
                       "in the function, the runtime's and third-party packages' included")
        yield r.finding(message, s.where(sh.entry), line=sh.ref.line, function=s.function,
                        fix=f"rename {sh.file} (e.g. to app_{sh.module}) and the imports of it")


@rule("LP212", "handler-script-not-runnable", Severity.ERROR, subject=HandlerSubject, source=facts.WRAPPER_URL,
      references=f"The Lambda Web Adapter's wrapper, which runs the handler as a program: {facts.WEB_ADAPTER_BOOTSTRAP_URL}")
def handler_script_not_runnable(r: Rule, s: HandlerSubject) -> Iterator[Finding]:
    """## What it does
    For a function started through an exec wrapper (`AWS_LAMBDA_EXEC_WRAPPER`) whose handler names
    a program rather than a Python `module.function` (`run.sh`, `bootstrap`, or a file the package
    has under that name), checks that the program is in the function's package and executable: the
    zip's Unix mode bits, or a source folder's file mode (which `lpack build` keeps).

    The handler rules that read the handler as a Python module (LP201-LP211) stay quiet for such a
    function: the handler string is the wrapper's business.

    ## Why is this bad?
    The Lambda Web Adapter's wrapper (`/opt/bootstrap`) runs `$LAMBDA_TASK_ROOT/$_HANDLER`, the
    web app's start script, from the function's own package. A script that is missing, or has no
    execute bit (a `chmod` lost in git, a zip made on Windows, which records no Unix permissions),
    fails every cold start with `Permission denied` or `No such file or directory`, and the
    function never answers.

    ## How to fix
    Add the start script beside the app (`run.sh` with `exec python -m uvicorn ... app:app`), make
    it executable (`chmod +x run.sh`, and `git update-index --chmod=+x run.sh` so every checkout
    keeps it), and rebuild.
    """
    name = _script(s)
    if name is None:
        return
    wrapper = s.features.exec_wrapper
    entry = _entry(s, name)
    if entry is None:
        yield r.finding(
            f"the exec wrapper {wrapper} runs the handler '{name}' as a program from the package, but the package "
            f"has no {name}: every cold start fails", s.display, function=s.function,
            fix=f"add {name} (the web app's start script) to the function's folder, or correct the handler")
    elif (why := _not_executable(s, entry)) is not None:
        yield r.finding(f"{why}: the exec wrapper {wrapper} runs it as the handler, and every cold start fails "
                        "with Permission denied", s.where(name), function=s.function, fix=_executable_fix(s, name))


@rule("LP213", "exec-wrapper-not-runnable", Severity.ERROR, subject=HandlerSubject, source=facts.WRAPPER_URL)
def exec_wrapper_not_runnable(r: Rule, s: HandlerSubject) -> Iterator[Finding]:
    """## What it does
    For `AWS_LAMBDA_EXEC_WRAPPER` set to a path in the function's own package (`/var/task/...`),
    checks that the package has that file and that it is executable.

    ## Why is this bad?
    Lambda starts the runtime through the wrapper script. A wrapper that is missing or not
    executable stops the runtime from starting, so every invocation fails during init.

    ## How to fix
    Ship the script at that path in the package (`/var/task/wrapper` is `wrapper` at the package
    root), make it executable (`chmod +x`), or correct the variable. A wrapper from a layer lives
    under `/opt`.
    """
    wrapper = s.features.exec_wrapper
    if s.kind != "function" or not wrapper or not wrapper.startswith(facts.TASK_ROOT):
        return
    name = wrapper[len(facts.TASK_ROOT):]
    entry = _entry(s, name)
    if entry is None:
        yield r.finding(f"AWS_LAMBDA_EXEC_WRAPPER is {wrapper}, but the package has no {name}: the runtime cannot "
                        "start", s.display, function=s.function,
                        fix=f"add {name} to the package root, or point AWS_LAMBDA_EXEC_WRAPPER at the script")
    elif (why := _not_executable(s, entry)) is not None:
        yield r.finding(f"{why}: Lambda starts the runtime through it (AWS_LAMBDA_EXEC_WRAPPER), and the runtime "
                        "cannot start", s.where(name), function=s.function, fix=_executable_fix(s, name))


@rule("LP214", "start-script-without-shebang", Severity.WARNING, subject=HandlerSubject, source=facts.WRAPPER_URL,
      references=f"The Lambda Web Adapter's wrapper: {facts.WEB_ADAPTER_BOOTSTRAP_URL}")
def start_script_without_shebang(r: Rule, s: HandlerSubject) -> Iterator[Finding]:
    """## What it does
    Flags a start script an exec wrapper runs (the handler of LP212, or a wrapper in the package,
    LP213) that is neither a compiled program nor a script whose first line names its interpreter
    (`#!/bin/bash`).

    ## Why is this bad?
    The kernel runs a text file only through the interpreter its `#!` line names; without one,
    `execve` fails with `Exec format error`. The Web Adapter's bash wrapper happens to fall back to
    running such a file with bash, but any wrapper that starts the program directly fails every
    cold start, and readers of the script cannot tell which shell it was written for.

    ## How to fix
    Make the first line `#!/bin/bash` (or `#!/bin/sh` for a POSIX script).
    """
    if s.reader is None or s.kind != "function":
        return
    wrapper = s.features.exec_wrapper or ""
    names = [name for name in (_script(s), wrapper[len(facts.TASK_ROOT):] if wrapper.startswith(facts.TASK_ROOT)
                               else None) if name]
    for name in dict.fromkeys(names):
        entry = _entry(s, name)
        if entry is None or entry.symlink:
            continue
        head = s.reader.read(name, limit=4)
        if head and not head.startswith((b"#!", b"\x7fELF")):
            yield r.finding(f"{name} has no #! line naming its interpreter: a wrapper that starts it directly fails "
                            "with Exec format error", s.where(name), line=1, function=s.function,
                            fix=f"make the first line of {name} #!/bin/bash (or #!/bin/sh)")


@rule("LP215", "module-not-analysed", Severity.INFO, subject=HandlerSubject, source=PACKAGE_URL)
def module_not_analysed(r: Rule, s: HandlerSubject) -> Iterator[Finding]:
    """## What it does
    Names the handler's modules (the handler module, or a module it imports from the package)
    that are over 1 MiB of source: lpack lists them but does not parse them.

    ## Why is this bad?
    Parsing a module of many megabytes takes seconds to minutes and gigabytes of memory, so lpack
    does not; but then their syntax, their handler and their imports go unchecked, and a report
    that says nothing about them reads as "checked". Generated modules of this size (embedded
    data, vendored bundles) also slow every cold start: Python compiles them at import unless
    their bytecode is shipped.

    ## How to fix
    Nothing, if the module is meant to be that large. Otherwise move the data out of the source:
    a JSON or binary file read at start-up, a layer, or S3.
    """
    a = _named(s)
    if a is None:
        return
    for name, size in sorted(a.unread.items()):
        yield r.finding(f"{name} is {exact_bytes(size)}, over {exact_bytes(MAX_MODULE_BYTES)}: lpack did not parse it, "
                        "so its syntax and imports are not checked", s.where(name), function=s.function,
                        fix="move embedded data out of the module into a file read at start-up")
