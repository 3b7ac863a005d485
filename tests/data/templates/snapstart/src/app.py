"""Orders API: GET /orders/{id} reads an order, POST /orders stores one."""

import json
import os
import time
import uuid

import boto3
from orders import store

# The SDK client is made once, at init, and reused: SnapStart keeps it in the snapshot and the SDK
# reconnects after a restore.
table = boto3.resource("dynamodb").Table(os.environ["ORDERS_TABLE"])

# Meant to tell this environment's log lines apart, but made before the snapshot: every
# environment Lambda resumes from it logs the same "unique" id.
ENVIRONMENT_ID = str(uuid.uuid4())


def lambda_handler(event, context):
    started = time.time()
    method = event.get("httpMethod", "GET")
    if method == "POST":
        order = json.loads(event.get("body") or "{}")
        order["id"] = str(uuid.uuid4())
        store.put(table, order)
        status, body = 201, order
    else:
        order_id = (event.get("pathParameters") or {}).get("proxy", "").rpartition("/")[2]
        found = store.get(table, order_id)
        status, body = (200, found) if found else (404, {"message": "not found"})
    print(json.dumps({"environment": ENVIRONMENT_ID, "ms": round((time.time() - started) * 1000)}))
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}


if __name__ == "__main__":
    # a local smoke test, not init code
    print(lambda_handler({"httpMethod": "GET", "pathParameters": {"proxy": f"orders/{uuid.uuid4()}"}}, None))
