"""atomic_writer: a file whole or not at all, and what killed writers left beside it removed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from lpack.core.files import atomic_write_text, temporaries


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    return int(done.stdout)


def test_a_write_removes_what_a_killed_writer_of_that_file_left_and_nothing_else(tmp_path: Path) -> None:
    dead = _dead_pid()  # its process is gone
    target = tmp_path / "fn[1].zip"  # a name glob would read as a pattern
    litter = tmp_path / f".fn[1].zip.{dead}.123.tmp"
    others = [tmp_path / f".fn[1].zip.{dead}.123.tmp.keep", tmp_path / f".fn1.zip.{dead}.123.tmp",
              tmp_path / f".fn[1].zip2.{dead}.123.tmp", tmp_path / f"fn[1].zip.{dead}.123.tmp"]
    for path in (litter, *others):
        path.write_text("half written")
    assert temporaries(target) == [litter]

    atomic_write_text(target, "whole\n")
    assert target.read_text() == "whole\n" and not litter.exists()
    assert all(path.exists() for path in others)


def test_a_live_writers_temporary_file_is_left_alone(tmp_path: Path) -> None:
    import os

    mine = tmp_path / f".stamp.json.{os.getpid()}.5.tmp"  # this process: a writer still running
    mine.write_text("being written")
    atomic_write_text(tmp_path / "stamp.json", "{}\n")
    assert mine.exists() and temporaries(tmp_path / "stamp.json") == [mine]
    assert temporaries(tmp_path / "missing" / "x.json") == []


def test_cache_writes_are_all_there_after_settle_and_leave_no_thread_behind(tmp_path: Path) -> None:
    """Stamps and input records are written on threads (a build's 400 small files); `settle`
    waits for them all, a write the disk refuses is dropped, and the threads end, so a
    long-lived process (`lpack serve` rebuilding on every save) does not gather idle threads."""
    import threading

    from lpack.core.files import CacheWrites

    before = threading.active_count()
    for round_ in range(3):  # three builds in one process
        writes = CacheWrites()
        for i in range(50):
            writes.text(tmp_path / f"r{round_}" / f"{i:02d}" / "stamp", f"{round_}-{i}")
        (tmp_path / "file-not-folder").write_text("")
        writes.text(tmp_path / "file-not-folder" / "stamp", "refused")  # its folder is a file: dropped
        writes.settle()
        assert [(tmp_path / f"r{round_}" / f"{i:02d}" / "stamp").read_text() for i in range(50)] == \
            [f"{round_}-{i}" for i in range(50)]
        assert threading.active_count() == before
    assert not list(tmp_path.rglob("*.tmp"))
