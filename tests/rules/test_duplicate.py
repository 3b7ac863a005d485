"""LP146/LP147 (issue #17): the same distribution in the function and one of its layers, or in two
of its layers; near misses (a shared namespace package, a layer the function does not use) stay quiet."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lpack.cli import main
from tests.factories import make_wheel

PADDING = "# " + "z" * 100 + "\n"


@pytest.fixture(scope="module")
def house(tmp_path_factory: pytest.TempPathFactory) -> Path:
    house = tmp_path_factory.mktemp("duphouse")
    for version, lines in (("2.0", 300), ("1.0", 200)):
        make_wheel(house, "shared-lib", version, files={"shared_lib/__init__.py": PADDING * lines})
    make_wheel(house, "ns-alpha", "1.0", files={"ns/alpha/__init__.py": "a = 1\n"})
    make_wheel(house, "ns-beta", "1.0", files={"ns/beta/__init__.py": "b = 1\n"})
    return house


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "p").mkdir()
    monkeypatch.chdir(tmp_path / "p")  # findings name dist/NAME.zip


def _project(root: Path, house: Path, config: str, files: dict[str, str]) -> Path:
    (root / "lambda_function.py").write_text("def lambda_handler(event, context):\n    return 1\n")
    (root / "lpack.toml").write_text('runtime = "python3.12"\n' + config)
    for name, wanted in files.items():
        (root / name).write_text(f"--no-index\n--find-links {house}\n{wanted}\n")
    return root


def _findings(root: Path, capsys: pytest.CaptureFixture[str], *codes: str) -> list[dict[str, str]]:
    main(["build", "-q", "--format", "json", str(root)])
    found: list[dict[str, str]] = json.loads(capsys.readouterr().out)["findings"]
    return [f for f in found if f["code"] in codes]


def test_a_distribution_in_the_function_and_its_layer(tmp_path: Path, house: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    root = _project(tmp_path / "p", house, '[functions.api]\nlayers = ["deps"]\nrequirements = "fn.txt"\n'
                    '[layers.deps]\nrequirements = "layer.txt"\n',
                    {"fn.txt": "shared-lib==2.0", "layer.txt": "shared-lib==1.0"})
    (finding,) = _findings(root, capsys, "LP146", "LP147")
    assert finding["code"] == "LP146" and finding["severity"] == "warning" and finding["function"] == "api"
    message = finding["message"]
    assert "shared_lib is in the function (shared_lib-2.0.dist-info) and in the layer dist/deps.zip" in message
    assert "(python/shared_lib-1.0.dist-info)" in message
    assert "the function's 2.0, the layer's 1.0; the function's copy is imported (/var/task comes first" in message
    assert "the layer's 20." in message  # 200 lines of 103 bytes, its METADATA, WHEEL and RECORD: ~21 KB


def test_two_layers_with_different_versions(tmp_path: Path, house: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _project(tmp_path / "p", house, '[functions.api]\nlayers = ["old", "new"]\n'
                    '[layers.old]\nrequirements = "old.txt"\n[layers.new]\nrequirements = "new.txt"\n',
                    {"old.txt": "shared-lib==1.0", "new.txt": "shared-lib==2.0"})
    (finding,) = _findings(root, capsys, "LP146", "LP147")
    assert finding["code"] == "LP147"
    assert "in the layers dist/old.zip (python/shared_lib-1.0.dist-info) and dist/new.zip " \
           "(python/shared_lib-2.0.dist-info): 2.0 and 1.0; dist/new.zip's copy is imported" in finding["message"]
    assert "importlib.metadata may report either version" in finding["message"]


def test_a_shared_namespace_package_and_an_unattached_layer_stay_quiet(tmp_path: Path, house: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    root = _project(tmp_path / "p", house, '[functions.api]\nlayers = ["deps"]\nrequirements = "fn.txt"\n'
                    '[functions.solo]\nrequirements = "same.txt"\n'
                    '[layers.deps]\nrequirements = "layer.txt"\n',
                    {"fn.txt": "ns-alpha==1.0", "layer.txt": "ns-beta==1.0\nshared-lib==2.0",
                     "same.txt": "shared-lib==2.0"})
    assert _findings(root, capsys, "LP146", "LP147") == []
    assert (root / "dist" / "deps.zip").is_file() and (root / "dist" / "solo.zip").is_file()
