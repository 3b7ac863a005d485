"""The docs: generated pages are current and agree with the CLI; the migration page's commands parse."""

from __future__ import annotations

import importlib.util
import re
import shlex
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

from lpack.cli import _parser, main
from lpack.rules import load_all

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"


def _load_make_docs() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_docs", REPO / "scripts" / "make_docs.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_docs", module)
    spec.loader.exec_module(module)
    return module


make_docs = _load_make_docs()


def test_committed_docs_are_current(capsys: pytest.CaptureFixture[str]) -> None:
    code = make_docs.main(["--check"])
    assert code == 0, capsys.readouterr().out


def test_check_lists_stale_files_with_the_hint_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    docs = tmp_path / "docs"
    shutil.copytree(DOCS, docs)
    (docs / "rules" / "LP101.md").write_text("edited by hand\n", encoding="utf-8")
    (docs / "rules" / "LP102.md").unlink()
    (docs / "rules" / "LP999.md").write_text("a rule that no longer exists\n", encoding="utf-8")

    assert make_docs.main(["--check", "--docs", str(docs)]) == 1
    out = capsys.readouterr().out
    assert "LP101.md\n" in out
    assert "LP102.md (missing)" in out
    assert "LP999.md (rule no longer exists; remove)" in out
    assert "hint: run `python scripts/make_docs.py`" in out
    assert (docs / "rules" / "LP101.md").read_text(encoding="utf-8") == "edited by hand\n"

    assert make_docs.main(["--docs", str(docs)]) == 0
    assert not (docs / "rules" / "LP999.md").exists()
    assert (docs / "coming-from.md").read_text(encoding="utf-8") == (
        DOCS / "coming-from.md"
    ).read_text(encoding="utf-8")
    assert make_docs.main(["--check", "--docs", str(docs)]) == 0


def test_every_rule_has_a_page_and_the_index_links_resolve() -> None:
    index = (DOCS / "rules" / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (LP\d+) \| \[([^\]]+)\]\(([^)]+)\) \|", index, flags=re.MULTILINE)
    registry = load_all()
    assert sorted(code for code, _, _ in rows) == sorted(registry)
    for code, name, link in rows:
        assert name == registry[code].name
        assert (DOCS / "rules" / link).is_file(), link


@pytest.mark.parametrize("code", sorted(load_all()))
def test_rule_page_is_what_lpack_rules_prints(
    code: str, capsys: pytest.CaptureFixture[str]
) -> None:
    rule = load_all()[code]
    page = (DOCS / "rules" / f"{code}.md").read_text(encoding="utf-8")
    assert f"# {rule.code} {rule.name}\n\nSeverity: {rule.severity.value}\n" in page
    assert rule.doc in page
    assert main(["rules", code]) == 0
    printed = capsys.readouterr().out
    header, body = printed.split("\n\n", 1)
    assert header == f"{rule.code} {rule.name} ({rule.severity.value})"
    assert re.sub(r"^Source: (\S+)$", r"Source: <\1>", body, flags=re.MULTILINE) in page


def test_commands_page_has_every_subcommand() -> None:
    text = (DOCS / "commands.md").read_text(encoding="utf-8")
    names = list(make_docs.subcommands(_parser()))
    assert {"build", "check", "invoke", "events", "rules"} <= set(names)
    for name in names:
        assert f"\n## lpack {name}\n" in text
        assert f"usage: lpack {name} " in text


def _lpack_lines(markdown: str) -> list[str]:
    """`lpack ...` command lines in code spans and fenced code blocks."""
    found: list[str] = []
    for i, part in enumerate(re.split(r"^```.*$", markdown, flags=re.MULTILINE)):
        candidates = part.splitlines() if i % 2 else re.findall(r"`([^`\n]+)`", part)
        found += [c.strip() for c in candidates if re.match(r"lpack(\s|$)", c.strip())]
    return found


COMING_FROM = _lpack_lines((DOCS / "coming-from.md").read_text(encoding="utf-8"))


def test_coming_from_has_commands() -> None:
    assert len(COMING_FROM) > 20
    assert "lpack build --arch arm64" in COMING_FROM


@pytest.mark.parametrize("line", COMING_FROM)
def test_coming_from_commands_parse(line: str) -> None:
    argv = shlex.split(line, comments=True)[1:]
    try:
        _parser().parse_args(argv)
    except SystemExit as exc:
        pytest.fail(f"{line!r} does not parse (exit {exc.code})")


@pytest.mark.parametrize(
    ("doc", "sentence"),
    [
        (
            "## What it does\nFlags a thing,\ne.g. `x.y`. Then more.\n## Why is this bad?\nNo.",
            "Flags a thing, e.g. `x.y`.",
        ),
        (
            "## What it does\nCounts (up to 5, etc.) layers\n\nSecond paragraph.",
            "Counts (up to 5, etc.) layers",
        ),
        ("No sections. At all.", "No sections."),
    ],
)
def test_first_sentence(doc: str, sentence: str) -> None:
    assert make_docs.first_sentence(doc) == sentence
