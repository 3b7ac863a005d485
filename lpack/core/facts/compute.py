"""Facts about where and how a function runs: Lambda Managed Instances, durable functions and tenant
isolation. Each value with its source; all read in the AWS documentation on 2026-12-05 (``READ``).
Where the documentation is silent, the value chosen is the one that raises no false alarm, and the
rule that reads it says so."""

from __future__ import annotations

from typing import NamedTuple

READ = "2026-12-05"


class Span(NamedTuple):
    """An inclusive range Lambda's API accepts, with its unit and source."""

    low: float
    high: float
    unit: str
    source: str


# -- Lambda Managed Instances ---------------------------------------------------------------------

MI_RUNTIMES_URL = "https://docs.aws.amazon.com/lambda/latest/dg/lambda-managed-instances-runtimes.html"
MI_PYTHON_URL = "https://docs.aws.amazon.com/lambda/latest/dg/lambda-managed-instances-python-runtime.html"
MI_CONFIG_URL = "https://docs.aws.amazon.com/lambda/latest/api/API_LambdaManagedInstancesCapacityProviderConfig.html"
TIMEOUT_URL = "https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html"
LOG_FORMAT_URL = "https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-logformat.html"

MI_MIN_PYTHON = (3, 13)  # "Python: Python 3.13 and later" (MI_RUNTIMES_URL)
MEMORY_PER_VCPU_GIB = Span(2.0, 8.0, "GiB per vCPU", MI_CONFIG_URL)  # ExecutionEnvironmentMemoryGiBPerVCpu (Double)
MAX_CONCURRENCY = Span(1, 1600, "concurrent requests", MI_CONFIG_URL)  # PerExecutionEnvironmentMaxConcurrency (Integer)
PYTHON_CONCURRENCY_PER_VCPU = 16  # the Python runtime's default, one process per request (MI_PYTHON_URL)
# Lambda does not say how much memory one Python process needs: its smallest function size is the
# floor lpack holds each process to (a process with the SDK imported uses most of it).
MIN_PROCESS_MEMORY_MB = 128  # source: lpack.core.limits.MEMORY_MB

SYNC_TIMEOUT_S = 900  # the timeout of every synchronous invocation, Managed Instances or not (TIMEOUT_URL)
# Asynchronous and event-source-mapping invocations of a Managed Instances function (TIMEOUT_URL)
MI_LONG_TIMEOUT_S = 5_400
# event source mappings that keep the 900-second limit on Managed Instances (TIMEOUT_URL)
MI_SHORT_EVENT_SOURCES = ("MQ", "DocumentDB")
# triggers that invoke synchronously (SAM event types; "function-url" stands for a function URL)
SYNC_EVENT_SOURCES = ("Api", "HttpApi", "ALB", "CognitoUserPool", "AlexaSkill", "IoTRule", "function-url")

# -- durable functions ----------------------------------------------------------------------------

DURABLE_CONFIG_URL = "https://docs.aws.amazon.com/lambda/latest/api/API_DurableConfig.html"
DURABLE_RUNTIMES_URL = "https://docs.aws.amazon.com/lambda/latest/dg/durable-supported-runtimes.html"
DURABLE_SECURITY_URL = "https://docs.aws.amazon.com/lambda/latest/dg/durable-security.html"
DURABLE_POLICY_URL = (
    "https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaBasicDurableExecutionRolePolicy.html"
)

DURABLE_EXECUTION_TIMEOUT_S = Span(1, 31_622_400, "s", DURABLE_CONFIG_URL)  # one 366-day year
DURABLE_RETENTION_DAYS = Span(1, 90, "days", DURABLE_CONFIG_URL)
DURABLE_PYTHON_RUNTIMES = ("python3.13", "python3.14")  # DURABLE_RUNTIMES_URL
# The runtime ships a copy for testing; AWS recommends bundling it (DURABLE_RUNTIMES_URL)
DURABLE_SDK = "aws-durable-execution-sdk-python"
DURABLE_SDK_MODULE = "aws_durable_execution_sdk_python"
DURABLE_ACTIONS = ("lambda:CheckpointDurableExecution", "lambda:GetDurableExecutionState")  # DURABLE_SECURITY_URL
DURABLE_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicDurableExecutionRolePolicy"
# its default version (v3, edited 2026-02-12), as DURABLE_POLICY_URL publishes it
DURABLE_POLICY: dict[str, object] = {
    "Version": "2012-10-17",
    "Statement": [{
        "Effect": "Allow",
        "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", *DURABLE_ACTIONS],
        "Resource": "*",
    }],
}

# -- tenant isolation -----------------------------------------------------------------------------

TENANCY_CONFIG_URL = "https://docs.aws.amazon.com/lambda/latest/api/API_TenancyConfig.html"
TENANCY_URL = "https://docs.aws.amazon.com/lambda/latest/dg/tenant-isolation.html"
TENANCY_INVOKE_URL = "https://docs.aws.amazon.com/lambda/latest/dg/tenant-isolation-invoke.html"
TENANCY_CDK_URL = "https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_lambda.TenancyConfig.html"

TENANCY_MODES = ("PER_TENANT",)  # TENANCY_CONFIG_URL
# Only API Gateway REST APIs pass the tenant ID (X-Amz-Tenant-Id); HTTP APIs cannot (TENANCY_INVOKE_URL)
TENANCY_EVENT_SOURCES = ("Api",)
