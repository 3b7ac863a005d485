import json

import boto3

sfn = boto3.client("stepfunctions")


def handler(event, context):
    for record in event["Records"]:
        body = json.loads(record["body"])
        try:
            output = {"approved": body["amount"] < 1000}
            sfn.send_task_success(taskToken=body["taskToken"], output=json.dumps(output))
        except KeyError as exc:
            sfn.send_task_failure(taskToken=body["taskToken"], error="BadInput", cause=str(exc))  # expect: states:SendTaskFailure
