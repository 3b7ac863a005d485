import os

import boto3

ses = boto3.client("sesv2")


def handler(event, context):
    ses.send_email(  # expect: ses:SendEmail
        FromEmailAddress=os.environ["SENDER"],
        Destination={"ToAddresses": [event["email"]]},
        Content={"Simple": {"Subject": {"Data": "Welcome"}, "Body": {"Text": {"Data": "Hello"}}}},
    )
