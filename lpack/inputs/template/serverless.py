"""A Serverless Framework service (``serverless.yml``) -> a Project of its Python functions.

What `serverless package` would zip for each function, as lpack builds it: the function's
``handler``; its ``runtime`` and ``architecture`` (else the provider's); its code, the service's
folder, or the ``module`` folder serverless-python-requirements packages for it (its handler is
relative to that folder, as the plugin moves the module's files to the package's root); its
dependencies, read as lpack reads any declaration in that folder, or the plugin's
``custom.pythonRequirements.fileName``; ``package.patterns`` (and the older ``exclude``/``include``)
over the function's own files, in order; ``memorySize`` and ``timeout`` (Serverless's defaults,
1024 MB and 6 s, where neither sets them), ``ephemeralStorageSize`` and ``environment`` (the
provider's, then the function's). Functions in other runtimes, or with no
runtime anywhere (Serverless's default is Node.js), are skipped; an ``image`` is code elsewhere.

With the plugin's ``layer: true``, the service's dependencies are the layer ``pythonRequirements``
and a function that lists ``{Ref: PythonRequirementsLambdaLayer}`` uses it, as the plugin builds
them; its ``slim: true`` is lpack's ``slim``.

Serverless's variables are resolved where lpack can know their value: ``${self:...}``,
``${file(PATH):KEY}`` of a YAML or JSON file, ``${env:...}``, ``${opt:stage}``/``${sls:stage}`` (no CLI options here: their fallback, else
"dev"), ``${opt:region}``/``${aws:region}`` (the provider's region, else us-east-1), and the
fallbacks after a comma. A setting lpack needs (a handler, a runtime, a module) that only the
deployment can resolve (``${ssm:...}``, ``${param:...}``, a JavaScript ``${file(...)}``) is an error naming it.
``serverless.ts`` and ``serverless.js`` are programs: lpack does not run them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lpack.core.errors import ConfigError
from lpack.core.targets import RUNTIMES
from lpack.inputs.config import FunctionSettings, Project, Unit
from lpack.inputs.declared import Choice
from lpack.inputs.locked import Selection
from lpack.inputs.template.loader import SERVERLESS_NAMES, Located, LocatedList

if TYPE_CHECKING:
    from lpack.iam.policy import ParsedPolicy
    from lpack.inputs.template.http import HttpTrigger
    from lpack.inputs.template.policies import FunctionIam
    from lpack.inputs.template.project import Template

SERVERLESS_PROGRAMS = ("serverless.ts", "serverless.js")
PLUGIN_LAYER = "pythonRequirements"  # the layer serverless-python-requirements makes with `layer: true`
_PLUGIN_LAYER_REF = "PythonRequirementsLambdaLayer"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")  # Serverless's function keys; also dist/NAME.zip
_VARIABLE = re.compile(r"\$\{([^${}]*)\}")  # the innermost ${...}: resolved first
_DEPTH = 10
_FILE = re.compile(r"file\(([^()]+)\)(?::(.*))?")
_PROVIDER_DEFAULTS = {"provider.stage": "dev", "provider.region": "us-east-1"}
_BUDGET = 10_000
# plugins that write a function's handler module when they package: (plugin, module)
_HANDLER_PLUGINS = (("serverless-wsgi", "wsgi_handler"),)
# plugins that write into the functions' role (Lift's constructs grant their own access): the role is
# not all in serverless.yml
_ROLE_PLUGINS = ("serverless-lift",)
_PER_FUNCTION = "serverless-iam-roles-per-function"
_VPC_ROLE = "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"


class _Unknown:
    """A variable only the deployment knows."""

    def __init__(self, text: str) -> None:
        self.text = text


def is_serverless(path: Path) -> bool:
    return path.name in SERVERLESS_NAMES


def refuse_serverless_program(folder: Path) -> None:
    """A serverless.ts or serverless.js, which lpack would have to run to read, is an error saying so."""
    for name in SERVERLESS_PROGRAMS:
        if (folder / name).is_file():
            raise ConfigError(f"{folder / name}: lpack reads serverless.yml, not a {name} program it would have to "
                              "run; describe the functions in an lpack.toml (docs/integrations.md, Serverless Framework)")


def load_serverless(path: Path) -> Template:
    """The service's Python functions as a Template (lpack.inputs.template.project), with each
    function's lines."""
    from lpack.inputs.template.loader import read_data
    from lpack.inputs.template.project import Template

    data = read_data(path)
    if not isinstance(data, Located) or not isinstance(data.get("functions"), (Located, list, str)):
        raise ConfigError(f"{path}: not a Serverless Framework service with functions (no `functions:`)")
    service = _Service(path, data)
    project, lines, skipped = service.read()
    own = service.own_roles()
    sharing = tuple(unit.name for unit in project.units if unit.kind == "function" and unit.name not in own
                    and unit.source is not None)
    shared = service.role()._replace(shared=sharing if len(sharing) > 1 else ())
    iam = {unit.name: own.get(unit.name, shared) for unit in project.units if unit.kind == "function"}
    return Template(path, project, lines, iam, False, tuple(skipped))


def serverless_triggers(path: Path) -> tuple[HttpTrigger, ...]:
    """The HTTP events of the service's Python functions, as lpack serve routes them: ``httpApi``
    (``'*'``, ``'GET /items/{id}'`` or a table; the provider's ``httpApi.payload``, else 2.0),
    ``http`` (REST, the provider's stage) and ``alb`` events, and a function's ``url``."""
    from lpack.inputs.template.http import HttpTrigger
    from lpack.inputs.template.loader import read_data

    data = read_data(path)
    if not isinstance(data, Located):
        return ()
    service = _Service(path, data)
    project = service.read()[0]
    names = {unit.name for unit in project.units if unit.kind == "function" and unit.source is not None}
    http_api = service.maybe(service.provider.get("httpApi"))
    payload = str(http_api.get("payload", "2.0")) if isinstance(http_api, Mapping) else "2.0"
    stage = str(service.maybe(service.provider.get("stage")) or "dev")
    found: list[HttpTrigger] = []
    for name, function, line in service.functions():
        if name not in names:
            continue
        if service.maybe(function.get("url")):  # `url: true` (or its settings): the function's URL
            found.append(HttpTrigger(name, "FunctionUrl", "ANY", "", "", f"functions.{name}.url",
                                     function.line_of("url")))
        events = function.get("events")
        if not isinstance(events, list):
            continue
        for i, event in enumerate(events):
            if not isinstance(event, Mapping) or len(event) != 1:
                continue
            (kind, spec), = event.items()
            spec = service.maybe(spec)
            where = f"functions.{name}.events[{i}].{kind}"
            at = events.line_of(i) if isinstance(events, LocatedList) else line
            if kind in ("httpApi", "http"):
                method, route = _method_path(spec)
                if route is None:
                    continue
                api = "HttpApi" if kind == "httpApi" else "Api"
                found.append(HttpTrigger(name, api, method, route, "$default" if api == "HttpApi" else stage, where,
                                         at, payload_version=payload if api == "HttpApi" else ""))
            elif kind == "alb":
                multi = isinstance(spec, Mapping) and service.maybe(spec.get("multiValueHeaders")) is True
                found.append(HttpTrigger(name, "ALB", "ANY", "", "", where, at, multi_value=multi))
    return tuple(found)


def _method_path(spec: object) -> tuple[str, str | None]:
    """``'*'`` (the default route), ``'GET /items'``, or ``{method: get, path: items}``."""
    if spec == "*":
        return "ANY", "$default"
    if isinstance(spec, str) and " " in spec.strip():
        method, _, route = spec.strip().partition(" ")
    elif isinstance(spec, Mapping) and isinstance(spec.get("path"), str):
        method, route = str(spec.get("method", "*")), spec["path"]
    else:
        return "ANY", None
    method = "ANY" if method.strip() in ("*", "any", "ANY") else method.strip().upper()
    route = route.strip()
    if route == "*":
        return method, "$default"
    return method, "/" + route.lstrip("/")


def read_service(path: Path, data: Located) -> Project:
    """The Project of a serverless.yml's ``data``, as read from ``path``."""
    return _Service(path, data).read()[0]


class _Service:
    def __init__(self, path: Path, data: Located) -> None:
        from lpack.analysis.package import display_path

        self.own_layers: dict[str, Unit] = {}
        self.files: dict[Path, object] = {}  # the files ${file(...)} read, by path
        self.path, self.data = path, data
        self.root = path.parent.resolve()
        self.display = display_path(path)
        provider = data.get("provider")
        self.provider: Located = provider if isinstance(provider, Located) else Located(1)
        if (name := self.value(self.provider.get("name"), "provider.name")) not in (None, "aws"):
            raise ConfigError(f"{self.display}: provider.name is {name!r}: lpack builds for AWS Lambda only")
        self.budget = _BUDGET  # variables one value resolves at most, however they nest (ones that refer to themselves)
        custom = data.get("custom")
        plugin = custom.get("pythonRequirements") if isinstance(custom, Located) else None
        self.plugin: Located = plugin if isinstance(plugin, Located) else Located(1)

    # -- variables -------------------------------------------------------------------------------

    def value(self, value: object, where: str, depth: int = 0) -> Any:
        """``value`` with its variables resolved; a text only the deployment can resolve is an error."""
        self.budget = _BUDGET
        found = self._resolve(value, depth)
        if isinstance(found, _Unknown):
            raise ConfigError(f"{self.display}: {where} is {found.text!r}, which only the deployment can resolve; "
                              "lpack resolves ${self:}, ${file()} of YAML or JSON, ${env:}, ${opt:stage}, ${sls:stage} and fallbacks: write the "
                              "value in serverless.yml, or describe the function in an lpack.toml")
        return found

    def maybe(self, value: object) -> Any:
        """``value`` resolved, or None where only the deployment knows it."""
        self.budget = _BUDGET
        found = self._resolve(value, 0)
        return None if isinstance(found, _Unknown) else found

    def _resolve(self, value: object, depth: int) -> Any:
        if not isinstance(value, str) or "${" not in value:
            return value
        if depth > _DEPTH:
            return _Unknown(value)
        text = value
        while (match := _VARIABLE.search(text)) is not None:
            found = self._variable(match.group(1), depth)
            if isinstance(found, _Unknown):
                return _Unknown(value)
            if match.group(0) == text:
                return found  # the whole value: its type kept (a number, a list, a table)
            text = text[:match.start()] + str(found) + text[match.end():]
        return text

    def _variable(self, body: str, depth: int) -> Any:
        """``source:address, fallback, ...``: the first that resolves."""
        self.budget -= 1
        if self.budget < 0:
            return _Unknown(body)
        for choice in _split(body):
            found = self._source(choice, depth)
            if found is not None and not isinstance(found, _Unknown):
                return found
        return _Unknown(body)

    def _source(self, text: str, depth: int) -> Any:
        text = text.strip()
        if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
            return text[1:-1]
        if re.fullmatch(r"-?\d+(\.\d+)?", text):
            return float(text) if "." in text else int(text)
        if (file := _FILE.fullmatch(text)) is not None:
            return self._resolve(self._in_file(file.group(1).strip(), file.group(2) or ""), depth + 1)
        kind, _, address = text.partition(":")
        if kind == "self":
            found = _lookup(self.data, address)
            if found is None and address in _PROVIDER_DEFAULTS:  # what Serverless fills in before it resolves
                return _PROVIDER_DEFAULTS[address]
            return self._resolve(found, depth + 1)
        if kind == "env":
            return os.environ.get(address)
        if (kind, address) in (("opt", "stage"), ("sls", "stage")):
            return None if kind == "opt" else self._known(self.provider.get("stage"), depth) or "dev"
        if (kind, address) in (("opt", "region"), ("aws", "region")):
            return None if kind == "opt" else self._known(self.provider.get("region"), depth) or "us-east-1"
        return _Unknown(text)  # ${ssm:...}, ${param:...}, ${cf:...}, a JS file, other CLI options

    def _in_file(self, name: str, address: str) -> object:
        """``${file(PATH):ADDRESS}``: the YAML or JSON file's data (relative to the service's
        folder), or the value at ADDRESS in it; a file lpack cannot read (a .js one) is unknown."""
        relative = name.strip("'\"")
        path = (self.root / relative).resolve()
        if Path(relative).is_absolute() or path.suffix not in (".yml", ".yaml", ".json") or not path.is_file():
            return _Unknown(name)  # not the project's (an absolute path), or not data lpack reads
        if path not in self.files:
            from lpack.inputs.template.loader import read_data

            self.files[path] = read_data(path)
        node = _lookup(self.files[path], address)
        return node if node is not None else _Unknown(f"file({name}):{address}")

    def _known(self, value: object, depth: int) -> Any:
        found = self._resolve(value, depth + 1)
        return None if isinstance(found, _Unknown) else found


    # -- the execution role ----------------------------------------------------------------------

    def role(self) -> FunctionIam:
        """The role Serverless makes for the service's functions: its log permissions, then
        ``provider.iam.role.statements`` (v1/v2: ``iamRoleStatements``) as one inline policy, and
        ``managedPolicies`` (``iamManagedPolicies``); a role named by ARN or name is another's,
        not checked. Statements with a value only the deployment knows are left out, and the
        role-wide rules, which need every grant, stay quiet."""
        from lpack.inputs.template.policies import FunctionIam

        role = self.provider_role()
        if role is None:
            return FunctionIam(role_known=False)  # `role: arn:aws:iam::...` or a role's logical name
        return self.made_role(role.get("statements", self.provider.get("iamRoleStatements")),
                              role.get("managedPolicies", self.provider.get("iamManagedPolicies")))

    def provider_role(self) -> Located | None:
        """``provider.iam.role`` as the table Serverless makes a role of (empty when unset); None
        when it names a role made elsewhere."""
        iam = self.provider.get("iam")
        role = iam.get("role") if isinstance(iam, Located) else None
        if role is not None and not isinstance(role, Located):
            return None
        return role if isinstance(role, Located) else Located(1)

    def own_roles(self) -> dict[str, FunctionIam]:
        """serverless-iam-roles-per-function: a function with ``iamRoleStatements`` has a role of
        its own, with those statements (and the provider's, with ``iamRoleStatementsInherit``)."""
        if _PER_FUNCTION not in self.plugins():
            return {}
        role = self.provider_role()
        shared = role.get("statements", self.provider.get("iamRoleStatements")) if role is not None else None
        found = {}
        for name, function, _line in self.functions():
            statements = function.get("iamRoleStatements")
            if not isinstance(statements, list):
                continue
            if self.maybe(function.get("iamRoleStatementsInherit")) is True and isinstance(shared, list):
                merged = LocatedList(statements.line if isinstance(statements, LocatedList) else 1)
                for part in (shared, statements):
                    for i, item in enumerate(part):
                        merged.append(item)
                        merged.lines.append(part.line_of(i) if isinstance(part, LocatedList) else merged.line)
                statements = merged
            found[name] = self.made_role(statements, None)
        return found

    def made_role(self, statements: object, arns: object) -> FunctionIam:
        """A role Serverless (or a plugin) makes: the log permissions, the statements as one inline
        policy, the managed policies."""
        from lpack.iam import managed
        from lpack.iam.policy import parse_policy
        from lpack.inputs.template.intrinsics import Resolver
        from lpack.inputs.template.policies import BASIC_EXECUTION_ROLE, FunctionIam, Policies

        resources = self.data.get("resources")
        cfn = resources.get("Resources") if isinstance(resources, Located) else None
        policies = Policies(self.display, cfn if isinstance(cfn, Located) else Located(1), Resolver(self.data))
        inline: list[ParsedPolicy] = []
        unreadable: list[str] = []
        if isinstance(statements, list) and statements:
            known = LocatedList(statements.line if isinstance(statements, LocatedList) else 1)
            for i, statement in enumerate(statements):
                copied = self.resolved(statement)
                if copied is None:
                    unreadable.append(f"statement {i + 1}")
                    continue
                known.append(copied)
                known.lines.append(statements.line_of(i) if isinstance(statements, LocatedList) else 1)
            if known:
                document = Located(known.line)
                document["Version"], document["Statement"] = "2012-10-17", known
                document.lines["Statement"] = known.line
                policies.add_document(document, known.line, inline, unreadable, "provider.iam.role.statements")
        # the log permissions Serverless writes into the role, as AWSLambdaBasicExecutionRole grants
        # them, and in a VPC the managed policy it attaches for the network interfaces
        arns = [BASIC_EXECUTION_ROLE, *([_VPC_ROLE] if self.provider.get("vpc") else []),
                *(arns if isinstance(arns, list) else ())]
        unreadable += [f"what the plugin {name} adds" for name in self.plugins() if name in _ROLE_PLUGINS]
        readable, opaque = [], []
        for arn in arns:
            text = self.maybe(arn)
            found = managed.document(text) if isinstance(text, str) else None
            if found is None:
                opaque.append(str(text))
            else:
                readable.append(parse_policy(found, text, "identity"))
        return FunctionIam(managed=tuple(readable), inline=tuple(inline), opaque=tuple(opaque), role_known=True,
                           unreadable=tuple(unreadable))

    def resolved(self, value: object) -> object:
        """A copy of ``value`` (with its lines) whose variables are resolved; None when one is
        known only at deployment."""
        if isinstance(value, Located):
            table = Located(value.line)
            for key, item in value.items():
                if (copied := self.resolved(item)) is None:
                    return None
                table[key], table.lines[key] = copied, value.line_of(key)
            return table
        if isinstance(value, LocatedList):
            items = LocatedList(value.line)
            for i, item in enumerate(value):
                if (copied := self.resolved(item)) is None:
                    return None
                items.append(copied)
                items.lines.append(value.line_of(i))
            return items
        if isinstance(value, str) and "${" in value:
            self.budget = _BUDGET
            found = self._resolve(value, 0)
            return None if isinstance(found, _Unknown) else found
        return value

    # -- functions -------------------------------------------------------------------------------

    def functions(self) -> Iterator[tuple[str, Located, int]]:
        table = self.maybe(self.data.get("functions"))  # `${file(functions.yml)}` too
        tables = [self.maybe(t) for t in table] if isinstance(table, list) else [table]  # or a list of tables
        constructs = self.data.get("constructs")  # serverless-lift: a queue's worker is a function, NAMEWorker
        if "serverless-lift" in self.plugins() and isinstance(constructs, Located):
            workers = Located(constructs.line)
            for name, construct in constructs.items():
                if isinstance(construct, Located) and isinstance(construct.get("worker"), Located):
                    workers[f"{name}Worker"] = construct["worker"]
                    workers.lines[f"{name}Worker"] = construct.line_of("worker")
            tables = [*tables, workers] if workers else tables
        seen: set[str] = set()
        for part in tables:
            if not isinstance(part, Located):
                raise ConfigError(f"{self.display}: functions: {str(self.maybe(part))[:100]!r} is not a table of "
                                  "functions lpack can read (a ${file(...)} only the deployment resolves?)")
            for name, function in part.items():
                if str(name) in seen:
                    raise ConfigError(f"{self.display}: functions.{str(name)[:100]} is defined twice; keep one")
                seen.add(str(name))
                if not isinstance(function, Located):
                    raise ConfigError(f"{self.display}: line {part.line_of(name)}: functions.{name} is not a table")
                if _NAME.fullmatch(str(name)) is None:
                    raise ConfigError(f"{self.display}: line {part.line_of(name)}: functions.{str(name)[:100]!r}: "
                                      "name functions with letters, digits, '-' and '_' (it names dist/NAME.zip)")
                yield str(name), function, part.line_of(name)

    def read(self) -> tuple[Project, dict[str, dict[str, int]], list[str]]:
        units: list[Unit] = []
        lines: dict[str, dict[str, int]] = {}
        skipped: list[str] = []
        layer_used = False
        self.own_layers = self.service_layers()
        for name, function, line in self.functions():
            found = self.function(name, function)
            if found is None:
                skipped.append(name)
                continue
            units.append(found)
            layer_used |= PLUGIN_LAYER in found.layers
            lines[name] = {k: v for k, v in {
                "function": line, "handler": function.line_of("handler"), "runtime": function.line_of("runtime"),
                "architecture": function.line_of("architecture"), "source": function.line_of("module"),
                "layers": function.line_of("layers")}.items() if v}
        units += self.own_layers.values()
        if layer_used:
            units.append(self.plugin_layer())
        project = Project(root=self.root, config_path=self.path, dist=self.root / "dist", installer=None,
                          units=tuple(units))
        return project, lines, skipped

    def function(self, name: str, function: Located) -> Unit | None:
        from lpack.core.features import Features
        from lpack.inputs.template.project import _refuse_misspelt_python

        where = f"functions.{name}"
        runtime = self.value(function.get("runtime", self.provider.get("runtime")), f"{where}.runtime")
        if not isinstance(runtime, str) or runtime not in RUNTIMES:
            if isinstance(runtime, str):
                _refuse_misspelt_python(runtime, f"{self.display}: {where}.runtime")
            return None  # another language, Serverless's default (Node.js), or a retired Python
        architecture = self.value(function.get("architecture", self.provider.get("architecture")),
                                  f"{where}.architecture")
        settings = self.settings(name, function)
        if "image" in function:
            image = self.maybe(function.get("image"))
            features = Features(package_type="Image", code_elsewhere=image if isinstance(image, str) else None)
            return Unit(name=name, kind="function", where=where, source=None, requirements=None, runtime=runtime,
                        architecture=architecture, settings=FunctionSettings.from_table(settings)._replace(
                            features=features))
        handler = self.value(function.get("handler"), f"{where}.handler")
        if isinstance(handler, str) and (plugin := self.writes_handler(handler)) is not None:
            from lpack.core.features import PLUGIN

            features = Features(code_elsewhere=f"{PLUGIN}{plugin}:{handler.rpartition('.')[0]}.py")
            return Unit(name=name, kind="function", where=where, source=None, requirements=None, handler=handler,
                        runtime=runtime, architecture=architecture if isinstance(architecture, str) else None,
                        settings=FunctionSettings.from_table(settings)._replace(features=features))
        if not isinstance(handler, str) or not handler.strip():
            raise ConfigError(f"{self.display}: line {function.line}: {where}: no handler; set `handler:` to the "
                              "module and function Lambda calls, such as handler.hello")
        module = self.value(function.get("module"), f"{where}.module")
        if module is not None and not isinstance(module, str):
            raise ConfigError(f"{self.display}: line {function.line_of('module')}: {where}.module is {module!r}; "
                              "give the function's folder, such as functions/hello")
        source = (self.root / module).resolve() if module not in (None, "", ".") else self.root
        if not source.is_dir():
            raise ConfigError(f"{self.display}: line {function.line_of('module')}: {where}.module {module!r} is not a "
                              f"folder under {self.root}")
        layers = self.layers(function)
        choice = Choice() if PLUGIN_LAYER in layers or self.plugin_layer_on() else self.dependencies(source, where)
        return Unit(
            name=name, kind="function", where=where, source=source, requirements=choice.requirements,
            lock=choice.lock, manifest=choice.manifest, dependency_note=choice.note, unlocked=choice.unlocked,
            selection=Selection(choice.package), handler=handler,
            runtime=runtime, architecture=architecture if isinstance(architecture, str) else None,
            layers=layers, source_patterns=self.patterns(function), slim=self.plugin_says("slim"),
            exclude=self.no_deploy(),
            settings=FunctionSettings.from_table(settings),
        )

    def plugins(self) -> list[str]:
        plugins = self.maybe(self.data.get("plugins"))
        names = plugins.get("modules") if isinstance(plugins, Mapping) else plugins  # the long form has `modules:`
        return [n for n in names if isinstance(n, str)] if isinstance(names, list) else []

    def writes_handler(self, handler: str) -> str | None:
        """The plugin the service uses that writes ``handler``'s module into the package itself."""
        for plugin, module in _HANDLER_PLUGINS:
            if plugin in self.plugins() and handler.rpartition(".")[0] == module:
                return plugin
        return None

    def dependencies(self, folder: Path, where: str) -> Choice:
        """What the plugin installs for code in ``folder``: its ``fileName`` there, else the
        declaration lpack finds there, as it reads any (requirements.txt, a lock, a Pipfile)."""
        from lpack.inputs.declared import choose

        file_name = self.value(self.plugin.get("fileName"), "custom.pythonRequirements.fileName")
        if isinstance(file_name, str):
            return Choice(requirements=(folder / file_name).resolve())
        turned_off = [k for k in ("usePoetry", "usePipenv", "useUv") if self.maybe(self.plugin.get(k)) in (False, "false")]
        if turned_off and (folder / "requirements.txt").is_file():  # the plugin installs requirements.txt, not the tool's
            return Choice(requirements=folder / "requirements.txt",
                          note=f"custom.pythonRequirements.{turned_off[0]} is false: requirements.txt, as the plugin installs it")
        return choose([folder], f"{self.display}: {where}")

    def no_deploy(self) -> tuple[str, ...]:
        """The plugin's ``noDeploy`` packages, left out of the package as it leaves them out: each
        one's top-level folder (or module) and its dist-info."""
        names = self.maybe(self.plugin.get("noDeploy"))
        lines: list[str] = []
        for name in names if isinstance(names, list) else ():
            if isinstance(name := self.maybe(name), str) and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name):
                module = re.sub(r"[-.]+", "_", name)
                lines += [f"/{module}/", f"/{module}.py", f"/{module}-*.dist-info/", f"/{module.lower()}-*.dist-info/"]
        return tuple(dict.fromkeys(lines))

    def plugin_layer_on(self) -> bool:
        return bool(self.plugin_says("layer"))

    def plugin_says(self, key: str) -> bool:
        value = self.maybe(self.plugin.get(key))
        return value is True or isinstance(value, Mapping) or (isinstance(value, str) and value.lower() in ("true", "1"))

    def plugin_layer(self) -> Unit:
        choice = self.dependencies(self.root, f"custom.pythonRequirements (the {PLUGIN_LAYER} layer)")
        runtime = self.maybe(self.provider.get("runtime"))
        return Unit(name=PLUGIN_LAYER, kind="layer", where="custom.pythonRequirements.layer", source=None,
                    requirements=choice.requirements, lock=choice.lock, manifest=choice.manifest,
                    dependency_note=choice.note, selection=Selection(choice.package), slim=self.plugin_says("slim"),
                    runtime=runtime if runtime in RUNTIMES else None)

    def layers(self, function: Located) -> tuple[str, ...]:
        value = self.maybe(function.get("layers", self.provider.get("layers")))
        found = []
        for item in value if isinstance(value, list) else ():
            item = self.maybe(item)
            ref = item.get("Ref") if isinstance(item, Mapping) else None
            if isinstance(item, str) and item.startswith("arn:"):
                found.append(item)
            elif ref == _PLUGIN_LAYER_REF and self.plugin_layer_on():
                found.append(PLUGIN_LAYER)
            elif isinstance(ref, str) and (layer := self.own_layers.get(ref)) is not None:
                found.append(layer.name)
        return tuple(found)

    def service_layers(self) -> dict[str, Unit]:
        """The service's own layers (``layers: NAME: path: FOLDER``) by the logical ID a function's
        ``Ref`` names (NAMELambdaLayer, as Serverless normalizes it): each folder built as a layer,
        its python/ folder under python/ (else the folder), with its requirements.txt."""
        from lpack.inputs.declared import workspace_lock

        table = self.data.get("layers")
        if not isinstance(table, Located):
            return {}
        found: dict[str, Unit] = {}
        for name, layer in table.items():
            path = self.maybe(layer.get("path")) if isinstance(layer, Located) else None
            if not isinstance(path, str) or _NAME.fullmatch(str(name)) is None:
                continue  # a layer lpack cannot place (a package.artifact, an S3 object, a variable)
            folder = (self.root / path).resolve()
            if not folder.is_dir():
                raise ConfigError(f"{self.display}: line {table.line_of(name)}: layers.{name}.path {path!r} is not a "
                                  "folder")
            requirements = folder / "requirements.txt"
            choice = Choice(requirements=requirements) if requirements.is_file() else workspace_lock(folder) or Choice()
            runtimes = self.maybe(layer.get("compatibleRuntimes"))
            known = [r for r in runtimes if isinstance(r, str) and r in RUNTIMES] if isinstance(runtimes, list) else []
            found[_logical_id(str(name)) + "LambdaLayer"] = Unit(
                name=str(name), kind="layer", where=f"layers.{name}",
                source=folder / "python" if (folder / "python").is_dir() else folder,
                requirements=choice.requirements, lock=choice.lock, selection=Selection(choice.package),
                dependency_note=choice.note, runtime=known[0] if known else None)
        return found

    def patterns(self, function: Located) -> tuple[str, ...]:
        """``package.patterns`` of the service, then the function's, as gitignore lines: a pattern
        excludes with ``!`` in Serverless and includes without, and the last that matches wins in
        both. The older ``exclude``/``include`` lists too."""
        lines: list[str] = []
        for package in (self.data.get("package"), function.get("package")):
            if not isinstance(package, Located):
                continue
            for key, negated in (("exclude", False), ("include", True), ("patterns", None)):
                items = self.maybe(package.get(key))
                for item in items if isinstance(items, list) else ():
                    if not isinstance(item := self.maybe(item), str) or not item.strip():
                        continue
                    item = item.strip()
                    exclude = item.startswith("!") if negated is None else not negated
                    glob = item.lstrip("!").removeprefix("./") if negated is None else item.removeprefix("./")
                    lines.append(glob if exclude else f"!{glob}")
        return tuple(lines)

    def settings(self, name: str, function: Located) -> dict[str, Any]:
        from lpack.inputs.template.project import _cfn_string  # a YAML number or boolean: its text

        where = f"functions.{name}"
        settings: dict[str, Any] = {}
        for key, prop, default in (("memory", "memorySize", 1024), ("timeout", "timeout", 6),
                                   ("ephemeral-storage", "ephemeralStorageSize", None)):
            value = self.maybe(function.get(prop, self.provider.get(prop, default)))  # Serverless's defaults: 1024 MB, 6 s
            if isinstance(value, (int, str)) and str(value).isdigit():
                settings[key] = int(value)
        environment: dict[str, object] = {}
        for table in (self.provider.get("environment"), function.get("environment")):
            for key, value in table.items() if isinstance(table, Located) else ():
                resolved = self.maybe(value)
                environment[str(key)] = _cfn_string(resolved if resolved is not None else value)
        if environment:
            settings["environment"] = environment
        package = function.get("package") if isinstance(function.get("package"), Located) else self.data.get("package")
        artifact = self.maybe(package.get("artifact")) if isinstance(package, Located) else None
        if isinstance(artifact, str) and artifact:
            path = (self.root / artifact).resolve()
            if path != (self.root / "dist" / f"{name}.zip").resolve():  # lpack's own: built here
                if not path.is_file():
                    raise ConfigError(f"{self.display}: {where}.package.artifact {artifact!r} is not there; build it "
                                      f"first, or point it at dist/{name}.zip, which `lpack build` writes")
                settings["prebuilt-package"] = str(path)
        return settings


def _lookup(node: object, address: str) -> object:
    """The value at a dotted ``address`` (``custom.tables.0``) in ``node``; None where there is none."""
    for key in address.split(".") if address else ():
        if isinstance(node, Mapping) and key in node:
            node = node[key]
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            return None
    return node


def _logical_id(name: str) -> str:
    """Serverless's normalized name of a function or layer in its CloudFormation logical IDs."""
    normal = name.replace("-", "Dash").replace("_", "Underscore")
    return normal[:1].upper() + normal[1:]


def _split(body: str) -> list[str]:
    """``a, 'b, c', d`` -> its choices (a comma inside quotes is not a separator)."""
    parts, current, quote = [], "", ""
    for char in body:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == ",":
            parts.append(current)
            current = ""
            continue
        current += char
    parts.append(current)
    return parts

