"""The IAM policy grammar (lpack.iam.policy) and its rules (LP501-LP519): per rule, documents it must
flag and near misses it must not; kind inference, size counting, the schema, and a fuzz test."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from lpack import rules
from lpack.analysis.subjects import PolicySubject
from lpack.core.errors import LpackError
from lpack.core.findings import Finding, Severity
from lpack.iam.policy import (
    Condition,
    infer_kind,
    key_lines,
    parse_operator,
    parse_policy,
    size_chars,
)
from lpack.rules.engine import check_policy_file

REPO = Path(__file__).resolve().parent.parent.parent
V = "2012-10-17"

# AWS managed policy AWSLambdaBasicExecutionRole
BASIC = {"Version": V, "Statement": [{"Effect": "Allow", "Action": [
    "logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*"}]}
# Lambda's resource-based policy example: S3 may invoke the function, for one bucket and account
S3_INVOKE = {"Version": V, "Id": "default", "Statement": [{
    "Sid": "lambda-allow-s3-my-function", "Effect": "Allow",
    "Principal": {"Service": "s3.amazonaws.com"}, "Action": "lambda:InvokeFunction",
    "Resource": "arn:aws:lambda:us-east-2:123456789012:function:my-function",
    "Condition": {"StringEquals": {"AWS:SourceAccount": "123456789012"},
                  "ArnLike": {"AWS:SourceArn": "arn:aws:s3:::amzn-s3-demo-bucket"}}}]}
TRUST = {"Version": V, "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                      "Action": "sts:AssumeRole"}]}
SINGLE = {"Version": V, "Statement": {"Effect": "Allow", "Action": "s3:GetObject",
                                      "Resource": "arn:aws:s3:::bucket/*"}}
VARIABLES = {"Version": V, "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
                                          "Resource": "arn:aws:s3:::home/${aws:username}/*"}]}
CONDITIONS = {"Version": V, "Statement": [{"Sid": "Tagged", "Effect": "Deny", "NotAction": "iam:*",
                                           "NotResource": ["arn:aws:iam::*:role/x"],
                                           "Condition": {
                                               "ForAnyValue:StringLikeIfExists": {"aws:TagKeys": ["a*", "b"]},
                                               "Bool": {"aws:SecureTransport": False},
                                               "NumericLessThan": {"s3:max-keys": 10},
                                               "Null": {"aws:TokenIssueTime": "true"}}}]}
WEB_IDENTITY = {"Version": V, "Statement": [{
    "Effect": "Allow", "Principal": {"Federated": "cognito-identity.amazonaws.com"},
    "Action": "sts:AssumeRoleWithWebIdentity",
    "Condition": {"StringEquals": {"cognito-identity.amazonaws.com:aud": "us-east-1:abc"}}}]}

CLEAN = [
    pytest.param(BASIC, None, id="AWSLambdaBasicExecutionRole"),
    pytest.param(S3_INVOKE, None, id="lambda-resource-policy-example"),
    pytest.param(TRUST, None, id="lambda-trust-policy"),
    pytest.param(SINGLE, None, id="statement-as-object-action-as-string"),
    pytest.param(VARIABLES, None, id="policy-variables-with-2012-10-17"),
    pytest.param(CONDITIONS, None, id="qualifiers-ifexists-bool-number-null"),
    pytest.param(WEB_IDENTITY, None, id="web-identity-trust"),
    pytest.param(S3_INVOKE, "resource", id="resource-kind-given"),
    pytest.param(TRUST, "trust", id="trust-kind-given"),
]


GRAMMAR = tuple(f"LP5{n:02}" for n in range(1, 20))  # LP501-LP519: this file's rules


def lint(document: object, kind: str | None = None) -> list[Finding]:
    """The grammar rules' findings (the least-privilege rules have their own tests)."""
    text = document if isinstance(document, str) else json.dumps(document, indent=2, ensure_ascii=False)
    parsed = parse_policy(text, "policy.json", kind)
    resolved = parsed.policy.kind if parsed.policy is not None else (kind or "identity")
    found = rules.run(PolicySubject(policy=parsed, kind=resolved, where="policy.json"))
    return [f for f in found if f.code in GRAMMAR]


def statement(**elements: object) -> dict[str, object]:
    base: dict[str, object] = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
    base.update(elements)
    return {key: value for key, value in base.items() if value is not None}


def policy(*statements: dict[str, object], **top: object) -> dict[str, object]:
    document: dict[str, object] = {"Version": V, "Statement": list(statements)}
    document.update(top)
    return {key: value for key, value in document.items() if value is not None}


@pytest.mark.parametrize(("document", "kind"), CLEAN)
def test_clean_policies_have_no_findings(document: object, kind: str | None) -> None:
    assert lint(document, kind) == []


# (document, kind, the one rule it must trigger, a fragment of the message)
FLAG: list[Any] = [
    pytest.param('{"Version": "2012-10-17",}', None, "LP501", "line 1, column 26", id="trailing-comma"),
    pytest.param("{'Version': '2012-10-17'}", None, "LP501", "line 1, column 2", id="single-quotes"),
    pytest.param("", None, "LP501", "Expecting value", id="empty-file"),
    pytest.param("[" * 100_000, None, "LP501", "not valid JSON", id="deep-nesting"),
    pytest.param([BASIC], None, "LP502", "must be a JSON object, not a list", id="top-level-list"),
    pytest.param({"Version": V}, None, "LP502", 'no "Statement"', id="no-statement"),
    pytest.param(policy(statement(Action=5)), None, "LP502", "Statement[0].Action: must be a string",
                 id="action-number"),
    pytest.param(policy(statement(Resource=["arn:a", None])), None, "LP502", "Statement[0].Resource[1]",
                 id="resource-list-with-null"),
    pytest.param(policy(statement(Principal="lambda.amazonaws.com", Resource="arn:f")), "resource",
                 "LP502", 'must be "*" or an object', id="principal-bare-string"),
    pytest.param(policy(statement(Condition=[{"Bool": {"a": "true"}}])), None, "LP502",
                 "Statement[0].Condition: must be an object", id="condition-list"),
    pytest.param(policy(statement(Sid=1)), None, "LP502", "Statement[0].Sid", id="sid-number"),
    pytest.param({"Version": V, "Statement": "Allow"}, None, "LP502", "object or a list", id="statement-string"),
    pytest.param(policy(statement(), Statment=[]), None, "LP503", 'did you mean "Statement"?', id="top-key-typo"),
    pytest.param(policy(statement(Conditon={"Bool": {"aws:SecureTransport": "true"}})), None, "LP503",
                 'did you mean "Condition"?', id="statement-key-typo"),
    pytest.param(policy(statement(action="s3:GetObject")), None, "LP503", 'did you mean "Action"?',
                 id="statement-key-lowercase"),
    pytest.param(policy(statement(Principal={"Services": "s3.amazonaws.com"}, Resource="arn:f")), "resource",
                 "LP503", 'did you mean "Service"?', id="principal-key-typo"),
    pytest.param(policy(statement(), Version="2024-01-01"), None, "LP504", "not a policy language version",
                 id="version-a-date"),
    pytest.param(policy(statement(), Version=None), None, "LP505", 'no "Version"', id="version-missing"),
    pytest.param(policy(statement(), Version="2008-10-17"), None, "LP506", "old policy language",
                 id="version-2008"),
    pytest.param(policy(statement(Effect=None)), None, "LP507", 'Statement[0]: has no "Effect"',
                 id="effect-missing"),
    pytest.param(policy(statement(Effect="allow")), None, "LP508", 'did you mean "Allow"?', id="effect-lowercase"),
    pytest.param(policy(statement(Effect="Permit")), None, "LP508", '"Permit" is not', id="effect-permit"),
    pytest.param(policy(statement(Action=None)), None, "LP509", 'neither "Action" nor "NotAction"',
                 id="action-missing"),
    pytest.param(policy(statement(NotAction="s3:*")), None, "LP510", 'both "Action" and "NotAction"',
                 id="action-and-notaction"),
    pytest.param(policy(statement(NotResource="arn:x")), None, "LP510", 'both "Resource" and "NotResource"',
                 id="resource-and-notresource"),
    pytest.param(policy(statement(Resource=[])), None, "LP511", "Statement[0].Resource: is an empty list",
                 id="resource-empty-list"),
    pytest.param(policy(statement(Action=[])), None, "LP511", "Statement[0].Action: is an empty list",
                 id="action-empty-list"),
    pytest.param({"Version": V, "Statement": []}, None, "LP511", "at least one statement", id="no-statements"),
    pytest.param(policy(statement(Resource=None)), None, "LP512", 'neither "Resource" nor "NotResource"',
                 id="identity-without-resource"),
    pytest.param(policy(statement(Principal={"AWS": "arn:aws:iam::123456789012:root"})), "identity", "LP513",
                 "identity policies cannot have Principal", id="principal-in-identity"),
    pytest.param(policy(statement(Principal={"Service": "lambda.amazonaws.com"}, Action="sts:AssumeRole")),
                 None, "LP513", "trust policies cannot have Resource", id="resource-in-trust"),
    pytest.param(policy(statement(Resource="arn:aws:lambda:us-east-1:123456789012:function:f")), "resource",
                 "LP514", 'Statement[0]: has no "Principal"', id="resource-without-principal"),
    pytest.param(policy(statement(Resource=None, Action="sts:AssumeRole")), "trust", "LP514",
                 'has no "Principal"', id="trust-without-principal"),
    pytest.param(policy(statement(Sid="Read"), statement(Sid="Read", Action="s3:ListBucket")), None, "LP515",
                 'Statement[1].Sid: Sid "Read" is also the Sid of Statement[0]', id="duplicate-sid"),
    pytest.param(policy(statement(Sid="Read\u2019s")), None, "LP516", "U+2019", id="typographic-quote"),
    pytest.param(policy(statement(Condition={"StringEqual": {"aws:SourceAccount": "1"}})), None, "LP517",
                 'did you mean "StringEquals"?', id="operator-typo"),
    pytest.param(policy(statement(Condition={"NullIfExists": {"aws:TokenIssueTime": "true"}})), None, "LP517",
                 "not an IAM condition operator", id="null-ifexists"),
    pytest.param(policy(statement(Condition={"ForEachValue:StringLike": {"aws:TagKeys": "a"}})), None,
                 "LP517", "not an IAM condition operator", id="unknown-qualifier"),
]


@pytest.mark.parametrize(("document", "kind", "code", "fragment"), FLAG)
def test_grammar_rule_flags(document: object, kind: str | None, code: str, fragment: str) -> None:
    found = lint(document, kind)

    assert sorted({f.code for f in found}) == [code], [f.message for f in found]
    assert any(fragment in f.message for f in found), [f.message for f in found]
    assert all(f.path == "policy.json" for f in found)


# (document, kind, a rule that must stay quiet): near misses
NEAR: list[Any] = [
    pytest.param(policy(statement(Action="s3:GetObject")), None, "LP502", id="action-string"),
    pytest.param(policy(statement(Principal="*", Resource="arn:f")), "resource", "LP502", id="principal-star"),
    pytest.param(policy(statement(Principal={"AWS": "*"}, Resource="arn:f")), "resource", "LP502",
                 id="principal-aws-star"),
    pytest.param(policy(statement(Condition={"stringequals": {"aws:SourceAccount": "1"}})), None, "LP517",
                 id="operator-other-case"),
    pytest.param(policy(statement(Condition={"ArnLikeIfExists": {"aws:SourceArn": "arn:x"}})), None, "LP517",
                 id="ifexists"),
    pytest.param(policy(statement(Condition={"ForAllValues:StringEquals": {"aws:TagKeys": ["a"]}})), None,
                 "LP517", id="forallvalues"),
    pytest.param(policy(statement(Effect="Deny")), None, "LP508", id="deny"),
    pytest.param(policy(statement(Action=None, NotAction="iam:*")), None, "LP509", id="notaction-only"),
    pytest.param(policy(statement(Resource=None, NotResource="arn:x")), None, "LP512", id="notresource-only"),
    pytest.param(TRUST, "trust", "LP512", id="trust-needs-no-resource"),
    pytest.param(policy(statement(Sid="A"), statement(Sid="B")), None, "LP515", id="distinct-sids"),
    pytest.param(policy(statement(Sid=""), statement(Sid="")), None, "LP515", id="empty-sids"),
    pytest.param(policy(statement(), statement()), None, "LP515", id="no-sids"),
    pytest.param(policy(statement(Sid="caf\u00e9")), None, "LP516", id="latin1-character"),
    pytest.param(policy(statement(Resource="arn:aws:s3:::b/\u2019")), "resource", "LP516",
                 id="resource-policy-characters-not-checked"),
    pytest.param(policy(statement(Resource="arn:aws:s3:::b/${aws:username}")), None, "LP505",
                 id="variables-with-version"),
    pytest.param(policy(statement(), Version=None), None, "LP502", id="version-missing-is-not-malformed"),
]


@pytest.mark.parametrize(("document", "kind", "code"), NEAR)
def test_grammar_rule_near_misses(document: object, kind: str | None, code: str) -> None:
    assert code not in {f.code for f in lint(document, kind)}


# -- severities that depend on the document -------------------------------------------------


@pytest.mark.parametrize(("version", "code"), [(None, "LP505"), ("2008-10-17", "LP506")])
def test_old_or_missing_version_is_an_error_with_policy_variables(version: str | None, code: str) -> None:
    plain = lint(policy(statement(), Version=version))
    variables = lint(policy(statement(Resource="arn:aws:s3:::home/${aws:username}/*"), Version=version))

    assert [(f.code, f.severity) for f in plain] == [(code, Severity.WARNING)]
    assert [(f.code, f.severity) for f in variables] == [(code, Severity.ERROR)]
    assert "${" in variables[0].message


# -- JSON paths and lines ----------------------------------------------------------------------

LINED = """{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"},
    {
      "Sid": "Two",
      "Effect": "Alow",
      "Action": "s3:GetObject",
      "Resource": [],
      "Condition": {
        "StringEquls": {"aws:SourceAccount": "123456789012"}
      }
    },
    {"Sid": "Two", "Effect": "Deny", "Action": "*", "Resource": "*"}
  ]
}
"""


def test_findings_carry_the_json_path_and_line() -> None:
    found = {(f.code, f.line, f.message.split(":", 1)[0]) for f in lint(LINED)}

    assert found == {
        ("LP508", 7, "Statement[1].Effect"),
        ("LP511", 9, "Statement[1].Resource"),
        ("LP517", 11, "Statement[1].Condition.StringEquls"),
        ("LP515", 14, "Statement[2].Sid"),
    }


def test_invalid_json_gives_line_and_column() -> None:
    [finding] = lint('{\n  "Version": "2012-10-17"\n  "Statement": []\n}')

    assert (finding.code, finding.line) == ("LP501", 3)
    assert "at line 3, column 3" in finding.message


def test_key_lines_cover_objects_arrays_and_nesting() -> None:
    lines = key_lines('{"a": [1,\n {"b": "x,y"},\n [2]],\n "c": {"d": null}}')

    assert lines == {"a": 1, "a[0]": 1, "a[1]": 2, "a[1].b": 2, "a[2]": 3, "a[2][0]": 3, "c": 4, "c.d": 4}


# -- the normalized model ----------------------------------------------------------------------


def test_statement_forms_are_normalized() -> None:
    parsed = parse_policy(json.dumps(SINGLE), "p.json", None)
    assert parsed.policy is not None
    [s] = parsed.policy.statements

    assert (s.index, s.path, s.effect, s.actions, s.resources) == (
        0, "Statement", "Allow", ("s3:GetObject",), ("arn:aws:s3:::bucket/*",))
    assert s.principal is None and s.not_actions == () and s.conditions == ()


def test_principals_and_conditions_are_normalized() -> None:
    parsed = parse_policy(json.dumps(S3_INVOKE), "p.json", None)
    assert parsed.policy is not None
    [s] = parsed.policy.statements

    assert s.principal == {"Service": ("s3.amazonaws.com",)}
    assert s.conditions == (
        Condition("StringEquals", None, False, "aws:sourceaccount", ("123456789012",),
                  "StringEquals", "AWS:SourceAccount"),
        Condition("ArnLike", None, False, "aws:sourcearn", ("arn:aws:s3:::amzn-s3-demo-bucket",),
                  "ArnLike", "AWS:SourceArn"),
    )
    assert parse_policy(json.dumps(policy(statement(Principal="*"))), "p", "resource").policy.statements[  # type: ignore[union-attr]
        0].principal == "*"


@pytest.mark.parametrize(("raw", "expected"), [
    ("StringEquals", ("StringEquals", None, False, True)),
    ("ForAnyValue:StringLikeIfExists", ("StringLike", "ForAnyValue", True, True)),
    ("forallvalues:arnlike", ("ArnLike", "ForAllValues", False, True)),
    ("Null", ("Null", None, False, True)),
    ("NullIfExists", ("Null", None, True, False)),
    ("IfExists", ("IfExists", None, False, False)),
    ("StringEqual", ("StringEqual", None, False, False)),
    ("Any:StringEquals", ("Any:StringEquals", None, False, False)),
])
def test_parse_operator(raw: str, expected: tuple[str, str | None, bool, bool]) -> None:
    assert parse_operator(raw) == expected


def test_condition_values_become_strings() -> None:
    parsed = parse_policy(json.dumps(CONDITIONS), "p.json", None)
    assert parsed.policy is not None
    values = {c.key: c.values for c in parsed.policy.statements[0].conditions}

    assert values == {"aws:tagkeys": ("a*", "b"), "aws:securetransport": ("false",),
                      "s3:max-keys": ("10",), "aws:tokenissuetime": ("true",)}


# -- kind inference ----------------------------------------------------------------------------


@pytest.mark.parametrize(("document", "kind"), [
    (BASIC, "identity"),
    (S3_INVOKE, "resource"),
    (TRUST, "trust"),
    (WEB_IDENTITY, "trust"),
    (policy(statement(Principal={"AWS": "arn:aws:iam::1:root"}, Action="sts:AssumeRoleWithSAML")), "trust"),
    (policy(statement(Principal={"AWS": "arn:aws:iam::1:root"}, Action=["sts:TagSession"])), "trust"),
    (policy(statement(Principal={"Service": "x"}, Action="sts:*")), "trust"),
    (policy(statement(Principal={"Service": "x"}, Action="*")), "resource"),
    (policy(statement(Principal={"Service": "lambda.amazonaws.com"}, Action="sts:AssumeRole", Effect="Deny")),
     "resource"),
    (policy(statement(Action="sts:AssumeRole", Resource="arn:aws:iam::1:role/x")), "identity"),
    (policy(statement(NotPrincipal={"AWS": "arn:aws:iam::1:root"}, Effect="Deny")), "resource"),
    ([1, 2], "identity"),
    ("text", "identity"),
])
def test_infer_kind(document: object, kind: str) -> None:
    assert infer_kind(document) == kind
    parsed = parse_policy(json.dumps(document), "p.json", None)
    if parsed.policy is not None:
        assert infer_kind(parsed.policy) == kind == parsed.policy.kind


def test_given_kind_wins_over_inference() -> None:
    parsed = parse_policy(json.dumps(TRUST), "p.json", "resource")
    assert parsed.policy is not None and parsed.policy.kind == "resource"


# -- sizes -------------------------------------------------------------------------------------


def test_size_counts_non_whitespace_characters() -> None:
    assert size_chars('{ "a" :\n\t"b c" }\r\n') == 10
    assert size_chars(json.dumps(BASIC, indent=4)) == size_chars(json.dumps(BASIC, separators=(",", ":")))


def sized(kind: str, target: int) -> dict[str, object]:
    """A clean policy of ``kind`` padded to about ``target`` units as LP518 counts them."""
    base: dict[str, object] = {"identity": BASIC, "trust": TRUST, "resource": S3_INVOKE}[kind]  # type: ignore[assignment]
    document = json.loads(json.dumps(base))
    current = len(json.dumps(document, separators=(",", ":")))
    pad = "a" * (target - current - 5)  # [,""] around the padding
    first = document["Statement"][0]
    if kind == "trust":
        first["Principal"]["Service"] = [first["Principal"]["Service"], pad]
    else:
        first["Resource"] = [first["Resource"], pad]
    return dict(document)


@pytest.mark.parametrize(("kind", "limit"), [("identity", 6_144), ("trust", 2_048), ("resource", 20_480)])
def test_size_quotas(kind: str, limit: int) -> None:
    def size_codes(target: int) -> list[str]:
        document = sized(kind, target)
        assert len(json.dumps(document, separators=(",", ":"))) == target
        return [f.code for f in lint(document, kind) if f.code in ("LP518", "LP519")]

    assert size_codes(int(limit * 0.9)) == []
    assert size_codes(int(limit * 0.9) + 1) == ["LP519"]
    assert size_codes(limit) == ["LP519"]
    assert size_codes(limit + 1) == ["LP518"]


def test_indentation_does_not_count_towards_iam_size() -> None:
    document = sized("identity", 6_000)
    text = json.dumps(document, indent=8)
    assert len(text) > 6_144
    assert [f.code for f in lint(text, "identity")] == ["LP519"]


# -- files -------------------------------------------------------------------------------------


def test_check_policy_file(tmp_path: Path) -> None:
    (tmp_path / "role.json").write_text(json.dumps(BASIC, indent=2))
    (tmp_path / "bad.json").write_text('{"Version": "2012-10-17", "Statement": [}')
    (tmp_path / "bom.json").write_text("\ufeff" + json.dumps(TRUST), encoding="utf-8")
    (tmp_path / "latin1.json").write_bytes(json.dumps(BASIC).replace("*", "\xe9").encode("latin-1"))

    assert check_policy_file(tmp_path / "role.json", None) == []
    assert check_policy_file(tmp_path / "bom.json", "trust") == []
    [bad] = check_policy_file(tmp_path / "bad.json", None)
    assert (bad.code, bad.line, bad.path) == ("LP501", 1, str(tmp_path / "bad.json"))
    [latin1] = check_policy_file(tmp_path / "latin1.json", None)
    assert latin1.code == "LP501" and "not UTF-8 text (byte 0xe9)" in latin1.message


@pytest.mark.parametrize("name", ["missing.json", "."])
def test_unreadable_policy_file_is_one_line_error(tmp_path: Path, name: str) -> None:
    with pytest.raises(LpackError, match=r"^cannot read the IAM policy .+: .+$"):
        check_policy_file(tmp_path / name, None)


# -- the rules' metadata and the schema ----------------------------------------------------------


def test_lp5xx_rules_are_registered_and_documented() -> None:
    grammar = [r for r in rules.rules_for(PolicySubject) if "LP501" <= r.code <= "LP519"]

    assert [r.code for r in grammar] == [f"LP5{n:02d}" for n in range(1, 20)]
    for r in grammar:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", r.name) and len(r.name) <= 28
        headings = [line for line in r.doc.splitlines() if line.startswith("## ")]
        assert headings[:3] == ["## What it does", "## Why is this bad?", "## How to fix"]
        assert r.source.startswith("https://docs.aws.amazon.com/lambda/")


def schema_validator() -> jsonschema.Draft202012Validator:
    schema = json.loads((REPO / "schemas" / "iam-policy.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


SCHEMA_CODES = {"LP502", "LP503", "LP504", "LP507", "LP508", "LP509", "LP510", "LP511", "LP517"}


@pytest.mark.parametrize(("document", "kind"), CLEAN)
def test_schema_accepts_clean_policies(document: object, kind: str | None) -> None:
    assert list(schema_validator().iter_errors(document)) == []


SCHEMA_FLAG = [p for p in FLAG if p.values[2] in SCHEMA_CODES and not isinstance(p.values[0], str)]


@pytest.mark.parametrize(("document", "kind", "code", "fragment"), SCHEMA_FLAG)
def test_schema_rejects_what_the_grammar_rules_flag(document: object, kind: str | None, code: str,
                                                    fragment: str) -> None:
    assert list(schema_validator().iter_errors(document)) != []


# -- fuzz ----------------------------------------------------------------------------------------

KEYS = ["Version", "Id", "Statement", "Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction",
        "Resource", "NotResource", "Condition", "AWS", "Service", "StringLike", "ForAnyValue:ArnLike",
        "NullIfExists", "aws:SourceArn", "Allow", "Deny", "*", "2012-10-17", "${aws:username}", ""]


def _splice(case: tuple[object, int, str]) -> str:
    """A document's JSON with ``text`` inserted at ``at``: mostly broken JSON, sometimes not."""
    document, at, text = case
    encoded = json.dumps(document)
    return encoded[:at] + text + encoded[at:]


def _lint_everything(text: str) -> None:
    for kind in (None, "identity", "resource", "trust"):
        parsed = parse_policy(text, "fuzz.json", kind)
        resolved = parsed.policy.kind if parsed.policy is not None else (kind or "identity")
        for finding in rules.run(PolicySubject(policy=parsed, kind=resolved, where="fuzz.json")):
            assert finding.line is None or finding.line >= 1


def test_fuzz_parser_and_rules_never_raise(tmp_path: Path) -> None:
    hypothesis = pytest.importorskip("hypothesis")
    st = pytest.importorskip("hypothesis.strategies")
    configuration = pytest.importorskip("hypothesis.configuration")
    home = configuration.storage_directory(intent_to_write=False).home_directory  # restored below
    configuration.set_hypothesis_home_dir(tmp_path / ".hypothesis")  # its caches stay out of the repo

    scalars = (st.none() | st.booleans() | st.integers() | st.floats() | st.sampled_from(KEYS) | st.text())
    values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                          | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), inner, max_size=5),
                          max_leaves=30)
    documents = st.tuples(values, st.sampled_from([None, 2])).map(lambda t: json.dumps(t[0], indent=t[1]))
    mutated = st.tuples(values, st.integers(0, 200), st.text(max_size=5)).map(_splice)
    inputs = documents | mutated | st.text() | st.sampled_from(["", "{", "[" * 5000, '{"a":1e999999}', "NaN"])

    @hypothesis.settings(max_examples=400, deadline=None, database=None, derandomize=True,
                         suppress_health_check=list(hypothesis.HealthCheck))
    @hypothesis.given(inputs)
    def run(text: str) -> None:
        _lint_everything(text)

    try:
        run()
    finally:
        configuration.set_hypothesis_home_dir(home)


HOSTILE = [
    pytest.param("[" * 900 + "]" * 900, id="deep-list"),
    pytest.param('{"Statement":' * 500 + "1" + "}" * 500, id="deep-statement"),
    pytest.param('"\\ud800"', id="lone-surrogate"),
    pytest.param('{"Statement": {"Condition": {"": {"": [[]]}}}}', id="empty-names"),
    pytest.param('{"Statement": [{"Principal": {"AWS": [1, {}]}}]}', id="principal-junk"),
    pytest.param("\x00", id="nul"),
    pytest.param("1" * 5000, id="huge-number"),
    pytest.param('{"Statement": NaN, "Version": Infinity}', id="nan"),
]


@pytest.mark.parametrize("text", HOSTILE)
def test_parser_survives_hostile_inputs(text: str) -> None:
    _lint_everything(text)
