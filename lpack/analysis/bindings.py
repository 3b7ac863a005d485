"""What a module binds when it runs: its module-level names (for ``from m import name``), whether
names may appear at run time, and whether it adds modules to the import system."""

from __future__ import annotations

import ast
from collections.abc import Iterator, Sequence
from typing import NamedTuple

from lpack.analysis._nodes import TRY_STAR, dotted_name
from lpack.analysis.versions import Python, truth
from lpack.core.patterns import lazy


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
_ANYWHERE = lazy(rb"\bglobal\b|:=|\b(?:globals|vars|locals|exec)\s*\(|\bmodules\b")


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
            elif isinstance(node, (ast.Try, *TRY_STAR)):
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
    everything = ast.walk(tree) if source is None or _ANYWHERE().search(source) else iter(())
    for node in everything:
        if isinstance(node, ast.Global):
            for name in node.names:
                names.setdefault(name, []).append(node)
        elif isinstance(node, ast.NamedExpr):
            for name in _target_names(node.target):
                names.setdefault(name, []).append(node)
        elif (isinstance(node, ast.Call) and dotted_name(node.func) in _DYNAMIC_CALLS
              or isinstance(node, ast.Attribute) and dotted_name(node) == "sys.modules"):
            dynamic = True
    return Bindings(names, dynamic)


_REGISTERS = lazy(rb"\bmodules\b|\bmeta_path\b|\bpath_hooks\b")
_SYS_MODULES = lazy(r"\w*sys\.modules")  # sys.modules, or _sys.modules after ``import sys as _sys``


def registers_modules(tree: ast.Module, source: bytes | None = None) -> bool:
    """Whether a module adds modules to the import system when it runs, so that importing its
    submodules may work with no file behind them: it assigns into ``sys.modules``
    (``sys.modules[name] = m``, ``.update``, ``.setdefault``) or installs a finder
    (``sys.meta_path``, ``sys.path_hooks``). ``source``, when given, lets the walk be skipped."""
    if source is not None and not _REGISTERS().search(source):
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in ("meta_path", "path_hooks"):
            return True
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Subscript) and _SYS_MODULES().fullmatch(dotted_name(t.value)) for t in targets):
                return True
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("update", "setdefault", "__setitem__")
                and _SYS_MODULES().fullmatch(dotted_name(node.func.value))):
            return True
    return False
