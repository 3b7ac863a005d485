import os

from notify.clients import client_for


def handler(event, context):
    client_for("sns").publish(TopicArn=os.environ["TOPIC_ARN"], Message="order shipped")  # expect: sns:Publish
