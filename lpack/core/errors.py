"""User-facing errors: each message names the file and says what to do. They exit with code 2."""

from __future__ import annotations

import re

from lpack.core.patterns import lazy

_TOKEN = lazy(r"\S+")


def redact(text: str) -> str:
    """Hide credentials embedded in URLs (``https://user:token@host`` -> ``https://****@host``).

    Linear in the text's length: each whitespace-separated token is scanned once, so a megabyte
    of anything in an error message costs milliseconds.
    """
    return _TOKEN().sub(_redact_token, text) if "://" in text else text


def _redact_token(match: re.Match[str]) -> str:
    token = match.group()
    if "@" not in token:
        return token
    out, pos, last_at = [], 0, token.rfind("@")
    while (sep := token.find("://", pos)) != -1:
        start = sep + 3
        at = _userinfo_end(token, start, last_at)
        out.append(token[pos:start] + ("****" if at != -1 else ""))
        pos = at if at != -1 else start
    out.append(token[pos:])
    return "".join(out)


def _userinfo_end(token: str, start: int, last_at: int) -> int:
    """Where the userinfo after ``scheme://`` ends (its ``@``), or -1. Like pip and uv, the last
    ``@`` of the authority ends it, so a raw ``@`` in a password is hidden too. A raw ``/`` in a
    password ends the authority early (``user:pa/ss@host``): a ``:`` there and an ``@`` further
    on is taken for one, up to the last ``@`` before the next ``/`` (the host's end)."""
    end = token.find("/", start)
    end = end if end != -1 else len(token)
    at = token.rfind("@", start, end)
    if at != -1 or last_at < end or ":" not in token[start:end]:
        return at
    host_end = token.find("/", token.find("@", end))
    return token.rfind("@", end, host_end if host_end != -1 else len(token))


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
