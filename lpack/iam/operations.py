"""AWS SDK operations -> the IAM actions they need, offline.

The operation names, the IAM prefix of each botocore service, waiters and boto3's resource models
are a snapshot (``lpack/iam/data/operations.dat``, made by ``scripts/make_operation_data.py`` from
the botocore and boto3 the Lambda runtime ships). Most operations need the action of the same name
under the service's IAM prefix (``stepfunctions`` ``StartExecution`` -> ``states:StartExecution``);
``EXCEPTIONS`` lists those that do not, each with the AWS page that says so. An operation whose
action lpack's IAM action database does not hold, and that no exception names, is unresolved:
the code rules stay quiet about it.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

DATA = Path(__file__).parent / "data" / "operations.dat"

S3_ACTIONS_URL = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html"
S3_TRANSFER_URL = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html#mpuAndPermissions"
SQS_BATCH_URL = ("https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/"
                 "sqs-api-permissions-reference.html")
SNS_BATCH_URL = "https://docs.aws.amazon.com/sns/latest/api/API_PublishBatch.html"
LAMBDA_INVOKE_URL = "https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html"
BEDROCK_CONVERSE_URL = "https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html"
APIGW_CONNECTIONS_URL = ("https://docs.aws.amazon.com/apigateway/latest/developerguide/"
                         "apigateway-websocket-control-access-iam.html")
KMS_REENCRYPT_URL = "https://docs.aws.amazon.com/kms/latest/APIReference/API_ReEncrypt.html"
DDB_TRANSACT_URL = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html"
STS_CALLER_URL = "https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html"


class Exception_(NamedTuple):
    actions: tuple[str, ...]
    source: str
    note: str = ""


def _s3(*actions: str, note: str = "") -> Exception_:
    return Exception_(actions, S3_ACTIONS_URL, note)


_MULTIPART = ("large files go up in parts: s3:PutObject covers CreateMultipartUpload, UploadPart and "
              "CompleteMultipartUpload; a failed upload also calls AbortMultipartUpload (s3:AbortMultipartUpload)")

# (botocore service, operation) -> the IAM actions it needs, where that is not prefix:Operation.
# boto3's S3 transfer methods are listed under the names boto3 injects (upload_file ...).
EXCEPTIONS: dict[tuple[str, str], Exception_] = {
    ("s3", "ListObjects"): _s3("s3:ListBucket"),
    ("s3", "ListObjectsV2"): _s3("s3:ListBucket"),
    ("s3", "ListObjectVersions"): _s3("s3:ListBucketVersions"),
    ("s3", "HeadObject"): _s3("s3:GetObject"),
    ("s3", "HeadBucket"): _s3("s3:ListBucket"),
    ("s3", "ListBuckets"): _s3("s3:ListAllMyBuckets"),
    ("s3", "CopyObject"): _s3("s3:GetObject", "s3:PutObject", note="s3:GetObject on the source object"),
    ("s3", "UploadPartCopy"): _s3("s3:GetObject", "s3:PutObject", note="s3:GetObject on the source object"),
    ("s3", "DeleteObjects"): _s3("s3:DeleteObject"),
    ("s3", "CreateMultipartUpload"): _s3("s3:PutObject"),
    ("s3", "UploadPart"): _s3("s3:PutObject"),
    ("s3", "CompleteMultipartUpload"): _s3("s3:PutObject"),
    ("s3", "ListMultipartUploads"): _s3("s3:ListBucketMultipartUploads"),
    ("s3", "ListParts"): _s3("s3:ListMultipartUploadParts"),
    ("s3", "SelectObjectContent"): _s3("s3:GetObject"),
    ("s3", "GetBucketEncryption"): _s3("s3:GetEncryptionConfiguration"),
    ("s3", "PutBucketEncryption"): _s3("s3:PutEncryptionConfiguration"),
    ("s3", "GetBucketLifecycleConfiguration"): _s3("s3:GetLifecycleConfiguration"),
    ("s3", "PutBucketLifecycleConfiguration"): _s3("s3:PutLifecycleConfiguration"),
    ("s3", "GetBucketNotificationConfiguration"): _s3("s3:GetBucketNotification"),
    ("s3", "PutBucketNotificationConfiguration"): _s3("s3:PutBucketNotification"),
    ("s3", "GetPublicAccessBlock"): _s3("s3:GetBucketPublicAccessBlock"),
    ("s3", "WriteGetObjectResponse"): _s3("s3-object-lambda:WriteGetObjectResponse"),
    ("s3", "upload_file"): Exception_(("s3:PutObject",), S3_TRANSFER_URL, _MULTIPART),
    ("s3", "upload_fileobj"): Exception_(("s3:PutObject",), S3_TRANSFER_URL, _MULTIPART),
    ("s3", "download_file"): _s3("s3:GetObject"),
    ("s3", "download_fileobj"): _s3("s3:GetObject"),
    ("s3", "copy"): _s3("s3:GetObject", "s3:PutObject", note="s3:GetObject on the source object"),
    ("sqs", "SendMessageBatch"): Exception_(("sqs:SendMessage",), SQS_BATCH_URL),
    ("sqs", "DeleteMessageBatch"): Exception_(("sqs:DeleteMessage",), SQS_BATCH_URL),
    ("sqs", "ChangeMessageVisibilityBatch"): Exception_(("sqs:ChangeMessageVisibility",), SQS_BATCH_URL),
    ("sns", "PublishBatch"): Exception_(("sns:Publish",), SNS_BATCH_URL),
    ("lambda", "Invoke"): Exception_(("lambda:InvokeFunction",), LAMBDA_INVOKE_URL),
    ("lambda", "InvokeWithResponseStream"): Exception_(("lambda:InvokeFunction",), LAMBDA_INVOKE_URL),
    ("bedrock-runtime", "Converse"): Exception_(("bedrock:InvokeModel",), BEDROCK_CONVERSE_URL),
    ("bedrock-runtime", "ConverseStream"): Exception_(("bedrock:InvokeModelWithResponseStream",),
                                                      BEDROCK_CONVERSE_URL),
    ("apigatewaymanagementapi", "PostToConnection"): Exception_(("execute-api:ManageConnections",),
                                                                APIGW_CONNECTIONS_URL),
    ("apigatewaymanagementapi", "GetConnection"): Exception_(("execute-api:ManageConnections",),
                                                             APIGW_CONNECTIONS_URL),
    ("apigatewaymanagementapi", "DeleteConnection"): Exception_(("execute-api:ManageConnections",),
                                                                APIGW_CONNECTIONS_URL),
    ("kms", "ReEncrypt"): Exception_(("kms:ReEncryptFrom", "kms:ReEncryptTo"), KMS_REENCRYPT_URL),
    ("dynamodb", "TransactGetItems"): Exception_(("dynamodb:GetItem",), DDB_TRANSACT_URL),
}

# (botocore service, operation) -> the AWS page that says it needs no permission: a role with no
# policy may call it, and a Deny of its action does not stop it. The code rules say nothing of it.
NEEDS_NO_PERMISSION: dict[tuple[str, str], str] = {
    ("sts", "GetCallerIdentity"): STS_CALLER_URL,
}

# boto3's S3 transfer methods (s3transfer, injected into the client, Bucket and Object).
TRANSFER_METHODS = frozenset({"upload_file", "upload_fileobj", "download_file", "download_fileobj", "copy"})


class Service(NamedTuple):
    prefix: str  # the IAM prefix: "states" for botocore's "stepfunctions"
    operations: tuple[str, ...]
    waiters: dict[str, str]  # waiter name (snake) -> the operation it polls
    resources: dict[str, dict[str, Any]]  # boto3's resource model by type ("" the service resource)


class Snapshot:
    """The index of the snapshot; a service's record is decoded when the code first calls it."""

    def __init__(self, head: dict[str, Any], records: bytes) -> None:
        self.generated: str = head["generated"]
        self.source: str = head["source"]
        self.renamed: dict[str, str] = head["renamed"]  # Operation -> boto3 method, botocore's special cases
        self._index: dict[str, tuple[int, int]] = head["services"]
        self._records = records
        self._services: dict[str, Service] = {}

    @property
    def names(self) -> list[str]:
        return sorted(self._index)

    def service(self, name: str) -> Service | None:
        if name not in self._services:
            if name not in self._index:
                return None
            offset, length = self._index[name]
            raw = json.loads(zlib.decompress(self._records[offset : offset + length]))
            self._services[name] = Service(raw["prefix"], tuple(raw["operations"]), raw["waiters"], raw["resources"])
        return self._services[name]


@lru_cache(maxsize=1)
def snapshot() -> Snapshot:
    with DATA.open("rb") as f:
        head = json.loads(f.readline())
        return Snapshot(head, f.read())


def prefix(service: str) -> str | None:
    """The IAM prefix of a botocore service name."""
    found = snapshot().service(service)
    return found.prefix if found else None


_FIRST_CAP = re.compile(r"(.)([A-Z][a-z]+)")
_END_CAP = re.compile(r"([a-z0-9])([A-Z])")
_PLURAL_ACRONYM = re.compile(r"[A-Z]{2,}s$")


def snake(name: str) -> str:
    """The method name boto3 gives an operation: ``ListObjectsV2`` -> ``list_objects_v2``,
    ``ListARNs`` -> ``list_arns`` (the test compares it with botocore's own over every operation)."""
    if m := _PLURAL_ACRONYM.search(name):
        name = name[: m.start()] + "_" + m.group(0).lower()
    name = _FIRST_CAP.sub(r"\1_\2", name)
    return _END_CAP.sub(r"\1_\2", name).lower().lstrip("_")


@lru_cache(maxsize=512)
def methods(service: str) -> dict[str, str]:
    """A client's method names -> operation names (empty for a service not in the snapshot)."""
    data = snapshot()
    found = data.service(service)
    return {data.renamed.get(op) or snake(op): op for op in found.operations} if found else {}


def has_service(service: str) -> bool:
    return snapshot().service(service) is not None


def waiter_operation(service: str, waiter: str) -> str | None:
    found = snapshot().service(service)
    return found.waiters.get(waiter) if found else None


def resource_model(service: str, kind: str) -> dict[str, Any] | None:
    """boto3's resource model of one type (``""`` the service resource), None when boto3 has none."""
    found = snapshot().service(service)
    model = found.resources.get(kind) if found else None
    return model if isinstance(model, dict) else None


# (botocore service, operation or "*") -> what the service then does with the caller's own
# permissions (forward access sessions), with the AWS page that says so: reading the S3 object an
# image or a document is named by, writing results where the call says, reading the Glue catalog.
# LP571 counts these as used: the calls that need them are the service's, not in the code.
_ATHENA_URL = "https://docs.aws.amazon.com/athena/latest/ug/managed-policies.html"
_REKOGNITION_URL = "https://docs.aws.amazon.com/rekognition/latest/dg/security_iam_id-based-policy-examples.html"
_TEXTRACT_URL = "https://docs.aws.amazon.com/textract/latest/dg/security_iam_id-based-policy-examples.html"
_TRANSCRIBE_URL = "https://docs.aws.amazon.com/transcribe/latest/dg/security_iam_id-based-policy-examples.html"
_POLLY_URL = "https://docs.aws.amazon.com/polly/latest/dg/asynchronous.html"
FORWARDED: dict[tuple[str, str], tuple[tuple[str, ...], str]] = {
    ("rekognition", "*"): (("s3:GetObject", "s3:GetObjectVersion"), _REKOGNITION_URL),
    ("textract", "*"): (("s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"), _TEXTRACT_URL),
    ("transcribe", "*"): (("s3:GetObject", "s3:PutObject"), _TRANSCRIBE_URL),
    ("polly", "StartSpeechSynthesisTask"): (("s3:PutObject",), _POLLY_URL),
    ("athena", "StartQueryExecution"): ((
        "s3:GetBucketLocation", "s3:GetObject", "s3:ListBucket", "s3:ListBucketMultipartUploads",
        "s3:ListMultipartUploadParts", "s3:AbortMultipartUpload", "s3:PutObject", "glue:GetDatabase",
        "glue:GetDatabases", "glue:GetTable", "glue:GetTables", "glue:GetPartition", "glue:GetPartitions",
        "glue:BatchGetPartition"), _ATHENA_URL),
}


def forwarded(service: str, operation: str) -> tuple[str, ...]:
    """The actions the service then performs with the caller's permissions (`FORWARDED`)."""
    found = FORWARDED.get((service, operation)) or FORWARDED.get((service, "*"))
    return found[0] if found else ()


PASSES_ROLE = Path(__file__).parent / "data" / "passes_role.json"


@lru_cache(maxsize=1)
def _passes_role() -> dict[str, frozenset[str]]:
    data = json.loads(PASSES_ROLE.read_text(encoding="utf-8"))["operations"]
    return {service: frozenset(operations) for service, operations in data.items()}


def passes_role(service: str, operation: str) -> bool:
    """Whether the operation can hand a role to its service (a ``...RoleArn`` in its input), which
    takes ``iam:PassRole`` on that role as well (scripts/make_passes_role_data.py)."""
    return operation in _passes_role().get(service, frozenset())


def actions_for(service: str, operation: str) -> tuple[tuple[str, ...], str]:
    """The IAM actions one operation needs and the note to give with them; () when unresolved."""
    exception = EXCEPTIONS.get((service, operation))
    if exception is not None:
        return exception.actions, exception.note
    found = snapshot().service(service)
    if found is None:
        return (), ""
    from lpack.iam.actions import action

    known = action(f"{found.prefix}:{operation}")
    return ((known.full_name,), "") if known is not None else ((), "")


_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
_ANYWHERE = frozenset({"Partition", "Region", "Account"})


def resource_arn(action_name: str, arn: str | None, parts: Mapping[str, str]) -> str | None:
    """The ARN of what a call touches, as the action's resource type spells it, with
    ``${Placeholder}`` where the code does not say (``${Region}``): None when the action has no
    resource type the call names (then only "some grant of the action" can be judged)."""
    from lpack.iam.actions import action, arn_matches

    found = action(action_name)
    if found is None:
        return None
    if arn is not None:
        return arn if any(arn_matches(rt.arn_pattern, arn) for rt in found.resource_types) else None
    best: tuple[int, str] | None = None
    for resource_type in found.resource_types:
        names = set(_PLACEHOLDER.findall(resource_type.arn_pattern)) - _ANYWHERE
        if names & set(parts):  # the type the call names most of: a table rather than its index
            missing = len(names - set(parts))
            if best is None or missing < best[0]:
                best = (missing, resource_type.arn_pattern)
    if best is None:
        return None
    return _PLACEHOLDER.sub(lambda m: parts.get(m.group(1), m.group(0)), best[1])


def any_resource(action_name: str) -> str | None:
    """The ARN pattern of the action's plainest resource type (fewest placeholders: an S3 object
    rather than an access point's object), for a call whose resource the code does not name."""
    from lpack.iam.actions import action

    found = action(action_name)
    if found is None or not found.resource_types:
        return None
    return min((rt.arn_pattern for rt in found.resource_types), key=lambda p: len(_PLACEHOLDER.findall(p)))


def policy_resource(arn: str | None) -> str:
    """An ARN with placeholders as a policy's Resource: ``aws`` for the partition, ``*`` for the
    rest (``??????`` for a secret's random suffix, as the Secrets Manager guide writes it)."""
    if arn is None:
        return "*"
    names = {"Partition": "aws", "SecretSuffix": "??????"}
    return _PLACEHOLDER.sub(lambda m: names.get(m.group(1), "*"), arn)
