"""`lpack validate-config`: each configuration checked against the schema and resolved."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from lpack.inputs.config import Project, has_config, load_project


def validate(paths: Sequence[Path]) -> Iterator[Project | Path]:
    """The project each path configures, or the pyproject.toml path itself when it has no
    [tool.lpack] table (pre-commit passes every pyproject.toml: that one is not lpack's, which the
    reporter says); a ConfigError names the mistakes. jsonschema checks them here, the documented
    engine; builds and checks use lpack's own checker, which gives the same answers without its
    import (tests/inputs/test_schema_check.py)."""
    for path in paths or [Path(".")]:
        if path.name == "pyproject.toml" and not has_config(path):
            yield path
            continue
        yield load_project(path, engine="jsonschema")  # the reference engine; builds use lpack's own
