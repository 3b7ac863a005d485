"""Lambda quotas as one table of data, each row with its unit and source (shared/LAMBDA-FACTS.md).

The Lambda documentation uses MB for 1,048,576 bytes; GetAccountSettings reports these in bytes.
"""

from __future__ import annotations

from typing import NamedTuple

QUOTAS_URL = "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html"
ENV_URL = "https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html"
ASYNC_1MB_URL = (
    "https://aws.amazon.com/about-aws/whats-new/2025/10/"
    "aws-lambda-payload-size-256-kb-1-mb-invocations/"
)

KB = 1024
MB = 1024 * KB


class Limit(NamedTuple):
    value: int
    unit: str
    counted: str
    source: str


ZIPPED_SIZE = Limit(50 * MB, "bytes", "size of the .zip file (direct upload)", QUOTAS_URL)
UNZIPPED_SIZE = Limit(
    250 * MB, "bytes", "uncompressed size of the function and all its layers", QUOTAS_URL
)
LAYERS_PER_FUNCTION = Limit(5, "layers", "layers attached to one function", QUOTAS_URL)
ENVIRONMENT_SIZE = Limit(4 * KB, "bytes", "compact JSON of the whole variables map", ENV_URL)
SYNC_PAYLOAD = Limit(6 * MB, "bytes", "the JSON request body", QUOTAS_URL)
SYNC_RESPONSE = Limit(6 * MB + 100, "bytes", "the JSON response body", QUOTAS_URL)
ASYNC_PAYLOAD = Limit(1 * MB, "bytes", "the JSON event (raised from 256 KB on 2025-10-24)", ASYNC_1MB_URL)
ASYNC_PAYLOAD_LEGACY = Limit(
    256 * KB, "bytes", "still the limit of SNS, Step Functions and InvokeAsync", QUOTAS_URL
)
MEMORY_MB = (128, 10_240)
TIMEOUT_S = (1, 900)
EPHEMERAL_STORAGE_MB = (512, 10_240)

# A finding warns when a package is within this fraction of a size limit.
NEAR_LIMIT_FRACTION = 0.9

# -- environment variables (LAMBDA-FACTS.md section 3) ------------------------------------------

API_ENVIRONMENT_URL = "https://docs.aws.amazon.com/lambda/latest/api/API_Environment.html"

# Names Lambda sets itself and refuses to let a function set, matched exactly and case-sensitively
# ("Defined runtime environment variables"; cfn-lint E3663 checks the same 18). TZ is not among
# them: the docs listed it as reserved until 2022 and Lambda accepts it now.
RESERVED_ENV_KEYS = (
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
)  # source: ENV_URL
RESERVED_ENV_CREDENTIALS = ("AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")

# The pattern every key must match in full (API `Environment`, "Key Pattern").
ENV_KEY_PATTERN = r"[a-zA-Z]([a-zA-Z0-9_])+"  # source: API_ENVIRONMENT_URL

# Settable, but a value replaces the search path the runtime sets (configuration-envvars,
# "unreserved" variables); Lambda does not expand `$PATH` in a value.
SEARCH_PATH_ENV_KEYS = ("PATH", "LD_LIBRARY_PATH", "PYTHONPATH")  # source: ENV_URL

# -- test events -------------------------------------------------------------------------------

# Invoke: the payload is JSON; a body Lambda cannot parse fails with InvalidRequestContentException.
API_INVOKE_URL = "https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html"

# -- function settings --------------------------------------------------------------------------

# Lambda's memory maximum until 2020-12-01; above it, the quotas page's note that "new AWS
# accounts have reduced concurrency and memory quotas" may bite.
MEMORY_MB_BEFORE_2020 = 3_008  # source: QUOTAS_URL
