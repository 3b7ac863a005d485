"""Renderings of results: one reporter per ``--format``, the only place that prints what a command
found or did. Reporters never compute findings (lpack.core.decide chose them); the core never
imports these.

``REPORTERS`` is the one registry every command's ``--format`` reads. A format that does not serve
a command (SARIF has no rule listing) is never offered by that command's ``--format`` choices.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from lpack.core.errors import UsageError

if TYPE_CHECKING:
    from lpack.core.findings import Finding


class Reporter(Protocol):
    """What each command hands its reporter; ``out`` is the stream the result goes to."""

    def check(self, out: TextIO, findings: Sequence[Finding], quiet: int,
              looked: Sequence[tuple[str, str]] = ()) -> None:
        """`lpack check`'s findings; ``looked``: what was checked, from where (``("function",
        "source")``); ``quiet`` 1 (``-q``): findings only, 2 (``-qq``): nothing."""

    def nothing_to_check(self, out: TextIO, quiet: int) -> None:
        """`lpack check --files` given no file of a Lambda project or IAM policy."""

    def build(self, out: TextIO, result: Any, findings: Sequence[Finding], verbose: bool,
              quiet: int = 0, elapsed_s: float | None = None) -> None:
        """`lpack build`'s artifacts (a BuildResult) and the findings on them; ``elapsed_s``: the
        build's wall time; ``quiet`` as for ``check``."""

    def rules(self, out: TextIO, rules: Sequence[Any]) -> None:
        """`lpack rules`: every rule, by code."""

    def rule(self, out: TextIO, rule: Any) -> None:
        """`lpack rules CODE`: one rule's doc."""

    def locked(self, out: TextIO, results: Sequence[Any]) -> None:
        """`lpack lock`: the locks written (LockResult)."""

    def events(self, out: TextIO, samples: Sequence[Any]) -> None:
        """`lpack events`: the sample events (Sample)."""

    def validated(self, out: TextIO, project: Any) -> None:
        """`lpack validate-config`: a valid configuration (Project)."""


class FindingsOnly:
    """A format for findings alone (SARIF, GitHub annotations): the other results are not its."""

    name = ""

    def _not_mine(self, *_args: Any, **_kwargs: Any) -> None:
        raise UsageError(f"--format {self.name} is for lpack check's findings")

    build = rules = rule = locked = events = validated = _not_mine

    def nothing_to_check(self, out: TextIO, quiet: int) -> None:
        """Machine output says nothing when there was nothing to check."""


def _text(color: str) -> Reporter:
    from lpack.report.text import TextReporter

    return TextReporter(color)


def _json(_color: str) -> Reporter:
    from lpack.report.json_report import JsonReporter

    return JsonReporter()


def _sarif(_color: str) -> Reporter:
    from lpack.report.sarif import SarifReporter

    return SarifReporter()


def _github(_color: str) -> Reporter:
    from lpack.report.github import GithubReporter

    return GithubReporter()


# Loaded on use: text needs rich and SARIF the rule docs, neither of which `lpack check` in a
# pre-commit hook should pay for. Each is made with `--color` (auto, always, never).
REPORTERS: dict[str, Callable[[str], Reporter]] = {"text": _text, "json": _json, "sarif": _sarif, "github": _github}


def reporter(name: str, color: str = "auto") -> Reporter:
    return REPORTERS[name](color)
