"""Regenerate ``lpack/iam/data/passes_role.json``: the AWS SDK operations that can hand a role to
the service they call, so that the service acts with it.

Usage: ``python scripts/make_passes_role_data.py --date 2026-12-05`` (with the pinned botocore).

Passing a role needs ``iam:PassRole`` on it besides the operation's own action (IAM user guide,
"Granting a user permissions to pass a role to an AWS service"). Source: botocore's service models
(``service-2.json``, Apache-2.0, the copy the Lambda Python runtime ships): an operation is listed
when its input holds, at any depth, a string member named ``...RoleArn``/``...RoleARN`` (or a list
of them), or a string member named ``...Role`` its documentation calls an ARN or an IAM role. STS and IAM are left out: their role ARNs name the role to assume or manage, not one to
pass. Output: ``{"generated", "source", "operations": {botocore service: [Operation, ...]}}``,
sorted, so that rerunning it gives the same bytes.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent.parent / "lpack" / "iam" / "data" / "passes_role.json"
ROLE_MEMBER = re.compile(r"role_?arns?$", re.IGNORECASE)
NOT_PASSED = {"sts", "iam"}


def passes_role(shapes: dict[str, Any], name: str, seen: set[str]) -> bool:
    """Whether the shape ``name`` holds a role ARN member, at any depth."""
    if name in seen:
        return False
    seen.add(name)
    shape = shapes.get(name, {})
    kind = shape.get("type")
    if kind == "structure":
        for member, spec in shape.get("members", {}).items():
            target = spec.get("shape", "")
            target_type = shapes.get(target, {}).get("type")
            if ROLE_MEMBER.search(member) and (target_type == "string" or target_type == "list"):
                return True
            doc = spec.get("documentation", "")
            if member.endswith("Role") and target_type == "string" and ("ARN" in doc or "IAM role" in doc):
                return True  # Lambda's CreateFunction Role ("the ARN of ..."), MediaConvert's ("the IAM role ...")
            if passes_role(shapes, target, seen):
                return True
    elif kind == "list":
        return passes_role(shapes, shape.get("member", {}).get("shape", ""), seen)
    elif kind == "map":
        return passes_role(shapes, shape.get("value", {}).get("shape", ""), seen)
    return False


def build() -> dict[str, list[str]]:
    from botocore.loaders import Loader

    loader = Loader()
    out: dict[str, list[str]] = {}
    for service in sorted(loader.list_available_services("service-2")):
        if service in NOT_PASSED:
            continue
        model = loader.load_service_model(service, "service-2")
        shapes = model.get("shapes", {})
        found = sorted(op for op, spec in model.get("operations", {}).items()
                       if "input" in spec and passes_role(shapes, spec["input"]["shape"], set()))
        if found:
            out[service] = found
    return out


def main() -> None:
    import botocore

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--date", required=True, help="the snapshot's date, written as `generated`")
    args = parser.parse_args()
    document = {"generated": args.date, "source": f"botocore {botocore.__version__} service models",
                "operations": build()}
    OUT.write_text(json.dumps(document, sort_keys=True, indent=0, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {OUT}: {sum(len(v) for v in document['operations'].values())} operations "
          f"of {len(document['operations'])} services")


if __name__ == "__main__":
    main()
