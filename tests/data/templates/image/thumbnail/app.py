"""Writes a 128x128 thumbnail of each uploaded image to the thumbnail bucket."""
import io
import os
from urllib.parse import unquote_plus

import boto3
from PIL import Image

S3 = boto3.client("s3")
THUMBNAIL_BUCKET = os.environ["THUMBNAIL_BUCKET"]


def lambda_handler(event, context):
    written = []
    for record in event["Records"]:
        bucket = record["s3"]["bucket"]["name"]
        key = unquote_plus(record["s3"]["object"]["key"])
        body = S3.get_object(Bucket=bucket, Key=key)["Body"].read()
        with Image.open(io.BytesIO(body)) as image:
            image.thumbnail((128, 128))
            out = io.BytesIO()
            image.save(out, format=image.format or "PNG")
        S3.put_object(Bucket=THUMBNAIL_BUCKET, Key=f"thumbnails/{key}", Body=out.getvalue())
        written.append(key)
    return {"thumbnails": written}
