#!/usr/bin/env python3
"""What `lpack serve` costs per request, against calling the handler in-process, and how soon a save is served.

1. Warm requests. Two baselines, each a bare ``http.server`` (ThreadingHTTPServer, HTTP/1.1
   keep-alive, TCP_NODELAY) in a child process that imports the handler and calls it in-process:
   - ``bare``: with a small REST-API-like event of its own (no request context, no multi-value
     headers), its result's fields written back as the response;
   - ``bare+shapes``: with the event lpack's own code builds for the route (lpack.serve.shapes:
     the same API Gateway event, request id and trace header) and the response translated by it,
     status line, headers and body in one write as lpack does. What it leaves out is exactly the
     execution environment: a separate process, the event and response as JSON through a pipe,
     the context (deadline, ARN, trace id), the logs captured per request, the REPORT's figures.
   Against them: ``lpack serve`` of the same trivial handler (--event-shape api-gateway-v1, or
   --shape, one warm environment, -qq so nothing is printed). One keep-alive client sends
   --requests sequential GETs to each, rounds interleaved (bare, bare+shapes, lpack, bare, ...);
   each round gives a median latency and requests/s. Goal: lpack's latency at most 3x the
   baseline's, and at least 200 requests/s, on this 2-core machine. ``--clients 4`` also runs four
   clients at once against ``--concurrency 2``.
2. Reload after save: a project with a dependency (a wheel built here, installed from a local
   --find-links folder) served with reload on; the handler's source is edited (a source-only edit)
   and the time from the write to the first response carrying the new code is measured, --runs
   times. Goal: at most 0.5 s. It includes the watcher's polling interval (0.25 s: 0.125 s on
   average).

Hermetic (no network). Usage:
    python benchmarks/bench_serve.py [--runs 7] [--requests 500] [--clients 4] [--shape api-gateway-v2]
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.serve._running import REPO, Running

APP = """\
import json

VERSION = 1


def handler(event, context):
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"},
            "body": json.dumps({"ok": True, "version": VERSION, "path": event.get("rawPath") or event["path"]})}
"""

BARE = """\
import json, socket, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
sys.path.insert(0, sys.argv[1])
from app import handler


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as lpack serve: no 40 ms stalls

    def do_GET(self):
        path, _, query = self.path.partition("?")
        event = {"resource": "/{proxy+}", "path": path, "httpMethod": "GET", "headers": dict(self.headers),
                 "queryStringParameters": None, "body": None, "isBase64Encoded": False,
                 "requestContext": {"requestTimeEpoch": int(time.time() * 1000)}}
        result = handler(event, None)
        body = result["body"].encode()
        self.send_response(result["statusCode"])
        for name, value in result["headers"].items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
"""

SHAPED = """\
import socket, sys, time, uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from app import handler
from lpack.inputs.detect import load
from lpack.serve.routes import match, routes
from lpack.serve.shapes import HttpRequest, to_event, to_response

ROUTES = routes(load(Path(sys.argv[1]))[0], sys.argv[2])


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self):
        path, _, query = self.path.partition("?")
        request = HttpRequest(self.command, path, query, list(self.headers.items()), b"", self.client_address[0],
                              self.headers.get("Host"), self.request_version)
        route, params = match(ROUTES, request.method, request.path)
        event = to_event(route, params, request, request_id=str(uuid.uuid4()), now_ms=int(time.time() * 1000))
        response = to_response(route, handler(event, None), request)
        lines = [f"HTTP/1.1 {response.status} OK", *(f"{k}: {v}" for k, v in response.headers),
                 f"Date: {self.date_time_string()}", f"Content-Length: {len(response.body)}"]
        self.wfile.write(("\\r\\n".join(lines) + "\\r\\n\\r\\n").encode("latin-1") + response.body)

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
"""


def project(root: Path, requirements: str = "") -> Path:
    root.mkdir(parents=True)
    (root / "lpack.toml").write_text('name = "app"\nhandler = "app.handler"\n')
    (root / "app.py").write_text(APP)
    if requirements:
        (root / "requirements.txt").write_text(requirements)
    return root


def load(host: str, port: int, path: str, count: int) -> list[float]:
    """Latencies (s) of ``count`` sequential GETs on one keep-alive connection."""
    connection = http.client.HTTPConnection(host, port, timeout=60)
    samples = []
    try:
        for _ in range(count):
            start = time.perf_counter()
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            samples.append(time.perf_counter() - start)
            assert response.status == 200, response.status
    finally:
        connection.close()
    return samples


def parallel(host: str, port: int, path: str, count: int, clients: int) -> float:
    """Requests/s of ``clients`` keep-alive clients sending ``count`` requests each at once."""
    threads = [threading.Thread(target=load, args=(host, port, path, count)) for _ in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return clients * count / (time.perf_counter() - start)


def spread(values: list[float], scale: float = 1.0, digits: int = 2) -> str:
    return " / ".join(f"{v * scale:.{digits}f}" for v in (min(values), statistics.median(values), max(values)))


def baseline(script: str, root: Path, shape: str) -> tuple[subprocess.Popen[str], int]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    server = subprocess.Popen([sys.executable, "-c", script, str(root), shape], stdout=subprocess.PIPE, text=True,
                              env=env)
    assert server.stdout is not None
    return server, int(server.stdout.readline())


def warm(work: Path, runs: int, count: int, clients: int, shape: str) -> None:
    root = project(work / "warm")
    servers = dict(zip(("bare", "bare+shapes"), (baseline(script, root, shape) for script in (BARE, SHAPED))))
    latency: dict[str, list[float]] = {name: [] for name in (*servers, "lpack")}
    rps: dict[str, list[float]] = {name: [] for name in latency}
    args = [str(root), "--event-shape", shape, "--no-reload", "-qq"]
    try:
        with Running(args) as served:
            ports = {**{name: ("127.0.0.1", port) for name, (_, port) in servers.items()},
                     "lpack": (served.host, served.port)}
            for host, port in ports.values():
                load(host, port, "/app/x", 20)  # init, and warm each
            for _ in range(runs):
                for name, (host, port) in ports.items():
                    samples = load(host, port, "/app/x", count)
                    latency[name].append(statistics.median(samples))
                    rps[name].append(count / sum(samples))
        print(f"warm requests ({shape}), {runs} interleaved rounds of {count} sequential GETs (min / median / max):")
        for name, medians in latency.items():
            print(f"  {name:<12} {spread(medians, 1000, 3)} ms, {spread(rps[name], digits=0)} req/s")
        for name in servers:
            ratios = [ours / base for ours, base in zip(latency["lpack"], latency[name])]
            print(f"  latency ratio lpack / {name:<12} {spread(ratios)}x  (goal <= 3x; >= 200 req/s)")
        if clients > 1:
            host, port = ports["bare"]
            with Running([*args, "--concurrency", "2"]) as served:
                parallel(served.host, served.port, "/app/x", 20, clients)
                ours_p, base_p = [], []
                for _ in range(runs):
                    base_p.append(parallel(host, port, "/app/x", count // clients, clients))
                    ours_p.append(parallel(served.host, served.port, "/app/x", count // clients, clients))
            print(f"  {clients} clients at once, --concurrency 2: bare {spread(base_p, digits=0)} req/s, "
                  f"lpack {spread(ours_p, digits=0)} req/s")
    finally:
        for server, _ in servers.values():
            server.kill()
            server.wait()


def reload_after_save(work: Path, runs: int) -> None:
    from tests.factories.wheels import make_wheel

    house = work / "wheels"
    house.mkdir()
    make_wheel(house, "demo-dep", "1.0", files={"demo_dep/__init__.py": "VALUE = 1\n" + "X = 0\n" * 2000})
    root = project(work / "reload", f"--no-index\n--find-links {house}\ndemo-dep==1.0\n")
    (root / "app.py").write_text("import demo_dep\n" + APP)
    samples = []
    with Running([str(root), "--event-shape", "api-gateway-v1", "-q"]) as served:
        load(served.host, served.port, "/app/x", 1)
        for version in range(2, runs + 2):
            time.sleep(0.3)  # the watcher's next poll is not aligned with the write
            (root / "app.py").write_text("import demo_dep\n" + APP.replace("VERSION = 1", f"VERSION = {version}"))
            start = time.perf_counter()
            while f'"version": {version}' not in served.request("/app/x").text:
                time.sleep(0.005)
            samples.append(time.perf_counter() - start)
    print(f"reload after a source-only save (project with a dependency), {runs} saves: "
          f"{spread(samples, digits=3)} s  (goal <= 0.5 s; includes the 0.25 s poll interval)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--shape", default="api-gateway-v1", help="the event shape served (--event-shape)")
    args = parser.parse_args()
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["LPACK_CACHE_DIR"] = str(Path(tmp) / "cache")
        os.environ["UV_CACHE_DIR"] = str(Path(tmp) / "uv-cache")
        warm(Path(tmp), args.runs, args.requests, args.clients, args.shape)
        reload_after_save(Path(tmp), args.runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
