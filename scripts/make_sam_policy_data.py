"""Regenerate lpack's offline copy of SAM's policy templates, ``lpack/iam/data/sam_policy_templates.json``.

Usage: ``python scripts/make_sam_policy_data.py`` (with ``aws-sam-translator`` importable; the
snapshot in the repo: aws-sam-translator 1.110.0, read 2026-12-05).

Source: ``samtranslator/policy_templates_data/policy_templates.json`` in the ``aws-sam-translator``
package (Apache-2.0), the file SAM expands ``Policies: - DynamoDBCrudPolicy: {TableName: ...}``
from when it makes a function's role. Each template's statements are kept with their resources
as text: ``!Sub`` of a parameter (``${tableName}`` bound to ``!Ref TableName``) becomes
``${TableName}``, CloudFormation's pseudo parameters stay ``${AWS::Region}``. A template whose
statements use anything else (``!If``, ``!Join``, conditions) is left out: lpack then says it
cannot read the role (LP572), as before.

Output (deterministic: sorted keys): ``{"generated", "source", "templates": {Name: {"parameters":
[Param, ...], "statements": [{"Effect", "Action", "Resource"}, ...]}}}``.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent.parent / "lpack" / "iam" / "data" / "sam_policy_templates.json"


class Unreadable(Exception):
    pass


def text(value: Any) -> str:
    """A Resource (or Action) value as text with ``${Param}`` placeholders."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and list(value) == ["Ref"] and isinstance(value["Ref"], str):
        return "${" + value["Ref"] + "}"
    if isinstance(value, dict) and list(value) == ["Fn::Sub"]:
        arg = value["Fn::Sub"]
        template, names = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
        bound = {name: text(v) for name, v in names.items()}
        return re.sub(r"\$\{([^}!]*)\}", lambda m: bound.get(m.group(1), m.group(0)), template)
    raise Unreadable(json.dumps(value)[:80])


def statements(definition: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for st in definition["Statement"]:
        if set(st) - {"Effect", "Action", "Resource", "Sid"}:
            raise Unreadable(f"statement keys {sorted(st)}")
        resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        out.append({"Effect": st["Effect"], "Action": [text(a) for a in actions],
                    "Resource": [text(r) for r in resources]})
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--date", required=True, help="the day the package was read (YYYY-MM-DD)")
    args = parser.parse_args(argv)
    import samtranslator

    source = Path(samtranslator.__file__).parent / "policy_templates_data" / "policy_templates.json"
    raw = json.loads(source.read_text(encoding="utf-8"))["Templates"]
    templates, skipped = {}, []
    for name, spec in sorted(raw.items()):
        try:
            templates[name] = {"parameters": sorted(spec.get("Parameters", {})),
                               "statements": statements(spec["Definition"])}
        except (Unreadable, KeyError, TypeError):
            skipped.append(name)
    data = {"generated": args.date, "source": f"aws-sam-translator {samtranslator.__version__}",
            "templates": templates}
    tmp = OUT.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, sort_keys=True, indent=1) + "\n", encoding="utf-8")
    tmp.replace(OUT)
    print(f"{OUT}: {len(templates)} templates; left out {len(skipped)}: {', '.join(skipped)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
