"""SAM and CloudFormation templates -> a Project lpack checks and builds, with the template's lines.

A template's ``AWS::Serverless::Function`` and ``AWS::Lambda::Function`` resources become function
units named by logical ID (``Globals: Function:`` applied as SAM applies it, ``IgnoreGlobals``
too), its layer version
resources with a local folder become layer units, and each function's IAM documents (SAM
``Policies``, the role the function names, the policies attached to that role, its trust policy,
and ``AWS::Lambda::Permission`` resources as the resource-based policy ``AddPermission`` writes)
are parsed into the same model as policy files, each element carrying its template line.

Intrinsic functions (``!Ref``, ``!Sub``, ...) are unknown before deployment: a setting that is one
is left out, so no rule sees it, except ``!Ref`` to a parameter with a ``Default``, read as the
default. In policies and environment values, ``!Sub`` keeps its text and unknown references read
as ``${Name}``, which the IAM rules treat as "some text", never as a wildcard; a ``!Ref`` to a list
parameter is a list. A policy document CloudFormation makes (``AWS::Include``, a ``!Sub`` of JSON
text, ``Statement: !If``) is unreadable, like an unknown managed policy. Functions in runtimes
lpack has no facts for (other languages, python2.7) are skipped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from lpack.core.errors import ConfigError
from lpack.core.targets import RUNTIMES
from lpack.inputs.config import DEFAULT_REQUIREMENTS, FunctionSettings, Project, Unit
from lpack.inputs.declared import Choice

if TYPE_CHECKING:
    from lpack.iam.policy import ParsedPolicy

TEMPLATE_SUFFIXES = (".yaml", ".yml", ".json", ".template")
TEMPLATE_NAMES = ("template.yaml", "template.yml", "template.json")
SAM_FUNCTION = "AWS::Serverless::Function"
CFN_FUNCTION = "AWS::Lambda::Function"
LAYER_TYPES = ("AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion")
SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
BASIC_EXECUTION_ROLE = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
# SAM's short names of AWS managed policies that live under a path
_MANAGED_PATHS = {"AWSLambdaBasicExecutionRole": "service-role/", "AWSLambdaVPCAccessExecutionRole": "service-role/",
                  "AWSLambdaRole": "service-role/", "AWSLambdaDynamoDBExecutionRole": "service-role/",
                  "AWSLambdaKinesisExecutionRole": "service-role/", "AWSLambdaSQSQueueExecutionRole": "service-role/",
                  "AWSLambdaMSKExecutionRole": "service-role/", "AWSXrayWriteOnlyAccess": ""}
PSEUDO_PARAMETERS = ("AWS::AccountId", "AWS::NotificationARNs", "AWS::NoValue", "AWS::Partition", "AWS::Region",
                     "AWS::StackId", "AWS::StackName", "AWS::URLSuffix")
_SHORT_TAGS = ("Ref", "Condition", "Sub", "GetAtt", "Join", "If", "Select", "Split", "FindInMap", "ImportValue",
               "GetAZs", "Base64", "Cidr", "Equals", "And", "Or", "Not", "Transform", "Length", "ToJsonString")


# -- reading, with the line of every key -----------------------------------------------------------

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


# -- intrinsic functions --------------------------------------------------------------------------

def is_intrinsic(value: object) -> bool:
    if not isinstance(value, dict) or len(value) != 1:
        return False
    key = next(iter(value))
    return isinstance(key, str) and (key in ("Ref", "Condition") or key.startswith("Fn::"))


class _Resolver:
    """Reads values as deployment would, as far as the template alone tells."""

    def __init__(self, data: Mapping[Any, Any]) -> None:
        params = data.get("Parameters")
        self.defaults = {name: p["Default"] for name, p in (params.items() if isinstance(params, dict) else ())
                         if isinstance(p, dict) and "Default" in p and not is_intrinsic(p["Default"])}
        # CommaDelimitedList and List<...> parameters: a !Ref to one is a list
        self.lists = {name: [item.strip() for item in str(self.defaults[name]).split(",")]
                      for name, p in (params.items() if isinstance(params, dict) else ())
                      if name in self.defaults and isinstance(p, dict)
                      and str(p.get("Type", "")).startswith(("CommaDelimitedList", "List<"))}

    def items(self, value: object) -> list[str] | None:
        """A list an intrinsic makes, when the template tells it: ``!Ref`` to a list parameter with
        a default, ``!Split`` of known text."""
        if not is_intrinsic(value):
            return None
        assert isinstance(value, dict)
        (key, arg), = value.items()
        if key == "Ref" and isinstance(arg, str) and arg in self.lists:
            return list(self.lists[arg])
        if key == "Fn::Split" and isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str) and arg[0]:
            text = self.text(arg[1])
            return text.split(arg[0]) if text is not None else None
        return None

    def value(self, value: object) -> object:
        """The value, with ``!Ref`` to a parameter with a default resolved; None when unknown."""
        if isinstance(value, dict) and is_intrinsic(value):
            ref = value.get("Ref")
            if isinstance(ref, str) and ref in self.defaults:
                return self.defaults[ref]
            return None
        return value

    def text(self, value: object) -> str | None:
        """A string as the deployed template would have it; unknowns as ``${Name}``."""
        if isinstance(value, str):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        if not is_intrinsic(value):
            return None
        assert isinstance(value, dict)
        (key, arg), = value.items()
        if key == "Ref" and isinstance(arg, str):
            return str(self.defaults[arg]) if arg in self.defaults else _placeholder(arg)
        if key == "Fn::GetAtt":
            parts = arg if isinstance(arg, list) else str(arg).split(".", 1)
            return _placeholder(".".join(str(p) for p in parts))
        if key == "Fn::Sub":
            return self._sub(arg)
        if key == "Fn::Join" and isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], list):
            items = [self.text(item) for item in arg[1]]
            if isinstance(arg[0], str) and all(item is not None for item in items):
                return arg[0].join(item for item in items if item is not None)
        return _placeholder(str(key))

    def _sub(self, arg: object) -> str | None:
        template, variables = (arg[0], arg[1]) if isinstance(arg, list) and len(arg) == 2 else (arg, {})
        if not isinstance(template, str):
            return None
        names = variables if isinstance(variables, dict) else {}

        def replace(m: re.Match[str]) -> str:
            name = m.group(1)
            if name in names and (text := self.text(names[name])) is not None:
                return text
            if name in self.defaults:
                return str(self.defaults[name])
            return _placeholder(name)

        return re.sub(r"\$\{(?!!)([^}]*)\}", replace, template).replace("${!", "${")


def _placeholder(name: str) -> str:
    """``${Name}`` for a value known only at deployment: IAM rules read it as some text. Colons
    become dots (``${AWS.Region}``), so an ARN keeps its six fields."""
    return "${" + name.replace("::", ".").replace(":", ".") + "}"


def ref_target(value: object) -> str | None:
    """The logical ID a ``!Ref X`` or ``!GetAtt X.Attr`` names."""
    if not is_intrinsic(value):
        return None
    assert isinstance(value, dict)
    (key, arg), = value.items()
    if key == "Ref" and isinstance(arg, str):
        return arg
    if key == "Fn::GetAtt":
        parts = arg if isinstance(arg, list) else str(arg).split(".", 1)
        return str(parts[0]) if parts else None
    return None


# -- the model ------------------------------------------------------------------------------------

class FunctionIam(NamedTuple):
    """One function's IAM documents from the template, parsed with their template lines."""

    managed: tuple[ParsedPolicy, ...] = ()  # attached managed policies lpack can read
    customer: tuple[ParsedPolicy, ...] = ()  # customer managed policies defined in the template
    inline: tuple[ParsedPolicy, ...] = ()
    opaque: tuple[str, ...] = ()  # attached managed policies lpack cannot read (unknown ARNs)
    trust: ParsedPolicy | None = None
    resource: ParsedPolicy | None = None
    role_known: bool = False  # False for a role ARN from outside the template: nothing to check
    # SAM policy templates (and inline documents lpack cannot read) in the role SAM makes: SAM writes
    # them as the role's inline policies, so they do not count toward its managed policy quota (LP561)
    templates: tuple[str, ...] = ()
    # documents lpack cannot read all of (made at deployment): role-wide rules that need every grant
    # stay quiet; they are inline, or already counted as managed, so LP561 does not count them again
    unreadable: tuple[str, ...] = ()


class Template(NamedTuple):
    path: Path
    project: Project
    lines: Mapping[str, Mapping[str, int]]  # unit name -> setting (or environment variable) -> line
    iam: Mapping[str, FunctionIam]
    built: bool  # an `sam build` output (.aws-sam/build): folders already hold their dependencies
    skipped: tuple[str, ...] = ()  # functions lpack does not check (images, other runtimes, inline code)


def load_template(path: Path) -> Template:
    """Read a SAM or CloudFormation template into a Project of its Python functions and layers."""
    if not path.is_file():
        raise ConfigError(f"{path}: no such template file")
    data = read_template(path)
    if data is None:
        raise ConfigError(
            f"{path}: not a CloudFormation or SAM template (no AWSTemplateFormatVersion, no "
            f"Transform: {SAM_TRANSFORM}, no Resources with an AWS:: Type); pass a template, a package "
            ".zip, a policy .json or a project folder")
    return _Reader(path, data).template()


class _Reader:
    def __init__(self, path: Path, data: Located) -> None:
        from lpack.analysis.package import display_path

        self.path, self.data = path, data
        self.root = path.parent.resolve()
        self.display = display_path(path)
        self.resolver = _Resolver(data)
        resources = data.get("Resources")
        self.resources: Located = resources if isinstance(resources, Located) else Located(1)
        self.built = self.root.name == "build" and self.root.parent.name == ".aws-sam"
        globals_ = data.get("Globals")
        function_globals = globals_.get("Function") if isinstance(globals_, dict) else None
        self.globals: Located = function_globals if isinstance(function_globals, Located) else Located(1)

    def resource(self, logical_id: str | None, *types: str) -> Located | None:
        found = self.resources.get(logical_id) if logical_id else None
        if isinstance(found, Located) and (not types or found.get("Type") in types):
            return found
        return None

    def template(self) -> Template:
        layers: dict[str, Unit] = {}
        for logical_id, resource in self.resources.items():
            if isinstance(resource, Located) and resource.get("Type") in LAYER_TYPES:
                unit = self.layer(str(logical_id), resource)
                if unit is not None:
                    layers[unit.name] = unit
        functions: list[Unit] = []
        lines: dict[str, dict[str, int]] = {}
        iam: dict[str, FunctionIam] = {}
        skipped: list[str] = []
        for logical_id, resource in self.resources.items():
            if not isinstance(resource, Located) or resource.get("Type") not in (SAM_FUNCTION, CFN_FUNCTION):
                continue
            name = str(logical_id)
            found = self.function(name, resource, layers)
            if found is None:
                skipped.append(name)
                continue
            unit, unit_lines = found
            functions.append(unit)
            lines[name] = unit_lines
            iam[name] = self.function_iam(name, resource)
        project = Project(root=self.root, config_path=self.path, dist=self.root / "dist",
                          installer=None, units=(*functions, *layers.values()))
        return Template(self.path, project, lines, iam, self.built, tuple(skipped))

    # -- functions -------------------------------------------------------------------------------

    def properties(self, resource: Located) -> Located:
        """The function's properties, with SAM's Globals applied (the function's own value wins)
        except those its ``IgnoreGlobals`` attribute names (``'*'``: all of them)."""
        props = resource.get("Properties")
        own = props if isinstance(props, Located) else Located(resource.line)
        if resource.get("Type") != SAM_FUNCTION or not self.globals:
            return own
        ignored = resource.get("IgnoreGlobals")
        if ignored == "*":
            return own
        global_props = Located(self.globals.line)
        for key, value in self.globals.items():
            if not (isinstance(ignored, list) and key in ignored):
                global_props[key], global_props.lines[key] = value, self.globals.line_of(key)
        merged = _merge(global_props, own)
        assert isinstance(merged, Located)
        return merged

    def function(self, name: str, resource: Located, layers: Mapping[str, Unit]) -> tuple[Unit, dict[str, int]] | None:
        props = self.properties(resource)
        if self.resolver.value(props.get("PackageType")) == "Image":
            return None
        runtime = self.resolver.value(props.get("Runtime"))
        if isinstance(runtime, str) and runtime not in RUNTIMES:
            return None  # another language, or a retired Python (python2.7, python3.6) lpack has no facts for
        source = self.code_folder(props, "CodeUri" if resource.get("Type") == SAM_FUNCTION else "Code")
        lines = {"function": self.resources.line_of(name), "handler": props.line_of("Handler"),
                 "runtime": props.line_of("Runtime"), "architecture": props.line_of("Architectures"),
                 "source": props.line_of("CodeUri" if "CodeUri" in props else "Code"),
                 "layers": props.line_of("Layers")}
        settings: dict[str, Any] = {}
        code_key = "CodeUri" if resource.get("Type") == SAM_FUNCTION else "Code"
        if source is None and (package := self.code_file(props, code_key)) is not None:
            settings["prebuilt-package"] = str(package)  # already packaged: checked and run as it is
        for key, prop in (("memory", "MemorySize"), ("timeout", "Timeout")):
            if prop in props and (value := self.resolver.value(props[prop])) is not None:
                settings[key], lines[key] = _number(value), props.line_of(prop)
        storage = props.get("EphemeralStorage")
        if isinstance(storage, Located) and (size := self.resolver.value(storage.get("Size"))) is not None:
            settings["ephemeral-storage"], lines["ephemeral-storage"] = _number(size), storage.line_of("Size")
        logging = props.get("LoggingConfig")
        if isinstance(logging, Located):
            for key, prop in (("log-format", "LogFormat"), ("log-level", "ApplicationLogLevel")):
                if isinstance(value := self.resolver.value(logging.get(prop)), str):
                    settings[key], lines[key] = value, logging.line_of(prop)
        environment = self.environment(props, lines)
        if environment is not None:
            settings["environment"] = environment
        handler = self.resolver.value(props.get("Handler"))
        arch = self.resolver.value(props.get("Architectures"))
        first = self.resolver.value(arch[0]) if isinstance(arch, list) and arch else None
        choice = Choice()
        if source is not None and not self.built:  # the CodeUri folder's declaration, read as lpack reads any
            from lpack.inputs.declared import choose

            choice = choose([source], f"{self.path}: Resources.{name}")
        unit = Unit(
            name=name, kind="function", where=f"Resources.{name}", source=source, requirements=choice.requirements,
            lock=choice.lock, manifest=choice.manifest, dependency_note=choice.note, unlocked=choice.unlocked,
            handler=handler if isinstance(handler, str) else None,
            runtime=runtime if isinstance(runtime, str) else None,
            architecture=first if isinstance(first, str) else None,
            layers=tuple(self.layer_names(props.get("Layers"), layers)), settings=FunctionSettings.from_table(settings),
        )
        return unit, {k: v for k, v in lines.items() if v}

    def environment(self, props: Located, lines: dict[str, int]) -> dict[str, object] | None:
        env = props.get("Environment")
        variables = env.get("Variables") if isinstance(env, Located) else None
        if not isinstance(variables, Located):
            return None
        lines["environment"] = env.line_of("Variables") if isinstance(env, Located) else variables.line
        out: dict[str, object] = {}
        for key, value in variables.items():
            if isinstance(value, dict) and value.get("Ref") == "AWS::NoValue":
                continue  # CloudFormation removes it
            out[str(key)] = self.resolver.text(value) if is_intrinsic(value) else _cfn_string(value)
            lines.setdefault(str(key), variables.line_of(key))
        return out

    def local_code(self, props: Located, key: str) -> Path | None:
        """Where a code property points on this disk; None for S3, inline code or an intrinsic."""
        value = props.get(key)
        if not isinstance(value, str) or value.startswith("s3://"):
            return None
        return (self.root / value).resolve()

    def code_folder(self, props: Located, key: str) -> Path | None:
        """A local folder the package is built from; None for S3, inline code or an intrinsic."""
        folder = self.local_code(props, key)
        if folder is None:
            return None
        if folder.is_file() or (not folder.exists() and folder.suffix in _ARCHIVE_SUFFIXES):
            return None  # an already packaged .zip (made by a build step, perhaps not yet): no folder to check
        if not folder.is_dir():
            raise ConfigError(f"{self.display}: line {props.line_of(key)}: {key} {props.get(key)!r}: no such folder "
                              f"under {self.root}")
        return folder

    def code_file(self, props: Located, key: str) -> Path | None:
        """An existing local .zip the code is already packaged in, else None."""
        path = self.local_code(props, key)
        return path if path is not None and path.is_file() and path.suffix == ".zip" else None

    def layer(self, name: str, resource: Located) -> Unit | None:
        props = resource.get("Properties")
        if not isinstance(props, Located):
            return None
        folder = self.code_folder(props, "ContentUri" if "ContentUri" in props else "Content")
        if folder is None:
            return None
        requirements = folder / DEFAULT_REQUIREMENTS
        source = folder / "python" if (folder / "python").is_dir() else folder
        runtimes = self.resolver.value(props.get("CompatibleRuntimes"))
        known = [r for r in runtimes if isinstance(r, str) and r in RUNTIMES] if isinstance(runtimes, list) else []
        return Unit(name=name, kind="layer", where=f"Resources.{name}", source=source,
                    requirements=requirements if requirements.is_file() and not self.built else None,
                    runtime=known[0] if known else None)

    def layer_names(self, value: object, layers: Mapping[str, Unit]) -> Iterator[str]:
        for item in value if isinstance(value, list) else ():
            if isinstance(item, str) and item.startswith("arn:"):
                yield item
            elif (target := ref_target(item)) in layers and target is not None:
                yield target
            elif (text := self.resolver.text(item)) is not None and text.startswith("arn:"):
                yield text

    # -- IAM -------------------------------------------------------------------------------------

    def function_iam(self, name: str, resource: Located) -> FunctionIam:
        props = self.properties(resource)
        role = props.get("Role")
        iam = FunctionIam(resource=self.resource_policy(name))
        if role is not None:
            role_id = ref_target(role)
            found = self.resource(role_id, "AWS::IAM::Role")
            if found is None or role_id is None:
                return iam
            return self.role(role_id, found)._replace(resource=iam.resource)
        if resource.get("Type") != SAM_FUNCTION:
            return iam
        return self.sam_role(props)._replace(resource=iam.resource)

    def sam_role(self, props: Located) -> FunctionIam:
        """The role SAM creates: AWSLambdaBasicExecutionRole and the function's ``Policies``."""
        from lpack.iam import managed
        from lpack.iam.policy import parse_policy

        managed_arns: list[str] = [BASIC_EXECUTION_ROLE]
        inline: list[ParsedPolicy] = []
        opaque: list[str] = []
        templates: list[str] = []  # inline too; the role always has AWSLambdaBasicExecutionRole for logs
        policies = props.get("Policies")
        items = policies if isinstance(policies, LocatedList) else LocatedList(props.line_of("Policies"))
        if isinstance(policies, (str, Located)):
            items.append(policies)
            items.lines.append(props.line_of("Policies"))
        for i, item in enumerate(items):
            text = self.resolver.text(item) if not isinstance(item, Located) or is_intrinsic(item) else None
            if text is not None:
                managed_arns.append(text if text.startswith("arn:") else
                                    f"arn:aws:iam::aws:policy/{_MANAGED_PATHS.get(text, '')}{text}")
            elif isinstance(item, Located) and "Statement" in item:
                self.add_document(item, items.line_of(i), inline, templates, f"Policies[{i}]")
            elif isinstance(item, Located):
                templates.extend(str(k) for k in item)  # a SAM policy template: not expanded
        readable = []
        for arn in managed_arns:
            text = managed.document(arn)
            if text is None:
                opaque.append(arn)
            else:
                readable.append(parse_policy(text, arn, "identity"))
        return FunctionIam(managed=tuple(readable), inline=tuple(inline), opaque=tuple(opaque), role_known=True,
                           templates=tuple(templates))

    def role(self, role_id: str, role: Located) -> FunctionIam:
        from lpack.iam import managed
        from lpack.iam.policy import parse_policy

        props = role.get("Properties")
        props = props if isinstance(props, Located) else Located(role.line)
        inline: list[ParsedPolicy] = []
        opaque: list[str] = []
        unreadable: list[str] = []
        policies = props.get("Policies")
        for item in policies if isinstance(policies, LocatedList) else ():
            doc = item.get("PolicyDocument") if isinstance(item, Located) and not is_intrinsic(item) else item
            self.add_document(doc, item.line_of("PolicyDocument") if isinstance(item, Located) else props.line,
                              inline, unreadable, str(item.get("PolicyName", "?")) if isinstance(item, Located) else "?")
        readable: list[ParsedPolicy] = []
        arns = props.get("ManagedPolicyArns")
        for item in arns if isinstance(arns, list) else ():
            target = self.resource(ref_target(item), "AWS::IAM::ManagedPolicy")
            text = self.resolver.text(item)
            if target is not None:
                continue  # counted below, with the managed policies that name the role
            if text is not None and (document := managed.document(text)) is not None:
                readable.append(parse_policy(document, text, "identity"))
            else:
                opaque.append(text or "?")
        customer: list[ParsedPolicy] = []
        for other_id, other in self.resources.items():
            if not isinstance(other, Located) or other.get("Type") not in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
                continue
            other_props = other.get("Properties")
            if not isinstance(other_props, Located) or not self.attached(role_id, str(other_id), other_props, arns):
                continue
            is_managed = other.get("Type") == "AWS::IAM::ManagedPolicy"
            self.add_document(other_props.get("PolicyDocument"), other_props.line_of("PolicyDocument"),
                              customer if is_managed else inline, unreadable, str(other_id),
                              unknown=opaque if is_managed else None)
        trust_doc = props.get("AssumeRolePolicyDocument")
        trust = (self.document(trust_doc, props.line_of("AssumeRolePolicyDocument"), "trust")
                 if isinstance(trust_doc, Located) else None)
        return FunctionIam(tuple(readable), tuple(customer), tuple(inline), tuple(opaque), trust, None, True,
                           unreadable=tuple(unreadable))

    def attached(self, role_id: str, policy_id: str, props: Located, role_arns: object) -> bool:
        roles = props.get("Roles")
        if any(ref_target(r) == role_id for r in (roles if isinstance(roles, list) else ())):
            return True
        return any(ref_target(a) == policy_id for a in (role_arns if isinstance(role_arns, list) else ()))

    def resource_policy(self, function_id: str) -> ParsedPolicy | None:
        """The statements ``AWS::Lambda::Permission`` resources add to the function's policy."""
        statements: list[tuple[str, Located]] = []
        for permission_id, resource in self.resources.items():
            props = resource.get("Properties") if isinstance(resource, Located) else None
            if (isinstance(resource, Located) and resource.get("Type") == "AWS::Lambda::Permission"
                    and isinstance(props, Located)
                    and ref_target(props.get("FunctionName")) in (function_id, *_qualified_ids(function_id))):
                statements.append((str(permission_id), props))
        if not statements:
            return None
        document = Located(statements[0][1].line)
        document.update({"Version": "2012-10-17", "Statement": LocatedList(document.line)})
        for permission_id, props in statements:
            document["Statement"].append(self.permission_statement(permission_id, function_id, props))
            document["Statement"].lines.append(self.resources.line_of(permission_id))
        return self.document(document, document.line, "resource")

    def permission_statement(self, permission_id: str, function_id: str, props: Located) -> Located:
        """The statement ``AddPermission`` writes for a ``AWS::Lambda::Permission``."""
        out = Located(self.resources.line_of(permission_id))

        def put(key: str, value: object, prop: str) -> None:
            out[key] = value
            out.lines[key] = props.line_of(prop)

        out.update({"Sid": permission_id, "Effect": "Allow"})
        principal = self.resolver.text(props.get("Principal"))
        if principal is not None:
            kind = "Service" if principal.endswith((".amazonaws.com", ".amazon.com")) else "AWS"
            put("Principal", "*" if principal == "*" else {kind: principal}, "Principal")
        put("Action", props.get("Action"), "Action")
        put("Resource", f"arn:${{AWS.Partition}}:lambda:${{AWS.Region}}:${{AWS.AccountId}}:function:{function_id}",
            "FunctionName")
        condition = Located(out.line)
        for prop, operator, key in (("SourceArn", "ArnLike", "AWS:SourceArn"),
                                    ("SourceAccount", "StringEquals", "AWS:SourceAccount"),
                                    ("PrincipalOrgID", "StringEquals", "aws:PrincipalOrgID"),
                                    ("FunctionUrlAuthType", "StringEquals", "lambda:FunctionUrlAuthType")):
            if prop in props:
                block = condition.setdefault(operator, Located(props.line_of(prop)))
                block[key] = props[prop]
                block.lines[key] = props.line_of(prop)
                condition.lines.setdefault(operator, props.line_of(prop))
        if condition:
            put("Condition", condition, next(p for p in ("SourceArn", "SourceAccount", "PrincipalOrgID",
                                                         "FunctionUrlAuthType") if p in props))
        return out

    def add_document(self, data: object, line: int, readable: list[ParsedPolicy], unreadable: list[str],
                     name: str, unknown: list[str] | None = None) -> None:
        """An identity policy document: parsed into ``readable``; named in ``unreadable`` too when
        lpack cannot read all of it (its statements are made at deployment), so role-wide rules,
        which need every grant, stay quiet. A managed policy lpack cannot parse at all still counts
        as attached: it goes to ``unknown``."""
        parsed = self.document(data, line, "identity") if isinstance(data, Located) else None
        if parsed is not None:
            readable.append(parsed)
        elif unknown is not None and data is not None:
            unknown.append(name)
        if data is not None and (parsed is None or _unreadable_statements(data)):
            unreadable.append(name)

    def document(self, data: Located, line: int, kind: str) -> ParsedPolicy | None:
        """A policy document from the template, as plain JSON, with each JSON path's template line;
        None when lpack cannot read it: made at deployment (``!Sub`` of JSON text, ``AWS::Include``,
        ``Statement: !If``), or every statement an intrinsic function."""
        from lpack.iam.policy import parse_document

        if is_intrinsic(data) or is_intrinsic(data.get("Statement")):
            return None
        lines: dict[str, int] = {"": line}
        document = self.plain(data, "", line, lines)
        statements = data.get("Statement")
        if (isinstance(document, dict) and isinstance(statements, list) and statements
                and not document.get("Statement")):
            return None
        # the text IAM will see: no ${Name} placeholders (CloudFormation substitutes them), so
        # that only real policy variables (${aws:username}) count as such
        text = _PLACEHOLDER.sub(r"\1", json.dumps(document, separators=(",", ":"), ensure_ascii=False))
        return parse_document(document, self.display, kind, lines, text)

    def plain(self, value: object, path: str, line: int, lines: dict[str, int]) -> object:
        """Template data as JSON: intrinsics as text (``${Name}`` for unknowns); statements, actions
        and principals that are intrinsics (``!If`` ...) left out, as lpack cannot know them."""
        if is_intrinsic(value):
            listed = self.resolver.items(value)
            return self.resolver.text(value) if listed is None else listed
        if isinstance(value, Located):
            out: dict[str, object] = {}
            found: dict[str, int] = {}
            for key, item in value.items():
                here = f"{path}.{key}" if path else str(key)
                if key in ("Action", "NotAction", "Effect") and _has_intrinsic(item):
                    return None  # a statement lpack cannot read: skipped, never reported
                found[here] = value.line_of(key)
                out[str(key)] = self.plain(item, here, found[here], found)
            lines.update(found)
            return out
        if isinstance(value, LocatedList):
            items: list[object] = []
            for i, item in enumerate(value):
                here = f"{path}[{len(items)}]"
                converted = self.plain(item, here, value.line_of(i), lines)
                if path.endswith("Statement") and not isinstance(converted, dict):
                    continue
                lines[here] = value.line_of(i)
                items.append(converted)
            return items
        return value


_ARCHIVE_SUFFIXES = (".zip", ".jar")


def _qualified_ids(function_id: str) -> tuple[str, str]:
    """SAM's names for the alias and version of a function with ``AutoPublishAlias``."""
    return f"{function_id}.Alias", f"{function_id}.Version"
_PLACEHOLDER = re.compile(r"\$\{([^}:*?$]+)\}")  # ours; IAM policy variables have a colon


def _number(value: object) -> object:
    """CloudFormation takes "128" for 128."""
    return int(value) if isinstance(value, str) and value.strip().isdigit() else value


def _unreadable_statements(document: object) -> bool:
    """Whether a document, or some statement in it, is known only at deployment."""
    if not isinstance(document, dict) or is_intrinsic(document):
        return True
    statements = document.get("Statement")
    if is_intrinsic(statements):
        return True
    return any(is_intrinsic(item) or (isinstance(item, dict) and any(
        _has_intrinsic(item.get(key)) for key in ("Action", "NotAction", "Effect")))
        for item in (statements if isinstance(statements, list) else [statements]))


def _has_intrinsic(value: object) -> bool:
    if is_intrinsic(value):
        return True
    if isinstance(value, dict):
        return any(_has_intrinsic(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_intrinsic(v) for v in value)
    return False


def _merge(global_value: object, own: object) -> object:
    """SAM's Globals: maps merge (the function's keys win), lists add up (globals first),
    anything else is replaced."""
    if isinstance(global_value, Located) and isinstance(own, Located) and not is_intrinsic(own):
        merged = Located(own.line)
        for source in (global_value, own):
            for key, value in source.items():
                merged[key] = _merge(merged.get(key), value)
                merged.lines[key] = source.line_of(key)
        return merged
    if isinstance(global_value, LocatedList) and isinstance(own, LocatedList):
        joined = LocatedList(own.line)
        joined.extend([*global_value, *own])
        joined.lines.extend([*global_value.lines, *own.lines])
        return joined
    return own


def _cfn_string(value: object) -> object:
    """CloudFormation passes a YAML number or boolean where a string is expected as its text
    (``true``, ``5``), so a template's unquoted ``FLAG: true`` reaches Lambda as "true"."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return value
