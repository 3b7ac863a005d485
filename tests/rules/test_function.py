"""The function configuration rules (LP3xx): environment variables, test events and settings,
each at and just past the numbers Lambda enforces, and on the near misses it must not flag."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from lpack.analysis.subjects import EventFile, FunctionSubject
from lpack.core import limits
from lpack.core.findings import Finding, Severity
from lpack.core.targets import make_target
from lpack.rules import rules_for, run

TARGET = make_target("python3.12", "arm64", where="t")
CONFIG = "pyproject.toml"

ENV_LIMIT = 4_096
SYNC = 6_291_456
ASYNC = 1_048_576
LEGACY = 262_144


def test_the_limits_are_lambdas() -> None:
    assert limits.ENVIRONMENT_SIZE.value == ENV_LIMIT
    assert (limits.SYNC_PAYLOAD.value, limits.ASYNC_PAYLOAD.value) == (SYNC, ASYNC)
    assert limits.ASYNC_PAYLOAD_LEGACY.value == LEGACY
    assert len(limits.RESERVED_ENV_KEYS) == len(set(limits.RESERVED_ENV_KEYS)) == 18


# -- helpers -------------------------------------------------------------------------------------


def check(config_text: str = "", **settings: object) -> list[Finding]:
    settings.setdefault("environment_where", CONFIG)
    subject = FunctionSubject(name="fn", where=CONFIG, target=TARGET, config_text=config_text, **settings)  # type: ignore[arg-type]
    return run(subject)


def codes(findings: list[Finding]) -> list[str]:
    return [f.code for f in findings]


def env_of_size(size: int, char: str = "x") -> dict[str, str]:
    """One variable whose map measures ``size`` raw UTF-8 bytes as `{"BIG":"..."}`."""
    overhead = len('{"BIG":""}')
    width = len(char.encode())
    assert (size - overhead) % width == 0
    return {"BIG": char * ((size - overhead) // width)}


def measured(env: dict[str, str], *, ascii_only: bool = False) -> int:
    return len(json.dumps(env, separators=(",", ":"), ensure_ascii=ascii_only).encode())


def event(tmp_path: Path, size: int, invocation: str = "sync", name: str = "event.json") -> EventFile:
    """A valid JSON event of exactly ``size`` bytes: one big string, written to a real file."""
    path = tmp_path / name
    path.write_bytes(b'{"k":"' + b"a" * (size - 8) + b'"}')
    data = path.read_bytes()
    assert len(data) == size
    json.loads(data)
    return EventFile(path, data, invocation)


def event_text(tmp_path: Path, content: bytes, invocation: str = "sync") -> EventFile:
    path = tmp_path / "event.json"
    path.write_bytes(content)
    return EventFile(path, path.read_bytes(), invocation)


# -- the rules as a whole ------------------------------------------------------------------------


def test_rules_are_registered_with_docs_and_sources() -> None:
    rules = rules_for(FunctionSubject)
    config_rules = [r for r in rules if "LP301" <= r.code <= "LP329"]  # lpack.rules.function
    assert [r.code for r in config_rules] == [
        "LP301", "LP302", "LP303", "LP304", "LP305", "LP306", "LP307",
        "LP311", "LP312", "LP313", "LP314", "LP321", "LP322", "LP323", "LP324", "LP325",
    ]
    from lpack.rules.function import LOGGING_URL

    sources = {limits.QUOTAS_URL, limits.ENV_URL, limits.API_ENVIRONMENT_URL, limits.API_INVOKE_URL, LOGGING_URL}
    for r in config_rules:
        assert r.source in sources, r.code
        assert r.subject == "function"
        headings = [line for line in r.doc.splitlines() if line.startswith("## ")]
        assert headings[:3] == ["## What it does", "## Why is this bad?", "## How to fix"], r.code
        assert len(r.name) <= 28, r.code  # the name column of `lpack rules`
    registry = {r.code: r for r in config_rules}
    for code in ("LP313", "LP314"):  # the 2025-10-24 raise, cited where it matters
        assert limits.ASYNC_1MB_URL in registry[code].doc
    for code, numbers in {
        "LP301": ["4,096 bytes"], "LP303": ["3,686 bytes", "4,096"], "LP312": ["6,291,456 bytes"],
        "LP313": ["1,048,576 bytes"], "LP314": ["262,144 bytes", "1,048,576-byte"],
        "LP321": ["128 to 10,240"], "LP322": ["3,008 MB"], "LP323": ["1 to 900"],
        "LP324": ["512 to 10,240"],
    }.items():
        for number in numbers:
            assert number in " ".join(registry[code].doc.split()), (code, number)


def test_a_healthy_function_is_quiet(tmp_path: Path) -> None:
    config = 'memory = 1769\ntimeout = 30\nephemeral-storage = 1024\n'
    environment = {"TABLE_NAME": "orders", "LOG_LEVEL": "INFO", "TZ": "Europe/Paris",
                   "POWERTOOLS_SERVICE_NAME": "orders", "GREETING": "grüß dich"}
    events = (event(tmp_path, 400, "sync", "a.json"), event(tmp_path, 400, "async", "b.json"))
    assert check(config, environment=environment, memory=1769, timeout=30, ephemeral_storage=1024,
                 events=events) == []


def test_nothing_configured_is_quiet() -> None:
    assert check() == []
    assert check(environment={}) == []


# -- LP301-LP303 environment size ----------------------------------------------------------------


def test_ascii_environment_exactly_at_the_limit_is_only_near(tmp_path: Path) -> None:
    env = env_of_size(ENV_LIMIT)
    assert measured(env) == ENV_LIMIT
    findings = check(environment=env)
    assert codes(findings) == ["LP303"]
    assert "4,096 bytes, 100% of the 4,096 bytes limit" in findings[0].message


def test_ascii_environment_one_byte_over_is_an_error() -> None:
    findings = check(environment=env_of_size(ENV_LIMIT + 1))
    assert codes(findings) == ["LP301"]
    message = findings[0].message
    assert "measure 4,097 bytes" in message and "the limit is 4,096 bytes" in message
    assert "largest: BIG (4,095 bytes)" in message  # "BIG":"..." without the braces
    assert findings[0].severity is Severity.ERROR and findings[0].function == "fn"


def test_the_whole_map_is_counted_not_names_and_values() -> None:
    # Names and values alone add up to 4,080 bytes; with braces, quotes, colons and commas the
    # compact JSON is 4,080 + 2 + 5 * 2 + 1 = 4,093, and one more character tips it over.
    env = {"FIRST": "a" * 2035, "OTHER": "b" * 2035}
    assert sum(len(k) + len(v) for k, v in env.items()) == 4_080
    assert measured(env) == 4_093
    assert codes(check(environment=env)) == ["LP303"]
    env["AB"] = ""
    assert measured(env) == 4_101
    assert codes(check(environment=env)) == ["LP301"]


def test_json_escapes_count() -> None:
    quotes = {"BIG": '"' * 2_043}  # each " is written \" : 2 bytes
    assert measured(quotes) == ENV_LIMIT
    assert "LP301" not in codes(check(environment=quotes))
    assert codes(check(environment={"BIG": '"' * 2_044})) == ["LP301"]


def test_multibyte_under_4096_characters_but_over_4096_bytes_is_an_error() -> None:
    env = {"GREETING": "é" * 2_100}
    assert len(json.dumps(env, separators=(",", ":"), ensure_ascii=False)) < ENV_LIMIT
    findings = check(environment=env)
    assert codes(findings) == ["LP301"]
    assert f"measure {measured(env):,} bytes" in findings[0].message


def test_multibyte_exactly_4096_bytes_is_not_an_error_but_may_exceed() -> None:
    env = env_of_size(ENV_LIMIT, "é")
    assert measured(env) == ENV_LIMIT and measured(env, ascii_only=True) == 12_268
    findings = check(environment=env)
    assert codes(findings) == ["LP302"]
    warning = findings[0]
    assert warning.severity is Severity.WARNING
    assert warning.message.startswith("environment variables may exceed the 4,096 bytes limit")
    assert "4,096 bytes as raw UTF-8 but 12,268 bytes" in warning.message
    assert "non-ASCII in: BIG" in warning.message


def test_multibyte_well_under_the_limit_either_way_is_quiet() -> None:
    env = {"GREETING": "こんにちは" * 100}  # 1,500 raw bytes, 3,000 escaped
    assert measured(env, ascii_only=True) < ENV_LIMIT * 0.9
    assert check(environment=env) == []


def test_characters_outside_the_bmp_escape_to_12_bytes() -> None:
    env = {"EMOJI": "🙂" * 300, "OTHER": "x" * 100}  # 1,200 raw bytes, 3,600 escaped
    assert measured(env) < ENV_LIMIT * 0.9 < measured(env, ascii_only=True) <= ENV_LIMIT
    findings = check(environment=env)
    assert codes(findings) == ["LP303"]
    assert "(non-ASCII counted as \\uXXXX)" in findings[0].message
    assert "largest: EMOJI (3,610 bytes), OTHER (110 bytes)" in findings[0].message


@pytest.mark.parametrize(("size", "expected"), [(3_686, []), (3_687, ["LP303"])], ids=["90%", "90%+1"])
def test_near_limit_starts_past_90_percent(size: int, expected: list[str]) -> None:
    assert codes(check(environment=env_of_size(size))) == expected


def test_largest_variables_are_listed_largest_first() -> None:
    env = {"SMALL": "s" * 10, "CERT": "c" * 3_000, "TOKEN": "t" * 1_200, "MID": "m" * 100}
    (finding,) = check(environment=env)
    assert finding.code == "LP301"
    assert "largest: CERT (3,009 bytes), TOKEN (1,210 bytes), MID (108 bytes)" in finding.message
    assert "SMALL" not in finding.message


def test_size_counts_non_string_values_as_written() -> None:
    env: dict[str, object] = {"BIG": "x" * 4_080, "RETRIES": 3}
    assert codes(check(environment=env)) == ["LP301", "LP306"]


# -- LP304 reserved keys -------------------------------------------------------------------------

SETTABLE_RESERVED = [key for key in limits.RESERVED_ENV_KEYS if not key.startswith("_")]


@pytest.mark.parametrize("key", SETTABLE_RESERVED)
def test_reserved_key_is_an_error(key: str) -> None:
    findings = check(environment={key: "x"})
    assert codes(findings) == ["LP304"]
    assert findings[0].message.endswith(
        f'not supported for modification. Reserved keys used in this request: {key}"'
    )


def test_credentials_point_at_the_execution_role() -> None:
    (finding,) = check(environment={"AWS_SECRET_ACCESS_KEY": "x"})
    assert finding.fix is not None and "execution role" in finding.fix
    (finding,) = check(environment={"AWS_REGION": "eu-west-1"})
    assert finding.fix is not None and "APP_AWS_REGION" in finding.fix


@pytest.mark.parametrize("key", ["_HANDLER", "_X_AMZN_TRACE_ID"])
def test_reserved_keys_with_an_underscore_fail_the_pattern_first(key: str) -> None:
    findings = check(environment={key: "x"})
    assert codes(findings) == ["LP305"]
    assert "a name Lambda reserves" in findings[0].message


@pytest.mark.parametrize("key", [
    "TZ", "LANG", "AWS_LAMBDA_EXEC_WRAPPER", "AWS_XRAY_CONTEXT_MISSING", "AWS_XRAY_DAEMON_ADDRESS",
    "AWS_XRAY_TRACING_NAME", "aws_region", "Aws_Region", "AWS_REGION_NAME", "MY_AWS_REGION",
    "AWS_LAMBDA_LOG_LEVEL", "LAMBDA_TASK_ROOT_COPY", "AWS_PROFILE",
])
def test_settable_names_are_quiet(key: str) -> None:
    assert check(environment={key: "x"}) == []


def test_reserved_key_line_comes_from_its_table() -> None:
    config = ('[tool.lpack.functions.fn]\nmemory = 512\n\n[tool.lpack.functions.fn.environment]\n'
              'TABLE = "t"\nAWS_REGION = "eu-west-1"\n')
    (finding,) = check(config, environment={"TABLE": "t", "AWS_REGION": "eu-west-1"}, memory=512)
    assert (finding.code, finding.path, finding.line) == ("LP304", CONFIG, 6)


def test_inline_environment_points_at_its_line() -> None:
    config = 'memory = 512\nenvironment = { AWS_REGION = "eu-west-1" }\n'
    (finding,) = check(config, environment={"AWS_REGION": "eu-west-1"}, memory=512)
    assert finding.line == 2


def test_environment_from_a_file_names_that_file_without_a_line() -> None:
    (finding,) = check('AWS_REGION = "x"\n', environment={"AWS_REGION": "x"},
                       environment_where="env.json")
    assert (finding.path, finding.line) == ("env.json", None)


# -- LP305 key pattern ---------------------------------------------------------------------------


@pytest.mark.parametrize(("key", "fix"), [
    ("A", "rename it"), ("1ABC", "rename it"), ("MY-KEY", "rename it to MY_KEY"),
    ("my.key", "rename it to my_key"), ("CAFÉ", "rename it to CAF_"), ("Ä_KEY", "rename it"),
    ("_PRIVATE", "rename it"), ("", "rename it"), ("MY KEY", "rename it to MY_KEY"),
])
def test_invalid_key_is_an_error(key: str, fix: str) -> None:
    findings = check(environment={key: "x"})
    assert codes(findings) == ["LP305"]
    assert f"environment variable name {key!r} does not match" in findings[0].message
    assert findings[0].fix == fix


@pytest.mark.parametrize("key", ["AB", "a1", "Ab_9", "X_", "x__", "Z" * 200])
def test_valid_key_is_quiet(key: str) -> None:
    assert check(environment={key: "x"}) == []


# -- LP306 values --------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "kind", "fix"), [
    (3, "a number", 'quote it: RETRIES = "3"'),
    (1.5, "a number", 'quote it: RETRIES = "1.5"'),
    (True, "a boolean", 'quote it: RETRIES = "true"'),
    (False, "a boolean", 'quote it: RETRIES = "false"'),
    (dt.date(2026, 1, 2), "a date", 'quote it: RETRIES = "2026-01-02"'),
    ([1, 2], "an array", "write it as a JSON string and json.loads it in the function"),
    ({"a": 1}, "a table", "write it as a JSON string and json.loads it in the function"),
    (None, "null", "write it as a JSON string and json.loads it in the function"),
], ids=["int", "float", "true", "false", "date", "array", "table", "null"])
def test_non_string_value_is_an_error(value: object, kind: str, fix: str) -> None:
    findings = check(environment={"RETRIES": value})
    assert codes(findings) == ["LP306"]
    assert findings[0].message == f"environment variable RETRIES is {kind}; Lambda environment values are strings"
    assert findings[0].fix == fix


@pytest.mark.parametrize("value", ["3", "", "true", " "])
def test_string_values_are_quiet(value: str) -> None:
    assert check(environment={"RETRIES": value}) == []


# -- LP307 search paths --------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["PYTHONPATH", "PATH", "LD_LIBRARY_PATH"])
def test_search_path_override_is_a_warning(key: str) -> None:
    findings = check(environment={key: "/opt/vendor"})
    assert codes(findings) == ["LP307"]
    assert findings[0].severity is Severity.WARNING
    assert f"setting {key} replaces the runtime's own value" in findings[0].message
    assert "expand" not in findings[0].message


def test_search_path_with_a_reference_says_it_is_not_expanded() -> None:
    (finding,) = check(environment={"PATH": "$PATH:/opt/tools/bin"})
    assert "literally '$PATH:/opt/tools/bin'" in finding.message


@pytest.mark.parametrize("key", ["pythonpath", "MY_PATH", "PYTHONPATH_EXTRA", "PYTHONHOME_X", "NODE_PATH"])
def test_other_path_like_names_are_quiet(key: str) -> None:
    assert check(environment={key: "/opt/vendor"}) == []


# -- LP311 invalid JSON --------------------------------------------------------------------------


@pytest.mark.parametrize(("content", "line", "where"), [
    (b'{\n  "a": 1,\n}\n', 3, " at line 3, column 1: Expecting property name enclosed in double quotes"),
    (b"{'a': 1}", 1, " at line 1, column 2"),
    (b'{"a": 1}\n{"b": 2}\n', 2, " at line 2, column 1: Extra data"),
    (b"", None, ": the file is empty"),
    (b'{"a": 1 // note\n}', 1, " at line 1, column 9"),
    (b'{"a":\n "caf\xe9"}', 2, ": not UTF-8 at byte 11"),
    (b'{"a": NaN}', None, ": NaN is not JSON"),
    (b"[Infinity]", None, ": Infinity is not JSON"),
], ids=["trailing-comma", "single-quotes", "two-documents", "empty", "comment", "latin-1", "nan", "infinity"])
def test_invalid_json_event_is_an_error(tmp_path: Path, content: bytes, line: int | None, where: str) -> None:
    findings = check(events=(event_text(tmp_path, content),))
    assert codes(findings) == ["LP311"]
    assert findings[0].message.startswith(f"test event is not valid JSON{where}")
    assert (findings[0].path, findings[0].line) == (str(tmp_path / "event.json"), line)


@pytest.mark.parametrize("content", [
    b'{"a": 1}\n', b"[]", b'"just a string"', b"null", b"42", b'{"name": "Zo\xc3\xab \xf0\x9f\x99\x82"}',
    b'\xef\xbb\xbf{"a": 1}', b'  {"a": [1, 2.5e3, -0, true, false, null]}  \n', b'{"a": 1, "a": 2}',
], ids=["object", "array", "string", "null", "number", "utf-8", "bom", "whitespace", "duplicate-key"])
def test_valid_json_event_is_quiet(tmp_path: Path, content: bytes) -> None:
    assert check(events=(event_text(tmp_path, content),)) == []


# -- LP312-LP314 event sizes ---------------------------------------------------------------------


@pytest.mark.parametrize(("invocation", "size", "expected"), [
    ("sync", SYNC, []),
    ("sync", SYNC + 1, ["LP312"]),
    ("sync", ASYNC + 1, []),
    ("async", ASYNC, ["LP314"]),
    ("async", ASYNC + 1, ["LP313"]),
    ("async", LEGACY, []),
    ("async", LEGACY + 1, ["LP314"]),
], ids=["sync-6MB", "sync-6MB+1", "sync-1MB+1", "async-1MB", "async-1MB+1", "async-256KB", "async-256KB+1"])
def test_event_size_limits(tmp_path: Path, invocation: str, size: int, expected: list[str]) -> None:
    assert codes(check(events=(event(tmp_path, size, invocation),))) == expected


def test_sync_event_over_6mb_quotes_lambda(tmp_path: Path) -> None:
    (finding,) = check(events=(event(tmp_path, SYNC + 1),))
    assert finding.message == (
        "test event is 6,291,457 bytes; a synchronous invocation accepts at most 6,291,456 bytes "
        '("Request must be smaller than 6291456 bytes for the InvokeFunction operation")'
    )
    assert (finding.severity, finding.path, finding.function) == (Severity.ERROR, str(tmp_path / "event.json"), "fn")


def test_async_event_over_1mb_quotes_lambda(tmp_path: Path) -> None:
    (finding,) = check(events=(event(tmp_path, ASYNC + 1, "async"),))
    assert "an asynchronous invocation accepts at most 1,048,576 bytes" in finding.message
    assert "1048577 byte payload is too large for the Event invocation type (limit 1048576 bytes)" in finding.message


def test_async_event_over_256kb_names_what_is_still_limited(tmp_path: Path) -> None:
    (finding,) = check(events=(event(tmp_path, LEGACY + 1, "async"),))
    assert finding.severity is Severity.WARNING
    assert finding.message.startswith("test event is 262,145 bytes, over 262,144 bytes (256 KB)")
    for part in ("2025-10-24", "SNS", "Step Functions", "InvokeAsync", "1,048,576 bytes"):
        assert part in finding.message


def test_each_event_is_judged_by_its_own_invocation(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    events = (event(tmp_path / "a", LEGACY + 1, "sync"), event(tmp_path, LEGACY + 1, "async"))
    findings = check(events=events)
    assert [(f.code, f.path) for f in findings] == [("LP314", str(tmp_path / "event.json"))]


def test_size_counts_the_file_as_given(tmp_path: Path) -> None:
    # Pretty-printing and a trailing newline are bytes Lambda receives too.
    body = b'{"k": "' + b"a" * (SYNC - 9) + b'"}'
    assert len(body) == SYNC
    assert codes(check(events=(event_text(tmp_path, body),))) == []
    assert codes(check(events=(event_text(tmp_path, body + b"\n"),))) == ["LP312"]


def test_too_large_and_invalid_are_both_reported(tmp_path: Path) -> None:
    content = b'{"k": "' + b"a" * SYNC + b'",}'
    assert codes(check(events=(event_text(tmp_path, content),))) == ["LP311", "LP312"]


# -- LP321-LP324 settings ------------------------------------------------------------------------


@pytest.mark.parametrize(("memory", "problem"), [
    (127, "127 is outside Lambda's range of 128 to 10,240 MB"),
    (10_241, "10241 is outside Lambda's range of 128 to 10,240 MB"),
    (0, "0 is outside"),
    (-512, "-512 is outside"),
    (512.0, "512.0 is not a whole number of MB"),
    ("512", '"512" is not a whole number of MB'),
    (True, "true is not a whole number of MB"),
])
def test_memory_invalid_is_an_error(memory: object, problem: str) -> None:
    findings = check("runtime = 'python3.12'\nmemory = 0\n", memory=memory)
    assert codes(findings) == ["LP321"]
    assert findings[0].message.startswith(f"memory = {problem}")
    assert (findings[0].path, findings[0].line) == (CONFIG, 2)


@pytest.mark.parametrize("memory", [128, 129, 1_769, 3_008, None])
def test_memory_in_range_is_quiet(memory: object) -> None:
    assert check(memory=memory) == []


@pytest.mark.parametrize("memory", [3_009, 4_096, 10_240])
def test_memory_above_3008_is_an_info(memory: int) -> None:
    findings = check(memory=memory)
    assert codes(findings) == ["LP322"]
    assert findings[0].severity is Severity.INFO
    assert "above 3,008 MB: new AWS accounts have reduced memory quotas" in findings[0].message


@pytest.mark.parametrize(("timeout", "problem"), [
    (0, "0 is outside Lambda's range of 1 to 900 s"),
    (901, "901 is outside Lambda's range of 1 to 900 s"),
    (3_600, "3600 is outside"),
    (1.5, "1.5 is not a whole number of s"),
    ("30", '"30" is not a whole number of s'),
])
def test_timeout_invalid_is_an_error(timeout: object, problem: str) -> None:
    findings = check("timeout = 0\n", timeout=timeout)
    assert codes(findings) == ["LP323"]
    assert findings[0].message.startswith(f"timeout = {problem}")
    assert findings[0].line == 1


@pytest.mark.parametrize("timeout", [1, 3, 29, 30, 300, 900, None], ids=lambda t: f"timeout={t}")
def test_timeout_in_range_is_quiet(timeout: object) -> None:
    """30 s and more is fine for Lambda, API Gateway's 29 s integration timeout notwithstanding."""
    assert check(timeout=timeout) == []


@pytest.mark.parametrize(("storage", "problem"), [
    (511, "511 is outside Lambda's range of 512 to 10,240 MB"),
    (10_241, "10241 is outside"),
    (128, "128 is outside"),
    ("10G", '"10G" is not a whole number of MB'),
])
def test_ephemeral_storage_invalid_is_an_error(storage: object, problem: str) -> None:
    findings = check('memory = 512\n"ephemeral-storage" = 1\n', memory=512, ephemeral_storage=storage)
    assert codes(findings) == ["LP324"]
    assert findings[0].message.startswith(f"ephemeral-storage = {problem}")
    assert findings[0].line == 2


@pytest.mark.parametrize("storage", [512, 513, 10_240, None])
def test_ephemeral_storage_in_range_is_quiet(storage: object) -> None:
    assert check(ephemeral_storage=storage) == []


def test_setting_without_a_config_line_has_no_line() -> None:
    (finding,) = check(timeout=0)
    assert finding.line is None


def test_rule_messages_never_wrap() -> None:
    env = {"AWS_REGION": "x", "A": "1", "N": 5, "PATH": "$PATH", "BIG": "é" * 2_100}
    for finding in check(environment=env, memory=1, timeout=0, ephemeral_storage=1):
        assert not re.search(r"\s{2,}|\n", finding.message), finding.message


# -- logging ---------------------------------------------------------------------------------------


def test_a_log_level_needs_the_json_log_format() -> None:
    text = '[tool.lpack]\nlog-level = "DEBUG"\n'
    (finding,) = [f for f in check(text, log_level="DEBUG", section="tool.lpack") if f.code == "LP325"]
    assert finding.line == 2 and finding.severity is Severity.WARNING
    assert "log-format" in finding.message
    assert "LP325" in codes(check(log_level="DEBUG", log_format="Text"))


@pytest.mark.parametrize(("log_format", "log_level"), [("JSON", "DEBUG"), ("json", "WARN"), ("Text", None),
                                                        (None, None), ("JSON", None)])
def test_logging_near_misses(log_format: str | None, log_level: str | None) -> None:
    assert "LP325" not in codes(check(log_format=log_format, log_level=log_level))


def test_an_event_nested_too_deeply_is_invalid_json_not_a_crash(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import zipfile

    from lpack.cli import main

    package = tmp_path / "fn.zip"
    with zipfile.ZipFile(package, "w") as zf:
        zf.writestr("app.py", "def handler(event, context):\n    return 1\n")
    event = tmp_path / "deep.json"
    event.write_text("[" * 5000 + "]" * 5000)
    assert main(["check", str(package), "--handler", "app.handler", "--event", str(event), "-q"]) == 1
    out = capsys.readouterr().out
    assert "LP311 error test event is not valid JSON: nested too deeply" in out and "crashed" not in out
