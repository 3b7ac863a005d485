import os

import boto3

queue = boto3.resource("sqs").Queue(os.environ["QUEUE_URL"])


def handler(event, context):
    queue.send_message(MessageBody=event["body"])  # expect: sqs:SendMessage
