"""Rebuild lpack/data/events/*.json, the sample test events of `lpack events` (python scripts/make_sample_events.py lpack/data/events)."""
from __future__ import annotations

import base64
import gzip
import hashlib
import json
import sys
from pathlib import Path

OUT = Path(sys.argv[1])
REGION = "us-east-1"
ACCOUNT = "123456789012"
BUCKET = "amzn-s3-demo-bucket"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def s3_record(name: str, key: str, size: int | None) -> dict:
    obj = {"key": key, "sequencer": "0067A3F1C2D4E5F607"}
    if size is not None:
        obj = {"key": key, "size": size, "eTag": "9b2cf535f27731c974343645a3985328",
               "sequencer": "0067A3F1C2D4E5F607"}
    return {"Records": [{
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": REGION,
        "eventTime": "2026-03-14T09:26:53.589Z",
        "eventName": name,
        "userIdentity": {"principalId": "AWS:AROAEXAMPLEROLEID:uploader"},
        "requestParameters": {"sourceIPAddress": "203.0.113.17"},
        "responseElements": {
            "x-amz-request-id": "C3D13FE58DE4C810",
            "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD",
        },
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "process-uploads",
            "bucket": {"name": BUCKET, "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                       "arn": f"arn:aws:s3:::{BUCKET}"},
            "object": obj,
        },
    }]}


def sqs_message(body: str, msg_id: str, fifo: bool) -> dict:
    queue = "orders.fifo" if fifo else "orders"
    attributes = {
        "ApproximateReceiveCount": "1",
        "SentTimestamp": "1773480413000",
        "SenderId": "AROAEXAMPLEROLEID:order-api",
        "ApproximateFirstReceiveTimestamp": "1773480413012",
    }
    if fifo:
        attributes |= {"SequenceNumber": "18892381958742171392",
                       "MessageGroupId": "customer-4711",
                       "MessageDeduplicationId": hashlib.sha256(body.encode()).hexdigest()}
    return {
        "messageId": msg_id,
        "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a" + msg_id.replace("-", "")[:20],
        "body": body,
        "attributes": attributes,
        "messageAttributes": {} if fifo else {
            "origin": {"stringValue": "web", "stringListValues": [], "binaryListValues": [],
                       "dataType": "String"}},
        "md5OfBody": hashlib.md5(body.encode()).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue}",
        "awsRegion": REGION,
    }


def sqs(fifo: bool) -> dict:
    bodies = [json.dumps({"orderId": "o-1001", "total": 42.5}),
              json.dumps({"orderId": "o-1002", "total": 7.0})]
    ids = ["2e1424d4-f796-459a-8184-9c92662be6da", "c80e8021-a70a-42c7-a470-796e1186f753"]
    return {"Records": [sqs_message(b, i, fifo) for b, i in zip(bodies, ids)]}


def sns() -> dict:
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:order-events"
    return {"Records": [{
        "EventVersion": "1.0",
        "EventSubscriptionArn": f"{topic}:6b0e71bd-7e97-4d97-80ce-4a0994e55286",
        "EventSource": "aws:sns",
        "Sns": {
            "SignatureVersion": "1",
            "Timestamp": "2026-03-14T09:26:53.589Z",
            "Signature": b64(hashlib.sha512(b"lpack sample signature").digest()),
            "SigningCertUrl": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem",
            "MessageId": "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
            "Message": json.dumps({"orderId": "o-1001", "status": "shipped"}),
            "MessageAttributes": {"priority": {"Type": "String", "Value": "high"}},
            "Type": "Notification",
            "UnsubscribeUrl": f"https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={topic}:6b0e71bd-7e97-4d97-80ce-4a0994e55286",
            "TopicArn": topic,
            "Subject": "Order shipped",
        },
    }]}


def api_gateway_proxy() -> dict:
    body = json.dumps({"name": "widget", "quantity": 3})
    headers = {
        "Accept": "application/json",
        "Content-Type": "application/json",
        "Host": "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
        "User-Agent": "curl/8.5.0",
        "X-Amzn-Trace-Id": "Root=1-67d3f5a1-2b3c4d5e6f708192a3b4c5d6",
        "X-Forwarded-For": "203.0.113.17",
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https",
    }
    return {
        "resource": "/items/{id}",
        "path": "/items/42",
        "httpMethod": "POST",
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {"verbose": "true"},
        "multiValueQueryStringParameters": {"verbose": ["true"]},
        "pathParameters": {"id": "42"},
        "stageVariables": None,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": "a1b2c3d4e5",
            "domainName": "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "a1b2c3d4e5",
            "extendedRequestId": "Hk7sWFQ2IAMEbXw=",
            "httpMethod": "POST",
            "identity": {
                "accessKey": None, "accountId": None, "caller": None, "cognitoAuthenticationProvider": None,
                "cognitoAuthenticationType": None, "cognitoIdentityId": None, "cognitoIdentityPoolId": None,
                "principalOrgId": None, "sourceIp": "203.0.113.17", "user": None,
                "userAgent": "curl/8.5.0", "userArn": None,
            },
            "path": "/prod/items/42",
            "protocol": "HTTP/1.1",
            "requestId": "b0a1f3c6-4e8d-4b2a-9c7e-1d2f3a4b5c6d",
            "requestTime": "14/Mar/2026:09:26:53 +0000",
            "requestTimeEpoch": 1773480413589,
            "resourceId": "x7y8z9",
            "resourcePath": "/items/{id}",
            "stage": "prod",
        },
        "body": body,
        "isBase64Encoded": False,
    }


def http_api() -> dict:
    return {
        "version": "2.0",
        "routeKey": "POST /items/{id}",
        "rawPath": "/items/42",
        "rawQueryString": "verbose=true&tag=a&tag=b",
        "cookies": ["session=3f9a2c", "theme=dark"],
        "headers": {
            "accept": "application/json",
            "content-length": "33",
            "content-type": "application/json",
            "host": "f6g7h8i9j0.execute-api.us-east-1.amazonaws.com",
            "user-agent": "curl/8.5.0",
            "x-amzn-trace-id": "Root=1-67d3f5a1-3c4d5e6f708192a3b4c5d6e7",
            "x-forwarded-for": "203.0.113.17",
            "x-forwarded-port": "443",
            "x-forwarded-proto": "https",
        },
        "queryStringParameters": {"verbose": "true", "tag": "a,b"},
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": "f6g7h8i9j0",
            "domainName": "f6g7h8i9j0.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "f6g7h8i9j0",
            "http": {"method": "POST", "path": "/items/42", "protocol": "HTTP/1.1",
                     "sourceIp": "203.0.113.17", "userAgent": "curl/8.5.0"},
            "requestId": "Hk7sWFQ2IAMEbYz=",
            "routeKey": "POST /items/{id}",
            "stage": "$default",
            "time": "14/Mar/2026:09:26:53 +0000",
            "timeEpoch": 1773480413589,
        },
        "pathParameters": {"id": "42"},
        "body": json.dumps({"name": "widget", "quantity": 3}),
        "isBase64Encoded": False,
    }


def function_url() -> dict:
    url_id = "k3n5p7r9t1v3x5z7b9d1f3h5j7l9n1p3"
    host = f"{url_id}.lambda-url.us-east-1.on.aws"
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/reports",
        "rawQueryString": "month=2026-03",
        "cookies": ["session=3f9a2c"],
        "headers": {
            "accept": "application/json",
            "host": host,
            "user-agent": "curl/8.5.0",
            "x-amzn-tls-cipher-suite": "TLS_AES_128_GCM_SHA256",
            "x-amzn-tls-version": "TLSv1.3",
            "x-amzn-trace-id": "Root=1-67d3f5a1-4d5e6f708192a3b4c5d6e7f8",
            "x-forwarded-for": "203.0.113.17",
            "x-forwarded-port": "443",
            "x-forwarded-proto": "https",
        },
        "queryStringParameters": {"month": "2026-03"},
        "requestContext": {
            "accountId": "anonymous",
            "apiId": url_id,
            "domainName": host,
            "domainPrefix": url_id,
            "http": {"method": "GET", "path": "/reports", "protocol": "HTTP/1.1",
                     "sourceIp": "203.0.113.17", "userAgent": "curl/8.5.0"},
            "requestId": "5a8e2f1c-7b3d-4e9a-8c6f-0d1e2f3a4b5c",
            "routeKey": "$default",
            "stage": "$default",
            "time": "14/Mar/2026:09:26:53 +0000",
            "timeEpoch": 1773480413589,
        },
        "isBase64Encoded": False,
    }


def alb() -> dict:
    return {
        "requestContext": {"elb": {"targetGroupArn":
            f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/lambda-items/8f3d2c1b0a9e8d7c"}},
        "httpMethod": "GET",
        "path": "/items",
        "queryStringParameters": {"page": "2"},
        "headers": {
            "accept": "application/json",
            "host": "items-alb-1234567890.us-east-1.elb.amazonaws.com",
            "user-agent": "curl/8.5.0",
            "x-amzn-trace-id": "Root=1-67d3f5a1-5e6f708192a3b4c5d6e7f809",
            "x-forwarded-for": "203.0.113.17",
            "x-forwarded-port": "443",
            "x-forwarded-proto": "https",
        },
        "body": "",
        "isBase64Encoded": False,
    }


def eventbridge() -> dict:
    return {
        "version": "0",
        "id": "7d6b2e8a-3f1c-4b5d-9e0a-1c2d3e4f5a6b",
        "detail-type": "Order Placed",
        "source": "com.example.orders",
        "account": ACCOUNT,
        "time": "2026-03-14T09:26:53Z",
        "region": REGION,
        "resources": [],
        "detail": {"orderId": "o-1001", "customerId": "c-4711", "total": 42.5, "currency": "USD"},
    }


def scheduled() -> dict:
    return {
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": "2026-03-14T09:00:00Z",
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/nightly-cleanup"],
        "detail": {},
    }


def dynamodb_stream() -> dict:
    arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/Orders/stream/2026-03-01T00:00:00.000"
    def record(event_id, name, seq, keys, new=None, old=None, view="NEW_AND_OLD_IMAGES"):
        ddb = {"ApproximateCreationDateTime": 1773480413, "Keys": keys}
        if new is not None:
            ddb["NewImage"] = new
        if old is not None:
            ddb["OldImage"] = old
        ddb |= {"SequenceNumber": seq, "SizeBytes": 112, "StreamViewType": view}
        return {"eventID": event_id, "eventName": name, "eventVersion": "1.1",
                "eventSource": "aws:dynamodb", "awsRegion": REGION, "dynamodb": ddb,
                "eventSourceARN": arn}
    keys = {"orderId": {"S": "o-1001"}}
    v1 = {"orderId": {"S": "o-1001"}, "status": {"S": "placed"}, "total": {"N": "42.5"},
          "items": {"L": [{"S": "widget"}, {"S": "gadget"}]}, "gift": {"BOOL": False}}
    v2 = dict(v1, status={"S": "shipped"})
    return {"Records": [
        record("c4ca4238a0b923820dcc509a6f75849b", "INSERT", "111100000000000000000001", keys, new=v1),
        record("c81e728d9d4c2f636f067f89cc14862c", "MODIFY", "111200000000000000000002", keys, new=v2, old=v1),
        record("eccbc87e4b5ce2fe28308fd9f2a7baf3", "REMOVE", "111300000000000000000003", keys, old=v2),
    ]}


def kinesis() -> dict:
    def record(payload: dict, seq: str, key: str) -> dict:
        return {
            "kinesis": {
                "kinesisSchemaVersion": "1.0",
                "partitionKey": key,
                "sequenceNumber": seq,
                "data": b64(json.dumps(payload).encode()),
                "approximateArrivalTimestamp": 1773480413.589,
            },
            "eventSource": "aws:kinesis",
            "eventVersion": "1.0",
            "eventID": f"shardId-000000000000:{seq}",
            "eventName": "aws:kinesis:record",
            "invokeIdentityArn": f"arn:aws:iam::{ACCOUNT}:role/clickstream-consumer",
            "awsRegion": REGION,
            "eventSourceARN": f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/clickstream",
        }
    return {"Records": [
        record({"page": "/pricing", "user": "u-17"}, "49659813726511882000000000000000000000000000000001", "u-17"),
        record({"page": "/signup", "user": "u-17"}, "49659813726511882000000000000000000000000000000002", "u-17"),
    ]}


def cloudwatch_logs() -> dict:
    group = "/aws/lambda/order-api"
    stream = "2026/03/14/[$LATEST]0f1e2d3c4b5a69788796a5b4c3d2e1f0"
    base_ms = 1773480413589
    lines = ["START RequestId: 6f2b8c1e-9a4d-4e7b-8c3f-2a1b0c9d8e7f Version: $LATEST\n",
             "[ERROR] 2026-03-14T09:26:53.612Z 6f2b8c1e-9a4d-4e7b-8c3f-2a1b0c9d8e7f order not found: o-9999\n",
             "END RequestId: 6f2b8c1e-9a4d-4e7b-8c3f-2a1b0c9d8e7f\n"]
    payload = {
        "messageType": "DATA_MESSAGE",
        "owner": ACCOUNT,
        "logGroup": group,
        "logStream": stream,
        "subscriptionFilters": ["errors-to-alerts"],
        "logEvents": [
            {"id": str(37934027815246280000000000000000000000000000000000000 + i),
             "timestamp": base_ms + 23 * i, "message": line}
            for i, line in enumerate(lines)
        ],
    }
    packed = gzip.compress(json.dumps(payload, separators=(",", ":")).encode(), mtime=0)
    return {"awslogs": {"data": b64(packed)}}


def cognito_pre_signup() -> dict:
    return {
        "version": "1",
        "region": REGION,
        "userPoolId": "us-east-1_Ab3Cd5Ef7",
        "userName": "8b4e1a7c-2f3d-4c5b-9a6e-7d8f9a0b1c2d",
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown",
                          "clientId": "4p6r8t0v2x4z6b8d0f2h4j6l8n"},
        "triggerSource": "PreSignUp_SignUp",
        "request": {
            "userAttributes": {"email": "jane.doe@example.com", "name": "Jane Doe"},
            "validationData": None,
        },
        "response": {"autoConfirmUser": False, "autoVerifyEmail": False, "autoVerifyPhone": False},
    }


def cloudformation_custom_resource() -> dict:
    stack = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/orders-stack/1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d"
    return {
        "RequestType": "Create",
        "ServiceToken": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:seed-orders-table",
        "ResponseURL": ("https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/"
                        "arn%3Aaws%3Acloudformation%3Aus-east-1%3A123456789012%3Astack/orders-stack/"
                        "1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d%7CSeedData%7C9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b"
                        "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20260314T092653Z"
                        "&X-Amz-Expires=7200&X-Amz-SignedHeaders=host"
                        "&X-Amz-Signature=0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"),
        "StackId": stack,
        "RequestId": "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b",
        "LogicalResourceId": "SeedData",
        "ResourceType": "Custom::SeedData",
        "ResourceProperties": {
            "ServiceToken": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:seed-orders-table",
            "TableName": "Orders",
            "Rows": "25",
        },
    }


def msk() -> dict:
    cluster = f"arn:aws:kafka:{REGION}:{ACCOUNT}:cluster/orders-cluster/2f4e6a8c-1b3d-4f5a-8c7e-9d0b1a2c3e4f-3"
    return {
        "eventSource": "aws:kafka",
        "eventSourceArn": cluster,
        "bootstrapServers": ("b-1.orderscluster.a1b2c3.c3.kafka.us-east-1.amazonaws.com:9098,"
                             "b-2.orderscluster.a1b2c3.c3.kafka.us-east-1.amazonaws.com:9098"),
        "records": {"orders-0": [{
            "topic": "orders",
            "partition": 0,
            "offset": 1542,
            "timestamp": 1773480413589,
            "timestampType": "CREATE_TIME",
            "key": b64(b"o-1001"),
            "value": b64(json.dumps({"orderId": "o-1001", "total": 42.5}).encode()),
            "headers": [{"source": list(b"checkout")}],
        }]},
    }


SAMPLES = {
    "s3-put": lambda: s3_record("ObjectCreated:Put", "uploads/2026/03/q1+report.csv", 1305107),
    "s3-delete": lambda: s3_record("ObjectRemoved:Delete", "uploads/2026/03/q1+report.csv", None),
    "sqs": lambda: sqs(False),
    "sqs-fifo": lambda: sqs(True),
    "sns": sns,
    "api-gateway-proxy": api_gateway_proxy,
    "http-api": http_api,
    "function-url": function_url,
    "alb": alb,
    "eventbridge": eventbridge,
    "scheduled": scheduled,
    "dynamodb-stream": dynamodb_stream,
    "kinesis": kinesis,
    "cloudwatch-logs": cloudwatch_logs,
    "cognito-pre-signup": cognito_pre_signup,
    "cloudformation-custom-resource": cloudformation_custom_resource,
    "msk": msk,
}

OUT.mkdir(parents=True, exist_ok=True)
for name, build in SAMPLES.items():
    (OUT / f"{name}.json").write_text(json.dumps(build(), indent=2) + "\n", encoding="utf-8")
print(len(SAMPLES), "written")
