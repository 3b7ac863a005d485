"""Regenerate lpack's offline map of AWS SDK operations, ``lpack/iam/data/operations.dat``.

Usage: ``python scripts/make_operation_data.py`` (in an environment with the pinned boto3/botocore).

Source: the service models botocore ships (``botocore/data/SERVICE/VERSION/service-2.json``: the
operation names and ``metadata.signingName``/``endpointPrefix``, ``waiters-2.json``: which
operation each waiter polls) and boto3's resource models (``boto3/data/SERVICE/VERSION/
resources-1.json``: what ``boto3.resource("dynamodb").Table(name).put_item`` sends). Both are
Apache-2.0; the Lambda Python runtime ships the same two packages, so the names are the ones a
handler calls. The IAM prefix of a service is its ``signingName`` (``stepfunctions`` signs as
``states``), else its ``endpointPrefix``, kept only when lpack's IAM action database
(``lpack/iam/data/actions.dat``) knows it; ``PREFIX_OVERRIDES`` names the few where neither is right.

Output (deterministic: sorted keys, compact separators, zlib level 9), read like the action data:
one line of JSON, ``{"generated", "source", "renamed": {Operation: method}, "services": {botocore
name: [offset, length]}}``, then each service's record as zlib-compressed JSON at ``offset`` bytes
after that line: ``{"prefix": iam prefix, "operations": [Operation, ...], "waiters": {waiter_name:
Operation}, "resources": {type: {"actions": {snake_name: Operation}, "has": {Name: type}, "many":
{snake_name: [Operation, type]}, "batch": {snake_name: Operation}, "ids": [identifier, ...],
"load": Operation}}}`` where the service resource is the type ``""``. ``renamed`` lists the
operations whose boto3 method name is not what ``lpack.iam.operations.snake`` makes of it
(botocore's special cases). A check decodes only the services its code calls: parsing all 432
took ~100 ms.
``generated`` is the date given with ``--date`` (the snapshot in the repo: botocore and boto3
1.44.18, taken 2026-12-05), not the day the script runs, so that rerunning it gives the same bytes.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import zlib
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent.parent / "lpack" / "iam" / "data" / "operations.dat"
# botocore service -> IAM prefix, where the signing name is not the IAM prefix.
PREFIX_OVERRIDES = {
    "apigatewaymanagementapi": "execute-api",
    "sesv2": "ses",
    "dynamodbstreams": "dynamodb",
    "s3control": "s3",
    "elbv2": "elasticloadbalancing",
    "mediastore-data": "mediastore",
    "iot-data": "iot",
}


def snake(name: str) -> str:
    """boto3's ``xform_name``: ``PutItem`` -> ``put_item``, ``ListObjectsV2`` -> ``list_objects_v2``."""
    from botocore import xform_name

    return str(xform_name(name))


def _prefix(service: str, metadata: dict[str, Any], known: set[str]) -> str | None:
    if service in PREFIX_OVERRIDES:
        return PREFIX_OVERRIDES[service]
    for candidate in (metadata.get("signingName"), metadata.get("endpointPrefix"), service):
        if isinstance(candidate, str) and candidate.lower() in known:
            return candidate.lower()
    return None


def _resource_type(raw: dict[str, Any]) -> dict[str, Any]:
    def operation(item: dict[str, Any]) -> str:
        return str(item["request"]["operation"])

    out: dict[str, Any] = {
        "actions": {snake(n): operation(a) for n, a in raw.get("actions", {}).items()},
        "has": {n: h["resource"]["type"] for n, h in raw.get("has", {}).items()},
        "many": {snake(n): [operation(m), m["resource"]["type"]] for n, m in raw.get("hasMany", {}).items()},
        "batch": {snake(n): operation(b) for n, b in raw.get("batchActions", {}).items()},
        "ids": [i["name"] for i in raw.get("identifiers", [])],
    }
    if "load" in raw:
        out["load"] = operation(raw["load"])
    return {k: v for k, v in out.items() if v}


def build(known: set[str]) -> dict[str, Any]:
    import boto3
    import botocore
    from botocore.exceptions import DataNotFoundError
    from botocore.loaders import Loader

    from lpack.iam.operations import snake as own_snake

    loader = Loader()
    renamed: dict[str, str] = {}  # where botocore's special cases (WhatsApp, OTel) differ from the rule
    services: dict[str, Any] = {}
    waiters: dict[str, Any] = {}
    for name in sorted(loader.list_available_services("service-2")):
        model = loader.load_service_model(name, "service-2")
        prefix = _prefix(name, model["metadata"], known)
        if prefix is None:
            continue
        services[name] = [prefix, sorted(model["operations"])]
        for op in model["operations"]:
            if snake(op) != own_snake(op):
                renamed[op] = snake(op)
        try:
            waiter_model = loader.load_service_model(name, "waiters-2")
        except DataNotFoundError:  # most services have no waiters
            continue
        waiters[name] = {snake(w): spec["operation"] for w, spec in sorted(waiter_model["waiters"].items())}
    resources: dict[str, Any] = {}
    boto3_data = Path(boto3.__file__).parent / "data"
    for folder in sorted(boto3_data.iterdir()):
        latest = max(folder.iterdir()) / "resources-1.json"
        raw = json.loads(latest.read_text(encoding="utf-8"))
        types = {"": _resource_type(raw["service"])}
        types.update({t: _resource_type(spec) for t, spec in raw["resources"].items()})
        resources[folder.name] = types
    return {"source": f"botocore {botocore.__version__}, boto3 {boto3.__version__}",
            "services": services, "waiters": waiters, "resources": resources, "renamed": renamed}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--date", required=True, help="the date the snapshot stands for (YYYY-MM-DD)")
    args = parser.parse_args(argv)
    if not re.fullmatch(r"\d{4}-\d\d-\d\d", args.date):
        parser.error("--date takes YYYY-MM-DD")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from lpack.iam.actions import database

    data = build({p.lower() for p in database().prefixes})
    records, index, offset = [], {}, 0
    for name, (prefix, operations) in sorted(data["services"].items()):
        record = {"prefix": prefix, "operations": operations, "waiters": data["waiters"].get(name, {}),
                  "resources": data["resources"].get(name, {})}
        blob = zlib.compress(json.dumps(record, sort_keys=True, separators=(",", ":")).encode(), 9)
        records.append(blob)
        index[name] = [offset, len(blob)]
        offset += len(blob)
    head = {"generated": args.date, "source": data["source"], "renamed": data["renamed"], "services": index}
    tmp = OUT.with_suffix(".tmp")
    tmp.write_bytes(json.dumps(head, sort_keys=True, separators=(",", ":")).encode() + b"\n" + b"".join(records))
    tmp.replace(OUT)
    ops = sum(len(ops) for _prefix, ops in data["services"].values())
    print(f"{OUT}: {len(index)} services, {ops} operations, {OUT.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
