"""`lpack check`: static checks without building: a project, or any package zip.

Data flows one way: inputs -> subjects (lpack.analysis) -> rules -> findings. Nothing here prints.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from lpack.analysis.package import at_source_files, display_path, index_directory, read_package
from lpack.analysis.subjects import EventFile, FunctionSubject, PackageSubject
from lpack.core import clock
from lpack.core.errors import LpackError, UsageError
from lpack.core.findings import Finding, Location
from lpack.core.targets import Target, make_target
from lpack.inputs.config import Project, Unit, load_project
from lpack.inputs.environment import read_env
from lpack.plan import Plan, plan
from lpack.rules import engine

if TYPE_CHECKING:
    import datetime as dt

    from lpack.analysis.aws_calls import CodeUse
    from lpack.iam.policy import ParsedPolicy
    from lpack.inputs.template import Template


class CheckOptions(NamedTuple):
    handler: str | None = None
    runtime: str | None = None
    architecture: str | None = None
    kind: str | None = None  # "function" or "layer", for a zip
    layers: tuple[Path, ...] = ()
    env: Path | None = None
    events: tuple[Path, ...] = ()
    async_events: tuple[Path, ...] = ()
    functions: tuple[str, ...] = ()
    config: Path | None = None
    today: dt.date | None = None
    policy_kind: str | None = None  # "identity", "resource" or "trust"; else inferred per file
    role: tuple[Path, ...] = ()  # one execution role's complete set of permission policies
    role_inline: tuple[Path, ...] = ()  # that role's inline policies
    source: bool = False  # check a project's source even when dist/ holds a (maybe stale) zip
    # `check --files`: the changed files; a project checks only the units they belong to (all of
    # them when one is not inside any unit's source: a configuration, lock, template, policy, event)
    changed: tuple[Path, ...] = ()
    note: Callable[[str], None] = lambda _message: None  # told what check sets aside, and why
    # told what each thing checked was read from: ("function", "dist/*.zip"), ("layer", "source"),
    # ("package", "zip"), ("policy", "json"): the summary says what was looked at
    looked: Callable[[str, str], None] = lambda _what, _origin: None


class Filters(NamedTuple):
    """What the projects' configuration silences: code prefixes, and codes per path glob."""

    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    per_path: tuple[tuple[str, tuple[str, ...]], ...] = ()


def check(paths: Sequence[Path], options: CheckOptions) -> tuple[list[Finding], Filters]:
    """Check each path: a .zip package, or a project folder (or its pyproject.toml/lpack.toml)."""
    findings: list[Finding] = []
    filters = Filters()
    if options.role or options.role_inline:
        findings += _role([str(p) for p in options.role], Path("."), None, None,
                          [str(p) for p in options.role_inline])
        if not paths:
            return findings, filters
    for path in paths or [Path(".")]:
        if path.suffix == ".zip":
            findings += check_zip(path, options)
            options.looked("package", "zip")
            continue
        from lpack.commands import check_image

        if check_image.is_image(path):
            found, origin = check_image.check_image(path, options.architecture)
            findings += found
            options.looked("image", origin)
            continue
        template = _template_path(path, options)
        if template is not None:
            findings += check_template(template, options)
            continue
        if path.suffix == ".json":
            findings += _policy(path, options.policy_kind)
            options.looked("policy", "json")
            continue
        project = load_project(path, options.config)
        findings += check_project(project, options)
        # per-path globs are relative to the project's root; findings name paths from the cwd
        per_path = tuple((str(project.root / glob), codes) for glob, codes in project.per_path_ignores)
        filters = Filters(filters.select + project.select, filters.ignore + project.ignore,
                          filters.per_path + per_path)
    return findings, filters


def _template_path(path: Path, options: CheckOptions) -> Path | None:
    """A SAM/CloudFormation template to check (the file, or a folder's template.yaml)."""
    from lpack.inputs.detect import template_path

    if path.is_file() and path.suffix in (".yaml", ".yml", ".template"):
        return path
    return template_path(path, options.config)


def check_template(path: Path, options: CheckOptions) -> list[Finding]:
    """Check a SAM or CloudFormation template's Python functions, layers and IAM documents;
    findings about settings point at the template's lines."""
    from lpack.inputs.template import load_template

    return check_project((found := load_template(path)).project, options, found)


# -- a zip from anywhere ---------------------------------------------------------------------------

def check_zip(path: Path, options: CheckOptions) -> list[Finding]:
    if not path.is_file():
        raise UsageError(f"{path}: no such file; pass a package .zip, or a project folder")
    kind = options.kind or "function"
    if kind == "layer" and options.handler:
        raise UsageError(f"{path}: a layer has no handler; drop --handler or --kind layer")
    target = make_target(options.runtime, options.architecture, where=str(path))
    layers = tuple(read_package(layer) for layer in options.layers)
    subject = PackageSubject(package=read_package(path), kind=kind, layers=layers, layer_count=len(layers),
                             target=target, handler=options.handler)
    findings = engine.check_package(subject)
    findings += engine.check_runtime(target, options.today or clock.today(), subject.display)
    if options.env or options.events or options.async_events:
        findings += engine.check_function(_function_from_options(path, target, options))
    return findings


def _function_from_options(path: Path, target: Target, options: CheckOptions) -> FunctionSubject:
    environment = None
    if options.env is not None:
        environment = read_env(options.env)
    events = _given_events(options)
    return FunctionSubject(name=path.stem, where=str(options.env or path), target=target, handler=options.handler,
                           environment=environment, environment_where=str(options.env or ""), events=events)


def _given_events(options: CheckOptions) -> tuple[EventFile, ...]:
    """The events of ``--event`` (synchronous) and ``--async-event``, read once."""
    return tuple(_event(p, "sync") for p in options.events) + tuple(_event(p, "async") for p in options.async_events)


def _event(path: Path, invocation: str) -> EventFile:
    try:
        return EventFile(path, path.read_bytes(), invocation)
    except OSError as exc:
        raise LpackError(f"{path}: cannot read test event: {exc.strerror}") from exc


# -- a project ---------------------------------------------------------------------------------------

def check_project(project: Project, options: CheckOptions, template: Template | None = None) -> list[Finding]:
    """Check each unit of a project (or of a template: ``template`` gives its lines and IAM)."""
    per_unit: list[tuple[Unit, list[Finding]]] = []
    today = options.today or clock.today()
    names = set(options.functions)
    given = _given_events(options)
    touched = changed_units(project, options.changed) if options.changed else None
    for unit in project.units:
        if names and unit.name not in names:
            continue
        if touched is not None and unit.name not in touched:
            continue
        from lpack.inputs.declared import refuse_unlocked

        refuse_unlocked(unit.unlocked)
        unit_plan = plan(project, unit, options.runtime, options.architecture)
        target = unit_plan.target
        where = display_path(project.config_path or project.root)
        found = [f._replace(function=unit.name) for f in engine.check_runtime(target, today, where)]
        found += [f._replace(function=unit.name) for f in engine.check_lockfile(unit.requirements or unit.lock)]
        if unit.kind == "function":
            lines = template.lines.get(unit.name, {}) if template else {}
            found += [f._replace(function=unit.name)
                      for f in engine.check_function(_function_subject(project, unit, target, lines, given))]
            found += [f._replace(function=unit.name) for f in
                      (_template_policies(template, unit, unit_plan) if template
                       else _unit_policies(project, unit, unit_plan))]
        found += [f if f.function else f._replace(function=unit.name)
                  for f in _unit_package(unit_plan, options.source, options.note, options.looked)]
        per_unit.append((unit, _at_template_lines(found, template, unit, where) if template else found))
    return _said_once(per_unit)


def changed_units(project: Project, changed: Sequence[Path]) -> set[str]:
    """The units the changed files belong to: those whose source folder holds one, and the
    functions using such a layer; every unit when a file is what they all may read (the
    configuration, a lock, the template, a policy, an event: `_read_by_all`). Other files in no
    unit's source (a README, tests) choose none; when no file chooses any, every unit."""
    from lpack.inputs.changed import project_of

    root = project.root.resolve()
    ours = [f.resolve() for f in changed]  # not another project's, nested in this one or beside it
    ours = [f for f in ours if root in f.parents and project_of(f, root) == root]
    if any(_read_by_all(project, file) for file in ours):
        return {unit.name for unit in project.units}
    names = _holding(project.units, ours)
    if not names:  # only files no unit packages or reads (a README): checked whole, as without --files
        return {unit.name for unit in project.units}
    return names | {unit.name for unit in project.units if names.intersection(unit.layers)}


def _holding(units: Sequence[Unit], files: Sequence[Path]) -> set[str]:
    """The units whose source folder holds one of the (resolved) files: the folder as the
    configuration names it (absolute), or as its link resolves. A string lookup among the files'
    folders, as resolving every unit's folder would cost more than checking the one changed."""
    import os

    held = {str(folder) for file in files for folder in (file, *file.parents)}
    names = set()
    for unit in units:
        if unit.source is None:
            continue
        named = str(unit.source)
        if not named.startswith("/") or "/." in named:  # relative, or maybe with '..' in it
            named = os.path.normpath(os.path.abspath(named))
        if named in held or (os.path.islink(named) and os.path.realpath(named) in held):
            names.add(unit.name)
    return names


def _read_by_all(project: Project, file: Path) -> bool:
    """A file any unit may read wherever it is: the configuration, a dependency declaration,
    a template, a .json document (an IAM policy, a test event)."""
    import fnmatch

    from lpack.inputs.changed import TEMPLATE_NAMES
    from lpack.plan import BUILD_INPUTS

    if project.config_path is not None and file == project.config_path.resolve():
        return True
    patterns = ("requirements*.txt", "requirements*.in", "pylock*.toml", "*.json", "*.yaml", "*.yml", "*.template")
    if file.name in (*BUILD_INPUTS, *TEMPLATE_NAMES) or any(fnmatch.fnmatch(file.name, p) for p in patterns):
        return True
    declared = (p for u in project.units for p in (u.requirements, u.lock, u.manifest) if p is not None)
    return any(p.name == file.name and p.resolve() == file for p in declared)


# findings about what several functions share, said once naming them all: a runtime's lifecycle
# (by the runtime its message names), and the SDK in packages built from one CodeUri
_ONCE_PER_RUNTIME = ("LP401", "LP402")
_ONCE_PER_SOURCE = ("LP142",)
# what the code of each function is compared with (LP570-LP579) is said per function; what a policy
# document itself says (LP5xx at its line) is said once, however many functions share the role
_PER_FUNCTION_IAM = tuple(f"LP57{i}" for i in range(10))


def _once_per_document(f: Finding) -> bool:
    """A finding of a policy document: at its line, or an AWS managed policy's, by its ARN."""
    return (f.code.startswith("LP5") and f.code not in _PER_FUNCTION_IAM
            and (f.line is not None or str(f.path).startswith("arn:")))


def _said_once(per_unit: list[tuple[Unit, list[Finding]]]) -> list[Finding]:
    groups: dict[tuple[str, ...], list[tuple[Finding, str]]] = {}
    order: list[tuple[str, ...] | Finding] = []
    for unit, found in per_unit:
        for f in found:
            if f.code in _ONCE_PER_RUNTIME:
                key: tuple[str, ...] = (f.code, f.message)
            elif f.code in _ONCE_PER_SOURCE and unit.source is not None:
                key = (f.code, str(unit.source))
            elif _once_per_document(f):
                key = (f.code, str(f.path), str(f.line), f.message)
            else:
                order.append(f)
                continue
            if key not in groups:
                order.append(key)
            groups.setdefault(key, []).append((f, unit.name))
    out = []
    for item in order:
        if isinstance(item, Finding):
            out.append(item)
            continue
        group = groups[item]
        first, names = group[0][0], [name for _f, name in group]
        if len(names) > 1:
            shared = ("use this runtime" if first.code in _ONCE_PER_RUNTIME else "are built from this code"
                      if first.code in _ONCE_PER_SOURCE else "have this policy")
            first = first._replace(message=f"{first.message} ({len(names)} functions {shared}: {', '.join(names)})",
                                   function=", ".join(names))
        out.append(first)
    return out


def _at_template_lines(findings: list[Finding], template: Template, unit: Unit, where: str) -> list[Finding]:
    """Findings without a line point at the template: runtime rules at ``Runtime:``, handler rules
    that name no file inside the package at ``Handler:``, others at the resource."""
    lines = template.lines.get(unit.name, {})
    fallback = lines.get("function")
    source = display_path(unit.source) if unit.source else None
    out = []
    for f in findings:
        if f.line is None and f.path == where:
            key = "runtime" if f.code.startswith("LP4") else "function"
            f = f._replace(line=lines.get(key, fallback))
        elif f.line is None and f.path == source and f.code.startswith("LP2") and "handler" in lines:
            f = f._replace(location=Location(where, line=lines["handler"]))
        out.append(f)
    return out


def _policy(path: Path, kind: str | None) -> list[Finding]:
    if not path.is_file():
        raise UsageError(f"{path}: no such policy file")
    return engine.check_policy_file(path, kind)


def _unit_policies(project: Project, unit: Unit, unit_plan: Plan | None = None) -> list[Finding]:
    """The IAM documents a function's configuration names: the execution role's permission
    policies (files, or AWS managed policy ARNs), its trust policy, and the function's
    resource-based policy."""
    settings = unit.settings
    findings: list[Finding] = []
    for relative, kind in ((settings.trust_policy, "trust"), (settings.resource_policy, "resource")):
        if relative is not None:
            findings += _policy(_policy_path(project, unit, relative), kind)
    if settings.policies or settings.inline_policies:
        findings += _role(list(settings.policies), project.root, unit.name,
                          lambda p: _policy_path(project, unit, p), list(settings.inline_policies),
                          _code(unit_plan))
    return findings


def _policy_path(project: Project, unit: Unit, relative: str) -> Path:
    path = project.root / relative
    if not path.is_file():
        raise LpackError(f"{project.describe()}: {unit.where}: policy file {relative!r} does not exist")
    return path


def _code(unit_plan: Plan | None, template: Template | None = None) -> CodeUse | None:
    """What the function's code calls, for the rules that compare it with its role (LP570-LP579)."""
    import os

    from lpack.commands.policy import code_use

    if unit_plan is None or os.environ.get("LPACK_BENCH_NO_CODE"):  # benchmarks/bench_iam.py's baseline
        return None
    return code_use(unit_plan, template)


def _role(policies: list[str], root: Path, function: str | None,
          locate: Callable[[str], Path] | None = None, inline_files: Sequence[str] = (),
          code: CodeUse | None = None) -> list[Finding]:
    """Each permission policy on its own, then the role's complete set together."""
    from lpack.iam import managed
    from lpack.iam.policy import parse_policy, read_policy

    findings: list[Finding] = []

    def read(item: str, inline: bool) -> ParsedPolicy:
        """Each file read and parsed once, for its own rules and for the role's."""
        path = locate(item) if locate else Path(item)
        if not path.is_file():
            raise UsageError(f"{path}: no such policy file")
        parsed = read_policy(path, "identity")
        findings.extend(engine.check_policy(parsed, "identity", inline))
        return parsed

    parsed, opaque = [], 0
    for item in policies:
        if not managed.is_policy_arn(item):
            parsed.append(read(item, inline=False))
        elif (text := managed.document(item)) is not None:
            parsed.append(parse_policy(text, item, "identity"))
            findings += _managed_findings(parsed[-1], function)
        else:
            opaque += 1
    inline = [read(item, inline=True) for item in inline_files]
    first = (policies or list(inline_files))[0]
    where = first if managed.is_policy_arn(first) else display_path(root / first)
    return findings + engine.check_role(parsed, inline, where, function, opaque, code=code)


def _managed_findings(parsed: ParsedPolicy, function: str | None) -> list[Finding]:
    """An attached AWS managed policy judged like a policy file (except AWS's execution-role policies
    for Lambda features, lpack.iam.managed.judged): findings name it by ARN, without a line (the
    document is AWS's, not in the project), one per rule, as the fix is the same for all: replace it;
    and the function whose role attaches it, as several functions may attach the same policy."""
    from lpack.iam import managed

    if not managed.judged(parsed.path):
        return []
    by_code: dict[str, list[Finding]] = {}
    for finding in engine.check_policy(parsed, "identity"):
        by_code.setdefault(finding.code, []).append(finding)
    fix = "attach a policy of your own that names only what the function uses, instead of this one"
    role = f" (attached to the role of function {function})" if function else ""
    return [found[0]._replace(line=None, fix=fix, function=function, message=found[0].message + (
        f" (and {len(found) - 1} more {code} finding{'s' if len(found) > 2 else ''} in this AWS managed policy)"
        if len(found) > 1 else "") + role)
        for code, found in by_code.items()]


def _template_policies(template: Template, unit: Unit, unit_plan: Plan | None = None) -> list[Finding]:
    """A template function's IAM documents: each one the template defines on its own (at its
    lines), then the execution role as a whole, as ``_unit_policies`` does for files."""
    def lint(parsed: ParsedPolicy, kind: str, inline: bool = False) -> list[Finding]:
        # rules about the whole document say line 1 of a policy file: here, the document's line
        start = parsed.lines.get("")
        return [f._replace(line=start) if f.line == 1 and start else f for f in engine.check_policy(parsed, kind, inline)]

    iam = template.iam.get(unit.name)
    if iam is None:
        return []
    findings: list[Finding] = []
    for parsed in iam.customer:
        findings += lint(parsed, "identity")
    for parsed in iam.inline:
        findings += lint(parsed, "identity", inline=True)
    for parsed in iam.managed:
        findings += _managed_findings(parsed, unit.name)
    for document, kind in ((iam.trust, "trust"), (iam.resource, "resource")):
        if document is not None:
            findings += lint(document, kind)
    if iam.role_known:
        from lpack.commands.policy import sam_policy_templates

        # a SAM function's policy templates, as SAM writes them into its role (the code's reading
        # expanded them already, when there is code); one lpack cannot expand leaves the role
        # unread in part, and the rules that need every grant stay quiet
        code = _code(unit_plan, template)
        templates, gaps = ((code.grants, code.role_gaps) if code is not None
                           else sam_policy_templates(template, unit.name) if iam.templates else ((), ()))
        shared_code = _shared_code(template, iam.shared, unit_plan, code) if iam.shared[:1] == (unit.name,) else None
        findings += engine.check_role((*iam.managed, *iam.customer), iam.inline, display_path(template.path),
                                unit.name, len(iam.opaque), len(iam.unreadable) + len(gaps),
                                unit.settings.features, code, templates, iam.shared, shared_code)
    return findings


def _shared_code(template: Template, names: tuple[str, ...], first: Plan | None,
                 first_code: CodeUse | None) -> CodeUse | None:
    """What the code of all the functions sharing a role calls, as one (``first_code``: the
    first's, read already); None when one of them cannot be read (then no grant can be called
    unused)."""
    if first is None or first_code is None:
        return None
    uses = [first_code]
    for name in names[1:]:
        unit_plan = plan(template.project, template.project.unit(name), first.target.runtime.name,
                         first.target.architecture)
        if (use := _code(unit_plan, template)) is None:
            return None
        uses.append(use)
    return uses[0]._replace(
        handler=", ".join(u.handler for u in uses), calls=tuple(c for u in uses for c in u.calls),
        unresolved=tuple(x for u in uses for x in u.unresolved),
        lambda_own=tuple(dict.fromkeys(a for u in uses for a in u.lambda_own)),
        opaque_libraries=tuple(dict.fromkeys(lib for u in uses for lib in u.opaque_libraries)))


def _unit_package(unit_plan: Plan, source: bool = False, note: Callable[[str], None] = lambda _message: None,
                  looked: Callable[[str, str], None] = lambda _what, _origin: None) -> list[Finding]:
    """The built zip when dist/ has one (unless ``source``); otherwise the source folder, as it
    would be packaged."""
    project, unit, target = unit_plan.project, unit_plan.unit, unit_plan.target
    built = unit_plan.artifact
    layer_zips = unit_plan.layer_artifacts()
    built_layers = [z for z in layer_zips.values() if z.is_file()]
    # a project layer not built yet is described by its declaration, unless lpack does not build
    # it (its own Makefile does): then it is a layer lpack cannot see, as one from another stack
    described = [layer for name, z in layer_zips.items() if not z.is_file()
                 if (layer := project.unit(name)).settings.features.not_here() is None]
    handler = unit.handler if unit.kind == "function" else None
    if built.is_file() and not source and unit_plan.built_here:
        from lpack.bundle.builder import stale_package

        if stale_package(unit_plan, built):
            source = True  # its inputs changed since: the source says more than the old zip
            note(f"{display_path(built)} is older than its inputs (changed since it was built): "
                 "checked the source instead; run `lpack build` to check the package")
    if built.is_file() and (not source or not unit_plan.built_here):
        from lpack.bundle.stamps import canonical
        from lpack.commands import check_index

        def compute() -> list[Finding]:
            subject = PackageSubject(package=read_package(built), kind=unit.kind,
                                     layers=tuple(read_package(z) for z in built_layers),
                                     layer_count=len(unit.layers), upload=unit.upload, function=unit.name,
                                     target=target, handler=handler, features=unit.settings.lambda_features)
            return engine.check_package(subject)

        looked(unit.kind, "dist/*.zip" if unit_plan.built_here else "zip")
        parts = {"kind": unit.kind, "layer_count": len(unit.layers), "upload": unit.upload, "function": unit.name,
                 "target": target.label, "handler": handler, "features": canonical(unit.settings.lambda_features)}
        findings = check_index.package_findings(built, built_layers, parts, compute)
        return at_source_files(findings, unit_plan.packaged_files) if unit_plan.built_here else findings
    layers = tuple(read_package(z) for z in built_layers)
    elsewhere = unit.settings.features.not_here() is not None  # a layer its own Makefile builds: not its folder
    looked(unit.kind, "source" if unit.source is not None and not elsewhere else "settings")
    if unit.source is None or elsewhere:
        return []
    from lpack.core import select
    from lpack.plan import packaged_root

    user = select.spec(unit.exclude)
    files = [(rel, path) for rel, path in unit_plan.packaged_files() if not user.match_file(rel)]
    index = index_directory(packaged_root(unit.source), files)
    provided = _provided([unit, *described], target)
    subject = PackageSubject(package=index, kind=unit.kind, layers=layers, layer_count=len(unit.layers),
                             upload=unit.upload, function=unit.name, target=target, handler=handler,
                             provided=provided, is_source=True, described_layers=len(described),
                             features=unit.settings.lambda_features)
    return engine.check_package(subject)


def _provided(units: list[Unit], target: Target) -> frozenset[str]:
    """Top-level import names the units' declared dependencies will install (a source folder has
    none yet), guessed from their names: the lock's set for the target, or the requirements'
    names. A layer's own source adds its top-level modules and packages."""
    names: set[str] = set()
    prefixes: set[str] = set()
    for unit in units:
        names.update(_top_level(unit.source) if unit.kind == "layer" and unit.source else ())
        _guess(_declared_names(unit, target), names, prefixes)
    return _GuessedNames(names, prefixes)


def _guess(declared: list[str], names: set[str], prefixes: set[str]) -> None:
    for name in declared:
        normal = name.lower().replace("-", "_").replace(".", "_")
        names |= {normal, normal.removeprefix("python_"), normal.removesuffix("_py"), normal.replace("_", ""),
                  *_KNOWN_IMPORT_NAMES.get(normal, ())}
        words = normal.split("_")
        if len(words) >= 3:  # aurora-dsql-python-connector installs aurora_dsql_psycopg2 ...
            prefixes.add("_".join(words[:2]) + "_")


class _GuessedNames(frozenset):  # type: ignore[type-arg]
    """Import names guessed from distribution names (a source folder has nothing installed yet):
    matched without case (PyPDF2 installs ``PyPDF2``), and, for a name of three words or more,
    by its first two (aurora-dsql-python-connector installs ``aurora_dsql_psycopg2``). A wrong
    guess only keeps LP209 quiet until the built package is checked, where the real names are."""

    prefixes: frozenset[str]

    def __new__(cls, names: set[str], prefixes: set[str]) -> _GuessedNames:  # noqa: PYI034  no Self on 3.10
        made = super().__new__(cls, {n.lower() for n in names})
        made.prefixes = frozenset(prefixes)
        return made

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        low = name.lower()
        return frozenset.__contains__(self, low) or low.startswith(tuple(self.prefixes))


def _declared_names(unit: Unit, target: Target) -> list[str]:
    """The distribution names the unit's dependency declaration installs for the target."""
    if unit.lock is not None:
        from lpack.inputs.declared import read_lock

        locked = read_lock(unit.lock, target, unit.selection)
        return [pin.name for pin in locked.pins] + [local.name for local in locked.local]
    if unit.manifest is not None:
        import re

        from lpack.inputs.declared import manifest_requirements

        lines = manifest_requirements(unit.manifest, unit.selection)
        return [m.group(0) for line in lines if (m := re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", line))]
    if unit.requirements is not None:
        from lpack.inputs.requirements_file import read_requirements

        return read_requirements(unit.requirements).names
    return []


def _top_level(source: Path) -> Iterator[str]:
    for child in source.iterdir():
        if child.suffix == ".py" or (child.is_dir() and child.name.isidentifier()):
            yield child.stem if child.is_file() else child.name


# Distributions whose import name differs from their project name (the common cases).
_KNOWN_IMPORT_NAMES: dict[str, tuple[str, ...]] = {
    "pyyaml": ("yaml",), "python_dateutil": ("dateutil",), "pillow": ("PIL",),
    "beautifulsoup4": ("bs4",), "scikit_learn": ("sklearn",), "opencv_python": ("cv2",),
    "opencv_python_headless": ("cv2",), "psycopg2_binary": ("psycopg2",), "psycopg": ("psycopg",),
    "pyjwt": ("jwt",), "python_jose": ("jose",), "pymysql": ("pymysql",), "attrs": ("attr", "attrs"),
    "protobuf": ("google",), "google_cloud_storage": ("google",), "aws_lambda_powertools": ("aws_lambda_powertools",),
    "pycryptodome": ("Crypto",), "pycryptodomex": ("Cryptodome",), "python_multipart": ("multipart", "python_multipart"),
    "msgpack_python": ("msgpack",), "typing_extensions": ("typing_extensions",), "pydantic_settings": ("pydantic_settings",),
    "python_dotenv": ("dotenv",), "faiss_cpu": ("faiss",), "mysqlclient": ("MySQLdb",), "ruamel_yaml": ("ruamel",),
    "setuptools": ("setuptools", "pkg_resources", "_distutils_hack"),
}


def _function_subject(project: Project, unit: Unit, target: Target, lines: Mapping[str, int] | None = None,
                      given: tuple[EventFile, ...] = ()) -> FunctionSubject:
    """``given``: the events of ``--event``/``--async-event``, checked with the configured ones."""
    settings = unit.settings
    config_text = project.config_path.read_text(encoding="utf-8") if project.config_path else ""
    where = display_path(project.config_path or project.root)
    invocation = settings.invocation
    events = (*_events(project.root, settings.events, invocation), *given)
    environment = settings.environment
    return FunctionSubject(
        name=unit.name, where=where, target=target, handler=unit.handler,
        environment=environment if isinstance(environment, dict) else None, environment_where=where,
        memory=settings.memory, timeout=settings.timeout, ephemeral_storage=settings.ephemeral_storage,
        invocation=invocation, events=events, config_text="" if lines else config_text, section=unit.where,
        lines=lines or {}, log_format=settings.log_format, log_level=settings.log_level,
        features=settings.lambda_features, layers=unit.layers,
    )


def _events(root: Path, configured: object, invocation: str) -> Iterator[EventFile]:
    if not isinstance(configured, str):
        return
    path = root / configured
    if path.is_dir():
        for event in sorted(path.rglob("*.json")):
            yield _event(event, invocation)
    elif path.is_file():
        yield _event(path, invocation)
    else:
        raise LpackError(f"{root}: events: {configured!r} is neither a file nor a folder")



def check_and_decide(paths: Sequence[Path], options: CheckOptions,
                     select: Sequence[str] = (), ignore: Sequence[str] = ()) -> list[Finding]:
    """The findings to report: the projects' select/ignore/per-path-ignores and the caller's own
    codes applied, and inline ignores honoured (lpack.core.decide)."""
    from lpack.core.decide import filter_findings

    findings, filters = check(paths, options)
    return filter_findings(findings, [*filters.select, *select], [*filters.ignore, *ignore], filters.per_path)
