"""A template function's Lambda features (``lpack.core.features.Features``) from its properties and
the resources that point at it.

SAM and CloudFormation spell some of them differently: SAM's ``CapacityProviderConfig`` has ``Arn``
where CloudFormation nests ``LambdaManagedInstancesCapacityProviderConfig.CapacityProviderArn``; SAM's
``FunctionUrlConfig``, ``AutoPublishAlias`` and ``ProvisionedConcurrencyConfig`` are separate
``AWS::Lambda::Url``, ``AWS::Lambda::Version`` and ``AWS::Lambda::Alias`` resources in
CloudFormation. Both are read. An API Gateway REST integration that streams the function's response
(``ResponseTransferMode: STREAM`` on an ``AWS::ApiGateway::Method``, ``responseTransferMode`` in an
API's OpenAPI body) is read from the API's resource, whose integration URI names the function. A value an intrinsic hides is "not configured" for the rules
(``Resolver.value``), as everywhere in a template.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from lpack.core.facts import delivery
from lpack.core.features import CapacityProvider, CodeSigning, Durable, Features
from lpack.inputs.template.intrinsics import Resolver, ref_target
from lpack.inputs.template.loader import Located

CODE_SIGNING_CONFIG = "AWS::Lambda::CodeSigningConfig"
# the service of an event source's ARN (or of the resource it names) -> the SAM event type it is
_SOURCE_KINDS = {"sqs": "SQS", "kinesis": "Kinesis", "dynamodb": "DynamoDB", "kafka": "MSK", "msk": "MSK",
                 "mq": "MQ", "amazonmq": "MQ", "docdb": "DocumentDB"}
# the logical IDs an integration URI names, as Resolver.text writes them: ${Fn.Arn}, ${Fn}
_NAMED = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.Arn)?\}")
_OPENAPI_INTEGRATION = "x-amazon-apigateway-integration"


def read_features(name: str, resource: Located, props: Located, resources: Located, resolver: Resolver) -> Features:
    """The features of function ``name`` (its ``resource``, with SAM's Globals applied in ``props``)."""
    value = resolver.value
    lines: dict[str, int] = {}
    found: dict[str, object] = {}

    def section(key: str) -> Located | None:
        got = props.get(key)
        if isinstance(got, Located):
            lines[_feature_key(key)] = props.line_of(key)
            return got
        return None

    if value(props.get("PackageType")) == "Image":
        found["package_type"] = "Image"
    if (snap := section("SnapStart")) is not None:
        found["snap_start"] = value(snap.get("ApplyOn"))
    if isinstance(systems := props.get("FileSystemConfigs"), list) and systems:
        found["file_systems"], lines["file-systems"] = len(systems), props.line_of("FileSystemConfigs")
    if (provider := section("CapacityProviderConfig")) is not None:
        nested = provider.get("LambdaManagedInstancesCapacityProviderConfig")
        config = nested if isinstance(nested, Located) else provider
        found["capacity_provider"] = CapacityProvider(
            arn=resolver.text(config.get("CapacityProviderArn", config.get("Arn"))),
            memory_per_vcpu=value(config.get("ExecutionEnvironmentMemoryGiBPerVCpu")),
            max_concurrency=value(config.get("PerExecutionEnvironmentMaxConcurrency")))
    if (durable := section("DurableConfig")) is not None:
        found["durable"] = Durable(execution_timeout=value(durable.get("ExecutionTimeout")),
                                   retention_days=value(durable.get("RetentionPeriodInDays")))
    if (tenancy := section("TenancyConfig")) is not None:
        found["tenancy"] = value(tenancy.get("TenantIsolationMode"))
    if "CodeSigningConfigArn" in props:
        lines["code-signing"] = props.line_of("CodeSigningConfigArn")
        found["code_signing"] = _code_signing(props["CodeSigningConfigArn"], resources, resolver)
    if (url := section("FunctionUrlConfig")) is not None:
        found["function_url"], found["url_invoke_mode"] = True, value(url.get("InvokeMode"))
    if "AutoPublishAlias" in props:
        found["published"] = True
    if (provisioned := section("ProvisionedConcurrencyConfig")) is not None:
        found["provisioned_concurrency"] = value(provisioned.get("ProvisionedConcurrentExecutions"))
    kinds = list(_sam_events(props.get("Events"), lines, resolver))
    for other, kind, line in _pointing_at(name, resources, resolver):
        lines.setdefault(_feature_key(kind), line)
        if kind == "Version":
            found["published"] = True
        elif kind == "ProvisionedConcurrencyConfig":
            found.setdefault("provisioned_concurrency", value(other.get("ProvisionedConcurrentExecutions")))
        elif kind == "Url":
            found["function_url"] = True
            found.setdefault("url_invoke_mode", value(other.get("InvokeMode")))
        else:
            kinds.append(kind)
    if (streaming := _api_streaming(name, resources, resolver)) is not None:
        found["api_streaming"], lines["api-streaming"] = True, streaming
    return Features(**found, event_sources=tuple(kinds), lines=lines)  # type: ignore[arg-type]


def _sam_events(events: object, lines: dict[str, int], resolver: Resolver) -> Iterator[str]:
    """The kinds of a SAM function's ``Events`` entries (``Api``, ``SQS`` ...); the line of each
    kind's first entry goes into ``lines`` under the kind."""
    if not isinstance(events, Located):
        return
    for entry, event in events.items():
        if isinstance(event, Located) and isinstance(kind := resolver.value(event.get("Type")), str):
            lines.setdefault(kind, events.line_of(entry))
            yield kind


def _api_streaming(name: str, resources: Located, resolver: Resolver) -> int | None:
    """The line of the first API Gateway integration that streams function ``name``'s response:
    ``ResponseTransferMode: STREAM`` on an ``AWS::ApiGateway::Method``'s ``Integration``, or
    ``responseTransferMode: STREAM`` in the OpenAPI body of a SAM API or REST API, with an
    integration URI that names the function (``!Sub ...${Fn.Arn}/response-streaming-invocations``)."""
    found: list[int] = []
    for resource in resources.values():
        if not isinstance(resource, Located) or not isinstance(props := resource.get("Properties"), Located):
            continue
        kind = resource.get("Type")
        if kind == "AWS::ApiGateway::Method" and isinstance(integration := props.get("Integration"), Located):
            found += _streams_to(name, integration, "ResponseTransferMode", "Uri", resolver)
        elif kind in ("AWS::Serverless::Api", "AWS::ApiGateway::RestApi"):
            body = props.get("DefinitionBody" if kind == "AWS::Serverless::Api" else "Body")
            for integration in _openapi_integrations(body):
                found += _streams_to(name, integration, "responseTransferMode", "uri", resolver)
    return min(found, default=None)


def _streams_to(name: str, integration: Located, mode: str, uri: str, resolver: Resolver) -> list[int]:
    if resolver.value(integration.get(mode)) != delivery.API_TRANSFER_MODE:
        return []
    text = resolver.text(integration.get(uri)) or ""
    return [integration.line_of(mode)] if name in _NAMED.findall(text) else []


def _openapi_integrations(body: object) -> Iterator[Located]:
    """Each operation's ``x-amazon-apigateway-integration`` in an OpenAPI (or Swagger) body."""
    paths = body.get("paths") if isinstance(body, Located) else None
    for item in paths.values() if isinstance(paths, Located) else ():
        for operation in item.values() if isinstance(item, Located) else ():
            if isinstance(operation, Located) and isinstance(got := operation.get(_OPENAPI_INTEGRATION), Located):
                yield got


def _feature_key(key: str) -> str:
    """The ``Features.lines`` key of a property: ``SnapStart`` -> ``snap-start``."""
    return {"SnapStart": "snap-start", "CapacityProviderConfig": "capacity-provider", "DurableConfig": "durable",
            "TenancyConfig": "tenancy", "FunctionUrlConfig": "function-url", "Url": "function-url",
            "ProvisionedConcurrencyConfig": "provisioned-concurrency", "Version": "published"}.get(key, key)


def _code_signing(arn: object, resources: Located, resolver: Resolver) -> CodeSigning:
    target = ref_target(arn)
    config = resources.get(target) if target is not None else None
    if not (isinstance(config, Located) and config.get("Type") == CODE_SIGNING_CONFIG):
        return CodeSigning(config=resolver.text(arn))
    props = config.get("Properties")
    props = props if isinstance(props, Located) else Located(config.line)
    publishers = props.get("AllowedPublishers")
    arns = publishers.get("SigningProfileVersionArns") if isinstance(publishers, Located) else None
    profiles = tuple(t for a in arns if (t := resolver.text(a)) is not None) if isinstance(arns, list) else None
    policies = props.get("CodeSigningPolicies")
    enforce = resolver.value(policies.get("UntrustedArtifactOnDeployment")) if isinstance(policies, Located) else None
    return CodeSigning(config=target, profiles=profiles, enforce=enforce)


def _source_kind(arn: object, resources: Located, resolver: Resolver) -> str:
    """What an event source mapping reads: ``SQS`` for a queue's ARN or a ``!GetAtt Queue.Arn``."""
    target = resources.get(ref_target(arn)) if ref_target(arn) is not None else None
    if isinstance(target, Located) and isinstance(kind := target.get("Type"), str) and kind.count("::") == 2:
        service = kind.split("::")[1].lower()
    else:
        text = resolver.text(arn) or ""
        service = text.split(":")[2] if text.count(":") >= 2 else ""
    return _SOURCE_KINDS.get(service, "EventSourceMapping")


def _pointing_at(name: str, resources: Located, resolver: Resolver) -> Iterator[tuple[Located, str, int]]:
    """CloudFormation resources that attach something to function ``name``: versions, aliases with
    provisioned concurrency, function URLs and event source mappings (the resource's properties,
    what it attaches, its line)."""
    for other in resources.values():
        if not isinstance(other, Located) or not isinstance(props := other.get("Properties"), Located):
            continue
        kind = other.get("Type")
        pointer = props.get("TargetFunctionArn" if kind == "AWS::Lambda::Url" else "FunctionName")
        if ref_target(pointer) != name and resolver.value(pointer) != name:
            continue
        if kind == "AWS::Lambda::Url":
            yield props, "Url", other.line
        elif kind == "AWS::Lambda::Version":
            yield props, "Version", other.line
        elif kind == "AWS::Lambda::EventSourceMapping":
            yield props, _source_kind(props.get("EventSourceArn"), resources, resolver), other.line
        if kind in ("AWS::Lambda::Version", "AWS::Lambda::Alias"):
            config = props.get("ProvisionedConcurrencyConfig")
            if isinstance(config, Located):
                yield config, "ProvisionedConcurrencyConfig", props.line_of("ProvisionedConcurrencyConfig")
