"""`lpack build --jobs 2 --remote-cache` on worker processes, against a real S3 server (moto's, as
tests/bundle/test_remote.py starts it): each worker makes its own client, and two machines build
the same zips, the second from the remote cache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lpack.cli import main
from tests.bundle.test_jobs import _zips
from tests.bundle.test_remote import aws, bucket, remote, s3_server  # noqa: F401  (fixtures)
from tests.bundle.test_workers import FUNCTIONS, _project, wheels  # noqa: F401  (a fixture)


def test_two_machines_on_processes_share_the_remote_cache(tmp_path: Path, wheels: Path, s3_server: str,  # noqa: F811
                                                          bucket: str, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    reports, dists = [], []
    for machine in ("a", "b"):
        root = _project(tmp_path / machine / "proj", wheels)
        code = main(["build", str(root), "--cache-dir", str(tmp_path / f"cache-{machine}"), "--format", "json",
                     "--jobs", "2", *remote(s3_server, bucket)])
        out, err = capsys.readouterr()
        assert code == 0, err
        assert "warning" not in err
        reports.append(json.loads(out))
        dists.append(_zips(root / "dist"))
    assert dists[0] == dists[1] and len(dists[1]) == FUNCTIONS + 1
    built_a = [a["dependencies"] for a in reports[0]["artifacts"]]
    assert built_a.count("installed") == 4  # machine A installed each set once, and shared it
    assert [a.get("artifact") for a in reports[1]["artifacts"]] == ["remote"] * (FUNCTIONS + 1)  # B built none
    assert "installed" not in [a["dependencies"] for a in reports[1]["artifacts"]]
