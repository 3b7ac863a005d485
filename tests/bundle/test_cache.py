"""The dependency cache's keys: an entry written in another cache format is never read back."""

from __future__ import annotations

from pathlib import Path

import pytest

from lpack.cli import main
from lpack.core import cache

HANDLER = "def lambda_handler(event, context):\n    return {'ok': True}\n"


def test_the_key_depends_on_the_cache_format(monkeypatch: pytest.MonkeyPatch) -> None:
    parts = {"requirements": "abc", "target": "python3.12-x86_64"}
    before = cache.make_key(parts)
    assert cache.make_key(dict(parts)) == before

    monkeypatch.setattr(cache, "CACHE_FORMAT", cache.CACHE_FORMAT + 1)

    assert cache.make_key(parts) != before


def test_a_memo_of_another_cache_format_is_computed_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []

    def compute() -> str:
        calls.append("computed")
        return f"text {len(calls)}"

    assert cache.memo(tmp_path, "locked", {"lock": "x"}, compute) == "text 1"
    assert cache.memo(tmp_path, "locked", {"lock": "x"}, compute) == "text 1"  # remembered
    monkeypatch.setattr(cache, "CACHE_FORMAT", cache.CACHE_FORMAT + 1)

    assert cache.memo(tmp_path, "locked", {"lock": "x"}, compute) == "text 2"
    assert calls == ["computed", "computed"]


def test_a_build_misses_the_dependency_cache_when_the_format_changes(
    tmp_path: Path, wheelhouse: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = tmp_path / "fn"
    root.mkdir()
    (root / "lambda_function.py").write_text(HANDLER)
    (root / "requirements.txt").write_text(f"--no-index\n--find-links {wheelhouse}\ndemo-pure==1.0\n")

    def dependencies() -> str:
        assert main(["build", str(root), "--format", "json"]) == 0
        out = capsys.readouterr().out
        [state] = [s for s in ("installed", "cached") if f'"dependencies": "{s}"' in out]
        return state

    assert dependencies() == "installed"
    assert dependencies() == "cached"
    monkeypatch.setattr(cache, "CACHE_FORMAT", cache.CACHE_FORMAT + 1)

    assert dependencies() == "installed"  # the old entry is not read back as this format's
    assert dependencies() == "cached"
