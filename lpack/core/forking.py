"""Forking without a stop signal landing in the child before it is ready for one.

A Ctrl-C at a terminal reaches every process of the build at once. One that lands in a child
between ``fork()`` and the child's own signal handlers runs Python's default handler there,
inside the interpreter's after-fork hooks (logging's lock re-initialisation, say), and prints
"Exception ignored in ..." with a traceback. So SIGINT and SIGTERM are blocked around the fork:
the parent takes a pending one as soon as it is past the fork, and the child once it has set
its handlers (`ready_for_stop_signals`).
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager

STOP_SIGNALS = frozenset((signal.SIGINT, signal.SIGTERM))


@contextmanager
def stop_signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM held (not lost) in this thread, and so in a child forked meanwhile."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def ready_for_stop_signals() -> None:
    """In a child forked under `stop_signals_held`, once its handlers are set: a held signal now arrives."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
