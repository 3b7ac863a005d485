"""`lpack validate-config`: each configuration checked against the schema and resolved."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from lpack.inputs.config import Project, has_config, load_project


def validate(paths: Sequence[Path]) -> Iterator[Project]:
    """The project each path configures; a ConfigError names the first mistake."""
    for path in paths or [Path(".")]:
        if path.name == "pyproject.toml" and not has_config(path):
            continue  # pre-commit passes every pyproject.toml; one without [tool.lpack] is not ours
        yield load_project(path)
