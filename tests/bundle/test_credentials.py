"""Index credentials from pip's settings reach uv through its environment, never its command line,
which `ps` and /proc/PID/cmdline show every local user."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from lpack.bundle.installer import find_installer
from lpack.cli import main
from lpack.core.targets import make_target

HANDLER = "def lambda_handler(event, context):\n    return {'ok': True}\n"


def test_uv_gets_index_credentials_in_its_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conf = tmp_path / "pip.conf"
    conf.write_text("[global]\nextra-index-url = https://ci:extra-s3cret@extra.example/simple\n"
                    "    https://other.example/simple\n")
    monkeypatch.setenv("PIP_CONFIG_FILE", str(conf))
    monkeypatch.setenv("PIP_INDEX_URL", "https://user:pa/ss-s3cret@index.example/simple")
    monkeypatch.setenv("PIP_FIND_LINKS", "https://tok-s3cret@links.example/wheels")
    installer = find_installer("uv")
    cmd, environment = installer.install_command(make_target("python3.12", "x86_64", where="test"),
                                                 tmp_path / "t", ["-r", "requirements.txt"])
    assert not any("s3cret" in arg for arg in cmd)
    assert "--index-strategy" in cmd  # still pip's best match across the indexes
    assert environment == {
        "UV_INDEX_URL": "https://user:pa/ss-s3cret@index.example/simple",
        "UV_EXTRA_INDEX_URL": "https://ci:extra-s3cret@extra.example/simple https://other.example/simple",
        "UV_FIND_LINKS": "https://tok-s3cret@links.example/wheels",
    }


def test_pip_settings_in_the_environment_still_choose_where_packages_come_from(
        tmp_path: Path, wheelhouse: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "fn"
    root.mkdir()
    (root / "lambda_function.py").write_text(HANDLER)
    (root / "requirements.txt").write_text("demo-pure==1.0\n")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheelhouse))
    assert main(["build", "-q", str(root)]) == 0
    with zipfile.ZipFile(root / "dist" / "fn.zip") as zf:
        assert "demo_pure/__init__.py" in zf.namelist()
