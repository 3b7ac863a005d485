import boto3

s3 = boto3.client("s3")


def handler(event, context):
    return s3.get_object(Bucket="acme-data", Key=event["key"])["Body"].read()
