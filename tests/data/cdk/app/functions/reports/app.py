"""Totals the new orders in a batch of DynamoDB stream records."""
from decimal import Decimal


def handler(event, context):
    count, total = 0, Decimal(0)
    for record in event.get("Records", []):
        image = record.get("dynamodb", {}).get("NewImage", {})
        if record.get("eventName") == "INSERT" and "amount" in image:
            count += 1
            total += Decimal(image["amount"]["N"])
    print(f"{count} new orders worth {total}")
    return {"orders": count, "total": str(total)}
