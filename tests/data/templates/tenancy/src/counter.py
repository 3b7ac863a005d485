count = 0


def lambda_handler(event, context):
    global count
    count += 1
    return {"statusCode": 200, "body": f'{{"tenant": "{context.tenant_id}", "count": {count}}}'}
