"""`lpack terraform-external`: a program for Terraform's ``external`` data source.

Terraform's protocol (hashicorp/external): the program reads one JSON object whose values are
all strings (the data source's ``query``; keys with null values are dropped, no query is ``{}``)
on stdin, and prints one JSON object whose values are all strings on stdout, exit 0; on a
non-zero exit Terraform ignores stdout and shows stderr as the error. The program runs in the
data source's ``working_dir``, else where Terraform runs, so relative paths in the query and
in the result are relative to that folder.

Terraform reads data sources at every plan: the build is lpack's normal build (its cache makes a
rebuild with nothing changed install and recompress nothing), and it writes the zip only, to the
project's dist/ (or ``dist`` in the query), never into the function's source.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

from lpack.bundle.builder import Artifact, BuildOptions, build_project
from lpack.core.decide import filter_findings
from lpack.core.errors import ConfigError, UsageError
from lpack.core.findings import Finding, Severity
from lpack.core.targets import make_target
from lpack.inputs.config import Project, Unit

WHERE = "terraform-external query"

# The query's keys: every value is a string, "" is the same as leaving the key out (a module
# variable that defaults to "").
QUERY_KEYS: dict[str, str] = {
    "project": "project folder, or its pyproject.toml/lpack.toml (default: .)",
    "function": "the function or layer to build (default: the project's one function)",
    "runtime": "target runtime, e.g. python3.12 (default: the configuration's)",
    "architecture": "x86_64 or arm64 (default: the configuration's)",
    "template": "a SAM or CloudFormation template whose functions to build, instead of project",
    "config": "read [tool.lpack] from this file",
    "dist": "the folder the zip is written to (default: the project's dist/)",
    "cache_dir": "dependency cache (default: $LPACK_CACHE_DIR, else ~/.cache/lpack)",
}


class Query(NamedTuple):
    project: Path = Path(".")
    function: str | None = None
    runtime: str | None = None
    architecture: str | None = None
    template: Path | None = None
    config: Path | None = None
    dist: Path | None = None
    cache_dir: Path | None = None


def parse_query(text: str) -> Query:
    """The query Terraform wrote on stdin; a mistake is one line naming what to fix."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        got = "nothing" if not text.strip() else f"invalid JSON ({exc})"
        raise UsageError(f"{WHERE}: expected a JSON object of strings on stdin, as Terraform's external "
                         f"data source sends its query, got {got}") from None
    if not isinstance(data, dict):
        raise UsageError(f"{WHERE}: expected a JSON object of strings on stdin, got a JSON {_kind(data)}")
    return _query(data)


def _query(data: Mapping[str, object]) -> Query:
    import difflib

    values: dict[str, str] = {}
    for key, value in data.items():
        if key not in QUERY_KEYS:
            close = difflib.get_close_matches(key, QUERY_KEYS, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise UsageError(f"{WHERE}: unknown key {key!r}; {hint}the keys are {', '.join(QUERY_KEYS)}")
        if not isinstance(value, str):
            raise UsageError(f"{WHERE}: {key!r} must be a string (Terraform's query is a map of strings), "
                             f"got a JSON {_kind(value)}")
        if value:
            values[key] = value
    if "runtime" in values or "architecture" in values:  # the same words as --runtime and --arch
        make_target(values.get("runtime"), values.get("architecture"), where=WHERE)
    paths = {k: Path(v) for k, v in values.items() if k in ("project", "template", "config", "dist", "cache_dir")}
    return Query(**{**values, **paths})  # type: ignore[arg-type]


def _kind(value: object) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", int: "number", float: "number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _load(query: Query) -> Project:
    if query.template is not None:
        from lpack.inputs.template import load_template

        project = load_template(query.template).project
    else:
        from lpack.inputs.detect import load

        project = load(query.project, query.config)[0]
    return project if query.dist is None else project._replace(dist=query.dist)


def _unit(project: Project, name: str | None) -> Unit:
    if name is not None:
        return project.unit(name)  # an unknown name: its error names the project's functions and layers
    functions = [u for u in project.units if u.kind == "function"]
    if len(functions) == 1:
        return functions[0]
    names = ", ".join(u.name for u in functions) or "none"
    raise UsageError(f"{project.describe()}: the project has {len(functions)} functions ({names}); "
                     f"say which with \"function\" in the query")


def terraform_external(query: Query) -> tuple[Artifact, Unit, list[Finding]]:
    """Build the query's function as `lpack build --function NAME` does; the findings reported are
    the build's, after the project's select/ignore. A function that cannot be built, or whose
    package has an error-severity finding (it would not start on Lambda), is an error here:
    Terraform would otherwise deploy it."""
    project = _load(query)
    unit = _unit(project, query.function)
    options = BuildOptions(runtime=query.runtime, architecture=query.architecture, functions=(unit.name,),
                           cache_dir=query.cache_dir)
    result = build_project(project, options)
    for _, error in result.failures:
        raise error
    findings = filter_findings(result.findings, project.select, project.ignore, project.per_path_ignores)
    errors = [f for f in findings if f.severity is Severity.ERROR]
    if errors or not result.artifacts:
        first = errors[0] if errors else None
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        what = f"{first.code} {first.message}" if first else "nothing was built"
        raise ConfigError(f"{unit.name}: {what}{more}; `lpack check` shows every finding, "
                          f"`ignore` in [tool.lpack] silences one")
    return result.artifacts[0], unit, findings


def result(artifact: Artifact, unit_handler: str | None, cwd: Path) -> dict[str, str]:
    """The data source's ``result``: a flat map of strings. ``filename`` is relative to ``cwd``,
    the folder the program runs in, which is where Terraform resolves a relative ``filename``:
    the same on every machine and in CI, so the plan does not change with the checkout's path."""
    try:
        filename = os.path.relpath(artifact.path.resolve(), cwd.resolve())
    except ValueError:  # Windows: another drive has no relative path
        filename = str(artifact.path.resolve())
    return {
        "filename": Path(filename).as_posix(),
        "source_code_hash": artifact.sha256_base64,  # aws_lambda_function's name for it
        "output_base64sha256": artifact.sha256_base64,  # archive_file's, which modules pass on
        "output_sha256": artifact.sha256,
        "output_size": str(artifact.size_zipped),
        "function": artifact.name,
        "kind": artifact.kind,
        "handler": unit_handler or "",
        "runtime": artifact.target.runtime.name,
        "architecture": artifact.target.architecture,
    }


def run(text: str, cwd: Path) -> tuple[dict[str, str], list[Finding]]:
    """stdin's text -> the result to print, and the findings below error severity (warnings)."""
    query = parse_query(text)
    artifact, unit, findings = terraform_external(query)
    return result(artifact, unit.handler, cwd), findings
