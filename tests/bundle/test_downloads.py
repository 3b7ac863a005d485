"""lpack.bundle._downloads: a build's wheel downloads share connections, and say what urllib would."""

from __future__ import annotations

import functools
import http.server
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from lpack.bundle._downloads import Downloads


class _Counting(http.server.SimpleHTTPRequestHandler):
    """Files over HTTP/1.1 keep-alive, counting connections; /moved/NAME redirects to /NAME."""

    protocol_version = "HTTP/1.1"
    connections: list[object]

    def setup(self) -> None:
        super().setup()
        self.connections.append(self.client_address)

    def do_GET(self) -> None:
        if self.path.startswith("/moved/"):
            self.send_response(302)
            self.send_header("Location", self.path.removeprefix("/moved"))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, list[object]]]:
    for i in range(6):
        (tmp_path / f"w{i}.whl").write_bytes(bytes([i]) * (1000 + i))
    connections: list[object] = []
    handler = functools.partial(type("_Handler", (_Counting,), {"connections": connections}), directory=str(tmp_path))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", connections
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_one_connection_serves_one_thread_s_downloads(server: tuple[str, list[object]]) -> None:
    url, connections = server
    with Downloads() as downloads:
        got = [downloads.get(f"{url}/w{i}.whl") for i in range(6)]
    assert got == [bytes([i]) * (1000 + i) for i in range(6)]
    assert len(connections) == 1


def test_threads_share_connections(server: tuple[str, list[object]]) -> None:
    url, connections = server
    with Downloads() as downloads, ThreadPoolExecutor(max_workers=2) as pool:
        got = list(pool.map(downloads.get, [f"{url}/w{i % 6}.whl" for i in range(24)]))
    assert got == [bytes([i % 6]) * (1000 + i % 6) for i in range(24)]
    assert len(connections) <= 2


def test_a_redirect_is_followed(server: tuple[str, list[object]]) -> None:
    url, _connections = server
    with Downloads() as downloads:
        assert downloads.get(f"{url}/moved/w3.whl") == bytes([3]) * 1003


def test_a_missing_file_is_an_error(server: tuple[str, list[object]]) -> None:
    url, _connections = server
    with Downloads() as downloads, pytest.raises(OSError, match="HTTP 404 .* for http://"):
        downloads.get(f"{url}/nothing.whl")


def test_a_closed_connection_is_opened_again(server: tuple[str, list[object]]) -> None:
    url, connections = server
    with Downloads() as downloads:
        downloads.get(f"{url}/w0.whl")
        downloads.close()  # as a server ending an idle keep-alive would
        assert downloads.get(f"{url}/w1.whl") == bytes([1]) * 1001
    assert len(connections) == 2


class _Resolver:
    """getaddrinfo behind a resolver that drops the first ``dropped`` queries (their callers wait
    until the test ends, as they would for the C library's 5 s retry) and answers the others."""

    def __init__(self, dropped: int = 0, failing: bool = False) -> None:
        self.calls = 0
        self.dropped, self.failing = dropped, failing
        self.released = threading.Event()

    def __call__(self, host: str, port: int, **kwargs: object) -> list[object]:
        self.calls += 1
        if self.calls <= self.dropped:
            self.released.wait(60)
        if self.failing:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return socket.getaddrinfo(host, port, **kwargs)  # type: ignore[arg-type]


def test_a_dropped_lookup_is_asked_again_beside_the_first(server: tuple[str, list[object]]) -> None:
    url, _connections = server
    resolver = _Resolver(dropped=1)
    try:
        with Downloads(lookup=resolver) as downloads:
            assert downloads.get(f"{url}/w2.whl") == bytes([2]) * 1002
            assert downloads.get(f"{url}/w3.whl") == bytes([3]) * 1003  # the host's answer is kept
    finally:
        resolver.released.set()
    assert resolver.calls == 2


def test_a_prompt_lookup_is_asked_once(server: tuple[str, list[object]]) -> None:
    url, _connections = server
    resolver = _Resolver()
    with Downloads(lookup=resolver) as downloads:
        assert downloads.get(f"{url}/w1.whl") == bytes([1]) * 1001
    assert resolver.calls == 1


def test_an_unknown_host_is_an_error_after_asking_twice() -> None:
    resolver = _Resolver(failing=True)
    with Downloads(lookup=resolver) as downloads, pytest.raises(OSError, match="not known"):
        downloads.get("https://no-such-host.invalid/w.whl")
    assert resolver.calls == 2
