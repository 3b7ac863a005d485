"""Rules: handler (see lpack/rules/__init__.py for the families)."""

from __future__ import annotations
