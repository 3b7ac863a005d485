import json
import os

from shared.greeting import greet


def handler(event, context):
    return {"statusCode": 200, "body": json.dumps({"message": greet(os.environ["STAGE"])})}
