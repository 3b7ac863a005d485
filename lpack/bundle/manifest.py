"""``dist/lpack-manifest.json``: what lpack built into dist/, for CI and for `lpack check`.

One entry per zip (schemas/manifest.schema.json): its path (relative to the manifest's folder),
sha256 (hex, and base64 as Terraform's ``source_code_hash`` and CloudFormation compare it), size,
target, the digest of the inputs it was built from (`inputs_digest`, what `check`'s staleness and
`lpack plan` compare), lpack's version, and its dependencies.

The dependencies are read from the zip itself (its top-level ``.dist-info`` folders: name and
version, exactly what was installed); their ``hashes`` are the sha256 values the unit's lock or
requirements file lists for that pin — the installer checked the installed wheel against them, but
which of several (one per platform) it was is not recorded by an install into a folder, so all the
declared ones are listed; empty when the declaration has no hashes (or the package is the
function's own wheel or a local project).

The manifest is deterministic (sorted keys, entries by name, no timestamps) and written whole
(atomically). A build of some units merges with the manifest there: the others' entries stay while
their zip does.
"""

from __future__ import annotations

import base64
import functools
import json
import re
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from lpack import __version__

MANIFEST_NAME = "lpack-manifest.json"
MANIFEST_VERSION = 1


def manifest_path(dist: Path) -> Path:
    return dist / MANIFEST_NAME


def read_manifest(dist: Path) -> dict[str, dict[str, Any]]:
    """The entries of dist/'s manifest by name; none when there is none or it cannot be read (a
    manifest lpack cannot read is rewritten whole by the next build, never trusted)."""
    try:
        path = manifest_path(dist)
        st = path.stat()
        text = path.read_text(encoding="utf-8")
        if path.stat().st_mtime_ns != st.st_mtime_ns:
            raise OSError("changed while read")
        data = _parsed(str(path), st.st_size, st.st_mtime_ns, st.st_ino, text)
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != MANIFEST_VERSION or not isinstance(data.get("artifacts"), list):
        return {}
    return {e["name"]: e for e in data["artifacts"] if isinstance(e, dict) and isinstance(e.get("name"), str)}


@functools.lru_cache(maxsize=8)
def _parsed(_path: str, _size: int, _mtime_ns: int, _inode: int, text: str) -> Any:
    """The manifest's JSON, parsed once per version of the file (`lpack check` asks it per zip)."""
    return json.loads(text)


def render(entries: Iterable[Mapping[str, Any]]) -> str:
    document = {"version": MANIFEST_VERSION, "artifacts": sorted(entries, key=lambda e: str(e["name"]))}
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def write_manifest(dist: Path, built: Iterable[Mapping[str, Any]]) -> Path:
    """Merge ``built`` into dist/'s manifest (replacing their names' entries), drop the entries
    whose zip is gone, and write it atomically (not at all when that changes nothing: a no-op
    build leaves dist/ as it was). Returns its path."""
    from lpack.core.files import atomic_write_text, remove_litter, temporaries

    entries = {name: e for name, e in read_manifest(dist).items() if (dist / str(e.get("path", ""))).is_file()}
    entries.update({str(e["name"]): dict(e) for e in built})
    path = manifest_path(dist)
    text = render(entries.values())
    try:
        if path.read_text(encoding="utf-8") == text:
            remove_litter(temporaries(path))  # a build killed while it wrote the manifest: its half copy goes
            return path
    except (OSError, UnicodeDecodeError):
        pass
    atomic_write_text(path, text,
                      tip=f"{dist} must be a folder you can write to; the zips there are built")
    return path


def entry(artifact: Any, dist: Path, inputs_sha256: str, declared_hashes: Mapping[str, list[str]]) -> dict[str, Any]:
    """The manifest entry of a built ``artifact`` (a builder Artifact)."""
    path = Path(artifact.path)
    return {
        "name": artifact.name, "kind": artifact.kind,
        "path": path.relative_to(dist).as_posix() if path.is_relative_to(dist) else str(path),
        "sha256": artifact.sha256, "sha256_base64": base64.b64encode(bytes.fromhex(artifact.sha256)).decode(),
        "size_bytes": artifact.size_zipped,
        "runtime": artifact.target.runtime.name, "architecture": artifact.target.architecture,
        "inputs_sha256": inputs_sha256, "lpack_version": __version__,
        "dependencies": [{**d, "hashes": declared_hashes.get(_normal(d["name"]), [])}
                         for d in (installed(path) if getattr(artifact, "installed", None) is None else artifact.installed)],
    }


def installed(zip_path: Path) -> list[dict[str, str]]:
    """The distributions in a package: name and version from each top-level ``.dist-info``
    (``python/`` in a layer), by normalised name."""
    found: dict[str, dict[str, str]] = {}
    with zipfile.ZipFile(zip_path) as zf:
        for name in zf.namelist():
            parts = name.removeprefix("python/").split("/")
            if len(parts) == 2 and parts[0].endswith(".dist-info") and parts[1] == "METADATA":
                meta = _metadata(zf.read(name).decode("utf-8", "replace"))
                if "name" in meta and "version" in meta:
                    found[_normal(meta["name"])] = {"name": meta["name"], "version": meta["version"]}
    return [found[k] for k in sorted(found)]


def _metadata(text: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            break  # the body (the long description) starts
        key, sep, value = line.partition(":")
        if sep and key.lower() in ("name", "version") and key.lower() not in fields:
            fields[key.lower()] = value.strip()
    return fields


_PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*(?:==|@)")
_HASH = re.compile(r"--hash[= ]sha256:([0-9a-fA-F]{64})")


def declared_hashes(requirements_text: str) -> dict[str, list[str]]:
    """The sha256 hashes a requirements text (or a lock written as one) lists per pinned name."""
    hashes: dict[str, list[str]] = {}
    for line in requirements_text.replace("\\\n", " ").splitlines():
        pin = _PIN.match(line)
        if pin is not None:
            hashes.setdefault(_normal(pin.group(1)), []).extend(h.lower() for h in _HASH.findall(line))
    return {name: sorted(set(values)) for name, values in hashes.items()}


def unit_hashes(unit_plan: Any) -> dict[str, list[str]]:
    """The hashes the unit's dependency declaration lists: its requirements file, or its lock's
    set for the target; none for a manifest without a lock (nothing pins them)."""
    unit = unit_plan.unit
    try:
        if unit.requirements is not None:
            return declared_hashes(unit.requirements.read_text(encoding="utf-8"))
        if unit.lock is not None:
            from lpack.inputs.declared import read_lock
            from lpack.inputs.requirements import from_lock

            return declared_hashes(from_lock(read_lock(unit.lock, unit_plan.target, unit.selection), own=unit.source))
    except (OSError, UnicodeDecodeError):
        return {}
    return {}


def recorded_inputs(dist: Path, zip_sha256: str) -> list[str] | None:
    """The inputs digests dist/'s manifest records for a zip with these bytes; None when it
    records none."""
    found = [str(e["inputs_sha256"]) for e in read_manifest(dist).values()
             if e.get("sha256") == zip_sha256 and isinstance(e.get("inputs_sha256"), str)]
    return found or None


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
