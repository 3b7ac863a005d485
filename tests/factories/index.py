"""A real package index on loopback: a PEP 503 "simple" tree over a folder of wheels, served by
``http.server`` in a thread, for the tools that only speak to an index (Poetry, pipenv)."""

from __future__ import annotations

import hashlib
import http.server
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["make_simple_index", "serve"]


def _project(filename: str) -> str:
    name = filename.split("-", 1)[0]
    return re.sub(r"[-_.]+", "-", name).lower()


def make_simple_index(wheels: Path, dest: Path) -> Path:
    """``dest/simple/<project>/index.html`` linking each wheel (with its sha256) under ``dest/files``."""
    files = dest / "files"
    files.mkdir(parents=True, exist_ok=True)
    projects: dict[str, list[str]] = {}
    for wheel in sorted(wheels.iterdir()):
        if not wheel.name.endswith((".whl", ".tar.gz")):
            continue
        (files / wheel.name).write_bytes(wheel.read_bytes())
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        projects.setdefault(_project(wheel.name), []).append(
            f'<a href="../../files/{wheel.name}#sha256={digest}">{wheel.name}</a>')
    simple = dest / "simple"
    for project, links in projects.items():
        (simple / project).mkdir(parents=True, exist_ok=True)
        (simple / project / "index.html").write_text("<html><body>\n" + "\n".join(links) + "\n</body></html>\n")
    root_links = "\n".join(f'<a href="{p}/">{p}</a>' for p in sorted(projects))
    (simple / "index.html").write_text(f"<html><body>\n{root_links}\n</body></html>\n")
    return dest


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *args: Any, extra_headers: dict[str, str] | None = None, **kwargs: Any) -> None:
        self.extra_headers = extra_headers or {}
        super().__init__(*args, **kwargs)  # which answers the request

    def end_headers(self) -> None:
        for name, value in self.extra_headers.items():
            self.send_header(name, value)
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up mid-answer (a uv process stopped when its build failed) is no
        error of the server's; its traceback, printed on a thread that may outlive the test,
        would land in another test's captured stderr."""
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextmanager
def serve(root: Path, headers: dict[str, str] | None = None) -> Iterator[str]:
    """Serve ``root`` on 127.0.0.1 (a free port), adding ``headers`` to every answer; yields
    ``http://127.0.0.1:PORT``."""

    def handler(*args: object, **kwargs: object) -> _Quiet:
        return _Quiet(*args, directory=str(root), extra_headers=headers, **kwargs)

    server = _Server(("127.0.0.1", 0), handler)  # type: ignore[arg-type]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
