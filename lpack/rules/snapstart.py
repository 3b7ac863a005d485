"""SnapStart settings (LP340-LP344): the combinations Lambda refuses or ignores."""

from __future__ import annotations
