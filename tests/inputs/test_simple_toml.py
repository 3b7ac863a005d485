"""lpack.inputs.simple_toml reads the plain TOML of most configurations without tomllib: where it
answers, the answer must be tomllib's, in the same order and with the same types (True is not
1); everything else, and every document tomllib refuses, it must leave to tomllib (None)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from lpack.core.compat import tomllib
from lpack.inputs import simple_toml

REPO = Path(__file__).resolve().parents[2]

# lines a configuration may hold: plain ones simple_toml reads, and near misses it must leave alone
LINES = [
    'runtime = "python3.12"', 'handler="app.handler"', "memory = 1024", "timeout = -3", "slim = true", "x = false",
    'exclude = ["tests/*", "*.md"]', 'layers = []', 'include = ["a",]', 'policies = [ "p.json" , "q.json" ]',
    "[functions.api]", "[functions.worker]", "[layers.deps]", "[functions]", "[tool.lpack]", "[ functions.api ]",
    'source = "functions/api"', 'source = "functions/api"  # where it lives', "# a comment", "  # indented comment",
    "", "   ", 'name = "café"', 'k = "tab\there"', 'k = "a\\"b"', 'k = "C:\\\\path"', "k = 'literal'",
    'k = """multi"""', "k = 0x1F", "k = 1_000", "k = +1", "k = 007", "k = -0", "k = 1.5", "k = 1e3", "k = inf",
    "k = 1979-05-27", 'k = {a = 1}', "k = [1, 2]", 'k = ["a", 1]', 'k = [', '"a",', "]", "a.b = 1", '"quoted" = 1',
    "[[functions]]", "[a.b]", "[a]", "a = 1", "b = 2", "[a.b.c]", "[functions.api.environment]", 'LOG = "debug"',
    "k = true # yes", "k = true #\x01", "k = \"x\" trailing", "k =", "= 1", "k = [,]", "[]", "[a..b]", "[a.]",
    "k = 99999999999999999999999", "clé = 1", "\ufeffk = 1", "k = 1\r", "[functions.api] # header comment",
    'arr = ["x" "y"]', 'empty = ""', "k=1", "k =\t2", "\tk = 3", "k = TRUE", "k = 1 # c\x7f",
]


def _same(text: str) -> None:
    fast = simple_toml.loads(text)
    try:
        expected = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, ValueError):
        assert fast is None, text
        return
    assert fast is None or repr(fast) == repr(expected), text


def test_random_documents_read_as_tomllib_reads_them() -> None:
    chooser = random.Random(23)
    answered = 0
    for _ in range(3000):
        text = "\n".join(chooser.choice(LINES) for _ in range(chooser.randint(1, 8)))
        _same(text)
        answered += simple_toml.loads(text) is not None
    assert answered > 300  # the plain documents are answered, not all left to tomllib


@pytest.mark.parametrize("line", LINES)
def test_each_line_alone_and_after_a_header(line: str) -> None:
    _same(line)
    _same(f"[functions.api]\n{line}\n")
    _same(f"{line}\n{line}\n")  # twice: a key or table defined again


def test_the_projects_configurations() -> None:
    found = [p for pattern in ("**/lpack.toml", "**/pyproject.toml") for p in REPO.glob(f"examples/{pattern}")]
    found += [p for p in REPO.glob("tests/data/**/*.toml")]
    assert len(found) > 10
    for path in found:
        _same(path.read_text(encoding="utf-8"))


def test_a_monorepo_configuration_is_read_without_tomllib() -> None:
    lines = ['runtime = "python3.12"', 'architecture = "x86_64"', 'handler = "app.handler"', ""]
    for i in range(50):
        lines += [f"[functions.fn{i:03d}]", f'source = "functions/fn{i:03d}"', f'requirements = "requirements/set{i % 5}.txt"',
                  "memory = 512  # MB", 'exclude = ["tests/*"]', "slim = true", ""]
    text = "\n".join(lines)
    assert simple_toml.loads(text) is not None
    _same(text)


@pytest.mark.parametrize("text", [
    "[a.b]\n[a]\n",  # a table implied by a header, then defined: legal TOML, left to tomllib
    "[a]\nk = 1\n[a]\n",  # a table defined twice
    "k = 1\nk = 2\n",
    "a = 1\n[a.b]\n",  # a key on the way holds a value
    '[functions.api]\nsource = "x"\n[functions.api.environment]\nK = "v"\n[functions.api]\n',
])
def test_definitions_tomllib_refuses_or_judges_are_left_to_it(text: str) -> None:
    assert simple_toml.loads(text) is None
