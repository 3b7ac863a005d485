"""lpack: build AWS Lambda Python deployment packages that are right the first time."""

from __future__ import annotations

__version__ = "0.1.0"
