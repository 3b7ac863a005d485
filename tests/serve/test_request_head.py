"""lpack serve reads a request's head itself (request_head), not with the email package: for every
head http.server accepts or refuses it must do the same (compared with BaseHTTPRequestHandler on the
same bytes), and where RFC 9112 is stricter than the email package, follow the RFC."""

from __future__ import annotations

import io
import re
from http.server import BaseHTTPRequestHandler

import pytest

from lpack.serve.request_head import BadHead, read_headers
from lpack.serve.server import Handler


class Stdlib(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass


def parsed(cls: type[BaseHTTPRequestHandler], raw: bytes) -> dict[str, object]:
    """What a handler of ``cls`` makes of ``raw`` (request line, headers, maybe a body)."""
    handler = cls.__new__(cls)
    line, _, rest = raw.partition(b"\n")
    handler.raw_requestline = line + b"\n"  # type: ignore[attr-defined]
    handler.rfile, handler.wfile = io.BytesIO(rest), io.BytesIO()  # type: ignore[assignment]
    handler.client_address = ("127.0.0.1", 5000)
    handler.command = "HEAD"  # as a previous request on the connection may have left it
    handler.request_version = handler.default_request_version
    handler.close_connection = True
    ok = handler.parse_request()
    answer = re.sub(rb"Date: [^\r]*\r\n", b"", handler.wfile.getvalue())  # type: ignore[attr-defined]
    if not ok:
        return {"ok": False, "answer": answer, "close": handler.close_connection}
    return {"ok": True, "answer": answer, "command": handler.command, "path": handler.path,
            "version": handler.request_version, "close": handler.close_connection,
            "headers": list(handler.headers.items()), "host": handler.headers.get("host"),
            "rest": handler.rfile.read()}


CRLF = "\r\n"
SAME = {
    "get": "GET /items/42?x=1&y=%20 HTTP/1.1\r\nHost: localhost:3000\r\nAccept: */*\r\n\r\n",
    "repeated and cased names": "GET / HTTP/1.1\r\nhost: a\r\nX-Multi: 1\r\nx-multi:  2\r\nCookie: a=1\r\n\r\n",
    "a body follows": "POST /f HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc",
    "bare LF": "GET / HTTP/1.1\nHost: a\n\n",
    "http/1.0 closes": "GET / HTTP/1.0\r\nHost: a\r\n\r\n",
    "http/1.0 keep-alive": "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
    "connection close": "GET / HTTP/1.1\r\nConnection: close\r\n\r\n",
    "leading slashes": "GET //evil.example/x HTTP/1.1\r\n\r\n",
    "http/0.9 get": "GET /old\r\n",
    "http/0.9 post": "POST /old\r\n",
    "version without dot": "GET / HTTP/1\r\n\r\n",
    "version with two dots": "GET / HTTP/1.1.1\r\n\r\n",
    "version not digits": "GET / HTTP/a.b\r\n\r\n",
    "version too long": "GET / HTTP/1.00000000001\r\n\r\n",
    "not http": "GET / FTP/1.1\r\n\r\n",
    "http/2": "GET / HTTP/2.0\r\n\r\n",
    "too many words": "GET / x HTTP/1.1\r\n\r\n",
    "one word": "GET\r\n\r\n",
    "empty line": "\r\n",
    "99 headers": "GET / HTTP/1.1\r\n" + "".join(f"X-{i}: {i}\r\n" for i in range(99)) + CRLF,
    "100 headers": "GET / HTTP/1.1\r\n" + "".join(f"X-{i}: {i}\r\n" for i in range(100)) + CRLF,
    "header line too long": "GET / HTTP/1.1\r\nX-Long: " + "a" * 65536 + "\r\n\r\n",
    "header line at the limit": "GET / HTTP/1.1\r\nX-Long: " + "a" * (65536 - 10) + "\r\n\r\n",
    "expect 100-continue": "POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx",
    "expect on http/1.0": "POST / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n",
    "latin-1 value": "GET / HTTP/1.1\r\nX-Name: Zo\xeb\r\n\r\n",
}


@pytest.mark.parametrize("raw", SAME.values(), ids=SAME.keys())
def test_a_head_is_read_as_http_server_reads_it(raw: str) -> None:
    data = raw.encode("latin-1")
    assert parsed(Handler, data) == parsed(Stdlib, data)


def test_the_heads_stdlib_would_refuse_are_answered_as_it_answers_them() -> None:
    refused = {k: parsed(Stdlib, v.encode("latin-1"))["answer"] for k, v in SAME.items()
               if not parsed(Stdlib, v.encode("latin-1"))["ok"]}
    statuses = {k: answer.split(b" ")[1] if answer.startswith(b"HTTP/") else answer[:20]
                for k, answer in refused.items()}
    assert statuses["http/0.9 post"].startswith(b"<!DOCTYPE")  # an HTTP/0.9 answer: no status line
    assert statuses["too many words"] == b"400" and statuses["100 headers"] == b"431"
    assert statuses["header line too long"] == b"431" and refused["empty line"] == b""


def test_an_obsolete_folded_line_continues_the_value_after_one_space() -> None:
    head = io.BytesIO(b"X-Folded: one\r\n   two\r\n\tthree  \r\nHost: a\r\n\r\n")
    assert read_headers(head) == [("X-Folded", "one two three"), ("Host", "a")]


def test_a_value_loses_the_spaces_around_it() -> None:
    assert read_headers(io.BytesIO(b"X-A: \t spaced \t\r\n\r\n")) == [("X-A", "spaced")]


@pytest.mark.parametrize("line", [b"No colon here", b"Bad Name: x", b": no name", b" X-First: folded"],
                         ids=["no colon", "space in name", "empty name", "fold before any header"])
def test_a_line_that_is_not_a_header_field_is_a_400(line: bytes) -> None:
    with pytest.raises(BadHead) as refused:
        read_headers(io.BytesIO(b"Host: a\r\n" * (not line.startswith(b" ")) + line + b"\r\nX-After: 1\r\n\r\n"))
    assert refused.value.status == 400


def test_a_bad_header_line_is_answered_400_over_http() -> None:
    raw = b"GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n"
    result = parsed(Handler, raw)
    assert not result["ok"] and bytes(result["answer"]).startswith(b"HTTP/1.1 400 ")  # type: ignore[arg-type]
