import boto3

bucket = boto3.resource("s3").Bucket("acme-tmp")


def handler(event, context):
    for obj in bucket.objects.filter(Prefix="incoming/"):
        obj.delete()  # expect: s3:DeleteObject
