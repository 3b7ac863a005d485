import json


def lambda_handler(event, context):
    # The Lambda console's default Python handler.
    return {"statusCode": 200, "body": json.dumps("Hello from Lambda!")}
