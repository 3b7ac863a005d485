import os

import boto3

s3 = boto3.client("s3")


def handler(event, context):
    url = s3.generate_presigned_url(  # expect: s3:PutObject
        "put_object", Params={"Bucket": os.environ["UPLOADS"], "Key": event["key"]}, ExpiresIn=300)
    return {"url": url}
