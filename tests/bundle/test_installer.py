"""lpack.bundle.installer: which uv, and the version the cache keys record of it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from lpack.bundle.installer import _find_uv, packaged_version


def test_the_version_read_from_uvs_distribution_is_the_one_uv_prints() -> None:
    """lpack's own uv (a dependency) is known by its distribution's record, without running it;
    the answer is what `uv --version` says."""
    uv = _find_uv()
    assert uv is not None
    printed = subprocess.run([uv, "--version"], capture_output=True, text=True, check=True).stdout
    read = packaged_version(uv, os.stat(uv).st_size)
    if read is None:
        pytest.skip(f"{uv} is not the uv distribution's file in this environment")
    assert read == printed.split(" (")[0].strip()


@pytest.fixture
def installed(tmp_path: Path) -> tuple[Path, Path]:
    """A site-packages whose uv-1.2.3.dist-info lists ../bin/uv (5 bytes), and that file."""
    site = tmp_path / "lib" / "site-packages"
    (site / "uv-1.2.3.dist-info").mkdir(parents=True)
    (site / "uv-1.2.3.dist-info" / "RECORD").write_text(
        "../../bin/uv,sha256=AAAA,5\nuv/__init__.py,sha256=BBBB,10\nuv-1.2.3.dist-info/RECORD,,\n")
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "uv").write_bytes(b"12345")
    return site, tmp_path / "bin" / "uv"


def test_a_uv_its_distribution_lists_is_known_by_it(installed: tuple[Path, Path]) -> None:
    site, uv = installed
    assert packaged_version(str(uv), 5, [str(site)]) == "uv 1.2.3"
    link = uv.parent / "uv-link"
    link.symlink_to(uv)
    assert packaged_version(str(link), 5, [str(site)]) == "uv 1.2.3"  # the same file


def test_another_uv_is_asked_for_its_version(installed: tuple[Path, Path], tmp_path: Path) -> None:
    """A uv of another size (replaced since), or another file, is not taken for the listed one."""
    site, uv = installed
    uv.write_bytes(b"123456")
    assert packaged_version(str(uv), 6, [str(site)]) is None
    other = tmp_path / "elsewhere" / "uv"
    other.parent.mkdir()
    other.write_bytes(b"12345")
    assert packaged_version(str(other), 5, [str(site)]) is None
    assert packaged_version(str(other), 5, [str(tmp_path / "missing")]) is None
