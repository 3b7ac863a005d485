"""A package's SBOM as CycloneDX 1.6 JSON, made with cyclonedx-python-lib (the ``sbom`` extra).

- ``metadata.component``: the function's (or layer's) own code, type ``application``, with the
  zip's sha256, its own files as ``file`` components and the target as properties
  (``lpack:target:runtime``, ``lpack:target:architecture``).
- one ``library`` component per ``*.dist-info`` in the zip: name, version, purl
  (``pkg:pypi/NAME@VERSION``, the name normalised), licence, the wheel's sha256 where the lock
  lists exactly one (else the lock's candidates as ``lpack:lock:sha256`` properties), and the
  files it owns as ``file`` components with RECORD's sha256.
- the packages the Lambda runtime provides (boto3 ...) that the code uses without shipping them:
  a component with ``scope: excluded`` (not in this artifact: a scanner of this SBOM must not
  report the runtime's copy as the zip's) and the property ``lpack:provided-by`` naming the
  runtime; no version (the runtime's, which AWS updates).
- ``dependencies``: Requires-Dist edges that resolve inside the zip (or to a runtime-provided
  package); the root depends on the distributions nothing else requires.
"""

from __future__ import annotations

from typing import Any

from lpack import __version__
from lpack.analysis.licenses import licence
from lpack.analysis.shipped import Distribution
from lpack.bundle.sbom import EXTRA_TIP, Described, runtime_label
from lpack.core.errors import LpackError


def render_cyclonedx(d: Described) -> str:
    try:
        from cyclonedx.model.bom import Bom, BomMetaData
        from cyclonedx.model.tool import ToolRepository
        from cyclonedx.output.json import JsonV1Dot6
    except ImportError as exc:
        raise LpackError("lpack sbom needs cyclonedx-python-lib, which is not installed: install lpack[sbom]",
                         tip=EXTRA_TIP) from exc
    from cyclonedx.model.component import Component, ComponentType

    root = _root(d)
    libraries = [_library(d, dist) for dist in d.contents.distributions]
    provided = [_provided(d, name) for name in d.provided]
    tools = ToolRepository(components=[Component(type=ComponentType.APPLICATION, name="lpack", version=__version__,
                                                 bom_ref="lpack-tool")])
    bom = Bom(serial_number=d.serial, metadata=BomMetaData(component=root, timestamp=d.created, tools=tools),
              components=[*libraries, *provided])
    refs = {dist.key: lib for dist, lib in zip(d.contents.distributions, libraries)}
    refs.update({f"runtime:{name}": comp for name, comp in zip(d.provided, provided)})
    for key, children in _edges(d).items():
        bom.register_dependency(root if key == "" else refs[key], [refs[c] for c in children])
    return _with_files(JsonV1Dot6(bom).output_as_string(), d)


def _with_files(text: str, d: Described) -> str:
    """The library's document with each component's files added as ``file`` components. The
    library keeps nested components in sorted sets compared field by field: 10,000 files (a
    200 MB package) took it 5 s of CPU, the rest of the document 0.1 s. The objects added here
    are the ones it writes for a file (type, name, bom-ref, hashes), in RECORD's order."""
    import json

    document = json.loads(text)
    owned = {_ref(dist): dist.files for dist in d.contents.distributions}
    for component in document.get("components", []):
        files = owned.get(component.get("bom-ref"))
        if files:
            component["components"] = [_file(f.path, f.sha256) for f in files]
    own = [_file(entry.name, d.own_sha256.get(entry.name, "")) for entry in d.contents.own]
    if own:
        document["metadata"]["component"]["components"] = own
    return json.dumps(document, separators=(",", ":")) + "\n"  # compact: indenting is pure Python, 5x as slow


def _edges(d: Described) -> dict[str, list[str]]:
    """Who requires whom ("" is the root): the dependency graph, plus the runtime-provided packages
    the root's code or a distribution uses."""
    from lpack.analysis.shipped import requirements

    edges = {key: list(children) for key, children in d.graph.items()}
    required = {c for children in d.graph.values() for c in children}
    top = sorted(set(d.graph) - required)
    provided = set(d.provided)
    for dist in d.contents.distributions:
        uses = sorted({f"runtime:{r.name}" for r in requirements(dist) if r.name in provided and not r.extra})
        edges[dist.key] = [*edges.get(dist.key, []), *uses]
    by_dist = {c for dist in d.contents.distributions for c in edges[dist.key] if c.startswith("runtime:")}
    edges[""] = [*top, *(f"runtime:{n}" for n in d.provided if f"runtime:{n}" not in by_dist)]
    return edges


def _root(d: Described) -> Any:
    from cyclonedx.model import HashAlgorithm, HashType, Property
    from cyclonedx.model.component import Component, ComponentType

    properties = [Property(name="lpack:kind", value=d.kind), Property(name="lpack:zip", value=d.zip_name)]
    if d.target is not None:
        properties += [Property(name="lpack:target:runtime", value=d.target.runtime.name),
                       Property(name="lpack:target:architecture", value=d.target.architecture)]
    return Component(type=ComponentType.APPLICATION, name=d.name, bom_ref=f"lpack:{d.kind}:{d.name}",
                     hashes=[HashType(alg=HashAlgorithm.SHA_256, content=d.zip_sha256)], properties=properties)


def _library(d: Described, dist: Distribution) -> Any:
    from cyclonedx.model import HashAlgorithm, HashType, Property
    from cyclonedx.model.component import Component, ComponentType
    from packageurl import PackageURL

    wheel = d.wheel_sha256(dist.key)
    properties = [Property(name="lpack:dist-info", value=f"{dist.root}{dist.folder}")]
    if not wheel:
        properties += [Property(name="lpack:lock:sha256", value=h) for h in d.wheel_hashes.get(dist.key, ())]
    return Component(
        type=ComponentType.LIBRARY, name=dist.name, version=dist.version, bom_ref=_ref(dist),
        purl=PackageURL(type="pypi", name=dist.key, version=dist.version), description=dist.summary or None,
        licenses=_licenses(dist), hashes=[HashType(alg=HashAlgorithm.SHA_256, content=wheel)] if wheel else None,
        properties=properties)


def _ref(dist: Distribution) -> str:
    return dist.purl if not dist.root else f"{dist.purl}?installed-in={dist.root}"


def _licenses(dist: Distribution) -> Any:
    try:  # where cyclonedx-python-lib 11.x keeps it; the old place warns that it moved
        from cyclonedx.contrib.license.factories import LicenseFactory
    except ImportError:  # pragma: no cover - cyclonedx-python-lib 10
        from cyclonedx.factory.license import LicenseFactory  # type: ignore[no-redef,unused-ignore]

    stated = licence(dist.license_expression, dist.license, dist.classifiers)
    if stated.expression:
        try:
            return [LicenseFactory().make_from_string(stated.expression)]
        except ValueError:
            return [LicenseFactory().make_with_name(stated.expression)]
    return [LicenseFactory().make_with_name(stated.name)] if stated.name else None


def _file(path: str, sha256: str) -> dict[str, Any]:
    """A file as the library writes a ``file`` component (its keys in the library's order)."""
    found: dict[str, Any] = {"bom-ref": f"file:{path}"}
    if sha256:
        found["hashes"] = [{"alg": "SHA-256", "content": sha256}]
    return {**found, "name": path, "type": "file"}


def _provided(d: Described, name: str) -> Any:
    from cyclonedx.model import Property
    from cyclonedx.model.component import Component, ComponentScope, ComponentType
    from packageurl import PackageURL

    return Component(type=ComponentType.LIBRARY, name=name, bom_ref=f"runtime:{name}",
                     purl=PackageURL(type="pypi", name=name), scope=ComponentScope.EXCLUDED,
                     properties=[Property(name="lpack:provided-by", value=f"aws-lambda-runtime:{runtime_label(d.target)}")])
