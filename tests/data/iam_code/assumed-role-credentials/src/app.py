import boto3

sts = boto3.client("sts")


def handler(event, context):
    creds = sts.assume_role(RoleArn="arn:aws:iam::210987654321:role/report-reader",  # expect: sts:AssumeRole
                            RoleSessionName="reports")["Credentials"]
    s3 = boto3.client("s3", aws_access_key_id=creds["AccessKeyId"],
                      aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])
    return s3.get_object(Bucket="partner-reports", Key=event["key"])["Body"].read()
