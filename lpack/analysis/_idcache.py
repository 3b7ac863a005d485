"""A small cache keyed by object identity, shared by the handler analysis's caches."""

from __future__ import annotations

import collections
from collections.abc import Callable
from typing import Generic, TypeVar

_K = TypeVar("_K")
_V = TypeVar("_V")


class IdCache(Generic[_K, _V]):
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
