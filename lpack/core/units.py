"""Sizes as Lambda writes them: MB means 1,048,576 bytes (the quotas page's convention)."""

from __future__ import annotations


def human_bytes(size: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} B"


def exact_bytes(size: int) -> str:
    return f"{size:,} bytes"
