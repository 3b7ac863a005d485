"""Every rule module is declared once, in ``lpack.rules.FAMILIES``, with its code range, title and
subject: the loader runs what it declares, the docs group by it, and these tests fail when a
module registers rules it does not declare (they would never run) or a code falls outside its row."""

from __future__ import annotations

import importlib
import itertools
import pkgutil
from collections.abc import Iterator

import pytest

import lpack.rules
from lpack import rules
from lpack.analysis.subjects import RuntimeSubject
from lpack.core.findings import Finding, Severity
from lpack.core.targets import make_target


def _modules() -> list[str]:
    return sorted(f"lpack.rules.{m.name}" for m in pkgutil.iter_modules(lpack.rules.__path__))


def test_every_module_that_registers_rules_is_declared() -> None:
    declared = {family.module for family in rules.FAMILIES}
    for module in _modules():
        importlib.import_module(module)
        registered = [r for r in rules.REGISTRY.values() if r.func.__module__ == module]
        if registered:
            assert module in declared, f"{module} registers rules but is not in lpack.rules.FAMILIES: they never run"


def test_every_rule_is_in_its_familys_range_and_subject() -> None:
    by_module = {family.module: family for family in rules.FAMILIES}
    for rule in rules.load_all().values():
        family = by_module[rule.func.__module__]
        assert family.holds(rule.code), f"{rule.code} is outside {family.module}'s {family.first}-{family.last}"
        assert rule.subject_type is family.subject, f"{rule.code}: {family.module} is declared for {family.subject}"
        assert rules.family_of(rule.code) == family, f"{rule.code} falls in two families' ranges"


def test_family_ranges_do_not_overlap() -> None:
    ranges = sorted((int(f.first[2:]), int(f.last[2:])) for f in rules.FAMILIES)
    assert all(last < first for (_, last), (first, _) in itertools.pairwise(ranges))


def test_rules_for_a_subject_loads_what_it_needs() -> None:
    from lpack.analysis.subjects import HandlerSubject

    assert {r.code for r in rules.rules_for(HandlerSubject)} == {
        r.code for r in rules.load_all().values() if r.subject_type is HandlerSubject}


@pytest.fixture
def crashing_rule() -> Iterator[str]:
    rules.load_all()

    @rules.rule("LP499", "test-crashes", Severity.INFO, subject=RuntimeSubject)
    def crashes(r: rules.Rule, s: RuntimeSubject) -> Iterator[Finding]:
        yield r.finding("before the crash", s.where)
        raise KeyError("boom")

    try:
        yield "LP499"
    finally:
        rules.unregister("LP499")


def test_a_rule_that_raises_is_reported_under_its_code_and_the_others_still_run(crashing_rule: str) -> None:
    import datetime as dt

    from lpack import __version__

    blocked = make_target("python3.8", None, where="t")
    found = rules.run(RuntimeSubject(target=blocked, today=dt.date(2030, 1, 1), where="pyproject.toml"))
    assert [(f.code, f.severity, f.path) for f in found] == [
        ("LP402", Severity.ERROR, "pyproject.toml"),
        ("LP499", Severity.INFO, "pyproject.toml"),
        ("LP499", Severity.ERROR, "pyproject.toml"),
    ]
    assert found[-1].message == f"LP499 crashed: KeyError: 'boom'; please report this (lpack {__version__})"
    assert crashing_rule not in rules.REGISTRY or rules.REGISTRY[crashing_rule].name == "test-crashes"


def test_the_crashing_rule_is_gone_after_its_test() -> None:
    assert "LP499" not in rules.load_all()


def test_the_families_that_need_a_lambda_feature_find_nothing_without_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """``Family.featured``: a check leaves those families out for a subject without a Lambda
    feature (SnapStart, Managed Instances, durable, tenancy). Every subject the examples and the
    test templates are checked as, when it has no feature, gets no finding from any of their rules."""
    from pathlib import Path

    from lpack.analysis.subjects import FunctionSubject, HandlerSubject
    from lpack.commands.check import CheckOptions, check_and_decide
    from lpack.core.errors import LpackError
    from lpack.core.features import NONE

    root = Path(__file__).resolve().parents[2]
    seen: list[object] = []
    real = rules.run
    monkeypatch.setattr(rules, "run", lambda subject: (seen.append(subject), real(subject))[1])
    for folder in sorted([*root.glob("examples/*"), *root.glob("tests/data/templates/*")]):
        try:
            check_and_decide([folder], CheckOptions())
        except LpackError:
            pass
    plain = [s for s in seen if isinstance(s, (FunctionSubject, HandlerSubject)) and s.features == NONE]
    assert {type(s) for s in plain} == {FunctionSubject, HandlerSubject}
    assert any(isinstance(s, FunctionSubject) and s.features != NONE for s in seen)  # the templates have some
    featured = [f for f in rules.FAMILIES if f.featured]
    assert {f.module.rsplit(".", 1)[1] for f in featured} == {
        "snapshot_code", "concurrency_code", "snapstart", "managed_instances", "durable", "tenancy"}
    for family in featured:
        importlib.import_module(family.module)
    gated = [r for r in rules.REGISTRY.values() if any(f.holds(r.code) for f in featured)]
    for subject in plain:
        for r in gated:
            if r.subject_type is type(subject):
                assert list(r.func(r, subject)) == [], (r.code, subject)
