"""Stores an order sent as the event's JSON body and returns its id."""
import json
import os
import uuid

import boto3

TABLE = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])


def handler(event, context):
    order = json.loads(event.get("body") or "{}")
    order["id"] = order.get("id") or str(uuid.uuid4())
    TABLE.put_item(Item=order)
    return {"statusCode": 201, "body": json.dumps({"id": order["id"]})}
