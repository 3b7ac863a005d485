"""Syntax for the target Python: parse and compile with this interpreter, then decide what the
target's parser would reject (``ast``'s feature_version, the PEP 701 f-string rules, or a
``python3.X`` on PATH asked in a subprocess)."""

from __future__ import annotations

import ast
import io
import json
import posixpath
import re
import sys
import warnings
from typing import NamedTuple

from lpack.analysis.versions import Python
from lpack.core.patterns import lazy

HOST: Python = (sys.version_info[0], sys.version_info[1])


class Parsed(NamedTuple):
    tree: ast.Module | None
    error: SyntaxError | None  # the host's parser or compiler rejected it (tree is None)


def parse_host(source: bytes, filename: str) -> Parsed:
    """Parse and compile (never run) with this interpreter; compiling finds what only the compiler
    rejects ('return' outside function, duplicate arguments, ...)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            tree = ast.parse(source, filename)
            compile(tree, filename, "exec", dont_inherit=True)
        except SyntaxError as exc:
            return Parsed(None, exc)
        except (ValueError, RecursionError, MemoryError, OverflowError):
            return Parsed(None, None)
    return Parsed(tree, None)


class SyntaxProblem(NamedTuple):
    line: int | None
    message: str  # as str(SyntaxError) prints it: "invalid syntax (app.py, line 3)"
    found_by: str  # "Python 3.11's parser", "ast feature_version=(3, 10)", "python3.12", "PEP 701 rules"


def _describe(exc: SyntaxError, filename: str, line: int | None = None) -> str:
    line = line if line is not None else exc.lineno
    return f"{exc.msg} ({posixpath.basename(filename)}, line {line})" if line else str(exc.msg)


# Grammar that each Python version added and older parsers reject, as patterns over source lines.
# When the host cannot parse a module for a newer target and no target interpreter is at hand, a
# match near the error means "maybe valid on the target": lpack then says nothing.
_FSTRING = r"(?i)(?<![\w])(?:f|rf|fr)['\"]"
NEWER_SYNTAX: dict[Python, tuple[str, ...]] = {
    (3, 11): (r"\*",),  # except* (PEP 654); starred subscripts and annotations (PEP 646)
    (3, 12): (r"^\s*type\s+\w", r"\b(?:def|class)\s+\w+\s*\[", _FSTRING),  # PEP 695; PEP 701 f-strings
    (3, 13): (),  # PEP 696 type parameter defaults: inside the brackets PEP 695 already matches
    (3, 14): (r"\bexcept\b[^:]*,", r"(?i)(?<![\w])(?:t|rt|tr)['\"]"),  # PEP 758; PEP 750 t-strings
}
_TRIPLE_PREFIXED = lazy(r"(?i)(?<![\w])(?:[rft]{1,2})(?:'''|\"\"\")")

_ASK = """\
import json, sys, warnings
warnings.simplefilter("ignore")
try:
    compile(sys.stdin.buffer.read(), sys.argv[1], "exec", dont_inherit=True)
except SyntaxError as e:
    print(json.dumps({"v": sys.version_info[:2], "msg": str(e.msg), "line": e.lineno}))
else:
    print(json.dumps({"v": sys.version_info[:2], "msg": None, "line": None}))
"""


def ask_interpreter(python: Python, source: bytes, filename: str) -> tuple[str | None, int | None] | None:
    """Compile (never run) with ``python3.X`` from PATH: (error message or None, line); None when
    no working interpreter of that version answers."""
    import shutil
    import subprocess  # only a module this host cannot parse asks the target's interpreter

    exe = shutil.which(f"python{python[0]}.{python[1]}")
    if exe is None:
        return None
    try:
        done = subprocess.run([exe, "-I", "-S", "-c", _ASK, filename], input=source,
                              capture_output=True, timeout=20, check=False)
        answer = json.loads(done.stdout)
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    if done.returncode != 0 or not isinstance(answer, dict) or tuple(answer.get("v", ())) != python:
        return None
    return answer.get("msg"), answer.get("line")


def _maybe_newer_syntax(source: bytes, error: SyntaxError, python: Python) -> bool:
    """Whether grammar newer than the host's could be what the host's parser tripped on."""
    versions = [v for v in NEWER_SYNTAX if HOST < v <= python]
    if python > max(NEWER_SYNTAX) or not versions:
        return python > HOST  # a grammar lpack has no notes on: assume it might be
    text = source.decode("utf-8", errors="replace")
    lines = text.splitlines()
    start = max((error.lineno or 1) - 3, 0)
    end = max(error.end_lineno or 0, error.lineno or 0) + 1
    window = "\n".join(lines[start:end])
    patterns = [p for v in versions for p in NEWER_SYNTAX[v]]
    if any(re.search(p, window, re.MULTILINE) for p in patterns):
        return True
    return (3, 12) in versions and _TRIPLE_PREFIXED().search(text) is not None


def _pep701_problem(source: bytes) -> tuple[int, str] | None:
    """On a 3.12+ host, an f-string only Python 3.12+ accepts (PEP 701): inside a replacement field,
    a string using an enclosing f-string's quote, a backslash, or a comment. ast's feature_version
    does not check these."""
    import tokenize

    start, middle, end = (getattr(tokenize, f"FSTRING_{part}", None) for part in ("START", "MIDDLE", "END"))
    if start is None:
        return None
    quotes: list[str] = []  # the open f-strings' quotes, outermost first

    def clashes(quote: str) -> bool:
        return any(quote.startswith(q) if len(q) == 3 else quote[0] == q for q in quotes)

    try:
        for token in tokenize.tokenize(io.BytesIO(source).readline):
            body = token.string.lstrip("rRbBuUfF")
            quote = body[:3] if body[:3] in ('"""', "'''") else body[:1]
            if quotes and token.type in (start, tokenize.STRING) and clashes(quote):
                return token.start[0], "f-string: a nested string reuses the enclosing quote"
            if quotes and (token.type == tokenize.STRING or token.type == middle and len(quotes) > 1) and "\\" in body:
                return token.start[0], "f-string expression part cannot include a backslash"
            if quotes and token.type == tokenize.COMMENT:
                return token.start[0], "f-string expression part cannot include '#'"
            if token.type == start:
                quotes.append(quote)
            elif token.type == end and quotes:
                quotes.pop()
    except (tokenize.TokenError, SyntaxError, ValueError):
        return None
    return None


def target_syntax(parsed: Parsed, source: bytes, filename: str, python: Python) -> SyntaxProblem | None:
    """A syntax error Lambda's Python ``python`` would raise importing this source, or None (valid,
    or lpack cannot tell). See the rule LP205 for what each check catches."""
    host = f"Python {HOST[0]}.{HOST[1]}'s parser"
    if parsed.error is not None:
        exc = parsed.error
        if python <= HOST:
            return SyntaxProblem(exc.lineno, _describe(exc, filename), host)
        answer = ask_interpreter(python, source, filename)
        if answer is not None:
            message, line = answer
            name = f"python{python[0]}.{python[1]}"
            return SyntaxProblem(line, _describe(SyntaxError(message), filename, line), name) if message else None
        if _maybe_newer_syntax(source, exc, python):
            return None
        return SyntaxProblem(exc.lineno, _describe(exc, filename), host)
    if parsed.tree is None or python >= HOST:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ast.parse(source, filename, feature_version=python)
        except SyntaxError as exc:
            return SyntaxProblem(exc.lineno, _describe(exc, filename), f"ast feature_version={python}")
        except (ValueError, RecursionError, MemoryError):
            return None
    if python < (3, 12) <= HOST:
        problem = _pep701_problem(source)
        if problem is not None:
            line, message = problem
            message = f"{message}: Python 3.12 accepts it (PEP 701), earlier versions do not"
            return SyntaxProblem(line, f"{message} ({posixpath.basename(filename)}, line {line})", "PEP 701 rules")
    return None
