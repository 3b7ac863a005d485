"""A link to a file outside the source is refused, so it never brings a secret into the zip."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from lpack.cli import main

HANDLER = "def lambda_handler(event, context):\n    return {'ok': True}\n"


def project(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "lambda_function.py").write_text(HANDLER)
    return root


@pytest.mark.parametrize("target", ["/proc/self/environ", "outside"], ids=["environ", "file-outside"])
@pytest.mark.parametrize("command", ["build", "check"])
def test_a_link_to_a_file_outside_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str], target: str, command: str) -> None:
    monkeypatch.setenv("PLANTED", "planted-s3cret")
    outside = tmp_path / "credentials"
    outside.write_text("aws_secret_access_key = planted-s3cret\n")
    root = project(tmp_path / "fn")
    (root / "secret").symlink_to(outside if target == "outside" else target)
    assert main([command, str(root)]) == 2
    out, err = capsys.readouterr()
    link = str(outside) if target == "outside" else target
    assert f"lpack: error: {root / 'secret'}: a link to {link}, outside {root}" in err
    assert "copy the file into the folder" in err
    assert "planted-s3cret" not in out + err
    assert not (root / "dist").exists() or not any((root / "dist").iterdir())


def test_a_link_to_a_system_folder_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PLANTED", "planted-s3cret")
    root = project(tmp_path / "fn")
    (root / "me").symlink_to("/proc/self", target_is_directory=True)
    assert main(["build", str(root)]) == 2
    out, err = capsys.readouterr()
    assert f"lpack: error: {root / 'me'}: a link to /proc/self, a folder of the running system" in err
    assert "planted-s3cret" not in out + err
    assert not (root / "dist").exists() or not any((root / "dist").iterdir())


def test_links_that_stay_inside_are_packaged(tmp_path: Path) -> None:
    shared = tmp_path / "shared" / "common"
    shared.mkdir(parents=True)
    (shared / "util.py").write_text("X = 1\n")
    (shared / "alias.py").symlink_to("util.py")  # inside the linked folder
    root = project(tmp_path / "fn")
    (root / "common").symlink_to(shared, target_is_directory=True)
    (root / "handler.py").symlink_to("lambda_function.py")
    assert main(["build", "-q", str(root)]) == 0
    with zipfile.ZipFile(root / "dist" / "fn.zip") as zf:
        assert {"common/util.py", "common/alias.py", "handler.py"} <= set(zf.namelist())
        assert zf.read("common/alias.py") == b"X = 1\n"
