"""`lpack build`: load the project (a folder, its config, or a SAM/CloudFormation template), build
it, record what it built in dist/lpack-manifest.json, and decide which findings on what was built
are reported; with ``--out DIR``, also write each built package's files, unzipped, into a folder;
with ``--changed-since REF``, build only the units whose inputs changed since REF (see
`lpack.commands.plan`) and keep the others' zips."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from lpack.bundle.builder import (
    Artifact,
    BuildOptions,
    BuildResult,
    Progress,
    build_project,
    refuse_layer_paths,
    silent,
    start_set_fetch,
)
from lpack.core.decide import filter_findings
from lpack.core.errors import UsageError
from lpack.core.findings import Finding
from lpack.inputs.config import Project

if TYPE_CHECKING:
    from lpack.bundle.artifacts import SetFetcher


class Unpacked(NamedTuple):
    name: str
    folder: Path
    files: int


def build(project_path: Path, template: Path | None, config: Path | None, options: BuildOptions,
          select: Sequence[str] = (), ignore: Sequence[str] = (),
          progress: Progress | None = None, changed_since: str | None = None) -> tuple[BuildResult, list[Finding]]:
    result, findings, _ = build_out(project_path, template, config, options, select, ignore, progress,
                                    changed_since=changed_since)
    return result, findings


def build_out(project_path: Path, template: Path | None, config: Path | None, options: BuildOptions,
              select: Sequence[str] = (), ignore: Sequence[str] = (), progress: Progress | None = None,
              out: Path | None = None, changed_since: str | None = None) -> tuple[BuildResult, list[Finding], list[Unpacked]]:
    """`build`, then with ``out`` each built package's files in a folder (see `is_flat`)."""
    # a fresh machine's download process starts making its S3 client now, while the project is read
    fetcher = None if changed_since is not None else start_set_fetch(options)
    with fetcher if fetcher is not None else contextlib.nullcontext():
        project, not_ours = _load(project_path, template, config, options)
        if out is not None:
            refuse_output_folder(out, project, "--out")
        result = build_changed(project, options, changed_since, progress, set_fetcher=fetcher)
    if not options.functions:  # said, as an image or S3 code is: a mixed template's other functions
        result.skipped += [(name, NOT_OURS) for name in not_ours]
    unpacked = write_out(result, out, flat=is_flat(options)) if out is not None else []
    return result, filter_findings(result.findings, [*project.select, *select], [*project.ignore, *ignore]), unpacked


def build_changed(project: Project, options: BuildOptions, changed_since: str | None,
                  progress: Progress | None = None, *, set_fetcher: SetFetcher | None = None) -> BuildResult:
    """Build the project's units (with ``changed_since``, only those whose inputs changed since
    that git ref, or whose zip dist/ lacks), then record them in dist/lpack-manifest.json."""
    unchanged: list[tuple[str, str]] = []
    options = options._replace(manifest=True)
    if changed_since is not None:
        options, unchanged = _changed_only(project, options, changed_since, progress or (lambda _u, _m: None))
    if options.functions or changed_since is None:
        result = build_project(project, options, progress or silent, set_fetcher=set_fetcher)
    else:
        result = BuildResult()  # nothing changed
    result.unchanged += unchanged
    record_manifest(project, options, result)
    return result


def _changed_only(project: Project, options: BuildOptions, since: str,
                  progress: Progress) -> tuple[BuildOptions, list[tuple[str, str]]]:
    """The options that build only the changed units, and the units kept, with why."""
    from lpack.analysis.package import display_path
    from lpack.commands.plan import unit_states

    units = [project.unit(name) for name in options.functions] if options.functions else list(project.units)
    states = unit_states(project, units, options.runtime, options.architecture, since)
    for state in states:
        if state.needs_build:
            progress(state.name, "building: " + "; ".join(state.why))
    kept = [(s.name, f"unchanged since {since}: kept {display_path(s.artifact)}") for s in states
            if s.built_here and not s.needs_build]
    return options._replace(functions=tuple(s.name for s in states if s.needs_build)), kept


def record_manifest(project: Project, options: BuildOptions, result: BuildResult) -> None:
    """Merge what was built into dist/lpack-manifest.json (nothing built: left as it is)."""
    from lpack.bundle import manifest
    from lpack.core.errors import ConfigError
    from lpack.plan import plan

    entries = []
    hashes_of: dict[tuple[object, ...], dict[str, list[str]]] = {}  # a declaration's hashes, read once (200 units, 5 files)
    recorded = manifest.read_manifest(project.dist)
    for artifact in result.artifacts:
        if not artifact.path.is_relative_to(project.dist):
            continue  # a zip lpack does not keep in dist/
        if artifact.current and _recorded(recorded.get(artifact.name), artifact):
            continue  # kept as it was, and the manifest says so already
        name = artifact.name
        if options.as_layer and name not in {u.name for u in project.units}:
            name = name.removesuffix("-layer")  # --as-layer's NAME-layer installs its function's declaration
        try:
            unit = project.unit(name)
            unit_plan = plan(project, unit, options.runtime, options.architecture)
            declaration = (unit.requirements, unit.lock, unit_plan.target.label, repr(unit.selection),
                           unit.source if unit.lock is not None else None)  # a lock leaves out the unit's own project
            if (hashes := hashes_of.get(declaration)) is None:
                hashes = hashes_of[declaration] = manifest.unit_hashes(unit_plan)
        except ConfigError:
            hashes = {}
        entries.append(manifest.entry(artifact, project.dist, artifact.inputs_sha256, hashes))
    if result.artifacts:  # also drops the entries whose zip is gone
        manifest.write_manifest(project.dist, entries)


def _recorded(entry: dict[str, object] | None, artifact: Artifact) -> bool:
    from lpack import __version__

    return entry is not None and entry.get("sha256") == artifact.sha256 and \
        entry.get("inputs_sha256") == artifact.inputs_sha256 and entry.get("lpack_version") == __version__


NOT_OURS = "its runtime is not one lpack builds for (another language, or a retired Python)"


def load_project(project_path: Path, template: Path | None, config: Path | None, options: BuildOptions) -> Project:
    return _load(project_path, template, config, options)[0]


def _load(project_path: Path, template: Path | None, config: Path | None,
          options: BuildOptions) -> tuple[Project, tuple[str, ...]]:
    """The project, and the functions of its template (or serverless.yml) in other runtimes."""
    refuse_layer_paths(options.layers)  # before the project: `--layer FOLDER` may mean the old switch
    if template is not None:
        from lpack.inputs.template import load_template

        found = load_template(template)
        return found.project, found.skipped
    from lpack.inputs.detect import load

    project, read = load(project_path, config)
    return project, read.skipped if read is not None else ()


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
