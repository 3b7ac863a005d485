"""The handler function's signature: whether Lambda's call ``handler(event, context)`` binds, and
whether the function is a generator."""

from __future__ import annotations

import ast
from collections.abc import Sequence


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
