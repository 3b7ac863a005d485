"""tomllib on Python 3.11+, tomli before; imported the first time one of its names is used, as a
check whose configuration lpack.inputs.simple_toml reads never needs it (~2 ms to import)."""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    import tomllib
else:

    class _FirstUse:
        """Stands for the module until one of its names (``loads``, ``TOMLDecodeError``) is read."""

        def __getattr__(self, name: str) -> object:
            if sys.version_info >= (3, 11):
                import tomllib as module
            else:  # pragma: no cover
                import tomli as module
            return getattr(module, name)

    tomllib = _FirstUse()

__all__ = ["tomllib"]
