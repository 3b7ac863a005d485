"""How a function's responses leave Lambda and how its code is started and trusted: exec wrappers,
the Lambda Web Adapter, response streaming, code signing. Read in the AWS Lambda developer guide and
the Web Adapter's own repository on 2026-12-05.
"""

from __future__ import annotations

import re

from lpack.core.dates import dt
from lpack.core.patterns import lazy

READ = dt.date(2026, 12, 5)

WRAPPER_URL = "https://docs.aws.amazon.com/lambda/latest/dg/runtimes-modify.html#runtime-wrapper"
STREAMING_URL = "https://docs.aws.amazon.com/lambda/latest/dg/configuration-response-streaming.html"
URL_CONFIG_URL = "https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunctionUrlConfig.html"
# BUFFERED: Lambda invokes the function with Invoke; RESPONSE_STREAM: with InvokeWithResponseStream
URL_INVOKE_MODES_URL = "https://docs.aws.amazon.com/lambda/latest/dg/config-rs-invoke-furls.html"
SIGNING_URL = "https://docs.aws.amazon.com/lambda/latest/dg/configuring-codesigning.html"
SIGNING_POLICIES_URL = "https://docs.aws.amazon.com/lambda/latest/api/API_CodeSigningPolicies.html"
WEB_ADAPTER_URL = "https://github.com/awslabs/aws-lambda-web-adapter"
WEB_ADAPTER_BOOTSTRAP_URL = "https://github.com/awslabs/aws-lambda-web-adapter/blob/main/layer/bootstrap"
WEB_ADAPTER_STREAMING_URL = ("https://github.com/awslabs/aws-lambda-web-adapter/blob/main/docs/guide/src/configuration/"
                             "response-streaming.md")
API_STREAMING_URL = "https://docs.aws.amazon.com/apigateway/latest/developerguide/response-transfer-mode-lambda.html"
API_TRANSFER_MODE_URL = "https://docs.aws.amazon.com/apigateway/latest/developerguide/response-transfer-mode.html"
API_METHOD_INTEGRATION_URL = ("https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/"
                              "aws-properties-apigateway-method-integration.html")

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
WEB_ADAPTER_LAYER = lazy(r"arn:[^:]*:lambda:[^:]*:\d{12}:layer:LambdaAdapterLayer(X86|Arm64)(:|$)")
# The adapter's own switch for streaming. WEB_ADAPTER_STREAMING_URL (read 2026-12-05): set
# AWS_LWA_INVOKE_MODE=response_stream, and it "should match your Lambda Function URL's invoke mode
# configuration"; README.md: "buffered" or "response_stream", default "buffered". Its src/lib.rs
# (LambdaInvokeMode::from, at 2194417c, March 2026) lower-cases the value and reads anything else
# as buffered; in response_stream mode it answers through the streaming Runtime API
# (run_with_streaming_response), in buffered mode with one response. The docs do not say what a
# client then sees when the two disagree; they say the modes must match.
WEB_ADAPTER_INVOKE_MODE = "AWS_LWA_INVOKE_MODE"
WEB_ADAPTER_MODES = {"buffered": "BUFFERED", "response_stream": "RESPONSE_STREAM"}  # adapter -> URL InvokeMode
WEB_ADAPTER_DEFAULT_MODE = "buffered"

# A handler string that names a program for a wrapper to start rather than a Python module.function.
SCRIPT_SUFFIXES = (".sh", ".bash")

# STREAMING_URL (read 2026-12-05): Lambda streams responses natively on the Node.js managed
# runtimes only; other languages need a custom runtime that speaks the streaming Runtime API, or
# the Lambda Web Adapter. The managed Python runtimes' client (awslambdaric) returns one buffered
# response, so a Python function streams only through the adapter (or another wrapper that
# replaces the runtime client).
NATIVE_STREAMING_LANGUAGES = ("nodejs",)
PYTHON_STREAMS_NATIVELY = False

# API_TRANSFER_MODE_URL (read 2026-12-05; API Gateway REST APIs, since November 2025): a proxy
# integration (AWS_PROXY or HTTP_PROXY) streams its response when its response transfer mode is
# STREAM (the default is BUFFERED): the AWS::ApiGateway::Method Integration property
# ResponseTransferMode (API_METHOD_INTEGRATION_URL), the OpenAPI x-amazon-apigateway-integration key responseTransferMode (the
# CDK's ResponseTransferMode enum: BUFFERED, STREAM). API_STREAMING_URL: for a Lambda proxy
# integration API Gateway then calls InvokeWithResponseStream, whose integration URI is
# arn:aws:apigateway:REGION:lambda:path/2021-11-15/functions/FUNCTION_ARN/response-streaming-invocations
# (instead of .../2015-03-31/functions/FUNCTION_ARN/invocations), and the function must write the
# streaming response format. The examples there are Node.js.
API_TRANSFER_MODE = "STREAM"
API_STREAMING_PATH = "/response-streaming-invocations"

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
    return WEB_ADAPTER_LAYER().match(arn) is not None
