"""`lpack build --provenance`: an in-toto Statement v1 with a SLSA Provenance v1 predicate beside
each zip, naming the zip's sha256, the inputs digest, the wheels and lpack's version; the same
inputs give the same bytes, wherever the project is."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from lpack import __version__
from lpack.cli import main
from tests.sbom.conftest import make_project, sha256

TARGET = ["--runtime", "python3.12", "--arch", "arm64"]


def build(root: Path, *more: str) -> dict[str, object]:
    assert main(["build", str(root), *TARGET, "--provenance", "-q", *more]) == 0
    return dict(json.loads((root / "dist" / "fn.provenance.json").read_text()))


def test_the_statement_names_the_zip_its_inputs_and_the_wheels(tmp_path: Path, sbom_wheels: Path) -> None:
    root = make_project(tmp_path / "fn", sbom_wheels, "tiny-dep==2.1", "worded==1.0", hashes=True,
                        handler="def lambda_handler(event, context):\n    return {}\n")
    statement = build(root)
    manifest = json.loads((root / "dist" / "lpack-manifest.json").read_text())["artifacts"][0]
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["predicateType"] == "https://slsa.dev/provenance/v1"
    assert statement["subject"] == [{"name": "fn.zip", "digest": {"sha256": sha256(root / "dist" / "fn.zip")}}]
    predicate = statement["predicate"]
    assert isinstance(predicate, dict)
    definition = predicate["buildDefinition"]
    assert definition["buildType"] == "https://pypi.org/project/lpack-lambda/#lpack-build-v1"
    assert definition["externalParameters"] == {"name": "fn", "kind": "function", "runtime": "python3.12",
                                                "architecture": "arm64"}
    assert definition["internalParameters"] == {"inputs_sha256": manifest["inputs_sha256"], "source_date_epoch": None}
    assert definition["resolvedDependencies"] == [
        {"name": "tiny-dep", "uri": "pkg:pypi/tiny-dep@2.1",
         "digest": {"sha256": sha256(sbom_wheels / "tiny_dep-2.1-py3-none-any.whl")}},
        {"name": "worded", "uri": "pkg:pypi/worded@1.0",
         "digest": {"sha256": sha256(sbom_wheels / "worded-1.0-py3-none-any.whl")}},
    ]
    assert predicate["runDetails"] == {"builder": {"id": "https://pypi.org/project/lpack-lambda/",
                                                   "version": {"lpack": __version__}}}
    assert "startedOn" not in json.dumps(statement) and str(tmp_path) not in json.dumps(statement)


def test_same_inputs_same_bytes_anywhere_and_source_date_epoch_is_recorded(
        tmp_path: Path, sbom_wheels: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = make_project(tmp_path / "a" / "fn", sbom_wheels, "tiny-dep==2.1",
                         handler="def lambda_handler(event, context):\n    return {}\n")
    build(first)
    second = tmp_path / "b" / "fn"
    shutil.copytree(first, second, ignore=shutil.ignore_patterns("dist"))
    build(second)
    assert (first / "dist" / "fn.provenance.json").read_bytes() == (second / "dist" / "fn.provenance.json").read_bytes()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    later = build(second)
    assert later["predicate"]["buildDefinition"]["internalParameters"]["source_date_epoch"] == "1700000000"  # type: ignore[index]


def test_the_wheels_a_lock_lists_several_of_are_annotated_not_guessed(tmp_path: Path, sbom_wheels: Path) -> None:
    root = make_project(tmp_path / "fn", sbom_wheels, handler="def lambda_handler(event, context):\n    return {}\n")
    wheel = sha256(sbom_wheels / "tiny_dep-2.1-py3-none-any.whl")
    other = "0" * 64  # a second wheel of the same release, for another platform
    (root / "requirements.txt").write_text(f"--no-index\n--find-links {sbom_wheels}\n"
                                           f"tiny-dep==2.1 --hash=sha256:{wheel} --hash=sha256:{other}\n")
    statement = build(root)
    [dep] = statement["predicate"]["buildDefinition"]["resolvedDependencies"]  # type: ignore[index]
    assert "digest" not in dep
    assert dep["annotations"]["lock_sha256"] == sorted([wheel, other])


def test_options_that_shape_the_zip_are_external_parameters(tmp_path: Path, sbom_wheels: Path) -> None:
    root = make_project(tmp_path / "fn", sbom_wheels, "tiny-dep==2.1",
                        handler="def lambda_handler(event, context):\n    return {}\n")
    statement = build(root, "--slim", "--installer", "pip")
    external = statement["predicate"]["buildDefinition"]["externalParameters"]  # type: ignore[index]
    assert external == {"name": "fn", "kind": "function", "runtime": "python3.12", "architecture": "arm64",
                        "installer": "pip", "slim": True}
