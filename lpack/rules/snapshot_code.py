"""Handler code under SnapStart (LP230-LP239): what module-level code captures in the snapshot that every
restored environment then shares, and whether its runtime hooks are reachable."""

from __future__ import annotations
