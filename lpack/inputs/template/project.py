"""A template's Python functions and layers -> a Project of Units lpack checks and builds.

``AWS::Serverless::Function`` and ``AWS::Lambda::Function`` resources become function units named by
logical ID, with their settings (handler, runtime, architecture, memory, timeout, storage, logging,
environment) and the template line of each; a local code folder is the unit's source and its
dependency declaration is read as lpack reads any, an existing .zip is a prebuilt package. Layer
version resources with a local folder become layer units; a ``cdk synth`` template's code is its
``aws:asset:path``. Functions whose code is not on this disk (images, S3, inline code) are units
without a source, their ``Features.code_elsewhere`` saying where it is: check judges their settings
and role, build and invoke say why they leave them out. Functions in runtimes lpack has no facts for
(other languages, python2.7) are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from lpack.core.errors import ConfigError
from lpack.core.targets import RUNTIMES
from lpack.inputs.config import DEFAULT_REQUIREMENTS, FunctionSettings, Project, Unit
from lpack.inputs.declared import Choice
from lpack.inputs.locked import Selection
from lpack.inputs.template.features import read_features
from lpack.inputs.template.intrinsics import SAM_FUNCTION, Resolver, is_intrinsic, ref_target
from lpack.inputs.template.loader import SAM_TRANSFORM, Located, is_template, read_template
from lpack.inputs.template.policies import FunctionIam, Policies

CFN_FUNCTION = "AWS::Lambda::Function"
LAYER_TYPES = ("AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion")
_ARCHIVE_SUFFIXES = (".zip", ".jar")
# SAM CLI builds a function with neither CodeUri nor InlineCode from the template's own folder
# (samcli's SamFunctionProvider: the default CodeUri is ".")
SAM_DEFAULT_CODEURI = "https://github.com/aws/aws-sam-cli/blob/develop/samcli/lib/providers/sam_function_provider.py"
# SAM's translator takes InlineCode over CodeUri when a function sets both (SamFunction._construct_code_dict)
SAM_INLINE_URL = "https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-resource-function.html"
# CloudFormation's rule for a logical ID; it also names the unit's dist/NAME.zip, so nothing else may pass
_LOGICAL_ID = re.compile(r"[A-Za-z0-9]{1,255}")


class Template(NamedTuple):
    path: Path
    project: Project
    lines: Mapping[str, Mapping[str, int]]  # unit name -> setting (or environment variable) -> line
    iam: Mapping[str, FunctionIam]
    built: bool  # an `sam build` output (.aws-sam/build): folders already hold their dependencies
    skipped: tuple[str, ...] = ()  # functions lpack does not check (images, other runtimes, inline code)


def template_units(path: Path, text: str) -> tuple[Unit, ...] | None:
    """The units ``text`` would make as the template (or serverless.yml) at ``path``, its
    folders read as they are now: the configuration as another commit had it (`lpack plan
    --changed-since`); None when it is not one lpack reads."""
    from lpack.inputs.template.loader import parse_text
    from lpack.inputs.template.serverless import is_serverless, read_service

    data = parse_text(text, path)
    if not isinstance(data, Located):
        return None
    if is_serverless(path):
        return read_service(path, data).units
    if not is_template(data):
        return None
    return _Reader(path, data).template().project.units


def load_template(path: Path) -> Template:
    """Read a SAM or CloudFormation template (or a Serverless Framework service's serverless.yml)
    into a Project of its Python functions and layers."""
    if not path.is_file():
        raise ConfigError(f"{path}: no such template file")
    from lpack.inputs.template.serverless import is_serverless, load_serverless

    if is_serverless(path):
        return load_serverless(path)
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
        self.resolver = Resolver(data)
        resources = data.get("Resources")
        self.resources: Located = resources if isinstance(resources, Located) else Located(1)
        self.built = self.root.name == "build" and self.root.parent.name == ".aws-sam"
        self._asset_paths: dict[str, str] | None = None  # a cloud assembly's assets by S3 object key
        self.policies = Policies(self.display, self.resources, self.resolver)

    def template(self) -> Template:
        layers: dict[str, Unit] = {}
        for logical_id, resource in self.resources.items():
            if isinstance(resource, Located) and resource.get("Type") in LAYER_TYPES:
                unit = self.layer(self.logical_id(logical_id), resource)
                if unit is not None:
                    layers[unit.name] = unit
        functions: list[Unit] = []
        lines: dict[str, dict[str, int]] = {}
        iam: dict[str, FunctionIam] = {}
        skipped: list[str] = []
        for logical_id, resource in self.resources.items():
            if not isinstance(resource, Located) or resource.get("Type") not in (SAM_FUNCTION, CFN_FUNCTION):
                continue
            name = self.logical_id(logical_id)
            found = self.function(name, resource, layers)
            if found is None:
                skipped.append(name)
                continue
            unit, unit_lines = found
            functions.append(unit)
            lines[name] = unit_lines
            iam[name] = self.policies.function_iam(name, resource)
        project = Project(root=self.root, config_path=self.path, dist=self.root / "dist",
                          installer=None, units=(*functions, *layers.values()))
        return Template(self.path, project, lines, iam, self.built, tuple(skipped))

    def logical_id(self, key: object) -> str:
        """A resource's logical ID as CloudFormation accepts it: it becomes a file name in dist/."""
        name = str(key)
        if _LOGICAL_ID.fullmatch(name) is None:
            raise ConfigError(
                f"{self.display}: line {self.resources.line_of(key)}: Resources: logical ID {name[:100]!r} is not "
                "valid: CloudFormation takes 1 to 255 letters and digits (A-Z, a-z, 0-9)")
        return name

    # -- functions -------------------------------------------------------------------------------

    def function(self, name: str, resource: Located, layers: Mapping[str, Unit]) -> tuple[Unit, dict[str, int]] | None:
        props = self.resolver.properties(resource)
        image = self.resolver.value(props.get("PackageType")) == "Image"
        runtime = self.resolver.value(props.get("Runtime"))
        if isinstance(runtime, str) and runtime not in RUNTIMES:
            _refuse_misspelt_python(runtime, f"{self.display}:{props.line_of('Runtime') or 1}: Resources.{name}.Runtime")
            return None  # another language, or a retired Python (python2.7, python3.6) lpack has no facts for
        code_key = "CodeUri" if resource.get("Type") == SAM_FUNCTION else "Code"
        inline = code_key == "CodeUri" and "InlineCode" in props  # SAM takes it over a CodeUri (SAM_INLINE_URL)
        source, only = (None, None) if image or inline else self.function_code(props, code_key, resource)
        lines = {"function": self.resources.line_of(name), "handler": props.line_of("Handler"),
                 "runtime": props.line_of("Runtime"), "architecture": props.line_of("Architectures"),
                 "source": props.line_of("CodeUri" if "CodeUri" in props else "Code"),
                 "layers": props.line_of("Layers")}
        settings: dict[str, Any] = {}
        if source is None and not image and (package := self.code_file(props, code_key, resource)) is not None:
            settings["prebuilt-package"] = str(package)  # already packaged: checked and run as it is
        features = read_features(name, resource, props, self.resources, self.resolver)
        if source is None and "prebuilt-package" not in settings:
            features = features._replace(code_elsewhere=self.code_elsewhere(props, "ImageUri" if image else code_key))
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
        if source is not None and not self.built and only is None:  # the CodeUri folder's declaration, read as lpack reads any
            from lpack.inputs.declared import choose

            choice = choose([source], f"{self.path}: Resources.{name}")
        unit = Unit(
            name=name, kind="function", where=f"Resources.{name}", source=source, requirements=choice.requirements,
            lock=choice.lock, manifest=choice.manifest, dependency_note=choice.note, unlocked=choice.unlocked,
            selection=Selection(choice.package),
            handler=handler if isinstance(handler, str) else None,
            runtime=runtime if isinstance(runtime, str) else None,
            architecture=first if isinstance(first, str) else None,
            layers=tuple(self.layer_names(props.get("Layers"), layers)),
            settings=FunctionSettings.from_table(settings)._replace(features=features),
            exclude=("*", f"!/{only.name}") if only is not None else (),
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

    def function_code(self, props: Located, key: str, resource: Located) -> tuple[Path | None, Path | None]:
        """The folder a .zip function is built from, and the one file it holds alone when its CodeUri
        names a Python file; (None, None) for code that is not on this disk. A SAM function with no
        CodeUri is built from the template's folder, as `sam build` and `sam deploy` package it
        (SAM_DEFAULT_CODEURI)."""
        code = self.local_code(props, key, resource)
        if code is not None and code.is_file() and code.suffix == ".py":
            return code.parent, code
        folder = self.code_folder(props, key, resource)
        if folder is None and key == "CodeUri" and "CodeUri" not in props and not self.built:
            return self.root, None
        return folder, None

    def local_code(self, props: Located, key: str, resource: Located | None = None) -> Path | None:
        """Where a code property points on this disk; None for S3, inline code or an intrinsic. A
        ``cdk synth`` template's code is on S3 once deployed, and in the cloud assembly beside the
        template until then: its ``aws:asset:path`` metadata names the folder or .zip, or, synthesized
        without that metadata (``--no-asset-metadata``, ``python app.py``), the assembly's
        ``*.assets.json`` names the folder its S3 object is made from."""
        value = props.get(key)
        metadata = resource.get("Metadata") if resource is not None else None
        if isinstance(metadata, Located) and isinstance(asset := metadata.get("aws:asset:path"), str) \
                and metadata.get("aws:asset:property") in (key, None):
            value = asset
        elif isinstance(value, Located) and "S3Key" in value and (text := self.resolver.text(value.get("S3Key"))):
            value = self._assets().get(text, value)
        if not isinstance(value, str) or value.startswith("s3://"):
            return None
        if "\0" in value:
            raise ConfigError(f"{self.display}: line {props.line_of(key)}: {key} {value!r} holds a NUL character, "
                              "which no path can; remove it")
        return (self.root / value).resolve()

    def _assets(self) -> dict[str, str]:
        """S3 object key -> the asset's source path, from the cloud assembly's ``*.assets.json``
        beside the template (none outside a cdk.out folder)."""
        if self._asset_paths is None:
            import json

            self._asset_paths = {}
            for manifest in sorted(self.root.glob("*.assets.json")):
                try:
                    files = json.loads(manifest.read_text(encoding="utf-8")).get("files", {})
                except (OSError, ValueError, AttributeError):
                    continue  # not an asset manifest lpack reads: the code stays "on S3"
                for asset in files.values() if isinstance(files, dict) else ():
                    source = asset.get("source") if isinstance(asset, dict) else None
                    path = source.get("path") if isinstance(source, dict) else None
                    if not isinstance(path, str):
                        continue
                    for where in (asset.get("destinations") or {}).values():
                        if isinstance(where, dict) and isinstance(key := where.get("objectKey"), str):
                            self._asset_paths[key] = path
        return self._asset_paths

    def code_folder(self, props: Located, key: str, resource: Located | None = None) -> Path | None:
        """A local folder the package is built from; None for S3, inline code or an intrinsic."""
        folder = self.local_code(props, key, resource)
        if folder is None:
            return None
        if folder.is_file() or (not folder.exists() and folder.suffix in _ARCHIVE_SUFFIXES):
            return None  # an already packaged .zip (made by a build step, perhaps not yet): no folder to check
        if not folder.is_dir():
            raise ConfigError(f"{self.display}: line {props.line_of(key)}: {key} {props.get(key)!r}: no such folder "
                              f"under {self.root}")
        return folder

    def code_file(self, props: Located, key: str, resource: Located | None = None) -> Path | None:
        """An existing local .zip the code is already packaged in, else None."""
        path = self.local_code(props, key, resource)
        return path if path is not None and path.is_file() and path.suffix == ".zip" else None

    def code_elsewhere(self, props: Located, key: str) -> str | None:
        """Where code that is not on this disk is, as the template says: ``s3://bucket/key``,
        ``inline:ZipFile`` or ``inline:InlineCode``, an image URI; None when the template does not say."""
        if key == "CodeUri" and "InlineCode" in props:  # SAM's inline code wins over a CodeUri (SAM_INLINE_URL)
            return "inline:InlineCode"
        value = props.get(key)
        if isinstance(value, str):
            return value if value.startswith("s3://") or key == "ImageUri" else None  # a .zip not built yet is local
        if isinstance(value, Located):
            if "ZipFile" in value:
                return "inline:ZipFile"
            bucket, object_key = (self.resolver.text(value.get(k)) for k in ("Bucket", "Key")) \
                if "Bucket" in value else (self.resolver.text(value.get(k)) for k in ("S3Bucket", "S3Key"))
            if bucket is not None:
                return f"s3://{bucket}/{object_key or ''}"
            if (uri := self.resolver.text(value.get("ImageUri"))) is not None:
                return uri
        if key == "ImageUri" and isinstance(code := props.get("Code"), Located):
            return self.resolver.text(code.get("ImageUri"))
        return self.resolver.text(value) if value is not None and key == "ImageUri" else None

    def layer(self, name: str, resource: Located) -> Unit | None:
        props = resource.get("Properties")
        if not isinstance(props, Located):
            return None
        folder = self.code_folder(props, "ContentUri" if "ContentUri" in props else "Content", resource)
        if folder is None:
            return None
        requirements = folder / DEFAULT_REQUIREMENTS
        source = folder / "python" if (folder / "python").is_dir() else folder
        runtimes = self.resolver.value(props.get("CompatibleRuntimes"))
        known = [r for r in runtimes if isinstance(r, str) and r in RUNTIMES] if isinstance(runtimes, list) else []
        if requirements.is_file():
            choice = Choice(requirements=requirements)
        else:  # a uv workspace member holding the layer's dependencies, if it is one
            from lpack.inputs.declared import workspace_lock

            choice = workspace_lock(folder) or Choice()
        built = self.built
        settings = FunctionSettings()
        makefile = _own_makefile(resource, folder, self.root)
        if makefile is not None and choice.path is None and not built and not _declares_anything(folder):
            from lpack.analysis.package import display_path  # what its Makefile installs is unknown
            from lpack.core.features import MAKEFILE, Features

            settings = settings._replace(features=Features(code_elsewhere=MAKEFILE + display_path(makefile)))
        return Unit(name=name, kind="layer", where=f"Resources.{name}", source=source,
                    requirements=None if built else choice.requirements, lock=None if built else choice.lock,
                    selection=Selection(choice.package), dependency_note=choice.note,
                    runtime=known[0] if known else None, settings=settings)

    def layer_names(self, value: object, layers: Mapping[str, Unit]) -> Iterator[str]:
        for item in value if isinstance(value, list) else ():
            if isinstance(item, str) and item.startswith("arn:"):
                yield item
            elif (target := ref_target(item)) in layers and target is not None:
                yield target
            elif (text := self.resolver.text(item)) is not None and text.startswith("arn:"):
                yield text


def _declares_anything(folder: Path) -> bool:
    """A dependency declaration or a Python project lpack reads is in the folder."""
    from lpack.inputs.declared import scan

    return bool(scan(folder)) or (folder / "setup.py").is_file()


def sam_makefile(resource: object, folder: Path, root: Path) -> Path:
    """The Makefile `sam build` runs for a resource with ``BuildMethod: makefile``: in its
    Metadata's ``ContextPath`` (relative to the template's folder ``root``), else in its code ``folder``."""
    metadata = resource.get("Metadata") if isinstance(resource, dict) else None
    context = metadata.get("ContextPath") if isinstance(metadata, dict) else None
    return ((root / context).resolve() if isinstance(context, str) else folder) / "Makefile"


def _own_makefile(resource: Located, folder: Path, root: Path) -> Path | None:
    """The Makefile `sam build` runs for a resource with ``Metadata: BuildMethod: makefile`` (in its
    ``ContextPath``, else its code folder), unless `lpack sam-makefile` wrote it (that one runs
    lpack: lpack builds the resource itself)."""
    metadata = resource.get("Metadata")
    if not isinstance(metadata, Located) or str(metadata.get("BuildMethod", "")).strip().lower() != "makefile":
        return None
    makefile = sam_makefile(resource, folder, root)
    try:
        text = makefile.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return makefile  # not there yet or unreadable: sam build would fail on it, not lpack's either
    return None if "lpack" in text else makefile


def _number(value: object) -> object:
    """CloudFormation takes "128" for 128."""
    return int(value) if isinstance(value, str) and value.strip().isdigit() else value


def _cfn_string(value: object) -> object:
    """CloudFormation passes a YAML number or boolean where a string is expected as its text
    (``true``, ``5``), so a template's unquoted ``FLAG: true`` reaches Lambda as "true"."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return value


def _refuse_misspelt_python(runtime: str, where: str) -> None:
    """A Runtime that is almost a Lambda Python runtime (``pyhton3.12``, ``python3,12``) is a
    mistake to report, not another language to skip: Lambda would reject the template."""
    import difflib
    import re

    retired = re.fullmatch(r"python[23]\.\d+", runtime) is not None  # a real, retired runtime: skipped
    close = difflib.get_close_matches(runtime, list(RUNTIMES), n=1, cutoff=0.8)
    if close and not retired:
        raise ConfigError(f"{where}: {runtime!r} is not a Lambda runtime; did you mean {close[0]!r}?")
