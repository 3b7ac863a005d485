"""What a SnapStart snapshot freezes: the calls a module makes when Lambda imports it (its init code)
whose results every environment resumed from the snapshot then shares, and the runtime hooks of
``snapshot_restore_py`` it registers, and when.

Init code is what runs at import: module-level statements, class bodies, decorators and default
values; not function bodies, lambdas or an ``if __name__ == "__main__":`` block. Names are resolved
through the module's imports (``from uuid import uuid4 as new_id`` makes ``new_id()`` ``uuid.uuid4``);
a name lpack cannot resolve is never a finding.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from lpack.analysis._idcache import IdCache
from lpack.analysis._nodes import dotted_name
from lpack.analysis.handler_analysis import HandlerAnalysis, Module
from lpack.core.facts import snapstart as facts

HOOKS = frozenset({f"{facts.HOOK_MODULE}.{facts.AFTER_RESTORE}", f"{facts.HOOK_MODULE}.{facts.BEFORE_SNAPSHOT}"})


class Capture(NamedTuple):
    kind: str  # "unique", "time", "connection" or "credentials"
    entry: str  # the package file
    line: int
    call: str  # as resolved: uuid.uuid4, or the method name for credentials
    what: str  # what it makes, for the message


class LateHook(NamedTuple):
    entry: str
    line: int
    hook: str  # register_after_restore or register_before_snapshot


class Snapshot(NamedTuple):
    captures: tuple[Capture, ...]
    restores: bool  # an after-restore hook is registered at init, in a module the handler imports
    late_hooks: tuple[LateHook, ...]  # hooks registered inside the handler function


def _aliases(tree: ast.Module) -> dict[str, str]:
    """Local name -> the module or object it stands for, from every import in the module."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                local = alias.asname or alias.name.split(".")[0]
                names[local] = alias.name if alias.asname else local
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def _resolve(node: ast.expr, aliases: dict[str, str]) -> str:
    """``dt.datetime.now`` -> ``datetime.datetime.now`` when ``import datetime as dt``; "" when unknown."""
    dotted = dotted_name(node)
    head, dot, rest = dotted.partition(".")
    return f"{aliases[head]}{dot}{rest}" if head in aliases else ""


def _is_main_guard(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)
            and {dotted_name(test.left), *(ast.literal_eval(c) if isinstance(c, ast.Constant) else dotted_name(c)
                                           for c in test.comparators)} == {"__name__", "__main__"})


def _init_parts(body: Iterable[ast.stmt]) -> Iterator[tuple[ast.stmt, ast.AST, bool]]:
    """(the init statement, a node of it that runs at import, whether it is a decorator)."""
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield from ((node, d, True) for d in node.decorator_list)
            yield from ((node, d, False) for d in [*node.args.defaults, *node.args.kw_defaults] if d is not None)
        elif isinstance(node, ast.ClassDef):
            yield from ((node, d, True) for d in node.decorator_list)
            yield from ((node, b, False) for b in [*node.bases, *node.keywords])
            yield from _init_parts(node.body)
        elif isinstance(node, ast.If) and _is_main_guard(node):
            yield from _init_parts(node.orelse)
        elif hasattr(node, "body") and isinstance(node.body, list):
            yield from ((node, child, False) for child in _headers(node))
            for field in ("body", "orelse", "finalbody"):
                yield from _init_parts(getattr(node, field, []))
            for handler in getattr(node, "handlers", []):
                yield from _init_parts(handler.body)
            for case in getattr(node, "cases", []):
                yield from _init_parts(case.body)
        else:
            yield node, node, False


def _headers(node: ast.stmt) -> list[ast.AST]:
    """The expressions of a compound statement outside its bodies (``if`` test, ``with`` items ...)."""
    skip = {"body", "orelse", "finalbody", "handlers", "cases"}
    return [value for name, value in ast.iter_fields(node) if name not in skip and isinstance(value, ast.AST)] + [
        item for name, value in ast.iter_fields(node) if name not in skip and isinstance(value, list)
        for item in value if isinstance(item, ast.AST)]


def _calls(node: ast.AST) -> Iterator[ast.Call]:
    """The calls in ``node`` that run when it runs: not inside a lambda or a nested definition."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, ast.Call):
            yield current
        stack.extend(child for child in ast.iter_child_nodes(current)
                     if not isinstance(child, (ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)))


def _captures(module: Module, aliases: dict[str, str]) -> Iterator[Capture]:
    entry = module.location.entry
    for statement, part, decorator in _init_parts(module.tree.body):
        if decorator:
            continue
        kept = isinstance(statement, (ast.Assign, ast.AnnAssign, ast.AugAssign))
        for call in _calls(part):
            name = _resolve(call.func, aliases)
            if name in facts.UNIQUE_CALLS:
                yield Capture("unique", entry, call.lineno, name, facts.UNIQUE_CALLS[name])
            elif name in facts.TIME_CALLS and kept:
                yield Capture("time", entry, call.lineno, name, "the time")
            elif name in facts.CONNECTION_CALLS:
                yield Capture("connection", entry, call.lineno, name, "a network connection")
            elif isinstance(call.func, ast.Attribute) and call.func.attr in facts.CREDENTIAL_METHODS:
                yield Capture("credentials", entry, call.lineno, call.func.attr, "temporary credentials")


def _registers_restore(module: Module, aliases: dict[str, str]) -> bool:
    after = f"{facts.HOOK_MODULE}.{facts.AFTER_RESTORE}"
    for _statement, part, decorator in _init_parts(module.tree.body):
        target = part.func if isinstance(part, ast.Call) else part
        if decorator and isinstance(target, ast.expr) and _resolve(target, aliases) == after:
            return True
        if any(_resolve(call.func, aliases) == after for call in _calls(part)):
            return True
    return False


def _late_hooks(module: Module, function: str, aliases: dict[str, str]) -> Iterator[LateHook]:
    """Hooks registered inside the handler function: they run at each invoke, after the snapshot."""
    for node in module.tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == function:
            for inner in ast.walk(node):
                for target in _hook_targets(inner, node):
                    name = _resolve(target, aliases)
                    if name in HOOKS:
                        yield LateHook(module.location.entry, target.lineno, name.rpartition(".")[2])


def _hook_targets(inner: ast.AST, function: ast.AST) -> list[ast.expr]:
    """What ``inner`` calls or decorates with (a nested definition's decorators), the handler's own excepted."""
    if isinstance(inner, ast.Call):
        return [inner.func]
    if isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef)) and inner is not function:
        return [d.func if isinstance(d, ast.Call) else d for d in inner.decorator_list]
    return []


def _scan(a: HandlerAnalysis) -> Snapshot:
    handler = a.module
    if handler is None or a.handler is None:
        return Snapshot((), False, ())
    captures: list[Capture] = []
    restores = False
    for module in a.modules.values():
        aliases = _aliases(module.tree)
        captures.extend(_captures(module, aliases))
        restores = restores or _registers_restore(module, aliases)
    late = tuple(dict.fromkeys(_late_hooks(handler, a.handler.function, _aliases(handler.tree))))
    return Snapshot(tuple(captures), restores, late)


_SNAPSHOTS: IdCache[int, Snapshot] = IdCache()


def snapshot(a: HandlerAnalysis) -> Snapshot:
    """What the handler module and the package modules it imports leave in a snapshot."""
    return _SNAPSHOTS.get(id(a), a, lambda: _scan(a))
