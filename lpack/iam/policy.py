"""The IAM policy grammar: read a policy document into a normalized model and the grammar problems
IAM would reject or mis-read, each with its JSON path (``Statement[2].Effect``) and line.

``parse_policy`` never raises: any text gives a ``ParsedPolicy``. The rules in
``lpack.rules.iam_grammar`` turn its problems into findings (schemas/iam-policy.schema.json
describes the same grammar for editors and other tools).
"""

from __future__ import annotations

import bisect
import fnmatch
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

from lpack.core.errors import LpackError

VERSIONS = ("2012-10-17", "2008-10-17")
KINDS = ("identity", "resource", "trust")
TOP_KEYS = ("Version", "Id", "Statement")
STATEMENT_KEYS = (
    "Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction",
    "Resource", "NotResource", "Condition",
)
PRINCIPAL_KEYS = ("AWS", "Service", "Federated", "CanonicalUser")
EFFECTS = ("Allow", "Deny")
QUALIFIERS = ("ForAnyValue", "ForAllValues")
OPERATORS = (
    "StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase",
    "StringLike", "StringNotLike",
    "NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals",
    "NumericGreaterThan", "NumericGreaterThanEquals",
    "DateEquals", "DateNotEquals", "DateLessThan", "DateLessThanEquals",
    "DateGreaterThan", "DateGreaterThanEquals",
    "Bool", "BinaryEquals", "IpAddress", "NotIpAddress",
    "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike",
    "Null",
)  # source: IAM JSON policy elements: Condition operators
TRUST_ACTIONS = (
    "sts:assumerole", "sts:assumerolewithwebidentity", "sts:assumerolewithsaml", "sts:tagsession",
)

# problem kinds, one per grammar rule (lpack.rules.iam_grammar)
MALFORMED = "malformed"  # wrong JSON type, or Statement missing
UNKNOWN_KEY = "unknown-key"
VERSION_UNKNOWN = "version-unknown"
EFFECT_MISSING = "effect-missing"
EFFECT_INVALID = "effect-invalid"
ACTION_MISSING = "action-missing"
CONFLICT = "conflict"  # both X and NotX
EMPTY = "empty"  # an empty list where IAM needs at least one value
OPERATOR_UNKNOWN = "operator-unknown"

PrincipalValue = str | Mapping[str, tuple[str, ...]] | None  # "*", {"Service": (...)}, or absent


class Condition(NamedTuple):
    operator: str  # the base operator as IAM spells it, e.g. "StringLike" (as written if unknown)
    qualifier: str | None  # "ForAnyValue", "ForAllValues" or None
    if_exists: bool
    key: str  # lowercased: condition keys are case-insensitive
    values: tuple[str, ...]  # booleans as "true"/"false", numbers as written in JSON
    raw_operator: str = ""  # as written, e.g. "ForAnyValue:StringLikeIfExists"
    raw_key: str = ""  # as written, e.g. "aws:SourceArn"
    known: bool = True  # False when the operator is not one IAM has


class Statement(NamedTuple):
    index: int  # type: ignore[assignment]  # the position in Statement (shadows tuple.index)
    sid: str | None
    effect: str | None  # as written when it is a string, else None
    principal: PrincipalValue
    not_principal: PrincipalValue
    actions: tuple[str, ...]
    not_actions: tuple[str, ...]
    resources: tuple[str, ...]
    not_resources: tuple[str, ...]
    conditions: tuple[Condition, ...]
    line: int | None
    path: str = ""  # "Statement[2]", or "Statement" when Statement is one object
    elements: frozenset[str] = frozenset()  # the statement keys present, whatever their value

    def element_path(self, key: str) -> str:
        return f"{self.path}.{key}"


class Policy(NamedTuple):
    version: str | None  # as written when it is a string
    id: str | None
    statements: tuple[Statement, ...]
    kind: str  # "identity", "resource" or "trust"
    text: str
    path: str


class Problem(NamedTuple):
    kind: str  # one of the problem kinds above
    path: str  # JSON path, e.g. "Statement[2].Effect"
    message: str
    line: int | None = None


class JsonError(NamedTuple):
    message: str
    line: int | None
    column: int | None


class ParsedPolicy(NamedTuple):
    policy: Policy | None  # None when the text is not a JSON object
    document: object  # the decoded JSON (None when it is not JSON)
    json_error: JsonError | None
    problems: tuple[Problem, ...]
    lines: Mapping[str, int]  # JSON path -> line of its key (or array element)
    text: str
    path: str

    def line_of(self, path: str) -> int | None:
        while path:
            if path in self.lines:
                return self.lines[path]
            path = _parent(path)
        return None


# -- JSON with the line of every key ------------------------------------------------------------

_TOKEN = re.compile(r'[ \t\n\r]*(?:(")|([{}\[\]:,])|([^ \t\n\r{}\[\]:,"]+))')


def _parent(path: str) -> str:
    cut = max(path.rfind("."), path.rfind("["))
    return path[:cut] if cut > 0 else ""


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


class _Frame:
    """An open object or array while scanning: its path, and where inside it the scanner is."""

    __slots__ = ("index", "is_object", "member", "path", "want_key")

    def __init__(self, path: str, is_object: bool) -> None:
        self.path, self.is_object = path, is_object
        self.index = 0  # arrays: the element being read
        self.want_key = is_object  # objects: the next string is a key
        self.member = path  # objects: the path of the member whose value comes next

    def slot(self) -> str:
        """The path of the value that starts here."""
        return self.member if self.is_object else _join(self.path, self.index)


def _offsets(text: str) -> Iterator[tuple[str, int]]:
    """(JSON path, offset) for each object key and array element of valid JSON. Iterative, so
    nesting depth costs no stack."""
    stack: list[_Frame] = []
    pos = 0
    while (m := _TOKEN.match(text, pos)) is not None:
        quote, punct, scalar = m.groups()
        start, pos = m.start(m.lastindex or 0), m.end()
        top = stack[-1] if stack else None
        if quote:
            key, pos = json.decoder.scanstring(text, pos)  # type: ignore[attr-defined]
            if top is not None and top.want_key:
                top.want_key, top.member = False, _join(top.path, key)
                yield top.member, start
            elif top is not None and not top.is_object:
                yield top.slot(), start
        elif punct in ("{", "["):
            if top is not None and not top.is_object:
                yield top.slot(), start
            stack.append(_Frame(top.slot() if top is not None else "", punct == "{"))
        elif punct in ("}", "]"):
            if stack:
                stack.pop()
        elif punct == "," and top is not None:
            if top.is_object:
                top.want_key = True
            else:
                top.index += 1
        elif scalar and top is not None and not top.is_object:
            yield top.slot(), start


def key_lines(text: str) -> dict[str, int]:
    """JSON path -> 1-based line of its key (object members) or its value (array elements)."""
    newlines = [i for i, char in enumerate(text) if char == "\n"]
    lines: dict[str, int] = {}
    try:
        for path, offset in _offsets(text):
            lines[path] = bisect.bisect_left(newlines, offset) + 1
    except (ValueError, IndexError, TypeError):  # never for text json.loads accepted; belt and braces
        pass
    return lines


def _decode(text: str) -> tuple[object, JsonError | None]:
    try:
        return json.loads(text), None
    except json.JSONDecodeError as exc:
        return None, JsonError(exc.msg, exc.lineno, exc.colno)
    except RecursionError:
        return None, JsonError("nested too deeply to read", None, None)
    except ValueError as exc:  # e.g. a number too long to convert
        return None, JsonError(str(exc).split("\n")[0], None, None)


# -- normalizing --------------------------------------------------------------------------------


def suggest(word: str, choices: tuple[str, ...] | list[str]) -> str:
    """'; did you mean "X"?' for the closest choice (case-insensitive), else ''."""
    import difflib  # only a mistake pays for it

    lowered = {choice.lower(): choice for choice in choices}
    close = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return f'; did you mean "{lowered[close[0]]}"?' if close else ""


def _kind_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


class _Reader:
    """Walks a decoded document once, collecting normalized statements and problems."""

    def __init__(self, lines: Mapping[str, int]) -> None:
        self.lines = lines
        self.problems: list[Problem] = []

    def problem(self, kind: str, path: str, message: str) -> None:
        line = None
        probe = path
        while probe and line is None:
            line = self.lines.get(probe)
            probe = _parent(probe)
        self.problems.append(Problem(kind, path, f"{path or 'the policy'}: {message}", line))

    def unknown_keys(self, data: Mapping[str, object], path: str, known: tuple[str, ...], what: str) -> None:
        for key in data:
            if key not in known:
                self.problem(UNKNOWN_KEY, _join(path, key),
                             f"{what} has no element {json.dumps(key)}{suggest(key, known)}; "
                             f"IAM accepts {', '.join(known)}")

    def string(self, data: Mapping[str, object], key: str, path: str) -> str | None:
        value = data.get(key)
        if value is None and key not in data:
            return None
        if not isinstance(value, str):
            self.problem(MALFORMED, _join(path, key), f"must be a string, not {_kind_name(value)}")
            return None
        return value

    def strings(self, data: Mapping[str, object], key: str, path: str) -> tuple[str, ...]:
        """A string or a non-empty list of strings (Action, Resource and their Not forms)."""
        if key not in data:
            return ()
        value, here = data[key], _join(path, key)
        if isinstance(value, str):
            return (value,)
        if not isinstance(value, list):
            self.problem(MALFORMED, here, f"must be a string or a list of strings, not {_kind_name(value)}")
            return ()
        if not value:
            self.problem(EMPTY, here, "is an empty list; IAM needs at least one value")
        for i, item in enumerate(value):
            if not isinstance(item, str):
                self.problem(MALFORMED, _join(here, i), f"must be a string, not {_kind_name(item)}")
        return tuple(item for item in value if isinstance(item, str))

    def principal(self, data: Mapping[str, object], key: str, path: str) -> PrincipalValue:
        if key not in data:
            return None
        value, here = data[key], _join(path, key)
        if value == "*":
            return "*"
        if not isinstance(value, dict):
            self.problem(MALFORMED, here, f'must be "*" or an object such as {{"Service": '
                         f'"lambda.amazonaws.com"}}, not {_kind_name(value)}'
                         + (f" {json.dumps(value)}" if isinstance(value, str) else ""))
            return None
        self.unknown_keys(value, here, PRINCIPAL_KEYS, key)
        if not value:
            self.problem(EMPTY, here, "is an empty object; name at least one principal")
        return {name: self.strings(value, name, here) for name in value if name in PRINCIPAL_KEYS}

    def condition(self, data: Mapping[str, object], path: str) -> tuple[Condition, ...]:
        if "Condition" not in data:
            return ()
        block, here = data["Condition"], _join(path, "Condition")
        if not isinstance(block, dict):
            self.problem(MALFORMED, here, f"must be an object of operators, not {_kind_name(block)}")
            return ()
        found: list[Condition] = []
        for raw_operator, keys in block.items():
            where = _join(here, raw_operator)
            operator, qualifier, if_exists, known = parse_operator(raw_operator)
            if not known:
                hint = suggest(raw_operator, [*OPERATORS, *(o + "IfExists" for o in OPERATORS[:-1])])
                self.problem(OPERATOR_UNKNOWN, where,
                             f"{json.dumps(raw_operator)} is not an IAM condition operator{hint}")
            if not isinstance(keys, dict):
                self.problem(MALFORMED, where, f"must be an object of condition keys, not {_kind_name(keys)}")
                continue
            for raw_key, values in keys.items():
                found.append(Condition(operator, qualifier, if_exists, raw_key.lower(),
                                       self.condition_values(values, _join(where, raw_key)),
                                       raw_operator, raw_key, known))
        return tuple(found)

    def condition_values(self, value: object, path: str) -> tuple[str, ...]:
        items = value if isinstance(value, list) else [value]
        if isinstance(value, list) and not value:
            self.problem(EMPTY, path, "is an empty list; give at least one value")
        out: list[str] = []
        for i, item in enumerate(items):
            if isinstance(item, str):
                out.append(item)
            elif isinstance(item, (bool, int, float)):
                out.append(json.dumps(item))
            else:
                where = _join(path, i) if isinstance(value, list) else path
                self.problem(MALFORMED, where,
                             f"must be a string, number or boolean (or a list of them), not {_kind_name(item)}")
        return tuple(out)

    def statement(self, data: object, index: int, path: str) -> Statement | None:
        if not isinstance(data, dict):
            self.problem(MALFORMED, path, f"a statement must be an object, not {_kind_name(data)}")
            return None
        self.unknown_keys(data, path, STATEMENT_KEYS, "a statement")
        effect = self.string(data, "Effect", path)
        if "Effect" not in data:
            self.problem(EFFECT_MISSING, path, 'has no "Effect"; IAM requires "Allow" or "Deny"')
        elif effect is not None and effect not in EFFECTS:
            self.problem(EFFECT_INVALID, _join(path, "Effect"),
                         f'{json.dumps(effect)} is not "Allow" or "Deny"{suggest(effect, EFFECTS)}')
        for form, other in (("Action", "NotAction"), ("Resource", "NotResource"),
                            ("Principal", "NotPrincipal")):
            if form in data and other in data:
                self.problem(CONFLICT, _join(path, other),
                             f'has both "{form}" and "{other}"; a statement takes one of them')
        if "Action" not in data and "NotAction" not in data:
            self.problem(ACTION_MISSING, path, 'has neither "Action" nor "NotAction"')
        return Statement(
            index=index,
            sid=self.string(data, "Sid", path),
            effect=effect,
            principal=self.principal(data, "Principal", path),
            not_principal=self.principal(data, "NotPrincipal", path),
            actions=self.strings(data, "Action", path),
            not_actions=self.strings(data, "NotAction", path),
            resources=self.strings(data, "Resource", path),
            not_resources=self.strings(data, "NotResource", path),
            conditions=self.condition(data, path),
            line=self.lines.get(path) or self.lines.get("Statement"),
            path=path,
            elements=frozenset(key for key in data if key in STATEMENT_KEYS),
        )

    def statements(self, document: Mapping[str, object]) -> tuple[Statement, ...]:
        if "Statement" not in document:
            self.problem(MALFORMED, "Statement", 'the policy has no "Statement"')
            return ()
        block = document["Statement"]
        if isinstance(block, dict):
            found = [self.statement(block, 0, "Statement")]
        elif isinstance(block, list):
            if not block:
                self.problem(EMPTY, "Statement", "is an empty list; IAM needs at least one statement")
            found = [self.statement(item, i, f"Statement[{i}]") for i, item in enumerate(block)]
        else:
            self.problem(MALFORMED, "Statement", f"must be an object or a list of objects, not {_kind_name(block)}")
            return ()
        return tuple(s for s in found if s is not None)

    def policy(self, document: object, text: str, path: str, kind: str | None) -> Policy | None:
        if not isinstance(document, dict):
            self.problem(MALFORMED, "", f"a policy must be a JSON object, not {_kind_name(document)}")
            return None
        self.unknown_keys(document, "", TOP_KEYS, "the policy")
        version = self.string(document, "Version", "")
        if version is not None and version not in VERSIONS:
            self.problem(VERSION_UNKNOWN, "Version",
                         f"{json.dumps(version)} is not a policy language version; IAM accepts "
                         f'"2012-10-17" (current) or "2008-10-17"')
        statements = self.statements(document)
        policy = Policy(version, self.string(document, "Id", ""), statements, "identity", text, path)
        return policy._replace(kind=kind if kind in KINDS else infer_kind(policy))


def parse_operator(raw: str) -> tuple[str, str | None, bool, bool]:
    """(base operator, qualifier, if_exists, known) for a condition operator as written."""
    qualifier: str | None = None
    name = raw
    if ":" in raw:
        prefix, name = raw.split(":", 1)
        match = [q for q in QUALIFIERS if q.lower() == prefix.lower()]
        if not match:
            return raw, None, False, False
        qualifier = match[0]
    if_exists = name.lower().endswith("ifexists") and name.lower() != "ifexists"
    base = name[: -len("IfExists")] if if_exists else name
    canonical = [o for o in OPERATORS if o.lower() == base.lower()]
    if not canonical or (if_exists and canonical[0] == "Null"):
        return base, qualifier, if_exists, False
    return canonical[0], qualifier, if_exists, True


def _allows_assume_role(statement: Statement) -> bool:
    if statement.effect != "Allow" or statement.principal is None:
        return False
    for action in statement.actions:
        lowered = action.lower()
        if lowered.startswith("sts:") and any(fnmatch.fnmatchcase(a, lowered) for a in TRUST_ACTIONS):
            return True
    return False


def infer_kind(document: Policy | object) -> str:
    """"trust" when a statement allows sts:AssumeRole (or ...WithWebIdentity, ...WithSAML,
    sts:TagSession) to a Principal; "resource" when a statement has a Principal; else "identity"."""
    if isinstance(document, Policy):
        statements = document.statements
    else:
        try:
            reader = _Reader({})
            statements = reader.statements(document) if isinstance(document, dict) else ()
        except RecursionError:
            statements = ()
    if any(_allows_assume_role(s) for s in statements):
        return "trust"
    if any(s.principal is not None or s.not_principal is not None for s in statements):
        return "resource"
    return "identity"


_WHITESPACE = str.maketrans("", "", " \t\n\r")


def size_chars(text: str) -> int:
    """The size IAM counts: characters other than white space (space, tab, LF, CR)."""
    return len(text.translate(_WHITESPACE))


def compact_bytes(document: object) -> int:
    """UTF-8 bytes of the compact JSON of a decoded document (how lpack counts Lambda's 20 KB)."""
    text = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
    return len(text.encode("utf-8", "surrogatepass"))


def parse_policy(text: str, path: str, kind: str | None = None) -> ParsedPolicy:
    """Read a policy document. Never raises: what IAM would reject is in ``problems``."""
    document, error = _decode(text)
    if error is not None:
        return ParsedPolicy(None, None, error, (), {}, text, path)
    lines = key_lines(text)
    reader = _Reader(lines)
    try:
        policy = reader.policy(document, text, path, kind)
    except RecursionError:  # pragma: no cover - the reader only looks a few levels deep
        policy = None
    return ParsedPolicy(policy, document, None, tuple(reader.problems), lines, text, path)


def parse_document(document: object, path: str, kind: str | None, lines: Mapping[str, int],
                   text: str | None = None) -> ParsedPolicy:
    """A policy already decoded (e.g. from a CloudFormation template), with the line of each JSON
    path (``Statement[0].Action``) in the file it comes from. Its text, for the size and character
    rules, is by default the compact JSON a deployment sends."""
    if text is None:
        text = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
    reader = _Reader(lines)
    policy = reader.policy(document, text, path, kind)
    return ParsedPolicy(policy, document, None, tuple(reader.problems), lines, text, path)


def read_policy(path: Path, kind: str | None = None) -> ParsedPolicy:
    """Read and parse a policy file; an unreadable file is an ``LpackError`` (invalid JSON is not)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise LpackError(f"cannot read the IAM policy {path}: {reason}") from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        text = data.decode("utf-8", "replace")
        error = JsonError(f"not UTF-8 text (byte 0x{data[exc.start]:02x})", line, column)
        return ParsedPolicy(None, None, error, (), {}, text, str(path))
    return parse_policy(text, str(path), kind)


# -- does a role let an action through (the code rules, LP570-LP579) -----------------------------

ALLOWED, DENIED, MISSING = "allowed", "denied", "missing"


def _names(patterns: tuple[str, ...], not_patterns: tuple[str, ...], action: str) -> bool:
    """Whether a statement's Action (or NotAction) takes in ``action``."""
    from lpack.iam.actions import action_matches

    if patterns:
        return any(action_matches(p, action) for p in patterns)
    return bool(not_patterns) and not any(action_matches(p, action) for p in not_patterns)


def _covers_all(pattern: str, resource: str) -> bool:
    """Whether the Resource ``pattern`` takes in every ARN ``resource`` may be: the parts of
    ``resource`` known only at deployment (``${Region}``) must meet a wildcard."""
    from lpack.iam.actions import action_matches

    if pattern == "*":
        return True
    known = re.sub(r"\$\{[^}]*\}", "\0", resource)
    return action_matches(pattern, known)


def _may_cover(pattern: str, resource: str) -> bool:
    """Whether the Resource ``pattern`` can match some ARN ``resource`` may be."""
    from lpack.iam.actions import arn_matches

    return pattern == "*" or arn_matches(resource, pattern)


def decide(statements: Sequence[Statement], action: str, resource: str | None) -> str:
    """``ALLOWED``, ``DENIED`` or ``MISSING``: whether identity policy statements let ``action``
    through on ``resource`` (an ARN, ``${Placeholder}`` for parts known only at deployment; None
    when the code does not say which). Only a sure answer is ``DENIED`` or ``MISSING``: an Allow
    counts whatever its conditions and wherever its Resource may meet the ARN; a Deny counts only
    without conditions and when its Resource takes in every ARN the call may name."""
    for st in statements:
        if st.effect != "Deny" or st.conditions or not _names(st.actions, st.not_actions, action):
            continue
        if st.resources and (("*" in st.resources) or resource is not None
                             and any(_covers_all(p, resource) for p in st.resources)):
            return DENIED
    for st in statements:
        if st.effect != "Allow" or not _names(st.actions, st.not_actions, action):
            continue
        if resource is None:
            return ALLOWED
        if st.resources and any(_may_cover(p, resource) for p in st.resources):
            return ALLOWED
        if st.not_resources and not any(_covers_all(p, resource) for p in st.not_resources):
            return ALLOWED
    return MISSING
