"""`lpack sbom`: the software bill of materials of exactly what a zip ships; and the packages
`lpack sbom` and `lpack audit` describe.

A TARGET that is a .zip is read as it is (its target from --runtime/--arch, else from the
dist/lpack-manifest.json beside it, else unknown). A project is built first, as `lpack build`
builds it (a zip whose inputs are unchanged is kept, nothing installed): the SBOM describes the
zip that ships, never a lock's set for every platform.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from lpack.core.errors import UsageError
from lpack.core.targets import Target


class Packaged(NamedTuple):
    name: str  # the function or layer
    kind: str  # "function" or "layer"
    path: Path  # its zip
    target: Target | None
    wheel_hashes: Mapping[str, Sequence[str]]  # normalised name -> the sha256 its lock lists
    recorded: Mapping[str, Any]  # its dist/lpack-manifest.json entry ({} when none)


def packages(path: Path, functions: Sequence[str] = (), runtime: str | None = None,
             architecture: str | None = None, config: Path | None = None) -> list[Packaged]:
    """The zips a TARGET names: the .zip itself, or the project's built (or kept) zips."""
    if path.suffix == ".zip" and not path.is_dir():
        if functions:
            raise UsageError(f"{path}: --function names a project's function; a .zip is one package already")
        return [_zip(path, runtime, architecture)]
    return _built(path, functions, runtime, architecture, config)


def _zip(path: Path, runtime: str | None, architecture: str | None) -> Packaged:
    from lpack.bundle.manifest import read_manifest
    from lpack.core.targets import make_target

    if not path.is_file():
        raise UsageError(f"{path}: no such file", tip="give a built .zip, or the project folder to build it")
    recorded = next((e for e in read_manifest(path.parent).values()
                     if (path.parent / str(e.get("path", ""))).resolve() == path.resolve()), {})
    runtime = runtime or recorded.get("runtime")
    architecture = architecture or recorded.get("architecture")
    target = make_target(runtime, architecture, where=str(path)) if runtime else None
    return Packaged(str(recorded.get("name") or path.stem), str(recorded.get("kind") or "function"), path, target,
                    _hashes(recorded), recorded)


def _built(path: Path, functions: Sequence[str], runtime: str | None, architecture: str | None,
           config: Path | None) -> list[Packaged]:
    from lpack.bundle.builder import BuildOptions
    from lpack.bundle.manifest import read_manifest
    from lpack.commands.build import build_changed, load_project

    options = BuildOptions(runtime=runtime, architecture=architecture, functions=tuple(functions))
    project = load_project(path, None, config, options)
    result = build_changed(project, options, None)
    if result.failures:
        raise result.failures[0][1]
    recorded = read_manifest(project.dist)
    return [Packaged(a.name, a.kind, a.path, a.target, _hashes(recorded.get(a.name, {})), recorded.get(a.name, {}))
            for a in result.artifacts]


def _hashes(entry: Mapping[str, Any]) -> dict[str, list[str]]:
    from lpack.analysis.shipped import normalized

    return {normalized(str(d.get("name", ""))): list(d.get("hashes") or []) for d in entry.get("dependencies") or []
            if isinstance(d, dict)}


def sbom(path: Path, fmt: str, functions: Sequence[str] = (), runtime: str | None = None,
         architecture: str | None = None, config: Path | None = None) -> str:
    """The SBOM document (JSON text) of the one package TARGET names."""
    from lpack.bundle.sbom import describe, render

    found = packages(path, functions, runtime, architecture, config)
    if len(found) != 1:
        names = ", ".join(p.name for p in found)
        raise UsageError(f"{path}: builds {len(found)} packages ({names}); an SBOM describes one",
                         tip="name one with --function NAME, or write one beside each zip: lpack build --sbom")
    one = found[0]
    return render(describe(one.path, one.name, one.kind, one.target, one.wheel_hashes), fmt)


def attest(built: Sequence[Any], dist: Path, sbom_format: str | None, provenance: bool,
           parameters: Mapping[str, Any]) -> list[str]:
    """`lpack build --sbom/--provenance`: write each built zip's SBOM and provenance beside it
    (what dist/lpack-manifest.json records about it is what the provenance states); the lines
    saying what was written."""
    from lpack.analysis.package import display_path
    from lpack.bundle.manifest import read_manifest
    from lpack.bundle.sbom import describe, write_sbom

    wrote: list[str] = []
    recorded = read_manifest(dist)
    for artifact in built:
        entry = recorded.get(artifact.name, {})
        if sbom_format is not None:
            described = describe(artifact.path, artifact.name, artifact.kind, artifact.target, _hashes(entry))
            wrote.append(display_path(write_sbom(described, artifact.path, sbom_format)))
        if provenance and entry:
            from lpack.bundle.provenance import write_provenance

            wrote.append(display_path(write_provenance(artifact.path, entry, parameters)))
    return wrote
