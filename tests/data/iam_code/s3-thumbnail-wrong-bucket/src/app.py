import os
from urllib.parse import unquote_plus

import boto3

s3 = boto3.client("s3")
OUT = os.environ["OUTPUT_BUCKET"]


def handler(event, context):
    for record in event["Records"]:
        bucket = record["s3"]["bucket"]["name"]
        key = unquote_plus(record["s3"]["object"]["key"])
        s3.download_file(bucket, key, "/tmp/original")
        s3.upload_file("/tmp/original", OUT, f"thumbs/{key}")  # expect: s3:PutObject
