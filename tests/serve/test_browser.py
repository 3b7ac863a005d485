"""`lpack serve` from a real browser: headless Chromium loads the example's HTML page, fills its form and
submits it (a form POST through API Gateway's REST event), driven over the DevTools protocol on a pipe
(``--remote-debugging-pipe``: JSON messages ending in NUL on fds 3 and 4; the standard library is enough).

Marked ``browser`` and skipped where Debian's ``chromium`` is not installed.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.serve._running import Running
from tests.serve.test_server import sam_project  # noqa: F401 -- the fixture

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
WAIT_S = 60.0
PUT_FDS = """import os, sys
commands, replies = os.dup(int(sys.argv[1])), os.dup(int(sys.argv[2]))
os.dup2(commands, 3)
os.dup2(replies, 4)
os.set_inheritable(3, True)  # a dup onto itself keeps close-on-exec
os.set_inheritable(4, True)
os.execv(sys.argv[3], sys.argv[3:])
"""


class Browser:
    """One headless Chromium and one page of it, spoken to over the DevTools pipe."""

    def __init__(self, profile: Path) -> None:
        assert CHROMIUM is not None
        commands_r, self._commands = os.pipe()
        self._replies, replies_w = os.pipe()
        flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--remote-debugging-pipe",
                 f"--user-data-dir={profile}", "about:blank"]
        # the protocol's fds are 3 (commands in) and 4 (replies out): a small exec puts the pipes there
        self.proc = subprocess.Popen([sys.executable, "-c", PUT_FDS, str(commands_r), str(replies_w), CHROMIUM, *flags],
                                     pass_fds=(commands_r, replies_w), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(commands_r)
        os.close(replies_w)
        self._buffer = b""
        self._next_id = 0
        self.session = ""
        page = next(t for t in self.call("Target.getTargets")["targetInfos"] if t["type"] == "page")
        self.session = self.call("Target.attachToTarget", targetId=page["targetId"], flatten=True)["sessionId"]

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()
        os.close(self._commands)
        os.close(self._replies)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if self.session:
            message["sessionId"] = self.session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self._next_id:
                assert "error" not in reply, reply
                result: dict[str, Any] = reply["result"]
                return result

    def _read(self) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._replies], [], [], WAIT_S)
            chunk = os.read(self._replies, 65536) if ready else b""
            if not chunk:
                raise AssertionError("chromium stopped answering")
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        document: dict[str, Any] = json.loads(message)
        return document

    def evaluate(self, expression: str) -> Any:
        return self.call("Runtime.evaluate", expression=expression, returnByValue=True)["result"].get("value")

    def wait_for_title(self, title: str) -> None:
        deadline = time.monotonic() + WAIT_S
        while self._title_while_navigating() != title:
            if time.monotonic() > deadline:
                raise AssertionError(f"no page titled {title!r}: {self.evaluate('document.title')!r}")
            time.sleep(0.05)

    def _title_while_navigating(self) -> Any:
        """The page's title once loaded; None while a navigation replaces the page under the
        question (the protocol then answers "Inspected target navigated or closed")."""
        try:
            return self.evaluate("document.readyState === 'complete' && document.title")
        except AssertionError as exc:
            if "navigated or closed" in str(exc) or "context was destroyed" in str(exc):
                return None
            raise


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)")
def test_a_browser_fills_and_posts_the_html_form(sam_project: Path, tmp_path: Path) -> None:  # noqa: F811
    with Running([str(sam_project)]) as server:
        browser = Browser(tmp_path / "profile")
        try:
            browser.call("Page.navigate", url=f"{server.url}/")
            browser.wait_for_title("Guestbook")
            browser.evaluate("document.getElementById('name').value = 'Ada & Grace';"
                             "document.getElementById('send').click()")
            browser.wait_for_title("Signed")
            greeting = browser.evaluate("document.getElementById('greeting').textContent")
        finally:
            browser.close()
        output = server.stdout
    assert greeting == "Thank you, Ada & Grace!"
    assert '"POST / HTTP/1.1" 200' in output
    assert "signed by 'Ada & Grace'" in output  # the handler decoded the urlencoded form body
