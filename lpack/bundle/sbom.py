"""A package's software bill of materials: what one built zip ships, read from the zip itself,
described as CycloneDX 1.6 JSON (``sbom_cyclonedx``) or SPDX 2.3 JSON (``sbom_spdx``).

``describe`` gathers what both formats say: the distributions in the zip (their ``*.dist-info``:
name, version, licence, files with their RECORD sha256, Requires-Dist between them), the
function's own files (no distribution owns them), the target, the wheel sha256 the unit's lock
lists (from dist/lpack-manifest.json), and the packages the Lambda runtime provides that the
code uses without shipping them (boto3, botocore ...: ``RUNTIME_PROVIDED``).

Reproducible: the same zip gives the same bytes. The serial number / namespace is derived from
the zip's sha256; the one timestamp is SOURCE_DATE_EPOCH when set, else the newest time the zip's
entries carry (for a zip lpack built, the same SOURCE_DATE_EPOCH, or 1980-01-01).

Files are named as Syft and ``cyclonedx-py`` users expect beside an artifact:
``dist/NAME.cdx.json`` and ``dist/NAME.spdx.json``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

from lpack.analysis.import_paths import RUNTIME_PROVIDED
from lpack.analysis.package import PackageReader, read_package
from lpack.analysis.shipped import (
    Contents,
    dependency_graph,
    imported_names,
    read_contents,
    requirements,
)
from lpack.core.errors import LpackError
from lpack.core.targets import Target

FORMATS = {"cyclonedx": ".cdx.json", "spdx": ".spdx.json"}
EXTRA_TIP = "pip install 'lpack-lambda[sbom]'"
# Import names of RUNTIME_PROVIDED whose project is named otherwise on PyPI.
_PROJECTS = {"dateutil": "python-dateutil", "snapshot_restore_py": "snapshot-restore-py"}
_NAMESPACE = uuid.UUID("6b0f2a4e-5c1d-4d8e-9a57-2f3c8e1d0b61")  # lpack's: serial numbers are uuid5 in it


class Described(NamedTuple):
    name: str  # the function or layer
    kind: str  # "function" or "layer"
    zip_name: str  # "orders.zip"
    zip_sha256: str
    contents: Contents
    target: Target | None  # None: a zip given without --runtime/--arch and no manifest that knows it
    graph: Mapping[str, Sequence[str]]  # distribution key -> the shipped ones it requires
    provided: tuple[str, ...]  # runtime-provided projects the code or its libraries use, not shipped
    wheel_hashes: Mapping[str, Sequence[str]]  # distribution key -> the sha256 its lock lists
    own_sha256: Mapping[str, str]  # the own files' sha256
    created: dt.datetime

    @property
    def serial(self) -> uuid.UUID:
        return uuid.uuid5(_NAMESPACE, self.zip_sha256)

    def wheel_sha256(self, key: str) -> str:
        """The sha256 of the wheel a distribution was installed from, when the lock lists
        exactly one for it (several: one per platform, and which one was used is not recorded)."""
        found = self.wheel_hashes.get(key, ())
        return found[0] if len(found) == 1 else ""


def describe(path: Path, name: str, kind: str, target: Target | None,
             wheel_hashes: Mapping[str, Sequence[str]] | None = None) -> Described:
    """Read a package .zip into what its SBOM says."""
    index = read_package(path)
    reader = PackageReader(index)
    try:
        contents = read_contents(index, reader)
        own = [e for e in contents.own if not e.symlink]
        own_sha256 = dict(zip((e.name for e in own), reader.map(lambda data: hashlib.sha256(data).hexdigest(),
                                                                [e.name for e in own])))
        python, machine = (target.runtime.python, target.machine) if target else ((3, 12), "x86_64")
        graph = dependency_graph(contents.distributions, python, machine)
        provided = _provided(contents, reader)
    finally:
        reader.close()
    return Described(name, kind, path.name, file_sha256(path), contents, target, graph, provided,
                     wheel_hashes or {}, own_sha256, created(path))


def _provided(contents: Contents, reader: PackageReader) -> tuple[str, ...]:
    """The runtime-provided projects that the own code imports or a shipped distribution requires,
    and the package does not ship."""
    shipped = {d.key for d in contents.distributions}
    projects = {_PROJECTS.get(n, n).replace("_", "-") for n in RUNTIME_PROVIDED}
    used = {_PROJECTS.get(n, n).replace("_", "-") for n in imported_names(reader, contents.own) & RUNTIME_PROVIDED}
    used |= {r.name for d in contents.distributions for r in requirements(d) if not r.extra and r.name in projects}
    return tuple(sorted(used - shipped))


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            while block := handle.read(1 << 20):
                digest.update(block)
    except OSError as exc:
        raise LpackError(f"{path}: cannot read: {exc.strerror}") from exc
    return digest.hexdigest()


def created(path: Path) -> dt.datetime:
    """SOURCE_DATE_EPOCH when set, else the newest time the zip's entries carry (UTC)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch:
        try:
            return dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc)
        except (ValueError, OverflowError, OSError):
            raise LpackError(f"SOURCE_DATE_EPOCH={epoch!r} is not a whole number of seconds since 1970",
                             tip="unset it, or set it to e.g. $(git log -1 --format=%ct)") from None
    import zipfile

    with zipfile.ZipFile(path) as zf:
        newest = max((i.date_time for i in zf.infolist()), default=(1980, 1, 1, 0, 0, 0))
    return dt.datetime(*newest, tzinfo=dt.timezone.utc)


def runtime_label(target: Target | None) -> str:
    return target.runtime.name if target else "a Lambda Python runtime"


def render(described: Described, fmt: str) -> str:
    """The SBOM document in ``fmt`` (``cyclonedx`` or ``spdx``) as JSON text."""
    if fmt == "spdx":
        from lpack.bundle.sbom_spdx import render_spdx

        return render_spdx(described)
    from lpack.bundle.sbom_cyclonedx import render_cyclonedx

    return render_cyclonedx(described)


def sbom_path(zip_path: Path, fmt: str) -> Path:
    """Where ``lpack build --sbom`` writes a zip's SBOM: ``dist/NAME.cdx.json`` or ``dist/NAME.spdx.json``."""
    return zip_path.with_name(zip_path.name.removesuffix(".zip") + FORMATS[fmt])


def write_sbom(described: Described, zip_path: Path, fmt: str) -> Path:
    from lpack.core.files import atomic_write_text

    path = sbom_path(zip_path, fmt)
    atomic_write_text(path, render(described, fmt), tip=f"{path.parent} must be a folder you can write to")
    return path
