"""`lpack check`'s per-zip index (lpack.commands.check_index): an unchanged zip's findings come
from the cache, identical to a fresh run's; a changed zip, or changed sources, are read again."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from lpack.cli import main

GOOD = "def lambda_handler(event, context):\n    return {'ok': True}\n"
BAD = "def handler(event, context):\n    return {'ok': True}\n"  # not the configured handler's name


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LPACK_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "proj"
    config = 'runtime = "python3.12"\nhandler = "app.lambda_handler"\n[layers.tools]\nsource = "tools"\n'
    (root / "tools" / "python").mkdir(parents=True)
    (root / "tools" / "python" / "tools.py").write_text("X = 1\n")
    for i in range(8):
        (root / f"fn{i}").mkdir()
        (root / f"fn{i}" / "app.py").write_text(BAD if i in (2, 5) else GOOD)
        (root / f"fn{i}" / "secret.py").write_text("KEY = 'AKIAIOSFODNN7EXAMPLE'\n" if i == 3 else "KEY = None\n")
        config += f'[functions.fn{i}]\nsource = "fn{i}"\n' + ('layers = ["tools"]\n' if i == 4 else "")
    (root / "lpack.toml").write_text(config)
    assert main(["build", str(root), "-q", "--format", "json"]) == 1  # fn2 and fn5 cannot start
    return root


def _check(root: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, object]:
    code = main(["check", str(root), "--format", "json", *args])
    return code, json.loads(capsys.readouterr().out)


def _fresh(root: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
           *args: str) -> tuple[int, object]:
    """A check with lpack's cache empty (dist/lpack-manifest.json says what each zip was built from)."""
    fresh = Path(os.environ["LPACK_CACHE_DIR"]).parent / "fresh-cache"
    shutil.rmtree(fresh, ignore_errors=True)
    with monkeypatch.context() as patched:
        patched.setenv("LPACK_CACHE_DIR", str(fresh))
        return _check(root, capsys, *args)


def _reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    from lpack.commands import check

    reads: list[str] = []
    real = check.read_package

    def counting(path: Path) -> object:
        reads.append(path.name)
        return real(path)
    monkeypatch.setattr(check, "read_package", counting)
    return reads


def test_a_cached_check_reads_no_zip_and_finds_what_a_fresh_check_finds(
        root: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    first = _check(root, capsys)
    assert first[0] == 1
    reads = _reads(monkeypatch)
    assert _check(root, capsys) == first
    assert reads == []
    assert _fresh(root, capsys, monkeypatch) == first
    assert sorted(reads) == sorted(f"fn{i}.zip" for i in range(8)) + ["tools.zip"] * 2  # and as fn4's layer


def test_after_one_zip_is_rebuilt_only_it_is_read_again(
        root: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    _check(root, capsys)
    (root / "fn2" / "app.py").write_text(GOOD)
    (root / "fn6" / "app.py").write_text(BAD)
    assert main(["build", str(root), "-q", "--format", "json", "--function", "fn2", "--function", "fn6"]) == 1
    capsys.readouterr()
    reads = _reads(monkeypatch)
    cached = _check(root, capsys)
    assert sorted(reads) == ["fn2.zip", "fn6.zip"]
    assert cached == _fresh(root, capsys, monkeypatch)
    found = {(f["code"], f["function"]) for f in cached[1]["findings"]}  # type: ignore[index]
    assert ("LP206", "fn6") in found and ("LP206", "fn2") not in found


def test_a_rebuilt_layer_reads_the_functions_that_use_it_again(
        root: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    _check(root, capsys)
    (root / "tools" / "python" / "more.py").write_text("Y = 2\n" * 1000)
    assert main(["build", str(root), "-q", "--format", "json", "--function", "tools"]) == 0
    capsys.readouterr()
    reads = _reads(monkeypatch)
    assert _check(root, capsys) == _fresh(root, capsys, monkeypatch)
    assert reads.count("fn4.zip") == 2 and "fn0.zip" not in reads[:3]


def test_select_and_ignore_apply_to_cached_findings(
        root: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    _check(root, capsys)
    for args in (["--select", "LP206"], ["--ignore", "LP206"]):
        assert _check(root, capsys, *args) == _fresh(root, capsys, monkeypatch, *args)


def test_an_edited_source_after_a_cached_check_is_stale_and_a_touched_one_is_not(
        root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _check(root, capsys)
    os.utime(root / "fn1" / "app.py", ns=(1, 1))
    assert main(["check", str(root), "--format", "json"]) == 1
    assert "older than its inputs" not in capsys.readouterr().err
    (root / "fn1" / "app.py").write_text(BAD)
    assert main(["check", str(root), "--format", "json"]) == 1
    out, err = capsys.readouterr()
    assert "fn1.zip is older than its inputs" in err
    assert any(f["function"] == "fn1" and f["code"] == "LP206" for f in json.loads(out)["findings"])
