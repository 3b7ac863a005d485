"""Hypothesis strategies for hostile and broken inputs (issue 21): configs, templates, requirements, events,
IAM policies and zips, each as the bytes of the files a project would hold.

The strategies import hypothesis lazily (``strategies()``), so collecting the suite without it still works.
"""

from __future__ import annotations

import io
import json
import math
import struct
import warnings
import zipfile
from dataclasses import dataclass
from types import ModuleType
from typing import Any

# Planted secrets: neither may ever reach stdout, stderr or a file lpack writes.
PASSWORD = "S3cr3tPl4nted"
INDEX_URL = f"https://user:{PASSWORD}@host.invalid/simple"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYPl4nt3dK3y"  # the shape of an AWS secret access key (40)
SECRETS = (PASSWORD, AWS_SECRET)

HANDLER = b"def lambda_handler(event, context):\n    return {'ok': True}\n"

NASTY = [
    "", "/", "..", ".", "../outside", "../outside/pwn", "../../outside/pwn", "/dev/null", "/dev/zero", "/proc/self/environ",
    "\x00", "a\x00b", "~", "*", "**/*", "-r", "--help", "\u202e", "é", "\ud7ff", "CON", " ", "\n", "\\",
    "a" * 5000, "9" * 5000, "a" * 200_000 + ".h", "${AWS::Region}", "lambda_function.lambda_handler", "app.handler",
    "src/app.handler", "python3.12", "python3.99", "nodejs20.x", "x86_64", "arm64", "dist", "src", "src/",
    "requirements.txt", INDEX_URL,
]
CONFIG_KEYS = ["name", "handler", "runtime", "architecture", "source", "requirements", "lock", "package", "groups",
               "extras", "exclude", "include", "dist", "installer", "upload", "layers", "functions", "memory",
               "timeout", "ephemeral-storage", "environment", "invocation", "log-format", "log-level", "events",
               "policies", "trust-policy", "resource-policy", "select", "ignore", "per-path-ignores",
               "inline-policies"]
# A config may write only into the project's own folders; the rest of NASTY stays for other keys.
SAFE_DIST = ["dist", "out", "build/dist", "", ".", "/dev/null", "a\x00b", "dist/../dist", "lambda_function.py"]

TEMPLATE_TYPES = ["AWS::Serverless::Function", "AWS::Lambda::Function", "AWS::Serverless::LayerVersion",
                  "AWS::Lambda::LayerVersion", "AWS::IAM::Role", "AWS::Lambda::Permission", "AWS::S3::Bucket", ""]
TEMPLATE_KEYS = ["CodeUri", "Code", "Handler", "Runtime", "Architectures", "Layers", "Environment", "MemorySize",
                 "Timeout", "Policies", "Role", "Events", "ContentUri", "CompatibleRuntimes", "Metadata",
                 "FunctionName", "InlineCode", "PackageType", "ImageUri", "EphemeralStorage", "LoggingConfig"]
LOGICAL_IDS = ["Fn", "Api", "Layer", "../../outside/pwn", "/tmp/x", "a\x00b", "", "Fn-1", "Ä", "a" * 300, "dist",
               "..", "Fn Fn"]
CODE_URIS = ["src/", "src", ".", "/", "..", "../outside", "/dev/null", "s3://bucket/key", "missing/", "src/app.py",
             "a\x00b", "", "~"]
INTRINSICS = ["Ref", "Fn::GetAtt", "Fn::Sub", "Fn::If", "Fn::Join", "Fn::ImportValue", "Fn::FindInMap",
              "Condition", "Fn::Select"]
YAML_TAGS = ["!Ref", "!GetAtt", "!Sub", "!If", "!Join", "!!bool", "!!int", "!!float", "!!str", "!!binary",
             "!!timestamp", "!!set", "!!omap", "!Unknown", "!!python/object:os.system"]

REQUIREMENT_LINES = [
    "demo-pure==1.0", "demo-pure", "name[extra]>=1; python_version < '3'", "pkg @ https://host.invalid/p.whl",
    "pkg @ file:///etc/passwd", "-r other.txt", "-r requirements.txt", "-r ../outside/r.txt", "-r /dev/null",
    "-r missing.txt", "-c constraints.txt", "-e .", "-e git+https://host.invalid/x.git#egg=x",
    f"--index-url {INDEX_URL}", f"--extra-index-url {INDEX_URL}", f"-i {INDEX_URL}", "--find-links .",
    "--hash=sha256:" + "0" * 64, "demo-pure==1.0 --hash=sha256:" + "a" * 64, "--no-binary :all:", "--pre", "# comment",
    "", "\\", "'unclosed", 'pkg "unclosed', "===", "pkg==1.0 \\", "-r", "--", "--unknown-option", "x" * 5000,
    "pkg[" * 50, "pkg; " + "(" * 200 + "python_version" + ")" * 200, "\x00", "pkg==1.0\x00",
]

POLICY_KEYS = ["Version", "Id", "Statement", "Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction",
               "Resource", "NotResource", "Condition", "AWS", "Service", "StringLike", "Allow", "Deny", "*",
               "2012-10-17", "s3:GetObject", "iam:*", "arn:aws:s3:::b/*", "${aws:username}", ""]


def strategies() -> ModuleType:
    import hypothesis.strategies as st

    return st


def _text(st: ModuleType, max_size: int = 20) -> Any:
    return st.text(st.characters(exclude_categories=("Cs",)), max_size=max_size)


def _scalars(st: ModuleType) -> Any:
    return (_text(st) | st.sampled_from(NASTY) | st.integers() | st.floats() | st.booleans()
            | st.integers(-2**70, 2**70))


def _values(st: ModuleType, keys: list[str]) -> Any:
    return st.recursive(_scalars(st), lambda inner: st.lists(inner, max_size=4)
                        | st.dictionaries(st.sampled_from(keys) | _text(st, 8), inner, max_size=4), max_leaves=20)


def _splice(st: ModuleType, text: Any) -> Any:
    """Mostly the text as it is; sometimes a random piece inserted at a random place."""
    def insert(case: tuple[str, int, str]) -> str:
        whole, at, piece = case
        at %= len(whole) + 1
        return whole[:at] + piece + whole[at:]

    pieces = _text(st, 6) | st.sampled_from(["\x00", "[" * 300, "{", "]", "\\", '"', "'", "\n", "&a", "*a", "!!int x"])
    return text.flatmap(lambda whole: st.one_of(
        st.just(whole), st.tuples(st.just(whole), st.integers(0, 10**6), pieces).map(insert)))


def _encode(st: ModuleType, text: Any) -> Any:
    def encode(case: tuple[str, str]) -> bytes:
        whole, encoding = case
        return whole.encode(encoding, "surrogatepass" if encoding == "utf-8" else "replace")

    return st.tuples(text, st.sampled_from(["utf-8"] * 6 + ["latin-1", "utf-16", "utf-8-sig"])).map(encode)


# -- TOML ----------------------------------------------------------------------------------------

def toml_value(value: object) -> str:
    """An inline TOML value (tables inline, strings as JSON-escaped basic strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else "inf" if value == math.inf else "-inf" if value == -math.inf else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    assert isinstance(value, dict)
    return "{" + ", ".join(f"{json.dumps(k, ensure_ascii=False)} = {toml_value(v)}" for k, v in value.items()) + "}"


def toml_document(table: dict[str, object]) -> str:
    return "".join(f"{json.dumps(k, ensure_ascii=False)} = {toml_value(v)}\n" for k, v in table.items())


@dataclass(frozen=True)
class Config:
    """A config file's name and bytes, and the table it was written from (before any splice)."""

    name: str
    data: bytes
    table: dict[str, object]


def configs() -> Any:
    st = strategies()
    unit = st.dictionaries(st.sampled_from(CONFIG_KEYS[:14] + ["memory", "environment", "events"]),
                           _values(st, CONFIG_KEYS), max_size=4)
    tables = st.fixed_dictionaries({}, optional={
        "handler": st.sampled_from(NASTY) | _text(st), "source": st.sampled_from(NASTY),
        "requirements": st.sampled_from(NASTY), "dist": st.sampled_from(SAFE_DIST),
        "runtime": st.sampled_from(NASTY) | _scalars(st), "functions": st.dictionaries(
            st.sampled_from(LOGICAL_IDS) | _text(st, 8), unit, max_size=3),
        "layers": st.dictionaries(st.sampled_from(LOGICAL_IDS), unit, max_size=2) | st.lists(_text(st), max_size=2),
        "environment": st.dictionaries(_text(st, 8), _scalars(st), max_size=3),
        "exclude": st.lists(st.sampled_from(NASTY), max_size=3),
    })
    extra = st.dictionaries(st.sampled_from(CONFIG_KEYS) | _text(st, 10), _values(st, CONFIG_KEYS), max_size=3)
    merged = st.tuples(tables, extra, st.booleans()).map(_with_secrets)

    def render(case: tuple[dict[str, object], str]) -> Any:
        table, name = case
        body = toml_document(table)
        head = "[project]\nname = \"hostile\"\n[tool.lpack]\n" if name == "pyproject.toml" else ""
        return _encode(st, _splice(st, st.just(head + body))).map(lambda data: Config(name, data, table))

    return st.tuples(merged, st.sampled_from(["lpack.toml", "pyproject.toml"])).flatmap(render)


def _with_secrets(case: tuple[dict[str, object], dict[str, object], bool]) -> dict[str, object]:
    table, extra, plant = case
    # dist comes from SAFE_DIST only; `include` could ask for the config itself to be shipped, secret and all.
    merged = {k: v for k, v in extra.items() if k not in ("dist", "include")} | table
    if plant:
        merged["environment"] = {"INDEX": INDEX_URL, "DB_SECRET": AWS_SECRET}
    return merged


# -- requirements --------------------------------------------------------------------------------

def requirement_files() -> Any:
    """requirements.txt and the files its ``-r`` lines name, as {name: bytes}."""
    st = strategies()
    line = st.sampled_from(REQUIREMENT_LINES) | _text(st, 30)
    body = st.lists(line, max_size=8).map(lambda lines: "\n".join([f"--index-url {INDEX_URL}", *lines]) + "\n")
    raw = st.binary(max_size=64)
    files = st.fixed_dictionaries({"requirements.txt": _encode(st, _splice(st, body))},
                                  optional={"other.txt": _encode(st, body) | raw,
                                            "constraints.txt": _encode(st, body)})
    return files


# -- templates -----------------------------------------------------------------------------------

def _intrinsic(st: ModuleType, inner: Any) -> Any:
    return st.builds(lambda name, value: {name: value}, st.sampled_from(INTRINSICS), inner)


def templates() -> Any:
    """(file name, bytes) of a SAM or CloudFormation template, YAML or JSON."""
    st = strategies()
    scalar = _scalars(st) | st.sampled_from(CODE_URIS + LOGICAL_IDS)
    value = st.recursive(scalar, lambda inner: st.lists(inner, max_size=3) | _intrinsic(st, inner)
                         | st.dictionaries(st.sampled_from(TEMPLATE_KEYS) | _text(st, 8), inner, max_size=3),
                         max_leaves=15)
    properties = st.fixed_dictionaries({}, optional={
        "CodeUri": st.sampled_from(CODE_URIS) | value, "Handler": st.sampled_from(NASTY) | value,
        "Runtime": st.sampled_from(["python3.12", "python3.99", "nodejs20.x", ""]) | value,
        "Architectures": st.lists(st.sampled_from(["x86_64", "arm64", "sparc"]), max_size=3) | value,
        "Layers": st.lists(st.sampled_from([{"Ref": "Layer"}, "arn:aws:lambda:us-east-1:1:layer:x:1", "Layer"])
                           | value, max_size=3),
        "ContentUri": st.sampled_from(CODE_URIS),
        "Environment": st.just({"Variables": {"INDEX": INDEX_URL, "DB_SECRET": AWS_SECRET}}) | value,
    }).flatmap(lambda props: st.dictionaries(st.sampled_from(TEMPLATE_KEYS), value, max_size=3).map(
        lambda extra: extra | props))
    resource = st.fixed_dictionaries({"Type": st.sampled_from(TEMPLATE_TYPES) | value, "Properties": properties
                                      | value})
    document = st.fixed_dictionaries({
        "AWSTemplateFormatVersion": st.just("2010-09-09"),
        "Resources": st.dictionaries(st.sampled_from(LOGICAL_IDS) | _text(st, 8), resource, min_size=1, max_size=3)
        | value,
    }, optional={"Transform": st.just("AWS::Serverless-2016-10-31") | value,
                 "Globals": st.fixed_dictionaries({"Function": properties}) | value})
    yaml_text = st.tuples(document, st.sampled_from(["", *YAML_TAGS]), st.integers(0, 9)).map(_yaml_text)
    json_text = st.tuples(document, st.sampled_from([None, 2])).map(lambda c: json.dumps(c[0], indent=c[1]))
    return st.one_of(st.tuples(st.just("template.yaml"), _encode(st, _splice(st, yaml_text))),
                     st.tuples(st.just("template.json"), _encode(st, _splice(st, json_text))))


SLS_VARIABLES = ["${self:custom.a}", "${self:}", "${opt:stage, 'dev'}", "${sls:stage}", "${env:HOME}",
                 "${file(../outside/pwn):x}", "${ssm:/x}", "${self:custom.${opt:stage}}", "${", "}", "${self:provider}",
                 "${env:LPACK_NOPE, self:custom.a}", "${aws:region}", "${self:functions}"]


def services() -> Any:
    """(file name, bytes) of a Serverless Framework serverless.yml (or .json)."""
    st = strategies()
    scalar = _scalars(st) | st.sampled_from(CODE_URIS + SLS_VARIABLES)
    value = st.recursive(scalar, lambda inner: st.lists(inner, max_size=3)
                         | st.dictionaries(st.sampled_from(SERVICE_KEYS) | _text(st, 8), inner, max_size=3),
                         max_leaves=15)
    function = st.fixed_dictionaries({}, optional={
        "handler": st.sampled_from([*NASTY, *SLS_VARIABLES, "handler.lambda_handler", "app.handler"]) | value,
        "module": st.sampled_from(CODE_URIS) | value,
        "runtime": st.sampled_from(["python3.12", "python3.99", "nodejs20.x", "", "${self:provider.runtime}"]) | value,
        "architecture": st.sampled_from(["x86_64", "arm64", "sparc"]) | value,
        "layers": st.lists(st.sampled_from([{"Ref": "PythonRequirementsLambdaLayer"}, {"Ref": "DepsLambdaLayer"},
                                            "arn:aws:lambda:us-east-1:1:layer:x:1"]) | value, max_size=3),
        "environment": st.just({"INDEX": INDEX_URL, "DB_SECRET": AWS_SECRET}) | value,
        "package": st.fixed_dictionaries({}, optional={"patterns": st.lists(st.sampled_from(
            ["!**", "**", "!../outside/**", "[", "src/**", "!"]) | value, max_size=3), "artifact": st.sampled_from(
            CODE_URIS) | value}) | value,
        "memorySize": value, "image": value,
    })
    provider = st.fixed_dictionaries({"name": st.sampled_from(["aws", "google"]) | value}, optional={
        "runtime": st.sampled_from(["python3.12", "nodejs20.x", "${self:custom.a}"]) | value,
        "environment": st.just({"DB_SECRET": AWS_SECRET}) | value,
        "iam": st.just({"role": {"statements": [{"Effect": "Allow", "Action": "*", "Resource": "${ssm:/x}"}]}})
        | value})
    document = st.fixed_dictionaries({
        "provider": provider | value,
        "functions": st.dictionaries(st.sampled_from(LOGICAL_IDS) | _text(st, 8), function | value, min_size=1,
                                     max_size=3) | value,
    }, optional={"service": value, "custom": st.fixed_dictionaries({"a": value}, optional={
        "pythonRequirements": st.fixed_dictionaries({}, optional={
            "layer": value, "fileName": st.sampled_from(CODE_URIS) | value, "usePoetry": value})}) | value,
        "layers": st.dictionaries(st.sampled_from(["deps", "x"]), st.fixed_dictionaries(
            {"path": st.sampled_from(CODE_URIS) | value}), max_size=2) | value,
        "plugins": st.lists(st.sampled_from(["serverless-wsgi", "serverless-lift", "x"]), max_size=2) | value,
        "constructs": value, "package": value})
    yaml_text = st.tuples(document, st.sampled_from(["", *YAML_TAGS]), st.integers(0, 9)).map(_yaml_text)
    json_text = document.map(json.dumps)
    return st.one_of(st.tuples(st.just("serverless.yml"), _encode(st, _splice(st, yaml_text))),
                     st.tuples(st.just("serverless.json"), _encode(st, _splice(st, json_text))))


SERVICE_KEYS = ["handler", "module", "runtime", "layers", "environment", "package", "patterns", "artifact", "path",
                "iam", "role", "statements", "Ref", "custom", "a", "provider", "functions", "worker", "type"]


def _yaml_text(case: tuple[dict[str, object], str, int]) -> str:
    """YAML of the document, sometimes with a tag on a value and a ladder of aliases (``levels`` of them)."""
    import yaml

    document, tag, levels = case
    text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
    if tag:
        text += f"Description: {tag} maybe\n"
    if levels:
        anchors = ["  a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
        anchors += [f"  a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels)]
        text += "Mappings:\n" + "\n".join(anchors) + f"\nOutputs: {{X: {{Value: *a{levels - 1}}}}}\n"
    return text


# -- events and policies -------------------------------------------------------------------------

def json_documents(keys: list[str]) -> Any:
    """JSON text: random documents, spliced ones, deep ones, huge numbers and non-JSON."""
    st = strategies()
    documents = st.tuples(_values(st, keys), st.sampled_from([None, 2])).map(lambda c: json.dumps(c[0], indent=c[1]))
    odd = st.sampled_from(["", "{", "[" * 5000, "[" * 150 + "]" * 150, '{"a":1e999999}', "NaN", "9" * 5000,
                           '"\\ud800"', "\ufeff{}", "null", '{"a": "' + "x" * 7_000_000 + '"}'])
    return _encode(st, _splice(st, documents) | odd | _text(st))


def events() -> Any:
    return json_documents(["body", "headers", "Records", "requestContext", "httpMethod", "", "Variables"])


def policies() -> Any:
    return json_documents(POLICY_KEYS)


# -- zips ----------------------------------------------------------------------------------------

ZIP_ENTRIES = ["lambda_function.py", "app.py", "../evil.py", "/abs.py", "a/../../b.py", "pkg/__init__.py",
               "pkg/mod.cpython-312-x86_64-linux-gnu.so", "pkg/__pycache__/m.cpython-312.pyc", "dir/",
               "pkg-1.0.dist-info/RECORD", "pkg-1.0.dist-info/METADATA", "a\\b.py", "é.py", "", "x" * 300]


def zips() -> Any:
    """A function zip: real entries, then mutated at the byte level (flags, methods, sizes, names, truncation)."""
    st = strategies()
    entry = st.tuples(st.sampled_from(ZIP_ENTRIES) | _text(st, 12), st.sampled_from([HANDLER, b"", b"\x7fELF" + b"\0" * 60,
                      b"\x00" * 100_000, b"import os\n" * 20]), st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]),
                      st.integers(0, 0xFFFFFFFF))
    mutation = st.tuples(st.sampled_from(["flags", "method", "csize", "usize", "name_len", "byte", "truncate",
                                          "extattr"]), st.integers(0, 10**6), st.integers(0, 0xFFFFFFFF))
    raw = st.tuples(st.lists(entry, max_size=5), st.lists(mutation, max_size=3)).map(_zip_bytes)
    return raw | st.binary(max_size=200) | st.just(b"PK\x05\x06" + b"\0" * 18)


def _zip_bytes(case: tuple[list[tuple[str, bytes, int, int]], list[tuple[str, int, int]]]) -> bytes:
    entries, mutations = case
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a duplicate name is one of the hostile cases
        archive.writestr("lambda_function.py", HANDLER)
        for name, data, method, attr in entries:
            info = zipfile.ZipInfo(name.encode("utf-8", "replace").decode("utf-8") or "empty")
            info.compress_type, info.external_attr = method, attr
            try:
                archive.writestr(info, data)
            except (ValueError, UnicodeEncodeError):
                continue
    data = bytearray(buffer.getvalue())
    for kind, where, number in mutations:
        _mutate(data, kind, where, number)
    return bytes(data)


# Offsets into a central directory record (PK\x01\x02): flags 8, method 10, csize 20, usize 24, name length 28,
# external attributes 38.
_CENTRAL = {"flags": (8, "<H"), "method": (10, "<H"), "csize": (20, "<I"), "usize": (24, "<I"),
            "name_len": (28, "<H"), "extattr": (38, "<I")}


def _mutate(data: bytearray, kind: str, where: int, number: int) -> None:
    if kind == "truncate":
        del data[where % (len(data) + 1):]
    elif kind == "byte" and data:
        data[where % len(data)] = number & 0xFF
    elif kind in _CENTRAL:
        records = [i for i in range(len(data)) if data.startswith(b"PK\x01\x02", i)]
        if records:
            offset, fmt = _CENTRAL[kind]
            at = records[where % len(records)] + offset
            size = struct.calcsize(fmt)
            if at + size <= len(data):
                data[at:at + size] = struct.pack(fmt, number & (0xFFFF if fmt == "<H" else 0xFFFFFFFF))
