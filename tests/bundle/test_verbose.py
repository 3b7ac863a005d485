"""`lpack build -v` says what lpack decided for each unit: the target and where it came from, the
dependency source, and whether the dependencies were installed or reused from the cache."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from lpack.cli import main
from tests.bundle.test_build import local, project, sha256


def build_v(capsys: pytest.CaptureFixture[str]) -> list[str]:
    assert main(["build", "-v", "--runtime", "python3.12"]) == 0
    return re.sub(r"in \d+\.\d s$", "in T s", capsys.readouterr().out, flags=re.MULTILINE).splitlines()


def test_verbose_says_installed_then_cached(tmp_path: Path, wheelhouse: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    root = project(tmp_path / "fn", local(wheelhouse, "demo-pure==1.0"), files={"README.md": "# fn\n"})
    monkeypatch.chdir(root)
    monkeypatch.setenv("COLUMNS", "100")

    first, second = build_v(capsys), build_v(capsys)

    digest = sha256(root / "dist" / "fn.zip")
    hash_b64 = base64.b64encode(bytes.fromhex(digest)).decode()

    def screen(deps: str, state: str, said: str) -> list[str]:
        return [
            "fn: target python3.12 x86_64 (from --runtime)",
            "artifact  target             zipped / 50.0 MB  unzipped / 250.0 MB  files  " + deps,
            "fn        python3.12 x86_64       3.3 KB   0%          1.4 KB   0%     14  " + state,
            "fn: dist/fn.zip",
            f"  sha256 {digest}",
            "fn: dependencies from requirements.txt",
            f"fn: dependencies: {said}",
            "fn: left out by default: README.md; include = [...] brings them back",
            ("fn: largest (unzipped): demo_dep-2.0.dist-info 737 B, demo_pure-1.0.dist-info 631 B, "
             "lambda_function.py 60 B, demo_dep 20 B, demo_pure 20 B"),
            "built 1 artifact in T s",
            "next: lpack invoke fn -e events/EVENT.json (a sample: lpack events)",
            f'fn: source_code_hash = "{hash_b64}"',
        ]

    assert first == screen("deps     ", "installed", "installed 2 packages")  # rich pads to the widest cell
    assert second == screen("deps  ", "cached", "cached (nothing installed)")


def test_without_verbose_no_dependency_state(tmp_path: Path, wheelhouse: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path / "fn", local(wheelhouse, "demo-pure==1.0"))
    assert main(["build", str(root), "--runtime", "python3.12"]) == 0
    assert "dependencies: installed" not in capsys.readouterr().out
