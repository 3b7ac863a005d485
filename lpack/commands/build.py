"""`lpack build`: load the project (a folder, its config, or a SAM/CloudFormation template), build
it, and decide which findings on what was built are reported; with ``--out DIR``, also write each
built package's files, unzipped, into a folder."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from lpack.bundle.builder import (
    BuildOptions,
    BuildResult,
    Progress,
    build_project,
    refuse_layer_paths,
)
from lpack.core.decide import filter_findings
from lpack.core.errors import UsageError
from lpack.core.findings import Finding
from lpack.inputs.config import Project


class Unpacked(NamedTuple):
    name: str
    folder: Path
    files: int


def build(project_path: Path, template: Path | None, config: Path | None, options: BuildOptions,
          select: Sequence[str] = (), ignore: Sequence[str] = (),
          progress: Progress | None = None) -> tuple[BuildResult, list[Finding]]:
    result, findings, _ = build_out(project_path, template, config, options, select, ignore, progress)
    return result, findings


def build_out(project_path: Path, template: Path | None, config: Path | None, options: BuildOptions,
              select: Sequence[str] = (), ignore: Sequence[str] = (), progress: Progress | None = None,
              out: Path | None = None) -> tuple[BuildResult, list[Finding], list[Unpacked]]:
    """`build`, then with ``out`` each built package's files in a folder (see `is_flat`)."""
    project = load_project(project_path, template, config, options)
    if out is not None:
        refuse_output_folder(out, project, "--out")
    result = build_project(project, options) if progress is None else build_project(project, options, progress)
    unpacked = write_out(result, out, flat=is_flat(options)) if out is not None else []
    return result, filter_findings(result.findings, [*project.select, *select], [*project.ignore, *ignore]), unpacked


def load_project(project_path: Path, template: Path | None, config: Path | None, options: BuildOptions) -> Project:
    refuse_layer_paths(options.layers)  # before the project: `--layer FOLDER` may mean the old switch
    if template is not None:
        from lpack.inputs.template import load_template

        return load_template(template).project
    from lpack.inputs.detect import load

    return load(project_path, config)[0]


def is_flat(options: BuildOptions) -> bool:
    """``--out DIR`` holds one package's files when the command line names exactly one function
    (and no --as-layer split); else ``DIR/NAME/`` per built package. The command line decides, not
    how many units the project happens to have."""
    return len(options.functions) == 1 and not options.as_layer


def refuse_output_folder(folder: Path, project: Project, option: str) -> None:
    """An output folder is replaced whole: never the project, its dist/, a source folder, or a
    folder holding any of them; and not inside a source folder, where the next build would ship it,
    unless lpack leaves it out there anyway (.aws-sam/, build/, dist/ at the source's root)."""
    from lpack.core.select import SOURCE_EXCLUDES

    out = folder.resolve()
    guarded = [("the project folder", project.root), ("the dist/ folder", project.dist)]
    sources = [(f"{unit.name}'s source folder", unit.source.resolve()) for unit in project.units
               if unit.source is not None]
    for what, path in [*guarded, *sources]:
        path = path.resolve()
        if out == path or out in path.parents:
            raise UsageError(f"{option} {folder}: would replace {what} ({path}); lpack replaces that folder's "
                             "contents with the built package's files",
                             tip="name a folder of its own, e.g. build/ or .aws-sam/build/NAME")
    for what, path in sources:
        if path in out.parents and not SOURCE_EXCLUDES.match_file(out.relative_to(path).as_posix() + "/"):
            raise UsageError(f"{option} {folder}: is inside {what} ({path}), so the next build would ship it",
                             tip="name a folder outside it, or build/ or .aws-sam/ inside it")


def write_out(result: BuildResult, folder: Path, flat: bool) -> list[Unpacked]:
    from lpack.bundle.unpacked import write_unpacked

    written = []
    for artifact in result.artifacts:
        dest = folder if flat else folder / artifact.name
        written.append(Unpacked(artifact.name, dest, write_unpacked(artifact.path, dest)))
    return written
