"""A stand-in for ``snapshot_restore_py``, the SnapStart runtime-hooks library the Python managed
runtimes include (https://github.com/aws/snapshot-restore-py, "Runtime Hooks for AWS Lambda
SnapStart - Python", 1.0.0).

The same interface and the same records: each registration appends ``(func, args, kwargs)``;
the runtime runs the before-snapshot hooks in the reverse order of registration (popping them)
and the after-restore hooks in the order of registration.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["register_after_restore", "register_before_snapshot"]

_before_snapshot_registry: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = []
_after_restore_registry: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = []


def register_before_snapshot(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[..., Any]:
    """Run ``func(*args, **kwargs)`` before Lambda takes the snapshot; usable as a decorator."""
    _before_snapshot_registry.append((func, args, kwargs))
    return func


def register_after_restore(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[..., Any]:
    """Run ``func(*args, **kwargs)`` after Lambda restores the snapshot; usable as a decorator."""
    _after_restore_registry.append((func, args, kwargs))
    return func


def get_before_snapshot() -> list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]]:
    return _before_snapshot_registry


def get_after_restore() -> list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]]:
    return _after_restore_registry
