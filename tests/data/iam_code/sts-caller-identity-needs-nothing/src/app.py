import boto3

sts = boto3.client("sts")
s3 = boto3.client("s3")


def handler(event, context):
    account = sts.get_caller_identity()["Account"]
    s3.put_object(Bucket=f"reports-{account}", Key="r.json", Body=b"{}")  # expect: s3:PutObject
    return account
