import boto3

kinesis = boto3.client("kinesis")


def handler(event, context):
    return [s["StreamName"] for s in kinesis.list_streams()["StreamSummaries"]]
