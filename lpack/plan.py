"""Project -> one plan per function or layer: the one place that decides what ships.

Every command starts from a unit's plan, so the same project gets the same answer everywhere:
the target (the command line's, else the configuration's, else the default), the artifact
(``dist/NAME.zip``, or a template's already built zip), the layers' artifacts, and the source
files as they will be packaged — without the build inputs (locks, manifests, requirements) and,
for a source folder that is itself a Python project, from where its wheel takes its packages.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from fnmatch import fnmatchcase
from pathlib import Path
from typing import NamedTuple

from lpack.core.errors import ConfigError
from lpack.core.targets import Target, make_target
from lpack.inputs.config import Project, Unit


class Plan(NamedTuple):
    project: Project
    unit: Unit
    target: Target
    target_defaulted: bool  # nothing chose it: not the command line, the configuration or the project's Python
    target_source: str = ""  # where the runtime came from: "--runtime", "pyproject.toml [tool.lpack]", ...
    target_passed_over: tuple[str, ...] = ()  # the project's Python settings that did not decide it, and why

    @property
    def where(self) -> str:
        """How messages name the unit: its configuration file and table."""
        return f"{self.project.describe()} [{self.unit.where}]"

    @property
    def artifact(self) -> Path:
        """The zip that is (or will be) the unit's package; one lpack builds stays in dist/."""
        if self.unit.settings.package is not None:
            return self.unit.settings.package
        path = self.project.dist / f"{self.unit.name}.zip"
        if path.parent != self.project.dist or "\0" in self.unit.name:
            raise ConfigError(f"{self.where}: the name {self.unit.name!r} would put its zip outside "
                              f"{self.project.dist}; name functions and layers with letters, digits, '-' and '_'")
        return path

    @property
    def built_here(self) -> bool:
        """lpack builds the artifact (a template may name one already built)."""
        return self.unit.settings.package is None

    def layer_artifacts(self) -> dict[str, Path]:
        """The project's own layers this unit uses, by name, and their zips (ARNs are not built here)."""
        return {name: self.project.dist / f"{name}.zip" for name in self.unit.layers if not name.startswith("arn:")}

    def source_files(self, left_out: list[str] | None = None,
                     real: Callable[[Path], Path] = Path.resolve) -> Iterator[tuple[str, Path]]:
        """The unit's own files as a source walk packages them (not a Python project's wheel),
        before the user's excludes: (path in the package, file). The files that do not run on
        Lambda and ``include`` does not bring back are appended to ``left_out``; ``real``
        resolves the project's folders and build inputs (`select.walk`)."""
        if self.unit.source is not None:
            yield from self._walk(self.unit.source, left_out, real)

    def packaged_files(self, real: Callable[[Path], Path] = Path.resolve) -> Iterator[tuple[str, Path]]:
        """The unit's own files as they will be in the package, before the user's excludes: for a
        Python project, the packages its wheel ships (its src/, else its root)."""
        if self.unit.source is not None:
            yield from self._walk(packaged_root(self.unit.source), real=real)

    def _walk(self, root: Path, left_out: list[str] | None = None,
              real: Callable[[Path], Path] = Path.resolve) -> Iterator[tuple[str, Path]]:
        from lpack.core import select

        runtime_only = select.RuntimeOnly(select.spec(self.unit.include), keep=_handler_files(self.unit.handler))
        matcher: select.Matcher = runtime_only
        if self.unit.source_patterns:  # relative to the project's folder (a Serverless service's)
            here, base = root.absolute(), self.project.root.absolute()
            prefix = here.relative_to(base).as_posix() + "/" if here != base and here.is_relative_to(base) else ""
            matcher = select.SourcePatterns(select.spec(self.unit.source_patterns), runtime_only, prefix)
        yield from select.walk(root, matcher, skip=build_inputs(self.project, self.unit),
                               within=(self.project.root, *self.project.follow_links), real=real)
        if left_out is not None:
            left_out += runtime_only.left_out


def plan(project: Project, unit: Unit, runtime: str | None = None, architecture: str | None = None) -> Plan:
    """The unit's plan; ``runtime``/``architecture`` from the command line win over the config,
    which wins over the project's ``.python-version`` and ``requires-python``."""
    where = f"{project.describe()} [{unit.where}]"
    passed_over: tuple[str, ...] = ()
    if runtime or unit.runtime:
        chosen, source = runtime or unit.runtime, _configured(project, runtime)
    else:
        from lpack.core import clock
        from lpack.inputs.python_version import project_runtime

        chosen, source, passed_over = project_runtime(project.root, clock.today())
    target = make_target(chosen, architecture or unit.architecture, where=where)
    return Plan(project, unit, target, target_defaulted=chosen is None, target_source=source,
                target_passed_over=passed_over)


def _configured(project: Project, runtime: str | None) -> str:
    """Where a configured runtime was written: the command line, or the configuration's file."""
    if runtime:
        return "--runtime"
    if project.config_path is None:
        return "the configuration"
    name = project.config_path.name
    return f"{name} [tool.lpack]" if name == "pyproject.toml" else name


# Files that say how to build the function, not what it runs: never shipped from a source root
# (with the tools' project-local settings: `pdm config --local`, `pdm use`, `poetry config --local`).
BUILD_INPUTS = ("uv.lock", "poetry.lock", "pdm.lock", "Pipfile", "Pipfile.lock", "pyproject.toml",
                "lpack.toml", "requirements.txt", "requirements.in", ".python-version",
                "pdm.toml", ".pdm-python", "poetry.toml")


def build_inputs(project: Project, unit: Unit) -> list[Path]:
    """The files and folders the source walk skips: the dist folder, lpack's configuration, and
    the build inputs at the project's and the source's root (locks, manifests, requirements)."""
    assert unit.source is not None
    skip = [project.dist, *(p for p in (project.config_path, unit.dependencies) if p)]
    if unit.requirements is not None:
        skip.append(unit.requirements.with_suffix(".in"))  # what `lpack lock` locks it from
    for folder in dict.fromkeys([project.root, unit.source]):  # one listing each: what is not there skips nothing
        skip += [folder / name for name in _names(folder) if _build_input(name)]
    return skip


def _names(folder: Path) -> list[str]:
    try:
        return os.listdir(folder)
    except OSError:
        return []


@functools.lru_cache(maxsize=1024)  # 200 functions of one project list the same names at its root
def _build_input(name: str) -> bool:
    return name in BUILD_INPUTS or any(fnmatchcase(name, pattern) for pattern in _BUILD_INPUT_PATTERNS)


_BUILD_INPUT_PATTERNS = ("pylock*.toml", "requirements*.txt", "requirements*.in")


def _handler_files(handler: str | None) -> tuple[str, ...]:
    """The files the handler's module can be: they ship even when named like a test."""
    if not handler or "." not in handler:
        return ()
    module = handler.rpartition(".")[0].replace(".", "/")
    return f"{module}.py", f"{module}/__init__.py"


def packaged_root(source: Path) -> Path:
    """Where a source folder's code is as it will be packaged: a Python project built into a wheel
    ships its packages from ``src/`` when it has the src layout, else from its root."""
    if is_python_project(source) and (source / "src").is_dir():
        return source / "src"
    return source


def is_python_project(source: Path) -> bool:
    pyproject = source / "pyproject.toml"
    if not pyproject.is_file():
        return False
    from lpack.core.compat import tomllib

    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{pyproject}: invalid TOML: {exc}") from exc
    poetry = data.get("tool", {}).get("poetry") if isinstance(data.get("tool"), dict) else None
    # Poetry 1's projects name themselves in [tool.poetry] only; `package-mode = false` is no package
    poetry_package = isinstance(poetry, dict) and "name" in poetry and poetry.get("package-mode", True) is not False
    return ("project" in data or poetry_package) and "build-system" in data
