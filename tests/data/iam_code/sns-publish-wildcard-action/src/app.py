import os

import boto3

topic = boto3.resource("sns").Topic(os.environ["TOPIC_ARN"])


def handler(event, context):
    topic.publish(Message=event["message"])
