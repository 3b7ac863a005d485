import boto3


def handler(event, context):
    client = boto3.client(event["service"])
    return client.list_tags_for_resource(ResourceArn=event["arn"])
