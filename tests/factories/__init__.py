"""Hermetic builders of real ELF objects, wheels and sdists for the test suite."""

from __future__ import annotations

from .elf import elf_hash, make_elf
from .wheels import expand_tags, make_native_wheel, make_sdist, make_wheel, normalize

__all__ = [
    "elf_hash",
    "expand_tags",
    "make_elf",
    "make_native_wheel",
    "make_sdist",
    "make_wheel",
    "normalize",
]
