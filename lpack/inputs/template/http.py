"""The HTTP triggers of a template's functions, as the template declares them, for ``lpack serve``.

- SAM ``Api`` events (``Path``, ``Method``; the implicit API's stage is ``Prod``, an explicit
  ``AWS::Serverless::Api``'s is its ``StageName``; ``BinaryMediaTypes`` from the API or
  ``Globals: Api``);
- SAM ``HttpApi`` events (no ``Path``/``Method``: the ``$default`` route; ``PayloadFormatVersion``,
  default 2.0; an explicit ``AWS::Serverless::HttpApi``'s ``StageName``, default ``$default``);
- the OpenAPI ``DefinitionBody`` of an ``AWS::Serverless::Api`` / ``HttpApi`` (and the ``Body`` of an
  ``AWS::ApiGateway::RestApi``): each operation whose ``x-amazon-apigateway-integration`` URI names
  the function;
- ``FunctionUrlConfig`` and ``AWS::Lambda::Url`` resources;
- ``AWS::ElasticLoadBalancingV2::TargetGroup`` resources of ``TargetType: lambda`` whose ``Targets``
  name the function (``lambda.multi_value_headers.enabled`` read from its attributes).

The template is read with the same reader as ``load_template``; values an intrinsic hides (a
``!Ref`` path without a default) leave that trigger out.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from lpack.inputs.template.features import _NAMED
from lpack.inputs.template.intrinsics import SAM_FUNCTION, Resolver, ref_target
from lpack.inputs.template.loader import Located, read_template

API_STAGE = "Prod"  # the stage of SAM's implicit REST API (ServerlessRestApi)
HTTP_API_STAGE = "$default"
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "x-amazon-apigateway-any-method")
_MULTI_VALUE = "lambda.multi_value_headers.enabled"
_INTEGRATION_TARGET = re.compile(r"integrations/\$\{([A-Za-z0-9]+)\}")


class HttpTrigger(NamedTuple):
    function: str  # logical ID
    kind: str  # "Api" (REST), "HttpApi", "FunctionUrl" or "ALB"
    method: str  # upper case, "ANY" for any
    path: str  # "/items/{id}"; "$default" for an HTTP API's default route; "" for function URLs and ALB
    stage: str
    where: str  # "Resources.Fn.Events.Get" (for messages)
    line: int
    payload_version: str = ""  # HttpApi: "1.0" or "2.0"
    binary_types: tuple[str, ...] = ()  # REST API BinaryMediaTypes
    multi_value: bool = False  # ALB target group with multi-value headers


def http_triggers(path: Path) -> tuple[HttpTrigger, ...]:
    """Every HTTP trigger the template (or serverless.yml) at ``path`` declares, in its order."""
    from lpack.inputs.template.serverless import is_serverless, serverless_triggers

    if is_serverless(path):
        return serverless_triggers(path)
    data = read_template(path)
    if data is None:
        return ()
    return tuple(_Triggers(data).all())


class _Triggers:
    def __init__(self, data: Located) -> None:
        self.resolver = Resolver(data)
        resources = data.get("Resources")
        self.resources: Located = resources if isinstance(resources, Located) else Located(1)
        globals_ = data.get("Globals")
        self.globals: Located = globals_ if isinstance(globals_, Located) else Located(1)

    def all(self) -> Iterator[HttpTrigger]:
        for name, resource in self.resources.items():
            if not isinstance(resource, Located):
                continue
            kind = resource.get("Type")
            props = resource.get("Properties")
            props = props if isinstance(props, Located) else Located(resource.line)
            where = f"Resources.{name}"
            if kind == SAM_FUNCTION:
                yield from self.sam_events(str(name), self.resolver.properties(resource))
            elif kind in ("AWS::Serverless::Api", "AWS::ApiGateway::RestApi", "AWS::Serverless::HttpApi"):
                yield from self.definition(str(name), str(kind), props)
            elif kind == "AWS::Lambda::Url" and (target := self.function_named(props.get("TargetFunctionArn"))):
                yield HttpTrigger(target, "FunctionUrl", "ANY", "", "", where, resource.line)
            elif kind == "AWS::ElasticLoadBalancingV2::TargetGroup":
                yield from self.target_group(where, resource.line, props)
            elif kind == "AWS::ApiGateway::Method":
                yield from self.rest_method(where, resource.line, props)
            elif kind == "AWS::ApiGatewayV2::Route":
                yield from self.v2_route(where, resource.line, props)
            elif kind == "AWS::ApiGatewayV2::Api" and (target := self.function_named(props.get("Target"))):
                # quick create: one $default route to the function, payload 2.0, stage $default
                yield HttpTrigger(target, "HttpApi", "ANY", "$default", HTTP_API_STAGE, where, resource.line,
                                  payload_version="2.0")

    def sam_events(self, name: str, props: Located) -> Iterator[HttpTrigger]:
        events = props.get("Events")
        events = events if isinstance(events, Located) else Located(props.line)
        for entry, event in events.items():
            if not isinstance(event, Located):
                continue
            kind = self.resolver.value(event.get("Type"))
            where, line = f"Resources.{name}.Events.{entry}", events.line_of(entry)
            got = event.get("Properties")
            args = got if isinstance(got, Located) else Located(event.line)
            if kind == "Api":
                yield from self.api_event(name, args, where, line)
            elif kind == "HttpApi":
                yield from self.http_api_event(name, args, where, line)
        if isinstance(props.get("FunctionUrlConfig"), Located):
            yield HttpTrigger(name, "FunctionUrl", "ANY", "", "", f"Resources.{name}.FunctionUrlConfig",
                              props.line_of("FunctionUrlConfig"))

    def api_event(self, name: str, args: Located, where: str, line: int) -> Iterator[HttpTrigger]:
        path, method = self.resolver.value(args.get("Path")), self.resolver.value(args.get("Method"))
        if not (isinstance(path, str) and isinstance(method, str)):
            return
        api = self.api_props(args.get("RestApiId"))
        stage = self.resolver.value(api.get("StageName")) if api is not None else API_STAGE
        yield HttpTrigger(name, "Api", _method(method), path, stage if isinstance(stage, str) else API_STAGE,
                          where, line, binary_types=self.binary_types(api))

    def http_api_event(self, name: str, args: Located, where: str, line: int) -> Iterator[HttpTrigger]:
        path, method = self.resolver.value(args.get("Path")), self.resolver.value(args.get("Method"))
        api = self.api_props(args.get("ApiId"))
        stage = self.resolver.value(api.get("StageName")) if api is not None else None
        version = self.resolver.value(args.get("PayloadFormatVersion"))
        if path is None and method is None:
            path, method = "$default", "ANY"
        if not (isinstance(path, str) and isinstance(method, str)):
            return
        yield HttpTrigger(name, "HttpApi", _method(method), path, stage if isinstance(stage, str) else HTTP_API_STAGE,
                          where, line, payload_version=version if version in ("1.0", "2.0") else "2.0")

    def api_props(self, ref: object) -> Located | None:
        """The properties of the explicit API a ``RestApiId``/``ApiId`` names; None for SAM's implicit one."""
        target = ref_target(ref)
        resource = self.resources.get(target) if target is not None else None
        if not isinstance(resource, Located):
            return None
        props = resource.get("Properties")
        return props if isinstance(props, Located) else Located(resource.line)

    def binary_types(self, api: Located | None) -> tuple[str, ...]:
        """The REST API's BinaryMediaTypes; SAM's implicit API takes them from ``Globals: Api``."""
        source = api if api is not None else self.globals.get("Api")
        types = self.resolver.value(source.get("BinaryMediaTypes")) if isinstance(source, Located) else None
        return tuple(t for t in types if isinstance(t, str)) if isinstance(types, list) else ()

    def definition(self, name: str, kind: str, props: Located) -> Iterator[HttpTrigger]:
        """Operations of an API's OpenAPI body whose Lambda integration names a function."""
        body = props.get("Body" if kind == "AWS::ApiGateway::RestApi" else "DefinitionBody")
        paths = body.get("paths") if isinstance(body, Located) else None
        http = kind == "AWS::Serverless::HttpApi"
        stage = self.resolver.value(props.get("StageName"))
        for path, item in paths.items() if isinstance(paths, Located) else ():
            for method, operation in item.items() if isinstance(item, Located) else ():
                integration = operation.get("x-amazon-apigateway-integration") \
                    if isinstance(operation, Located) and str(method).lower() in _METHODS else None
                target = self.integrated(integration)
                if target is None:
                    continue
                assert isinstance(integration, Located)
                version = self.resolver.value(integration.get("payloadFormatVersion"))
                yield HttpTrigger(
                    target, "HttpApi" if http else "Api", _method(str(method)), str(path),
                    stage if isinstance(stage, str) else HTTP_API_STAGE if http else API_STAGE,
                    f"Resources.{name}.{'Body' if kind.startswith('AWS::ApiGateway') else 'DefinitionBody'}"
                    f".paths.{path}.{method}", item.line_of(method),
                    payload_version=(version if version in ("1.0", "2.0") else "2.0") if http else "",
                    binary_types=() if http else self.binary_types(props))

    def integrated(self, integration: object, *, type_key: str = "type", uri_key: str = "uri") -> str | None:
        """The function a Lambda proxy integration's URI names (``!Sub ...${Fn.Arn}/invocations``,
        ``!GetAtt Fn.Arn``, a ``!Join`` of them)."""
        if not isinstance(integration, Located) \
                or str(self.resolver.value(integration.get(type_key))).lower() != "aws_proxy":
            return None
        uri = integration.get(uri_key)
        if (direct := self.function_named(uri)) is not None:
            return direct
        text = self.resolver.text(uri) or ""
        return next((n for n in _NAMED.findall(text) if self.is_function(n)), None)

    def target_group(self, where: str, line: int, props: Located) -> Iterator[HttpTrigger]:
        if str(self.resolver.value(props.get("TargetType"))).lower() != "lambda":
            return
        attributes = props.get("TargetGroupAttributes")
        multi = any(isinstance(a, Located) and a.get("Key") == _MULTI_VALUE
                    and str(self.resolver.value(a.get("Value"))).lower() == "true"
                    for a in (attributes if isinstance(attributes, list) else ()))
        targets = props.get("Targets")
        for target in targets if isinstance(targets, list) else ():
            if isinstance(target, Located) and (function := self.function_named(target.get("Id"))):
                yield HttpTrigger(function, "ALB", "ANY", "", "", where, line, multi_value=multi)

    def rest_method(self, where: str, line: int, props: Located) -> Iterator[HttpTrigger]:
        """A CloudFormation REST API method (``AWS::ApiGateway::Method``, as ``cdk synth`` writes
        them) whose AWS_PROXY integration names a function; its path from the resource chain."""
        integration = props.get("Integration")
        target = self.integrated(integration, type_key="Type", uri_key="Uri")
        method = self.resolver.value(props.get("HttpMethod"))
        path = self.resource_path(props.get("ResourceId"), 0)
        if target is None or not isinstance(method, str) or path is None:
            return
        api_id = ref_target(props.get("RestApiId"))
        api = self.api_props(props.get("RestApiId"))
        yield HttpTrigger(target, "Api", _method(method), path, self.stage_of(api_id, "AWS::ApiGateway::Stage", API_STAGE),
                          where, line, binary_types=self.binary_types(api) if api is not None else ())

    def resource_path(self, ref: object, depth: int) -> str | None:
        """``/items/{id}`` for a chain of ``AWS::ApiGateway::Resource`` (``PathPart`` under
        ``ParentId``), ``/`` for a RestApi's ``RootResourceId``; None when the template does not say."""
        if isinstance(ref, dict) and "Fn::GetAtt" in ref:
            return "/"  # !GetAtt Api.RootResourceId
        target = ref_target(ref)
        resource = self.resources.get(target) if target is not None else None
        if not isinstance(resource, Located) or resource.get("Type") != "AWS::ApiGateway::Resource" or depth > 30:
            return None
        props = resource.get("Properties")
        if not isinstance(props, Located):
            return None
        part = self.resolver.value(props.get("PathPart"))
        parent = self.resource_path(props.get("ParentId"), depth + 1)
        if not isinstance(part, str) or parent is None:
            return None
        return parent.rstrip("/") + "/" + part

    def v2_route(self, where: str, line: int, props: Located) -> Iterator[HttpTrigger]:
        """A CloudFormation HTTP API route (``AWS::ApiGatewayV2::Route``) whose target
        (``integrations/<id>``) is an AWS_PROXY integration naming a function."""
        key = self.resolver.value(props.get("RouteKey"))
        found = _INTEGRATION_TARGET.search(self.resolver.text(props.get("Target")) or "")
        resource = self.resources.get(found.group(1)) if found is not None else None
        integration = resource.get("Properties") if isinstance(resource, Located) else None
        target = self.integrated(integration, type_key="IntegrationType", uri_key="IntegrationUri")
        if target is None or not isinstance(key, str) or not isinstance(integration, Located):
            return
        method, _, path = key.partition(" ")
        version = self.resolver.value(integration.get("PayloadFormatVersion"))
        api_id = ref_target(props.get("ApiId"))
        yield HttpTrigger(target, "HttpApi", "ANY" if key == "$default" else _method(method),
                          "$default" if key == "$default" else path,
                          self.stage_of(api_id, "AWS::ApiGatewayV2::Stage", HTTP_API_STAGE), where, line,
                          payload_version=version if version in ("1.0", "2.0") else "2.0")

    def stage_of(self, api_id: str | None, kind: str, default: str) -> str:
        """The StageName of the first stage resource of the API, else ``default``."""
        for resource in self.resources.values():
            props = resource.get("Properties") if isinstance(resource, Located) else None
            if isinstance(props, Located) and resource.get("Type") == kind and api_id is not None \
                    and ref_target(props.get("RestApiId", props.get("ApiId"))) == api_id \
                    and isinstance(stage := self.resolver.value(props.get("StageName")), str):
                return stage
        return default

    def function_named(self, value: object) -> str | None:
        """The template function a ``!Ref Fn``/``!GetAtt Fn.Arn`` (or its logical ID) names."""
        target = ref_target(value) or (value if isinstance(value, str) else None)
        return target if target is not None and self.is_function(target) else None

    def is_function(self, name: str) -> bool:
        resource = self.resources.get(name)
        return isinstance(resource, Located) and resource.get("Type") in (SAM_FUNCTION, "AWS::Lambda::Function")


def _method(method: str) -> str:
    """SAM's ``get``/``any`` and OpenAPI's ``x-amazon-apigateway-any-method`` -> ``GET``/``ANY``."""
    method = method.lower()
    return "ANY" if method in ("any", "x-amazon-apigateway-any-method", "*") else method.upper()
