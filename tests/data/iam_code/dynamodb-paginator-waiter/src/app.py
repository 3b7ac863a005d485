import os

import boto3

ddb = boto3.client("dynamodb")


def handler(event, context):
    table = os.environ["AUDIT"]
    ddb.get_waiter("table_exists").wait(TableName=table)  # expect: dynamodb:DescribeTable
    total = 0
    for page in ddb.get_paginator("scan").paginate(TableName=table):
        total += page["Count"]
    return total
