"""The function's ``sys.path`` over the package's and layers' indexes, and where ``import x`` finds
a module on it, as importlib's path finder would: the package (``/var/task``), the layers'
``python/lib/python3.X/site-packages`` and ``python/`` (``/opt``), then the runtime's own packages and
the standard library (``RUNTIME_PROVIDED``; the standard library is ``lpack.core.stdlib``'s)."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import NamedTuple

from lpack.analysis._idcache import IdCache
from lpack.analysis.package import PackageIndex
from lpack.analysis.versions import Python

# Importable in every managed Python runtime without being packaged: the SDK and its dependencies
# and awslambdaric (LAMBDA-FACTS.md section 5, Lambda Python runtime page); simplejson, which
# awslambdaric's marshaller imports before the handler; snapshot_restore_py, "included in Python
# managed runtimes" (Lambda SnapStart runtime hooks for Python page).
RUNTIME_PROVIDED = frozenset({
    "boto3", "botocore", "s3transfer", "jmespath", "urllib3", "dateutil", "six",
    "awslambdaric", "simplejson", "snapshot_restore_py",
})


def runtime_site_packages(python: Python) -> frozenset[str]:
    """What the runtime of ``python`` has in its own site-packages besides the SDK: pip, and setuptools
    (pkg_resources) up to python3.11 (lpack.core.facts.runtime_packages, with the sources)."""
    from lpack.core.facts.runtime_packages import site_packages

    return site_packages(python)


# Submodules no file holds: their parent module creates them when it is imported. Keyed by the
# parent's last name, so vendored copies count (urllib3.packages.six, botocore.vendored.six).
# six.py: ``_SixMetaPathImporter`` serves ``six.moves`` and every ``six.moves.*`` from
# ``sys.meta_path``. A parent whose source lpack can read is judged by registers_modules() instead.
RUNTIME_SUBMODULES = {"six": "moves"}


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


_TREES: IdCache[tuple[int, str], _Tree] = IdCache()


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


class ModuleLocation(NamedTuple):
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


Found = ModuleLocation | Missing | None  # None: cannot tell (a compiled parent)


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
        parent: ModuleLocation | None = None
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

    def _find_in(self, name: str, part: str, search: Sequence[_Portion]) -> ModuleLocation | None:
        namespace: list[_Portion] = []
        for portion in search:
            base = portion.folder + part
            for stem, package in ((base + "/__init__", True), (base, False)):
                hit = self._file(portion, stem)
                if hit is not None:
                    kind, entry = hit
                    inner = (portion._replace(folder=base + "/"),) if package else ()
                    return ModuleLocation(name, kind, entry if portion.root == 0 else "", portion.root, inner)
            if any(tree.has_dir(base) for tree in portion.trees):
                namespace.append(portion._replace(folder=base + "/"))
        if namespace:
            return ModuleLocation(name, "namespace", "", namespace[0].root, tuple(namespace))
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

    def chain(self, dotted: str) -> list[ModuleLocation]:
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


def _take_locations(found: Iterable[Found]) -> Iterator[ModuleLocation]:
    for item in found:
        if not isinstance(item, ModuleLocation):
            return
        yield item
