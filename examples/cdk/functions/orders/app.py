"""Count the orders in the event."""
import json


def handler(event, context):
    orders = event.get("orders", [])
    return {"statusCode": 200, "body": json.dumps({"orders": len(orders)})}
