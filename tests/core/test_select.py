"""The built-in excludes mean exactly what their gitignore lines mean to pathspec."""

from __future__ import annotations

import pathspec
import pytest

from lpack.core.select import DEPENDENCY_EXCLUDES, NOT_RUNTIME, SOURCE_EXCLUDES, Defaults

PATHS = [
    "lambda_function.py", "pkg/__init__.py", "pkg/__pycache__/", "pkg/__pycache__/m.cpython-312.pyc",
    "pkg/m.pyc", "pkg/m.pyo", "m.pyd", "pkg/m.pyi", "pkg/m.py", ".git/", ".git/config", "a/.git/x",
    ".venv/", "venv/", "src/venv/x.py", "venvs/x.py", "dist/", "dist/x.zip", "pkg/dist/x.py",
    "build/", "pkg/build/x.py", "foo.egg-info/", "foo.egg-info/PKG-INFO", "a/b.egg-info/x",
    ".idea/", ".vscode/settings.json", "x.swp", "x~", ".#x", "#x#", ".DS_Store", "pkg/.DS_Store",
    ".coverage", ".coverage.1", "coverage.py", "node_modules/x.js", "nodemodules/x.py",
    "bin/", "bin/tool", "pkg/bin/tool", ".lock", "pkg/.lock", "x-1.0.dist-info/direct_url.json",
    "x-1.0.dist-info/METADATA", "direct_url.json", ".aws-sam/build/x", "cdk.out/", ".env",
    "README.md", "README", "pkg/README.md", "tests/", "tests/test_x.py", "pkg/tests/x.py", "events/api.json",
    ".env.prod", "pkg/.env", "conftest.py", "pkg/conftest.py", "Dockerfile.dev", "template.yaml",
    "test_handler.py", "pkg/test_handler.py", "event.json", "events-sqs.json", "main.tf",
]


@pytest.mark.parametrize("defaults", [SOURCE_EXCLUDES, DEPENDENCY_EXCLUDES, NOT_RUNTIME],
                         ids=["source", "dependencies", "not-runtime"])
def test_defaults_agree_with_pathspec(defaults: Defaults) -> None:
    reference = pathspec.GitIgnoreSpec.from_lines(defaults.as_patterns())
    for path in PATHS:
        assert defaults.match_file(path) == reference.match_file(path), path


def test_source_defaults_keep_code_and_metadata() -> None:
    kept = [p for p in PATHS if not SOURCE_EXCLUDES.match_file(p)]
    for path in ("lambda_function.py", "pkg/m.pyi", "pkg/dist/x.py", "pkg/build/x.py", "venvs/x.py",
                 "coverage.py", "x-1.0.dist-info/METADATA", ".env", "bin/tool"):
        assert path in kept


def test_read_members_matches_zipfile(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The fast central-directory reader agrees with zipfile on what the writer wrote."""
    import zipfile

    from lpack.bundle import zipwriter

    members = [zipwriter.compress(f"pkg/m{i}.py", b"x = %d\n" % i * (i + 1), 0o644) for i in range(50)]
    members.append(zipwriter.compress("naïve/ünïcode.txt", "é".encode() * 40, 0o755))
    members.append(zipwriter.directory("pkg"))
    path = tmp_path / "a.zip"
    zipwriter.atomic_write_zip(path, sorted(members, key=lambda m: m.name))
    fast = zipwriter.read_members(path)
    slow = zipwriter._read_members_zipfile(path)
    assert fast == slow
    copy = tmp_path / "b.zip"
    zipwriter.atomic_write_zip(copy, fast)  # copying raw members gives the same bytes
    assert copy.read_bytes() == path.read_bytes()
    with zipfile.ZipFile(copy) as zf:
        assert zf.testzip() is None
        assert zf.read("naïve/ünïcode.txt") == "é".encode() * 40
