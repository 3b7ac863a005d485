import os

import boto3
from backup.handler import handle_request

bucket = boto3.resource("s3").Bucket(os.environ["BACKUP_BUCKET"])
table = boto3.resource("dynamodb").Table(os.environ["TABLE"])


def handler(event, context):
    return handle_request(event, bucket, table)
