"""How a function's code reaches Lambda and how its responses leave (LP360-LP379): code that is not on
this disk (container images, S3, inline), exec wrappers and the Lambda Web Adapter, response
streaming, code signing."""

from __future__ import annotations

from collections.abc import Iterator

from lpack.analysis.subjects import FunctionSubject
from lpack.core.facts import delivery as facts
from lpack.core.features import inline_code
from lpack.core.findings import Finding, Severity
from lpack.rules import Rule, rule

IMAGES_URL = "https://docs.aws.amazon.com/lambda/latest/dg/images-create.html"
CODE_URL = "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-lambda-function-code.html"


@rule("LP360", "image-function", Severity.INFO, subject=FunctionSubject, source=IMAGES_URL)
def image_function(r: Rule, s: FunctionSubject) -> Iterator[Finding]:
    """## What it does
    Notes a function deployed as a container image (`PackageType: Image`), so a report never
    passes over it in silence.

    ## Why is this bad?
    It is not: lpack checks what the template says of an image function (timeout, memory,
    environment, the execution role's policies, SnapStart and the other features), but not the
    image itself. Its dependencies are whatever the Dockerfile installs, its handler is the
    image's `CMD`, and layers do not apply to images. A report that says nothing about such a
    function reads as "checked".

    ## How to fix
    Nothing to fix. To check the image itself (its size against the 10 GB limit, its platform,
    its start command; LP370-LP376), save it and check the file:
    `docker save IMAGE -o image.tar && lpack check image.tar --arch arm64` (an OCI layout folder
    works too). To check the code that goes into it, run `lpack check` on the folder the
    Dockerfile copies (for example `lpack check src/`).
    """
    if s.features.package_type == "Image":
        image = s.features.code_elsewhere
        yield r.finding(
            f"{s.name} is a container image{f' ({image})' if image else ''}: lpack checked its settings and "
            "role, not the image (its dependencies, handler and size are the Dockerfile's)",
            s.where, line=s.line_of("function"), function=s.name,
            fix="check the image itself: `docker save IMAGE -o image.tar && lpack check image.tar`")


@rule("LP361", "code-not-local", Severity.INFO, subject=FunctionSubject, source=CODE_URL)
def code_not_local(r: Rule, s: FunctionSubject) -> Iterator[Finding]:
    """## What it does
    Notes a .zip function whose code the template places somewhere lpack cannot read: an S3
    object (`CodeUri: s3://...`, `Code: {S3Bucket, S3Key}`) or inline code (`ZipFile`, SAM's
    `InlineCode`).

    ## Why is this bad?
    lpack checks the function's settings and role, but not a package it cannot open: the size
    limits, the handler and its imports go unchecked until the deployment or the first invoke.

    ## How to fix
    Point `CodeUri` at the local folder (SAM and `aws cloudformation package` upload it for
    you), or check the package itself: `lpack check path/to/package.zip --handler app.handler`.
    A `cdk synth` template is read from its `cdk.out` folder, where each function's code is a
    local asset.
    """
    where = s.features.code_elsewhere
    if s.features.package_type == "Zip" and where is not None:
        prop = inline_code(where)
        shown = f"inline in the template ({prop})" if prop is not None else f"at {where}"
        yield r.finding(
            f"{s.name}'s code is {shown}: lpack checked its settings and role, not its package",
            s.where, line=s.line_of("source") or s.line_of("function"), function=s.name,
            fix="point CodeUri at the local folder, or run `lpack check PACKAGE.zip --handler MODULE.FUNCTION`")


WRAPPER = "AWS_LAMBDA_EXEC_WRAPPER"


def _zip(s: FunctionSubject) -> bool:
    """A .zip function: an image brings its own /opt, runtime and signing story."""
    return s.features.package_type == "Zip"


@rule("LP362", "exec-wrapper-without-layer", Severity.WARNING, subject=FunctionSubject, source=facts.WRAPPER_URL)
def exec_wrapper_without_layer(r: Rule, s: FunctionSubject) -> Iterator[Finding]:
    """## What it does
    Flags a .zip function whose `AWS_LAMBDA_EXEC_WRAPPER` names a script under `/opt` while the
    function has no layers.

    ## Why is this bad?
    `/opt` holds the function's layers and nothing else: without a layer the wrapper does not
    exist, Lambda cannot start the runtime, and every invocation fails during init. The usual
    cause is the Lambda Web Adapter's `/opt/bootstrap` with its layer left out, or a layer dropped
    from one function of a template.

    ## How to fix
    Attach the layer that ships the wrapper (for the Web Adapter,
    `arn:aws:lambda:${AWS::Region}:753240598075:layer:LambdaAdapterLayerX86:N`, or `...Arm64:N`
    for arm64), or remove the variable. A wrapper in the function's own package is
    `/var/task/NAME` (LP213 checks it).
    """
    wrapper = s.features.exec_wrapper
    if _zip(s) and wrapper and wrapper.startswith(facts.LAYER_ROOT) and not s.layers:
        adapter = wrapper == facts.WEB_ADAPTER_WRAPPER
        yield r.finding(
            f"{WRAPPER} is {wrapper}, a file from a layer, but {s.name} has no layers: the runtime cannot start",
            s.where, line=s.line_of(WRAPPER) or s.line_of("function"), function=s.name,
            fix=("attach the Lambda Web Adapter layer (arn:aws:lambda:REGION:753240598075:layer:"
                 "LambdaAdapterLayerX86:N, or LambdaAdapterLayerArm64 for arm64)" if adapter
                 else "attach the layer that ships the wrapper, or remove the variable"))


@rule("LP363", "response-stream-without-adapter", Severity.ERROR, subject=FunctionSubject, source=facts.STREAMING_URL)
def response_stream_without_adapter(r: Rule, s: FunctionSubject) -> Iterator[Finding]:
    """## What it does
    Flags a .zip Python function whose responses are meant to stream while nothing replaces the
    managed runtime's client: no exec wrapper (`AWS_LAMBDA_EXEC_WRAPPER`), such as the Lambda Web
    Adapter's `/opt/bootstrap`. Streaming is switched on by its function URL (`InvokeMode:
    RESPONSE_STREAM`) or by an API Gateway REST API integration that names the function
    (`ResponseTransferMode: STREAM` on an `AWS::ApiGateway::Method`'s `Integration`, or
    `responseTransferMode: STREAM` in an `x-amazon-apigateway-integration` of the API's OpenAPI
    body); the finding points at that line.

    ## Why is this bad?
    The Lambda developer guide (read 2026-12-05) lists response streaming for the Node.js managed
    runtimes only; other languages stream through a custom runtime or the Lambda Web Adapter. The
    managed Python runtime calls the handler and returns one buffered response, so a streaming URL
    or REST integration on a plain Python handler never streams what it promises (API Gateway's
    streaming integration calls `InvokeWithResponseStream` and expects the function to write its
    streaming format).

    ## How to fix
    Run the app behind the Lambda Web Adapter: attach its layer, set
    `AWS_LAMBDA_EXEC_WRAPPER=/opt/bootstrap` and `AWS_LWA_INVOKE_MODE=response_stream`, and make
    the handler the app's start script (`run.sh`). Or go back to buffered responses: `InvokeMode:
    BUFFERED` on the URL, `ResponseTransferMode: BUFFERED` (the default) on the integration, with
    the `.../2015-03-31/functions/ARN/invocations` URI. Container images are not judged: the image
    may bring the adapter itself.
    """
    if not (_zip(s) and not s.features.exec_wrapper):
        return
    adapter = [layer for layer in s.layers if facts.is_web_adapter_layer(layer)]
    why = ("and the Lambda Web Adapter layer is attached, but without AWS_LAMBDA_EXEC_WRAPPER the managed "
           "Python runtime still answers with one buffered response" if adapter
           else "but the managed Python runtime answers with one buffered response (Lambda streams natively on "
                "Node.js only)")
    streaming = ((s.features.streams, "function-url", "function URL streams responses (InvokeMode: RESPONSE_STREAM)",
                  "set InvokeMode: BUFFERED"),
                 (s.features.api_streaming, "api-streaming",
                  "API Gateway integration streams responses (ResponseTransferMode: STREAM)",
                  "set the integration's ResponseTransferMode to BUFFERED"))
    for on, key, what, buffered in streaming:
        if on:
            yield r.finding(
                f"{s.name}'s {what}, {why}",
                s.where, line=s.features.lines.get(key) or s.line_of("function"), function=s.name,
                fix=("set AWS_LAMBDA_EXEC_WRAPPER=/opt/bootstrap and AWS_LWA_INVOKE_MODE=response_stream" if adapter
                     else "run the app behind the Lambda Web Adapter (its layer, AWS_LAMBDA_EXEC_WRAPPER=/opt/bootstrap, "
                          f"a run.sh handler), or {buffered}"))


@rule("LP364", "invoke-mode-invalid", Severity.ERROR, subject=FunctionSubject, source=facts.URL_CONFIG_URL)
def invoke_mode_invalid(r: Rule, s: FunctionSubject) -> Iterator[Finding]:
    """## What it does
    Checks a function URL's `InvokeMode`: `BUFFERED` (the default) or `RESPONSE_STREAM`, spelt
    exactly so.

    ## Why is this bad?
    The API refuses any other value, and the deployment fails.

    ## How to fix
    Use `BUFFERED` or `RESPONSE_STREAM` (upper case; the Web Adapter's own `AWS_LWA_INVOKE_MODE`
    is the lower-case `response_stream`).
    """
    mode = s.features.url_invoke_mode
    if mode is not None and mode not in facts.INVOKE_MODES:
        close = next((m for m in facts.INVOKE_MODES if isinstance(mode, str) and mode.upper() == m), None)
        yield r.finding(
            f"{s.name}'s function URL has InvokeMode {mode!r}; Lambda accepts {' or '.join(facts.INVOKE_MODES)}",
            s.where, line=s.features.lines.get("function-url") or s.line_of("function"), function=s.name,
            fix=f"write {close}" if close else f"use {' or '.join(facts.INVOKE_MODES)}")


def _signing(s: FunctionSubject) -> tuple[str, ...] | None:
    """The allowed publishers' accounts, when the template defines the code signing config with Enforce."""
    signing = s.features.code_signing
    if not _zip(s) or signing is None or signing.profiles is None or signing.enforce != facts.ENFORCE:
        return None
    return tuple(dict.fromkeys(a for p in signing.profiles if (a := facts.account_of(p)) is not None))


@rule("LP365", "layer-publisher-not-allowed", Severity.WARNING, subject=FunctionSubject, source=facts.SIGNING_URL)
def layer_publisher_not_allowed(r: Rule, s: FunctionSubject) -> Iterator[Finding]:
    """## What it does
    For a function whose code signing configuration is defined in the template with
    `UntrustedArtifactOnDeployment: Enforce`, flags layer ARNs published by an account that owns
    none of the configuration's allowed signing profiles (`AllowedPublishers`).

    ## Why is this bad?
    Lambda checks every layer of a function with code signing at deployment: each must be signed
    by one of the allowed profiles. A signing profile belongs to one account, and a public layer
    (the Lambda Web Adapter's, a vendor's extension) is signed, if at all, by its publisher. With
    `Enforce`, the deployment is refused.

    ## How to fix
    Add the publisher's signing profile version ARN to `AllowedPublishers` (ask the publisher for
    it), or copy the layer into your account and sign it with your profile (see
    docs/code-signing.md). If that account signs with a profile of yours (a cross-account profile
    permission), ignore this finding with a reason.
    """
    accounts = _signing(s)
    if not accounts:
        return
    outside = [layer for layer in s.layers if layer.startswith("arn:")
               and (account := facts.account_of(layer)) is not None and account not in accounts]
    for layer in outside:
        yield r.finding(
            f"{s.name} enforces code signing (allowed publishers in account {', '.join(accounts)}), but its layer "
            f"{_as_written(layer)} is published by account {facts.account_of(layer)}: the deployment is refused",
            s.where, line=s.line_of("layers") or s.features.lines.get("code-signing"), function=s.name,
            fix="add the publisher's signing profile to AllowedPublishers, or copy the layer into your account "
                "and sign it (docs/code-signing.md)")


@rule("LP366", "project-layer-unsigned", Severity.INFO, subject=FunctionSubject, source=facts.SIGNING_URL)
def project_layer_unsigned(r: Rule, s: FunctionSubject) -> Iterator[Finding]:
    """## What it does
    Notes, for a function with a code signing configuration (`CodeSigningConfigArn`), the layers
    this project builds: lpack's zips are not signed.

    ## Why is this bad?
    Lambda validates the function's package and every layer version against the configuration's
    allowed signing profiles at deployment. The function's own package is easy to remember; a
    layer is published separately and often forgotten: with `Enforce` its deployment is refused,
    with `Warn` (the default) it runs unsigned and Lambda only logs a warning.

    ## How to fix
    Sign each layer's zip with an allowed profile before publishing it: `sam deploy
    --signing-profiles Function=Profile Layer=Profile`, or `aws signer start-signing-job` on the
    zip in S3 and publish the signed object (docs/code-signing.md). lpack's zips are
    byte-reproducible, so sign the zip lpack built.
    """
    if not _zip(s) or s.features.code_signing is None:
        return
    built = [layer for layer in s.layers if not layer.startswith("arn:")]
    if built:
        names = ", ".join(built)
        yield r.finding(
            f"{s.name} has code signing, and lpack builds its layer{'s' if len(built) > 1 else ''} {names} unsigned: "
            "each must be signed by an allowed profile before it is published",
            s.where, line=s.line_of("layers") or s.features.lines.get("code-signing"), function=s.name,
            fix=f"sign {names} with AWS Signer (sam deploy --signing-profiles {s.name}=PROFILE {built[0]}=PROFILE), "
                "see docs/code-signing.md")


def _adapter_mode(s: FunctionSubject) -> tuple[str, str] | None:
    """The Web Adapter's invoke mode as it reads ``AWS_LWA_INVOKE_MODE`` (lower-cased; anything else,
    or nothing, is buffered) and the value as written; None when the adapter may not run or the value
    is unknown. A .zip function runs the adapter through ``/opt/bootstrap``; an image may bring it as an
    extension, so there only a variable that is set counts, and an unset one only beside the adapter's
    layer (another layer may ship an ``/opt/bootstrap`` of its own)."""
    env = s.environment or {}
    raw = env.get(facts.WEB_ADAPTER_INVOKE_MODE)
    if _zip(s) and s.features.exec_wrapper != facts.WEB_ADAPTER_WRAPPER:
        return None
    if raw is None:  # the default counts only where the adapter's own layer says it runs
        known = _zip(s) and any(facts.is_web_adapter_layer(layer) for layer in s.layers)
        return (facts.WEB_ADAPTER_MODES[facts.WEB_ADAPTER_DEFAULT_MODE], "unset") if known else None
    if not isinstance(raw, str) or "${" in raw:
        return None
    return facts.WEB_ADAPTER_MODES.get(raw.strip().lower(), facts.WEB_ADAPTER_MODES["buffered"]), raw


ADAPTER_DOCS = (
    "The Lambda Web Adapter's response streaming guide (read 2026-12-05):\n"
    f"{facts.WEB_ADAPTER_STREAMING_URL}; how it reads the variable: `LambdaInvokeMode` in its `src/lib.rs`,\n"
    "https://github.com/awslabs/aws-lambda-web-adapter/blob/main/src/lib.rs"
)


@rule("LP367", "adapter-invoke-mode-mismatch", Severity.WARNING, subject=FunctionSubject,
      source=facts.URL_INVOKE_MODES_URL, references=ADAPTER_DOCS)
def adapter_invoke_mode_mismatch(r: Rule, s: FunctionSubject) -> Iterator[Finding]:
    """## What it does
    For a function that runs the Lambda Web Adapter (a .zip function with
    `AWS_LAMBDA_EXEC_WRAPPER=/opt/bootstrap`, or an image that sets `AWS_LWA_INVOKE_MODE`),
    compares the adapter's invoke mode with the way Lambda invokes the function: the function
    URL's `InvokeMode` (`BUFFERED` when not set) and any API Gateway REST integration that
    streams it (`ResponseTransferMode: STREAM`). A variable that is not set counts as `buffered`
    only beside the adapter's own layer (`LambdaAdapterLayerX86`/`Arm64`); a value from a
    parameter is not judged.

    ## Why is this bad?
    The adapter answers in one of two ways, chosen by `AWS_LWA_INVOKE_MODE`: `buffered` (the
    default, also what it reads for any value it does not know) returns one response;
    `response_stream` writes through Lambda's streaming API. Its documentation (read 2026-12-05)
    says the variable should match the function URL's invoke mode (its code's docs: streaming
    "requires" the URL's `RESPONSE_STREAM`): `response_stream` with `RESPONSE_STREAM`, `buffered`
    with `BUFFERED`. When they differ the adapter and Lambda
    disagree on the response's format: a streaming URL or integration receives a buffered
    answer (nothing streams), or a buffered URL receives the adapter's stream. Neither AWS nor the
    adapter documents exactly what the client then sees, so this is a warning, not an error.

    ## How to fix
    Make the two agree: `AWS_LWA_INVOKE_MODE: response_stream` with `InvokeMode:
    RESPONSE_STREAM` (and with a streaming REST integration), or `buffered` (or no variable)
    with `InvokeMode: BUFFERED`. The adapter reads its variable in any case (its documented
    spelling is lower case); the URL's `InvokeMode` must be upper case (LP364).
    """
    adapter = _adapter_mode(s)
    if adapter is None:
        return
    mode, written = adapter
    shown = "not set (buffered)" if written == "unset" else repr(written)
    if written != "unset" and written.strip().lower() not in facts.WEB_ADAPTER_MODES:
        shown += " (the adapter knows buffered and response_stream, and reads anything else as buffered)"
    line = s.line_of(facts.WEB_ADAPTER_INVOKE_MODE)
    url_mode = (s.features.url_invoke_mode or "BUFFERED") if s.features.function_url else None
    if url_mode in facts.INVOKE_MODES and url_mode != mode:
        want = next(k for k, v in facts.WEB_ADAPTER_MODES.items() if v == url_mode)
        yield r.finding(
            f"{s.name}'s {facts.WEB_ADAPTER_INVOKE_MODE} is {shown}, but its function URL's InvokeMode is {url_mode}: "
            "the Web Adapter and Lambda disagree on whether the response streams",
            s.where, line=line or s.features.lines.get("function-url") or s.line_of("function"), function=s.name,
            fix=f"set {facts.WEB_ADAPTER_INVOKE_MODE}={want}, or the URL's InvokeMode to {mode}")
    if s.features.api_streaming and mode != facts.STREAM:
        yield r.finding(
            f"{s.name}'s {facts.WEB_ADAPTER_INVOKE_MODE} is {shown}, but an API Gateway integration streams its "
            "response (ResponseTransferMode: STREAM): the Web Adapter answers buffered, so nothing streams",
            s.where, line=line or s.features.lines.get("api-streaming") or s.line_of("function"), function=s.name,
            fix=f"set {facts.WEB_ADAPTER_INVOKE_MODE}=response_stream, or the integration's ResponseTransferMode to "
                "BUFFERED")


def _as_written(value: str) -> str:
    """A template value as its author wrote it; the template reader loads only when a finding
    needs it, not on every check of a plain project."""
    from lpack.inputs.template.intrinsics import as_written

    return as_written(value)
