"""A real `lpack serve` in a child process, and a real HTTP client for it (tests and benchmarks)."""

from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from tests.factories.processes import interruptible_python

REPO = Path(__file__).resolve().parents[2]
LISTENING = re.compile(r"^lpack serve: listening on (http://\S+)", re.MULTILINE)
START_S = 120.0  # a first build on a busy machine; a bound on failure, not a measurement


class Reply(NamedTuple):
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


class Running:
    """``lpack serve ARGS --port 0``: its URL once it listens, its output as it comes."""

    def __init__(self, args: Sequence[str], cwd: Path | None = None) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
               "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(interruptible_python("-m", "lpack", "serve", *args, "--port", "0"), cwd=cwd,
                                     env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self._out: list[str] = []
        self._err: list[str] = []
        self._more = threading.Condition()
        self._readers = [threading.Thread(target=self._read, args=(stream, into), daemon=True)
                         for stream, into in ((self.proc.stdout, self._out), (self.proc.stderr, self._err))]
        for reader in self._readers:
            reader.start()
        try:
            found = self.wait_for(LISTENING, START_S)
        except AssertionError:
            self.__exit__()
            raise
        self.url = found.group(1)
        self.host, port = self.url.removeprefix("http://").rsplit(":", 1)
        self.port = int(port)

    def __enter__(self) -> Running:  # noqa: PYI034
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.stop()
        self._closed()

    def _closed(self) -> None:
        """Once the process is gone: all its output read, its pipes closed."""
        for reader in self._readers:
            reader.join(10)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()

    @property
    def stdout(self) -> str:
        with self._more:
            return "".join(self._out)

    @property
    def stderr(self) -> str:
        with self._more:
            return "".join(self._err)

    def _read(self, stream: object, into: list[str]) -> None:
        for line in stream:  # type: ignore[attr-defined]
            with self._more:
                into.append(line)
                self._more.notify_all()
        with self._more:
            self._more.notify_all()

    def wait_for(self, pattern: re.Pattern[str], timeout_s: float = 30.0, after: int = 0) -> re.Match[str]:
        """The first match of ``pattern`` in stdout (from character ``after``), waiting for it."""
        deadline = time.monotonic() + timeout_s
        with self._more:
            while True:
                found = pattern.search("".join(self._out), after)
                if found:
                    return found
                if self.proc.poll() is not None and not self._more.wait(0.2):
                    raise AssertionError(f"lpack serve exited ({self.proc.returncode}):\n{self.stdout}\n{self.stderr}")
                if time.monotonic() > deadline:
                    raise AssertionError(f"no {pattern.pattern!r} in:\n{''.join(self._out)}\n{''.join(self._err)}")
                self._more.wait(0.2)

    def request(self, path: str, method: str = "GET", body: bytes | None = None,
                headers: dict[str, str] | None = None, timeout_s: float = 60.0) -> Reply:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout_s)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return Reply(response.status, response.getheaders(), response.read())
        finally:
            connection.close()

    def descendants(self) -> set[int]:
        return descendants(self.proc.pid)

    def stop(self, sig: int = signal.SIGINT, timeout_s: float = 30.0) -> int:
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"lpack serve did not stop on {signal.Signals(sig).name}") from None
        finally:
            self._closed()


def descendants(pid: int) -> set[int]:
    """Every living process below ``pid`` (children, their children, ...), read from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            parents[int(entry.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    """Running (a zombie waiting for its parent's wait() is not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
