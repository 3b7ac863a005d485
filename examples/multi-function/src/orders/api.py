import json

from dateutil import parser


def handler(event, context):
    order = json.loads(event.get("body") or "{}")
    placed = parser.isoparse(order.get("placed", "2026-01-01T00:00:00Z"))
    return {"statusCode": 200, "body": json.dumps({"id": order.get("id"), "placed": placed.isoformat()})}
