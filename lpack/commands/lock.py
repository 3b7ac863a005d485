"""`lpack lock`: pin requirements.in to a requirements.txt with hashes, resolved for the target.

pip-tools' layout: a function's or layer's ``requirements.txt`` is the lock and the
``requirements.in`` beside it is what the user edits. uv resolves with the target's platform and
Python version, so environment markers are evaluated for Lambda, not for this machine, and with
binary wheels only, so the lock never pins something that cannot be installed there. The lock's
first lines record the targets and the sha256 of the input, which the ``lock-out-of-date`` rule
compares with the input's current bytes (a git checkout makes modification times meaningless).
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from lpack.core.errors import ResolveError, UsageError
from lpack.core.targets import Target
from lpack.inputs.config import Project, Unit
from lpack.inputs.lpack_lock import GENERATED, input_sha256, lock_state
from lpack.plan import plan

Progress = Callable[[str, str], None]

_PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==(?P<version>\S+)")
# Option lines of the input copied to the lock, so `lpack build` (and pip) install from the same
# places. Copied as written: `${TOKEN}` stays unexpanded and relative paths stay relative.
_NOT_COPIED = ("-r", "--requirement", "-c", "--constraint", "-e", "--editable", "--hash")


class LockOptions(NamedTuple):
    runtime: str | None = None
    architecture: str | None = None
    functions: tuple[str, ...] = ()
    upgrade: bool = False
    upgrade_packages: tuple[str, ...] = ()
    format: str | None = None  # "requirements.txt" or "pylock.toml"; None: what the unit has, else requirements.txt


class LockResult(NamedTuple):
    input: Path
    output: Path
    target: str  # the targets it was resolved for, e.g. "python3.12 arm64"
    packages: int
    changed: bool  # the lock's bytes differ from what was there before


class _Job(NamedTuple):
    input: Path
    output: Path
    targets: dict[Target, list[str]]  # target -> the units that use the input with it
    groups: tuple[str, ...] = ()  # a pyproject input's dependency groups and extras to lock too
    extras: tuple[str, ...] = ()

    @property
    def pylock(self) -> bool:
        return self.output.suffix == ".toml"


def lock_project(project: Project, options: LockOptions, progress: Progress = lambda _u, _m: None) -> list[LockResult]:
    """Resolve every selected unit's requirements.in for its target and write requirements.txt.
    Everything is resolved before anything is written: a failure leaves every lock as it was."""
    jobs = _jobs(project, options)
    if not jobs:
        raise UsageError(f"{project.describe()}: nothing to lock; write the dependencies in requirements.in "
                         "beside the function (or the layer's requirements file) and run `lpack lock`")
    uv = _uv()
    resolved = [(job, _resolve(uv, job, options, progress)) for job in jobs]
    return [_write(job, text) for job, text in resolved]


# -- what to lock ------------------------------------------------------------------------------------

def _jobs(project: Project, options: LockOptions) -> list[_Job]:
    units = [project.unit(name) for name in options.functions] if options.functions else list(project.units)
    jobs: dict[Path, _Job] = {}
    for unit in units:
        paths = _paths(project, unit, options.format)
        if paths is None:
            continue
        source, output = paths
        target = plan(project, unit, options.runtime, options.architecture).target
        job = jobs.setdefault(source, _Job(source, output, {}, unit.selection.groups, unit.selection.extras))
        job.targets.setdefault(target, []).append(unit.name)
    return list(jobs.values())


def _output_name(fmt: str | None, current: Path | None) -> str:
    if fmt is not None:
        return fmt
    return "pylock.toml" if current is not None and current.suffix == ".toml" else "requirements.txt"


def _paths(project: Project, unit: Unit, fmt: str | None = None) -> tuple[Path, Path] | None:
    """(input, output) for a unit, None when it has no dependencies to lock."""
    if unit.manifest is not None:  # [project].dependencies, not locked yet
        return unit.manifest, unit.manifest.parent / _output_name(fmt, None)
    for written in (unit.lock, unit.requirements):
        state = lock_state(written) if written is not None else None
        if state is not None and written is not None:  # a lock lpack wrote: from the input it names
            return state.input, written.with_name(_output_name(fmt, written))
    if unit.lock is not None:
        from lpack.inputs.declared import lock_kind

        tool = {"uv.lock": "uv lock", "poetry.lock": "poetry lock", "pdm.lock": "pdm lock",
                "Pipfile.lock": "pipenv lock"}.get(lock_kind(unit.lock), "the tool that wrote it")
        raise UsageError(f"{unit.lock}: this lock belongs to its own tool; update it with `{tool}` "
                         "(lpack installs what it pins for the target, as it is)")
    output = unit.requirements
    if output is None:
        own_layers = [name for name in unit.layers if not name.startswith("arn:")]
        if unit.kind != "function" or unit.source is None or own_layers:
            return None
        output = unit.source / "requirements.txt"  # zero config, before the first lock
    if output.suffix == ".in":
        raise UsageError(f"{project.describe()} [{unit.where}]: requirements points at the input {output.name}; "
                         f"point it at the lock, {output.with_suffix('.txt').name}, and run `lpack lock`")
    source = output.with_suffix(".in")
    if source.is_file():
        return source, output.with_name(_output_name(fmt, output)) if fmt else output
    if not output.is_file():
        return None
    raise UsageError(
        f"{output}: hand-written requirements and no {source.name} beside it; move the loose requirements "
        f"to {source.name} and run `lpack lock`, which writes {output.name} pinned with hashes",
    )


# -- resolving ---------------------------------------------------------------------------------------

def _uv() -> str:
    from lpack.bundle.installer import find_installer

    installer = find_installer("uv")  # raises UsageError when uv is missing
    return installer.command[0]


def _resolve(uv: str, job: _Job, options: LockOptions, progress: Progress) -> str:
    """The lock's text. Every target the input is used with must resolve to the same pins."""
    if job.input.name != "pyproject.toml":  # its -r/-c chain read as build reads it: one clear line when broken
        from lpack.inputs.requirements_file import read_requirements

        read_requirements(job.input)
    bodies: dict[Target, str] = {}
    for target, names in job.targets.items():
        progress(", ".join(names), f"locking {job.input.name} for {target.label}")
        bodies[target] = _compile(uv, job, target, options)
    first, *others = bodies
    for other in others:
        if _pins(bodies[other]) != _pins(bodies[first]):
            raise ResolveError(_divergence(job, first, other, bodies))
    options_text = "" if job.pylock else "".join(line + "\n" for line in _option_lines(job))
    return _header(job, list(bodies)) + options_text + bodies[first]


def _compile(uv: str, job: _Job, target: Target, options: LockOptions) -> str:
    """Run ``uv pip compile`` into a scratch copy of the lock beside it: uv keeps the pins it finds
    there (its preferences) unless told to upgrade, and relative paths in it still resolve."""
    from lpack.bundle import pipconfig

    # uv infers pylock's format from the name, which must be pylock.<name>.toml
    scratch = job.output.parent / (f"pylock.lpack-{os.getpid()}-tmp.toml" if job.pylock
                                   else f".{job.output.name}.lpack-{os.getpid()}.tmp")
    try:
        if job.output.is_file():
            scratch.write_bytes(job.output.read_bytes())
        uv_options, uv_environment = pipconfig.as_uv()  # credentials in the environment, not in `ps`
        cmd = [uv, "pip", "compile", os.path.relpath(job.input, job.input.parent), "-o", str(scratch),
               "--generate-hashes", "--no-header", "--quiet", "--no-progress", "--no-python-downloads",
               "--python-platform", target.uv_platform(), "--python-version", target.runtime.python_version,
               "--only-binary", ":all:", *uv_options]
        if job.pylock:
            cmd += ["--format", "pylock.toml"]
        for group in job.groups:
            cmd += ["--group", group]
        for extra in job.extras:
            cmd += ["--extra", extra]
        if job.input.name == "pyproject.toml":
            cmd += [part for option in _pyproject_index_options(job) for part in option.split(" ", 1)]
        if options.upgrade:
            cmd.append("--upgrade")
        for name in options.upgrade_packages:
            cmd += ["--upgrade-package", name]
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=job.input.parent,
                              env={**os.environ, **uv_environment, "UV_NO_PROGRESS": "1"}, check=False)
        if done.returncode:
            raise _failure(job, target, done.stderr + done.stdout)
        return _relative_annotations(scratch.read_text(encoding="utf-8"), scratch)
    finally:
        scratch.unlink(missing_ok=True)


def _relative_annotations(body: str, scratch: Path) -> str:
    # uv names the output file in annotations only for itself; nothing else mentions the scratch
    return body.replace(str(scratch), scratch.name)


def _failure(job: _Job, target: Target, output: str) -> ResolveError:
    from lpack.bundle.install import _last_lines, _missing

    missing = _missing(output)
    if missing:
        return ResolveError(
            f"{job.input}: cannot lock for {target.label}: no wheel for {', '.join(sorted(missing))}",
            tip="Lambda installs binary wheels only: pin a version that publishes wheels for this target, "
            "or build the wheel on a matching machine and add it with --find-links",
        )
    return ResolveError(f"{job.input}: uv could not lock it for {target.label}: {_last_lines(output)}")


def _pyproject_index_options(job: _Job) -> list[str]:
    """A pyproject input's uv index settings ([tool.uv] index-url, extra-index-url, find-links,
    no-index, [[tool.uv.index]]) as options, for uv to lock with and the lock to keep: the build
    installs from the lock alone."""
    from lpack.inputs.declared import read_toml

    tool = read_toml(job.input).get("tool", {})
    uv = tool.get("uv", {}) if isinstance(tool, dict) else {}
    if not isinstance(uv, dict):
        return []
    options = [f"--index-url {uv['index-url']}"] if isinstance(uv.get("index-url"), str) else []
    options += [f"--extra-index-url {url}" for url in uv.get("extra-index-url", []) if isinstance(url, str)]
    for index in uv.get("index", []):
        if isinstance(index, dict) and isinstance(index.get("url"), str) and not index.get("explicit"):
            options.append(f"{'--index-url' if index.get('default') else '--extra-index-url'} {index['url']}")
    for link in uv.get("find-links", []):
        if isinstance(link, str):
            options.append(f"--find-links {link if not _relative(link) else (job.input.parent / link).resolve()}")
    if uv.get("no-index") is True:
        options.append("--no-index")
    return options


def _pins(body: str) -> dict[str, str]:
    if body.lstrip().startswith(("lock-version", "#")) and "[[packages]]" in body:
        from lpack.core.compat import tomllib

        data = tomllib.loads(body)
        return {str(p["name"]).lower(): str(p["version"]) for p in data.get("packages", []) if "version" in p}
    pins = {}
    for line in body.splitlines():
        match = _PIN.match(line)
        if match:
            pins[match.group("name").lower()] = match.group("version")
    return pins


def _divergence(job: _Job, first: Target, other: Target, bodies: dict[Target, str]) -> str:
    a, b = _pins(bodies[first]), _pins(bodies[other])
    diff = [f"{name}: {a.get(name, 'absent')} for {first.label}, {b.get(name, 'absent')} for {other.label}"
            for name in sorted(set(a) | set(b)) if a.get(name) != b.get(name)]
    users = ", ".join(job.targets[first] + job.targets[other])
    return (f"{job.input}: {users} use it for different targets, and it locks differently for them "
            f"({'; '.join(diff[:3])}); give each target its own input and lock, e.g. "
            f"requirements-{other.architecture}.in locked to requirements-{other.architecture}.txt")


def _option_lines(job: _Job) -> list[str]:
    """The input's option lines (and its includes'), relative paths made relative to the lock."""
    from lpack.inputs.requirements_file import read_requirements

    lines: list[str] = []
    if job.input.name == "pyproject.toml":
        return _pyproject_index_options(job)
    for path in read_requirements(job.input).files:
        for raw in path.read_text(encoding="utf-8").splitlines():
            parts = raw.split(" #", 1)[0].split()
            if not parts or raw.startswith("#") or not parts[0].startswith("-") or parts[0].split("=")[0] in _NOT_COPIED:
                continue
            if parts[0] in ("-f", "--find-links") and len(parts) > 1 and _relative(parts[1]):
                parts[1] = os.path.relpath(path.parent / parts[1], job.output.parent)
            if " ".join(parts) not in lines:
                lines.append(" ".join(parts))
    return lines


def _relative(location: str) -> bool:
    return "://" not in location and "$" not in location and not os.path.isabs(location)


def _header(job: _Job, targets: list[Target]) -> str:
    described = ", ".join(f"{t.label} ({t.uv_platform()})" for t in targets)
    name = os.path.relpath(job.input, job.output.parent)
    return (f"{GENERATED} for {described}; do not edit.\n"
            f"# input: {name} sha256={input_sha256(job.input)}\n"
            f"# To change the dependencies, edit {name} and run `lpack lock`.\n")


def _write(job: _Job, text: str) -> LockResult:
    from lpack.core.files import atomic_write_text

    data = text.encode("utf-8")
    changed = not job.output.is_file() or job.output.read_bytes() != data
    if changed:
        atomic_write_text(job.output, text)
    label = ", ".join(t.label for t in job.targets)
    return LockResult(job.input, job.output, label, len(_pins(text)), changed)
