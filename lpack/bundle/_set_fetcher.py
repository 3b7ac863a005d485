"""``python -m lpack.bundle._set_fetcher``: the process lpack.bundle.artifacts.SetFetcher starts
to make the remote cache's client and download a build's archive while the build works out its
keys. It speaks JSON on its standard input and output, and nothing else."""

from __future__ import annotations

import os
import signal
import sys

if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C at a terminal: the build says so, not this process
    from lpack.bundle.artifacts import serve_set_fetch

    code = serve_set_fetch(sys.stdin, sys.stdout)
    sys.stdout.flush()
    # the answer is out and every file it staged is closed and flushed: the build waits for this
    # process to end, and the interpreter's teardown (botocore's modules) was ~0.05 s of that wait
    os._exit(code)
