"""`--slim` / `slim = true` (issue #17): what provably does not run leaves the dependencies, the
metadata stays true (importlib.metadata), shared libraries lose debug sections only when proved
to load the same, and every top-level package still imports in the target's Python."""

from __future__ import annotations

import json
import shutil
import subprocess
import sysconfig
import time
import zipfile
from pathlib import Path

import jsonschema
import pytest

from lpack.bundle import slim
from lpack.cli import main
from lpack.core.targets import make_target
from lpack.invoke.interpreter import find_interpreter
from tests.factories import make_wheel

TARGET = make_target("python3.12", "x86_64", where="test")
PYTHON = find_interpreter(TARGET.runtime)
HAS_PYTHON = PYTHON.matches and PYTHON.machine == "x86_64"
CC = shutil.which("gcc") or shutil.which("cc")
PADDING = "# " + "x" * 100 + "\n"
C_SOURCE = r"""
#include <Python.h>
static PyObject *add(PyObject *self, PyObject *args) {
    long a, b;
    if (!PyArg_ParseTuple(args, "ll", &a, &b)) return NULL;
    return PyLong_FromLong(a + b);
}
static PyMethodDef methods[] = {{"add", add, METH_VARARGS, "a + b"}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_speed", NULL, -1, methods};
PyMODINIT_FUNC PyInit__speed(void) { return PyModule_Create(&module); }
"""
HEAVY = {
    "heavy/__init__.py": "import importlib.metadata\nversion = importlib.metadata.version('heavy')\n",
    "heavy/core.py": "def go():\n    return 'go'\n",
    "heavy/core.pyi": "def go() -> str: ...\n" + PADDING * 50,
    "heavy/py.typed": "",
    "heavy/tests/__init__.py": "",
    "heavy/tests/test_core.py": "def test_go():\n    pass\n" + PADDING * 900,
    "heavy/docs/guide.md": "# Guide\n" + PADDING * 700,
    "heavy/docs/api.txt": "api\n" + PADDING * 10,
    "heavy/README.md": "# heavy\n" + PADDING * 20,
    "heavy/LICENSE.md": "MIT\n",
    "heavy/testing.py": "def helper():\n    return 1\n",
}
KEEPS = {  # near misses: test folders and docs that are code
    "django/__init__.py": "",
    "django/test/__init__.py": "from django.test.client import Client\n",
    "django/test/client.py": "class Client:\n    pass\n",
    "clients/__init__.py": "from clients.docs import build\n",
    "clients/docs/__init__.py": "def build():\n    return 'docs'\n",
    "clients/docs/notes.rst": "notes\n",
}


def _extension(tmp: Path) -> bytes | None:
    """A real CPython 3.12 extension module compiled with debug sections (-g), or None."""
    include = Path(PYTHON.path).parent.parent / "include" / "python3.12"
    if CC is None or not HAS_PYTHON or not (include / "Python.h").is_file():
        return None
    (tmp / "speed.c").write_text(C_SOURCE)
    out = tmp / "_speed.so"
    subprocess.run([CC, "-g", "-O1", "-shared", "-fPIC", f"-I{include}", "-o", str(out), str(tmp / "speed.c")],
                   check=True, capture_output=True)
    return out.read_bytes()


@pytest.fixture(scope="module")
def house(tmp_path_factory: pytest.TempPathFactory) -> Path:
    house = tmp_path_factory.mktemp("slimhouse")
    make_wheel(house, "heavy", "1.0", files=HEAVY)
    make_wheel(house, "keeps", "1.0", files=KEEPS)
    native = _extension(tmp_path_factory.mktemp("cext"))
    if native is not None:
        make_wheel(house, "speed", "1.0", tag="cp312-cp312-manylinux_2_17_x86_64",
                   files={"speed/__init__.py": "from speed._speed import add\n",
                          "speed/_speed.cpython-312-x86_64-linux-gnu.so": native})
    return house


def _project(root: Path, house: Path, slim_key: bool = True) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    wanted = ["heavy==1.0", "keeps==1.0", *(["speed==1.0"] if list(house.glob("speed-*.whl")) else [])]
    (root / "requirements.txt").write_text("\n".join(["--no-index", f"--find-links {house}", *wanted]) + "\n")
    (root / "lambda_function.py").write_text("import heavy\n\ndef lambda_handler(event, context):\n"
                                             "    return heavy.version\n")
    (root / "tests").mkdir(exist_ok=True)
    (root / "tests" / "test_handler.py").write_text("def test_it():\n    pass\n")
    (root / "pyproject.toml").write_text('[tool.lpack]\nruntime = "python3.12"\narchitecture = "x86_64"\n'
                                         + ("slim = true\n" if slim_key else ""))
    return root


def _build(root: Path, *extra: str, capsys: pytest.CaptureFixture[str] | None = None) -> dict[str, object]:
    assert main(["build", "-q", "--format", "json", str(root), *extra]) == 0
    if capsys is None:
        return {}
    report: dict[str, object] = json.loads(capsys.readouterr().out)
    return report


def _names(path: Path) -> set[str]:
    with zipfile.ZipFile(path) as zf:
        return {n for n in zf.namelist() if not n.endswith("/")}


def test_slim_leaves_out_only_what_does_not_run(tmp_path: Path, house: Path) -> None:
    root = _project(tmp_path / "fn", house)
    _build(root)
    names = _names(root / "dist" / "fn.zip")
    for gone in ("heavy/tests/test_core.py", "heavy/docs/guide.md", "heavy/docs/api.txt", "heavy/README.md",
                 "heavy/core.pyi"):
        assert gone not in names
    for kept in ("heavy/core.py", "heavy/testing.py", "heavy/LICENSE.md", "heavy/py.typed", "heavy-1.0.dist-info/METADATA",
                 "heavy-1.0.dist-info/RECORD", "django/test/client.py", "clients/docs/__init__.py",
                 "lambda_function.py"):
        assert kept in names


def test_record_and_importlib_metadata_still_agree(tmp_path: Path, house: Path) -> None:
    root = _project(tmp_path / "fn", house)
    _build(root)
    with zipfile.ZipFile(root / "dist" / "fn.zip") as zf:
        record = zf.read("heavy-1.0.dist-info/RECORD").decode()
        zf.extractall(tmp_path / "tree")
    assert "heavy/tests/" not in record and "core.pyi" not in record and "heavy/core.py," in record
    if not HAS_PYTHON:
        pytest.skip("no Python 3.12 for x86_64 here to import from the tree")
    script = ("import importlib.metadata as m, pathlib, sys\n"
              "files = m.distribution('heavy').files\n"
              "missing = [str(f) for f in files if not pathlib.Path(f.locate()).exists()]\n"
              "import heavy, django.test, clients\n"
              "print(len(files), missing, heavy.version, clients.build())\n")
    done = subprocess.run([PYTHON.path, "-I", "-c", f"import sys; sys.path.insert(0, {str(tmp_path / 'tree')!r})\n"
                           + script], capture_output=True, text=True, check=True)
    count, rest = done.stdout.split(" ", 1)
    assert int(count) > 5 and rest.strip() == "[] 1.0 docs"


def test_bytes_saved_are_reported_per_package(tmp_path: Path, house: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _project(tmp_path / "fn", house)
    report = _build(root, capsys=capsys)
    artifact = report["artifacts"][0]  # type: ignore[index]
    packages = {p["package"]: p for p in artifact["slim"]["packages"]}
    removed = ["heavy/tests/test_core.py", "heavy/tests/__init__.py", "heavy/docs/guide.md", "heavy/docs/api.txt",
               "heavy/README.md", "heavy/core.pyi"]
    assert packages["heavy"]["files"] == len(removed)
    assert packages["heavy"]["saved_bytes"] == sum(len(HEAVY[n].encode()) for n in removed)
    assert packages["keeps"] == {"package": "keeps", "files": 1, "saved_bytes": len(b"notes\n"), "stripped_bytes": 0}
    assert artifact["slim"]["saved_bytes"] == sum(p["saved_bytes"] for p in packages.values())
    schema = Path(__file__).parents[2] / "schemas" / "report.schema.json"
    jsonschema.validate(report, json.loads(schema.read_text()))
    assert main(["build", str(root)]) == 0  # the text report: unchanged, from its stamp
    out = capsys.readouterr().out
    assert "fn: --slim saved " in out and "heavy " in out


def test_the_same_inputs_give_the_same_slim_zip(tmp_path: Path, house: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    digests = set()
    for name, copy in (("a", "1"), ("b", "1"), ("c", "0")):
        monkeypatch.setenv("LPACK_CACHE_DIR", str(tmp_path / f"cache-{name}"))
        monkeypatch.setenv("LPACK_WHEEL_COPY", copy)
        root = _project(tmp_path / name / "fn", house)
        _build(root)
        digests.add(_names(root / "dist" / "fn.zip").__len__())
        with zipfile.ZipFile(root / "dist" / "fn.zip") as zf:
            digests.add(tuple(sorted((i.filename, i.CRC) for i in zf.infolist())))
    assert len([d for d in digests if isinstance(d, tuple)]) == 1  # copied wheels or installed: the same files
    first, second = (tmp_path / n / "fn" / "dist" / "fn.zip" for n in "ab")
    assert first.read_bytes() == second.read_bytes()


def test_slim_is_part_of_what_a_zip_is_built_from(tmp_path: Path, house: Path) -> None:
    root = _project(tmp_path / "fn", house, slim_key=False)
    _build(root)
    full = (root / "dist" / "fn.zip").read_bytes()
    _build(root, "--slim")  # not "unchanged": another zip from the same files
    slimmed = (root / "dist" / "fn.zip").read_bytes()
    assert slimmed != full and len(slimmed) < len(full)
    _build(root)
    assert (root / "dist" / "fn.zip").read_bytes() == full


@pytest.mark.skipif(CC is None or not HAS_PYTHON, reason="needs gcc and a Python 3.12 for x86_64 with its headers")
def test_debug_sections_are_stripped_and_the_extension_still_loads(tmp_path: Path, house: Path) -> None:
    if shutil.which("strip") is None:
        pytest.skip("needs binutils' strip")
    root = _project(tmp_path / "fn", house)
    _build(root)
    so = "speed/_speed.cpython-312-x86_64-linux-gnu.so"
    with zipfile.ZipFile(next(house.glob("speed-*.whl"))) as wheel:
        original = wheel.read(so)
    with zipfile.ZipFile(root / "dist" / "fn.zip") as zf:
        stripped = zf.read(so)
        zf.extractall(tmp_path / "tree")
    assert len(stripped) < len(original) and b".debug_info" in original and b".debug_info" not in stripped
    assert slim.same_load(original, stripped)
    done = subprocess.run([PYTHON.path, "-I", "-c", ("import sys; sys.path.insert(0, sys.argv[1]); import speed; "
                           "print(speed.add(2, 3))"), str(tmp_path / "tree")], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "5"


@pytest.mark.skipif(CC is None or not HAS_PYTHON, reason="needs gcc and a Python 3.12 for x86_64 with its headers")
def test_a_strip_that_changes_loaded_bytes_is_refused(house: Path) -> None:
    with zipfile.ZipFile(next(house.glob("speed-*.whl"))) as wheel:
        original = wheel.read("speed/_speed.cpython-312-x86_64-linux-gnu.so")
    loaded = slim.load_image(original)
    assert loaded is not None and loaded.machine == 62 and ".dynsym" in loaded.sections and ".text" in loaded.sections
    text = original.index(loaded.sections[".text"][:32])
    changed = original[:text] + bytes([original[text] ^ 0xFF]) + original[text + 1:]
    assert not slim.same_load(original, changed)
    phoff = int.from_bytes(original[32:40], "little")  # a segment laid out anew (a patchelf'd file): other alignment
    moved = original[:phoff + 48] + (1).to_bytes(8, "little") + original[phoff + 56:]
    assert slim.load_image(moved) is not None and not slim.same_load(original, moved)
    assert slim.load_image(b"\x7fELF" + b"\0" * 10) is None
    assert not slim.same_load(original, b"not an ELF file")


def test_the_import_check_names_what_does_not_import(tmp_path: Path) -> None:
    (tmp_path / "good").mkdir()
    (tmp_path / "good" / "__init__.py").write_text("")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "__init__.py").write_text("raise ImportError('libfoo.so: cannot open shared object file')\n")
    python = PYTHON.path if HAS_PYTHON else sysconfig.get_config_var("BINDIR") + "/python3"
    failed = slim.import_errors(python, tmp_path, ["good", "bad"])
    assert failed == {"bad": "ImportError: libfoo.so: cannot open shared object file"}


def test_what_slim_would_remove_is_lp143_and_lp145s_view() -> None:
    names = ["a/tests/t.py", "a/test/t.py", "django/test/client.py", "a/docs/x.md", "b/docs/__init__.py",
             "b/docs/y.md", "a/README.rst", "a/LICENSE.md", "a-1.0.dist-info/licenses/NOTES.md",
             "a/__pycache__/m.cpython-312.pyc", "a/m.py", "a/m.pyc", "a/only.pyc", "a/x.pyi", "a/x.py"]
    assert slim.removable(names) == {
        "a/tests/t.py": "tests", "a/test/t.py": "tests", "a/docs/x.md": "docs", "a/README.rst": "docs",
        "b/docs/y.md": "docs",  # a document beside code that is docs/ (LP145 counts *.md anywhere)
        "a/__pycache__/m.cpython-312.pyc": "caches", "a/m.pyc": "caches", "a/x.pyi": "stubs"}


@pytest.mark.skipif(CC is None or not HAS_PYTHON, reason="needs gcc and a Python 3.12 for x86_64 with its headers")
def test_a_source_only_edit_reuses_the_slim_result(tmp_path: Path, house: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    real = shutil.which("strip")
    if real is None:
        pytest.skip("needs binutils' strip")
    tools = tmp_path / "bin"  # the real strip, each stripping run logged (its --version is part of the key)
    tools.mkdir()
    log = tmp_path / "strips.log"
    (tools / "strip").write_text(f'#!/bin/sh\ncase " $* " in *" --version "*) ;; *) echo "$*" >> {log} ;; esac\n'
                                 f'exec {real} "$@"\n')
    (tools / "strip").chmod(0o755)
    monkeypatch.setenv("PATH", f"{tools}:{Path(real).parent}")
    monkeypatch.setenv("LPACK_CACHE_DIR", str(tmp_path / "cache"))
    root = _project(tmp_path / "fn", house)
    first = _build(root, capsys=capsys)["artifacts"][0]  # type: ignore[index]
    assert log.read_text().count("--strip-unneeded") == 1  # the one shared library
    before = _dependency_bytes(root / "dist" / "fn.zip")
    (root / "lambda_function.py").write_text("import heavy\n\ndef lambda_handler(event, context):\n"
                                             "    return {'version': heavy.version}\n")
    second = _build(root, capsys=capsys)["artifacts"][0]  # type: ignore[index]
    assert log.read_text().count("--strip-unneeded") == 1  # not stripped again
    assert _dependency_bytes(root / "dist" / "fn.zip") == before
    assert second["slim"] == first["slim"]  # what was left out, as the first build said
    assert "saved_bytes" in second["slim"] and second["sha256"] != first["sha256"]
    (root / "lambda_function.py").write_text("import heavy\n\ndef lambda_handler(event, context):\n"
                                             "    return heavy.version\n")
    third = _build(root, "--refresh", capsys=capsys)["artifacts"][0]  # type: ignore[index]
    assert log.read_text().count("--strip-unneeded") == 2  # --refresh slims anew, to the first zip's bytes
    assert third["sha256"] == first["sha256"]


def test_slim_results_are_pruned_like_dependency_sets(tmp_path: Path, house: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lpack.commands.cache import prune

    monkeypatch.setenv("LPACK_CACHE_DIR", str(tmp_path / "cache"))
    _build(_project(tmp_path / "fn", house))
    slims = list((tmp_path / "cache" / "slim").glob("??/*/deps.zip"))
    assert len(slims) == 1
    pruned = prune(tmp_path / "cache", older_than_s=60, max_size_bytes=None, now=time.time() + 3600)
    assert slims[0].parent in {e.path for e in pruned.removed} and not slims[0].exists()
    assert not list((tmp_path / "cache" / "deps").glob("??/*/deps.zip"))


def _dependency_bytes(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist() if n != "lambda_function.py"}
