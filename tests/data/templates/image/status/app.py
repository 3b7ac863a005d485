"""Says the service is up, for the HTTP API's health check."""
import json


def handler(event, context):
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "body": json.dumps({"status": "ok", "version": context.function_version})}
