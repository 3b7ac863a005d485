"""Colour for plain text lines without loading rich: `--color auto|always|never`, NO_COLOR and
FORCE_COLOR (https://no-color.org, https://force-color.org), and the severity as a word always."""

from __future__ import annotations

import os
from typing import TextIO

_SGR = {"bold red": "1;31", "yellow": "33", "cyan": "36", "bold": "1", "dim": "2"}


def wants_color(out: TextIO, choice: str = "auto") -> bool:
    """``always``/``never`` win; else NO_COLOR turns colour off, FORCE_COLOR on, else a terminal."""
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return out.isatty() and os.environ.get("TERM") != "dumb"


def paint(text: str, style: str, on: bool) -> str:
    return f"\x1b[{_SGR[style]}m{text}\x1b[0m" if on and text else text
