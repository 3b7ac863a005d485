"""Every rule module is declared once with the subject its rules run on, so a command that runs
one subject's rules loads exactly the modules that hold them."""

from __future__ import annotations

import importlib
import pkgutil

import lpack.rules
from lpack import rules


def test_every_rule_registers_under_its_modules_subject() -> None:
    registry = rules.load_all()
    declared = rules.families()
    for rule in registry.values():
        module = rule.func.__module__
        assert module in declared, f"{rule.code} lives in {module}, which lpack.rules._FAMILIES does not name"
        assert declared[module] == rule.subject, f"{rule.code}: {module} is declared for {declared[module]!r}"


def test_every_rule_module_is_declared() -> None:
    modules = {f"lpack.rules.{m.name}" for m in pkgutil.iter_modules(lpack.rules.__path__)}
    for module in sorted(modules):
        importlib.import_module(module)
        registered = [r for r in rules.REGISTRY.values() if r.func.__module__ == module]
        if registered:
            assert module in rules.families(), f"{module} registers rules but is not in _FAMILIES: they never run"


def test_rules_for_a_subject_loads_what_it_needs() -> None:
    assert {r.code for r in rules.rules_for("handler")} == {
        r.code for r in rules.load_all().values() if r.subject == "handler"}
