"""``datetime``'s classes (``dt.date``, ``dt.timedelta`` ...) without importing ``datetime``.

The ``datetime`` module is a pure-Python copy of the whole library that, at the end, replaces its
classes with those of the C module ``_datetime``: importing it unmarshals and runs ~100 kB of
bytecode (~1.3 ms of every check) for classes that are then thrown away. ``_datetime``'s are the
same objects (``datetime.date is _datetime.date``).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import datetime as dt
else:
    try:
        import _datetime as dt
    except ImportError:  # pragma: no cover - an interpreter without the C module
        import datetime as dt

__all__ = ["dt"]
