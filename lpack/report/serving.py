"""What `lpack serve` prints: where it listens, then per request an access line and the log stream.

Per request: ``127.0.0.1 "GET /items/42 HTTP/1.1" 200 57 B 3.1 ms -> Items (GET /items/{id})``,
then the function's log stream as CloudWatch would hold it (START, the function's own output,
END, REPORT; INIT_START and the Init Duration on a cold start), then, when the answer is not the
function's own, one line saying why (a bad response, a timeout, a throttle, a build error).
"""

from __future__ import annotations

from typing import Any

from lpack.report.invocation import function_logs


def ready_text(ready: Any) -> str:
    lines = [f"lpack serve: listening on {ready.url}  (Ctrl-C to stop)"]
    for route in ready.routes:
        lines.append(f"  {route.method:<7} {ready.url}{route.path}  -> {route.function} ({route.shape})")
    if ready.reload:
        lines.append("  reload on save: on (the project is rebuilt when a file changes)")
    if ready.debug_port is not None:
        lines.append(f"  debugpy: the first request of each function waits for a debugger on 127.0.0.1:"
                     f"{ready.debug_port} (docs/serve.md has the VS Code launch configuration)")
    return "\n".join(lines)


def access_line(served: Any) -> str:
    request = served.request
    target = request.path + (f"?{request.query}" if request.query else "")
    line = (f'{request.source_ip} "{request.method} {target} {request.protocol}" {served.status} '
            f"{served.size_bytes} B {served.duration_ms:.1f} ms")
    if served.route is not None:
        line += f" -> {served.route.function} ({served.route.method} {served.route.path})"
    return line


def served_text(served: Any) -> str:
    parts = [access_line(served)]
    if served.outcome is not None and served.plan is not None:
        parts.append(function_logs(served.outcome, served.plan, served.python or ""))
    if served.problem:
        parts.append(f"lpack: {served.status}: {served.problem}")
    return "\n".join(parts)
