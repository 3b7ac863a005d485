"""Download files over HTTP(S) for one build: each host looked up once, connections kept open.

A cold build fetches a dozen wheels at once from the same host. Opened one by one (urllib),
each connection looked the host up again, loaded the CA certificates again (20 ms of CPU) and
shook hands again; a resolver that drops some of many simultaneous lookups made one in a few
builds wait its 5 s timeout. Here the TLS context is made once per CA file, a host is looked up
once (later threads wait for the first), and a connection that delivered a whole response is
reused. A proxy in the environment, a redirect or anything unexpected goes through urllib.

Even one lookup at a time is sometimes dropped by this machine's resolver (measured: 1 in 20
sequential lookups of files.pythonhosted.org waited the C library's 5 s retry, the others took
under a millisecond). So a lookup still unanswered after ``_HEDGE_S`` is asked again beside the
first, and the first answer wins.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import http.client
    import ssl

_CA_VARIABLES = ("SSL_CERT_FILE", "UV_CERT", "PIP_CERT", "REQUESTS_CA_BUNDLE")  # as uv and pip are told of
_TIMEOUT_S = 60
_HEDGE_S = 0.25  # a lookup unanswered this long is asked again beside the first
_TLS: dict[str | None, ssl.SSLContext] = {}
_TLS_LOCK = threading.Lock()


def tls_context() -> ssl.SSLContext:
    """The TLS context for the CA file uv and pip are told of, else the system's; made once."""
    cafile = next((os.environ[name] for name in _CA_VARIABLES if os.environ.get(name) and Path(os.environ[name]).is_file()),
                  None)
    with _TLS_LOCK:
        if cafile not in _TLS:
            import ssl

            _TLS[cafile] = ssl.create_default_context(cafile=cafile)
        return _TLS[cafile]


class Downloads:
    """Thread-safe GETs sharing host lookups and idle connections; ``close`` ends them all.
    ``lookup`` is ``socket.getaddrinfo``'s stand-in (a resolver that drops a query, in tests)."""

    def __init__(self, lookup: Callable[..., list[Any]] | None = None) -> None:
        self._ask = lookup
        self._lock = threading.Lock()
        self._addresses: dict[tuple[str, int], list[Any]] = {}
        self._looking_up: dict[tuple[str, int], threading.Lock] = {}
        self._idle: dict[tuple[str, str, int], list[http.client.HTTPConnection]] = {}
        self._open: list[http.client.HTTPConnection] = []

    def __enter__(self) -> Downloads:  # noqa: PYI034
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, url: str) -> bytes:
        """The body of a 200 answer to GET ``url``; OSError (or ValueError for a bad URL) otherwise."""
        import http.client
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname or _proxied(parts.hostname):
            return _urlopen(url)
        key = (parts.scheme, parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
        conn = self._connection(key)
        try:
            conn.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""), headers={"Accept-Encoding": "identity"})
            response = conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):  # a dropped keep-alive, a reset: once more the plain way
            conn.close()
            return _urlopen(url)
        if response.status != 200:
            response.close()
            conn.close()
            return _urlopen(url)  # a redirect followed, an error said, as urllib does
        if response.will_close:
            conn.close()
        else:
            with self._lock:
                self._idle.setdefault(key, []).append(conn)
        return data

    def close(self) -> None:
        with self._lock:
            opened, self._open, self._idle = self._open, [], {}
        for conn in opened:
            conn.close()

    def _connection(self, key: tuple[str, str, int]) -> http.client.HTTPConnection:
        import http.client

        with self._lock:
            idle = self._idle.get(key)
            if idle:
                return idle.pop()
        scheme, host, port = key
        sock = self._connect(host, port)
        conn: http.client.HTTPConnection
        if scheme == "https":
            conn = http.client.HTTPSConnection(host, port, timeout=_TIMEOUT_S, context=tls_context())
            try:
                conn.sock = tls_context().wrap_socket(sock, server_hostname=host)
            except BaseException:
                sock.close()
                raise
        else:
            conn = http.client.HTTPConnection(host, port, timeout=_TIMEOUT_S)
            conn.sock = sock
        with self._lock:
            self._open.append(conn)
        return conn

    def _connect(self, host: str, port: int) -> Any:
        import socket

        error: OSError | None = None
        for family, kind, proto, _name, address in self._lookup(host, port):
            sock = socket.socket(family, kind, proto)
            try:
                sock.settimeout(_TIMEOUT_S)
                sock.connect(address)
                return sock
            except OSError as exc:
                sock.close()
                error = exc
        raise error or OSError(f"{host}: no address")

    def _lookup(self, host: str, port: int) -> list[Any]:
        """``getaddrinfo`` once per host and port; threads asking meanwhile wait for its answer."""
        import socket

        with self._lock:
            waiting = self._looking_up.setdefault((host, port), threading.Lock())
        with waiting:
            if (host, port) not in self._addresses:
                self._addresses[(host, port)] = _first_answer(self._ask or socket.getaddrinfo, host, port)
            return self._addresses[(host, port)]


def _first_answer(ask: Callable[..., list[Any]], host: str, port: int) -> list[Any]:
    """``ask``'s addresses for the host, asked once more if the first lookup has not answered
    after ``_HEDGE_S``: the first answer that is not an error wins (else the first error). The
    lookups run on daemon threads: one left waiting for a dropped query does not hold the build."""
    import socket

    answers: list[list[Any] | OSError] = []
    arrived = threading.Condition()

    def lookup() -> None:
        try:
            answer: list[Any] | OSError = ask(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            answer = exc
        with arrived:
            answers.append(answer)
            arrived.notify_all()

    def won() -> bool:
        return any(not isinstance(answer, OSError) for answer in answers)

    with arrived:
        threading.Thread(target=lookup, daemon=True, name=f"lookup {host}").start()
        if not arrived.wait_for(won, timeout=_HEDGE_S):  # slow, or an error: ask again beside it
            threading.Thread(target=lookup, daemon=True, name=f"lookup {host}, again").start()
            arrived.wait_for(lambda: won() or len(answers) == 2)
    for answer in answers:
        if not isinstance(answer, OSError):
            return answer
    raise answers[0]  # type: ignore[misc]  # both lookups failed: an OSError


def _proxied(host: str) -> bool:
    import urllib.request

    proxies = urllib.request.getproxies()
    return bool(proxies) and not urllib.request.proxy_bypass(host)


def _urlopen(url: str) -> bytes:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=_TIMEOUT_S, context=tls_context()) as response:
            return bytes(response.read())
    except urllib.error.HTTPError as exc:
        exc.close()  # its answer's connection, now: left to the collector, it warned of an unclosed socket
        raise OSError(f"HTTP {exc.code} {exc.reason} for {url}") from None
