import boto3

s3 = boto3.client("s3")
sqs = boto3.client("sqs")
audit = boto3.resource("dynamodb").Table("audit")


def handler(event, context):
    audit.put_item(Item={"operation": event["operation"]})
    method = getattr(s3, event["operation"])
    return method(**event["params"])
