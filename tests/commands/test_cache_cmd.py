"""`lpack cache prune` and `lpack cache dir`: least recently used first, by the use a build records
(entries are aged by setting that record's time: no sleeping), never an entry a build holds."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from lpack.bundle.cache import USED_MARKER, DependencyCache
from lpack.cli import main
from lpack.commands.cache import parse_age, parse_size

DAY = 86400


def entry(root: Path, key: str, size: int, days_ago: float) -> Path:
    cache = DependencyCache(root)
    staged = cache.staging()
    (staged / "deps.zip").write_bytes(b"x" * size)
    (staged / "meta.json").write_text("{}\n")
    path = cache.commit(key, staged)
    cache.used(path)
    stamp = time.time() - days_ago * DAY
    for name in (USED_MARKER, "meta.json"):
        os.utime(path / name, (stamp, stamp))
    return path


def keys_left(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "deps").glob("*/*"))


def prune(root: Path, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    capsys.readouterr()
    assert main(["cache", "prune", "--cache-dir", str(root), *args]) == 0
    return capsys.readouterr().out


def test_prune_by_age_removes_what_no_build_used_since(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    entry(tmp_path, "a" * 64, 1000, days_ago=45)
    entry(tmp_path, "b" * 64, 2000, days_ago=10)
    entry(tmp_path, "c" * 64, 3000, days_ago=31)

    out = prune(tmp_path, capsys, "--older-than", "30d", "--dry-run")
    assert out.splitlines()[-1] == "would remove 2 dependency sets, 3.9 KB; 2.0 KB left"
    assert len(keys_left(tmp_path)) == 3

    out = prune(tmp_path, capsys, "--older-than", "30d")
    assert out.splitlines() == [f"removed {'a' * 16}  1003 B", f"removed {'c' * 16}  2.9 KB",
                                "removed 2 dependency sets, 3.9 KB; 2.0 KB left"]
    assert keys_left(tmp_path) == ["b" * 64]
    assert list((tmp_path / "tmp").iterdir()) == []  # moved aside whole, then removed


def test_prune_by_size_removes_the_least_recently_used_first(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    entry(tmp_path, "a" * 64, 4000, days_ago=3)
    entry(tmp_path, "b" * 64, 4000, days_ago=1)
    entry(tmp_path, "c" * 64, 4000, days_ago=5)
    entry(tmp_path, "d" * 64, 4000, days_ago=2)

    prune(tmp_path, capsys, "--max-size", "9K")
    assert keys_left(tmp_path) == ["b" * 64, "d" * 64]


def test_prune_never_removes_an_entry_in_use(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    entry(tmp_path, "a" * 64, 1000, days_ago=40)
    entry(tmp_path, "b" * 64, 1000, days_ago=0)  # a build used it a moment ago
    entry(tmp_path, "c" * 64, 1000, days_ago=40)
    held = DependencyCache(tmp_path)
    import fcntl

    (held.root / "locks").mkdir(exist_ok=True)
    lock = os.open(held.root / "locks" / f"{'c' * 64}.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another build installing that key
        out = prune(tmp_path, capsys, "--max-size", "0")
    finally:
        os.close(lock)
    assert keys_left(tmp_path) == ["b" * 64, "c" * 64]
    assert f"kept {'b' * 16}  1003 B (in use)" in out and f"kept {'c' * 16}  1003 B (in use)" in out


def test_a_build_records_its_use_of_an_entry(
    tmp_path: Path, wheelhouse: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    root = tmp_path / "fn"
    root.mkdir()
    (root / "lambda_function.py").write_text("def lambda_handler(event, context):\n    return 1\n")
    (root / "requirements.txt").write_text(f"--no-index\n--find-links {wheelhouse}\ndemo-pure==1.1\n")
    cache = tmp_path / "cache"
    monkeypatch.setenv("LPACK_CACHE_DIR", str(cache))
    assert main(["build", str(root), "-q"]) == 0
    [meta] = (cache / "deps").glob("*/*/meta.json")
    os.utime(meta, (1, 1))  # committed long ago, never used since
    assert [e.last_used for e in DependencyCache(cache).entries()] == [1]
    assert main(["build", str(root), "-q"]) == 0  # from the cache: its use recorded
    assert (meta.parent / USED_MARKER).stat().st_mtime > time.time() - 60

    assert prune(cache, capsys, "--older-than", "1h") == "removed 0 dependency sets, 0 B; " + \
        prune(cache, capsys, "--older-than", "1h", "--dry-run").split("; ")[1]
    capsys.readouterr()
    assert main(["cache", "dir"]) == 0
    assert capsys.readouterr().out == f"{cache}\n"


def test_prune_needs_to_be_told_what_to_remove(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cache", "prune"]) == 2
    assert capsys.readouterr().err == ("lpack: error: lpack cache prune: say what to remove\n"
                                       "lpack: tip: --older-than 30d, --max-size 5G, or both\n")


@pytest.mark.parametrize(("text", "value"), [("5G", 5 << 30), ("500M", 500 << 20), ("1.5GB", 3 << 29), ("1024", 1024)])
def test_sizes(text: str, value: int) -> None:
    assert parse_size(text) == value


@pytest.mark.parametrize(("text", "value"), [("30d", 30 * DAY), ("12h", 12 * 3600), ("2w", 14 * DAY), ("90m", 5400)])
def test_ages(text: str, value: float) -> None:
    assert parse_age(text) == value


def test_prune_by_age_also_removes_old_records_and_keeps_locks_and_recent_ones(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A long-lived cache's small records (stamps, memos, input records, check's replays) go once
    nothing wrote them for --older-than; a lock another build may hold, and a recent record, stay."""
    old, recent = time.time() - 40 * DAY, time.time() - 2 * DAY
    paths = {}
    for name, when in [("stamps/books/aa.json", old), ("stamps/books/aa.lock", old), ("memo/file-sha256/bb", old),
                       ("inputs/cc/cc", old), ("check/dd.json", recent), ("valid-config/ee", old),
                       ("stamps/books/.ff.json.1.2.tmp", old)]:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x" * 100)
        os.utime(path, (when, when))
        paths[name] = path

    out = prune(tmp_path, capsys, "--older-than", "30d", "--dry-run")
    assert out.splitlines()[-1] == "would remove 0 dependency sets, 0 B and 4 records (stamps, memos), 400 B; 0 B left"
    assert all(p.exists() for p in paths.values())

    out = prune(tmp_path, capsys, "--older-than", "30d")
    assert out.splitlines()[-1] == "removed 0 dependency sets, 0 B and 4 records (stamps, memos), 400 B; 0 B left"
    assert sorted(n for n, p in paths.items() if p.exists()) == [
        "check/dd.json", "stamps/books/.ff.json.1.2.tmp", "stamps/books/aa.lock"]
    assert not (tmp_path / "inputs" / "cc").exists()  # an emptied folder goes with its last record
    assert prune(tmp_path, capsys, "--max-size", "1G").splitlines()[-1] == "removed 0 dependency sets, 0 B; 0 B left"


def test_a_build_after_its_stamps_were_pruned_decides_from_contents(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "app.py").write_text("def handler(event, context):\n    return 1\n")
    (root / "lpack.toml").write_text('runtime = "python3.12"\nhandler = "app.handler"\n[functions.fn]\nsource = "."\n')
    cache = tmp_path / "cache"
    assert main(["build", str(root), "-q", "--cache-dir", str(cache)]) == 0
    zip_bytes = (root / "dist" / "fn.zip").read_bytes()
    for path in (cache / "stamps").rglob("*.json"):
        os.utime(path, (1, 1))
    assert "1 record" in prune(cache, capsys, "--older-than", "30d")
    assert main(["build", str(root), "-q", "--cache-dir", str(cache)]) == 0
    assert (root / "dist" / "fn.zip").read_bytes() == zip_bytes
    assert list((cache / "stamps" / "books").glob("*.json"))  # stamped anew
