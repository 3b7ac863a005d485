"""The HTTP side of `lpack serve`: receive a request, find its route, run the function, answer.

One ``ThreadingHTTPServer`` (standard library) on one port serves every route of the project.
Each request is turned into the event its integration sends (shapes.to_event), run in a warm
environment of the function (environments.Pool), and its result turned back into the HTTP
response that integration gives (shapes.to_response), or into the integration's own error
(a timeout: 504; a handler error or a bad response: 502; no route: 403/404). Nothing is printed
here: every request ends in one ``Served`` record passed to ``on_served`` (the CLI renders it).
"""

from __future__ import annotations

import email.utils
import json
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple

from lpack.core import limits
from lpack.invoke import runtime_modules
from lpack.invoke.runner import Plan, region_of, request_for
from lpack.invoke.sandbox import Outcome, new_request_id
from lpack.serve.environments import Function, Generation, Throttled
from lpack.serve.request_head import BadHead, Head, read_head
from lpack.serve.routes import Route, match
from lpack.serve.shapes import BadResponse, HttpRequest, HttpResponse, error_response
from lpack.serve.shapes import to_event as event_for
from lpack.serve.shapes import to_response as response_for

THROTTLED = HttpResponse(429, [("Content-Type", "application/json")], b'{"message":"Too Many Requests"}')
ERROR_HEADER_CHARS = 500
EVENT_OWN_BYTES = 16_384  # an event's fields that are not the request's (its context, names), at most
WAIT_FLOOR_S = 30.0  # how long a request may wait for a free environment, at least (else its timeout)


class Served(NamedTuple):
    """One request as the console shows it: the access line, then the function's log stream."""

    request: HttpRequest
    status: int
    size_bytes: int
    duration_ms: float
    route: Route | None = None
    outcome: Outcome | None = None
    plan: Plan | None = None
    python: str | None = None  # the interpreter's version, for INIT_START
    problem: str | None = None  # why the answer is not the function's: a bad response, a throttle, a build error


OnServed = Callable[[Served], None]
Provide = Callable[[Function, str], bool]  # (function, missing module) -> whether it is now provided


class App:
    """What the handler threads share: the current generation, swapped whole on reload."""

    def __init__(self, generation: Generation, on_served: OnServed, region: str | None = None,
                 provide: Provide = lambda _function, _module: False) -> None:
        self.region = region_of(region)  # --region, else the shell's AWS_REGION ...: looked up once
        self.provide = provide  # installs the runtime's modules (boto3) a function misses, as invoke does
        self.on_served = on_served
        self._generation = generation
        self._draining: list[Generation] = []  # replaced, with requests still running in them
        self._building = False
        self._changed = threading.Condition()

    # -- reload ---------------------------------------------------------------------------------

    def reloading(self) -> None:
        """A rebuild has begun: new requests wait for its generation rather than run the old code."""
        with self._changed:
            self._building = True

    def swap(self, generation: Generation) -> Generation:
        """Serve ``generation`` from now on; the old one's environments end once idle."""
        with self._changed:
            old, self._generation = self._generation, generation
            self._building = False
            self._changed.notify_all()
        old.close()
        self._draining = [g for g in (*self._draining, old) if g.running]
        return old

    def current(self) -> Generation:
        with self._changed:
            self._changed.wait_for(lambda: not self._building)
            return self._generation

    def close(self) -> None:
        """End every environment, busy or not, of every generation: the server is stopping."""
        with self._changed:
            self._building = False
            self._changed.notify_all()
            generations = [self._generation, *self._draining]
        for generation in generations:
            generation.close(now=True)

    # -- one request ----------------------------------------------------------------------------

    def answer(self, request: HttpRequest) -> tuple[HttpResponse, Served]:
        started = time.perf_counter()
        generation = self.current()
        try:
            response, served = self._answer(generation, request)
        except Exception as exc:  # noqa: BLE001 -- a bug answers this request, and the server goes on
            problem = f"internal error: {type(exc).__name__}: {exc} (please report it to lpack)"
            body = f"lpack serve: {problem}\n".encode()
            response = HttpResponse(500, [("Content-Type", "text/plain; charset=utf-8")], body)
            served = Served(request, 0, 0, 0.0, problem=problem)
        duration_ms = (time.perf_counter() - started) * 1000
        return response, served._replace(status=response.status, size_bytes=len(response.body),
                                         duration_ms=duration_ms)

    def _answer(self, generation: Generation, request: HttpRequest) -> tuple[HttpResponse, Served]:
        blank = Served(request, 0, 0, 0.0)
        if generation.error is not None:
            return _build_failed(generation.error), blank._replace(problem=generation.error)
        found = match(generation.routes, request.method, request.path)
        if found is None:
            return error_response(generation.routes[0], "no-route"), blank._replace(problem="no route matches")
        route, params = found
        function = generation.functions[route.function]
        served = blank._replace(route=route, plan=function.plan, python=function.interpreter.full_version)
        request_id = new_request_id()
        event = event_for(route, params, request, request_id=request_id, now_ms=int(time.time() * 1000),
                          region=self.region)
        if _event_too_large(request, event):
            return error_response(route, "too-large"), served._replace(
                problem=f"the event is over Lambda's {limits.SYNC_PAYLOAD.value:,}-byte request limit")
        invocation = request_for(function.plan, event, request_id, self.region)
        try:
            outcome = function.pool.invoke(invocation, _wait_s(function))
            module = runtime_modules.missing_module(outcome.error)
            if module is not None and self.provide(function, module):  # as on Lambda, boto3 is there
                outcome = function.pool.invoke(invocation, _wait_s(function))
        except Throttled:
            return THROTTLED, served._replace(problem=f"all {function.pool.size} environment(s) of "
                                              f"{route.function} stayed busy (raise --concurrency)")
        response, problem = _response(route, outcome, request)
        return response, served._replace(outcome=outcome, problem=problem)


def _event_too_large(request: HttpRequest, event: dict[str, Any]) -> bool:
    """Whether the event, as JSON, is over Lambda's request limit; written out only for a request
    big enough that it might be: each byte of the request's body, headers, path and query becomes
    at most 32 of the event's JSON (a byte may be a 6-character escape, the Host header is there
    four times), plus the event's own fields."""
    received = len(request.body) + len(request.path) + len(request.query)
    received += sum(len(name) + len(value) + 4 for name, value in request.headers)
    limit = limits.SYNC_PAYLOAD.value
    return received * 32 + EVENT_OWN_BYTES > limit and len(json.dumps(event)) > limit  # (ASCII JSON)


def _wait_s(function: Function) -> float:
    return max(WAIT_FLOOR_S, function.plan.timeout_s)


def _response(route: Route, outcome: Outcome, request: HttpRequest) -> tuple[HttpResponse, str | None]:
    """The integration's answer to what the function did."""
    if outcome.status == "timeout":
        return error_response(route, "timeout"), f"the function timed out after {outcome.timeout_s:.2f} s"
    if outcome.error is not None or outcome.response is None:
        error = outcome.error or {}
        kind = error.get("errorType", "error")
        return _with_error(error_response(route, "handler-error"), error), f"the function failed ({kind})"
    if len(outcome.response.encode("utf-8", "surrogateescape")) > limits.SYNC_RESPONSE.value:
        return error_response(route, "too-large"), (
            f"the response is over Lambda's {limits.SYNC_RESPONSE.value:,}-byte limit")
    try:
        result = json.loads(outcome.response) if not outcome.binary else outcome.response
        return response_for(route, result, request, raw=None if outcome.binary else outcome.response), None
    except (BadResponse, ValueError) as exc:
        reason = getattr(exc, "reason", None) or str(exc)
        return error_response(route, "bad-response"), f"the function's response is not valid here: {reason}"


def _with_error(response: HttpResponse, error: dict[str, Any]) -> HttpResponse:
    """The integration's own answer, plus the function's error in one header (``X-Lpack-Error``) for
    whoever looks at the response rather than at the console."""
    text = " ".join(f"{error.get('errorType', 'Error')}: {error.get('errorMessage', '')}".split())
    shown = text.encode("ascii", "replace").decode("ascii")[:ERROR_HEADER_CHARS]
    return response._replace(headers=[*response.headers, ("X-Lpack-Error", shown)])


def _build_failed(error: str) -> HttpResponse:
    body = f"lpack serve: the project does not build, so nothing is served until it does:\n\n{error}\n"
    return HttpResponse(502, [("Content-Type", "text/plain; charset=utf-8")], body.encode("utf-8"))


# -- HTTP ---------------------------------------------------------------------------------------

class Handler(BaseHTTPRequestHandler):
    """Reads the request as received (raw path, headers in order), writes the answer as given."""

    protocol_version = "HTTP/1.1"  # keep-alive: a browser or a benchmark reuses its connection
    server: HttpServer
    raw_requestline: bytes  # set by handle_one_request
    head: Head  # the request's head, as read by parse_request

    def setup(self) -> None:
        super().setup()
        # headers and body are two writes: without this, Nagle's algorithm holds the body back
        # until the client's delayed ACK (~40 ms a request on Linux)
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def parse_request(self) -> bool:
        """BaseHTTPRequestHandler's, with the head read by request_head instead of the email package."""
        self.requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        try:
            head = read_head(self.requestline, self.rfile, self.protocol_version)
        except BadHead as bad:
            self.command, self.request_version, self.close_connection = "", bad.version, True
            if bad.status is not None:
                self.send_error(bad.status, bad.message, bad.explain)
            return False
        self.command, self.path, self.request_version = head.command, head.path, head.version
        self.head, self.headers, self.close_connection = head, head.headers, head.close
        return self.handle_expect_100() if head.expect_continue else True

    def _serve(self) -> None:
        body = self._body()
        if body is None:
            return
        path, _, query = self.path.partition("?")
        host = self.head.first.get("host") or "{}:{}".format(*self.server.server_address[:2])
        request = HttpRequest(self.command, path, query, self.head.fields, body,
                              self.client_address[0], host, self.request_version)
        response, served = self.server.app.answer(request)
        self._write(response)
        self.server.app.on_served(served)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

    def _body(self) -> bytes | None:
        if "chunked" in self.head.first.get("transfer-encoding", "").lower():
            return self._chunked()
        try:
            length = int(self.head.first.get("content-length") or 0)
        except ValueError:
            self.send_error(400, "Bad Content-Length")
            return None
        return self.rfile.read(length) if length > 0 else b""

    def _chunked(self) -> bytes:
        body = bytearray()
        while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
            body += self.rfile.read(size)
            self.rfile.readline()
        while self.rfile.readline().strip():  # trailers
            pass
        return bytes(body)

    def _write(self, response: HttpResponse) -> None:
        """The status line, headers and body in one write (a system call and a client read fewer a
        request than BaseHTTPRequestHandler's flush of the headers before the body)."""
        reason = self.responses.get(response.status, ("",))[0]
        lines = [f"{self.protocol_version} {response.status} {reason}"]
        lines += [f"{name}: {value}" for name, value in response.headers
                  if name.lower() not in ("content-length", "transfer-encoding", "connection")]
        lines += [f"Date: {_http_date()}", f"Content-Length: {len(response.body)}"]
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "strict")
        self.wfile.write(head if self.command == "HEAD" else head + response.body)

    def log_message(self, format: str, *args: Any) -> None:
        """The console's access line comes from ``Served``; http.server's own lines would repeat it."""


_date = (0, "")  # (second, its HTTP date): formatted once a second, not once a request


def _http_date() -> str:
    global _date
    now = int(time.time())
    second, text = _date
    if second != now:
        text = email.utils.formatdate(now, usegmt=True)
        _date = (now, text)
    return text


class HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True  # a restarted `lpack serve` gets its port back at once
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], app: App) -> None:
        self.app = app
        super().__init__(address, Handler)


class HttpServer6(HttpServer):
    address_family = socket.AF_INET6


def listen(host: str, port: int, app: App) -> HttpServer:
    """Bind (port 0: any free port; ``server_address`` says which)."""
    if ":" in host:
        return HttpServer6((host, port), app)
    return HttpServer((host, port), app)
