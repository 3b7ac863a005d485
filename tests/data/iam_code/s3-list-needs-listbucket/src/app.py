import os

import boto3

s3 = boto3.client("s3")


def handler(event, context):
    bucket = os.environ["REPORTS"]
    keys = []
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="daily/")  # expect: s3:ListBucket
    for page in pages:
        keys += [item["Key"] for item in page.get("Contents", [])]
    return {"count": len(keys)}
