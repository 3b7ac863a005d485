"""`lpack plan`: per function and layer, what a build would make of it and whether dist/ has it
already: its target, source, inputs digest, artifact, whether dist/lpack-manifest.json says its
zip is current, and with ``--changed-since REF`` whether git says its inputs changed since REF.

A unit's inputs, as git sees them (`unit_inputs`):
- its source files as packaged (`Plan.packaged_files`, resolved: a link to shared code outside
  the source counts where it points), less the user's excludes; a file deleted under the source's
  packaged root; a source folder that is a Python project counts whole (its wheel is built from it);
- its dependency declaration (requirements file and the files it includes, lock, manifest, the
  lock's manifest) and the local folders it installs from (find-links, path dependencies);
- its settings: when lpack.toml / pyproject.toml changed, the unit's parsed settings (all of them,
  memory and environment too: a deploy needs them) are compared with those at REF, so a comment
  or another function's section changes nothing; so for a SAM/CloudFormation template or a
  serverless.yml, whose functions as REF had them are read from the file there (Globals and the
  provider's settings included, template lines left out); a change to the project-wide settings
  (dist, installer, follow-links), or a file lpack cannot read at REF, counts for every unit it
  configures; with no runtime configured, the project's .python-version and pyproject.toml
  (requires-python) count as files;
- lpack's version: a zip dist/lpack-manifest.json records as built by another lpack.
The modules a handler imports from outside its source are not in its package (Lambda imports
only what the zip and its layers hold), so they are not its inputs, unless the source links to
them — then they are, through the resolved packaged files.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from lpack import __version__
from lpack.bundle.builder import inputs_digest
from lpack.bundle.manifest import read_manifest
from lpack.inputs.config import Project, Unit
from lpack.plan import Plan, is_python_project, packaged_root, plan

PLAN_VERSION = 1


class UnitState(NamedTuple):
    name: str
    kind: str
    runtime: str
    architecture: str
    source: Path | None
    artifact: Path
    built_here: bool  # lpack builds it (not a template's prebuilt zip, an image or code on S3)
    inputs_sha256: str | None  # None: nothing lpack builds
    current: bool  # dist/ has its zip, built (as dist/lpack-manifest.json says) from its inputs as they are now
    changed: bool | None  # None: not asked (no --changed-since)
    why: tuple[str, ...] = ()  # what changed, or why it must be built though nothing did
    needs_build: bool = False  # with --changed-since: changed, or dist/ has no zip it can keep

    def as_dict(self, root: Path) -> dict[str, Any]:
        return {
            "name": self.name, "kind": self.kind, "runtime": self.runtime, "architecture": self.architecture,
            "source": _relative(self.source, root), "artifact": _relative(self.artifact, root),
            "built_here": self.built_here, "inputs_sha256": self.inputs_sha256, "current": self.current,
            "changed": self.changed, "why": list(self.why),
        }


def unit_states(project: Project, units: Sequence[Unit] | None = None, runtime: str | None = None,
                architecture: str | None = None, since: str | None = None) -> list[UnitState]:
    """The state of each unit (default: all the project's), with ``since`` compared with git."""
    changed: Changed | None = None
    if since is not None:
        from lpack.inputs.git import changes

        found = changes(project.root, since)
        changed = Changed(found.paths, _units_at(project, found))
    manifest = read_manifest(project.dist)
    real = functools.lru_cache(maxsize=None)(Path.resolve)  # the project's paths, resolved once for all units
    return [_state(plan(project, unit, runtime, architecture), manifest, changed, real) for unit in units or project.units]


class Changed(NamedTuple):
    paths: frozenset[Path]  # what git says changed
    units_before: dict[str, Unit] | None  # the configuration's units as REF had them; None: not compared


def _units_at(project: Project, found: Any) -> dict[str, Unit] | None:
    """The units of the project's lpack.toml / [tool.lpack] as the merge base had them, when that
    file changed: a unit whose parsed settings are the same there did not change by it. None when
    they cannot be compared (a template, a configuration lpack cannot read there): then any change
    to the file counts for every unit. Empty when the project-wide settings changed (dist,
    installer, follow-links) or the file is new: every unit counts as changed."""
    from lpack.core.compat import tomllib
    from lpack.core.errors import LpackError
    from lpack.inputs.config import project_from_table
    from lpack.inputs.git import file_at

    config = project.config_path
    if config is None or config.resolve() not in found.paths:
        return None
    text = file_at(found, config)
    if text is None:
        return {}
    if config.name not in ("lpack.toml", "pyproject.toml"):
        return _template_units_at(config, text)
    try:
        data = tomllib.loads(text)
        tool = data.get("tool")
        table = data if config.name == "lpack.toml" else tool.get("lpack") if isinstance(tool, dict) else None
        if not isinstance(table, dict):
            return {}
        before = project_from_table(config, project.root, table)
    except (LpackError, ValueError, RecursionError):  # TOMLDecodeError is a ValueError
        return None
    if (before.dist, before.installer, before.follow_links) != (project.dist, project.installer, project.follow_links):
        return {}
    return {unit.name: unit for unit in before.units}


def _template_units_at(config: Path, text: str) -> dict[str, Unit] | None:
    """A SAM/CloudFormation template's or a serverless.yml's units as ``text`` (the file at REF)
    makes them, their settings' template lines left out (an edit above a function moves them and
    changes nothing of it); None when lpack cannot read it there."""
    from lpack.core.errors import LpackError
    from lpack.inputs.template.project import template_units

    try:
        units = template_units(config, text)
    except (LpackError, ValueError, RecursionError):
        return None
    return None if units is None else {unit.name: _without_lines(unit) for unit in units}


def _without_lines(unit: Unit) -> Unit:
    settings = unit.settings
    return unit._replace(settings=settings._replace(features=settings.features._replace(lines={})))


def _state(unit_plan: Plan, manifest: dict[str, dict[str, Any]], changed: Changed | None,
           real: Callable[[Path], Path] = Path.resolve) -> UnitState:
    unit, target, artifact = unit_plan.unit, unit_plan.target, unit_plan.artifact
    built_here = unit_plan.built_here and unit.settings.features.not_here() is None
    walked = list(unit_plan.source_files(real=real)) if built_here else []  # walked once, for both uses
    digest = inputs_digest(unit_plan, walked) if built_here else None
    recorded = manifest.get(unit.name, {})
    on_disk = artifact.is_file()
    current = on_disk and digest is not None and recorded.get("inputs_sha256") == digest
    why: list[str] = []
    is_changed: bool | None = None
    if changed is not None and built_here:
        why = _changes(unit_plan, changed, real, walked)
        if recorded and recorded.get("lpack_version") != __version__:
            why.append(f"built by lpack {recorded.get('lpack_version')}, this is lpack {__version__}")
        is_changed = bool(why)
        if not is_changed and not on_disk:
            why.append(f"unchanged, but dist/ has no {artifact.name}")
        elif not is_changed and recorded and not current:
            why.append(f"unchanged, but {artifact.name} is not from its current inputs (lpack-manifest.json)")
    return UnitState(unit.name, unit.kind, target.runtime.name, target.architecture, unit.source, artifact,
                     built_here, digest, current, is_changed, tuple(why), needs_build=bool(why))


class Inputs(NamedTuple):
    """What a unit is built from, as resolved paths: a change to one of ``files``, under one of
    ``folders``, or a deleted file under one of ``deleted_under`` (it has no file left to match)
    changes the unit; a change to its configuration file (``config``) does when its settings there
    changed (see `_units_at`)."""

    files: frozenset[Path]
    folders: tuple[Path, ...]
    deleted_under: tuple[Path, ...]
    config: frozenset[Path]

    def hits(self, changed: Iterable[Path]) -> list[Path]:
        return sorted(p for p in changed if p in self.files or p in self.config or _under(p, self.folders)
                      or (not p.exists() and _under(p, self.deleted_under)))


def _under(path: Path, folders: Iterable[Path]) -> bool:
    return any(f == path or f in path.parents for f in folders)


def _changes(unit_plan: Plan, changed: Changed, real: Callable[[Path], Path] = Path.resolve,
             walked: list[tuple[str, Path]] | None = None) -> list[str]:
    inputs = unit_inputs(unit_plan, real, walked)
    hits = inputs.hits(changed.paths)
    root = real(unit_plan.project.root)
    why = []
    configs = [p for p in hits if p in inputs.config and p not in inputs.files]
    before = changed.units_before
    if configs and before is None:
        why.append(f"its configuration changed: {', '.join(_relative(p, root) or '' for p in configs)}")
    elif configs and before is not None and before.get(unit_plan.unit.name) not in (unit_plan.unit, _without_lines(unit_plan.unit)):
        why.append(f"its settings in {_relative(configs[0], root)} changed")
    others = [p for p in hits if p not in configs]
    if others:
        listed = ", ".join(_relative(p, root) or "" for p in others[:3])
        why.append(f"its inputs changed: {listed}{f' and {len(others) - 3} more' if len(others) > 3 else ''}")
    return why


def unit_inputs(unit_plan: Plan, real: Callable[[Path], Path] = Path.resolve,
                walked: list[tuple[str, Path]] | None = None) -> Inputs:
    """The files and folders a unit is built from (see the module's doc); ``real`` resolves
    paths (a memo shared by all units), ``walked`` is the unit's source walk when already done."""
    from lpack.core import select

    project, unit = unit_plan.project, unit_plan.unit
    config = {real(p) for p in (project.config_path,) if p is not None}
    files: set[Path] = set()
    if unit.runtime is None:  # the project's Python settings may choose the runtime
        files |= {real(project.root / name) for name in (".python-version", "pyproject.toml")}
    folders: list[Path] = []
    deleted_under: tuple[Path, ...] = ()
    if unit.source is not None:
        if is_python_project(unit.source):
            folders.append(real(unit.source))
        else:  # its packaged files are its source walk
            excludes = select.spec(unit.exclude)
            packaged = unit_plan.packaged_files(real) if walked is None else walked
            files |= {real(path) for rel, path in packaged if not excludes.match_file(rel)}
            deleted_under = (real(packaged_root(unit.source)),)
    dep_files, dep_folders = _dependency_inputs(unit_plan, real)
    return Inputs(frozenset(files | dep_files), (*folders, *dep_folders), deleted_under, frozenset(config))


def _dependency_inputs(unit_plan: Plan, real: Callable[[Path], Path] = Path.resolve) -> tuple[set[Path], list[Path]]:
    unit = unit_plan.unit
    files = {real(p) for p in (unit.requirements, unit.lock, unit.manifest) if p is not None}
    folders: list[Path] = []
    if unit.requirements is not None and unit.requirements.is_file():
        from lpack.inputs.requirements_file import read_requirements

        reqs = read_requirements(unit.requirements)
        files |= {real(p) for p in reqs.files}
        folders += [real(p) for p in (*reqs.local_paths, *reqs.local_projects)]
    if unit.lock is not None and unit.lock.is_file():
        from lpack.inputs.declared import manifest_of, read_lock

        files |= {p.resolve() for p in (manifest_of(unit.lock),) if p is not None}
        folders += [local.path.resolve() for local in read_lock(unit.lock, unit_plan.target, unit.selection).local
                    if unit.source is None or local.path.resolve() != unit.source.resolve()]
    return files, folders


def render_json(states: Sequence[UnitState], root: Path, since: str | None) -> str:
    document = {
        "version": PLAN_VERSION, "tool": {"name": "lpack", "version": __version__},
        "changed_since": since, "units": [s.as_dict(root) for s in states],
    }
    return json.dumps(document, indent=2)


def render_text(states: Sequence[UnitState], root: Path, since: str | None) -> str:
    lines = []
    for s in states:
        if not s.built_here:
            lines.append(f"{s.name} ({s.kind}): not built by lpack")
            continue
        state = "current" if s.current else ("built, not current" if s.artifact.is_file() else "not built")
        if s.changed is not None:
            state += f"; {'changed' if s.changed else 'unchanged'} since {since}"
        lines.append(f"{s.name} ({s.kind}, {s.runtime} {s.architecture}): {_relative(s.artifact, root)} {state}")
        lines.append(f"  inputs sha256 {s.inputs_sha256}")
        lines += [f"  {w}" for w in s.why]
    return "\n".join(lines) + "\n"


def _relative(path: Path | None, root: Path) -> str | None:
    if path is None:
        return None
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def plan_project(path: Path, config: Path | None, functions: Sequence[str] = (), runtime: str | None = None,
                 architecture: str | None = None, since: str | None = None, fmt: str = "text") -> str:
    """`lpack plan`: the project at ``path`` (a folder, its config, a template), rendered."""
    from lpack.inputs.detect import load

    project = load(path, config)[0]
    units = [project.unit(name) for name in functions] or None
    states = unit_states(project, units, runtime, architecture, since)
    render = render_json if fmt == "json" else render_text
    return render(states, project.root, since)
