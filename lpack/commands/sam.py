"""lpack inside AWS SAM: `lpack sam-makefile` and `lpack build --sam-build-dir`.

`sam build` with ``Metadata: BuildMethod: makefile`` runs ``make --makefile CODEURI/Makefile
build-LOGICALID`` (``ContextPath`` moves the Makefile) in a scratch copy of the CodeUri folder, with
``ARTIFACTS_DIR`` set to ``.aws-sam/build/LOGICALID``, and expects the function's files there,
unzipped. The Makefile `sam_makefile` writes finds the template from its own path (make's
``MAKEFILE_LIST`` names the original Makefile, not the copy), so lpack builds exactly what
``lpack build template.yaml -f LOGICALID`` builds, from the project's own lock.

`build_sam_dir` is for teams that drop `sam build`: every function and layer unzipped into
``BUILD/LOGICALID/`` and ``BUILD/template.yaml`` as `sam build` writes it (built code pointing at its
folder, every other relative path made relative to the new place), for `sam deploy` unchanged.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from lpack.bundle.builder import BuildOptions, BuildResult, Progress
from lpack.commands.build import (
    Unpacked,
    build_changed,
    load_project,
    refuse_output_folder,
    write_out,
)
from lpack.core.decide import filter_findings
from lpack.core.errors import ConfigError, UsageError
from lpack.core.files import atomic_write_text
from lpack.core.findings import Finding

BEGIN = "# >>> lpack sam-makefile >>>"
END = "# <<< lpack sam-makefile <<<"
_SAM_FUNCTION, _CFN_FUNCTION = "AWS::Serverless::Function", "AWS::Lambda::Function"
_CODE = {_SAM_FUNCTION: "CodeUri", _CFN_FUNCTION: "Code",
         "AWS::Serverless::LayerVersion": "ContentUri", "AWS::Lambda::LayerVersion": "Content"}
# What `sam build` (samcli's RESOURCES_WITH_LOCAL_PATHS) re-points when it moves a template
_LOCAL_PATHS: dict[str, tuple[str, ...]] = {
    _SAM_FUNCTION: ("CodeUri",), "AWS::Serverless::Api": ("DefinitionUri",),
    "AWS::Serverless::HttpApi": ("DefinitionUri",), "AWS::Serverless::StateMachine": ("DefinitionUri",),
    "AWS::AppSync::GraphQLSchema": ("DefinitionS3Location",),
    "AWS::AppSync::Resolver": ("RequestMappingTemplateS3Location", "ResponseMappingTemplateS3Location",
                               "CodeS3Location"),
    "AWS::AppSync::FunctionConfiguration": ("RequestMappingTemplateS3Location",
                                            "ResponseMappingTemplateS3Location", "CodeS3Location"),
    _CFN_FUNCTION: ("Code",), "AWS::ApiGateway::RestApi": ("BodyS3Location",),
    "AWS::ApiGatewayV2::Api": ("BodyS3Location",), "AWS::ElasticBeanstalk::ApplicationVersion": ("SourceBundle",),
    "AWS::CloudFormation::ModuleVersion": ("ModulePackage",),
    "AWS::CloudFormation::ResourceVersion": ("SchemaHandlerPackage",),
    "AWS::CloudFormation::Stack": ("TemplateURL",), "AWS::CloudFormation::StackSet": ("TemplateURL",),
    "AWS::Serverless::Application": ("Location",), "AWS::Lambda::LayerVersion": ("Content",),
    "AWS::Serverless::LayerVersion": ("ContentUri",), "AWS::Glue::Job": ("Command.ScriptLocation",),
    "AWS::StepFunctions::StateMachine": ("DefinitionS3Location",),
}


# -- lpack build --sam-build-dir -------------------------------------------------------------------

class SamBuild(NamedTuple):
    unpacked: list[Unpacked]
    template: Path | None  # None when a unit failed: no template pointing at folders that are not there


def build_sam_dir(template: Path, build_dir: Path, options: BuildOptions, select: Sequence[str] = (),
                  ignore: Sequence[str] = (), progress: Progress | None = None,
                  config: Path | None = None) -> tuple[BuildResult, list[Finding], SamBuild]:
    """Build the template's functions and layers into ``build_dir/LOGICALID/`` (unzipped) and write
    ``build_dir/template.yaml`` last, once every unit is there."""
    if options.as_layer:
        raise UsageError("--sam-build-dir writes the template as it is; --as-layer would need a layer resource "
                         "the template does not have", tip="drop --as-layer, or build with --out instead")
    project = load_project(template, template, config, options)
    refuse_output_folder(build_dir, project, "--sam-build-dir")
    if (build_dir.resolve() / "template.yaml") == template.resolve():
        raise UsageError(f"--sam-build-dir {build_dir}: would overwrite the template it reads, {template}",
                         tip="name another folder, e.g. .aws-sam/build")
    result = build_changed(project, options, None, progress)  # and dist/lpack-manifest.json
    unpacked = write_out(result, build_dir, flat=False)
    written = None
    if not result.failures:
        written = build_dir / "template.yaml"
        atomic_write_text(written, built_template(template, build_dir, {u.name: u.folder for u in unpacked}))
    findings = filter_findings(result.findings, [*project.select, *select], [*project.ignore, *ignore])
    return result, findings, SamBuild(unpacked, written)


def built_template(template: Path, build_dir: Path, built: dict[str, Path]) -> str:
    """The template as `sam build` writes it into ``build_dir``: each built resource's code is its
    folder there, every other local path re-pointed from the new place; the rest kept as it is."""
    import yaml  # type: ignore[import-untyped, unused-ignore]

    from lpack.inputs.template.loader import read_template

    data = read_template(template)
    if data is None:
        raise ConfigError(f"{template}: not a CloudFormation or SAM template")
    plain: dict[str, Any] = _plain(data)
    old_root, new_root = template.parent.resolve(), build_dir.resolve()
    for name, resource in (plain.get("Resources") or {}).items():
        if not isinstance(resource, dict) or not isinstance(resource.get("Properties"), dict):
            continue
        props, kind = resource["Properties"], resource.get("Type")
        if name in built and kind in _CODE:
            props[_CODE[kind]] = os.path.relpath(built[name].resolve(), new_root)
            metadata = resource.setdefault("Metadata", {})
            if isinstance(metadata, dict):  # as `sam build` marks what it built
                metadata.setdefault("SamResourceId", name)
            continue
        for prop in _LOCAL_PATHS.get(str(kind), ()):
            _repoint(props, prop.split("."), old_root, new_root)
    globals_function = (plain.get("Globals") or {}).get("Function")
    if isinstance(globals_function, dict):
        _repoint(globals_function, ["CodeUri"], old_root, new_root)
    _repoint_includes(plain, old_root, new_root)
    return str(yaml.safe_dump(plain, sort_keys=False, default_flow_style=False, allow_unicode=True, width=120))


def _plain(value: object) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _repoint(props: dict[str, Any], keys: list[str], old_root: Path, new_root: Path) -> None:
    for key in keys[:-1]:
        props = props.get(key)  # type: ignore[assignment]
        if not isinstance(props, dict):
            return
    value = props.get(keys[-1])
    if isinstance(value, str) and not value.startswith(("s3://", "http://", "https://")) and not os.path.isabs(value):
        props[keys[-1]] = os.path.relpath(os.path.normpath(old_root / value), new_root)


def _repoint_includes(value: object, old_root: Path, new_root: Path) -> None:
    """``Fn::Transform: {Name: AWS::Include, Parameters: {Location: ./x.yaml}}``, wherever it is."""
    if isinstance(value, dict):
        transform = value.get("Fn::Transform")
        if isinstance(transform, dict) and transform.get("Name") == "AWS::Include" \
                and isinstance(transform.get("Parameters"), dict):
            _repoint(transform["Parameters"], ["Location"], old_root, new_root)
        for item in value.values():
            _repoint_includes(item, old_root, new_root)
    elif isinstance(value, list):
        for item in value:
            _repoint_includes(item, old_root, new_root)


# -- lpack sam-makefile ----------------------------------------------------------------------------

class MakefileResult(NamedTuple):
    makefile: Path
    functions: tuple[str, ...]
    changed: bool  # False: it already said exactly this


class TemplateEdit(NamedTuple):
    """What the template needs for `sam build` to call the Makefile: an exact snippet, not an edit."""
    function: str
    line: int
    advice: str


def sam_makefile(template: Path, functions: Sequence[str] = ()) -> tuple[list[MakefileResult], list[TemplateEdit]]:
    """Write or update, in each Python function's Makefile folder (its CodeUri, or its Metadata's
    ContextPath), a block of ``build-LOGICALID`` targets calling `lpack build --out`; say which
    ``Metadata: BuildMethod: makefile`` lines the template still needs."""
    from lpack.inputs.template import load_template
    from lpack.inputs.template.loader import read_template
    from lpack.inputs.template.project import sam_makefile

    loaded = load_template(template)
    data: Any = read_template(template) or {}
    resources: Any = data.get("Resources") or {}
    wanted = [u for u in loaded.project.units if u.kind == "function" and u.source is not None
              and u.settings.package is None]
    if functions:
        known = {u.name for u in wanted}
        for name in functions:
            if name not in known:
                raise UsageError(f"{template}: no Python function {name!r} with a local CodeUri folder",
                                 tip=f"one of: {', '.join(sorted(known)) or '(none)'}")
        wanted = [u for u in wanted if u.name in functions]
    if not wanted:
        raise UsageError(f"{template}: no Python function with a local CodeUri folder; nothing for make to build")
    by_makefile: dict[Path, list[str]] = {}
    edits = []
    root = template.parent.resolve()
    for unit in wanted:
        resource = resources.get(unit.name)
        assert unit.source is not None
        by_makefile.setdefault(sam_makefile(resource, unit.source, root), []).append(unit.name)
        if (edit := _template_edit(unit.name, resource, resources)) is not None:
            edits.append(edit)
    results = [_write_makefile(makefile, template.resolve(), names) for makefile, names in by_makefile.items()]
    return results, edits


def _template_edit(name: str, resource: Any, resources: Any) -> TemplateEdit | None:
    line = resources.line_of(name) if hasattr(resources, "line_of") else 0
    metadata = resource.get("Metadata") if isinstance(resource, dict) else None
    if not isinstance(metadata, dict):
        return TemplateEdit(name, line, "add beside its Type and Properties:\n    Metadata:\n      BuildMethod: makefile")
    method = metadata.get("BuildMethod")
    if method == "makefile":
        return None
    at = metadata.line_of("BuildMethod") if method is not None and hasattr(metadata, "line_of") else 0
    if method is not None:
        return TemplateEdit(name, at or line, f"change its Metadata's BuildMethod from {method!r} to makefile")
    return TemplateEdit(name, line, "add to its Metadata:\n      BuildMethod: makefile")


def makefile_block(makefile: Path, template: Path, names: Sequence[str]) -> str:
    relative = os.path.relpath(template, makefile.parent).replace(os.sep, "/")
    if any(c.isspace() for c in relative) or "$" in relative:
        raise UsageError(f"{template}: make cannot name a path holding spaces or '$' ({relative!r})",
                         tip="move the project to a path without them")
    targets = "".join(
        f"\nbuild-{name}:\n\t$(LPACK) build \"$(LPACK_SAM_TEMPLATE)\" --function {name} --out \"$(ARTIFACTS_DIR)\"\n"
        for name in sorted(names))
    return (f"{BEGIN}\n"
            "# Written by `lpack sam-makefile`; run it again to update this block, edit outside it.\n"
            "# `sam build` (BuildMethod: makefile) runs `make build-LOGICALID` with ARTIFACTS_DIR set: lpack\n"
            "# builds the function from the template and its lock and writes the package's files there.\n"
            "LPACK ?= lpack\n"
            f"LPACK_SAM_TEMPLATE := $(abspath $(dir $(firstword $(MAKEFILE_LIST))){relative})\n"
            f"{targets}{END}\n")


def _write_makefile(makefile: Path, template: Path, names: Sequence[str]) -> MakefileResult:
    block = makefile_block(makefile, template, names)
    try:
        old = makefile.read_text(encoding="utf-8") if makefile.exists() else None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{makefile}: cannot read: {exc}") from exc
    if old is None:
        text = block
    elif BEGIN in old and END in old:
        start, end = old.index(BEGIN), old.index(END) + len(END)
        rest = old[:start] + old[end:]
        _refuse_own_targets(makefile, rest, names)
        text = old[:start] + block.rstrip("\n") + old[end:]
    else:
        _refuse_own_targets(makefile, old, names)
        text = old + ("" if old.endswith("\n") or not old else "\n") + "\n" + block
    if text != old:
        atomic_write_text(makefile, text)
    return MakefileResult(makefile, tuple(sorted(names)), text != old)


def _refuse_own_targets(makefile: Path, text: str, names: Sequence[str]) -> None:
    for name in names:
        if any(line.startswith(f"build-{name}:") for line in _lines(text)):
            raise UsageError(f"{makefile}: already has a build-{name} target that lpack did not write; "
                             "lpack adds its targets in a block of its own and changes nothing else",
                             tip="remove or rename that target, then run `lpack sam-makefile` again")


def _lines(text: str) -> Iterator[str]:
    yield from (line.strip() for line in text.splitlines())
