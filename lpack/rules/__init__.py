"""The rule registry: every check is a rule with a stable code, a name, a severity and a doc.

Codes are stable and never reused; families by hundreds:
LP1xx package, LP2xx handler, LP3xx limits and configuration, LP4xx runtime, LP5xx IAM.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from lpack.core.findings import Finding, Severity

RuleFunc = Callable[..., Iterator[Finding]]

# module -> the subject its rules run on (a test checks every rule registers under its module's subject)
_FAMILIES = {
    "lpack.rules.package": "package",      # LP101-LP109 sizes and layer count
    "lpack.rules.native": "package",       # LP110-LP119 native code that cannot load on the target
    "lpack.rules.contents": "package",     # LP120-LP159 entries Lambda cannot read, unsafe entries, secrets, dead weight
    "lpack.rules.handler": "handler",      # LP201-LP249 the handler string, module, signature and imports
    "lpack.rules.function": "function",      # LP301-LP349 environment, test events, memory/timeout/storage
    "lpack.rules.lockfile": "lockfile",    # LP331-LP339 (of the LP3xx configuration family) locks from `lpack lock`
    "lpack.rules.runtime": "runtime",      # LP401-LP409 runtime lifecycle
    "lpack.rules.iam_grammar": "iam-policy",  # LP501-LP519 IAM policy documents IAM would reject or misread
    "lpack.rules.iam_privilege": "iam-policy",          # LP520-LP559 IAM least privilege: broad grants, escalation, exposure
    "lpack.rules.iam_role": "iam-role",       # LP560-LP569 an execution role's complete set of policies
}

# What each subject passes to its rules:
#   "package": PackageSubject (lpack.analysis.package) - a zip, or a source folder seen as one
#   "handler": PackageSubject, for a function with a handler string
#   "function": FunctionSubject (lpack.analysis.function) - settings, environment, events
#   "runtime": (Target, today: date, where: str)
#   "lockfile": LockState (lpack.commands.lock) - a lock `lpack lock` wrote and its input's current hash


class Rule(NamedTuple):
    code: str
    name: str
    severity: Severity
    subject: str
    source: str
    func: RuleFunc

    @property
    def doc(self) -> str:
        import inspect

        return inspect.cleandoc(self.func.__doc__ or "")

    def finding(self, message: str, path: str, **extra: Any) -> Finding:
        severity = extra.pop("severity", self.severity)
        return Finding(self.code, self.name, severity, message, path, **extra)


REGISTRY: dict[str, Rule] = {}


def rule(code: str, name: str, severity: Severity, *, subject: str, source: str = "") -> Callable[[RuleFunc], RuleFunc]:
    """Register a check. ``subject`` names the data it runs on (e.g. ``package``)."""

    def register(func: RuleFunc) -> RuleFunc:
        if code in REGISTRY:
            raise ValueError(f"rule code {code} is registered twice")
        if any(r.name == name for r in REGISTRY.values()):
            raise ValueError(f"rule name {name} is registered twice")
        REGISTRY[code] = Rule(code, name, severity, subject, source, func)
        return func

    return register


def load_all() -> dict[str, Rule]:
    for module in _FAMILIES:
        importlib.import_module(module)
    return REGISTRY


def rules_for(subject: str) -> list[Rule]:
    """The rules of one subject, loading only their modules: a build that runs the package and
    handler rules does not pay for compiling the IAM rules' patterns."""
    for module, family_subject in _FAMILIES.items():
        if family_subject == subject:
            importlib.import_module(module)
    return [r for r in sorted(REGISTRY.values(), key=lambda r: r.code) if r.subject == subject]


def families() -> dict[str, str]:
    """Each rule module and the subject its rules run on."""
    return dict(_FAMILIES)


def run(subject: str, *args: Any) -> list[Finding]:
    findings: list[Finding] = []
    for r in rules_for(subject):
        findings.extend(r.func(r, *args))
    return findings
