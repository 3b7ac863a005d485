import os

import boto3
from boto3.dynamodb.conditions import Key


class Customers:
    def __init__(self):
        self.table = boto3.resource("dynamodb").Table(os.environ["CUSTOMERS"])

    def by_email(self, email):
        result = self.table.query(IndexName="email", KeyConditionExpression=Key("email").eq(email))
        return result["Items"]


customers = Customers()


def handler(event, context):
    return customers.by_email(event["email"])
