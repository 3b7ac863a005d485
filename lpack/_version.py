"""What ``lpack --version`` prints: lpack's version and the date of its offline IAM action data.

Standard library only (json, read lazily), so that ``lpack._entry`` answers ``lpack --version``
without importing the command line, and ``lpack.cli`` prints the same line for ``--version``
given with other arguments.
"""

from __future__ import annotations

import os

from lpack import __version__


def describe() -> str:
    """lpack's version and the date of its IAM action data (its meta.json, not the data itself)."""
    import json

    meta_path = os.path.join(os.path.dirname(__file__), "iam", "data", "meta.json")
    try:
        with open(meta_path, encoding="utf-8") as handle:
            meta = json.load(handle)
        data = f"IAM action data {meta['generated']} from {meta['source']}"
    except (OSError, ValueError, KeyError, TypeError):
        data = "IAM action data missing"
    return f"lpack {__version__} ({data})"
