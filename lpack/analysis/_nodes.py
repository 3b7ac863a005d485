"""Helpers over ``ast`` nodes that the source readers (versions, imports, bindings) share."""

from __future__ import annotations

import ast


def dotted_name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = dotted_name(node.value)
        return f"{inner}.{node.attr}" if inner else ""
    return ""


TRY_STAR: tuple[type[ast.stmt], ...] = tuple(t for t in (getattr(ast, "TryStar", None),) if t is not None)
