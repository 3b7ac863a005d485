"""Issue #17's "done when", against PyPI and the live vulnerability services: run with
`python -m pytest -m network tests/sbom`."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from lpack.cli import main
from tests.sbom.test_sbom import cyclonedx_valid, spdx_valid

pytestmark = pytest.mark.network

DATA_STACK = "numpy==2.2.6\npandas==2.3.3\npyarrow==21.0.0\n"


def test_numpy_pandas_pyarrow_arm64_sbom_is_valid_and_complete(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "fn"
    root.mkdir()
    (root / "lambda_function.py").write_text("import boto3\nimport pandas\nimport pyarrow\n\n\n"
                                             "def lambda_handler(event, context):\n    return {}\n")
    (root / "requirements.txt").write_text(DATA_STACK)
    (root / "lpack.toml").write_text('upload = "s3"\n')  # 65 MB zipped: over the direct-upload quota
    assert main(["build", str(root), "-q", "--runtime", "python3.12", "--arch", "arm64", "--sbom"]) == 0
    capsys.readouterr()
    bom = cyclonedx_valid((root / "dist" / "fn.cdx.json").read_text())
    with zipfile.ZipFile(root / "dist" / "fn.zip") as zf:
        folders = sorted({n.split("/")[0] for n in zf.namelist() if n.split("/")[0].endswith(".dist-info")})
        files = {n for n in zf.namelist() if not n.endswith("/")}
    shipped = {c["properties"][0]["value"]: c for c in bom["components"] if c.get("scope") != "excluded"}
    assert sorted(shipped) == folders  # every dist-info in the zip is a component, and nothing else
    assert {"numpy", "pandas", "pyarrow"} <= {c["name"] for c in shipped.values()}
    listed = {f["name"] for c in shipped.values() for f in c.get("components", [])}
    listed |= {f["name"] for f in bom["metadata"]["component"].get("components", [])}
    assert listed == files  # every file of the zip belongs to a distribution or to the function
    assert {c["name"] for c in bom["components"] if c.get("scope") == "excluded"} == {"boto3"}
    assert main(["sbom", str(root / "dist" / "fn.zip"), "--format", "spdx"]) == 0
    doc = spdx_valid(capsys.readouterr().out)
    assert len([p for p in doc["packages"] if p["SPDXID"].startswith("SPDXRef-Package-")]) == len(folders)


def test_audit_finds_the_known_advisory_of_an_old_pinned_requests(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "fn"
    root.mkdir()
    (root / "lambda_function.py").write_text("import requests\n\n\ndef lambda_handler(event, context):\n    return {}\n")
    (root / "requirements.txt").write_text("requests==2.19.1\nurllib3==1.23\nidna==2.7\nchardet==3.0.4\n"
                                           "certifi==2024.8.30\n")
    code = main(["audit", str(root), "--runtime", "python3.12", "--arch", "arm64", "--format", "json"])
    out, err = capsys.readouterr()
    if code == 2 and ("nothing was checked" in err or "none could be checked" in err):
        pytest.skip(f"no vulnerability service answers from here: {err.strip()}")
    assert code == 1, err
    findings = json.loads(out)["findings"]
    requests = [f for f in findings if f["code"] == "LP601" and "requests 2.19.1" in f["message"]]
    assert any("CVE-2018-18074" in f["message"] and "fixed in 2.20.0" in f["message"] for f in requests)
    assert any(f["code"] == "LP601" and "urllib3 1.23" in f["message"] for f in findings)
