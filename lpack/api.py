"""lpack as a library, for the deploy tools that call it from Python (the CDK's ``lpack.cdk``).

Two questions a deploy tool asks of one function's folder, for one target:

- `package_digest`: what the package will be built from, as a sha256, *without building it*: a
  deploy tool keys its asset on it, so an unchanged function keeps its key and is not rebuilt or
  uploaded again;
- `build_package`: build it (as `lpack build --function NAME` does) and return the zip, refusing
  a package with error-severity findings.

Both start from the same plan, so they agree on the target, the source files and the lock.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from lpack import __version__
from lpack.core.errors import BuildError, ConfigError
from lpack.core.findings import Finding, Severity
from lpack.inputs.config import Project, Unit
from lpack.plan import Plan, plan

Progress = Callable[[str, str], None]


class Package(NamedTuple):
    """A function's zip as lpack built it, and what it was built for."""

    name: str
    path: Path
    runtime: str  # "python3.13"
    architecture: str  # "x86_64" or "arm64"
    sha256: str
    findings: tuple[Finding, ...]  # the warnings and notes on it (errors refuse the build)


def function_plan(path: Path | str, *, function: str | None = None, runtime: str | None = None,
                  architecture: str | None = None, handler: str | None = None,
                  config: Path | str | None = None) -> Plan:
    """The plan of one function of the project at ``path`` (a folder, or its pyproject.toml /
    lpack.toml): ``function`` names it, and may be left out when the project has one.
    ``runtime``/``architecture``/``handler`` win over the configuration, as on the command line;
    with ``handler``, a folder without any lpack configuration is a function too (the deploy
    tool's template names its handler: ``app.handler`` in ``app.py``)."""
    from lpack.inputs.detect import has_lpack_project, load

    path = Path(path)
    if handler and config is None and path.is_dir() and not has_lpack_project(path):
        from lpack.inputs.config import project_from_table

        project = project_from_table(None, path, {"handler": handler})  # zero config, with the deploy tool's handler
    else:
        project = load(path, Path(config) if config is not None else None)[0]
    unit = _function(project, function)
    return plan(project, unit._replace(handler=handler) if handler else unit, runtime, architecture)


def package_digest(unit_plan: Plan) -> str:
    """sha256 (hex) of what the plan's package is built from: the source files as packaged, the
    dependency declaration (the lock), the settings that shape the zip, the target, and lpack's
    version (a new lpack may write other bytes). Contents, not modification times."""
    from lpack.bundle.builder import inputs_digest

    record = f"lpack {__version__}\0{inputs_digest(unit_plan)}"
    return hashlib.sha256(record.encode()).hexdigest()


def build_package(unit_plan: Plan, *, dist: Path | str | None = None, cache_dir: Path | None = None,
                  progress: Progress | None = None) -> Package:
    """Build the plan's function into ``dist/NAME.zip`` (default: the project's dist/); error
    findings on it (the handler missing, native code for another machine, over a limit) raise
    BuildError, after the project's ``select``/``ignore``."""
    from lpack.bundle.builder import BuildOptions, build_project
    from lpack.core.decide import filter_findings

    project = unit_plan.project if dist is None else unit_plan.project._replace(dist=Path(dist))
    target = unit_plan.target
    options = BuildOptions(runtime=target.runtime.name, architecture=target.architecture,
                           functions=(unit_plan.unit.name,), cache_dir=cache_dir)
    result = build_project(project, options, progress or (lambda _u, _m: None))
    findings = filter_findings(result.findings, project.select, project.ignore, project.per_path_ignores)
    errors = [f for f in findings if f.severity is Severity.ERROR]
    if not result.artifacts:  # a runtime Lambda no longer creates, a prebuilt zip, an image
        why = "; ".join(f"{f.code} {f.message}" for f in errors) or "it has no code to package here"
        raise BuildError(f"{unit_plan.where}: nothing built: {why}")
    artifact = result.artifacts[0]
    if errors:
        listed = "; ".join(f"{f.code} {f.message}" for f in errors)
        raise BuildError(f"{unit_plan.where}: {artifact.path} has errors: {listed}",
                         tip=f"run `lpack build {project.root} --function {artifact.name}` to see them in full")
    return Package(artifact.name, artifact.path, target.runtime.name, target.architecture, artifact.sha256,
                   tuple(findings))


def _function(project: Project, name: str | None) -> Unit:
    functions = [u for u in project.units if u.kind == "function"]
    if name is not None:
        unit = project.unit(name)
        if unit.kind != "function":
            raise ConfigError(f"{project.describe()}: {name!r} is a layer, not a function")
        return unit
    if len(functions) != 1:
        names = ", ".join(u.name for u in functions) or "none"
        raise ConfigError(f"{project.describe()}: name the function to package; this project has: {names}")
    return functions[0]
