"""Find and load a project's configuration, validate it with schemas/, apply defaults -> Project.

Zero config: a folder with ``lambda_function.py`` (and optionally ``requirements.txt``) is one
function with the Lambda console's default handler. Otherwise ``[tool.lpack]`` in
``pyproject.toml``, or the same table at the top of ``lpack.toml``.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from lpack.core.compat import tomllib
from lpack.core.errors import ConfigError
from lpack.core.features import NONE as NO_FEATURES
from lpack.core.features import Features
from lpack.inputs import simple_toml
from lpack.inputs.locked import Selection

if TYPE_CHECKING:
    from lpack.inputs.declared import Choice

DEFAULT_HANDLER = "lambda_function.lambda_handler"
DEFAULT_MODULE_FILE = "lambda_function.py"
DEFAULT_REQUIREMENTS = "requirements.txt"
# What a declared layer inherits from the top level: not `source`, since a layer holds
# dependencies only (a layer that shipped the functions' code would change with every edit).
INHERITED = ("runtime", "architecture", "requirements", "upload", "slim")
# Keys of the project as a whole: every other top-level key is a function setting that each
# [tool.lpack.functions.*] table inherits unless it sets its own (environment maps merge).
PROJECT_KEYS = frozenset({"functions", "layers", "name", "dist", "installer", "select", "ignore", "per-path-ignores",
                          "follow-links"})
DEPENDENCY_KEYS = ("requirements", "lock", "package", "groups", "extras")
MAX_DEPTH = 100  # levels of nested tables and arrays a configuration may have


class FunctionSettings(NamedTuple):
    """A function's settings beyond what shapes its package, as configured ([tool.lpack] keys or a
    template's properties): check's rules judge their types and ranges, invoke runs with them."""

    memory: object = None  # MB
    timeout: object = None  # seconds
    ephemeral_storage: object = None  # MB of /tmp
    environment: Mapping[str, object] | None = None
    invocation: str = "sync"  # "sync" or "async": which payload limit its events have
    log_format: object = None  # Lambda's LoggingConfig.LogFormat
    log_level: object = None  # LoggingConfig.ApplicationLogLevel
    events: str | None = None  # a test event file or folder, relative to the project
    policies: tuple[str, ...] = ()  # the execution role's permission policies (files or ARNs)
    inline_policies: tuple[str, ...] = ()
    trust_policy: str | None = None
    resource_policy: str | None = None
    package: Path | None = None  # a template's code is an already built .zip: nothing to build
    features: Features = NO_FEATURES  # SnapStart, Managed Instances, durable, tenancy ... (a template's)

    @property
    def lambda_features(self) -> Features:
        """``features``, with the exec wrapper its environment names (``AWS_LAMBDA_EXEC_WRAPPER``)."""
        wrapper = (self.environment or {}).get("AWS_LAMBDA_EXEC_WRAPPER")
        if not isinstance(wrapper, str) or self.features.exec_wrapper is not None:
            return self.features
        return self.features._replace(exec_wrapper=wrapper)

    @classmethod
    def from_table(cls, table: Mapping[str, Any]) -> FunctionSettings:
        """From configuration keys (``ephemeral-storage``, ``log-format`` ...)."""
        values = {_SETTING_KEYS[key]: value for key, value in table.items() if key in _SETTING_KEYS}
        if not values and "snap-start" not in table and cls is FunctionSettings:
            return _NO_SETTINGS
        for name in ("policies", "inline_policies"):
            if name in values:
                values[name] = tuple(values[name])
        if "environment" in values and not isinstance(values["environment"], Mapping):
            values.pop("environment")
        if "package" in values:
            values["package"] = Path(values["package"])
        if "snap-start" in table:
            values["features"] = _snap_start(table["snap-start"])
        return cls(**values)

    def configured(self) -> dict[str, object]:
        """The settings that were set, by their configuration keys."""
        defaults = FunctionSettings()
        return {key: getattr(self, name) for key, name in _SETTING_KEYS.items()
                if getattr(self, name) != getattr(defaults, name)}


def _snap_start(value: object) -> Features:
    """``snap-start = true`` (or ``"PublishedVersions"``): a function deployed with SnapStart, whose
    versions the deployment publishes (lpack cannot see that outside a template)."""
    apply_on = ("PublishedVersions" if value else "None") if isinstance(value, bool) else value
    return Features(snap_start=apply_on, published=apply_on == "PublishedVersions")


_NO_SETTINGS = FunctionSettings()

# configuration key -> FunctionSettings field
_SETTING_KEYS = {
    "memory": "memory", "timeout": "timeout", "ephemeral-storage": "ephemeral_storage",
    "environment": "environment", "invocation": "invocation", "log-format": "log_format",
    "log-level": "log_level", "events": "events", "policies": "policies",
    "inline-policies": "inline_policies", "trust-policy": "trust_policy",
    "resource-policy": "resource_policy", "prebuilt-package": "package",
}


class Unit(NamedTuple):
    """One thing to build: a function or a layer, with its settings resolved against the root."""

    name: str
    kind: str  # "function" or "layer"
    where: str  # where it is configured, for messages
    source: Path | None
    requirements: Path | None
    handler: str | None = None
    runtime: str | None = None
    architecture: str | None = None
    exclude: tuple[str, ...] = ()
    layers: tuple[str, ...] = ()
    upload: str = "direct"
    settings: FunctionSettings = FunctionSettings()
    lock: Path | None = None  # a lock file read natively (uv.lock, poetry.lock, ...)
    manifest: Path | None = None  # pyproject.toml whose [project] dependencies install unlocked
    selection: Selection = Selection()  # workspace member, groups and extras of the lock
    dependency_note: str = ""  # a declaration set aside, and why
    unlocked: Path | None = None  # requirements.in never locked: `lpack lock` locks it, the rest refuse
    include: tuple[str, ...] = ()  # patterns that bring back files lpack leaves out by default
    slim: bool = False  # leave out of the dependencies what is provably unneeded (lpack.bundle.slim)
    # a deploy tool's packaging patterns over the unit's own files only (gitignore lines: Serverless's package.patterns)
    source_patterns: tuple[str, ...] = ()

    @property
    def dependencies(self) -> Path | None:
        """The file the dependencies are installed from, if any."""
        return self.requirements or self.lock or self.manifest


class Project(NamedTuple):
    root: Path
    config_path: Path | None
    dist: Path
    installer: str | None
    units: tuple[Unit, ...]
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    per_path_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    follow_links: tuple[Path, ...] = ()  # folders outside the project that its links may bring in

    def unit(self, name: str) -> Unit:
        for unit in self.units:
            if unit.name == name:
                return unit
        names = [u.name for u in self.units]
        hint = _suggest(name, names) or f"; this project has: {', '.join(names)}"
        raise ConfigError(f"{self.describe()}: no function or layer named {name!r}{hint}")

    def describe(self) -> str:
        return str(self.config_path or self.root)


def _schema_text(name: str) -> str:
    # lpack/schemas is the repository's schemas/ folder, shipped inside the package
    return (Path(__file__).parent.parent / "schemas" / name).read_text(encoding="utf-8")


def load_schema(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_schema_text(name))
    return data


def load_project(path: Path, config: Path | None = None, *, engine: str = "lpack") -> Project:
    """Load the project at ``path`` (a folder, or a pyproject.toml/lpack.toml file), its
    configuration checked by lpack's own schema checker or (``engine="jsonschema"``) jsonschema."""
    if config is not None:
        return _from_file(config, config.parent if path.is_file() else path, engine)
    if path.is_file():
        return _from_file(path, path.parent, engine)
    if not path.is_dir():
        raise ConfigError(f"{path}: no such project folder; pass the folder that holds your function")
    for candidate in (path / "lpack.toml", path / "pyproject.toml"):
        if candidate.is_file():
            table = _read_table(candidate)
            if table is not None:
                return project_from_table(candidate, path, table, engine=engine)
    if (path / DEFAULT_MODULE_FILE).is_file():
        return project_from_table(None, path, {})
    terraform = sorted(path.glob("*.tf"))
    if terraform:  # a folder Terraform deploys: its functions are in HCL, which lpack does not read
        raise ConfigError(
            f"{path}: no Lambda function lpack can read: it does not read Terraform ({terraform[0].name}); "
            "describe the function in an lpack.toml here (source, handler, runtime) or let Terraform "
            "build it with `lpack terraform-external` (docs/integrations.md, Terraform)",
        )
    found = _handler_candidates(path)
    if len(found) == 1:  # one function with the handler's signature: say how to name it
        where = "[tool.lpack] in pyproject.toml" if (path / "pyproject.toml").is_file() else "an lpack.toml"
        raise ConfigError(
            f"{path}: no Lambda function configured; {found[0][1]} in {found[0][0]} looks like its handler: "
            f"set `handler = \"{found[0][2]}\"` in {where}",
        )
    raise ConfigError(
        f"{path}: no Lambda function found; add {DEFAULT_MODULE_FILE} (zero config) "
        "or a [tool.lpack] table to pyproject.toml",
    )


# A top-level function that takes (event, context), as Lambda calls a handler, however its
# parameters are spelt (``_context``, ``event: dict``, ``ctx: LambdaContext``); not `async def`: the
# runtime does not await a coroutine.
_HANDLER_DEF = re.compile(r"^def\s+([A-Za-z_]\w*)\s*\(\s*_?(?:event|evt)\w*\s*(?::[^,)]*)?,"
                          r"\s*_?(?:context|ctx)\w*\s*(?::[^,)]*)?(?:=[^,)]*)?\)", re.MULTILINE)
_NOT_CODE = {".venv", "venv", ".git", "node_modules", "tests", "test", "dist", "build", ".aws-sam", "cdk.out",
             "__pycache__", ".tox", ".mypy_cache", ".ruff_cache"}


def _handler_candidates(root: Path, limit: int = 200) -> list[tuple[str, str, str]]:
    """(file, function, handler string) of each top-level ``def NAME(event, context)`` in the
    folder's Python files (a ``src/`` layout named as its package), reading at most ``limit``
    files: what a folder without configuration most likely deploys."""
    found: list[tuple[str, str, str]] = []
    read = 0
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = sorted(d for d in subfolders if d not in _NOT_CODE and not d.startswith("."))
        for name in sorted(files):
            if not name.endswith(".py") or name.startswith("test_") or read >= limit:
                continue
            read += 1
            path = Path(folder) / name
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            rel = path.relative_to(root)
            parts = list(rel.with_suffix("").parts)
            if parts[0] == "src" and len(parts) > 1:
                parts = parts[1:]
            if parts[-1] == "__init__":
                parts = parts[:-1]
            for match in _HANDLER_DEF.finditer(text):
                if parts:
                    found.append((rel.as_posix(), f"{match[1]}(event, context)", ".".join([*parts, match[1]])))
    return found


def has_config(path: Path) -> bool:
    """Whether a pyproject.toml has a [tool.lpack] table (an lpack.toml always is one)."""
    return path.name == "lpack.toml" or _read_table(path) is not None


def _from_file(config: Path, root: Path, engine: str) -> Project:
    if not config.is_file():
        raise ConfigError(f"{config}: no such configuration file")
    table = _read_table(config)
    if table is None:
        raise ConfigError(f"{config}: no [tool.lpack] table; add one (see `lpack build --help`)")
    return project_from_table(config, root, table, engine=engine)


def _read_table(path: Path) -> dict[str, Any] | None:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    data = simple_toml.loads(text)
    return _tool_table(path, data if data is not None else _parsed(path, text))


def _parsed(path: Path, text: str) -> dict[str, Any]:
    """``text`` as tomllib reads it (what lpack.inputs.simple_toml does not read)."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
    except ValueError as exc:  # an integer over Python's 4,300-digit limit
        raise ConfigError(f"{path}: invalid TOML: a number has more than 4,300 digits") from exc
    except RecursionError as exc:
        raise ConfigError(f"{path}: invalid TOML: nested more than {MAX_DEPTH} levels deep") from exc


def _tool_table(path: Path, data: dict[str, Any]) -> dict[str, Any] | None:
    if _depth(data) > MAX_DEPTH:
        raise ConfigError(f"{path}: invalid TOML: nested more than {MAX_DEPTH} levels deep")
    if path.name == "lpack.toml":
        if "tool" in data and isinstance(data["tool"], dict) and "lpack" in data["tool"]:
            raise ConfigError(f"{path}: write the settings at the top of lpack.toml, without a [tool.lpack] header")
        return data
    tool = data.get("tool", {})
    table = tool.get("lpack") if isinstance(tool, dict) else None
    return table if isinstance(table, dict) else None


def _depth(value: object) -> int:
    """How deeply tables and arrays nest (without recursion: the value may be hostile). A value
    that is neither counts one level below its table or array, without a turn of the loop."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            break
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        for child in children:
            if isinstance(child, (dict, list)):
                stack.append((child, depth + 1))
            elif depth + 1 > deepest:
                deepest = depth + 1
    return deepest


def _validate(table: Mapping[str, Any], config: Path, engine: str) -> None:
    """Validate against schemas/lpack.schema.json (lpack's own checker: 0.03 ms for one function,
    ~6 ms for 400). A configuration of many units that validated before (same schema, same
    content) is remembered in the cache by a digest (~1 ms at 400 functions: a tenth of a
    pre-commit check there); a small one is checked each time, which costs less than the marker."""
    if engine != "lpack" or _units(table) < _MARKED_FROM_UNITS:
        _check(table, config, load_schema("lpack.schema.json"), engine)
        return
    from lpack.core.cache import default_root

    schema_text = _schema_text("lpack.schema.json")
    marker = default_root() / "valid-config" / _digest(schema_text + json.dumps(table, sort_keys=True, default=str))
    if marker.exists():
        return
    _check(table, config, json.loads(schema_text), engine)
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
    except OSError:
        pass  # a read-only cache only costs speed


_MARKED_FROM_UNITS = 50  # measured: below this many functions and layers, checking costs less than the marker


def _units(table: Mapping[str, Any]) -> int:
    return sum(len(part) for part in (table.get("functions"), table.get("layers")) if isinstance(part, dict))


def _digest(text: str) -> str:
    """The name of a validation marker: blake2b without hashlib, whose import loads OpenSSL (~2 ms
    of every check); a digest of the table, from which nothing of it (no secret) can be read."""
    try:
        from _blake2 import blake2b
    except ImportError:  # pragma: no cover - a Python built without it
        from hashlib import blake2b
    return blake2b(text.encode(), digest_size=32).hexdigest()


# The optional modules jsonschema imports, if installed, to check string formats (`iri`, `duration`,
# `color` ...). lpack's schemas are checked without format checking, so they are never used here;
# rfc3987_syntax alone (jsonschema[format], e.g. pulled in by cyclonedx-python-lib or Jupyter)
# compiles ~40 grammars at import: 0.8 s of every cold build's start-up, against 0.05 s for the rest.
_FORMAT_MODULES = ("fqdn", "idna", "isoduration", "jsonpointer", "rfc3339_validator", "rfc3986_validator",
                   "rfc3987", "rfc3987_syntax", "uri_template", "webcolors")


def _jsonschema() -> Any:
    """jsonschema, imported (the first time) with its format checkers' optional modules hidden;
    they are importable again after. Its FormatChecker in this process then lacks those formats,
    which lpack never checks."""
    import sys

    if "jsonschema" in sys.modules:
        return sys.modules["jsonschema"]
    hidden = [name for name in _FORMAT_MODULES if name not in sys.modules]
    sys.modules.update(dict.fromkeys(hidden))  # type: ignore[arg-type]  # None: `import name` raises ImportError
    try:
        import jsonschema
    finally:
        for name in hidden:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]
    return jsonschema


def _check(table: Mapping[str, Any], config: Path, schema: dict[str, Any], engine: str = "lpack") -> None:
    errors = _schema_errors(table, schema, engine)
    if not errors:
        return
    prefix = [] if config.name == "lpack.toml" else ["tool", "lpack"]
    lines = _key_lines(config.read_text(encoding="utf-8"))
    found = sorted({m for error in errors for m in _mistakes(_branch_error(error), prefix)},
                   key=lambda m: (_line_of(lines, m[0]), m))
    raise ConfigError("\n".join(f"{config}:{_line_of(lines, path)}: {'.'.join(path) or '(top level)'}: {problem}"
                                 for path, problem in found))


def _schema_errors(table: Mapping[str, Any], schema: dict[str, Any], engine: str) -> list[Any]:
    """The table's mistakes against the schema, found by lpack's own checker (no jsonschema import:
    ~50 ms of every cold build) unless ``engine`` is "jsonschema" or the schema uses something
    that checker does not know. Both give errors with the same attributes and the same answers
    (tests/inputs/test_schema_check.py)."""
    if engine == "lpack":
        from lpack.inputs import _schema_check

        try:
            return list(_schema_check.iter_errors(schema, table))
        except _schema_check.Unsupported:
            pass
    jsonschema = _jsonschema()
    return list(jsonschema.validators.validator_for(schema)(schema).iter_errors(table))


def _mistakes(error: Any, prefix: list[str]) -> Iterator[tuple[tuple[str, ...], str]]:
    """Each mistake of one schema error as (the key's dotted path, what is wrong); an error
    about unknown keys is one mistake per key."""
    path = (*prefix, *map(str, error.absolute_path))
    if error.validator != "additionalProperties":
        yield path, _explain(error)
        return
    allowed = list(error.schema.get("properties", {}))
    for key in (k for k in error.instance if k not in allowed):
        yield (*path, key), f"unknown key{_suggest(key, allowed)}"


def _key_lines(text: str) -> dict[tuple[str, ...], int]:
    """The line of every table header and ``key =`` in a TOML text, by its full dotted path."""
    lines: dict[tuple[str, ...], int] = {}
    table: tuple[str, ...] = ()
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if stripped.startswith("["):
            table = _dotted(stripped.strip("[]").split("]", 1)[0])
            lines.setdefault(table, number)
        elif "=" in stripped and not stripped.startswith("#"):
            lines.setdefault((*table, *_dotted(stripped.split("=", 1)[0])), number)
    return lines


def _dotted(key: str) -> tuple[str, ...]:
    return tuple(part.strip().strip("\"'") for part in key.split("."))


def _line_of(lines: Mapping[tuple[str, ...], int], path: tuple[str, ...]) -> int:
    """The line of the deepest written key on ``path`` (``ignore`` for ``ignore.0``), else 1."""
    for end in range(len(path), 0, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return 1


def _branch_error(error: Any) -> Any:
    """For a value that may take several shapes (anyOf), the mistake inside the shape it has,
    not "is not valid under any of the given schemas"."""
    while error.validator in ("anyOf", "oneOf") and error.context:
        same_shape = [e for e in error.context if e.validator != "type" or e.absolute_path != error.absolute_path]
        error = max(same_shape or error.context, key=lambda e: len(e.absolute_path))
    return error


def _explain(error: Any) -> str:
    if error.validator == "enum":
        allowed = ", ".join(str(v).lower() if isinstance(v, bool) else str(v) for v in error.validator_value)
        return f"{error.instance!r} is not allowed; use one of: {allowed}"  # true/false as TOML writes them
    if error.validator == "type":
        return f"expected {error.validator_value}, got {type(error.instance).__name__} {error.instance!r}"
    if error.validator == "pattern" and isinstance(error.instance, str):
        return f"{error.instance!r} does not match the pattern {error.validator_value}"
    return str(error.message)


def _suggest(word: str, choices: Iterable[str]) -> str:
    import difflib  # only a mistake pays for it

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def project_from_table(config: Path | None, root: Path, table: dict[str, Any], *, engine: str = "lpack") -> Project:
    """The project a configuration table describes (``config`` None: a zero-config folder, whose
    table a deploy tool may give, e.g. ``{"handler": "app.handler"}``)."""
    root = root.resolve()
    label = str(config) if config else str(root)
    if config is not None:
        _validate(table, config, engine)
    prefix = "" if config is None or config.name == "lpack.toml" else "tool.lpack."
    paths = _Paths(root)
    project_layers = table.get("layers", {})
    if isinstance(project_layers, list):  # one function's layer ARNs, not layers to build
        project_layers = {}
    layers = {
        name: _unit(paths, label, f"{prefix}layers.{name}", name, "layer", _inherit(table, spec, with_requirements=True))
        for name, spec in project_layers.items()
    }
    functions: dict[str, Unit] = {}
    for name, spec in table.get("functions", {}).items():
        uses_project_layer = any(layer in layers for layer in spec.get("layers", []))
        merged = _inherit_function(table, spec, with_dependencies=not uses_project_layer)
        functions[name] = _unit(paths, label, f"{prefix}functions.{name}", name, "function", merged,
                                detect=not uses_project_layer)
    if not functions and not layers or ("handler" in table and not functions):
        name = table.get("name") or _function_name(root)
        functions[name] = _unit(paths, label, prefix.rstrip(".") or "project", name, "function", table)
    for fn in functions.values():
        for layer in fn.layers:
            if layer not in layers and not layer.startswith("arn:"):
                raise ConfigError(
                    f"{label}: {fn.where}.layers: no layer named {layer!r} in this project"
                    f"{_suggest(layer, layers)} (a layer is a [tool.lpack.layers.NAME] table or a layer version ARN)"
                )
    clash = set(functions) & set(layers)
    if clash:
        raise ConfigError(f"{label}: {min(clash)!r} names both a function and a layer; each builds dist/NAME.zip, so rename one")
    _no_nul(table.get("dist"), label, f"{prefix}dist")
    return Project(
        root=root, config_path=config, dist=root / table.get("dist", "dist"),
        installer=table.get("installer"), units=(*functions.values(), *layers.values()),
        select=tuple(table.get("select", ())), ignore=tuple(table.get("ignore", ())),
        per_path_ignores=tuple((glob, tuple(codes)) for glob, codes in table.get("per-path-ignores", {}).items()),
        follow_links=tuple(_linkable(paths, value, label, f"{prefix}follow-links") for value in table.get("follow-links", ())),
    )


def _inherit(top: Mapping[str, Any], spec: Mapping[str, Any], *, with_requirements: bool) -> dict[str, Any]:
    merged = {k: top[k] for k in INHERITED if k in top and (with_requirements or k != "requirements")}
    merged.update(spec)
    _merge_patterns(merged, top, spec)
    return merged


def _inherit_function(top: Mapping[str, Any], spec: Mapping[str, Any], *, with_dependencies: bool) -> dict[str, Any]:
    """A function's settings: its own, else the top level's (a function that takes its
    dependencies from a project layer does not inherit the top level's dependency keys)."""
    merged = {k: v for k, v in top.items() if k not in PROJECT_KEYS
              and (with_dependencies or k not in DEPENDENCY_KEYS)}
    if isinstance(top.get("layers"), list):
        merged["layers"] = top["layers"]  # the top level's layer ARNs
    merged.update(spec)
    _merge_patterns(merged, top, spec)
    if isinstance(top.get("environment"), dict) and isinstance(spec.get("environment"), dict):
        merged["environment"] = {**top["environment"], **spec["environment"]}
    return merged


def _merge_patterns(merged: dict[str, Any], top: Mapping[str, Any], spec: Mapping[str, Any]) -> None:
    """``exclude`` and ``include`` patterns add to the top level's."""
    for key in ("exclude", "include"):
        merged[key] = [*top.get(key, []), *spec.get(key, [])]


def _function_name(root: Path) -> str:
    name = re.sub(r"[^a-zA-Z0-9_-]+", "-", root.name).strip("-")
    return name[:64] or "function"


def _unit(paths: _Paths, label: str, where: str, name: str, kind: str, spec: Mapping[str, Any],
          *, detect: bool = True) -> Unit:
    source = _existing_dir(paths, spec.get("source"), label, f"{where}.source") if "source" in spec else None
    if kind == "function" and source is None:
        source = paths.root
    choice = _dependencies(paths, label, where, kind, spec, source if detect else None)
    if kind == "layer" and source is None and choice.path is None:
        raise ConfigError(f"{label}: {where}: a layer needs `requirements`, `lock` or `source`")
    settings = FunctionSettings.from_table(spec)
    selection = Selection(spec.get("package") or choice.package, tuple(spec.get("groups", ())),
                          tuple(spec.get("extras", ())))
    return Unit(
        name=name, kind=kind, where=where, source=source, requirements=choice.requirements,
        lock=choice.lock, manifest=choice.manifest, selection=selection, dependency_note=choice.note,
        unlocked=choice.unlocked,
        handler=spec.get("handler", DEFAULT_HANDLER) if kind == "function" else None,
        runtime=spec.get("runtime"), architecture=spec.get("architecture"),
        exclude=tuple(spec.get("exclude", ())), include=tuple(spec.get("include", ())), layers=tuple(spec.get("layers", ())),
        upload=spec.get("upload", "direct"), settings=settings, slim=spec.get("slim", False) is True,
    )


def _dependencies(paths: _Paths, label: str, where: str, kind: str, spec: Mapping[str, Any],
                  source: Path | None) -> Choice:
    """The declaration this unit installs from: configured, else found in the project's root and
    the function's source folder (layers only install what they name)."""
    from lpack.inputs.declared import choose

    requirements = _existing_file(paths, spec.get("requirements"), label, f"{where}.requirements")
    lock = _existing_file(paths, spec.get("lock"), label, f"{where}.lock")
    if requirements or lock or kind == "layer" or source is None:
        return choose((), f"{label}: {where}", requirements=requirements, lock=lock)
    return choose(dict.fromkeys([paths.root, source]), f"{label}: {where}")


class _Paths:
    """The paths one configuration names, resolved under its (resolved) root as
    ``(root / value).resolve()`` would, asking once per load whether each folder on the way is a
    link: 400 functions' folders share their parents, and resolving each whole (a stat per part
    of the path) was most of loading a large project. A path with a link or ``..`` on the way,
    or an absolute one, is resolved whole. What asking told (the mode of each path that is no
    link) also says whether it is a folder or a file, and a value named again (the requirements
    file 80 functions share) is answered from the first time."""

    def __init__(self, root: Path) -> None:
        self.root = root
        # each path on the way, as named ("/functions/api"), known to be no link: its mode, None if not there
        self.plain: dict[str, tuple[Path, int | None]] = {}
        self.named: dict[str, tuple[Path, int | None]] = {}  # each value found, as written

    def resolve(self, value: str) -> Path:
        return self.found(value)[0]

    def found(self, value: str) -> tuple[Path, int | None]:
        """The path ``value`` names, and its mode when it is known to be no link (None when it
        was resolved whole, or is not there)."""
        if not isinstance(value, str):
            return self._found(value)
        known = self.named.get(value)
        if known is None:
            known = self.named[value] = self._found(value)
        return known

    def _found(self, value: str) -> tuple[Path, int | None]:
        parts = [part for part in value.split("/") if part not in ("", ".")] if isinstance(value, str) else [".."]
        if ".." in parts or os.sep != "/" or value.startswith("/"):
            return (self.root / value).resolve(), None
        here, mode, named = self.root, None, ""
        for part in parts:
            named = f"{named}/{part}"
            known = self.plain.get(named)
            if known is None:
                path = here / part
                try:
                    mode = os.lstat(path).st_mode
                except (OSError, ValueError):  # not there: no link either (os.path.islink)
                    mode = None
                if mode is not None and stat.S_ISLNK(mode):
                    return (self.root / value).resolve(), None
                known = self.plain[named] = (path, mode)
            here, mode = known
        return here, mode


def _no_nul(value: object, label: str, key: str) -> None:
    if isinstance(value, str) and "\0" in value:
        raise ConfigError(f"{label}: {key}: {value!r} holds a NUL character, which no path can; remove it")


def _existing_dir(paths: _Paths, value: str | None, label: str, key: str) -> Path | None:
    if value is None:
        return None
    _no_nul(value, label, key)
    path, mode = paths.found(value)
    if not (stat.S_ISDIR(mode) if mode is not None else path.is_dir()):
        raise ConfigError(f"{label}: {key}: folder {value!r} does not exist under {paths.root}")
    return path


def _linkable(paths: _Paths, value: str, label: str, key: str) -> Path:
    """A folder the project's links may lead to (``follow-links``): one that exists."""
    _no_nul(value, label, key)
    path = paths.resolve(value)
    if not path.is_dir():
        what = "is not a folder" if path.exists() else "does not exist"
        raise ConfigError(f"{label}: {key}: {value!r} ({path}) {what}; list the folders that links in the "
                          "source lead to, relative to the project")
    return path


def _existing_file(paths: _Paths, value: str | None, label: str, key: str) -> Path | None:
    if value is None:
        return None
    _no_nul(value, label, key)
    path, mode = paths.found(value)
    if not (stat.S_ISREG(mode) if mode is not None else path.is_file()):
        raise ConfigError(f"{label}: {key}: file {value!r} does not exist under {paths.root}")
    return path
