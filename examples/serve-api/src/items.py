"""GET /items/{id}: the item as JSON, with the query string's ?fields= echoed."""

import json

COUNTER = {"invocations": 0}  # module state lives as long as the warm environment does


def handler(event, context):
    COUNTER["invocations"] += 1
    item_id = event["pathParameters"]["id"]
    query = event.get("queryStringParameters") or {}
    body = {"id": item_id, "fields": query.get("fields"), "invocations": COUNTER["invocations"]}
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}
