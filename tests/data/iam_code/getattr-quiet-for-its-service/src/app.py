import boto3

s3 = boto3.client("s3")
sqs = boto3.client("sqs")


def handler(event, context):
    method = getattr(s3, event["operation"])
    return method(**event["params"])
