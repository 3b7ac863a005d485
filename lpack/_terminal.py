"""The terminal's width as argparse wraps to it, without importing shutil (which loads the bz2
and lzma modules): the `lpack` command's start-up (``lpack --version``, the pre-commit hook)."""

from __future__ import annotations

import os
import sys


def columns() -> int:
    """``shutil.get_terminal_size().columns``: $COLUMNS when a positive number, else the width of
    the terminal on stdout, else 80."""
    try:
        found = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        found = 0
    if found <= 0:
        try:
            found = os.get_terminal_size(sys.__stdout__.fileno()).columns or 80  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            found = 80
    return found
