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
