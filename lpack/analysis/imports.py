"""What a module imports: the import statements that run when Lambda imports it (or when one of
its functions runs), leaving out the ones the target may skip or whose failure the code handles."""

from __future__ import annotations

import ast
from collections.abc import Sequence
from typing import NamedTuple

from lpack.analysis._nodes import TRY_STAR, dotted_name
from lpack.analysis.versions import Python, truth


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
        names = {dotted_name(k).rpartition(".")[2] for k in kinds if k is not None}
        reraises = any(isinstance(s, ast.Raise) for s in handler.body)
        if (handler.type is None or names & _IMPORT_ERRORS) and not reraises:
            return True
    return False


def _suppresses_import_error(items: Sequence[ast.withitem]) -> bool:
    for item in items:
        call = item.context_expr
        if (isinstance(call, ast.Call) and dotted_name(call.func).rpartition(".")[2] == "suppress"
                and any(dotted_name(a).rpartition(".")[2] in _IMPORT_ERRORS for a in call.args)):
            return True
    return False


def _branches(node: ast.stmt, python: Python) -> list[list[ast.stmt]] | None:
    """The statement lists inside a compound statement that run unconditionally when it runs
    (None: not a compound statement). An import Lambda may skip (an undecidable ``if``, a ``try``
    that catches ImportError, a ``match`` case, an ``except`` body) is never a finding."""
    if isinstance(node, ast.If):
        value = truth(node.test, python)
        return [] if value is None else [node.body if value else node.orelse]
    if isinstance(node, (ast.Try, *TRY_STAR)):
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
