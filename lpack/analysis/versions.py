"""Conditions Lambda's interpreter decides: the value of an ``if`` test on a target Python
(constants, ``TYPE_CHECKING``, ``__name__ == "__main__"``, ``sys.version_info`` comparisons)."""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable

from lpack.analysis._nodes import dotted_name

Python = tuple[int, int]


def _version_value(node: ast.expr, python: Python) -> tuple[tuple[int, ...], bool] | None:
    """``sys.version_info`` and parts of it: (known value, exact?). ``sys.version_info`` itself is
    known only up to the minor version, so it is not exact."""
    if dotted_name(node) in ("sys.version_info", "version_info"):
        return python, False
    if isinstance(node, ast.Attribute) and dotted_name(node.value) in ("sys.version_info", "version_info"):
        return {"major": ((python[0],), True), "minor": ((python[1],), True)}.get(node.attr)
    if isinstance(node, ast.Subscript) and dotted_name(node.value) in ("sys.version_info", "version_info"):
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
    if dotted_name(test).rpartition(".")[2] == "TYPE_CHECKING":
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
        sides = {dotted_name(test.left), dotted_name(test.comparators[0])}
        constants = {c.value for c in (test.left, test.comparators[0]) if isinstance(c, ast.Constant)}
        if "__name__" in sides and constants == {"__main__"} and isinstance(test.ops[0], (ast.Eq, ast.NotEq)):
            return isinstance(test.ops[0], ast.NotEq)
        return _version_compare(test, python)
    return None
