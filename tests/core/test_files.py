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
