"""Regular expressions compiled when first used, not when their module is imported.

A check imports the patterns of ~40 modules and, on a small function, uses about a dozen: the
secret detectors, the ELF and wheel-tag patterns, the f-string rules are compiled only for files
that reach them. Compiling the others on every run cost ~3 ms of the pre-commit hook's start-up.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import AnyStr


def lazy(pattern: AnyStr, flags: int = 0) -> Callable[[], re.Pattern[AnyStr]]:
    """``re.compile(pattern, flags)``, done the first time the result is called; the same
    compiled pattern every time after."""
    return cache(lambda: re.compile(pattern, flags))
