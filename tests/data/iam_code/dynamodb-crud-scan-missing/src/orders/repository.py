import os

import boto3

_table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])


def get(order_id):
    return _table.get_item(Key={"id": order_id}).get("Item")


def list_all():
    return _table.scan(Limit=100)["Items"]  # expect: dynamodb:Scan


def save(item):
    _table.put_item(Item=item)
    return item


def remove(order_id):
    _table.delete_item(Key={"id": order_id})
    return {"id": order_id}
