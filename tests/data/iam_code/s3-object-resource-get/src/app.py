import json
import os

import boto3

CONFIG = boto3.resource("s3").Object(os.environ["CONFIG_BUCKET"], "settings.json")


def handler(event, context):
    settings = json.loads(CONFIG.get()["Body"].read())  # expect: s3:GetObject
    return settings.get("mode")
