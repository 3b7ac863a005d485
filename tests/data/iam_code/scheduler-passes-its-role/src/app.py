import os

import boto3

scheduler = boto3.client("scheduler")


def handler(event, context):
    target = {"RoleArn": os.environ["SCHEDULER_ROLE_ARN"], "Arn": "arn:aws:scheduler:::aws-sdk:ses:sendEmail",
              "Input": "{}"}
    return scheduler.create_schedule(Name=event["id"], Target=target, FlexibleTimeWindow={"Mode": "OFF"},
                                     ScheduleExpression="at(2030-01-01T00:00:00)")
