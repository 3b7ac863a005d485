from __future__ import annotations

from typing import TYPE_CHECKING

import boto3

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

s3: S3Client = boto3.client("s3")


def handler(event, context):
    if False:
        s3.delete_object(Bucket="acme-data", Key=event["key"])
    return s3.get_object(Bucket="acme-data", Key=event["key"])["Body"].read()
