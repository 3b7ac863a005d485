import os

import boto3

s3 = boto3.client("s3")
BUCKET = os.environ.get("ASSETS", "assets-dev")


def handler(event, context):
    head = s3.head_object(Bucket=BUCKET, Key=event["key"])
    return {"size": head["ContentLength"]}
