def handle(event, context):
    return [record["s3"]["object"]["key"] for record in event.get("Records", [])]
