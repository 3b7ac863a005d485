"""`lpack build --layer ZIP`: a layer .zip the function is deployed with, as in check and invoke.
Its modules answer the handler's imports; the bare switch of old is spelt --as-layer."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from lpack.cli import main
from tests.bundle.test_build import project

HANDLER = "import layered\n\ndef lambda_handler(event, context):\n    return layered.VALUE\n"


def layer_zip(path: Path, files: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return path


@pytest.fixture
def imports_from_a_layer(tmp_path: Path) -> tuple[Path, Path]:
    """A function whose handler imports ``layered``, which only the layer provides."""
    root = project(tmp_path / "fn", files={"lambda_function.py": HANDLER})
    return root, layer_zip(tmp_path / "shared.zip", {"python/layered.py": "VALUE = 1\n"})


def test_a_module_only_the_layer_provides_is_found(imports_from_a_layer: tuple[Path, Path],
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    root, layer = imports_from_a_layer
    assert main(["build", "-q", str(root), "--runtime", "python3.12", "--layer", str(layer)]) == 0
    assert capsys.readouterr().out == ""


def test_without_the_layer_the_import_is_missing(imports_from_a_layer: tuple[Path, Path],
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """The near miss that proves the layer answered the import above."""
    root, _ = imports_from_a_layer
    assert main(["build", "-q", str(root), "--runtime", "python3.12"]) == 1
    assert " LP209 error " in capsys.readouterr().out


def test_six_layers_with_the_configured_ones(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path / "fn")
    arns = ", ".join(f'"arn:aws:lambda:us-east-1:123456789012:layer:l{i}:1"' for i in range(5))
    (root / "pyproject.toml").write_text(f'[tool.lpack]\nruntime = "python3.12"\nlayers = [{arns}]\n')
    layer = layer_zip(tmp_path / "sixth.zip", {"python/sixth.py": ""})
    assert main(["build", "-q", str(root), "--layer", str(layer)]) == 1
    assert capsys.readouterr().out == (
        f"{root / 'dist' / 'fn.zip'}: LP105 error function uses 6 layers; Lambda allows at most 5 "
        "(fix: merge layers or vendor the small ones)\n"
    )


@pytest.mark.parametrize("argv", [["--layer"], ["--layer", "--runtime", "python3.12"]], ids=["last", "before-option"])
def test_a_bare_layer_says_to_use_as_layer(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["build", *argv])
    assert exc.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "lpack: error: --layer takes a layer .zip the function is deployed with; "
        "to package the functions' dependencies as a layer, use --as-layer"
    )


def test_a_folder_is_not_a_layer_zip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path / "fn")
    assert main(["build", "--layer", str(root), "--runtime", "python3.12"]) == 2
    err = capsys.readouterr().err
    assert f"{root}: --layer takes a layer .zip the function is deployed with, not a folder" in err
    assert "use --as-layer" in err
    assert not (root / "dist").exists()


def test_a_missing_layer_zip_stops_before_building(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path / "fn")
    assert main(["build", str(root), "--layer", str(tmp_path / "nope.zip"), "--runtime", "python3.12"]) == 2
    assert f"{tmp_path / 'nope.zip'}: no such layer .zip (--layer)" in capsys.readouterr().err
    assert not (root / "dist").exists()
