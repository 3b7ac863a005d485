"""The built-in excludes mean exactly what their gitignore lines mean to pathspec."""

from __future__ import annotations

import pathspec
import pytest

from lpack.bundle.select import DEPENDENCY_EXCLUDES, SOURCE_EXCLUDES, Defaults

PATHS = [
    "lambda_function.py", "pkg/__init__.py", "pkg/__pycache__/", "pkg/__pycache__/m.cpython-312.pyc",
    "pkg/m.pyc", "pkg/m.pyo", "m.pyd", "pkg/m.pyi", "pkg/m.py", ".git/", ".git/config", "a/.git/x",
    ".venv/", "venv/", "src/venv/x.py", "venvs/x.py", "dist/", "dist/x.zip", "pkg/dist/x.py",
    "build/", "pkg/build/x.py", "foo.egg-info/", "foo.egg-info/PKG-INFO", "a/b.egg-info/x",
    ".idea/", ".vscode/settings.json", "x.swp", "x~", ".#x", "#x#", ".DS_Store", "pkg/.DS_Store",
    ".coverage", ".coverage.1", "coverage.py", "node_modules/x.js", "nodemodules/x.py",
    "bin/", "bin/tool", "pkg/bin/tool", ".lock", "pkg/.lock", "x-1.0.dist-info/direct_url.json",
    "x-1.0.dist-info/METADATA", "direct_url.json", ".aws-sam/build/x", "cdk.out/", ".env",
]


@pytest.mark.parametrize("defaults", [SOURCE_EXCLUDES, DEPENDENCY_EXCLUDES], ids=["source", "dependencies"])
def test_defaults_agree_with_pathspec(defaults: Defaults) -> None:
    reference = pathspec.GitIgnoreSpec.from_lines(defaults.as_patterns())
    for path in PATHS:
        assert defaults.match_file(path) == reference.match_file(path), path


def test_source_defaults_keep_code_and_metadata() -> None:
    kept = [p for p in PATHS if not SOURCE_EXCLUDES.match_file(p)]
    for path in ("lambda_function.py", "pkg/m.pyi", "pkg/dist/x.py", "pkg/build/x.py", "venvs/x.py",
                 "coverage.py", "x-1.0.dist-info/METADATA", ".env", "bin/tool"):
        assert path in kept
