import os

from shared.aws import s3


def handler(event, context):
    listing = s3.list_objects_v2(Bucket=os.environ["DATA_BUCKET"], Prefix=event["prefix"])
    return [item["Key"] for item in listing.get("Contents", [])]
