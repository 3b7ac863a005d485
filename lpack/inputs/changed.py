"""From the files a commit changes (as pre-commit passes them) to what `lpack check` checks.

A changed file belongs to the nearest folder above it that is an lpack project (``lpack.toml``,
a ``pyproject.toml`` with ``[tool.lpack]``, ``lambda_function.py``, a SAM ``template.yaml`` or a Serverless
``serverless.yml``), looked for up to the
repository's root; each such project is checked once. Changed ``.json`` files that are IAM
policy documents are checked as policies; other files (events, package.json, docs) are not
lpack's business and are skipped quietly, so the hook stays silent on commits it has nothing
to say about.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

from lpack.core.compat import tomllib
from lpack.inputs.config import DEFAULT_MODULE_FILE

TEMPLATE_NAMES = ("template.yaml", "template.yml")  # what `sam build` looks for
# a Serverless Framework service (lpack.inputs.template.loader's; not imported: the hook starts fast)
SERVERLESS_NAMES = ("serverless.yml", "serverless.yaml", "serverless.json")


class Targets(NamedTuple):
    projects: list[Path]
    policies: list[Path]


def targets(files: Iterable[Path], top: Path | None = None) -> Targets:
    """The projects and policy files to check for these changed files. ``top`` bounds the
    search upwards (default: the git repository's root, else the current folder)."""
    top = (top or _repository_root(Path.cwd())).resolve()
    projects: dict[Path, None] = {}
    policies: list[Path] = []
    for file in files:
        if file.suffix == ".json" and _is_policy(file):
            policies.append(file)
            continue
        project = project_of(file, top)
        if project is not None:
            projects.setdefault(project)
    return Targets(list(projects), policies)


def project_of(file: Path, top: Path) -> Path | None:
    folder = file.resolve().parent
    while True:
        if _is_project(folder):
            return folder
        if folder == top or folder.parent == folder:
            return None
        folder = folder.parent


def _is_project(folder: Path) -> bool:
    if (folder / "lpack.toml").is_file() or (folder / DEFAULT_MODULE_FILE).is_file():
        return True
    if any((folder / name).is_file() for name in (*TEMPLATE_NAMES, *SERVERLESS_NAMES)):
        return True  # a SAM/CloudFormation project or a Serverless service: `lpack check FOLDER` reads it
    pyproject = folder / "pyproject.toml"
    if not pyproject.is_file():
        return False
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return True  # a broken pyproject.toml is worth the project check's clear error
    tool = data.get("tool")
    return isinstance(tool, dict) and "lpack" in tool


def _is_policy(path: Path) -> bool:
    """An IAM policy document: a JSON object with a Statement (what IAM requires of one)."""
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text)
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    except RecursionError:  # too deep for json.loads: the policy check says so (LP501) when it names a Statement
        return '"Statement"' in text
    return isinstance(data, dict) and "Statement" in data


def _repository_root(start: Path) -> Path:
    for folder in (start.resolve(), *start.resolve().parents):
        if (folder / ".git").exists():
            return folder
    return start
