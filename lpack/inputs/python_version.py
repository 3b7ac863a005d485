"""The Lambda runtime a project's own Python settings name, when no runtime is configured.

uv and pyenv write the Python a project develops on to ``.python-version`` (``3.12``,
``3.12.4``, ``cpython-3.12``); ``[project].requires-python`` in ``pyproject.toml`` bounds the
Pythons it supports. lpack reads them in that order: the ``.python-version`` when it names a
Lambda runtime's Python that can still be created, else the newest such runtime that
``requires-python`` allows. What was passed over, and why, is kept for the build to say.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from lpack.core.targets import RUNTIMES, Runtime, lifecycle

if TYPE_CHECKING:
    from collections.abc import Callable

# uv's request forms: 3.12, 3.12.4, cpython-3.12, cpython3.12, cpython-3.12.4-linux-x86_64-gnu
_VERSION = re.compile(r"(?:cpython-?)?(?P<major>\d+)\.(?P<minor>\d+)(?:\.\d+)?(?:-\S*)?")


class RuntimeChoice(NamedTuple):
    runtime: str | None  # a Lambda runtime's name, or None: the default applies
    source: str  # ".python-version", "requires-python ..." or "" (the default)
    passed_over: tuple[str, ...] = ()  # why a file that was there did not decide it


def project_runtime(root: Path, today: dt.date) -> RuntimeChoice:
    """The runtime ``.python-version`` names, else the newest ``requires-python`` allows."""
    passed_over: list[str] = []
    for reader in (_from_python_version, _from_requires_python, _from_poetry_python):
        runtime, source, why = reader(root, today)
        if runtime is not None:
            return RuntimeChoice(runtime.name, source, tuple(passed_over))
        if why:
            passed_over.append(why)
    return RuntimeChoice(None, "", tuple(passed_over))


def _from_python_version(root: Path, today: dt.date) -> tuple[Runtime | None, str, str]:
    request = _first_request(root / ".python-version")
    if request is None:
        return None, "", ""
    match = _VERSION.fullmatch(request)
    python = (int(match["major"]), int(match["minor"])) if match else None
    runtime = next((r for r in RUNTIMES.values() if r.python == python), None)
    if runtime is None:
        return None, "", f".python-version says {request!r}, which is no Lambda runtime's Python"
    if lifecycle(runtime, today) == "blocked":
        return None, "", f".python-version says {request!r}, but Lambda no longer creates {runtime.name} functions"
    return runtime, ".python-version", ""


def _first_request(path: Path) -> str | None:
    """The first version request in the file (pyenv may list several; ``#`` starts a comment)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return next((line for line in lines if line), None)


def _from_requires_python(root: Path, today: dt.date) -> tuple[Runtime | None, str, str]:
    spec = _requires_python(root / "pyproject.toml")
    if spec is None:
        return None, "", ""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        allowed = SpecifierSet(spec)
    except InvalidSpecifier:
        return None, "", f"requires-python {spec!r} is not a version specifier"
    newest = _newest(today, allowed.contains)
    if newest is None:
        return None, "", f"requires-python {spec!r} allows no Lambda runtime's Python"
    return newest, f"requires-python {spec!r}", ""


def _from_poetry_python(root: Path, today: dt.date) -> tuple[Runtime | None, str, str]:
    """Poetry's own bound, ``[tool.poetry.dependencies] python = "~3.9"``, for a project with no
    ``requires-python`` (Poetry before 2 wrote only this)."""
    from lpack.inputs.poetry import allows

    constraint = _toml_path(root / "pyproject.toml", ("tool", "poetry", "dependencies", "python"))
    if constraint is None:
        return None, "", ""
    where = f"[tool.poetry.dependencies] python {constraint!r}"
    try:
        newest = _newest(today, lambda version: allows(constraint, version))
    except ValueError:
        return None, "", f"{where} is not a version constraint"
    if newest is None:
        return None, "", f"{where} allows no Lambda runtime's Python that can still be created"
    return newest, where, ""


def _newest(today: dt.date, allows: Callable[[str], bool]) -> Runtime | None:
    """The newest runtime Lambda still creates whose Python series ``allows`` lets in: some
    ``X.Y.patch`` of it, as Lambda updates the patch release."""
    fitting = [r for r in RUNTIMES.values() if lifecycle(r, today) != "blocked"
               and any(allows(f"{r.python[0]}.{r.python[1]}.{patch}") for patch in range(40))]
    return max(fitting, key=lambda r: r.python) if fitting else None


def _requires_python(pyproject: Path) -> str | None:
    return _toml_path(pyproject, ("project", "requires-python"))


def _toml_path(pyproject: Path, keys: tuple[str, ...]) -> str | None:
    """The non-empty string at ``keys`` in the TOML file, else None."""
    from lpack.core.compat import tomllib

    try:
        value: object = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None  # the configuration reader reports a broken pyproject.toml
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value if isinstance(value, str) and value.strip() else None
