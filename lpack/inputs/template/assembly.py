"""A CDK cloud assembly (the ``cdk.out`` folder ``cdk synth`` writes) read as the template it holds.

The assembly's ``manifest.json`` lists its artifacts; each ``aws:cloudformation:stack`` names its
``templateFile``, relative to the assembly, and a stage is a nested assembly
(``cdk:cloud-assembly``, ``directoryName``). A CDK app's folder is read through its ``cdk.json``,
whose ``output`` names the assembly (``cdk.out`` by default). One stack is the template; of
several, the one with Python Lambda functions, else they are named so the user picks one, as
``cdk deploy STACK`` does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lpack.core.errors import ConfigError

MANIFEST = "manifest.json"
APP_CONFIG = "cdk.json"
DEFAULT_OUTPUT = "cdk.out"
_STACK = "aws:cloudformation:stack"
_NESTED = "cdk:cloud-assembly"
_MAX_NESTING = 8  # stages within stages; CDK apps rarely go past 2


def assembly_template(folder: Path) -> Path | None:
    """The stack template of the cloud assembly ``folder`` is, or holds as a CDK app's output;
    None when the folder is neither."""
    if (folder / APP_CONFIG).is_file() and not (folder / MANIFEST).is_file():
        output = _app_output(folder / APP_CONFIG)
        assembly = folder / output
        if not (assembly / MANIFEST).is_file():
            raise ConfigError(f"{folder / APP_CONFIG}: a CDK app with no synthesized output in {output}/; "
                              f"run `cdk synth` first, then lpack on {assembly}")
        folder = assembly
    if not (folder / MANIFEST).is_file():
        return None
    stacks = _stacks(folder, 0)
    if stacks is None:
        return None
    if not stacks:
        raise ConfigError(f"{folder / MANIFEST}: the cloud assembly holds no CloudFormation stack")
    if len(stacks) > 1:
        python = [stack for stack in stacks if _has_python_function(stack[1])]
        if len(python) == 1:  # a network or data stack beside the one with the functions
            return python[0][1]
        if not python:
            raise ConfigError(f"{folder / MANIFEST}: none of the cloud assembly's {len(stacks)} stacks has a Python "
                              "Lambda function; lpack builds and checks those")
        shown = ", ".join(f"{name} ({_shown(path)})" for name, path in python[:6])
        more = f" and {len(python) - 6} more" if len(python) > 6 else ""
        raise ConfigError(f"{folder / MANIFEST}: {len(python)} of the cloud assembly's stacks have Python Lambda "
                          f"functions: {shown}{more}; pass the template of the one to use")
    return stacks[0][1]


_FUNCTION_TYPES = ("AWS::Lambda::Function", "AWS::Serverless::Function")


def _has_python_function(template: Path) -> bool:
    """Whether the stack's template has a Lambda function on a Python runtime (or one whose runtime
    it does not spell out: a parameter, a mapping)."""
    try:
        resources = json.loads(template.read_text(encoding="utf-8")).get("Resources")
    except (OSError, UnicodeDecodeError, ValueError, AttributeError, RecursionError):
        return True  # the template is read, and its error reported, once chosen
    for resource in resources.values() if isinstance(resources, dict) else ():
        if isinstance(resource, dict) and resource.get("Type") in _FUNCTION_TYPES:
            props = resource.get("Properties")
            runtime = props.get("Runtime") if isinstance(props, dict) else None
            if not isinstance(runtime, str) or runtime.startswith("python"):
                return True
    return False


def _shown(path: Path) -> str:
    from lpack.analysis.package import display_path

    return display_path(path)


def _app_output(config: Path) -> str:
    try:
        settings = json.loads(config.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ConfigError(f"{config}: not readable as JSON ({exc}); fix it, or pass the cdk.out folder") from exc
    output = settings.get("output", DEFAULT_OUTPUT) if isinstance(settings, dict) else DEFAULT_OUTPUT
    if not isinstance(output, str) or not output:
        raise ConfigError(f"{config}: output must be a folder name; pass the cdk.out folder instead")
    return output


def _stacks(assembly: Path, depth: int) -> list[tuple[str, Path]] | None:
    """(display name, template path) of every stack in the assembly and its nested assemblies;
    None when the manifest is not a cloud assembly's."""
    manifest = assembly / MANIFEST
    try:
        document = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ConfigError(f"{manifest}: not readable as JSON ({exc}); run `cdk synth` again") from exc
    artifacts = document.get("artifacts") if isinstance(document, dict) else None
    if not isinstance(artifacts, dict):
        return None
    found: list[tuple[str, Path]] = []
    for name, artifact in sorted(artifacts.items()):
        kind, properties = _kind(artifact)
        if kind == _STACK and isinstance(file := properties.get("templateFile"), str):
            found.append((str(artifact.get("displayName") or name), _inside(assembly, file, manifest)))
        elif kind == _NESTED and isinstance(folder := properties.get("directoryName"), str):
            if depth >= _MAX_NESTING:
                raise ConfigError(f"{manifest}: cloud assemblies nested more than {_MAX_NESTING} deep")
            nested = _inside(assembly, folder, manifest)
            found += _stacks(nested, depth + 1) or [] if (nested / MANIFEST).is_file() else []
    return found


def _kind(artifact: Any) -> tuple[str | None, dict[str, Any]]:
    if not isinstance(artifact, dict):
        return None, {}
    properties = artifact.get("properties")
    return artifact.get("type"), properties if isinstance(properties, dict) else {}


def _inside(assembly: Path, relative: str, manifest: Path) -> Path:
    """A path the manifest names, which must stay inside the assembly."""
    path = (assembly / relative).resolve()
    if not path.is_relative_to(assembly.resolve()):
        raise ConfigError(f"{manifest}: {relative!r} points outside the cloud assembly; run `cdk synth` again")
    return assembly / relative
