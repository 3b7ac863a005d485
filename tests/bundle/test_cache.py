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


def _project(root: Path, wheelhouse: Path) -> Path:
    root.mkdir(parents=True)
    (root / "lambda_function.py").write_text(HANDLER)
    (root / "requirements.txt").write_text(f"--no-index\n--find-links {wheelhouse}\ndemo-pure==1.0\n")
    return root


def _dead_pid() -> int:
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_four_concurrent_cold_builds_share_one_entry(tmp_path: Path, wheelhouse: Path) -> None:
    """Four builds of the same dependencies on one fresh cache: one installs while the others
    wait for its entry; all succeed with the same bytes and leave nothing in the cache's tmp/."""
    import os
    import subprocess
    import sys

    cache_dir = tmp_path / "cache"
    roots = [_project(tmp_path / f"p{i}", wheelhouse) for i in range(4)]
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    builds = [subprocess.Popen([sys.executable, "-m", "lpack", "build", str(root), "--runtime", "python3.12",
                                "--cache-dir", str(cache_dir), "--format", "json"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
              for root in roots]
    results = [(b.wait(timeout=120), b.communicate()) for b in builds]
    assert [code for code, _ in results] == [0, 0, 0, 0], results
    states = sorted(state for _, (out, _) in results for state in ("installed", "cached")
                    if f'"dependencies": "{state}"' in out)
    assert states == ["cached", "cached", "cached", "installed"]
    assert len({(root / "dist" / f"{root.name}.zip").read_bytes() for root in roots}) == 1
    assert [sorted(p.name for p in (root / "dist").iterdir()) for root in roots] == [
        ["lpack-manifest.json", f"{r.name}.zip"] for r in roots]
    assert list((cache_dir / "tmp").iterdir()) == []
    assert len(list((cache_dir / "deps").glob("*/*"))) == 1


def test_a_commit_that_loses_the_race_keeps_the_winners_entry(tmp_path: Path) -> None:
    import os

    from lpack.bundle.cache import DependencyCache

    cache_ = DependencyCache(tmp_path)
    key = "ab" + "0" * 62
    winner, loser = cache_.staging(), cache_.staging()
    for staged, text in ((winner, "first"), (loser, "second")):
        (staged / "meta.json").write_text(text)
        (staged / "deps.zip").write_text(text)
    cache_.entry(key).parent.mkdir(parents=True)
    os.rename(winner, cache_.entry(key))  # another build renamed its entry in after this one looked

    assert cache_._complete(key) is not None
    assert cache_.commit(key, loser) == cache_.entry(key)
    assert (cache_.entry(key) / "meta.json").read_text() in ("first", "second")
    assert not loser.exists()


def test_what_a_killed_build_left_is_removed_by_the_next(tmp_path: Path, wheelhouse: Path) -> None:
    """A build killed while installing leaves cache/tmp/entry-PID-*; one killed while writing its
    zip leaves dist/.NAME.zip.PID.NS.tmp. The next build removes both, not a live build's."""
    import os

    root = _project(tmp_path / "fn", wheelhouse)
    cache_dir = tmp_path / "cache"
    dead, alive = _dead_pid(), os.getppid()
    (cache_dir / "tmp" / f"entry-{dead}-abc").mkdir(parents=True)
    (cache_dir / "tmp" / f"entry-{dead}-abc" / "deps.zip").write_bytes(b"half")
    (cache_dir / "tmp" / f"entry-{alive}-def").mkdir()
    (root / "dist").mkdir()
    (root / "dist" / f".fn.zip.{dead}.123.tmp").write_bytes(b"half")
    (root / "dist" / f".fn.zip.{alive}.456.tmp").write_bytes(b"being written")

    assert main(["build", str(root), "--cache-dir", str(cache_dir)]) == 0

    assert sorted(p.name for p in (cache_dir / "tmp").iterdir()) == [f"entry-{alive}-def"]
    assert sorted(p.name for p in (root / "dist").iterdir()) == [f".fn.zip.{alive}.456.tmp", "fn.zip", "lpack-manifest.json"]


@pytest.mark.parametrize("where", ["dist", "cache"])
def test_a_file_where_a_folder_should_be_is_an_input_error(
        tmp_path: Path, wheelhouse: Path, capsys: pytest.CaptureFixture[str], where: str) -> None:
    root = _project(tmp_path / "fn", wheelhouse)
    cache_dir = tmp_path / "cache"
    (root / "dist" if where == "dist" else cache_dir).write_text("a file")

    assert main(["build", str(root), "--cache-dir", str(cache_dir)]) == 2

    err = capsys.readouterr().err
    folder = root / "dist" if where == "dist" else cache_dir
    assert f"lpack: error: cannot write {folder}/" in err
    assert "a file is where a folder should be" in err
    assert "lpack: tip:" in err
    assert "internal error" not in err
