"""Handler source analysis with ``ast``: what Lambda's Python runtime does when it loads a handler,
worked out without importing (or running) any of the function's code.

awslambdaric's ``bootstrap.py`` splits the handler on its last dot, imports the module (``/`` read as
``.``) from ``sys.path`` = the package (``/var/task``), the layers' ``python/lib/python3.X/site-packages``
and ``python/`` (``/opt``), then the runtime's own packages and the standard library, and looks the
function up on the module. This module models that search over the package's and layers' indexes,
parses the handler module and the package's own modules it imports (never a whole package), and
reports what would fail, in Python's own words. Where the code is too dynamic to tell, it says nothing.
"""

from __future__ import annotations

import ast
import bisect
import collections
import io
import json
import operator
import posixpath
import re
import shutil
import subprocess
import sys
import warnings
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import cached_property
from typing import Generic, NamedTuple, TypeVar

from lpack.analysis.distributions import Distribution, distributions
from lpack.analysis.package import PackageIndex, PackageReader
from lpack.analysis.subjects import PackageSubject
from lpack.core import stdlib
from lpack.core.errors import LpackError
from lpack.core.targets import DEFAULT_RUNTIME, RUNTIMES

Python = tuple[int, int]
HOST: Python = (sys.version_info[0], sys.version_info[1])

# Importable in every managed Python runtime without being packaged: the SDK and its dependencies
# and awslambdaric (LAMBDA-FACTS.md section 5, Lambda Python runtime page); simplejson, which
# awslambdaric's marshaller imports before the handler; snapshot_restore_py, "included in Python
# managed runtimes" (Lambda SnapStart runtime hooks for Python page).
RUNTIME_PROVIDED = frozenset({
    "boto3", "botocore", "s3transfer", "jmespath", "urllib3", "dateutil", "six",
    "awslambdaric", "simplejson", "snapshot_restore_py",
})
# May be in a runtime's own site-packages (whether pip and setuptools are installed differs between
# runtimes and is not documented): never reported missing.
RUNTIME_MAYBE = frozenset({"pip", "setuptools", "pkg_resources", "_distutils_hack"})

# Submodules no file holds: their parent module creates them when it is imported. Keyed by the
# parent's last name, so vendored copies count (urllib3.packages.six, botocore.vendored.six).
# six.py: ``_SixMetaPathImporter`` serves ``six.moves`` and every ``six.moves.*`` from
# ``sys.meta_path``. A parent whose source lpack can read is judged by registers_modules() instead.
RUNTIME_SUBMODULES = {"six": "moves"}

# Attributes every module has, so ``from m import __doc__`` never fails: set by the import system
# (importlib's ``_init_module_attrs``; ``__builtins__`` by exec) or inherited from types.ModuleType.
# ``__path__`` only a package has.
MODULE_ATTRIBUTES = frozenset({
    "__name__", "__doc__", "__package__", "__loader__", "__spec__", "__file__", "__cached__",
    "__builtins__", "__dict__", "__class__", "__annotations__",
})

# Beyond the handler module, own modules are analysed up to these limits (a package whose
# third-party code carries no .dist-info can otherwise look like all own code).
MAX_MODULES = 200
MAX_MODULE_BYTES = 1_048_576


# -- the handler string -------------------------------------------------------------------------

class HandlerName(NamedTuple):
    text: str
    module: str  # as Lambda quotes it: everything before the last dot, "/" kept
    function: str

    @property
    def dotted(self) -> str:
        """The name ``importlib.import_module`` is given."""
        return self.module.replace("/", ".")


def split_handler(text: str) -> HandlerName | None:
    """``handler.rsplit(".", 1)`` as bootstrap.py does it; None when there is no dot."""
    module, dot, function = text.rpartition(".")
    return HandlerName(text, module, function) if dot else None


# -- sys.path over the package and layer indexes ---------------------------------------------------

_K = TypeVar("_K")
_V = TypeVar("_V")


class _IdCache(Generic[_K, _V]):
    """A few values keyed by the identity of an object that is kept alive beside them (so the
    identity cannot be reused while the value is cached)."""

    def __init__(self, size: int = 16) -> None:
        self.size = size
        self._items: collections.OrderedDict[_K, tuple[object, _V]] = collections.OrderedDict()

    def get(self, key: _K, owner: object, make: Callable[[], _V]) -> _V:
        hit = self._items.get(key)
        if hit is not None and hit[0] is owner:
            self._items.move_to_end(key)
            return hit[1]
        value = make()
        self._items[key] = (owner, value)
        while len(self._items) > self.size:
            self._items.popitem(last=False)
        return value


class _Tree:
    """The entry names of one index below a prefix (a layer's ``python/``, say), sorted for lookups."""

    def __init__(self, index: PackageIndex, prefix: str) -> None:
        cut = len(prefix)
        self.prefix = prefix
        self.names = sorted(e.name[cut:] for e in index.entries if e.name.startswith(prefix) and len(e.name) > cut)
        self.files = frozenset(n for n in self.names if not n.endswith("/"))

    def starting(self, prefix: str) -> Iterator[str]:
        i = bisect.bisect_left(self.names, prefix)
        while i < len(self.names) and self.names[i].startswith(prefix):
            yield self.names[i]
            i += 1

    def has_dir(self, path: str) -> bool:
        return next(self.starting(path + "/"), None) is not None


_TREES: _IdCache[tuple[int, str], _Tree] = _IdCache()


def _tree(index: PackageIndex, prefix: str) -> _Tree:
    return _TREES.get((id(index), prefix), index, lambda: _Tree(index, prefix))


# An extension module file as Linux CPython finds it: name.cpython-3XY-<machine>-linux-gnu.so,
# name.abi3.so or name.so. Any tag counts as present here; the native rules check the tag.
_EXTENSION = re.compile(r"(?:cpython-[\w-]+\.|abi3\.)?so")


class _Portion(NamedTuple):
    """One folder Python searches: a sys.path entry (or a package folder in it)."""

    root: int  # 0 the function package (/var/task), 1 layers' site-packages, 2 layers' python/
    trees: tuple[_Tree, ...]  # a layers folder merges every layer (/opt)
    folder: str  # "" or "pkg/sub/"


class Location(NamedTuple):
    name: str  # dotted
    kind: str  # "source" (a .py file), "compiled" (.so or .pyc: not analysed) or "namespace"
    entry: str  # the file's entry name in the function package ("" in a layer, or a namespace)
    root: int
    search: tuple[_Portion, ...]  # where its submodules are found; () for a plain module

    @property
    def is_package(self) -> bool:
        return bool(self.search)

    @property
    def in_package(self) -> bool:
        return self.root == 0


class Missing(NamedTuple):
    name: str  # the first module that was not found
    message: str  # Python's ImportError text
    in_namespace: bool = False  # its parent is a namespace package (other portions may be elsewhere)


Found = Location | Missing | None  # None: cannot tell (a compiled parent)


class ImportPath:
    """The function's sys.path: the package, then its layers' ``python/lib/python3.X/site-packages/``
    and ``python/`` (each layer folder merging all layers, as extracting them into /opt does)."""

    def __init__(self, package: PackageIndex, layers: Sequence[PackageIndex], python: Python) -> None:
        site = f"python/lib/python{python[0]}.{python[1]}/site-packages/"
        self.package = _tree(package, "")
        self.layers = tuple(layers)
        self.roots = [_Portion(0, (self.package,), "")]
        if layers:
            self.roots.append(_Portion(1, tuple(_tree(layer, site) for layer in layers), ""))
            self.roots.append(_Portion(2, tuple(_tree(layer, "python/") for layer in layers), ""))
        self._found: dict[str, Found] = {}

    def find(self, dotted: str) -> Found:
        """Where ``import dotted`` finds the module, as importlib's path finder would."""
        if dotted not in self._found:
            self._found[dotted] = self._find(dotted)
        return self._found[dotted]

    def _find(self, dotted: str) -> Found:
        parts = dotted.split(".")
        if not all(parts):
            return None
        parent: Location | None = None
        for i, part in enumerate(parts):
            name = ".".join(parts[: i + 1])
            if parent is not None and not parent.is_package:
                if parent.kind == "compiled":
                    return None
                return Missing(name, f"No module named '{name}'; '{parent.name}' is not a package")
            found = self._find_in(name, part, parent.search if parent else self.roots)
            if found is None:
                return Missing(name, f"No module named '{name}'", parent is not None and parent.kind == "namespace")
            parent = found
        return parent

    def _find_in(self, name: str, part: str, search: Sequence[_Portion]) -> Location | None:
        namespace: list[_Portion] = []
        for portion in search:
            base = portion.folder + part
            for stem, package in ((base + "/__init__", True), (base, False)):
                hit = self._file(portion, stem)
                if hit is not None:
                    kind, entry = hit
                    inner = (portion._replace(folder=base + "/"),) if package else ()
                    return Location(name, kind, entry if portion.root == 0 else "", portion.root, inner)
            if any(tree.has_dir(base) for tree in portion.trees):
                namespace.append(portion._replace(folder=base + "/"))
        if namespace:
            return Location(name, "namespace", "", namespace[0].root, tuple(namespace))
        return None

    @staticmethod
    def _file(portion: _Portion, stem: str) -> tuple[str, str] | None:
        """(kind, entry) of the file a path finder loads for ``stem``: extension, source, bytecode."""
        for tree in portion.trees:
            for name in tree.starting(stem + "."):
                rest = name[len(stem) + 1:]
                if "/" not in rest and _EXTENSION.fullmatch(rest):
                    return "compiled", name
        for suffix, kind in ((".py", "source"), (".pyc", "compiled")):
            if any(stem + suffix in tree.files for tree in portion.trees):
                return kind, stem + suffix
        return None

    def chain(self, dotted: str) -> list[Location]:
        """The modules ``import dotted`` executes, outermost first, as far as they are found."""
        parts = dotted.split(".")
        found = (self.find(".".join(parts[: i + 1])) for i in range(len(parts)))
        return list(_take_locations(found))

    # -- hints for a module that is not found --------------------------------------------------

    def nested_folder(self, dotted: str) -> str | None:
        """A top-level folder of the package that has ``dotted`` inside it (code zipped one level down)."""
        path = dotted.replace(".", "/")
        tops = sorted({n.split("/", 1)[0] for n in self.package.names if "/" in n})
        for top in tops:
            inner = ImportPath._file(_Portion(0, (self.package,), ""), f"{top}/{path}")
            if inner or ImportPath._file(_Portion(0, (self.package,), ""), f"{top}/{path}/__init__"):
                return top
        return None

    def case_mismatch(self, dotted: str) -> str | None:
        """An entry whose name differs from ``dotted``'s file only in case (Lambda's disk is case-sensitive)."""
        path = dotted.replace(".", "/").lower()
        wanted = {path + ".py", path + "/__init__.py"}
        return next((n for n in self.package.names if n.lower() in wanted), None)

    def other_python_layer(self, top: str) -> str | None:
        """A layer folder for another Python version that has ``top`` (not on this sys.path)."""
        pattern = re.compile(rf"(python/lib/python3\.\d+/site-packages/){re.escape(top)}(?:/|\.py$|\.[^/]*\.so$)")
        for layer in self.layers:
            for entry in layer.entries:
                match = pattern.match(entry.name)
                if match:
                    return match.group(1)
        return None


def _take_locations(found: Iterable[Found]) -> Iterator[Location]:
    for item in found:
        if not isinstance(item, Location):
            return
        yield item


# -- conditions Lambda's interpreter decides --------------------------------------------------------

def _dotted_name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted_name(node.value)
        return f"{inner}.{node.attr}" if inner else ""
    return ""


def _version_value(node: ast.expr, python: Python) -> tuple[tuple[int, ...], bool] | None:
    """``sys.version_info`` and parts of it: (known value, exact?). ``sys.version_info`` itself is
    known only up to the minor version, so it is not exact."""
    if _dotted_name(node) in ("sys.version_info", "version_info"):
        return python, False
    if isinstance(node, ast.Attribute) and _dotted_name(node.value) in ("sys.version_info", "version_info"):
        return {"major": ((python[0],), True), "minor": ((python[1],), True)}.get(node.attr)
    if isinstance(node, ast.Subscript) and _dotted_name(node.value) in ("sys.version_info", "version_info"):
        index = node.slice
        if isinstance(index, ast.Constant) and index.value in (0, 1) and isinstance(index.value, int):
            return (python[index.value],), True
        if (isinstance(index, ast.Slice) and index.lower is None and index.step is None
                and isinstance(index.upper, ast.Constant) and isinstance(index.upper.value, int)
                and index.upper.value in (1, 2)):
            return python[: index.upper.value], True
    return None


def _constant_ints(node: ast.expr) -> tuple[int, ...] | None:
    items = node.elts if isinstance(node, ast.Tuple) else [node]
    values = [e.value for e in items if isinstance(e, ast.Constant) and type(e.value) is int]
    return tuple(values) if len(values) == len(items) else None


_COMPARE: dict[type[ast.cmpop], Callable[[int, int], bool]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt,
    ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
}
_FLIP: dict[type[ast.cmpop], type[ast.cmpop]] = {ast.Lt: ast.Gt, ast.Gt: ast.Lt, ast.LtE: ast.GtE, ast.GtE: ast.LtE}


def _version_compare(test: ast.Compare, python: Python) -> bool | None:
    left, op, right = test.left, test.ops[0], test.comparators[0]
    value = _version_value(left, python)
    if value is None:
        left, right = right, left
        value = _version_value(left, python)
        op = _FLIP.get(type(op), type(op))()
    other = _constant_ints(right)
    if value is None or other is None or type(op) not in _COMPARE:
        return None
    known, exact = value
    if exact:
        order = (known > other) - (known < other)
    elif known[: len(other)] != other[: len(known)]:
        head = other[: len(known)]
        order = (known[: len(head)] > head) - (known[: len(head)] < head)
    elif len(other) <= len(known):
        order = 1  # sys.version_info has more fields than the tuple it is compared with
    else:
        return None  # depends on the micro version
    return _COMPARE[type(op)](order, 0)


def truth(test: ast.expr, python: Python) -> bool | None:
    """The value of an ``if`` test on the target, where it is knowable: constants, TYPE_CHECKING,
    ``__name__ == "__main__"`` (never true when Lambda imports a module) and sys.version_info."""
    if isinstance(test, ast.Constant):
        return bool(test.value)
    if _dotted_name(test).rpartition(".")[2] == "TYPE_CHECKING":
        return False
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = truth(test.operand, python)
        return None if inner is None else not inner
    if isinstance(test, ast.BoolOp):
        values = [truth(v, python) for v in test.values]
        decisive = isinstance(test.op, ast.Or)
        if decisive in values:
            return decisive
        return None if None in values else not decisive
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        sides = {_dotted_name(test.left), _dotted_name(test.comparators[0])}
        constants = {c.value for c in (test.left, test.comparators[0]) if isinstance(c, ast.Constant)}
        if "__name__" in sides and constants == {"__main__"} and isinstance(test.ops[0], (ast.Eq, ast.NotEq)):
            return isinstance(test.ops[0], ast.NotEq)
        return _version_compare(test, python)
    return None


# -- what a module imports, and what it binds ----------------------------------------------------

class ImportRef(NamedTuple):
    module: str  # as written after ``from``/``import`` ("" in ``from . import x``)
    level: int  # leading dots
    names: tuple[str, ...]  # a from-import's names; () for ``import x``
    line: int
    function: str | None  # the enclosing function; None when it runs at import

    @property
    def statement(self) -> str:
        if not self.names:
            return f"import {self.module}"
        return f"from {'.' * self.level}{self.module} import {', '.join(self.names)}"


_IMPORT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})


def _catches_import_error(handlers: Sequence[ast.ExceptHandler]) -> bool:
    for handler in handlers:
        kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        names = {_dotted_name(k).rpartition(".")[2] for k in kinds if k is not None}
        reraises = any(isinstance(s, ast.Raise) for s in handler.body)
        if (handler.type is None or names & _IMPORT_ERRORS) and not reraises:
            return True
    return False


def _suppresses_import_error(items: Sequence[ast.withitem]) -> bool:
    for item in items:
        call = item.context_expr
        if (isinstance(call, ast.Call) and _dotted_name(call.func).rpartition(".")[2] == "suppress"
                and any(_dotted_name(a).rpartition(".")[2] in _IMPORT_ERRORS for a in call.args)):
            return True
    return False


_TRY_STAR: tuple[type[ast.stmt], ...] = tuple(t for t in (getattr(ast, "TryStar", None),) if t is not None)


def _branches(node: ast.stmt, python: Python) -> list[list[ast.stmt]] | None:
    """The statement lists inside a compound statement that run unconditionally when it runs
    (None: not a compound statement). An import Lambda may skip (an undecidable ``if``, a ``try``
    that catches ImportError, a ``match`` case, an ``except`` body) is never a finding."""
    if isinstance(node, ast.If):
        value = truth(node.test, python)
        return [] if value is None else [node.body if value else node.orelse]
    if isinstance(node, (ast.Try, *_TRY_STAR)):
        handled: ast.Try = node  # type: ignore[assignment]  # TryStar has the same fields
        if _catches_import_error(handled.handlers):
            return [handled.finalbody]  # ``else`` runs only when the guarded imports worked
        return [handled.body, handled.orelse, handled.finalbody]
    if isinstance(node, (ast.With, ast.AsyncWith)):
        return [] if _suppresses_import_error(node.items) else [node.body]
    if isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
        return [node.body, node.orelse]
    if isinstance(node, ast.ClassDef):
        return [node.body]
    if isinstance(node, ast.Match):
        return []
    return None


def imports(tree: ast.Module, python: Python) -> list[ImportRef]:
    """Import statements that run when the module is imported (``function`` None) or when one of
    its functions runs, leaving out the ones Lambda may skip or whose failure the code handles."""
    found: list[ImportRef] = []

    def visit(body: Sequence[ast.stmt], function: str | None) -> None:
        for node in body:
            if isinstance(node, ast.Import):
                found.extend(ImportRef(a.name, 0, (), node.lineno, function) for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                names = tuple(a.name for a in node.names)
                found.append(ImportRef(node.module or "", node.level, names, node.lineno, function))
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                visit(node.body, node.name)
            else:
                for branch in _branches(node, python) or ():
                    visit(branch, function)

    visit(tree.body, None)
    return found


class Bindings(NamedTuple):
    names: dict[str, list[ast.AST]]  # module-level names and the statements that bind them
    dynamic: bool  # names may appear at run time: star import, __getattr__, globals(), sys.modules


_DYNAMIC_CALLS = frozenset({"globals", "vars", "locals", "exec"})


def _target_names(target: ast.expr) -> Iterator[str]:
    if isinstance(target, ast.Name):
        yield target.id
    elif isinstance(target, (ast.Tuple, ast.List)):
        for element in target.elts:
            yield from _target_names(element)
    elif isinstance(target, ast.Starred):
        yield from _target_names(target.value)


def _statement_names(node: ast.stmt) -> Iterator[str]:
    """Names a simple statement binds in its scope."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        yield node.name
    elif isinstance(node, ast.Assign):
        for target in node.targets:
            yield from _target_names(target)
    elif isinstance(node, (ast.AugAssign, ast.For, ast.AsyncFor)) or (
            isinstance(node, ast.AnnAssign) and node.value is not None):
        yield from _target_names(node.target)
    elif isinstance(node, ast.Import):
        yield from (a.asname or a.name.split(".")[0] for a in node.names)
    elif isinstance(node, ast.ImportFrom):
        yield from (a.asname or a.name for a in node.names)
    elif isinstance(node, (ast.With, ast.AsyncWith)):
        for item in node.items:
            if item.optional_vars is not None:
                yield from _target_names(item.optional_vars)
    elif type(node).__name__ == "TypeAlias":  # ``type X = ...`` (3.12+)
        alias: ast.expr | None = getattr(node, "name", None)
        yield from _target_names(alias) if alias is not None else ()


# Text any of the constructs bindings() looks for anywhere in a module must contain: modules without
# it skip the walk over every node.
_ANYWHERE = re.compile(rb"\bglobal\b|:=|\b(?:globals|vars|locals|exec)\s*\(|\bmodules\b")


def bindings(tree: ast.Module, python: Python, source: bytes | None = None) -> Bindings:
    """Module-level names: the statements that bind them, in the branches the target runs, plus
    ``global`` declarations and ``:=`` anywhere (``source``, when given, lets the walk be skipped)."""
    names: dict[str, list[ast.AST]] = {}
    dynamic = False

    def visit(body: Sequence[ast.stmt]) -> None:
        nonlocal dynamic
        for node in body:
            for name in _statement_names(node):
                names.setdefault(name, []).append(node)
            if isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names):
                dynamic = True
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == "__getattr__":
                dynamic = True
            if isinstance(node, ast.If):
                value = truth(node.test, python)
                visit(node.body if value is not False else [])
                visit(node.orelse if value is not True else [])
            elif isinstance(node, (ast.Try, *_TRY_STAR)):
                handled: ast.Try = node  # type: ignore[assignment]
                for part in (handled.body, *(h.body for h in handled.handlers), handled.orelse, handled.finalbody):
                    visit(part)
            elif isinstance(node, (ast.With, ast.AsyncWith, ast.For, ast.AsyncFor, ast.While)):
                visit(node.body)
                visit(getattr(node, "orelse", []))
            elif isinstance(node, ast.Match):
                for case in node.cases:
                    visit(case.body)
                    for sub in ast.walk(case.pattern):
                        captured = getattr(sub, "name", None) or getattr(sub, "rest", None)
                        if isinstance(captured, str):
                            names.setdefault(captured, []).append(node)

    visit(tree.body)
    everything = ast.walk(tree) if source is None or _ANYWHERE.search(source) else iter(())
    for node in everything:
        if isinstance(node, ast.Global):
            for name in node.names:
                names.setdefault(name, []).append(node)
        elif isinstance(node, ast.NamedExpr):
            for name in _target_names(node.target):
                names.setdefault(name, []).append(node)
        elif (isinstance(node, ast.Call) and _dotted_name(node.func) in _DYNAMIC_CALLS
              or isinstance(node, ast.Attribute) and _dotted_name(node) == "sys.modules"):
            dynamic = True
    return Bindings(names, dynamic)


_REGISTERS = re.compile(rb"\bmodules\b|\bmeta_path\b|\bpath_hooks\b")
_SYS_MODULES = re.compile(r"\w*sys\.modules")  # sys.modules, or _sys.modules after ``import sys as _sys``


def registers_modules(tree: ast.Module, source: bytes | None = None) -> bool:
    """Whether a module adds modules to the import system when it runs, so that importing its
    submodules may work with no file behind them: it assigns into ``sys.modules``
    (``sys.modules[name] = m``, ``.update``, ``.setdefault``) or installs a finder
    (``sys.meta_path``, ``sys.path_hooks``). ``source``, when given, lets the walk be skipped."""
    if source is not None and not _REGISTERS.search(source):
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in ("meta_path", "path_hooks"):
            return True
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Subscript) and _SYS_MODULES.fullmatch(_dotted_name(t.value)) for t in targets):
                return True
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("update", "setdefault", "__setitem__")
                and _SYS_MODULES.fullmatch(_dotted_name(node.func.value))):
            return True
    return False


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def _quoted(names: Sequence[str]) -> str:
    quoted = [f"'{n}'" for n in names]
    if len(quoted) <= 2:
        return " and ".join(quoted)
    return ", ".join(quoted[:-1]) + ", and " + quoted[-1]


def call_error(name: str, args: ast.arguments) -> str | None:
    """The TypeError Python raises for ``name(event, context)``, or None if that call binds."""
    positional = [*args.posonlyargs, *args.args]
    required = len(positional) - len(args.defaults)
    if args.vararg is None and len(positional) < 2:
        takes = (f"from {required} to {len(positional)} positional arguments" if args.defaults
                 else _plural(len(positional), "positional argument"))
        return f"{name}() takes {takes} but 2 were given"
    missing = [a.arg for a in positional[2:required]]
    if missing:
        return f"{name}() missing {_plural(len(missing), 'required positional argument')}: {_quoted(missing)}"
    keyword = [a.arg for a, default in zip(args.kwonlyargs, args.kw_defaults) if default is None]
    if keyword:
        return f"{name}() missing {_plural(len(keyword), 'required keyword-only argument')}: {_quoted(keyword)}"
    return None


def is_generator(function: ast.FunctionDef) -> bool:
    """Whether the function's own body (not a nested function's) yields."""
    stack: list[ast.AST] = list(function.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            return True
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            stack.extend(ast.iter_child_nodes(node))
    return False


# -- syntax, for the target Python ---------------------------------------------------------------

class Parsed(NamedTuple):
    tree: ast.Module | None
    error: SyntaxError | None  # the host's parser or compiler rejected it (tree is None)


def parse_host(source: bytes, filename: str) -> Parsed:
    """Parse and compile (never run) with this interpreter; compiling finds what only the compiler
    rejects ('return' outside function, duplicate arguments, ...)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            tree = ast.parse(source, filename)
            compile(tree, filename, "exec", dont_inherit=True)
        except SyntaxError as exc:
            return Parsed(None, exc)
        except (ValueError, RecursionError, MemoryError, OverflowError):
            return Parsed(None, None)
    return Parsed(tree, None)


class SyntaxProblem(NamedTuple):
    line: int | None
    message: str  # as str(SyntaxError) prints it: "invalid syntax (app.py, line 3)"
    found_by: str  # "Python 3.11's parser", "ast feature_version=(3, 10)", "python3.12", "PEP 701 rules"


def _describe(exc: SyntaxError, filename: str, line: int | None = None) -> str:
    line = line if line is not None else exc.lineno
    return f"{exc.msg} ({posixpath.basename(filename)}, line {line})" if line else str(exc.msg)


# Grammar that each Python version added and older parsers reject, as patterns over source lines.
# When the host cannot parse a module for a newer target and no target interpreter is at hand, a
# match near the error means "maybe valid on the target": lpack then says nothing.
_FSTRING = r"(?i)(?<![\w])(?:f|rf|fr)['\"]"
NEWER_SYNTAX: dict[Python, tuple[str, ...]] = {
    (3, 11): (r"\*",),  # except* (PEP 654); starred subscripts and annotations (PEP 646)
    (3, 12): (r"^\s*type\s+\w", r"\b(?:def|class)\s+\w+\s*\[", _FSTRING),  # PEP 695; PEP 701 f-strings
    (3, 13): (),  # PEP 696 type parameter defaults: inside the brackets PEP 695 already matches
    (3, 14): (r"\bexcept\b[^:]*,", r"(?i)(?<![\w])(?:t|rt|tr)['\"]"),  # PEP 758; PEP 750 t-strings
}
_TRIPLE_PREFIXED = re.compile(r"(?i)(?<![\w])(?:[rft]{1,2})(?:'''|\"\"\")")

_ASK = """\
import json, sys, warnings
warnings.simplefilter("ignore")
try:
    compile(sys.stdin.buffer.read(), sys.argv[1], "exec", dont_inherit=True)
except SyntaxError as e:
    print(json.dumps({"v": sys.version_info[:2], "msg": str(e.msg), "line": e.lineno}))
else:
    print(json.dumps({"v": sys.version_info[:2], "msg": None, "line": None}))
"""


def ask_interpreter(python: Python, source: bytes, filename: str) -> tuple[str | None, int | None] | None:
    """Compile (never run) with ``python3.X`` from PATH: (error message or None, line); None when
    no working interpreter of that version answers."""
    exe = shutil.which(f"python{python[0]}.{python[1]}")
    if exe is None:
        return None
    try:
        done = subprocess.run([exe, "-I", "-S", "-c", _ASK, filename], input=source,
                              capture_output=True, timeout=20, check=False)
        answer = json.loads(done.stdout)
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    if done.returncode != 0 or not isinstance(answer, dict) or tuple(answer.get("v", ())) != python:
        return None
    return answer.get("msg"), answer.get("line")


def _maybe_newer_syntax(source: bytes, error: SyntaxError, python: Python) -> bool:
    """Whether grammar newer than the host's could be what the host's parser tripped on."""
    versions = [v for v in NEWER_SYNTAX if HOST < v <= python]
    if python > max(NEWER_SYNTAX) or not versions:
        return python > HOST  # a grammar lpack has no notes on: assume it might be
    text = source.decode("utf-8", errors="replace")
    lines = text.splitlines()
    start = max((error.lineno or 1) - 3, 0)
    end = max(error.end_lineno or 0, error.lineno or 0) + 1
    window = "\n".join(lines[start:end])
    patterns = [p for v in versions for p in NEWER_SYNTAX[v]]
    if any(re.search(p, window, re.MULTILINE) for p in patterns):
        return True
    return (3, 12) in versions and _TRIPLE_PREFIXED.search(text) is not None


def _pep701_problem(source: bytes) -> tuple[int, str] | None:
    """On a 3.12+ host, an f-string only Python 3.12+ accepts (PEP 701): inside a replacement field,
    a string using an enclosing f-string's quote, a backslash, or a comment. ast's feature_version
    does not check these."""
    import tokenize

    start, middle, end = (getattr(tokenize, f"FSTRING_{part}", None) for part in ("START", "MIDDLE", "END"))
    if start is None:
        return None
    quotes: list[str] = []  # the open f-strings' quotes, outermost first

    def clashes(quote: str) -> bool:
        return any(quote.startswith(q) if len(q) == 3 else quote[0] == q for q in quotes)

    try:
        for token in tokenize.tokenize(io.BytesIO(source).readline):
            body = token.string.lstrip("rRbBuUfF")
            quote = body[:3] if body[:3] in ('"""', "'''") else body[:1]
            if quotes and token.type in (start, tokenize.STRING) and clashes(quote):
                return token.start[0], "f-string: a nested string reuses the enclosing quote"
            if quotes and (token.type == tokenize.STRING or token.type == middle and len(quotes) > 1) and "\\" in body:
                return token.start[0], "f-string expression part cannot include a backslash"
            if quotes and token.type == tokenize.COMMENT:
                return token.start[0], "f-string expression part cannot include '#'"
            if token.type == start:
                quotes.append(quote)
            elif token.type == end and quotes:
                quotes.pop()
    except (tokenize.TokenError, SyntaxError, ValueError):
        return None
    return None


def target_syntax(parsed: Parsed, source: bytes, filename: str, python: Python) -> SyntaxProblem | None:
    """A syntax error Lambda's Python ``python`` would raise importing this source, or None (valid,
    or lpack cannot tell). See the rule LP205 for what each check catches."""
    host = f"Python {HOST[0]}.{HOST[1]}'s parser"
    if parsed.error is not None:
        exc = parsed.error
        if python <= HOST:
            return SyntaxProblem(exc.lineno, _describe(exc, filename), host)
        answer = ask_interpreter(python, source, filename)
        if answer is not None:
            message, line = answer
            name = f"python{python[0]}.{python[1]}"
            return SyntaxProblem(line, _describe(SyntaxError(message), filename, line), name) if message else None
        if _maybe_newer_syntax(source, exc, python):
            return None
        return SyntaxProblem(exc.lineno, _describe(exc, filename), host)
    if parsed.tree is None or python >= HOST:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ast.parse(source, filename, feature_version=python)
        except SyntaxError as exc:
            return SyntaxProblem(exc.lineno, _describe(exc, filename), f"ast feature_version={python}")
        except (ValueError, RecursionError, MemoryError):
            return None
    if python < (3, 12) <= HOST:
        problem = _pep701_problem(source)
        if problem is not None:
            line, message = problem
            message = f"{message}: Python 3.12 accepts it (PEP 701), earlier versions do not"
            return SyntaxProblem(line, f"{message} ({posixpath.basename(filename)}, line {line})", "PEP 701 rules")
    return None


# -- one function's handler, analysed --------------------------------------------------------------

class ImportProblem(NamedTuple):
    entry: str  # the file with the import statement
    ref: ImportRef
    error: str  # Python's ImportError text
    missing: str  # the module not found ("" when a name is missing from a module that exists)


class Shadowing(NamedTuple):
    entry: str
    ref: ImportRef
    module: str  # the top-level name
    file: str  # the package's file or folder of that name
    ignored: bool  # the runtime already imported the standard library's: the package's is never used


class Via(NamedTuple):
    entry: str  # the importing file
    line: int


class Module(NamedTuple):
    location: Location
    tree: ast.Module


_PARSED: weakref.WeakKeyDictionary[PackageReader, dict[str, Parsed]] = weakref.WeakKeyDictionary()
EXTERNAL = "external"  # resolved outside the package and layers: standard library, runtime, requirements


class HandlerAnalysis:
    """Everything the handler rules report for one function, computed once and on demand."""

    def __init__(self, s: PackageSubject) -> None:
        self.s = s
        self.python: Python = s.target.runtime.python if s.target else RUNTIMES[DEFAULT_RUNTIME].python
        self.handler = split_handler(s.handler) if s.handler else None
        self.path = ImportPath(s.package, s.layers, self.python)
        # Layers lpack cannot see (ARNs it did not build) may hold anything: "not found" stays quiet.
        self.unseen_layers = s.layer_count > len(s.layers) + s.described_layers
        self.modules: dict[str, Module] = {}
        self.via: dict[str, Via] = {}
        self.syntax: dict[str, SyntaxProblem] = {}
        self.problems: list[ImportProblem] = []
        self.shadowing: list[Shadowing] = []
        self._bindings: dict[str, Bindings | None] = {}
        self._analysed = False

    # -- the handler module -----------------------------------------------------------------

    @cached_property
    def stdlib(self) -> frozenset[str]:
        return stdlib.stdlib_modules(self.python)

    @cached_property
    def preloaded(self) -> frozenset[str]:
        """Names that never come from the package: built in, or imported before the handler."""
        return stdlib.PRELOADED | stdlib.builtin_modules(self.python)

    @cached_property
    def location(self) -> Found:
        if self.handler is None or not self.handler.module or not self.handler.function:
            return None
        return self.path.find(self.handler.dotted)

    @cached_property
    def module(self) -> Module | None:
        """The handler module, parsed, if it is source in the package and valid on the target."""
        self.analyse()
        loc = self.location
        return self.modules.get(loc.entry) if isinstance(loc, Location) and loc.entry else None

    def bindings(self, module: Module) -> Bindings:
        return self._module_bindings(module.location.entry) or Bindings({}, True)

    # -- the walk over the handler module and the package modules it imports ----------------

    def analyse(self) -> None:
        if self._analysed or self.s.reader is None:
            return
        self._analysed = True
        loc = self.location
        if not isinstance(loc, Location) or not loc.in_package or loc.kind != "source":
            return
        queue: collections.deque[tuple[Location, Via | None]] = collections.deque()
        seen: set[str] = set()
        for item in self.path.chain(loc.name):
            if item.kind == "source" and (item.entry == loc.entry or not self.is_library(item)):
                queue.append((item, None))
                seen.add(item.entry)
        while queue and len(self.modules) < MAX_MODULES:
            location, via = queue.popleft()
            module = self._load(location, main=location.entry == loc.entry)
            if via is not None:
                self.via[location.entry] = via
            if module is None:
                continue
            for ref in imports(module.tree, self.python):
                for target in self._check(module, ref):
                    if target.entry not in seen and not self.is_library(target):
                        seen.add(target.entry)
                        queue.append((target, Via(location.entry, ref.line)))

    @cached_property
    def libraries(self) -> tuple[Distribution, ...]:
        """The distributions installed in the package, except one that holds the handler's
        top-level module: that is the function's own project, installed from its wheel."""
        if self.s.reader is None:
            return ()
        found = distributions(self.s.package, self.s.reader)
        loc = self.location
        if isinstance(loc, Location) and loc.in_package:
            top = self.path.find(loc.name.partition(".")[0])
            if isinstance(top, Location):
                found = tuple(d for d in found if not d.holds(top.name, top.entry) and not d.holds(loc.name, loc.entry))
        return found

    def is_library(self, location: Location) -> bool:
        """Whether a module of the package belongs to an installed distribution, not the function's own code."""
        return location.in_package and any(d.holds(location.name, location.entry) for d in self.libraries)

    @cached_property
    def sizes(self) -> dict[str, int]:
        return {e.name: e.size for e in self.s.package.entries}

    def _parsed(self, entry: str) -> tuple[Parsed, bytes] | None:
        reader = self.s.reader
        if reader is None:
            return None
        try:
            source = reader.read(entry)
        except LpackError:
            return None  # a corrupt entry: the contents rules report it
        cache = _PARSED.setdefault(reader, {})
        if entry not in cache:
            cache[entry] = parse_host(source, entry)
        return cache[entry], source

    def _load(self, location: Location, *, main: bool) -> Module | None:
        if not main and self.sizes.get(location.entry, 0) > MAX_MODULE_BYTES:
            return None
        parsed = self._parsed(location.entry)
        if parsed is None:
            return None
        result, source = parsed
        problem = target_syntax(result, source, location.entry, self.python)
        if problem is not None:
            self.syntax[location.entry] = problem
            return None
        if result.tree is None:
            return None
        module = Module(location, result.tree)
        self.modules[location.entry] = module
        return module

    def _module_bindings(self, entry: str) -> Bindings | None:
        if entry not in self._bindings:
            parsed = self._parsed(entry)
            tree = parsed[0].tree if parsed else None
            self._bindings[entry] = bindings(tree, self.python, parsed[1]) if parsed and tree else None
        return self._bindings[entry]

    # -- one import statement ----------------------------------------------------------------

    def _check(self, module: Module, ref: ImportRef) -> list[Location]:
        """Record what fails in ``ref``; return the package modules it executes (to follow)."""
        importer = module.location
        if ref.level:
            target = self._relative(importer, ref)
            if target is None:
                return []
        else:
            target = ref.module
            self._note_shadowing(importer, ref, target)
        found = self._resolve(target)
        if found == EXTERNAL or found is None:
            return []
        if isinstance(found, Missing):
            self.problems.append(ImportProblem(importer.entry, ref, found.message, found.name))
            return []
        assert isinstance(found, Location)
        executed = [loc for loc in self.path.chain(target) if loc.in_package and loc.kind == "source"]
        for name in ref.names:
            executed.extend(self._check_name(importer, ref, found, name))
        return executed if ref.function is None else []

    def _relative(self, importer: Location, ref: ImportRef) -> str | None:
        package = importer.name if importer.is_package else importer.name.rpartition(".")[0]
        if not package:
            message = "attempted relative import with no known parent package"
        elif ref.level - 1 >= len(package.split(".")):
            message = "attempted relative import beyond top-level package"
        else:
            base = ".".join(package.split(".")[: len(package.split(".")) - (ref.level - 1)])
            return f"{base}.{ref.module}" if ref.module else base
        self.problems.append(ImportProblem(importer.entry, ref, message, ""))
        return None

    def _elsewhere(self, top: str) -> bool:
        """Whether ``top`` may come from outside the package and the layers lpack sees."""
        return (top in self.stdlib or top in RUNTIME_PROVIDED or top in RUNTIME_MAYBE or top in self.s.provided
                or top == "__main__" or self.unseen_layers)

    def _resolve(self, dotted: str) -> Found | str:
        top = dotted.partition(".")[0]
        if top in self.preloaded:
            return EXTERNAL
        found = self.path.find(dotted)
        if isinstance(found, Missing) and (found.name == top or found.in_namespace) and self._elsewhere(top):
            return EXTERNAL
        if isinstance(found, Missing) and top == "distutils" and self._has_setuptools():
            return EXTERNAL
        if isinstance(found, Missing) and self._created_at_run_time(found.name):
            return None
        return found

    def _created_at_run_time(self, dotted: str) -> bool:
        """Whether the missing module ``dotted`` may be one its parent creates when it runs."""
        parent, _, name = dotted.rpartition(".")
        if not parent:
            return False
        if RUNTIME_SUBMODULES.get(parent.rpartition(".")[2]) == name:
            return True
        found = self.path.find(parent)
        if not isinstance(found, Location) or not found.in_package or found.kind != "source":
            return False
        parsed = self._parsed(found.entry)
        return parsed is not None and parsed[0].tree is not None and registers_modules(parsed[0].tree, parsed[1])

    def _has_setuptools(self) -> bool:
        return "setuptools" in self.s.provided or isinstance(self.path.find("setuptools"), Location)

    def _check_name(self, importer: Location, ref: ImportRef, found: Location, name: str) -> list[Location]:
        """``from found import name``: a name bound in the module, or a submodule."""
        if name == "*" or name in MODULE_ATTRIBUTES or name == "__path__" and found.is_package:
            return []
        if found.is_package:
            sub = self.path.find(f"{found.name}.{name}")
            if isinstance(sub, Location):
                return [sub] if sub.in_package and sub.kind == "source" else []
            if sub is None:
                return []
        if found.kind == "namespace":
            where = "unknown location"
        elif found.in_package and found.kind == "source" and not self.is_library(found):
            known = self._module_bindings(found.entry)
            if known is None or known.dynamic or name in known.names:
                return []
            where = f"/var/task/{found.entry}"
        else:
            return []
        if found.kind == "namespace" and self._elsewhere(found.name.partition(".")[0]):
            return []  # other portions of the namespace may be elsewhere
        message = f"cannot import name '{name}' from '{found.name}' ({where})"
        self.problems.append(ImportProblem(importer.entry, ref, message, ""))
        return []

    def _note_shadowing(self, importer: Location, ref: ImportRef, dotted: str) -> None:
        """``import queue`` with a queue.py in the package: it hides the standard library's."""
        top = dotted.partition(".")[0]
        if top not in self.stdlib:
            return
        own = self.path.find(top)  # a namespace folder does not shadow: a regular package anywhere wins
        if isinstance(own, Location) and own.in_package and own.kind != "namespace" and not self.is_library(own):
            file = own.entry.removesuffix("/__init__.py") + ("/" if own.is_package else "")
            self.shadowing.append(Shadowing(importer.entry, ref, top, file, top in self.preloaded))


_ANALYSES: _IdCache[int, HandlerAnalysis] = _IdCache()


def analysis(s: PackageSubject) -> HandlerAnalysis:
    """The analysis of ``s``, shared by every handler rule that runs on it."""
    return _ANALYSES.get(id(s), s, lambda: HandlerAnalysis(s))
