import os

import boto3

s3 = boto3.resource("s3")
archive = s3.Bucket(os.environ["ARCHIVE"])


def handler(event, context):
    for record in event["Records"]:
        source = {"Bucket": record["s3"]["bucket"]["name"], "Key": record["s3"]["object"]["key"]}
        archive.copy(source, "raw/" + source["Key"])  # expect: s3:GetObject
