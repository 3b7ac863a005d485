"""The handler string: awslambdaric's ``bootstrap.py`` splits it on its last dot into the module
(``/`` read as ``.``) and the function it looks up on that module."""

from __future__ import annotations

from typing import NamedTuple


class HandlerName(NamedTuple):
    text: str
    module: str  # as Lambda quotes it: everything before the last dot, "/" kept
    function: str

    @property
    def dotted(self) -> str:
        """The name ``importlib.import_module`` is given."""
        return self.module.replace("/", ".")


def split_handler(text: str) -> HandlerName | None:
    """``handler.rsplit(".", 1)`` as bootstrap.py does it; None when there is no dot."""
    module, dot, function = text.rpartition(".")
    return HandlerName(text, module, function) if dot else None
