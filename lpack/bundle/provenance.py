"""``lpack build --provenance``: an in-toto Statement (v1) with a SLSA Provenance v1 predicate for
each built zip, written beside it as ``dist/NAME.provenance.json``.

- ``subject``: the zip's file name and sha256 (what a deployment compares).
- ``buildDefinition.buildType``: ``BUILD_TYPE``, documented in docs/supply-chain.md.
- ``externalParameters``: what the user chose: the function or layer, its kind, the target
  (runtime and architecture) and the build options given on the command line.
- ``internalParameters``: what lpack derived: the inputs digest (the sha256 of the unit's source
  files as packaged, its lock, its settings and lpack's version, as dist/lpack-manifest.json
  records it) and SOURCE_DATE_EPOCH, which sets the zip's timestamps.
- ``resolvedDependencies``: each distribution in the zip as ``pkg:pypi/NAME@VERSION``, with the
  wheel's sha256 where the lock lists exactly one (several, one per platform: listed as
  ``annotations.lock_sha256``, since which one was installed is not recorded).
- ``runDetails.builder``: lpack, with its version.

Reproducible: no clock is read (no ``startedOn``/``finishedOn``), keys are sorted, and no
absolute path appears, so the same inputs give the same bytes on any machine. Unsigned: signing
is the CI's (Sigstore's cosign, GitHub artifact attestations: docs/ci.md).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lpack import __version__

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://slsa.dev/provenance/v1"
BUILD_TYPE = "https://pypi.org/project/lpack-lambda/#lpack-build-v1"
BUILDER_ID = "https://pypi.org/project/lpack-lambda/"
SUFFIX = ".provenance.json"


def statement(zip_name: str, entry: Mapping[str, Any], parameters: Mapping[str, Any]) -> dict[str, Any]:
    """The statement about the zip that the manifest ``entry`` records, built with ``parameters``
    (the command line's options that shape it)."""
    external = {"name": entry["name"], "kind": entry.get("kind", "function"), "runtime": entry.get("runtime"),
                "architecture": entry.get("architecture"),
                **{k: v for k, v in sorted(parameters.items()) if v not in (None, False, (), [])}}
    internal = {"inputs_sha256": entry.get("inputs_sha256", ""),
                "source_date_epoch": os.environ.get("SOURCE_DATE_EPOCH") or None}
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": zip_name, "digest": {"sha256": entry["sha256"]}}],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "buildDefinition": {"buildType": BUILD_TYPE, "externalParameters": external,
                                "internalParameters": internal,
                                "resolvedDependencies": [_dependency(d) for d in entry.get("dependencies") or []]},
            "runDetails": {"builder": {"id": BUILDER_ID, "version": {"lpack": str(entry.get("lpack_version") or __version__)}}},
        },
    }


def _dependency(dep: Mapping[str, Any]) -> dict[str, Any]:
    from lpack.analysis.shipped import normalized

    found = {"name": dep["name"], "uri": f"pkg:pypi/{normalized(dep['name'])}@{dep['version']}"}
    hashes = list(dep.get("hashes") or [])
    if len(hashes) == 1:
        found["digest"] = {"sha256": hashes[0]}
    elif hashes:
        found["annotations"] = {"lock_sha256": hashes}
    return found


def render(document: Mapping[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def provenance_path(zip_path: Path) -> Path:
    return zip_path.with_name(zip_path.name.removesuffix(".zip") + SUFFIX)


def write_provenance(zip_path: Path, entry: Mapping[str, Any], parameters: Mapping[str, Any]) -> Path:
    from lpack.core.files import atomic_write_text

    path = provenance_path(zip_path)
    atomic_write_text(path, render(statement(zip_path.name, entry, parameters)),
                      tip=f"{path.parent} must be a folder you can write to")
    return path
