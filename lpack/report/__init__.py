"""Renderings of results. Reporters never compute findings; the core never imports these."""

from __future__ import annotations

from lpack.report.suppress import filter_findings

__all__ = ["filter_findings"]
