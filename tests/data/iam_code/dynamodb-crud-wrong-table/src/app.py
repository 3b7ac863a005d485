import json

from orders import repository


def handler(event, context):
    method = event["httpMethod"]
    if method == "GET" and event.get("pathParameters"):
        item = repository.get(event["pathParameters"]["id"])
    elif method == "GET":
        item = repository.list_all()
    elif method == "PUT":
        item = repository.save(json.loads(event["body"]))
    else:
        item = repository.remove(event["pathParameters"]["id"])
    return {"statusCode": 200, "body": json.dumps(item, default=str)}
