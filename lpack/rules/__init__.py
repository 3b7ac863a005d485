"""The rule registry: every check is a rule with a stable code, a name, a severity and a doc.

Codes are stable and never reused; families by hundreds:
LP1xx package, LP2xx handler, LP3xx limits, configuration and Lambda features, LP4xx runtime, LP5xx IAM,
LP6xx supply chain (`lpack audit`).

A rule is registered for one subject class (``lpack.analysis.subjects``) and is called with the
``Rule`` and a subject of that class. ``FAMILIES`` declares every rule module once, with its code
range, title (the heading of docs/rules/README.md) and subject: the loader, the docs and the tests
read it, so a module missing from it fails a test instead of silently never running.
Commands do not call ``run`` themselves: ``lpack.rules.engine`` decides which subjects a package,
a function or a policy is checked as.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple, TypeVar

from lpack.analysis.advisories import AuditSubject
from lpack.analysis.subjects import (
    FunctionSubject,
    HandlerSubject,
    ImageSubject,
    LockfileSubject,
    PackageSubject,
    PolicySubject,
    RoleSubject,
    RuntimeSubject,
    Subject,
)
from lpack.core.errors import LpackError
from lpack.core.features import NONE as NO_FEATURES
from lpack.core.findings import Finding, Location, Severity

S = TypeVar("S", bound=Subject)


class Family(NamedTuple):
    module: str
    first: str  # first and last code of the range its rules' codes fall in
    last: str
    title: str  # the heading its rules are listed under in docs/rules/README.md
    subject: type[Subject]
    # its rules fire only on a subject with a Lambda feature set (SnapStart, Managed Instances,
    # durable, tenant isolation): for one without any, its module is neither imported nor run
    featured: bool = False

    def holds(self, code: str) -> bool:
        return _number(self.first) <= _number(code) <= _number(self.last)


FAMILIES = (
    Family("lpack.rules.package", "LP100", "LP109", "Package: sizes and layers", PackageSubject),
    Family("lpack.rules.native", "LP110", "LP119", "Native code", PackageSubject),
    Family("lpack.rules.entries", "LP120", "LP124", "Package: entries", PackageSubject),
    Family("lpack.rules.layout", "LP125", "LP129", "Package: layout", PackageSubject),
    Family("lpack.rules.credentials", "LP130", "LP139", "Package: credentials", PackageSubject),
    Family("lpack.rules.bytecode", "LP140", "LP142", "Package: bytecode and the runtime's SDK", PackageSubject),
    Family("lpack.rules.weight", "LP143", "LP149", "Package: dead weight", PackageSubject),
    Family("lpack.rules.handler", "LP200", "LP229", "Handler", HandlerSubject),
    Family("lpack.rules.snapshot_code", "LP230", "LP239", "Handler: code under SnapStart", HandlerSubject,
           featured=True),
    Family("lpack.rules.concurrency_code", "LP240", "LP249", "Handler: code on Managed Instances and durable functions",
           HandlerSubject, featured=True),
    Family("lpack.rules.function", "LP300", "LP329", "Configuration and limits", FunctionSubject),
    Family("lpack.rules.lockfile", "LP330", "LP339", "Configuration and limits", LockfileSubject),
    Family("lpack.rules.snapstart", "LP340", "LP344", "Lambda features: SnapStart", FunctionSubject, featured=True),
    Family("lpack.rules.managed_instances", "LP345", "LP349", "Lambda features: Managed Instances", FunctionSubject,
           featured=True),
    Family("lpack.rules.durable", "LP350", "LP354", "Lambda features: durable functions", FunctionSubject,
           featured=True),
    Family("lpack.rules.tenancy", "LP355", "LP359", "Lambda features: tenant isolation", FunctionSubject,
           featured=True),
    Family("lpack.rules.delivery", "LP360", "LP369", "Lambda features: wrappers, streaming, images, code signing",
           FunctionSubject),
    Family("lpack.rules.image", "LP370", "LP379", "Container images", ImageSubject),
    Family("lpack.rules.runtime", "LP400", "LP499", "Runtime lifecycle", RuntimeSubject),
    Family("lpack.rules.iam_grammar", "LP500", "LP519", "IAM policy grammar", PolicySubject),
    Family("lpack.rules.iam_privilege", "LP520", "LP559", "IAM least privilege", PolicySubject),
    Family("lpack.rules.iam_role", "LP560", "LP569", "IAM execution role", RoleSubject),
    Family("lpack.rules.iam_code", "LP570", "LP579", "IAM execution role: what the code calls", RoleSubject),
    Family("lpack.rules.durable_role", "LP590", "LP594", "IAM execution role", RoleSubject),
    Family("lpack.rules.event_source_role", "LP595", "LP599", "IAM execution role", RoleSubject),
    Family("lpack.rules.vulnerabilities", "LP601", "LP619", "Known vulnerabilities (lpack audit)", AuditSubject),
)


def _number(code: str) -> int:
    return int(code.removeprefix("LP"))


def family_of(code: str) -> Family | None:
    return next((f for f in FAMILIES if f.holds(code)), None)


class Rule(NamedTuple):
    code: str
    name: str
    severity: Severity
    subject_type: type[Subject]
    source: str
    func: Callable[[Rule, Any], Iterator[Finding]]  # typed per subject by ``rule``
    references: str = ""  # a "## References" section several rules share, appended to the doc

    @property
    def subject(self) -> str:
        """The subject's tag, e.g. ``package`` (SARIF lists it among the rule's tags)."""
        return self.subject_type.tag

    @property
    def doc(self) -> str:
        import inspect

        doc = inspect.cleandoc(self.func.__doc__ or "")
        return f"{doc}\n\n## References\n{self.references}" if self.references else doc

    def finding(self, message: str, path: str | Location, **extra: Any) -> Finding:
        severity = extra.pop("severity", self.severity)
        if "${AWS." in message or "${AWS." in str(extra.get("fix", "")):  # a template's ${AWS::Region}, as written
            from lpack.inputs.template.intrinsics import as_written

            message = as_written(message)
            if isinstance(extra.get("fix"), str):
                extra["fix"] = as_written(extra["fix"])
        return Finding(self.code, self.name, severity, message, path, **extra)

    def crashed(self, subject: Subject, exc: Exception) -> Finding:
        """The finding that stands for this rule when it raised: the other rules still run."""
        from lpack import __version__

        message = f"{self.code} crashed: {type(exc).__name__}: {exc}; please report this (lpack {__version__})"
        return Finding(self.code, self.name, Severity.ERROR, message, subject.display)


REGISTRY: dict[str, Rule] = {}


def rule(code: str, name: str, severity: Severity, *, subject: type[S], source: str = "",
         references: str = "") -> Callable[[Callable[[Rule, S], Iterator[Finding]]], Callable[[Rule, S], Iterator[Finding]]]:
    """Register a check of ``subject``s (a class of ``lpack.analysis.subjects``); ``references``
    is a References section it shares with other rules, written once and appended to its doc."""

    def register(func: Callable[[Rule, S], Iterator[Finding]]) -> Callable[[Rule, S], Iterator[Finding]]:
        if code in REGISTRY:
            raise ValueError(f"rule code {code} is registered twice")
        if any(r.name == name for r in REGISTRY.values()):
            raise ValueError(f"rule name {name} is registered twice")
        REGISTRY[code] = Rule(code, name, severity, subject, source, func, references)
        return func

    return register


def unregister(code: str) -> None:
    """Remove a rule (for tests that register one of their own)."""
    REGISTRY.pop(code, None)


def load_all() -> dict[str, Rule]:
    for family in FAMILIES:
        importlib.import_module(family.module)
    return REGISTRY


def rules_for(subject: type[Subject], featured: bool = True) -> list[Rule]:
    """The rules of one subject class, loading only their modules: a build that runs the package
    and handler rules does not pay for compiling the IAM rules' patterns; ``featured=False``
    leaves out the families whose rules need a Lambda feature (``Family.featured``)."""
    left_out = [f for f in FAMILIES if f.subject is subject and f.featured and not featured]
    for family in FAMILIES:
        if family.subject is subject and family not in left_out:
            importlib.import_module(family.module)
    return [r for r in sorted(REGISTRY.values(), key=lambda r: r.code)
            if r.subject_type is subject and not any(f.holds(r.code) for f in left_out)]


def run(subject: Subject) -> list[Finding]:
    """The findings of every rule registered for the subject's class (for a subject without a
    Lambda feature, not those that need one). A rule that raises is reported under its own code,
    and the others still run; an ``LpackError`` (an unreadable entry, say) is the input's fault,
    not the rule's, and is raised as it is."""
    findings: list[Finding] = []
    for r in rules_for(type(subject), getattr(subject, "features", NO_FEATURES) != NO_FEATURES):
        findings.extend(_apply(r, subject))
    return findings


def _apply(r: Rule, subject: Subject) -> list[Finding]:
    found: list[Finding] = []
    try:
        found.extend(r.func(r, subject))  # what it yielded before raising is kept
    except LpackError:
        raise
    except Exception as exc:  # noqa: BLE001  (a bug in the rule: report it, the other rules still run)
        found.append(r.crashed(subject, exc))
    return found
