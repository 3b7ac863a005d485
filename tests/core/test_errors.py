"""Credentials in URLs never reach an error message, and hiding them costs linear time."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lpack.cli import main
from lpack.core.errors import redact

HANDLER = "def lambda_handler(event, context):\n    return {'ok': True}\n"


@pytest.mark.parametrize(("text", "shown"), [
    ("https://user:tok@host/simple", "https://****@host/simple"),
    ("https://user:pa/ss@host/simple", "https://****@host/simple"),
    ("https://user:p@ss@host/simple", "https://****@host/simple"),
    ("https://user:pa/s@s@host/x and https://host:8080/x", "https://****@host/x and https://host:8080/x"),
    ("pkg @ git+https://user:pa/ss@github.com/a/b@v1", "pkg @ git+https://****@github.com/a/b@v1"),
    ("'https://__token__@host/simple'", "'https://****@host/simple'"),
], ids=["token", "slash-in-password", "at-in-password", "slash-and-at", "vcs-revision", "quoted"])
def test_redact_hides_userinfo(text: str, shown: str) -> None:
    assert redact(text) == shown


@pytest.mark.parametrize("text", [
    "pkg @ git+https://github.com/a/b@v1.0", "see https://host/x?mail=a@b.c", "write to user@example.com",
], ids=["vcs-revision", "at-in-query", "no-url"])
def test_redact_leaves_urls_without_credentials(text: str) -> None:
    assert redact(text) == text


@pytest.mark.parametrize("handler", [
    "a" * 1_000_000 + ".h",
    "https://user:s3cr/et@host/" + "a" * 1_000_000 + ".h",
    "a://" * 250_000 + "@",
], ids=["long-token", "long-url", "many-schemes"])
def test_a_megabyte_handler_is_reported_fast_and_without_credentials(tmp_path: Path, handler: str) -> None:
    (tmp_path / "lambda_function.py").write_text(HANDLER)
    (tmp_path / "lpack.toml").write_text(f'handler = "{handler}"\n')
    done = subprocess.run([sys.executable, "-m", "lpack", "validate-config"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=20, check=False)  # a guard: it takes well under a second
    assert done.returncode == 2
    assert "lpack.toml:1: handler:" in done.stderr
    assert "s3cr" not in done.stdout + done.stderr


def test_a_password_with_a_slash_in_an_index_url_is_hidden(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "lambda_function.py").write_text(HANDLER)
    (tmp_path / "requirements.txt").write_text("--index-url https://user:s3cr/et@127.0.0.1:9/simple\nrequests==2.0\n")
    assert main(["build", "-q", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "https://****@127.0.0.1:9/simple" in err
    assert "s3cr" not in err
