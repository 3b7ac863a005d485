"""``python -m lpack.bundle._set_fetcher``: the process lpack.bundle.artifacts.SetFetcher starts
to make the remote cache's client and download a build's archive while the build works out its
keys. It speaks JSON on its standard input and output, and nothing else."""

from __future__ import annotations

import signal
import sys

if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C at a terminal: the build says so, not this process
    from lpack.bundle.artifacts import serve_set_fetch

    sys.exit(serve_set_fetch(sys.stdin, sys.stdout))
