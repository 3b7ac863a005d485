"""A real full disk (a small tmpfs, mounted for the test): whichever write it refuses — the zip,
the installer's tree, the cache entry's deps.zip or meta.json — the build stops with exit 2
naming what it could not write, keeps the previous zip and commits no half cache entry.

Mounting needs root (or CAP_SYS_ADMIN); where it is not permitted the tests are skipped.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from lpack.cli import main

HANDLER = "def lambda_handler(event, context):\n    return {'ok': True}\n"
PAGE = 4096


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    disk = tmp_path / "disk"
    disk.mkdir()
    try:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)],
                              capture_output=True, text=True, check=False, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"cannot mount a tmpfs here: {exc}")
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False, timeout=30)


def fill(disk: Path, leave_bytes: int = 0) -> None:
    """Take all but ``leave_bytes`` of the disk's free space with one file (made again each time)."""
    filler = disk / "filler"
    filler.unlink(missing_ok=True)
    info = os.statvfs(disk)
    with open(filler, "wb") as out:
        out.write(b"\0" * max(info.f_bavail * info.f_frsize - leave_bytes, 0))


def test_a_full_disk_keeps_the_old_zip_and_is_an_input_error(
        tmp_path: Path, small_disk: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "fn"
    root.mkdir()
    (root / "lambda_function.py").write_text(HANDLER)
    dist = small_disk / "dist"
    (root / "lpack.toml").write_text(f'dist = "{dist}"\n')
    assert main(["build", "-q", str(root)]) == 0
    old = (dist / "fn.zip").read_bytes()
    (root / "data.bin").write_bytes(os.urandom(64 * 1024))  # incompressible: the new zip needs more pages
    fill(small_disk)

    assert main(["build", str(root)]) == 2

    err = capsys.readouterr().err
    assert f"lpack: error: cannot write {dist / 'fn.zip'}: the disk is full" in err
    assert "internal error" not in err
    assert (dist / "fn.zip").read_bytes() == old
    assert sorted(p.name for p in dist.iterdir()) == ["fn.zip", "lpack-manifest.json"]  # the first build's


@pytest.mark.parametrize("wheel_copy", ["0", "1"])
def test_a_cache_disk_that_fills_at_any_write_is_an_input_error(
        tmp_path: Path, small_disk: Path, wheelhouse: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], wheel_copy: str) -> None:
    """The cache's disk is left a page more free each round, so the first refused write moves
    from the installer's tree (installed and compressed; copying the wheels' members writes
    none) to deps.zip and meta.json, until the build fits."""
    monkeypatch.setenv("LPACK_WHEEL_COPY", wheel_copy)
    root = tmp_path / "fn"
    root.mkdir()
    (root / "lambda_function.py").write_text(HANDLER)
    (root / "requirements.txt").write_text(f"--no-index\n--find-links {wheelhouse}\ndemo-pure==1.0\n")
    cache_dir = small_disk / "cache"
    monkeypatch.setenv("LPACK_CACHE_DIR", str(cache_dir))
    refused: list[str] = []
    for pages in range(200):
        fill(small_disk, pages * PAGE)
        code = main(["build", str(root)])
        err = capsys.readouterr().err
        if code == 0:
            break
        assert code == 2, err
        [error] = [line for line in err.splitlines() if line.startswith("lpack: error: ")]
        assert "the disk is full" in error, err
        assert "--cache-dir or LPACK_CACHE_DIR" in err
        refused.append(error)
        assert list((cache_dir / "deps").glob("*/*")) == []  # no half entry
        assert list((cache_dir / "tmp").iterdir()) == []
        assert not (root / "dist").exists() or list((root / "dist").iterdir()) == []
    else:
        pytest.fail("the build never fitted on the disk")
    assert any(e.startswith(f"lpack: error: uv could not install into {cache_dir}/tmp/entry-") for e in refused) \
        == (wheel_copy == "0")
    assert any(e.startswith(f"lpack: error: cannot write {cache_dir}/tmp/entry-") and "/meta.json:" in e
               for e in refused), refused
    [entry] = (cache_dir / "deps").glob("*/*")
    assert sorted(p.name for p in entry.iterdir()) in (["deps.zip", "meta.json"], ["deps.zip", "meta.json", "used"])
