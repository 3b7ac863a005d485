"""Warm execution environments for `lpack serve`: per function, a pool of up to N sandboxes.

Lambda's model: an execution environment serves one request at a time and stays warm between
requests (its init runs once, the first request reports the Init Duration); a function scales to
more environments up to its concurrency limit. Here each environment is one ``Sandbox`` (a child
process running the bootstrap), created when a request finds none free and the pool is below its
limit. At the limit a request waits for a free environment (queued, up to ``wait_s``), where
Lambda would throttle at once (429 TooManyRequestsException): a local server is used from a
browser that loads several things at a time, and a queue answers all of them; a request that
waited ``wait_s`` in vain gets the throttle.

A ``Generation`` is what one build serves: its routes, one pool per function, or the build's error.
Reload swaps in a new generation for new requests; the old one's environments end as soon as
their in-flight requests finish.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from lpack.invoke.interpreter import Interpreter
from lpack.invoke.runner import Plan
from lpack.invoke.sandbox import Outcome, Request, Sandbox, Spec


class Throttled(Exception):
    """Every environment of the function stayed busy for as long as a request may wait."""


class Pool:
    """Up to ``size`` warm environments of one function; each runs one request at a time."""

    def __init__(self, spec: Spec, size: int) -> None:
        self.spec = spec
        self.size = size
        self._idle: list[Sandbox] = []
        self._every: set[Sandbox] = set()  # idle or busy
        self._count = 0
        self._closed = False
        self._free = threading.Condition()

    def invoke(self, request: Request, wait_s: float) -> Outcome:
        sandbox = self._acquire(wait_s)
        try:
            return sandbox.invoke(request)
        finally:
            self._release(sandbox)

    def _acquire(self, wait_s: float) -> Sandbox:
        with self._free:
            if not self._free.wait_for(lambda: self._idle or self._count < self.size, timeout=wait_s):
                raise Throttled(self.spec.handler)
            if self._idle:
                return self._idle.pop()
            self._count += 1
            sandbox = Sandbox(self.spec)
            self._every.add(sandbox)
            return sandbox

    def provide(self, runtime_paths: tuple[str, ...]) -> None:
        """Run with the runtime's modules (boto3) from ``runtime_paths`` from now on: the idle
        environments end, and a busy one ends when its request is done."""
        with self._free:
            self.spec = self.spec._replace(runtime_paths=runtime_paths)
            ending, self._idle = self._idle, []
            self._every -= set(ending)
            self._count = len(self._every)
            self._free.notify_all()
        for sandbox in ending:
            sandbox.close()

    def _release(self, sandbox: Sandbox) -> None:
        with self._free:
            if not self._closed and sandbox.spec is self.spec:
                self._idle.append(sandbox)
                self._free.notify()
                return
            self._count -= 1
            self._every.discard(sandbox)
        sandbox.close()  # its generation was replaced while it ran: end it now that it is done

    @property
    def started(self) -> int:
        """How many environments this pool has made (busy or idle)."""
        return self._count

    def close(self, now: bool = False) -> None:
        """End the idle environments now and the busy ones when their request is done (``now``:
        the busy ones too, their requests failing, as when the server stops)."""
        with self._free:
            self._closed = True
            ending = set(self._every) if now else set(self._idle)
            self._idle = []
            self._every -= ending
            self._count = len(self._every)
            self._free.notify_all()
        for sandbox in ending:
            sandbox.close()


class Function(NamedTuple):
    """One function as served: its plan, the Python it runs under, and its environments."""

    plan: Plan
    interpreter: Interpreter
    pool: Pool


class Generation(NamedTuple):
    """What one build serves: the routes and a pool per function, or the error that stopped it."""

    routes: Sequence[Any]  # lpack.serve.routes.Route
    functions: Mapping[str, Function]
    error: str | None = None  # the build's or configuration's error, shown on every request until fixed

    def close(self, now: bool = False) -> None:
        for function in self.functions.values():
            function.pool.close(now)

    @property
    def running(self) -> int:
        """Environments still alive (busy ones of a replaced generation finish their request)."""
        return sum(function.pool.started for function in self.functions.values())


def broken(error: str, routes: Sequence[Any] = ()) -> Generation:
    return Generation(routes, {}, error)
