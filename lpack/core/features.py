"""The Lambda features a function is configured with, beyond its size, memory and timeout.

One immutable record (a NamedTuple, cheaper to define at import than a dataclass) per function, filled from a template's properties (``lpack.inputs.template``)
or from ``[tool.lpack]`` keys, and read by the rules that judge combinations Lambda refuses and
by ``lpack invoke``. Values are kept as configured (a string where a number belongs stays a
string), so a rule can name what is wrong; ``None`` means "not configured".
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple

_NO_LINES: Mapping[str, int] = MappingProxyType({})


class CapacityProvider(NamedTuple):
    """``CapacityProviderConfig``: the function runs on Lambda Managed Instances."""

    arn: object = None
    memory_per_vcpu: object = None  # ExecutionEnvironmentMemoryGiBPerVCpu (GiB)
    max_concurrency: object = None  # PerExecutionEnvironmentMaxConcurrency


class Durable(NamedTuple):
    """``DurableConfig``: a durable function."""

    execution_timeout: object = None  # seconds
    retention_days: object = None  # RetentionPeriodInDays


class CodeSigning(NamedTuple):
    """``CodeSigningConfigArn``, and the config's allowed publishers when the template defines it."""

    config: object = None  # the ARN, or the logical ID of an AWS::Lambda::CodeSigningConfig in the template
    profiles: tuple[str, ...] | None = None  # AllowedPublishers.SigningProfileVersionArns, None when unknown
    enforce: object = None  # CodeSigningPolicies.UntrustedArtifactOnDeployment: "Warn" (default) or "Enforce"


class Features(NamedTuple):
    """Everything here defaults to "not configured"."""

    package_type: str = "Zip"  # "Zip" or "Image"
    # the code is not on this disk: "s3://bucket/key", "inline:PROPERTY" (ZipFile, InlineCode), an image URI
    code_elsewhere: str | None = None
    snap_start: object = None  # SnapStart.ApplyOn: "PublishedVersions" or "None"
    published: bool = False  # versions are published (SAM AutoPublishAlias, an AWS::Lambda::Version)
    provisioned_concurrency: object = None  # provisioned concurrent executions on a version or alias
    file_systems: int = 0  # FileSystemConfigs (EFS) attached
    capacity_provider: CapacityProvider | None = None
    durable: Durable | None = None
    tenancy: object = None  # TenancyConfig.TenantIsolationMode ("PER_TENANT")
    code_signing: CodeSigning | None = None
    function_url: bool = False
    url_invoke_mode: object = None  # FunctionUrlConfig.InvokeMode: "BUFFERED" (default) or "RESPONSE_STREAM"
    api_streaming: bool = False  # an API Gateway REST integration streams its response (ResponseTransferMode: STREAM)
    event_sources: tuple[str, ...] = ()  # the kinds of what invokes it: "Api", "HttpApi", "SQS", "Schedule" ...
    exec_wrapper: str | None = None  # AWS_LAMBDA_EXEC_WRAPPER: a script the runtime starts instead of itself
    # feature -> template line: "snap-start", "function-url", "api-streaming" ..., and each event source kind
    # ("Api", "SQS" ...) -> its first Events entry or EventSourceMapping
    lines: Mapping[str, int] = _NO_LINES

    @property
    def managed_instances(self) -> bool:
        return self.capacity_provider is not None

    @property
    def streams(self) -> bool:
        return self.url_invoke_mode == "RESPONSE_STREAM"

    def not_here(self) -> str | None:
        """Why lpack has no code of this function to build or run, and what to do; None when it has."""
        if self.package_type == "Image":
            image = f" ({self.code_elsewhere})" if self.code_elsewhere else ""
            return (f"a container image{image}: lpack builds and runs .zip packages; build the image with "
                    "`docker build` or `sam build`, and check the folder it copies with `lpack check FOLDER`")
        if self.code_elsewhere is not None and self.code_elsewhere.startswith(MAKEFILE):
            makefile = self.code_elsewhere.removeprefix(MAKEFILE)
            return (f"`sam build` makes it with {makefile} (BuildMethod: makefile), which lpack does not run, and "
                    "it declares no dependencies lpack reads: build it with `sam build`, or give it a requirements.txt")
        if self.code_elsewhere is not None and self.code_elsewhere.startswith(PLUGIN):
            plugin, _, module = self.code_elsewhere.removeprefix(PLUGIN).partition(":")
            return (f"the Serverless plugin {plugin} writes its handler's module ({module}) when it packages, and "
                    "lpack does not run Serverless plugins: package it with `serverless package`")
        if (prop := inline_code(self.code_elsewhere)) is not None:
            return f"its code is inline in the template ({prop}): there is no folder to build; move it to a file"
        if self.code_elsewhere is not None:
            return (f"its code is at {self.code_elsewhere}, not on this disk: point CodeUri at the local folder, "
                    "or pass the package: `lpack check PACKAGE.zip`, `lpack invoke PACKAGE.zip --handler ...`")
        return None


# `Features.code_elsewhere` of a Serverless function whose handler module a plugin writes: "plugin:NAME:MODULE"
PLUGIN = "plugin:"
MAKEFILE = "makefile:"  # `Features.code_elsewhere` of a layer its own Makefile builds: "makefile:PATH"


def inline_code(where: str | None) -> str | None:
    """The template property that holds a function's code inline (``ZipFile``, SAM's
    ``InlineCode``), when ``where`` (`Features.code_elsewhere`) says it does."""
    return where.removeprefix("inline:") if where is not None and where.startswith("inline:") else None


NONE = Features()
