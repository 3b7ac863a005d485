"""Children that a test interrupts as a terminal's Ctrl-C would.

A shell that runs the test suite as a background job (`pytest &` in a script, some CI runners)
starts it with SIGINT ignored, and every child inherits that: Python then installs no
KeyboardInterrupt handler, and a test sending SIGINT would see a program that never stops.
``interruptible_python(ARGS)`` is the command line of ``python ARGS`` with SIGINT's default
disposition restored first (it survives the exec; an ignored one would too), as at a terminal.
"""

from __future__ import annotations

import sys

_RESTORE = ("import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
            "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])")


def interruptible_python(*args: str) -> list[str]:
    return [sys.executable, "-c", _RESTORE, *args]
