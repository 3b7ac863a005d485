"""`lpack serve`: a real server in a child process, a real HTTP client, real execution environments.

The SAM cases serve examples/serve-api (two functions behind SAM's implicit REST API); the
others a small lpack.toml project served with --event-shape, whose handler can hold a request
until the test releases it (so concurrency is shown without relying on timing), sleep past its
timeout, fail, or answer what API Gateway cannot translate.
"""

from __future__ import annotations

import http.client
import json
import re
import shutil
import signal
import socket
import threading
import time
from pathlib import Path

import pytest

from lpack.cli import main
from tests.serve._running import REPO, Reply, Running, alive

EXAMPLE = REPO / "examples" / "serve-api"
REPORT = re.compile(r"^REPORT RequestId: [0-9a-f-]{36}\tDuration: [^\n]*$", re.MULTILINE)

APP = '''\
import json, os, time

CALLS = []
VERSION = 1


def handler(event, context):
    CALLS.append(context.aws_request_id)
    action = event["pathParameters"]["proxy"]
    query = event.get("queryStringParameters") or {}
    print(f"action {action}")
    if action == "hold":  # say it started, then wait until the test releases it
        folder = query["dir"]
        with open(os.path.join(folder, f"started-{os.getpid()}-{len(CALLS)}"), "w"):
            pass
        while not os.path.exists(os.path.join(folder, "release")):
            time.sleep(0.01)
    if action == "sleep":
        time.sleep(float(query["s"]))
    if action == "boom":
        raise ValueError("boom")
    if action == "bad":
        return {"statusCode": 200, "body": {"not": "a string"}}
    body = {"pid": os.getpid(), "calls": len(CALLS), "version": VERSION, "action": action}
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}
'''


@pytest.fixture
def app_project(tmp_path: Path) -> Path:
    root = tmp_path / "app"
    root.mkdir()
    (root / "lpack.toml").write_text('name = "app"\nhandler = "app.handler"\ntimeout = 2\n')
    (root / "app.py").write_text(APP)
    return root


@pytest.fixture
def sam_project(tmp_path: Path) -> Path:
    root = tmp_path / "serve-api"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("dist", "__pycache__"))
    return root


def serve_app(root: Path, *more: str) -> Running:
    return Running([str(root), "--event-shape", "api-gateway-v1", *more])


def as_json(reply: Reply) -> dict[str, object]:
    assert reply.status == 200, (reply.status, reply.body)
    document = json.loads(reply.body)
    assert isinstance(document, dict)
    return document


def test_a_sam_api_is_served_on_one_port_with_warm_environments(sam_project: Path) -> None:
    with Running([str(sam_project)]) as server:
        assert re.search(r"GET +http://127\.0\.0\.1:\d+/items/\{id\} +-> ItemsFunction", server.stdout)
        first = server.request("/items/42?fields=name")
        second = server.request("/items/7")
        page = server.request("/")
        missing = server.request("/nothing/here")
        server.wait_for(re.compile(r'"GET /nothing/here HTTP/1.1" 403'))
        end = 0
        for _ in range(3):  # each invocation's REPORT: printed after its answer, maybe after a later request's line
            end = server.wait_for(REPORT, after=end).end()
        output = server.stdout

    assert as_json(first) == {"id": "42", "fields": "name", "invocations": 1}
    assert as_json(second) == {"id": "7", "fields": None, "invocations": 2}  # the same warm environment
    assert first.header("Content-Type") == "application/json"
    assert page.status == 200 and "<form" in page.text and page.header("Content-Type") == "text/html; charset=utf-8"
    assert missing.status == 403 and json.loads(missing.body) == {"message": "Missing Authentication Token"}
    reports = REPORT.findall(output)
    assert len(reports) == 3  # one per invocation; none for the unmatched path
    assert "Init Duration" in reports[0] and "Init Duration" not in reports[1]  # init once per environment
    assert "Init Duration" in reports[2]  # the page is another function: its own environment
    assert re.search(r'^127\.0\.0\.1 "GET /items/42\?fields=name HTTP/1\.1" 200 \d+ B [\d.]+ ms -> ItemsFunction '
                     r"\(GET /items/\{id\}\)\nINIT_START .*\nSTART RequestId: ", output, re.MULTILINE)


def test_concurrent_requests_get_their_own_environments_up_to_the_limit(app_project: Path, tmp_path: Path) -> None:
    def hold(server: Running, results: list[Reply]) -> threading.Thread:
        thread = threading.Thread(target=lambda: results.append(server.request(f"/app/hold?dir={tmp_path}")))
        thread.start()
        return thread

    def started(count: int) -> list[Path]:
        deadline = time.monotonic() + 60
        while len(found := sorted(tmp_path.glob("started-*"))) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return found

    results: list[Reply] = []
    with serve_app(app_project, "--concurrency", "2") as server:
        threads = [hold(server, results), hold(server, results)]
        both = started(2)  # two requests in two environments at once
        (tmp_path / "release").touch()
        for thread in threads:
            thread.join(60)
    assert len(both) == 2 and len({p.name.split("-")[1] for p in both}) == 2
    assert len({as_json(r)["pid"] for r in results}) == 2

    for path in tmp_path.glob("started-*"):
        path.unlink()
    (tmp_path / "release").unlink()
    results = []
    with serve_app(app_project) as server:  # --concurrency 1: the second request waits for the first
        threads = [hold(server, results)]
        started(1)
        threads.append(hold(server, results))
        time.sleep(0.5)  # time for the second to be (wrongly) started if the limit were not kept
        assert len(list(tmp_path.glob("started-*"))) == 1
        (tmp_path / "release").touch()
        for thread in threads:
            thread.join(60)
    assert [r.status for r in results] == [200, 200]
    assert len({as_json(r)["pid"] for r in results}) == 1


def test_a_timeout_answers_504_and_the_next_request_gets_a_new_environment(app_project: Path) -> None:
    with serve_app(app_project, "--timeout", "1") as server:
        before = as_json(server.request("/app/hello"))
        late = server.request("/app/sleep?s=5")
        after = as_json(server.request("/app/hello"))
        server.wait_for(re.compile("Status: timeout"))  # printed after the answer, in its own thread
        output = server.stdout
    assert late.status == 504 and json.loads(late.body) == {"message": "Endpoint request timed out"}
    assert "Status: timeout" in output and "Task timed out after 1.00 seconds" in output
    assert after["pid"] != before["pid"] and after["calls"] == 1


def test_a_handler_error_or_a_bad_response_is_api_gateways_502_and_the_console_says_why(app_project: Path) -> None:
    with serve_app(app_project) as server:
        boom = server.request("/app/boom")
        bad = server.request("/app/bad")
        fine = as_json(server.request("/app/hello"))
        # each request's console lines come after its answer (in its connection's thread): wait for them
        server.wait_for(re.compile("lpack: 502: the function failed"))
        server.wait_for(re.compile("lpack: 502: the function's response is not valid here"))
        output = server.stdout
    assert boom.status == 502 and json.loads(boom.body) == {"message": "Internal server error"}
    assert boom.header("X-Lpack-Error") == "ValueError: boom"
    assert bad.status == 502 and json.loads(bad.body) == {"message": "Internal server error"}
    assert "lpack: 502: the function failed (ValueError)" in output
    assert "lpack: 502: the function's response is not valid here: " in output
    assert fine["calls"] == 3  # an exception leaves the environment warm


def test_an_event_over_lambdas_request_limit_is_api_gateways_413_and_one_under_it_is_served(
        app_project: Path) -> None:
    # a control character is 6 bytes in the event's JSON (\\u0001): 1,000,000 of them make a 6 MB event
    with serve_app(app_project, "--no-reload") as server:
        over = server.request("/app/big", method="POST", body=b"\x01" * 1_050_000)
        under = server.request("/app/big", method="POST", body=b"\x01" * 1_000_000)
        plain = server.request("/app/big", method="POST", body=b"x" * 6_000_000)
        server.wait_for(re.compile("lpack: 413: the event is over Lambda's 6,291,456-byte request limit"))
    assert over.status == 413 and json.loads(over.body) == {"message": "Request Too Long"}
    assert as_json(under)["action"] == "big"
    assert as_json(plain)["action"] == "big"


def test_a_save_reloads_and_a_broken_save_is_shown_until_fixed(app_project: Path) -> None:
    source = app_project / "app.py"
    with serve_app(app_project) as server:
        assert as_json(server.request("/app/x"))["version"] == 1
        source.write_text(APP.replace("VERSION = 1", "VERSION = 2"))
        assert _eventually(server, lambda r: r.status == 200 and json.loads(r.body)["version"] == 2)

        source.write_text(APP.replace("def handler(event, context):", "def handler(event, context:"))
        broken = _eventually(server, lambda r: r.status == 502)
        assert "SyntaxError" in (broken.header("X-Lpack-Error") or "")
        assert server.proc.poll() is None

        (app_project / "lpack.toml").write_text('name = "app"\nhandler = "app.handler"\ntimeout = "soon"\n')
        config = _eventually(server, lambda r: r.status == 502 and b"does not build" in r.body)
        assert "lpack.toml" in config.text

        (app_project / "lpack.toml").write_text('name = "app"\nhandler = "app.handler"\n')
        source.write_text(APP.replace("VERSION = 1", "VERSION = 3"))
        fixed = _eventually(server, lambda r: r.status == 200 and json.loads(r.body)["version"] == 3)
        assert json.loads(fixed.body)["calls"] == 1  # a fresh environment
        errors = server.stderr
    assert "changed: app.py; rebuilding" in errors
    assert "the rebuild failed; every request shows this until it is fixed" in errors


def _eventually(server: Running, wanted: object, timeout_s: float = 60.0) -> Reply:
    deadline = time.monotonic() + timeout_s
    while True:
        reply = server.request("/app/x")
        if wanted(reply):  # type: ignore[operator]
            return reply
        if time.monotonic() > deadline:
            raise AssertionError(f"still {reply.status} {reply.body!r}")
        time.sleep(0.05)


def test_ctrl_c_stops_the_server_and_every_environment(sam_project: Path) -> None:
    server = Running([str(sam_project), "--concurrency", "2"])
    try:
        for path in ("/items/1", "/", "/items/2"):
            assert server.request(path).status == 200
        children = server.descendants()
        assert len(children) >= 2  # one environment per function at least
        code = server.stop(signal.SIGINT)
    finally:
        if server.proc.poll() is None:
            server.proc.kill()
    assert code == 130
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [pid for pid in children if alive(pid)] == []
    assert "lpack: interrupted" in server.stderr


def test_sigterm_stops_it_too(app_project: Path) -> None:
    server = serve_app(app_project)
    assert server.request("/app/x").status == 200
    children = server.descendants()
    assert server.stop(signal.SIGTERM) == 130
    time.sleep(0.2)
    assert [pid for pid in children if alive(pid)] == []


def test_another_host_needs_allow_remote(app_project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", str(app_project), "--host", "0.0.0.0", "--event-shape", "alb"]) == 2
    assert "--host 0.0.0.0 would let other machines run your functions" in capsys.readouterr().err


def test_a_remote_host_with_allow_remote_is_served_with_a_warning(app_project: Path) -> None:
    with Running([str(app_project), "--event-shape", "api-gateway-v1", "--host", "0.0.0.0", "--allow-remote"]) as server:
        assert server.url.startswith("http://0.0.0.0:")
        server.host = "127.0.0.1"
        assert server.request("/app/x").status == 200
        assert "anyone who can reach this machine can call the functions" in server.stderr


def test_a_port_in_use_is_an_error_that_says_what_to_do(app_project: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = main(["serve", str(app_project), "--event-shape", "api-gateway-v1", "--port", str(port),
                     "--no-reload", "-q"])
    assert code == 2
    assert "pass another --port (0 picks a free one)" in capsys.readouterr().err


def test_a_project_without_http_events_needs_an_event_shape(app_project: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", str(app_project), "-q"]) == 2
    assert "no function has an HTTP event" in capsys.readouterr().err


def test_debug_port_without_debugpy_says_how_to_install_it(app_project: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    import importlib.util

    if importlib.util.find_spec("debugpy") is not None:
        pytest.skip("debugpy is installed here")
    assert main(["serve", str(app_project), "--event-shape", "alb", "--debug-port", "5678"]) == 2
    assert "--debug-port needs debugpy" in capsys.readouterr().err


def test_debug_port_runs_the_handler_under_debugpy_once_a_debugger_attaches(app_project: Path) -> None:
    """A real DAP client (debugpy's protocol: initialize, attach, configurationDone) attaches; until it
    does, the request waits at init."""
    import importlib.util

    if importlib.util.find_spec("debugpy") is None:
        pytest.skip("needs debugpy (pip install 'lpack-lambda[debug]')")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    replies: list[Reply] = []
    with serve_app(app_project, "--debug-port", str(port)) as server:
        waiting = threading.Thread(target=lambda: replies.append(server.request("/app/debugged")))
        waiting.start()
        debugger = _attach(port)
        try:
            waiting.join(60)
        finally:
            debugger.close()
        assert replies and as_json(replies[0])["action"] == "debugged"
        errors = server.stderr
    assert f"runs from {Path(errors.split('runs from ')[1].split(' ')[0])}" in errors
    assert "serve/task/app" in errors


def _attach(port: int) -> socket.socket:
    """Connect when debugpy listens, and do the Debug Adapter Protocol's attach handshake."""
    deadline = time.monotonic() + 60
    while True:
        try:
            connection = socket.create_connection(("127.0.0.1", port), timeout=60)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    stream = connection.makefile("rb")

    def send(seq: int, command: str, **arguments: object) -> None:
        body = json.dumps({"seq": seq, "type": "request", "command": command, "arguments": arguments}).encode()
        connection.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def until(kind: str, name: str) -> None:
        while True:
            length = 0
            while (line := stream.readline().strip()):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            message = json.loads(stream.read(length))
            if message.get("type") == kind and name in (message.get("command"), message.get("event")):
                return

    send(1, "initialize", adapterID="debugpy", clientID="lpack-tests", pathFormat="path")
    until("response", "initialize")
    send(2, "attach", justMyCode=True)
    until("event", "initialized")
    send(3, "configurationDone")
    until("response", "configurationDone")
    return connection


def test_ctrl_c_during_a_request_ends_its_environment_too(app_project: Path, tmp_path: Path) -> None:
    server = serve_app(app_project, "--timeout", "300")
    replies: list[object] = []

    def call() -> None:
        try:
            replies.append(server.request(f"/app/hold?dir={tmp_path}"))
        except (OSError, http.client.HTTPException) as exc:  # the server closes the connection as it stops,
            replies.append(exc)  # perhaps after the status line of the 502 it was writing

    waiting = threading.Thread(target=call)
    waiting.start()
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob("started-*")) and time.monotonic() < deadline:
        time.sleep(0.02)
    children = server.descendants()
    assert children and list(tmp_path.glob("started-*"))  # the handler is running, held
    assert server.stop(signal.SIGINT) == 130
    waiting.join(30)
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [pid for pid in children if alive(pid)] == []


def test_a_function_url_event_names_the_region_and_a_bare_value_is_passed_on_as_sent(tmp_path: Path) -> None:
    """The function URL's domain is in the region the function runs in (--region), and a handler
    returning a bare value gets that value's own text as the body, as a function URL answers."""
    root = tmp_path / "url"
    root.mkdir()
    (root / "lpack.toml").write_text('name = "url"\nhandler = "app.handler"\n')
    (root / "app.py").write_text(
        "def handler(event, context):\n"
        "    return {'domain': event['requestContext']['domainName'], 'arn': context.invoked_function_arn,\n"
        "            'word': 'caf\\u00e9'}\n")
    # python3.12's runtime writes raw UTF-8 (the others \\u escapes): the body keeps it
    with Running([str(root), "--event-shape", "function-url", "--region", "eu-west-1", "--runtime", "python3.12"]) as server:
        reply = server.request("/")
    assert reply.status == 200
    document = json.loads(reply.body)
    assert document["domain"].endswith(".lambda-url.eu-west-1.on.aws"), document
    assert document["arn"].startswith("arn:aws:lambda:eu-west-1:")
    assert document["word"] == "café" and b'"word": "caf\xc3\xa9"' in reply.body


def test_a_module_the_runtime_ships_is_provided_and_the_request_run_again(tmp_path: Path) -> None:
    """`import boto3` works on Lambda without bundling it: as `lpack invoke` does, serve provides
    the runtime's modules (installed into the cache once; here already there, put in place after the
    server started so no index is needed) and runs the request again instead of answering 502."""
    root = tmp_path / "uses-boto3"
    root.mkdir()
    (root / "lpack.toml").write_text('name = "uses-boto3"\nhandler = "app.handler"\nruntime = "python3.12"\n')
    (root / "app.py").write_text("import boto3\n\n\ndef handler(event, context):\n"
                                 "    return {'statusCode': 200, 'body': boto3.__version__}\n")
    cache = tmp_path / "cache"
    with Running([str(root), "--event-shape", "api-gateway-v1", "--cache-dir", str(cache), "--no-reload"]) as server:
        provided = cache / "invoke" / "runtime" / "python3.12-x86_64" / "boto3"
        provided.mkdir(parents=True)
        (provided / "__init__.py").write_text("__version__ = '1.40.0-provided'\n")
        first = server.request("/uses-boto3")
        second = server.request("/uses-boto3")  # the note is printed before the first answer is sent
        output = server.stdout + server.stderr
    assert (first.status, first.body) == (200, b"1.40.0-provided"), (first, output)
    assert (second.status, second.body) == (200, b"1.40.0-provided")
    assert output.count("installed boto3") == 1  # once, not per request
