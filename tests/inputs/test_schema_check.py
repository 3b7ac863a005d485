"""lpack's own schema checker (lpack.inputs._schema_check), which builds and checks use instead of
importing jsonschema, gives jsonschema's answers: the same errors, and the same lines users read,
on every configuration in the repository and on configurations broken every way the schema allows
(each setting given each kind of wrong value, unknown and misspelt keys, bad names, nested
tables, arrays). A case where they differ fails here."""

from __future__ import annotations

import copy
import datetime
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from lpack.core.compat import tomllib
from lpack.core.errors import ConfigError
from lpack.inputs import _schema_check
from lpack.inputs.config import _check, load_schema

REPO = Path(__file__).resolve().parents[2]
SCHEMA = load_schema("lpack.schema.json")
VALID = {
    "name": "api", "handler": "app.handler", "runtime": "python3.12", "architecture": "arm64",
    "source": "src", "requirements": "requirements.txt", "exclude": ["tests/**"], "include": ["*.pem"],
    "dist": "dist", "installer": "uv", "upload": "direct", "slim": True, "memory": 512, "timeout": 30,
    "ephemeral-storage": 1024, "snap-start": "PublishedVersions", "environment": {"STAGE": "prod"},
    "invocation": "async", "log-format": "JSON", "log-level": "INFO", "events": "events",
    "policies": ["policy.json"], "inline-policies": ["inline.json"], "trust-policy": "trust.json",
    "resource-policy": "resource.json", "select": ["LP1"], "ignore": ["LP201"],
    "per-path-ignores": {"tests/*": ["LP3"]}, "follow-links": ["../shared"], "groups": ["prod"],
    "extras": ["fast"], "package": "api", "lock": "uv.lock",
    "functions": {"worker": {"handler": "worker.handler", "memory": 256, "layers": ["deps"],
                             "environment": {"QUEUE": "jobs"}, "snap-start": False}},
    "layers": {"deps": {"requirements": "layer.txt", "runtime": "python3.12", "slim": False}},
}
# One of each kind of value TOML can hold, and the near misses of the schema's strings
WRONG = [
    "x", "", "a b", "x" * 129, "LP1234", "arn:aws:lambda:us-east-1:1:layer:x:1", "python3.6", "ARM64", 0, 7, -1,
    1.5, 2.0, True, False, datetime.date(2026, 1, 2), datetime.datetime(2026, 1, 2, 3, 4),
    datetime.time(1, 2), [], ["a"], ["a", "a"], [1, "a"], [["a"]], [{}], {}, {"k": 1}, {"k": "v"}, {"bad key": {}},
]


def messages(table: dict[str, Any], config: Path, engine: str) -> str:
    """What a user reads for ``table`` written in ``config``: the error lines, or "" when valid."""
    try:
        _check(table, config, SCHEMA, engine)
    except ConfigError as exc:
        return str(exc)
    return ""


def answers(table: dict[str, Any], config: Path) -> tuple[str, str]:
    """Both engines' lines, after checking that lpack's checker answered (it did not hand over)."""
    list(_schema_check.iter_errors(SCHEMA, table))  # raises Unsupported if it would fall back
    return messages(table, config, "lpack"), messages(table, config, "jsonschema")


def repository_configs() -> Iterator[Path]:
    for folder in (REPO / "tests", REPO / "examples"):
        yield from sorted(folder.rglob("lpack.toml"))
        yield from (path for path in sorted(folder.rglob("pyproject.toml")) if "[tool.lpack" in path.read_text())


def table_of(path: Path) -> dict[str, Any]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    table: dict[str, Any] = data if path.name == "lpack.toml" else data["tool"]["lpack"]
    return table


def broken(valid: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Configurations each with one setting (top level, a function's, a layer's) set to each wrong
    value, plus unknown keys and names, in each place a key can be."""
    places: list[tuple[str, ...]] = [(), ("functions", "worker"), ("layers", "deps")]
    for place in places:
        base = copy.deepcopy(valid)
        target = base
        for key in place:
            target = target[key]
        for key in [*target, "colour", "runtme", "environment"]:
            for value in WRONG:
                table = copy.deepcopy(base)
                spot = table
                for part in place:
                    spot = spot[part]
                spot[key] = value
                yield f"{'.'.join((*place, key))}={value!r}", table
    for name in ("bad name", "x" * 65, "", "ok_name-1"):
        yield f"functions.{name!r}", {**valid, "functions": {name: {"handler": "a.b"}}}
        yield f"layers.{name!r}", {**valid, "layers": {name: {"requirements": "r.txt"}}}
    for arns in (["arn:1"] * 6, ["arn:1", "nope"], [""], "arn:1", [1]):
        yield f"layers={arns!r}", {"layers": arns}
    yield "several mistakes", {**valid, "colour": 1, "memory": "big", "functions": {"a": {"runtme": "x", "timeout": []}}}
    yield "deep table", {"environment": {"A": {"B": {"C": 1}}}, "per-path-ignores": {"x": [["LP1"]]}}
    yield "not a table", {"functions": ["a"], "layers": 3}


@pytest.mark.parametrize("path", list(repository_configs()), ids=lambda path: str(path.relative_to(REPO)))
def test_every_configuration_in_the_repository_gets_jsonschemas_answer(path: Path) -> None:
    ours, theirs = answers(table_of(path), path)
    assert ours == theirs


CASES = list(broken(VALID))


def test_the_broken_configurations_are_broken_every_way() -> None:
    """The generated set reaches every keyword the schema uses, so the comparison below covers them."""
    failed: set[str] = set()

    def keywords(error: jsonschema.ValidationError) -> None:
        failed.add(str(error.validator))
        for inner in error.context or ():
            keywords(inner)

    validator = jsonschema.Draft7Validator(SCHEMA)
    for _, table in CASES:
        for error in validator.iter_errors(table):
            keywords(error)
    assert failed == {"type", "enum", "pattern", "minLength", "maxLength", "maxItems", "uniqueItems",
                      "additionalProperties", "anyOf"}
    assert messages(VALID, Path("lpack.toml"), "lpack") == ""


@pytest.mark.parametrize(("case", "table"), CASES, ids=[case for case, _ in CASES])
def test_a_broken_configuration_gets_jsonschemas_answer(tmp_path: Path, case: str, table: dict[str, Any]) -> None:
    config = tmp_path / "pyproject.toml"
    config.write_text("[tool.lpack]\nmemory = 1\n[tool.lpack.functions.worker]\nmemory = 1\n"
                      "[tool.lpack.layers.deps]\nslim = true\n")
    ours, theirs = answers(table, config)
    assert ours == theirs


def test_the_errors_themselves_are_jsonschemas() -> None:
    """Not only the lines: each error's keyword, value, instance, path and message, and under
    anyOf every branch's."""

    def shape(error: Any) -> tuple[Any, ...]:
        return (error.validator, error.validator_value, repr(error.instance), list(error.absolute_path),
                error.message, sorted(repr(shape(inner)) for inner in error.context or ()))

    validator = jsonschema.Draft7Validator(SCHEMA)
    for case, table in CASES:
        ours = [shape(error) for error in _schema_check.iter_errors(SCHEMA, table)]
        theirs = [shape(error) for error in validator.iter_errors(table)]
        assert sorted(map(repr, ours)) == sorted(map(repr, theirs)), case


@pytest.mark.parametrize("extra", [{"minimum": 1}, {"$ref": "#/properties/timeout"}, {"items": [{"type": "string"}]},
                                   {"additionalProperties": True, "patternProperties": {"^a": {}}}])
def test_what_the_checker_does_not_know_is_left_to_jsonschema(tmp_path: Path, extra: dict[str, Any]) -> None:
    """A schema keyword or shape outside what lpack's schema uses is not guessed at: the checker
    says so, and the configuration is checked by jsonschema instead."""
    schema = {**SCHEMA, "properties": {**SCHEMA["properties"], "memory": {"type": "integer", **extra}}}
    table = {"memory": 0, "colour": 1}
    config = tmp_path / "lpack.toml"
    config.write_text("memory = 0\ncolour = 1\n")
    with pytest.raises(_schema_check.Unsupported):
        list(_schema_check.iter_errors(schema, table))
    with pytest.raises(ConfigError) as raised:
        _check(table, config, schema)
    expected = [f"{config}:2: colour: unknown key"]
    if "minimum" in extra:
        expected.insert(0, f"{config}:1: memory: 0 is less than the minimum of 1")
    assert str(raised.value).splitlines() == expected


def test_a_build_does_not_import_jsonschema_even_for_a_broken_configuration(tmp_path: Path) -> None:
    config = tmp_path / "lpack.toml"
    config.write_text('runtime = "python3.12"\ncolour = 1\nmemory = "big"\n')
    (tmp_path / "lambda_function.py").write_text("def lambda_handler(event, context):\n    return 1\n")
    script = ("import sys\nfrom pathlib import Path\nfrom lpack.core.errors import ConfigError\n"
              "from lpack.inputs.config import load_project\n"
              f"try:\n    load_project(Path({str(tmp_path)!r}))\nexcept ConfigError as exc:\n    print(exc)\n"
              "print('jsonschema' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                          env={"LPACK_CACHE_DIR": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin",
                               "PYTHONPATH": ":".join(sys.path)})
    assert done.stdout.splitlines() == [f"{config}:2: colour: unknown key",
                                        f"{config}:3: memory: expected integer, got str 'big'", "False"]
