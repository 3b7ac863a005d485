"""`lpack build`: load the project (a folder, its config, or a SAM/CloudFormation template), build
it, and decide which findings on what was built are reported."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from lpack.bundle.builder import (
    BuildOptions,
    BuildResult,
    Progress,
    build_project,
    refuse_layer_paths,
)
from lpack.core.decide import filter_findings
from lpack.core.findings import Finding


def build(project_path: Path, template: Path | None, config: Path | None, options: BuildOptions,
          select: Sequence[str] = (), ignore: Sequence[str] = (),
          progress: Progress | None = None) -> tuple[BuildResult, list[Finding]]:
    refuse_layer_paths(options.layers)  # before the project: `--layer FOLDER` may mean the old switch
    if template is not None:
        from lpack.inputs.template import load_template

        project = load_template(template).project
    else:
        from lpack.inputs.detect import load

        project = load(project_path, config)[0]
    result = build_project(project, options) if progress is None else build_project(project, options, progress)
    return result, filter_findings(result.findings, [*project.select, *select], [*project.ignore, *ignore])
