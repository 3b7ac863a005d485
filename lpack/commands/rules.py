"""`lpack rules`: the registered rules, by code, or one of them by code or name."""

from __future__ import annotations

from lpack.core.errors import UsageError
from lpack.rules import Rule, load_all


def all_rules() -> list[Rule]:
    return sorted(load_all().values(), key=lambda r: r.code)


def find_rule(code: str) -> Rule:
    registry = load_all()
    found = registry.get(code.upper()) or next((r for r in registry.values() if r.name == code), None)
    if found is None:
        raise UsageError(f"no rule {code!r}; `lpack rules` lists them")
    return found
