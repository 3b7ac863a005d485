"""Which AWS API calls a handler makes, read from its source with ``ast`` (nothing is imported).

Over the package's own modules the handler imports (the graph ``handler_analysis`` walks), this
follows boto3 objects: ``boto3.client("s3")``, ``boto3.resource("dynamodb")``, a ``Session``'s
clients, through assignments, module globals, helper functions that return one, attributes
(``self.s3 = boto3.client("s3")``) and imports from another module of the package; then the
method calls on them: client operations, paginators, waiters, resource actions and sub-resources
(``Table(name).put_item``, ``Bucket(name).objects.filter``), and boto3's S3 transfer methods.
Each call is mapped to IAM actions by ``lpack.iam.operations``.

Where the code is too dynamic to tell (a service name from a variable, ``getattr``), the call is
recorded as unresolved and judged by no rule. Code under ``if False:`` or ``if TYPE_CHECKING:``
never runs and is skipped.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from lpack.analysis._nodes import dotted_name
from lpack.analysis.subjects import PackageSubject

if TYPE_CHECKING:
    from lpack.iam.policy import ParsedPolicy

# Resource identifiers: how a client call's parameters (and a boto3 resource's identifiers) name
# the resource, as the placeholder of the IAM resource type's ARN pattern they fill.
_PARAM_PLACEHOLDERS = {
    "Bucket": "BucketName", "Key": "ObjectName", "TableName": "TableName", "StreamName": "StreamName",
    "EventBusName": "EventBusName", "QueueName": "QueueName",
}
_ARN_PARAMS = frozenset({"TopicArn", "TargetArn", "stateMachineArn", "StreamARN", "RoleArn", "SecretId",
                         "FunctionName", "KeyId", "ResourceArn", "TableArn"})
# boto3 resource types: their identifiers, in order, as client parameters
_RESOURCE_IDS: dict[tuple[str, str], tuple[str, ...]] = {
    ("s3", "Bucket"): ("Bucket",), ("s3", "Object"): ("Bucket", "Key"), ("s3", "ObjectSummary"): ("Bucket", "Key"),
    ("s3", "ObjectVersion"): ("Bucket", "Key"), ("dynamodb", "Table"): ("TableName",),
    ("sqs", "Queue"): ("QueueUrl",), ("sns", "Topic"): ("TopicArn",),
}
_RESOURCE_KEYWORDS: dict[tuple[str, str], tuple[str, ...]] = {
    ("s3", "Bucket"): ("name",), ("s3", "Object"): ("bucket_name", "key"), ("dynamodb", "Table"): ("name",),
    ("sqs", "Queue"): ("url",), ("sns", "Topic"): ("arn",),
}
_QUEUE_URL = re.compile(r"https://(?:sqs\.)?([a-z0-9-]+)\.(?:queue\.)?amazonaws\.com(?:\.cn)?/(\d{12})/([\w.-]+)$")
# boto3's S3 client transfer methods take these positionally (boto3.s3.inject)
_TRANSFER_POSITIONS = {
    "upload_file": ("", "Bucket", "Key"), "upload_fileobj": ("", "Bucket", "Key"),
    "download_file": ("Bucket", "Key", ""), "download_fileobj": ("Bucket", "Key", ""), "copy": ("", "Bucket", "Key"),
}
_COLLECTION_METHODS = frozenset({"all", "filter", "limit", "page_size"})
MAX_DEPTH = 40

# Libraries that call AWS with the function's role in code lpack does not follow: where one is
# imported, no grant is called unused (LP571). Powertools' utilities are in POWERTOOLS_CALLS instead.
AWS_LIBRARIES = frozenset({
    "awswrangler", "pynamodb", "aioboto3", "aiobotocore", "s3fs", "smart_open", "boto", "chalice",
    "dynamodb_encryption_sdk", "aws_encryption_sdk", "aws_xray_sdk", "cfnresponse", "crhelper",
})
# Powertools for AWS Lambda (Python) utilities that call AWS, and what they call:
# https://docs.powertools.aws.dev/lambda/python/latest/utilities/parameters/#iam-permissions
# https://docs.powertools.aws.dev/lambda/python/latest/utilities/idempotency/#iam-permissions
POWERTOOLS_CALLS: dict[str, tuple[str, str]] = {
    "get_parameter": ("ssm", "GetParameter"), "get_parameters": ("ssm", "GetParametersByPath"),
    "get_parameters_by_name": ("ssm", "GetParameters"), "get_secret": ("secretsmanager", "GetSecretValue"),
    "set_parameter": ("ssm", "PutParameter"),
}
_POWERTOOLS_OPAQUE = ("aws_lambda_powertools.utilities.feature_flags", "aws_lambda_powertools.utilities.streaming",
                      "aws_lambda_powertools.utilities.data_masking")
IDEMPOTENCY_OPERATIONS = ("GetItem", "PutItem", "UpdateItem", "DeleteItem")


class Target(NamedTuple):
    """The resource a call names, when the code says: a whole ARN, or parts of one."""

    arn: str | None = None
    parts: tuple[tuple[str, str], ...] = ()  # (placeholder, value): ("BucketName", "uploads")

    def get(self, placeholder: str) -> str | None:
        return next((v for k, v in self.parts if k == placeholder), None)


class Call(NamedTuple):
    service: str  # botocore's name: "s3", "stepfunctions"
    operation: str  # "GetObject", or boto3's transfer method ("upload_file")
    actions: tuple[str, ...]  # the IAM actions it needs
    entry: str  # the package file
    line: int
    target: Target | None = None
    note: str = ""

    @property
    def site(self) -> str:
        return f"{self.entry}:{self.line}"


class Unresolved(NamedTuple):
    entry: str
    line: int
    service: str | None  # None: lpack cannot tell which service
    why: str


class CodeUse(NamedTuple):
    """What a function's code calls; None of it when the handler cannot be analysed."""

    handler: str  # the handler module's entry
    calls: tuple[Call, ...]
    unresolved: tuple[Unresolved, ...] = ()
    lambda_own: tuple[str, ...] = ()  # actions Lambda itself uses with the role (ENIs, tracing, DLQ ...)
    where: str = ""  # how findings name the package folder (src/)
    opaque_libraries: tuple[str, ...] = ()  # imported libraries that call AWS themselves (awswrangler ...)
    role_gaps: tuple[str, ...] = ()  # grants of the role lpack cannot read (SAM policy templates)
    grants: tuple[ParsedPolicy, ...] = ()  # the role's SAM policy templates, as the statements SAM makes

    def unresolved_services(self) -> frozenset[str | None]:
        return frozenset(u.service for u in self.unresolved)


# -- values the evaluator tracks ------------------------------------------------------------------

class _Val(NamedTuple):
    kind: str  # boto3 | boto3-fn | session-mod | session-cls | session | client | resource | collection |
    #           batch-writer | paginator | waiter | module | str | func | class | instance | method
    service: str = ""
    name: str = ""  # client op / resource type / module dotted name / text / function name
    ids: tuple[tuple[str, str], ...] = ()  # a resource's identifiers, as client parameters
    ref: Any = None  # the node and context of a function or class


_BOTO3 = _Val("boto3")
_FOREIGN = "other-credentials"
_CREDENTIALS = frozenset({"aws_access_key_id", "aws_session_token", "profile_name", "botocore_session"})
_OBJECTS = frozenset({"session", "client", "resource", "collection", "paginator", "waiter", "batch-writer"})


class _Module(NamedTuple):
    entry: str
    name: str  # dotted
    tree: ast.Module
    is_package: bool


class _Scope:
    """A module's top level, or one function's body, with where each name is bound."""

    def __init__(self, module: _Module, body: list[ast.stmt], parent: _Scope | None,
                 cls: ast.ClassDef | None = None, args: ast.arguments | None = None) -> None:
        self.module, self.parent, self.cls = module, parent, cls
        self.binds: dict[str, list[Any]] = {}
        self.given: dict[str, _Val | None] = {}  # parameters bound to a call's arguments
        if args is not None:
            positional = [*args.posonlyargs, *args.args]
            defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
            for arg, default in zip(positional, defaults):
                self.binds[arg.arg] = [("expr", default)] if default is not None else [("param",)]
            for arg, kw_default in zip(args.kwonlyargs, args.kw_defaults):
                self.binds[arg.arg] = [("expr", kw_default)] if kw_default is not None else [("param",)]
        for stmt in _live(body):
            self._bind(stmt)

    def _bind(self, stmt: ast.stmt) -> None:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self.binds.setdefault(stmt.name, []).append(("func", stmt))
        elif isinstance(stmt, ast.ClassDef):
            self.binds.setdefault(stmt.name, []).append(("class", stmt))
        elif isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                self._target(target, stmt.value)
        elif isinstance(stmt, (ast.AnnAssign, ast.AugAssign)) and stmt.value is not None:
            if isinstance(stmt, ast.AnnAssign):
                self._target(stmt.target, stmt.value)
        elif isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if alias.asname:
                    self.binds.setdefault(alias.asname, []).append(("import", alias.name))
                else:
                    top = alias.name.partition(".")[0]
                    self.binds.setdefault(top, []).append(("import", top))
        elif isinstance(stmt, ast.ImportFrom):
            base = self._from_base(stmt)
            for alias in stmt.names:
                if alias.name != "*" and base is not None:
                    self.binds.setdefault(alias.asname or alias.name, []).append(("from", base, alias.name))
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            for item in stmt.items:
                if item.optional_vars is not None:
                    self._target(item.optional_vars, item.context_expr)
            self._block(stmt.body)
        elif isinstance(stmt, (ast.For, ast.AsyncFor)):
            self._target(stmt.target, ast.Call(ast.Name("__iter__"), [stmt.iter], []))
            self._block(stmt.body)
            self._block(stmt.orelse)
        elif isinstance(stmt, ast.If):
            self._block(stmt.body)
            self._block(stmt.orelse)
        elif isinstance(stmt, (ast.Try, *_TRY_STAR)):
            handlers: list[ast.ExceptHandler] = getattr(stmt, "handlers", [])
            for block in ("body", "orelse", "finalbody"):
                self._block(getattr(stmt, block, []))
            for handler in handlers:
                self._block(handler.body)
        elif isinstance(stmt, ast.While):
            self._block(stmt.body)

    def _block(self, body: list[ast.stmt]) -> None:
        for stmt in _live(body):
            self._bind(stmt)

    def _target(self, target: ast.expr, value: ast.expr) -> None:
        if isinstance(target, ast.Name):
            self.binds.setdefault(target.id, []).append(("expr", value))
        elif isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, (ast.Tuple, ast.List)) \
                and len(target.elts) == len(value.elts):
            for t, v in zip(target.elts, value.elts):
                self._target(t, v)

    def _from_base(self, stmt: ast.ImportFrom) -> str | None:
        if not stmt.level:
            return stmt.module or ""
        package = self.module.name if self.module.is_package else self.module.name.rpartition(".")[0]
        parts = package.split(".") if package else []
        if stmt.level - 1 > len(parts):
            return None
        base = ".".join(parts[: len(parts) - (stmt.level - 1)])
        return ".".join(p for p in (base, stmt.module or "") if p)


_TRY_STAR: tuple[type[ast.stmt], ...] = tuple(t for t in (getattr(ast, "TryStar", None),) if t is not None)


def _never_runs(test: ast.expr) -> bool:
    """``if False:``, ``if 0:``, ``if TYPE_CHECKING:``, ``if typing.TYPE_CHECKING:``."""
    if isinstance(test, ast.Constant):
        return not test.value
    return dotted_name(test).rpartition(".")[2] == "TYPE_CHECKING"


def _live(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """The statements of a block that can run: an ``if`` that never runs gives only its else."""
    for stmt in body:
        if isinstance(stmt, ast.If) and _never_runs(stmt.test):
            yield from _live(stmt.orelse)
        else:
            yield stmt


class _Analyser:
    """One function's code: the modules, a scope per module, the calls found."""

    def __init__(self, modules: Mapping[str, _Module], environment: Mapping[str, object]) -> None:
        self.modules = modules
        self.by_name = {m.name: m for m in modules.values()}
        self.environment = environment
        self.globals: dict[str, _Scope] = {}
        self.calls: list[Call] = []
        self.unresolved: list[Unresolved] = []
        self._depth = 0
        self._class_attrs: dict[int, dict[str, list[tuple[ast.expr, _Scope]]]] = {}
        self.passed: dict[int, dict[str, _Val]] = {}  # a function's parameters -> boto3 objects its callers pass

    def scope_of(self, module: _Module) -> _Scope:
        if module.entry not in self.globals:
            self.globals[module.entry] = _Scope(module, module.tree.body, None)
        return self.globals[module.entry]

    # -- evaluation ------------------------------------------------------------------------

    def value(self, node: ast.expr | None, scope: _Scope) -> _Val | None:
        if node is None or self._depth > MAX_DEPTH:
            return None
        self._depth += 1
        try:
            return self._value(node, scope)
        finally:
            self._depth -= 1

    def _value(self, node: ast.expr, scope: _Scope) -> _Val | None:
        if isinstance(node, ast.Constant):
            return _Val("str", name=node.value) if isinstance(node.value, str) else None
        if isinstance(node, ast.Name):
            return self.lookup(node.id, scope)
        if isinstance(node, ast.Attribute):
            return self.attribute(self.value(node.value, scope), node.attr, node, scope)
        if isinstance(node, ast.Call):
            return self.call_value(node, scope)
        if isinstance(node, ast.Subscript):
            return self.environ_item(node, scope)
        if isinstance(node, (ast.Await, ast.NamedExpr)):
            return self.value(node.value, scope)
        if isinstance(node, ast.BoolOp):  # os.environ.get("X") or "default"
            return next((v for v in (self.value(n, scope) for n in node.values) if v is not None), None)
        return None

    def lookup(self, name: str, scope: _Scope) -> _Val | None:
        here: _Scope | None = scope
        while here is not None:
            if name in here.given:
                return here.given[name]
            if name in here.binds:
                return self.bound(here.binds[name], here)
            here = here.parent
        return None

    def bound(self, binds: list[Any], scope: _Scope) -> _Val | None:
        for bind in reversed(binds):
            found = self.binding(bind, scope)
            if found is not None:
                return found
        return None

    def binding(self, bind: tuple[Any, ...], scope: _Scope) -> _Val | None:
        kind = bind[0]
        if kind == "expr":
            return self.value(bind[1], scope)
        if kind == "func":
            return _Val("func", name=bind[1].name, ref=(bind[1], scope))
        if kind == "class":
            return _Val("class", name=bind[1].name, ref=(bind[1], scope))
        if kind == "import":
            return self.module_value(bind[1])
        if kind == "from":
            return self.from_import(bind[1], bind[2])
        return None

    def module_value(self, dotted: str) -> _Val | None:
        if dotted == "boto3":
            return _BOTO3
        if dotted == "boto3.session":
            return _Val("session-mod")
        if dotted.startswith("aws_lambda_powertools"):
            return _Val("powertools", name=dotted)
        return _Val("module", name=dotted) if dotted in self.by_name or self._is_own_package(dotted) else None

    def _is_own_package(self, dotted: str) -> bool:
        return any(name.startswith(dotted + ".") for name in self.by_name)

    def from_import(self, base: str, name: str) -> _Val | None:
        if base == "boto3":
            if name in ("client", "resource"):
                return _Val("boto3-fn", name=name)
            if name == "Session":
                return _Val("session-cls")
            if name == "session":
                return _Val("session-mod")
            return None
        if base == "boto3.session" and name == "Session":
            return _Val("session-cls")
        if base.startswith("aws_lambda_powertools"):
            return _Val("powertools", name=f"{base}.{name}")
        return self.module_attribute(base, name)

    def module_attribute(self, dotted: str, name: str) -> _Val | None:
        module = self.by_name.get(dotted)
        if module is not None:
            scope = self.scope_of(module)
            if name in scope.binds:
                return self.bound(scope.binds[name], scope)
        submodule = f"{dotted}.{name}" if dotted else name
        return _Val("module", name=submodule) if submodule in self.by_name or self._is_own_package(submodule) else None

    def attribute(self, base: _Val | None, attr: str, node: ast.Attribute, scope: _Scope) -> _Val | None:
        if base is None:
            return self.self_attribute(node, attr, scope)
        kind = base.kind
        if kind == "boto3":
            return {"client": _Val("boto3-fn", name="client"), "resource": _Val("boto3-fn", name="resource"),
                    "Session": _Val("session-cls"), "session": _Val("session-mod")}.get(attr)
        if kind == "session-mod":
            return _Val("session-cls") if attr == "Session" else None
        if kind == "module":
            return self.module_attribute(base.name, attr)
        if kind == "powertools":
            return _Val("powertools", name=f"{base.name}.{attr}")
        if kind == "instance":
            return self.instance_attribute(base.ref, attr)
        if kind == "resource":
            from lpack.iam.operations import resource_model

            model = resource_model(base.service, base.name) or {}
            many = model.get("many", {}).get(attr)
            if many is not None:
                return _Val("collection", base.service, many[1], base.ids, ref=(many[0], base.name))
        if kind in ("session", "client", "resource", "collection", "paginator", "waiter", "batch-writer"):
            return _Val("method", base.service, attr, ref=base)  # what calling it gives: method_result
        return None

    def self_attribute(self, node: ast.Attribute, attr: str, scope: _Scope) -> _Val | None:
        """``self.x`` inside a method: what any method of the class assigns to ``self.x``."""
        if not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
            return None
        here: _Scope | None = scope
        while here is not None and here.cls is None:
            here = here.parent
        if here is None or here.cls is None or here.parent is None:
            return None
        return self.instance_attribute((here.cls, here.parent), attr)

    def instance_attribute(self, ref: tuple[ast.ClassDef, _Scope], attr: str) -> _Val | None:
        cls, outer = ref
        assigned = self._class_attrs.get(id(cls))
        if assigned is None:
            assigned = self._class_attrs[id(cls)] = self._collect_class_attrs(cls, outer)
        for value, scope in reversed(assigned.get(attr, [])):
            found = self.value(value, scope)
            if found is not None:
                return found
        return None

    def _collect_class_attrs(self, cls: ast.ClassDef, outer: _Scope) -> dict[str, list[tuple[ast.expr, _Scope]]]:
        found: dict[str, list[tuple[ast.expr, _Scope]]] = {}
        body_scope = _Scope(outer.module, cls.body, outer)
        for name, binds in body_scope.binds.items():
            found.setdefault(name, []).extend((b[1], outer) for b in binds if b[0] == "expr")
        for stmt in cls.body:
            if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            method = _Scope(outer.module, stmt.body, outer, cls, stmt.args)
            for node in ast.walk(stmt):
                if isinstance(node, ast.Assign):
                    for target in node.targets:
                        if isinstance(target, ast.Attribute) and dotted_name(target.value) in ("self", "cls"):
                            found.setdefault(target.attr, []).append((node.value, method))
        return found

    def environ_item(self, node: ast.Subscript, scope: _Scope) -> _Val | None:
        """``os.environ["X"]``: the value the function's environment sets, when it is text."""
        if dotted_name(node.value).rpartition(".")[2] != "environ":
            return None
        key = self.value(node.slice, scope)
        return self.env(key.name) if key is not None and key.kind == "str" else None

    def env(self, name: str, default: _Val | None = None) -> _Val | None:
        value = self.environment.get(name)
        return _Val("str", name=value) if isinstance(value, str) else default

    def call_value(self, node: ast.Call, scope: _Scope) -> _Val | None:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in ("get", "getenv"):
            owner = dotted_name(func.value)
            if owner.rpartition(".")[2] == "environ" or owner == "os" and func.attr == "getenv":
                key = self.value(node.args[0], scope) if node.args else None
                default = self.value(node.args[1], scope) if len(node.args) > 1 else None
                return self.env(key.name, default) if key is not None and key.kind == "str" else None
        if isinstance(func, ast.Name) and func.id == "__iter__":  # a for loop over a collection
            items = self.value(node.args[0], scope)
            if items is not None and items.kind == "collection":
                return _Val("resource", items.service, items.name, items.ids)
            return None
        callee = self.value(func, scope)
        if callee is None:
            return None
        if callee.kind == "boto3-fn":
            return self.make_client(callee.name, node, scope)
        if callee.kind == "session-cls":
            return _Val("session", name=_FOREIGN if any(k.arg in _CREDENTIALS for k in node.keywords) else "")
        if callee.kind == "func":
            return self.returned(callee.ref, node, scope)
        if callee.kind == "class":
            return _Val("instance", name=callee.name, ref=callee.ref)
        if callee.kind == "method":
            return self.method_result(callee, node, scope)
        return None

    def make_client(self, which: str, node: ast.Call, scope: _Scope, session: _Val | None = None) -> _Val | None:
        if session is not None and session.name == _FOREIGN or any(k.arg in _CREDENTIALS for k in node.keywords):
            return None  # calls with other credentials (an assumed role's) are not the execution role's
        service_node = node.args[0] if node.args else next(
            (k.value for k in node.keywords if k.arg == "service_name"), None)
        service = self.value(service_node, scope)
        if service is None or service.kind != "str":
            self.unresolved.append(Unresolved(scope.module.entry, node.lineno, None,
                                              f"boto3.{which}() with a service name lpack cannot read"))
            return None
        return _Val("client" if which == "client" else "resource", service.name)

    def returned(self, ref: tuple[ast.FunctionDef, _Scope], node: ast.Call, caller: _Scope) -> _Val | None:
        func, outer = ref
        scope = _Scope(outer.module, func.body, outer, args=func.args)
        for param, arg in zip([*func.args.posonlyargs, *func.args.args], node.args):
            scope.given[param.arg] = self.value(arg, caller)
        for keyword in node.keywords:
            if keyword.arg is not None and keyword.arg in scope.binds:
                scope.given[keyword.arg] = self.value(keyword.value, caller)
        for stmt in ast.walk(ast.Module(body=list(_live(func.body)), type_ignores=[])):
            if isinstance(stmt, ast.Return) and stmt.value is not None:
                found = self.value(stmt.value, scope)
                if found is not None:
                    return found
        return None

    def method_result(self, method: _Val, node: ast.Call, scope: _Scope) -> _Val | None:
        """What calling a method of a boto3 object gives, when it is another boto3 object."""
        owner: _Val = method.ref
        name = method.name
        if owner.kind == "session" and name in ("client", "resource"):
            return self.make_client(name, node, scope, owner)
        if owner.kind == "client" and name in ("get_paginator", "get_waiter"):
            op = self.value(node.args[0], scope) if node.args else None
            if op is None or op.kind != "str":
                return None
            kind = "paginator" if name == "get_paginator" else "waiter"
            return _Val(kind, owner.service, op.name)
        if owner.kind == "resource":
            return self.resource_result(owner, name, node, scope)
        if owner.kind == "collection" and name in _COLLECTION_METHODS:
            return owner
        return None

    def resource_result(self, owner: _Val, name: str, node: ast.Call, scope: _Scope) -> _Val | None:
        from lpack.iam.operations import resource_model

        if owner.service == "dynamodb" and owner.name == "Table" and name == "batch_writer":
            return _Val("batch-writer", "dynamodb", "Table", owner.ids)
        if owner.service == "sqs" and owner.name == "" and name == "get_queue_by_name":
            queue = self.keyword(node, "QueueName", scope)
            return _Val("resource", "sqs", "Queue", (("QueueName", queue),) if queue else ())
        model = resource_model(owner.service, owner.name) or {}
        kind = model.get("has", {}).get(name)
        if kind is None and owner.name == "" and name and resource_model(owner.service, name) is not None:
            kind = name  # the service resource constructs every resource type: s3.Object(bucket, key)
        if kind is None:
            return None
        return _Val("resource", owner.service, kind, owner.ids + self.identifiers(owner.service, kind, owner.ids,
                                                                                      node, scope))

    def identifiers(self, service: str, kind: str, known: tuple[tuple[str, str], ...], node: ast.Call,
                    scope: _Scope) -> tuple[tuple[str, str], ...]:
        params = _RESOURCE_IDS.get((service, kind), ())
        keywords = _RESOURCE_KEYWORDS.get((service, kind), ())
        have = {k for k, _ in known}
        open_params = [p for p in params if p not in have]
        found: list[tuple[str, str]] = []
        for param, arg in zip(open_params, node.args):
            value = self.value(arg, scope)
            if value is not None and value.kind == "str":
                found.append((param, value.name))
        for keyword in node.keywords:
            if keyword.arg in keywords:
                param = params[keywords.index(keyword.arg)]
                value = self.value(keyword.value, scope)
                if value is not None and value.kind == "str" and param not in have:
                    found.append((param, value.name))
        return tuple(found)

    def keyword(self, node: ast.Call, name: str, scope: _Scope) -> str | None:
        for keyword in node.keywords:
            if keyword.arg == name:
                value = self.value(keyword.value, scope)
                return value.name if value is not None and value.kind == "str" else None
        return None

    # -- the calls ---------------------------------------------------------------------------

    def visit_module(self, module: _Module) -> None:
        scope = self.scope_of(module)
        self.visit_block(module.tree.body, scope)

    def visit_block(self, body: list[ast.stmt], scope: _Scope, cls: ast.ClassDef | None = None) -> None:
        for stmt in _live(body):
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                inner = _Scope(scope.module, stmt.body, scope, cls, stmt.args)
                inner.given.update(self.passed.get(id(stmt), {}))
                self.visit_block(stmt.body, inner)
                self.visit_expressions([*stmt.decorator_list, *stmt.args.defaults], scope)
            elif isinstance(stmt, ast.ClassDef):
                self.visit_block(stmt.body, scope, stmt)
            else:
                self.visit_statement(stmt, scope)

    def visit_statement(self, stmt: ast.stmt, scope: _Scope) -> None:
        blocks = [getattr(stmt, name) for name in ("body", "orelse", "finalbody") if hasattr(stmt, name)]
        blocks += [h.body for h in getattr(stmt, "handlers", [])]
        for field, value in ast.iter_fields(stmt):
            if field in ("body", "orelse", "finalbody", "handlers"):
                continue
            nodes = value if isinstance(value, list) else [value]
            self.visit_expressions([n for n in nodes if isinstance(n, (ast.expr, ast.withitem))], scope)
        if isinstance(stmt, ast.If) and _never_runs(stmt.test):
            blocks = [stmt.orelse]
        for block in blocks:
            if isinstance(block, list) and all(isinstance(s, ast.stmt) for s in block):
                self.visit_block(block, scope)

    def visit_expressions(self, nodes: list[Any], scope: _Scope) -> None:
        for top in nodes:
            for node in ast.walk(top):
                if isinstance(node, ast.Call) and isinstance(node.func, (ast.Attribute, ast.Name)):
                    callee = self.value(node.func, scope)
                    if callee is not None and callee.kind == "powertools":
                        self.powertools(callee.name, node, scope)
                    elif callee is not None and callee.kind == "func":
                        self.pass_arguments(callee.ref[0], node, scope)
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                    self.record(node, node.func, scope)
                elif isinstance(node, ast.Call) and dotted_name(node.func) == "getattr" and node.args:
                    owner = self.value(node.args[0], scope)
                    if owner is not None and owner.kind in ("client", "resource"):
                        self.unresolved.append(Unresolved(scope.module.entry, node.lineno, owner.service,
                                                          "getattr() on a boto3 object"))

    def record(self, node: ast.Call, func: ast.Attribute, scope: _Scope) -> None:
        owner = self.value(func.value, scope)
        if owner is None:
            return
        name, entry, line = func.attr, scope.module.entry, node.lineno
        operation: str | None = None
        target = self.call_target(owner, node, scope)
        if owner.kind == "client":
            operation = self.client_operation(owner.service, name, node, scope)
        elif owner.kind == "paginator" and name == "paginate":
            operation = owner.name and _pascal_operation(owner.service, owner.name)
        elif owner.kind == "waiter" and name == "wait":
            from lpack.iam.operations import waiter_operation

            operation = waiter_operation(owner.service, owner.name)
        elif owner.kind == "resource":
            operation = self.resource_operation(owner, name)
        elif owner.kind == "collection":
            from lpack.iam.operations import resource_model

            batch = (resource_model(owner.service, owner.name) or {}).get("batch", {})  # the items' batch actions
            if name in _COLLECTION_METHODS:
                operation = owner.ref[0]
            elif name in batch:
                operation = batch[name]
        elif owner.kind == "batch-writer" and name in ("put_item", "delete_item"):
            operation = "BatchWriteItem"
        if operation:
            self.add(owner.service, operation, entry, line, target)

    def pass_arguments(self, func: ast.FunctionDef, node: ast.Call, scope: _Scope) -> None:
        """Note the boto3 objects a call passes to a function of the package (``handle(event, table)``),
        so that the calls on its parameters are followed too."""
        params = [a.arg for a in (*func.args.posonlyargs, *func.args.args)]
        if params and params[0] in ("self", "cls") and isinstance(node.func, ast.Attribute):
            params = params[1:]
        pairs = [*zip(params, node.args), *((k.arg, k.value) for k in node.keywords if k.arg is not None)]
        for param, arg in pairs:
            if isinstance(arg, ast.Starred):
                break
            value = self.value(arg, scope)
            if value is not None and value.kind in _OBJECTS:
                self.passed.setdefault(id(func), {}).setdefault(param, value)

    def powertools(self, dotted: str, node: ast.Call, scope: _Scope) -> None:
        """Powertools' parameters and idempotency utilities: the calls they make for the code."""
        module, _, name = dotted.rpartition(".")
        entry, line = scope.module.entry, node.lineno
        first = self.value(node.args[0], scope) if node.args else self._keyword_value(node, "name", scope)
        text = first.name if first is not None and first.kind == "str" else None
        if name in POWERTOOLS_CALLS and module.endswith("parameters"):
            service, operation = POWERTOOLS_CALLS[name]
            target = None
            if text is not None and service == "ssm":
                target = Target(None, (("ParameterNameWithoutLeadingSlash", text.lstrip("/")),))
            elif text is not None:
                target = Target(text, ()) if text.startswith("arn:") else Target(None, (("SecretId", text + "-${SecretSuffix}"),))
            self.add(service, operation, entry, line, target)
        elif name == "DynamoDBPersistenceLayer" and "idempotency" in module:
            table = self._keyword_value(node, "table_name", scope) or first
            target = Target(None, (("TableName", table.name),)) if table is not None and table.kind == "str" else None
            for operation in IDEMPOTENCY_OPERATIONS:
                self.add("dynamodb", operation, entry, line, target)

    def client_operation(self, service: str, name: str, node: ast.Call, scope: _Scope) -> str | None:
        from lpack.iam.operations import TRANSFER_METHODS, has_service, methods

        if service == "s3" and name in TRANSFER_METHODS:
            return name
        if name == "generate_presigned_url":  # the URL carries the role's permission for ClientMethod
            method = self.value(node.args[0], scope) if node.args else None
            method = method or self._keyword_value(node, "ClientMethod", scope)
            return methods(service).get(method.name) if method is not None and method.kind == "str" else None
        if name in ("get_paginator", "get_waiter", "can_paginate", "close", "exceptions", "meta"):
            return None
        operation = methods(service).get(name)
        if operation is None and not has_service(service):
            self.unresolved.append(Unresolved(scope.module.entry, node.lineno, service,
                                              f"a {service} client lpack's operation data does not know"))
        return operation

    def _keyword_value(self, node: ast.Call, name: str, scope: _Scope) -> _Val | None:
        return next((self.value(k.value, scope) for k in node.keywords if k.arg == name), None)

    def resource_operation(self, owner: _Val, name: str) -> str | None:
        from lpack.iam.operations import TRANSFER_METHODS, resource_model

        if owner.service == "s3" and name in TRANSFER_METHODS and owner.name in ("Bucket", "Object"):
            return name
        model = resource_model(owner.service, owner.name) or {}
        if name in model.get("actions", {}):
            return str(model["actions"][name])
        if name in ("load", "reload") and "load" in model:
            return str(model["load"])
        return None

    def call_target(self, owner: _Val, node: ast.Call, scope: _Scope) -> Target | None:
        parts: dict[str, str] = {}
        arn: str | None = None
        pairs = list(owner.ids)
        if owner.kind in ("client", "method") and owner.service == "s3" and isinstance(node.func, ast.Attribute):
            for param, arg in zip(_TRANSFER_POSITIONS.get(node.func.attr, ()), node.args):
                value = self.value(arg, scope)
                if param and value is not None and value.kind == "str":
                    pairs.append((param, value.name))
        for keyword in node.keywords:
            if keyword.arg is None:
                continue
            value = self.value(keyword.value, scope)
            if value is not None and value.kind == "str":
                pairs.append((keyword.arg, value.name))
        if owner.kind == "client" and owner.service == "ssm":
            pairs = [("ParameterNameWithoutLeadingSlash", v.lstrip("/")) if k == "Name" else (k, v) for k, v in pairs]
        for param, text in pairs:
            if param in _ARN_PARAMS and text.startswith("arn:"):
                arn = text
            elif param in _PARAM_PLACEHOLDERS:
                parts[_PARAM_PLACEHOLDERS[param]] = text
            elif param == "QueueUrl" and (m := _QUEUE_URL.match(text)):
                parts.update(Region=m.group(1), Account=m.group(2), QueueName=m.group(3))
            elif param == "QueueUrl" and text.startswith("${"):  # a template's !Ref to a queue: its URL
                parts["QueueName"] = text
            elif param in ("FunctionName", "SecretId", "ParameterNameWithoutLeadingSlash", "TopicArn"):
                placeholder = {"SecretId": "SecretId", "TopicArn": "TopicName"}.get(param, param)
                parts[placeholder] = text + "-${SecretSuffix}" if param == "SecretId" else text
        if arn is None and not parts:
            return None
        return Target(arn, tuple(sorted(parts.items())))

    def add(self, service: str, operation: str, entry: str, line: int, target: Target | None) -> None:
        from lpack.iam.operations import NEEDS_NO_PERMISSION, actions_for

        if (service, operation) in NEEDS_NO_PERMISSION:  # allowed whatever the role says
            return
        actions, note = actions_for(service, operation)
        if not actions:
            self.unresolved.append(Unresolved(entry, line, service, f"{service} {operation}: no IAM action known"))
            return
        self.calls.append(Call(service, operation, actions, entry, line, target, note))


def _pascal_operation(service: str, snake_name: str) -> str | None:
    from lpack.iam.operations import methods

    return methods(service).get(snake_name)


def code_use(modules: Mapping[str, tuple[str, ast.Module, bool]], handler: str,
             environment: Mapping[str, object] | None = None) -> CodeUse:
    """The calls of the package modules ``modules`` (entry -> (dotted name, tree, is package)),
    starting from the handler module's entry; ``environment`` resolves ``os.environ`` reads."""
    own = {entry: _Module(entry, name, tree, is_package) for entry, (name, tree, is_package) in modules.items()}
    analyser = _Analyser(own, environment or {})
    libraries: set[str] = set()
    for _ in range(2):  # what callers pass to the package's functions, through two calls
        for module in own.values():
            analyser.visit_module(module)
    analyser.calls.clear()
    analyser.unresolved.clear()
    for module in own.values():
        analyser.visit_module(module)
        libraries.update(_aws_libraries(module.tree))
    calls = sorted(set(analyser.calls), key=lambda c: (c.entry != handler, c.entry, c.line, c.operation))
    unresolved = sorted(set(analyser.unresolved), key=lambda u: (u.entry, u.line))
    return CodeUse(handler, tuple(calls), tuple(unresolved), opaque_libraries=tuple(sorted(libraries)))


def _aws_libraries(tree: ast.Module) -> Iterator[str]:
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        for name in names:
            if name.partition(".")[0] in AWS_LIBRARIES:
                yield name.partition(".")[0]
            elif name.startswith(_POWERTOOLS_OPAQUE):
                yield name


def analyse(subject: PackageSubject, environment: Mapping[str, object] | None = None) -> CodeUse | None:
    """What the handler of ``subject`` (read with its ``reader``) and the package modules it imports
    call; None when lpack cannot read the handler module (not source in the package, invalid on the
    target, too large): then nothing is judged."""
    from lpack.analysis.handler_analysis import HandlerAnalysis

    found = HandlerAnalysis(subject)
    handler = found.module
    if handler is None or found.unread:
        return None
    modules = {entry: (m.location.name, m.tree, m.location.is_package) for entry, m in found.modules.items()}
    return code_use(modules, handler.location.entry, environment)
