"""The head of an HTTP/1.x request (request line, header fields), read without the email package.

``http.server`` hands the header lines to ``email.parser``, which was the largest single part of
lpack serve's own time per request (a quarter of it; more for a browser's dozen headers). This
reads the same heads and refuses the same bad ones with the same statuses as
``BaseHTTPRequestHandler.parse_request``: 400 for a malformed request line or version, 505 for
HTTP/2.0 and later, a non-GET HTTP/0.9 request refused, 431 for a header line over 65,536 bytes or
more than 100 lines; a leading ``//`` in the path becomes ``/`` (gh-87389). Where the email
package was lenient, RFC 9112 decides: a header line that is not ``name: value`` is a 400
(``email.parser`` took it for the start of a body and dropped the headers after it), an obsolete
folded line (obs-fold) continues the previous value after one space, and a value loses the spaces
around it.
"""

from __future__ import annotations

import http.client
import io
import re
from typing import NamedTuple

MAX_LINE_BYTES = 65536  # as http.client reads header lines
MAX_LINES = 100  # header lines, the empty one that ends them included (http.client's count)
_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # a token (RFC 9110, section 5.1)


class BadHead(Exception):
    """The request is refused with ``status`` (None: nothing is answered, the connection closes)."""

    def __init__(self, status: int | None, message: str = "", version: str = "HTTP/0.9",
                 explain: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.version = version  # the version the answer is written for (HTTP/0.9: no status line)
        self.explain = explain  # the error page's longer explanation, where http.server gives one


class Head(NamedTuple):
    command: str
    path: str
    version: str  # "HTTP/1.1", "HTTP/1.0", or "HTTP/0.9" for a line without a version
    fields: list[tuple[str, str]]  # the header fields in order, names as sent, repeated names kept
    first: dict[str, str]  # lower-cased name -> its first value (as email.message.Message.get gives)
    close: bool  # whether the connection closes after the answer
    expect_continue: bool  # the client waits for "100 Continue" before sending the body

    @property
    def headers(self) -> http.client.HTTPMessage:
        """The fields as http.server's handlers hold them."""
        message = http.client.HTTPMessage()
        for name, value in self.fields:
            message[name] = value
        return message


def read_head(line: str, rfile: io.BufferedIOBase, protocol: str) -> Head:
    """The head whose request line is ``line`` (without its CRLF), its header lines read from
    ``rfile``; ``protocol`` is the server's (keep-alive is HTTP/1.1's default only when it speaks it)."""
    words = line.split()
    if not words:
        raise BadHead(None)
    version, close = "HTTP/0.9", True
    if len(words) >= 3:
        version = words[-1]
        number = _version_number(version)
        if number >= (2, 0):
            raise BadHead(505, f"Invalid HTTP version ({version.split('/', 1)[1]})")
        close = not (number >= (1, 1) and protocol >= "HTTP/1.1")
    if not 2 <= len(words) <= 3:
        raise BadHead(400, f"Bad request syntax ({line!r})", version)
    command, path = words[:2]
    if len(words) == 2 and command != "GET":
        raise BadHead(400, f"Bad HTTP/0.9 request type ({command!r})", version)
    if path.startswith("//"):
        path = "/" + path.lstrip("/")
    fields = read_headers(rfile, version)
    first = {name.lower(): value for name, value in reversed(fields)}
    connection = first.get("connection", "").lower()
    if connection == "close":
        close = True
    elif connection == "keep-alive" and protocol >= "HTTP/1.1":
        close = False
    expect = first.get("expect", "").lower() == "100-continue"
    return Head(command, path, version, fields, first, close,
                expect and protocol >= "HTTP/1.1" and version >= "HTTP/1.1")


def _version_number(version: str) -> tuple[int, int]:
    """``HTTP/1.1`` -> (1, 1): one dot, digits only, each part at most 10 of them (RFC 2145)."""
    parts = version[5:].split(".") if version.startswith("HTTP/") else []
    if len(parts) != 2 or not all(p.isdigit() and len(p) <= 10 for p in parts):
        raise BadHead(400, f"Bad request version ({version!r})")
    return int(parts[0]), int(parts[1])


def read_headers(rfile: io.BufferedIOBase, version: str = "HTTP/1.1") -> list[tuple[str, str]]:
    """The header fields up to the empty line, in order, names as sent, repeated names kept."""
    fields: list[tuple[str, str]] = []
    count = 0
    while True:
        raw = rfile.readline(MAX_LINE_BYTES + 1)
        if len(raw) > MAX_LINE_BYTES:
            raise BadHead(431, "Line too long", version,
                          f"got more than {MAX_LINE_BYTES} bytes when reading header line")
        count += 1
        if count > MAX_LINES:
            raise BadHead(431, "Too many headers", version, f"got more than {MAX_LINES} headers")
        if raw in (b"\r\n", b"\n", b""):
            return fields
        text = str(raw, "iso-8859-1").rstrip("\r\n")
        if text[:1] in (" ", "\t") and fields:  # obs-fold: the previous value goes on
            name, value = fields[-1]
            fields[-1] = (name, " ".join(filter(None, (value, text.strip(" \t")))))
            continue
        name, colon, value = text.partition(":")
        if not colon or not _NAME.fullmatch(name):
            raise BadHead(400, f"Bad header line ({text[:100]!r})", version)
        fields.append((name, value.strip(" \t")))
