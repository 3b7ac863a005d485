"""A warm execution environment (a real child process running the bootstrap) hands each invocation's
result and logs back whole, whatever the handler writes and however big: the response after its
logs, output bigger than a pipe holds, output a background thread writes between invocations, and
a handler that redirects its own stdout."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from lpack.core.targets import RUNTIMES
from lpack.invoke.interpreter import find_interpreter
from lpack.invoke.sandbox import Outcome, Request, Sandbox, Spec, new_request_id

APP = '''\
import json, os, sys, threading, time

WRITER = []


def handler(event, context):
    action = event["action"]
    if action == "echo":
        return event
    if action == "big":  # more output than a pipe holds, then a response bigger than one atomic write
        print("x" * 200000)
        return {"body": "é" * event["size"]}
    if action == "later":  # a thread that writes after this invocation has ended
        go = event["go"]
        def write():
            while not os.path.exists(go):
                time.sleep(0.01)
            for i in range(2000):
                print(f"background line {i} " + "y" * 100)
        WRITER.append(threading.Thread(target=write))
        WRITER[-1].start()
        return "started"
    if action == "join":
        WRITER.pop().join()
        return "joined"
    if action == "redirect":  # as code silencing a C library does
        print("before the redirect", flush=True)
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        print("lost", flush=True)
        return "redirected"
    if action == "alias":  # lpack serve hands the event over as values: are they the handler's own?
        event["a"].append("changed")
        return {"b": event["b"], "rest": {k: v for k, v in event.items() if k not in ("a", "b")}}
    if action == "bytes":
        return bytes(range(256)) * 40
    raise ValueError(action)
'''


def oldest_python() -> str:
    """The oldest runtime's interpreter, where one is installed: the bootstrap and its wire format
    must work there too (it runs under the target's Python, which may be years older than lpack's)."""
    runtime = min(RUNTIMES.values(), key=lambda r: r.python)
    found = find_interpreter(runtime)
    if not found.matches:
        pytest.skip(f"no {runtime.name} interpreter installed here")
    return found.path


@pytest.fixture(params=["this", "oldest"])
def sandbox(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    python = sys.executable if request.param == "this" else oldest_python()
    root = tmp_path / "task"
    root.mkdir()
    (root / "app.py").write_text(APP)
    spec = Spec(python, "app.handler", root, None, {"PYTHONIOENCODING": "utf-8"}, 30.0, 512)
    with Sandbox(spec) as box:
        yield box


def invoke(sandbox: Sandbox, event: str | dict[str, object], *, as_value: bool = False) -> Outcome:
    arn = "arn:aws:lambda:us-east-1:123456789012:function:app"
    if as_value:  # as lpack serve sends the events it builds
        request = Request(new_request_id(), "", arn, value=event)
    else:  # as lpack invoke sends an event file's text
        request = Request(new_request_id(), event if isinstance(event, str) else json.dumps(event), arn)
    outcome = sandbox.invoke(request)
    assert outcome.status == "succeeded", outcome.error
    return outcome


def test_the_event_arrives_as_written_and_the_response_comes_back(sandbox: Sandbox) -> None:
    text = '{\n  "action": "echo",\n  "name": "Zoë \\ud83d\\ude00", "quote": "\\"x\\"\\n"\n}'
    outcome = invoke(sandbox, text)
    assert json.loads(outcome.response or "") == json.loads(text)
    assert outcome.init_duration_ms is not None
    assert invoke(sandbox, text).init_duration_ms is None  # warm: the same environment


@pytest.mark.parametrize("size", [10, 3000, 300_000])
def test_big_output_and_a_response_of_any_size_come_back_whole(sandbox: Sandbox, size: int) -> None:
    outcome = invoke(sandbox, {"action": "big", "size": size})
    assert json.loads(outcome.response or "") == {"body": "é" * size}
    assert outcome.logs == "x" * 200_000 + "\n"
    again = invoke(sandbox, {"action": "echo"})
    assert again.logs == ""  # nothing of the previous invocation's


def test_a_bytes_response_comes_back_byte_for_byte(sandbox: Sandbox) -> None:
    outcome = invoke(sandbox, {"action": "bytes"})
    assert outcome.binary
    assert (outcome.response or "").encode("utf-8", "surrogateescape") == bytes(range(256)) * 40


def test_output_written_between_invocations_shows_in_the_next(sandbox: Sandbox, tmp_path: Path) -> None:
    go = tmp_path / "go"
    assert invoke(sandbox, {"action": "later", "go": str(go)}).logs == ""
    go.touch()  # the thread now writes ~200 KB while no invocation runs (a pipe holds 64 KB)
    outcome = invoke(sandbox, {"action": "join"})
    lines = outcome.logs.splitlines()
    assert len(lines) == 2000
    assert lines[0].startswith("background line 0 ") and lines[-1].startswith("background line 1999 ")
    assert invoke(sandbox, {"action": "echo"}).logs == ""


def test_a_handler_that_redirects_its_stdout_is_still_answered(sandbox: Sandbox) -> None:
    outcome = invoke(sandbox, {"action": "redirect"})
    assert outcome.response == '"redirected"'
    assert outcome.logs == "before the redirect\n"
    assert json.loads(invoke(sandbox, {"action": "echo", "n": 2}).response or "") == {"action": "echo", "n": 2}


def test_an_event_handed_over_as_values_is_what_json_would_give(sandbox: Sandbox) -> None:
    shared = ["v"]
    rest = {"action": "alias", "text": "Zoë \ud83d \x00", "big": 2**70, "none": None, "yes": True,
            "nested": {"list": [1, "2", [3.5]], "empty": {}}}
    outcome = invoke(sandbox, {**rest, "a": shared, "b": shared}, as_value=True)
    assert json.loads(outcome.response or "") == {"b": ["v"], "rest": rest}  # a and b are not one list there
    assert shared == ["v"]
