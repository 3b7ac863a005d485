"""The date lpack decides runtime lifecycles on (LP401 deprecated, LP402 blocked).

The one place lpack reads the real date for those decisions, so tests pin it in one place
(``tests/conftest.py``) instead of depending on the day they run.
"""

from __future__ import annotations

from lpack.core.dates import dt


def today() -> dt.date:
    """Today's local date. Callers look it up as ``clock.today()`` so a test can replace it."""
    return dt.date.today()
