import json

import boto3

events = boto3.client("events")


def handler(event, context):
    events.put_events(Entries=[{  # expect: events:PutEvents
        "Source": "orders", "DetailType": "OrderPlaced", "Detail": json.dumps(event), "EventBusName": "orders",
    }])
