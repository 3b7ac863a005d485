"""A PackageReader that records what the rules ask to read, to test that they read little."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from lpack.analysis.package import PackageIndex, PackageReader

T = TypeVar("T")


class RecordingReader(PackageReader):
    """Records every entry asked for, through read() or map(), once per request."""

    def __init__(self, index: PackageIndex) -> None:
        super().__init__(index)
        self.reads: list[str] = []
        self._recording = True

    def read(self, name: str, limit: int | None = None) -> bytes:
        if self._recording:
            self.reads.append(name)
        return super().read(name, limit)

    def map(self, func: Callable[[bytes], T], names: Sequence[str]) -> list[T]:
        self.reads.extend(names)
        self._recording = False
        try:
            return super().map(func, names)
        finally:
            self._recording = True
