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


def test_links_to_a_listed_folder_are_packaged(tmp_path: Path) -> None:
    shared = tmp_path / "shared" / "common"
    shared.mkdir(parents=True)
    (shared / "util.py").write_text("X = 1\n")
    (shared / "alias.py").symlink_to("util.py")  # inside the linked folder
    root = project(tmp_path / "fn")
    (root / "lpack.toml").write_text('follow-links = ["../shared"]\n')
    (root / "common").symlink_to(shared, target_is_directory=True)
    (root / "handler.py").symlink_to("lambda_function.py")
    assert main(["build", "-q", str(root)]) == 0
    with zipfile.ZipFile(root / "dist" / "fn.zip") as zf:
        assert {"common/util.py", "common/alias.py", "handler.py"} <= set(zf.namelist())
        assert zf.read("common/alias.py") == b"X = 1\n"


def test_a_link_to_a_folder_elsewhere_in_the_project_needs_no_opt_in(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "shared").mkdir(parents=True)
    (repo / "shared" / "util.py").write_text("X = 1\n")
    source = project(repo / "functions" / "a")
    (source / "shared").symlink_to("../../shared", target_is_directory=True)
    (repo / "lpack.toml").write_text('source = "functions/a"\n')
    assert main(["build", "-q", str(repo)]) == 0
    with zipfile.ZipFile(repo / "dist" / "repo.zip") as zf:
        assert zf.read("shared/util.py") == b"X = 1\n"


@pytest.mark.parametrize("listed", [[], ["../other"]], ids=["none-listed", "another-listed"])
@pytest.mark.parametrize("command", ["build", "check"])
def test_a_link_to_a_folder_outside_the_project_is_refused_unless_listed(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, listed: list[str]) -> None:
    for sibling in ("home", "other"):
        (tmp_path / sibling).mkdir()
        (tmp_path / sibling / "credentials").write_text("planted-s3cret\n")
    root = project(tmp_path / "fn")
    if listed:
        (root / "lpack.toml").write_text(f"follow-links = {listed!r}\n".replace("'", '"'))
    (root / "home").symlink_to("../home", target_is_directory=True)
    assert main([command, str(root)]) == 2
    out, err = capsys.readouterr()
    assert err.splitlines()[-2:] == [
        (f"lpack: error: {root / 'home'}: a link to the folder ../home, outside the project {root}: lpack follows "
         "a link out of the project only to a folder that follow-links lists"),
        ('lpack: tip: if its files belong in the package, add follow-links = ["../home"] to [tool.lpack] in '
         "pyproject.toml (or to lpack.toml); otherwise remove the link"),
    ]
    assert "planted-s3cret" not in out
    assert not (root / "dist").exists()


def test_a_system_folder_is_refused_even_when_listed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path / "fn")
    (root / "lpack.toml").write_text('follow-links = ["/proc"]\n')
    (root / "me").symlink_to("/proc/self", target_is_directory=True)
    assert main(["build", str(root)]) == 2
    assert f"lpack: error: {root / 'me'}: a link to /proc/self, a folder of the running system" in capsys.readouterr().err
    assert not (root / "dist").exists()


@pytest.mark.parametrize(("value", "problem"), [
    ("../missing", "does not exist"), ("../afile", "is not a folder"), ("../a\\u0000b", "holds a NUL character"),
], ids=["missing", "file", "nul"])
def test_follow_links_must_name_folders(tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str,
                                        problem: str) -> None:
    (tmp_path / "afile").write_text("")
    root = project(tmp_path / "fn")
    (root / "lpack.toml").write_text(f'follow-links = ["{value}"]\n')
    assert main(["build", str(root)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"lpack: error: {root / 'lpack.toml'}: follow-links: ")
    assert problem in err
