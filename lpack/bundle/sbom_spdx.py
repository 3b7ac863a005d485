"""A package's SBOM as SPDX 2.3 JSON (https://spdx.github.io/spdx-spec/v2.3/), written with the
standard library and tested against SPDX's own JSON schema.

- The document DESCRIBES one package: the function's (or layer's) own code, its checksum the
  zip's sha256, the target in its comment.
- Each ``*.dist-info`` is a package: name, ``versionInfo``, a ``purl`` external reference,
  ``licenseDeclared`` (an SPDX expression, or a ``LicenseRef-`` with the metadata's words in
  ``hasExtractedLicensingInfos``, else NOASSERTION), the wheel's SHA256 where the lock lists
  exactly one. Relationships: the root CONTAINS each; Requires-Dist edges inside the zip are
  DEPENDS_ON.
- The runtime-provided packages the code uses without shipping them are packages related by
  PROVIDED_DEPENDENCY_OF (SPDX: "a dependency provided by the runtime environment"), with no
  version.
- Files are not listed (``filesAnalyzed: false``): SPDX 2.3 requires a SHA1 for every file and
  RECORD gives only sha256; the CycloneDX form lists every file with its sha256.
"""

from __future__ import annotations

import json
import re
from typing import Any

from lpack import __version__
from lpack.analysis.licenses import licence
from lpack.analysis.shipped import Distribution
from lpack.bundle.sbom import Described, runtime_label

NOASSERTION = "NOASSERTION"


def render_spdx(d: Described) -> str:
    root_id = _id("Root", d.name)
    packages = [_root(d, root_id)]
    relationships = [_rel("SPDXRef-DOCUMENT", "DESCRIBES", root_id)]
    extracted: dict[str, str] = {}
    ids = {dist.key: _id("Package", f"{dist.root}{dist.key}") for dist in d.contents.distributions}
    for dist in d.contents.distributions:
        packages.append(_package(d, dist, ids[dist.key], extracted))
        relationships.append(_rel(root_id, "CONTAINS", ids[dist.key]))
        relationships += [_rel(ids[dist.key], "DEPENDS_ON", ids[c]) for c in d.graph.get(dist.key, ())]
    for name in d.provided:
        ref = _id("Runtime", name)
        packages.append({"SPDXID": ref, "name": name, "downloadLocation": NOASSERTION, "filesAnalyzed": False,
                         "licenseConcluded": NOASSERTION, "licenseDeclared": NOASSERTION, "copyrightText": NOASSERTION,
                         "primaryPackagePurpose": "LIBRARY",
                         "externalRefs": [_purl(f"pkg:pypi/{name}")],
                         "comment": f"provided by the AWS Lambda runtime ({runtime_label(d.target)}), not in {d.zip_name}"})
        relationships.append(_rel(ref, "PROVIDED_DEPENDENCY_OF", root_id))
    document: dict[str, Any] = {
        "spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT",
        "name": f"{d.name} ({d.zip_name})",
        "documentNamespace": f"https://pypi.org/project/lpack-lambda/spdx/{d.name}-{d.zip_sha256}",
        "creationInfo": {"created": d.created.strftime("%Y-%m-%dT%H:%M:%SZ"), "creators": [f"Tool: lpack-{__version__}"]},
        "packages": packages, "relationships": relationships,
    }
    if extracted:
        document["hasExtractedLicensingInfos"] = [
            {"licenseId": ref, "name": name, "extractedText": name} for ref, name in sorted(extracted.items())]
    return json.dumps(document, indent=2) + "\n"


def _root(d: Described, root_id: str) -> dict[str, Any]:
    target = f"{d.target.runtime.name} {d.target.architecture}" if d.target else "target unknown"
    return {"SPDXID": root_id, "name": d.name, "packageFileName": d.zip_name, "downloadLocation": NOASSERTION,
            "filesAnalyzed": False, "licenseConcluded": NOASSERTION, "licenseDeclared": NOASSERTION,
            "copyrightText": NOASSERTION, "primaryPackagePurpose": "APPLICATION",
            "checksums": [{"algorithm": "SHA256", "checksumValue": d.zip_sha256}],
            "comment": f"AWS Lambda {d.kind} package for {target}; files of its own: {len(d.contents.own)}"}


def _package(d: Described, dist: Distribution, ref: str, extracted: dict[str, str]) -> dict[str, Any]:
    found: dict[str, Any] = {
        "SPDXID": ref, "name": dist.name, "versionInfo": dist.version, "downloadLocation": NOASSERTION,
        "filesAnalyzed": False, "licenseConcluded": NOASSERTION, "licenseDeclared": _declared(dist, extracted),
        "copyrightText": NOASSERTION, "primaryPackagePurpose": "LIBRARY", "externalRefs": [_purl(dist.purl)],
        "comment": f"installed in {dist.root or 'the package root'}: {dist.root}{dist.folder}",
    }
    wheel = d.wheel_sha256(dist.key)
    if wheel:
        found["checksums"] = [{"algorithm": "SHA256", "checksumValue": wheel}]
    if dist.summary:
        found["summary"] = dist.summary
    return found


def _declared(dist: Distribution, extracted: dict[str, str]) -> str:
    stated = licence(dist.license_expression, dist.license, dist.classifiers)
    if stated.expression and _looks_spdx(stated.expression):
        return stated.expression
    name = stated.expression or stated.name
    if not name:
        return NOASSERTION
    ref = "LicenseRef-" + (re.sub(r"[^A-Za-z0-9.-]+", "-", name).strip("-") or "unnamed")
    extracted[ref] = name
    return ref


def _looks_spdx(expression: str) -> bool:
    """An expression of SPDX-shaped identifiers joined by AND/OR/WITH and parentheses (the words an
    SPDX parser accepts; whether each id is on the licence list is the consumer's to check)."""
    words = re.findall(r"[^\s()]+", expression)
    return bool(words) and all(re.fullmatch(r"(AND|OR|WITH|[A-Za-z0-9.-]+\+?|LicenseRef-[A-Za-z0-9.-]+)", w)
                               for w in words)


def _purl(locator: str) -> dict[str, str]:
    return {"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": locator}


def _rel(element: str, kind: str, related: str) -> dict[str, str]:
    return {"spdxElementId": element, "relationshipType": kind, "relatedSpdxElement": related}


def _id(kind: str, name: str) -> str:
    return f"SPDXRef-{kind}-" + re.sub(r"[^A-Za-z0-9.-]+", "-", name).strip("-")
