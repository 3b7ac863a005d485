"""The real `sam build` (aws-sam-cli from PyPI, no Docker) on examples/sam-makefile: BuildMethod
makefile runs lpack, and .aws-sam/build/HelloFunction/ holds exactly dist/HelloFunction.zip's files;
`sam validate --lint` (cfn-lint) passes on the template `sam build` wrote and on the one
`lpack build --sam-build-dir` wrote. Run with `python3 -m pytest -m network tests/test_network_sam.py`.

`sam` is used from PATH, else installed once into a venv under $LPACK_TEST_TOOLS (default
/tmp/lpack-test-tools), outside the repository, and reused by later runs."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from lpack.cli import main

pytestmark = pytest.mark.network
EXAMPLE = Path(__file__).parent.parent / "examples" / "sam-makefile"


def sam_executable() -> str:
    found = shutil.which("sam")
    if found:
        return found
    venv = Path(os.environ.get("LPACK_TEST_TOOLS", "/tmp/lpack-test-tools")) / "aws-sam-cli"
    sam = venv / "bin" / "sam"
    if not sam.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "aws-sam-cli"], check=True)
    return str(sam)


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0", "LPACK": f"{sys.executable} -m lpack",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).parent.parent),
                                                       os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(list(args), cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
    return done


def tree(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {p.relative_to(folder).as_posix(): (p.read_bytes(), stat.S_IMODE(p.stat().st_mode))
            for p in sorted(folder.rglob("*")) if p.is_file()}


def zip_files(path: Path) -> dict[str, tuple[bytes, int]]:
    with zipfile.ZipFile(path) as zf:
        return {i.filename: (zf.read(i), (i.external_attr >> 16) & 0o777) for i in zf.infolist() if not i.is_dir()}


def test_sam_build_with_makefile_ships_lpacks_package(tmp_path: Path) -> None:
    sam = sam_executable()
    root = Path(shutil.copytree(EXAMPLE, tmp_path / "sam-makefile", ignore=shutil.ignore_patterns("dist", ".aws-sam")))
    makefile = (root / "src" / "Makefile").read_text(encoding="utf-8")
    assert main(["sam-makefile", str(root / "template.yaml"), "-q"]) == 0  # the example's Makefile is current
    assert (root / "src" / "Makefile").read_text(encoding="utf-8") == makefile

    built = run(sam, "build", cwd=root)
    assert "Build Succeeded" in built.stdout
    files = tree(root / ".aws-sam" / "build" / "HelloFunction")
    assert files == zip_files(root / "dist" / "HelloFunction.zip")
    assert "tabulate.py" in files and "app.py" in files and "requirements.txt" not in files
    run(sam, "validate", "--lint", "--template", ".aws-sam/build/template.yaml", cwd=root)

    # teams that drop `sam build`: lpack writes the same folder and a template for `sam deploy`
    assert main(["build", str(root / "template.yaml"), "-q", "--sam-build-dir", str(root / "lpack-build")]) == 0
    assert tree(root / "lpack-build" / "HelloFunction") == files
    run(sam, "validate", "--lint", "--template", "lpack-build/template.yaml", cwd=root)
