import json
import os

import boto3

sqs = boto3.client("sqs")
QUEUE_URL = os.environ["QUEUE_URL"]


def handler(event, context):
    entries = [{"Id": str(i), "MessageBody": json.dumps(r)} for i, r in enumerate(event["records"])]
    for start in range(0, len(entries), 10):
        sqs.send_message_batch(QueueUrl=QUEUE_URL, Entries=entries[start:start + 10])
