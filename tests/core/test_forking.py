"""A stop signal that lands in a forked child before its handlers are set (lpack.core.forking):
a Ctrl-C at a terminal reaches the build's processes at once, one of them perhaps mid-fork. Here
the child sends itself SIGINT from an after-fork hook, which is where such a signal lands."""

from __future__ import annotations

import subprocess
import textwrap

import pytest

from tests.factories.processes import interruptible_python

SCRIPT = textwrap.dedent("""\
    import os, signal, sys, time
    from lpack.core.forking import ready_for_stop_signals, stop_signals_held

    os.register_at_fork(after_in_child=lambda: os.kill(os.getpid(), signal.SIGINT))  # mid-fork, as a Ctrl-C can land
    held = sys.argv[1] == "held"

    def stopped(signum, frame):
        os._exit(130)  # the child's own handler: a quiet stop

    def fork():
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGINT, stopped)
            if held:
                ready_for_stop_signals()
            time.sleep(5)
            os._exit(0)  # the signal never came
        return pid

    if held:
        with stop_signals_held():
            pid = fork()
    else:
        pid = fork()
    print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
    """)


@pytest.mark.parametrize("held", [True, False])
def test_a_stop_signal_during_a_fork_reaches_the_child_once_its_handler_is_set(held: bool) -> None:
    # as at a terminal: a test suite run as a background job inherits SIGINT ignored (tests.factories.processes)
    done = subprocess.run(interruptible_python("-c", SCRIPT, "held" if held else "not held"), capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    if held:
        assert (done.stdout.strip(), done.stderr) == ("130", "")  # its handler stopped it, nothing printed
    else:  # what lpack did before: Python's default handler in the after-fork hook, a traceback on stderr
        assert "KeyboardInterrupt" in done.stderr


def test_the_download_process_forked_mid_ctrl_c_ends_quietly() -> None:
    """lpack.bundle.artifacts._Forked: a SIGINT as it forks ends the child by the default action,
    with nothing on the terminal, and the parent goes on."""
    script = textwrap.dedent("""\
        import os, signal
        from lpack.bundle.artifacts import _Forked

        os.register_at_fork(after_in_child=lambda: os.kill(os.getpid(), signal.SIGINT))
        child = _Forked.start()
        assert child is not None
        print(child.wait())
        """)
    done = subprocess.run(interruptible_python("-c", script), capture_output=True, text=True, timeout=60, check=False)
    assert (done.returncode, done.stdout.strip(), done.stderr) == (0, str(-2), "")
