import json


def handle_request(event, bucket, table):
    items = table.scan()["Items"]
    bucket.put_object(Key="backup.json", Body=json.dumps(items))  # expect: s3:PutObject
    return len(items)
