"""A no-op build decides each unit from its stamp (lpack.bundle.stamps): nothing read, compressed
or written; and any change that shapes a zip still builds it (issue #23)."""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from pathlib import Path

import pytest

from lpack.cli import main
from tests.factories import make_wheel

HANDLER = "def lambda_handler(event, context):\n    return {'ok': True}\n"


@pytest.fixture
def wheels(tmp_path: Path) -> Path:
    house = tmp_path / "wheels"
    for name in ("alpha", "beta", "gamma"):
        make_wheel(house, name, "1.0", files={f"{name}/__init__.py": f"NAME = {name!r}\n"})
    return house


def _requirements(wheels: Path, *names: str) -> str:
    return "\n".join(["--no-index", f"--find-links {wheels}", *(f"{n}==1.0" for n in names)]) + "\n"


@pytest.fixture
def root(tmp_path: Path, wheels: Path) -> Path:
    """Three functions (two sharing a requirements file, one using a layer) and the layer."""
    root = tmp_path / "proj"
    root.mkdir()
    (root / "a.txt").write_text(_requirements(wheels, "alpha"))
    (root / "layer.txt").write_text(_requirements(wheels, "gamma"))
    config = 'runtime = "python3.12"\nhandler = "app.lambda_handler"\n[layers.shared]\nrequirements = "layer.txt"\n'
    for name in ("api", "billing", "web"):
        (root / name / "lib").mkdir(parents=True)
        (root / name / "app.py").write_text(HANDLER)
        (root / name / "lib" / "__init__.py").write_text("")
        (root / name / "lib" / "util.py").write_text(f"NAME = {name!r}\n")
        config += f'[functions.{name}]\nsource = "{name}"\n'
        config += 'layers = ["shared"]\n' if name == "web" else 'requirements = "a.txt"\n'
    (root / "lpack.toml").write_text(config)
    return root


def _build(root: Path, capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, dict[str, object]]:
    assert main(["build", str(root), "--cache-dir", str(root.parent / "cache"), "--format", "json", *args]) == 0
    report = json.loads(capsys.readouterr().out)
    return {str(a["name"]): a for a in report["artifacts"]}


def _current(artifacts: dict[str, dict[str, object]]) -> set[str]:
    return {name for name, a in artifacts.items() if a.get("current")}


def _stats(root: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_mtime_ns, p.stat().st_ino) for p in sorted((root / "dist").iterdir())}


@pytest.fixture
def built(root: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LPACK_CACHE_DIR", str(root.parent / "cache"))  # the inputs records too
    assert _current(_build(root, capsys)) == set()
    return root


def test_a_no_op_build_keeps_every_zip_and_reports_what_a_build_would(
        built: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    before = _stats(built)
    kept = _build(built, capsys)
    assert _current(kept) == {"api", "billing", "web", "shared"}
    assert _stats(built) == before  # no zip and not the manifest rewritten

    def read(path: Path) -> bytes:
        raise AssertionError(f"a no-op build read {path}")
    with monkeypatch.context() as patched:
        patched.setattr(Path, "read_bytes", read)  # no source file's contents read
        assert _current(_build(built, capsys)) == {"api", "billing", "web", "shared"}

    shutil.rmtree(built.parent / "cache" / "stamps")  # a build from the dependency cache, as before stamps
    rebuilt = _build(built, capsys)
    assert _current(rebuilt) == set()

    def comparable(artifacts: dict[str, dict[str, object]]) -> dict[str, dict[str, object]]:
        return {n: {k: v for k, v in a.items() if k not in ("seconds", "current")} for n, a in artifacts.items()}
    for name in kept:
        assert comparable(kept)[name] == comparable(rebuilt)[name], name


def test_a_touched_but_identical_file_keeps_the_zip_and_is_stamped_anew(
        built: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    before = _stats(built)
    os.utime(built / "api" / "app.py", ns=(1, 1))
    assert _current(_build(built, capsys)) == {"api", "billing", "web", "shared"}
    assert _stats(built) == before
    digests = []
    monkeypatch.setattr("lpack.bundle.builder.inputs_digest", lambda *a: digests.append(a) or "")
    assert _current(_build(built, capsys)) == {"api", "billing", "web", "shared"}
    assert digests == []  # the new stamp holds the new stat: no content compared


@pytest.mark.parametrize("change", [
    pytest.param(lambda root: (root / "api" / "lib" / "util.py").write_text("NAME = 'changed'\n"), id="edit"),
    pytest.param(lambda root: (root / "api" / "lib" / "new.py").write_text("X = 1\n"), id="new-file"),
    pytest.param(lambda root: (root / "api" / "lib" / "util.py").unlink(), id="deleted-file"),
    pytest.param(lambda root: (root / "api" / "lib" / "deep").mkdir() or
                 (root / "api" / "lib" / "deep" / "x.py").write_text("X = 1\n"), id="new-folder"),
    pytest.param(lambda root: (root / "api" / "lib" / "util.py").rename(root / "api" / "lib" / "other.py"), id="rename"),
    pytest.param(lambda root: (root / "dist" / "api.zip").write_bytes(b"not a zip"), id="zip-replaced"),
    pytest.param(lambda root: (root / "dist" / "api.zip").unlink(), id="zip-deleted"),
    pytest.param(lambda root: (root / "lpack.toml").write_text((root / "lpack.toml").read_text().replace(
        '[functions.api]\n', '[functions.api]\nexclude = ["lib/util.py"]\n')), id="config"),
])
def test_a_change_to_a_functions_inputs_builds_it_alone(
        built: Path, capsys: pytest.CaptureFixture[str], change: object) -> None:
    assert callable(change)
    change(built)
    artifacts = _build(built, capsys)
    assert _current(artifacts) == {"billing", "web", "shared"}
    with zipfile.ZipFile(built / "dist" / "api.zip") as zf:
        names = set(zf.namelist())
    excluded = "exclude" in (built / "lpack.toml").read_text()
    assert ("lib/util.py" in names) == ((built / "api" / "lib" / "util.py").is_file() and not excluded)
    assert _current(_build(built, capsys)) == {"api", "billing", "web", "shared"}  # and then it is current


def test_a_requirements_change_builds_the_functions_that_use_it(
        built: Path, wheels: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (built / "a.txt").write_text(_requirements(wheels, "alpha", "beta"))
    artifacts = _build(built, capsys)
    assert _current(artifacts) == {"web", "shared"}
    with zipfile.ZipFile(built / "dist" / "billing.zip") as zf:
        assert "beta/__init__.py" in zf.namelist()


def test_a_rebuilt_wheel_in_the_find_links_folder_builds_its_users(
        built: Path, wheels: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for wheel in wheels.glob("gamma-*.whl"):
        wheel.unlink()
    make_wheel(wheels, "gamma", "1.0", files={"gamma/__init__.py": "NAME = 'new gamma'\n"})
    artifacts = _build(built, capsys)
    assert artifacts["shared"]["dependencies"] == "installed"
    assert _current(artifacts) == set()  # every unit's requirements name the same folder, and web uses the layer


def test_a_rebuilt_layer_builds_the_functions_that_use_it(
        built: Path, wheels: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (built / "layer.txt").write_text(_requirements(wheels, "gamma", "beta"))
    assert _current(_build(built, capsys)) == {"api", "billing"}


def test_another_source_date_epoch_builds_the_zips_again(
        built: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """SOURCE_DATE_EPOCH sets every entry's timestamp: a zip stamped under another one is not current."""
    before = (built / "dist" / "api.zip").read_bytes()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert _current(_build(built, capsys)) == set()
    with zipfile.ZipFile(built / "dist" / "api.zip") as zf:
        assert {info.date_time for info in zf.infolist()} == {(2023, 11, 14, 22, 13, 20)}
    assert (built / "dist" / "api.zip").read_bytes() != before
    assert _current(_build(built, capsys)) == {"api", "billing", "web", "shared"}


def test_refresh_builds_everything(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _current(_build(built, capsys, "--refresh")) == set()


def _books(built: Path) -> dict[str, list[list[str]]]:
    books = (built.parent / "cache" / "stamps" / "books").glob("*.json")
    return {p.name: sorted(r["unit"] for r in json.loads(p.read_text())["stamps"].values()) for p in books}


def test_a_builds_stamps_are_one_file_where_a_units_new_settings_replace_its_old_stamp(
        built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    units = [[name, "python3.12 x86_64"] for name in ("api", "billing", "shared", "web")]
    [(book, stamped)] = _books(built).items()
    assert stamped == units
    config = (built / "lpack.toml").read_text()
    (built / "lpack.toml").write_text(config.replace('[functions.api]\n', '[functions.api]\nexclude = ["lib/util.py"]\n'))
    assert _current(_build(built, capsys)) == {"billing", "web", "shared"}
    assert _books(built) == {book: units}  # api's stamp of its old settings is gone, not kept beside the new one
    (built / "lpack.toml").write_text(config)
    assert _current(_build(built, capsys)) == {"billing", "web", "shared"}
    assert _current(_build(built, capsys)) == {"api", "billing", "web", "shared"}


def test_two_processes_saving_stamps_at_once_keep_each_others(tmp_path: Path) -> None:
    """A build's worker processes (and two builds of one project) each save what they stamped:
    a save merges with what the file holds by then, not with what it held when first read."""
    from lpack.bundle.stamps import StampBook

    first, second = StampBook(tmp_path, "book"), StampBook(tmp_path, "book")
    assert first.get("a") is None and second.get("b") is None  # both read the (missing) file first
    first.put("a", {"n": 1}, "api", "t")
    second.put("b", {"n": 2}, "billing", "t")
    first.save()
    second.save()
    third = StampBook(tmp_path, "book")
    assert (third.get("a") or {}).get("n") == 1 and (third.get("b") or {}).get("n") == 2


def test_sets_that_share_a_wheelhouse_walk_it_once_a_run(
        root: Path, wheels: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The dependency keys of a run's sets fingerprint each --find-links folder once (a fresh
    machine hashed one wheelhouse once per set), and still see a wheel rebuilt between runs."""
    from lpack.inputs import requirements_file

    walked: list[Path] = []
    real = requirements_file._path_fingerprint
    monkeypatch.setattr(requirements_file, "_path_fingerprint", lambda path, within=(): walked.append(path) or real(path, within))
    _build(root, capsys)  # a.txt and layer.txt: two sets, one folder
    assert walked == [wheels]
    for wheel in wheels.glob("alpha-*.whl"):
        wheel.unlink()
    make_wheel(wheels, "alpha", "1.0", files={"alpha/__init__.py": "NAME = 'new alpha'\n"})
    assert _build(root, capsys)["api"]["dependencies"] == "installed"


@pytest.mark.parametrize("damage", ["not json", "another shape", "a folder"])
def test_a_damaged_stamp_file_costs_a_rebuild_not_an_error(
        built: Path, capsys: pytest.CaptureFixture[str], damage: str) -> None:
    [book] = (built.parent / "cache" / "stamps" / "books").glob("*.json")
    if damage == "a folder":
        book.unlink()
        book.mkdir()
    else:
        book.write_text("{not json" if damage == "not json" else '{"version": 1, "stamps": [1, 2]}')
    assert _current(_build(built, capsys)) == set()  # every unit built again (from the dependency cache)
    if damage != "a folder":
        assert _current(_build(built, capsys)) == {"api", "billing", "web", "shared"}  # and stamped anew
