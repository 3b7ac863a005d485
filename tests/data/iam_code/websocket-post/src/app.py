import json
import os

import boto3

api = boto3.client("apigatewaymanagementapi", endpoint_url=os.environ["CALLBACK_URL"])


def handler(event, context):
    api.post_to_connection(ConnectionId=event["connectionId"], Data=json.dumps({"ok": True}).encode())
