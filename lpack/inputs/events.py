"""Sample Lambda test events, like the Lambda console's event templates.

Each sample is a JSON file in ``lpack/data/events/NAME.json`` shaped the way the AWS documentation
at ``source`` describes that trigger's event; this module keeps the table of what each one is.
"""

from __future__ import annotations

import difflib
import json
from importlib import resources
from typing import Any, NamedTuple

from lpack.core.errors import UsageError

AWS_DOCS = "https://docs.aws.amazon.com"
LAMBDA_DG = f"{AWS_DOCS}/lambda/latest/dg"
S3_EVENT_URL = (
    "https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html"
)
APIGW_DG = f"{AWS_DOCS}/apigateway/latest/developerguide"


class Sample(NamedTuple):
    name: str
    summary: str
    invocation: str  # "sync" or "async": how the trigger invokes Lambda
    source: str  # the AWS documentation page that describes the event's shape


_SAMPLES = (
    Sample("s3-put", "S3 ObjectCreated:Put notification (asynchronous)", "async", S3_EVENT_URL),
    Sample(
        "s3-delete", "S3 ObjectRemoved:Delete notification (asynchronous)", "async", S3_EVENT_URL
    ),
    Sample(
        "sqs",
        "SQS standard queue batch of two messages (event source mapping)",
        "sync",
        f"{LAMBDA_DG}/with-sqs.html",
    ),
    Sample(
        "sqs-fifo",
        "SQS FIFO queue batch with MessageGroupId and SequenceNumber (event source mapping)",
        "sync",
        f"{LAMBDA_DG}/with-sqs.html",
    ),
    Sample(
        "sns",
        "SNS notification with a JSON message (asynchronous)",
        "async",
        f"{LAMBDA_DG}/with-sns.html",
    ),
    Sample(
        "api-gateway-proxy",
        "API Gateway REST API Lambda proxy integration request (payload 1.0)",
        "sync",
        f"{APIGW_DG}/set-up-lambda-proxy-integrations.html",
    ),
    Sample(
        "http-api",
        "API Gateway HTTP API request, payload format version 2.0",
        "sync",
        f"{APIGW_DG}/http-api-develop-integrations-lambda.html",
    ),
    Sample(
        "function-url",
        "Lambda function URL GET request",
        "sync",
        f"{LAMBDA_DG}/urls-invocation.html",
    ),
    Sample(
        "alb",
        "Application Load Balancer request to a Lambda target group",
        "sync",
        "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/lambda-functions.html",
    ),
    Sample(
        "eventbridge",
        "EventBridge custom event with detail-type, source and detail (asynchronous)",
        "async",
        "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-events-structure.html",
    ),
    Sample(
        "scheduled",
        'EventBridge scheduled rule "Scheduled Event" (asynchronous)',
        "async",
        "https://docs.aws.amazon.com/eventbridge/latest/userguide/run-lambda-schedule.html",
    ),
    Sample(
        "dynamodb-stream",
        "DynamoDB stream batch: INSERT, MODIFY and REMOVE (event source mapping)",
        "sync",
        f"{LAMBDA_DG}/with-ddb.html",
    ),
    Sample(
        "kinesis",
        "Kinesis data stream batch with base64 JSON records (event source mapping)",
        "sync",
        f"{LAMBDA_DG}/with-kinesis.html",
    ),
    Sample(
        "msk",
        "Amazon MSK (Kafka) batch with base64 key and value (event source mapping)",
        "sync",
        f"{LAMBDA_DG}/with-msk.html",
    ),
    Sample(
        "cloudwatch-logs",
        "CloudWatch Logs subscription: awslogs.data is base64 of gzipped JSON (asynchronous)",
        "async",
        f"{LAMBDA_DG}/services-cloudwatchlogs.html",
    ),
    Sample(
        "cognito-pre-signup",
        "Cognito user pool pre sign-up trigger (PreSignUp_SignUp)",
        "sync",
        f"{AWS_DOCS}/cognito/latest/developerguide/user-pool-lambda-pre-sign-up.html",
    ),
    Sample(
        "cloudformation-custom-resource",
        "CloudFormation custom resource Create request (asynchronous)",
        "async",
        f"{AWS_DOCS}/AWSCloudFormation/latest/UserGuide/crpg-ref-requesttypes-create.html",
    ),
)
_BY_NAME = {s.name: s for s in _SAMPLES}

# Short names people type first, as `sam local generate-event` groups them: `api` is the API
# Gateway REST proxy event SAM's hello-world function receives.
ALIASES = {"api": "api-gateway-proxy", "apigateway": "api-gateway-proxy", "rest-api": "api-gateway-proxy",
           "s3": "s3-put", "schedule": "scheduled", "cron": "scheduled", "dynamodb": "dynamodb-stream",
           "url": "function-url", "cfn": "cloudformation-custom-resource"}


def names() -> list[str]:
    """The sample names, sorted."""
    return sorted(_BY_NAME)


def sample(name: str) -> Sample:
    """The sample called ``name``; an unknown name is a usage error with a suggestion."""
    try:
        return _BY_NAME[ALIASES.get(name, name)]
    except KeyError:
        hint = _suggest(name)
        raise UsageError(f"no sample event {name!r}{hint} `lpack events` lists them") from None


def event(name: str) -> dict[str, Any]:
    """The sample event as data, ready to send as an invocation payload."""
    path = resources.files("lpack") / "data" / "events" / f"{sample(name).name}.json"
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def sample_json(name: str) -> str:
    """The sample event as pretty JSON text (2-space indent, trailing newline)."""
    return json.dumps(event(name), indent=2) + "\n"


def _suggest(word: str) -> str:
    close = difflib.get_close_matches(word, [*_BY_NAME, *ALIASES], n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ";"
