"""One answer to "what is this path?" for every command: an lpack project (``[tool.lpack]``,
``lpack.toml`` or a zero-config ``lambda_function.py``), or a SAM/CloudFormation template
(the file, or a folder's ``template.yaml`` when the folder has no lpack configuration)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lpack.inputs.config import Project
    from lpack.inputs.template import Template


def template_path(path: Path, config: Path | None = None) -> Path | None:
    """The template ``path`` stands for, if it is one (else None: it is an lpack project)."""
    if path.is_file():
        from lpack.inputs.template import looks_like_template

        return path if looks_like_template(path) else None
    if path.is_dir() and config is None and not has_lpack_project(path):  # templates load only when needed
        from lpack.inputs.template import find_template

        return find_template(path)
    return None


def has_lpack_project(folder: Path) -> bool:
    """lpack's own configuration, or a zero-config function, is in this folder (a pyproject.toml
    without [tool.lpack] belongs to some other tool)."""
    from lpack.inputs.config import DEFAULT_MODULE_FILE, has_config

    pyproject = folder / "pyproject.toml"
    return ((folder / "lpack.toml").is_file() or (folder / DEFAULT_MODULE_FILE).is_file()
            or (pyproject.is_file() and has_config(pyproject)))


def load(path: Path, config: Path | None = None) -> tuple[Project, Template | None]:
    """The project at ``path``, and the template it was read from when it is one."""
    found = template_path(path, config)
    if found is not None:
        from lpack.inputs.template import load_template

        template = load_template(found)
        return template.project, template
    from lpack.inputs.config import load_project

    return load_project(path, config), None
