"""Reading a template's YAML or JSON with the line of every key and item.

Mappings become ``Located`` and sequences ``LocatedList``, each knowing its lines, so a finding can
point at the template's line. CloudFormation's short-form tags (``!Ref X``, ``!GetAtt X.Attr`` ...)
read as the long form (``{"Ref": "X"}``, ``{"Fn::GetAtt": [...]}``); dates stay text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lpack.core.errors import ConfigError

TEMPLATE_SUFFIXES = (".yaml", ".yml", ".json", ".template")
TEMPLATE_NAMES = ("template.yaml", "template.yml", "template.json")
SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
_SHORT_TAGS = ("Ref", "Condition", "Sub", "GetAtt", "Join", "If", "Select", "Split", "FindInMap", "ImportValue",
               "GetAZs", "Base64", "Cidr", "Equals", "And", "Or", "Not", "Transform", "Length", "ToJsonString")


class Located(dict[Any, Any]):
    """A mapping read from the template: ``line`` is where it starts, ``lines[key]`` where each key is."""

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.lines: dict[Any, int] = {}

    def line_of(self, key: object) -> int:
        return self.lines.get(key, self.line)


class LocatedList(list[Any]):
    """A sequence read from the template: ``lines[i]`` is the line of item ``i``."""

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.lines: list[int] = []

    def line_of(self, index: int) -> int:
        return self.lines[index] if index < len(self.lines) else self.line


def _yaml_loader() -> Any:
    import yaml  # type: ignore[import-untyped, unused-ignore]

    loader_class: Any = type("TemplateLoader", (yaml.SafeLoader,), {})
    def mapping(loader: Any, node: Any) -> Located:
        loader.flatten_mapping(node)
        out = Located(node.start_mark.line + 1)
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            key = key if isinstance(key, (str, int, float, bool)) or key is None else str(key)
            out[key] = loader.construct_object(value_node, deep=True)
            out.lines[key] = key_node.start_mark.line + 1
        return out

    def sequence(loader: Any, node: Any) -> LocatedList:
        out = LocatedList(node.start_mark.line + 1)
        for item in node.value:
            out.append(loader.construct_object(item, deep=True))
            out.lines.append(item.start_mark.line + 1)
        return out

    def timestamp(loader: Any, node: Any) -> str:
        return str(loader.construct_scalar(node))  # Version: 2012-10-17 is a string to CloudFormation

    def intrinsic(loader: Any, suffix: str, node: Any) -> Located:
        name = suffix.lstrip("!")
        key = name if name in ("Ref", "Condition") else f"Fn::{name}"
        value: Any
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
            if name == "GetAtt" and isinstance(value, str):
                value = LocatedList(node.start_mark.line + 1)
                value.extend(str(loader.construct_scalar(node)).split(".", 1))
        elif isinstance(node, yaml.SequenceNode):
            value = sequence(loader, node)
        else:
            value = mapping(loader, node)
        out = Located(node.start_mark.line + 1)
        out[key] = value
        out.lines[key] = out.line
        return out

    loader_class.add_constructor("tag:yaml.org,2002:map", mapping)
    loader_class.add_constructor("tag:yaml.org,2002:seq", sequence)
    loader_class.add_constructor("tag:yaml.org,2002:timestamp", timestamp)
    loader_class.add_multi_constructor("!", intrinsic)
    return loader_class


def _parse_yaml(text: str, path: Path) -> object:
    import yaml  # type: ignore[import-untyped, unused-ignore]

    try:
        return yaml.load(text, Loader=_yaml_loader())  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{path}: not valid YAML{where}: {problem}") from exc


def _parse_json(text: str, path: Path) -> object:
    from lpack.iam.policy import key_lines

    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ConfigError(f"{path}: not valid JSON: {exc}") from exc
    return _locate(data, "", key_lines(text), 1)


def _locate(value: object, path: str, lines: Mapping[str, int], line: int) -> object:
    """JSON data as Located/LocatedList, lines from ``key_lines`` (JSON paths)."""
    if isinstance(value, dict):
        out = Located(line)
        for key, item in value.items():
            here = f"{path}.{key}" if path else key
            out.lines[key] = lines.get(here, line)
            out[key] = _locate(item, here, lines, out.lines[key])
        return out
    if isinstance(value, list):
        seq = LocatedList(line)
        for i, item in enumerate(value):
            seq.lines.append(lines.get(f"{path}[{i}]", line))
            seq.append(_locate(item, f"{path}[{i}]", lines, seq.lines[-1]))
        return seq
    return value


def read_template(path: Path) -> Located | None:
    """The template's data, or None when the file is YAML/JSON but not a CloudFormation template."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text") from exc
    if path.suffix == ".json" or (path.suffix == ".template" and text.lstrip().startswith("{")):
        data = _parse_json(text, path)
    else:
        data = _parse_yaml(text, path)
    return data if isinstance(data, Located) and is_template(data) else None


def is_template(data: Mapping[Any, Any]) -> bool:
    """A CloudFormation template: a format version, the SAM transform, or resources of AWS types."""
    transform = data.get("Transform")
    transforms = transform if isinstance(transform, list) else [transform]
    resources = data.get("Resources")
    typed = isinstance(resources, dict) and any(
        isinstance(r, dict) and str(r.get("Type", "")).startswith("AWS::") for r in resources.values())
    return "AWSTemplateFormatVersion" in data or SAM_TRANSFORM in transforms or typed


def looks_like_template(path: Path) -> bool:
    """Cheap: is ``path`` a template file by name or content? (For dispatching `lpack check PATH`.)"""
    if path.suffix not in TEMPLATE_SUFFIXES or not path.is_file():
        return False
    if path.suffix != ".json":
        return True
    try:
        head = path.read_text(encoding="utf-8-sig")[:100_000]
    except (OSError, UnicodeDecodeError):
        return False
    return any(marker in head for marker in ('"AWSTemplateFormatVersion"', '"Resources"', SAM_TRANSFORM))


def find_template(folder: Path) -> Path | None:
    for name in TEMPLATE_NAMES:
        if (folder / name).is_file():
            return folder / name
    return None
