"""Patterns compiled on first use (lpack.core.patterns): the same pattern as re.compile's, made
once, and not when the module that declares it is imported (a check's start-up)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from lpack.core.patterns import lazy


def test_a_lazy_pattern_is_compiled_once_when_first_used(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[object] = []
    compile_ = re.compile
    monkeypatch.setattr(re, "compile", lambda *args: made.append(args) or compile_(*args))
    pattern = lazy(r"secret_?access_?key", re.IGNORECASE)
    assert made == []
    assert pattern().search("AWS_SECRET_ACCESS_KEY=...") is not None
    assert pattern() is pattern()
    assert made == [(r"secret_?access_?key", re.IGNORECASE)]
    assert lazy(rb"\bmodules\b")().search(b"sys.modules[name]") is not None


def test_importing_the_secret_detectors_compiles_none_of_their_patterns() -> None:
    """A pre-commit check of a file without keys uses one of their ten patterns."""
    probe = ("import re, sys; made = []; compile_ = re.compile; "
             "re.compile = lambda *a: made.append(a) or compile_(*a); "
             "import lpack.analysis.secrets as s; print(len(made)); "
             "s.aws_keys('def handler(event, context): pass'); print(len(made))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["0", "1"]
