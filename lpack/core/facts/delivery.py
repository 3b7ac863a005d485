"""How a function's responses leave Lambda and how its code is started and trusted: exec wrappers,
the Lambda Web Adapter, response streaming, code signing. Read in the AWS Lambda developer guide and
the Web Adapter's own repository on 2026-12-05.
"""

from __future__ import annotations

import datetime as dt
import re

READ = dt.date(2026, 12, 5)

WRAPPER_URL = "https://docs.aws.amazon.com/lambda/latest/dg/runtimes-modify.html#runtime-wrapper"
STREAMING_URL = "https://docs.aws.amazon.com/lambda/latest/dg/configuration-response-streaming.html"
URL_CONFIG_URL = "https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunctionUrlConfig.html"
SIGNING_URL = "https://docs.aws.amazon.com/lambda/latest/dg/configuring-codesigning.html"
SIGNING_POLICIES_URL = "https://docs.aws.amazon.com/lambda/latest/api/API_CodeSigningPolicies.html"
WEB_ADAPTER_URL = "https://github.com/awslabs/aws-lambda-web-adapter"
WEB_ADAPTER_BOOTSTRAP_URL = "https://github.com/awslabs/aws-lambda-web-adapter/blob/main/layer/bootstrap"

# WRAPPER_URL: Lambda starts the runtime through the script AWS_LAMBDA_EXEC_WRAPPER names (native
# runtimes only). A path under /opt comes from a layer; one under /var/task from the function's package.
LAYER_ROOT = "/opt/"
TASK_ROOT = "/var/task/"

# WEB_ADAPTER_URL (README, "Zip packages"): the adapter is a layer published by account
# 753240598075 (LambdaAdapterLayerX86 / LambdaAdapterLayerArm64; other accounts in the China
# regions), and AWS_LAMBDA_EXEC_WRAPPER=/opt/bootstrap starts it. Its bootstrap (WEB_ADAPTER_BOOTSTRAP_URL)
# is a bash script that execs "$LAMBDA_TASK_ROOT/$_HANDLER": the handler is the web app's start
# script, a file in the function's own package, run as a program.
WEB_ADAPTER_ACCOUNT = "753240598075"
WEB_ADAPTER_WRAPPER = "/opt/bootstrap"
WEB_ADAPTER_LAYER = re.compile(r"arn:[^:]*:lambda:[^:]*:\d{12}:layer:LambdaAdapterLayer(X86|Arm64)(:|$)")
# The adapter's own switch for streaming (its docs: "response_stream", matching the URL's invoke mode).
WEB_ADAPTER_INVOKE_MODE = "AWS_LWA_INVOKE_MODE"

# A handler string that names a program for a wrapper to start rather than a Python module.function.
SCRIPT_SUFFIXES = (".sh", ".bash")

# STREAMING_URL (read 2026-12-05): Lambda streams responses natively on the Node.js managed
# runtimes only; other languages need a custom runtime that speaks the streaming Runtime API, or
# the Lambda Web Adapter. The managed Python runtimes' client (awslambdaric) returns one buffered
# response, so a Python function streams only through the adapter (or another wrapper that
# replaces the runtime client).
NATIVE_STREAMING_LANGUAGES = ("nodejs",)
PYTHON_STREAMS_NATIVELY = False

# URL_CONFIG_URL, InvokeMode: the two values the API accepts (BUFFERED is the default).
INVOKE_MODES = ("BUFFERED", "RESPONSE_STREAM")
STREAM = "RESPONSE_STREAM"

# SIGNING_URL: with a code signing configuration attached, Lambda validates every code package and
# every layer version at deployment against the configuration's allowed signing profiles; a signing
# profile version ARN is arn:aws:signer:REGION:ACCOUNT:/signing-profiles/NAME/VERSION, so a layer
# published by another account is signed by that account's profiles. Container images cannot be
# signed. SIGNING_POLICIES_URL, UntrustedArtifactOnDeployment: "Enforce" blocks the deployment,
# "Warn" (the default) deploys and logs a warning.
ENFORCE = "Enforce"
WARN = "Warn"


def account_of(arn: str) -> str | None:
    """The account field of an ARN (its fifth), when it is twelve digits."""
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 and re.fullmatch(r"\d{12}", parts[4]) else None


def is_web_adapter_layer(arn: str) -> bool:
    return WEB_ADAPTER_LAYER.match(arn) is not None
