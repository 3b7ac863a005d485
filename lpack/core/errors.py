"""User-facing errors: each message names the file and says what to do. They exit with code 2."""

from __future__ import annotations

import re

_CREDENTIALS = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")


def redact(text: str) -> str:
    """Hide credentials embedded in URLs (``https://user:token@host`` -> ``https://****@host``)."""
    return _CREDENTIALS.sub(r"\g<scheme>****@", text)


class LpackError(Exception):
    """An error the user can fix; printed as one line without a traceback (exit 2)."""

    def __init__(self, message: str, *, tip: str | None = None) -> None:
        super().__init__(redact(message))
        self.tip = redact(tip) if tip else None


class ConfigError(LpackError):
    """The project's configuration is missing, malformed or invalid."""


class UsageError(LpackError):
    """The command line asks for something that cannot be done."""


class ResolveError(LpackError):
    """Dependencies cannot be resolved or installed for the target."""


class BuildError(LpackError):
    """The package cannot be assembled."""
