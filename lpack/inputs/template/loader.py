"""Reading a template's YAML or JSON with the line of every key and item.

Mappings become ``Located`` and sequences ``LocatedList``, each knowing its lines, so a finding can
point at the template's line. CloudFormation's short-form tags (``!Ref X``, ``!GetAtt X.Attr`` ...)
read as the long form (``{"Ref": "X"}``, ``{"Fn::GetAtt": [...]}``); dates stay text.

Hostile input is refused before anything walks it: YAML aliases may repeat at most
``ALIAS_BUDGET`` nodes (CloudFormation documents no aliases, but ``sam deploy`` and
``aws cloudformation package`` flatten them, so templates that use a few anchors do deploy),
nesting stops at ``MAX_DEPTH``, and a value a tag cannot convert (``!!int abc``, a 5,000-digit
integer) is an error at its line.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lpack.core.errors import ConfigError

TEMPLATE_SUFFIXES = (".yaml", ".yml", ".json", ".template")
TEMPLATE_NAMES = ("template.yaml", "template.yml", "template.json")
SERVERLESS_NAMES = ("serverless.yml", "serverless.yaml", "serverless.json")  # lpack.inputs.template.serverless
SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
ALIAS_BUDGET = 100_000  # nodes that aliases may add beyond the ones written out
MAX_DEPTH = 100  # levels of nesting; real templates stay under 20
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

    for scalar_tag in ("bool", "int", "float"):
        loader_class.add_constructor(f"tag:yaml.org,2002:{scalar_tag}",
                                     _converting(yaml.SafeLoader.yaml_constructors[f"tag:yaml.org,2002:{scalar_tag}"]))
    loader_class.add_constructor("tag:yaml.org,2002:map", mapping)
    loader_class.add_constructor("tag:yaml.org,2002:seq", sequence)
    loader_class.add_constructor("tag:yaml.org,2002:timestamp", timestamp)
    loader_class.add_multi_constructor("!", intrinsic)
    return loader_class


def _converting(construct: Any) -> Any:
    """A scalar constructor whose conversion errors (``!!bool maybe``, an integer over Python's
    4,300-digit limit) are YAML errors at the value's line."""
    def checked(loader: Any, node: Any) -> object:
        import yaml  # type: ignore[import-untyped, unused-ignore]

        try:
            return construct(loader, node)
        except (ValueError, KeyError, TypeError) as exc:
            problem = f"{node.tag.rsplit(':', 1)[-1]} value {str(node.value)[:40]!r} cannot be read"
            raise yaml.constructor.ConstructorError(None, None, problem, node.start_mark) from exc
    return checked


def _parse_yaml(text: str, path: Path) -> object:
    import yaml  # type: ignore[import-untyped, unused-ignore]

    try:
        loader = _yaml_loader()(text)  # a SafeLoader subclass; its reader refuses control characters here
    except yaml.YAMLError as exc:
        raise _not_yaml(exc, text, path) from exc
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_nodes(node, path)
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise _not_yaml(exc, text, path) from exc
    except RecursionError as exc:
        raise _too_deep(path) from exc
    finally:
        loader.dispose()


def _not_yaml(exc: Exception, text: str, path: Path) -> ConfigError:
    mark = getattr(exc, "problem_mark", None)
    position = getattr(exc, "position", None)  # a ReaderError's: a character YAML does not allow
    line = mark.line + 1 if mark is not None else text.count("\n", 0, position) + 1 if position is not None else None
    where = f" (line {line})" if line is not None else ""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return ConfigError(f"{path}: not valid YAML{where}: {problem}")


def _too_deep(path: Path) -> ConfigError:
    return ConfigError(f"{path}: nested more than {MAX_DEPTH} levels deep; a template is not nested like that, "
                       "so check the file is the one you meant")


def _check_nodes(root: Any, path: Path) -> None:
    """Refuse what would blow up every walker: nesting past MAX_DEPTH, an alias that contains
    itself, or aliases that repeat more than ALIAS_BUDGET nodes. Shared nodes are sized once."""
    sizes: dict[int, int] = {}

    def size(node: Any, depth: int) -> int:
        if id(node) in sizes:
            if sizes[id(node)] < 0:
                raise ConfigError(f"{path}: line {node.start_mark.line + 1}: a YAML alias refers to a node that "
                                  "contains it; write the value out")
            return sizes[id(node)]
        if depth > MAX_DEPTH:
            raise _too_deep(path)
        sizes[id(node)] = -1
        children = node.value if isinstance(node.value, list) else []
        items = [part for child in children for part in (child if isinstance(child, tuple) else (child,))]
        sizes[id(node)] = 1 + sum(size(item, depth + 1) for item in items)
        if sizes[id(node)] - len(sizes) > ALIAS_BUDGET:
            raise ConfigError(f"{path}: line {node.start_mark.line + 1}: YAML aliases expand to more than "
                              f"{ALIAS_BUDGET:,} values; CloudFormation does not accept aliases, so write "
                              "the repeated values out (or share them with Globals or a parameter)")
        return sizes[id(node)]

    size(root, 0)


def _parse_json(text: str, path: Path) -> object:
    from lpack.iam.policy import key_lines

    try:
        data = json.loads(text)
    except RecursionError as exc:
        raise _too_deep(path) from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not valid JSON: {exc}") from exc
    except ValueError as exc:  # an integer over Python's 4,300-digit limit
        raise ConfigError(f"{path}: not valid JSON: a number has more than 4,300 digits") from exc
    try:
        return _locate(data, "", key_lines(text), 1)
    except RecursionError as exc:
        raise _too_deep(path) from exc


def _locate(value: object, path: str, lines: Mapping[str, int], line: int, depth: int = 0) -> object:
    """JSON data as Located/LocatedList, lines from ``key_lines`` (JSON paths)."""
    if depth > MAX_DEPTH:
        raise RecursionError
    if isinstance(value, dict):
        out = Located(line)
        for key, item in value.items():
            here = f"{path}.{key}" if path else key
            out.lines[key] = lines.get(here, line)
            out[key] = _locate(item, here, lines, out.lines[key], depth + 1)
        return out
    if isinstance(value, list):
        seq = LocatedList(line)
        for i, item in enumerate(value):
            seq.lines.append(lines.get(f"{path}[{i}]", line))
            seq.append(_locate(item, f"{path}[{i}]", lines, seq.lines[-1], depth + 1))
        return seq
    return value


def read_template(path: Path) -> Located | None:
    """The template's data, or None when the file is YAML/JSON but not a CloudFormation template."""
    data = read_data(path)
    return data if isinstance(data, Located) and is_template(data) else None


def read_data(path: Path) -> object:
    """A YAML or JSON file's data (JSON by its suffix), each table's keys with their lines."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text") from exc
    return parse_text(text, path)


def parse_text(text: str, path: Path) -> object:
    """``text`` as the file at ``path`` holds it: JSON by its suffix, else YAML."""
    if path.suffix == ".json" or (path.suffix == ".template" and text.lstrip().startswith("{")):
        return _parse_json(text, path)
    return _parse_yaml(text, path)


def is_template(data: Mapping[Any, Any]) -> bool:
    """A CloudFormation template: a format version, the SAM transform, or resources of AWS types."""
    transform = data.get("Transform")
    transforms = transform if isinstance(transform, list) else [transform]
    resources = data.get("Resources")
    typed = isinstance(resources, dict) and any(
        isinstance(r, dict) and str(r.get("Type", "")).startswith("AWS::") for r in resources.values())
    return "AWSTemplateFormatVersion" in data or SAM_TRANSFORM in transforms or typed


def looks_like_template(path: Path) -> bool:
    """Cheap: is ``path`` a template file by name or content? (For dispatching `lpack check PATH`.)
    A Serverless Framework service's serverless.yml is read as one (lpack.inputs.template.serverless)."""
    if path.suffix not in TEMPLATE_SUFFIXES or not path.is_file():
        return False
    if path.name in SERVERLESS_NAMES:
        return True
    if path.suffix != ".json":
        return True
    try:
        head = path.read_text(encoding="utf-8-sig")[:100_000]
    except (OSError, UnicodeDecodeError):
        return False
    return any(marker in head for marker in ('"AWSTemplateFormatVersion"', '"Resources"', SAM_TRANSFORM))


def find_template(folder: Path) -> Path | None:
    """The folder's template.yaml (or .yml, .json), else its Serverless Framework service
    (serverless.yml), else the stack template of the CDK cloud assembly it is (cdk.out) or holds
    (a CDK app's folder)."""
    for name in (*TEMPLATE_NAMES, *SERVERLESS_NAMES):
        if (folder / name).is_file():
            return folder / name
    from lpack.inputs.template.assembly import assembly_template
    from lpack.inputs.template.serverless import refuse_serverless_program

    found = assembly_template(folder)
    if found is None:
        refuse_serverless_program(folder)
    return found
