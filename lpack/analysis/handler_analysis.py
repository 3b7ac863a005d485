"""Handler source analysis with ``ast``: what Lambda's Python runtime does when it loads a handler,
worked out without importing (or running) any of the function's code.

awslambdaric's ``bootstrap.py`` splits the handler on its last dot, imports the module (``/`` read as
``.``) from ``sys.path`` = the package (``/var/task``), the layers' ``python/lib/python3.X/site-packages``
and ``python/`` (``/opt``), then the runtime's own packages and the standard library, and looks the
function up on the module. This module walks that search (``import_paths``) from the handler module
through the package's own modules it imports (never a whole package), and reports what would fail, in
Python's own words. Where the code is too dynamic to tell, it says nothing.
"""

from __future__ import annotations

import ast
import collections
import weakref
from functools import cached_property
from typing import NamedTuple

from lpack.analysis._idcache import IdCache
from lpack.analysis.bindings import Bindings, bindings, registers_modules
from lpack.analysis.distributions import Distribution, distributions
from lpack.analysis.handler_name import split_handler
from lpack.analysis.import_paths import (
    RUNTIME_PROVIDED,
    RUNTIME_SUBMODULES,
    Found,
    ImportPath,
    Missing,
    ModuleLocation,
    runtime_site_packages,
)
from lpack.analysis.imports import ImportRef, imports
from lpack.analysis.package import PackageReader
from lpack.analysis.subjects import PackageSubject
from lpack.analysis.syntax import Parsed, SyntaxProblem, parse_host, target_syntax
from lpack.analysis.versions import Python
from lpack.core import stdlib
from lpack.core.errors import LpackError
from lpack.core.targets import DEFAULT_RUNTIME, RUNTIMES

# Attributes every module has, so ``from m import __doc__`` never fails: set by the import system
# (importlib's ``_init_module_attrs``; ``__builtins__`` by exec) or inherited from types.ModuleType.
# ``__path__`` only a package has.
MODULE_ATTRIBUTES = frozenset({
    "__name__", "__doc__", "__package__", "__loader__", "__spec__", "__file__", "__cached__",
    "__builtins__", "__dict__", "__class__", "__annotations__",
})

# Own modules are analysed up to these limits (a package whose third-party code carries no
# .dist-info can otherwise look like all own code). A larger module, the handler's too, is not read
# nor parsed: parsing takes about 4 s and 400 MB a MiB of dense code (a generated 1 GiB module
# would take hours); it is listed in ``HandlerAnalysis.unread`` and its rules stay quiet.
MAX_MODULES = 200
MAX_MODULE_BYTES = 1_048_576


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
    location: ModuleLocation
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
        self.unread: dict[str, int] = {}  # modules over MAX_MODULE_BYTES, not parsed: entry -> bytes

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
        return self.modules.get(loc.entry) if isinstance(loc, ModuleLocation) and loc.entry else None

    def bindings(self, module: Module) -> Bindings:
        return self._module_bindings(module.location.entry) or Bindings({}, True)

    # -- the walk over the handler module and the package modules it imports ----------------

    def analyse(self) -> None:
        if self._analysed or self.s.reader is None:
            return
        self._analysed = True
        loc = self.location
        if not isinstance(loc, ModuleLocation) or not loc.in_package or loc.kind != "source":
            return
        queue: collections.deque[tuple[ModuleLocation, Via | None]] = collections.deque()
        seen: set[str] = set()
        for item in self.path.chain(loc.name):
            if item.kind == "source" and (item.entry == loc.entry or not self.is_library(item)):
                queue.append((item, None))
                seen.add(item.entry)
        while queue and len(self.modules) < MAX_MODULES:
            location, via = queue.popleft()
            module = self._load(location)
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
        if isinstance(loc, ModuleLocation) and loc.in_package:
            top = self.path.find(loc.name.partition(".")[0])
            if isinstance(top, ModuleLocation):
                found = tuple(d for d in found if not d.holds(top.name, top.entry) and not d.holds(loc.name, loc.entry))
        return found

    def is_library(self, location: ModuleLocation) -> bool:
        """Whether a module of the package belongs to an installed distribution, not the function's own code."""
        return location.in_package and any(d.holds(location.name, location.entry) for d in self.libraries)

    def _parsed(self, entry: str) -> tuple[Parsed, bytes] | None:
        reader = self.s.reader
        if reader is None:
            return None
        if (size := reader.size(entry)) > MAX_MODULE_BYTES:
            self.unread[entry] = size
            return None
        try:
            source = reader.read(entry)
        except LpackError:
            return None  # a corrupt entry: the contents rules report it
        cache = _PARSED.setdefault(reader, {})
        if entry not in cache:
            cache[entry] = parse_host(source, entry)
        return cache[entry], source

    def _load(self, location: ModuleLocation) -> Module | None:
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

    def _check(self, module: Module, ref: ImportRef) -> list[ModuleLocation]:
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
        assert isinstance(found, ModuleLocation)
        executed = [loc for loc in self.path.chain(target) if loc.in_package and loc.kind == "source"]
        for name in ref.names:
            executed.extend(self._check_name(importer, ref, found, name))
        return executed if ref.function is None else []

    def _relative(self, importer: ModuleLocation, ref: ImportRef) -> str | None:
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
        return (top in self.stdlib or top in RUNTIME_PROVIDED or top in runtime_site_packages(self.python)
                or top in self.s.provided or top == "__main__" or self.unseen_layers)

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
        if not isinstance(found, ModuleLocation) or not found.in_package or found.kind != "source":
            return False
        parsed = self._parsed(found.entry)
        return parsed is not None and parsed[0].tree is not None and registers_modules(parsed[0].tree, parsed[1])

    def _has_setuptools(self) -> bool:
        return "setuptools" in self.s.provided or isinstance(self.path.find("setuptools"), ModuleLocation)

    def _check_name(self, importer: ModuleLocation, ref: ImportRef, found: ModuleLocation, name: str) -> list[ModuleLocation]:
        """``from found import name``: a name bound in the module, or a submodule."""
        if name == "*" or name in MODULE_ATTRIBUTES or name == "__path__" and found.is_package:
            return []
        if found.is_package:
            sub = self.path.find(f"{found.name}.{name}")
            if isinstance(sub, ModuleLocation):
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

    def _note_shadowing(self, importer: ModuleLocation, ref: ImportRef, dotted: str) -> None:
        """``import queue`` with a queue.py in the package: it hides the standard library's."""
        top = dotted.partition(".")[0]
        if top not in self.stdlib:
            return
        own = self.path.find(top)  # a namespace folder does not shadow: a regular package anywhere wins
        if isinstance(own, ModuleLocation) and own.in_package and own.kind != "namespace" and not self.is_library(own):
            file = own.entry.removesuffix("/__init__.py") + ("/" if own.is_package else "")
            self.shadowing.append(Shadowing(importer.entry, ref, top, file, top in self.preloaded))


_ANALYSES: IdCache[int, HandlerAnalysis] = IdCache()


def analysis(s: PackageSubject) -> HandlerAnalysis:
    """The analysis of ``s``, shared by every handler rule that runs on it."""
    return _ANALYSES.get(id(s), s, lambda: HandlerAnalysis(s))
