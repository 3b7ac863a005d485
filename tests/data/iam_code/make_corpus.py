"""Rebuild the handler + role corpus in this folder: ``python tests/data/iam_code/make_corpus.py``.

Each case is a folder: an lpack project (``lpack.toml`` and ``src/``) or a SAM template with its
code, the role's policy documents, and ``expected.json``: every AccessDenied lpack must predict
(LP570, ``file:line action``), every unused grant (LP571, ``file:line action``) and every role it
must say it cannot judge (LP572). The handlers follow call patterns of public Lambda functions (S3
trigger processors, DynamoDB CRUD APIs behind API Gateway, SQS consumers, Step Functions tasks and
callbacks, Powertools apps, WebSocket APIs, secret rotation); the expectations come from the AWS
documentation of each action, never from running lpack. A call site carries ``# expect: ACTION``
and a grant its statement's ``Sid`` in ``unused``; this script turns them into lines.
"""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
LOGS = {"Sid": "Logs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": "arn:aws:logs:*:*:log-group:/aws/lambda/*:*"}
ACCOUNT = "123456789012"


def allow(sid: str, actions: str | list[str], resource: str | list[str] = "*", **extra: Any) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resource, **extra}


def deny(sid: str, actions: str | list[str], resource: str | list[str] = "*", **extra: Any) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Deny", "Action": actions, "Resource": resource, **extra}


def policy_text(statements: list[dict[str, Any]]) -> str:
    """One statement a line, so that a statement's line is easy to see."""
    body = ",\n".join("    " + json.dumps(s) for s in statements)
    return '{\n  "Version": "2012-10-17",\n  "Statement": [\n' + body + "\n  ]\n}\n"


def statement_line(text: str, sid: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if f'"Sid": "{sid}"' in line)


def marked(files: dict[str, str], code: str) -> list[str]:
    """``file:line action`` for each ``# expect: ACTION ...`` comment of ``code`` (LP570)."""
    found = []
    for name, text in files.items():
        for number, line in enumerate(text.splitlines(), 1):
            if "# expect:" in line:
                for action in line.split("# expect:")[1].split():
                    found.append(f"{name}:{number} {action}")
    return sorted(found)


CASES: dict[str, dict[str, Any]] = {}


def case(name: str, handler: str | dict[str, str], statements: list[dict[str, Any]] | None = None, *,
         env: dict[str, str] | None = None, unused: dict[str, list[str]] | None = None,
         policies: list[str] | None = None, template: str | None = None, not_judged: bool = False,
         entry: str = "app.handler", about: str = "") -> None:
    files = handler if isinstance(handler, dict) else {"app.py": handler}
    CASES[name] = {"files": {k: textwrap.dedent(v).lstrip() for k, v in files.items()},
                   "statements": statements, "env": env or {}, "unused": unused or {},
                   "policies": policies, "template": template, "not_judged": not_judged,
                   "entry": entry, "about": about}


# -- S3 trigger processors ----------------------------------------------------------------------

THUMBNAIL = '''
    import os
    from urllib.parse import unquote_plus

    import boto3

    s3 = boto3.client("s3")
    OUT = os.environ["OUTPUT_BUCKET"]


    def handler(event, context):
        for record in event["Records"]:
            bucket = record["s3"]["bucket"]["name"]
            key = unquote_plus(record["s3"]["object"]["key"])
            s3.download_file(bucket, key, "/tmp/original")
            s3.upload_file("/tmp/original", OUT, f"thumbs/{key}")  # expect: s3:PutObject
'''
case("s3-thumbnail-put-missing", THUMBNAIL,
     [LOGS, allow("ReadUploads", "s3:GetObject", "arn:aws:s3:::photo-uploads/*")],
     env={"OUTPUT_BUCKET": "photo-thumbs"}, about="upload_file needs s3:PutObject on the output bucket")
case("s3-thumbnail-granted", THUMBNAIL.replace("  # expect: s3:PutObject", ""),
     [LOGS, allow("ReadUploads", "s3:GetObject", "arn:aws:s3:::photo-uploads/*"),
      allow("WriteThumbs", "s3:PutObject", "arn:aws:s3:::photo-thumbs/thumbs/*")],
     env={"OUTPUT_BUCKET": "photo-thumbs"}, about="near miss: the prefix-scoped grant covers thumbs/{key}")
case("s3-thumbnail-wrong-bucket", THUMBNAIL,
     [LOGS, allow("ReadUploads", "s3:GetObject", "arn:aws:s3:::photo-uploads/*"),
      allow("WriteThumbs", "s3:PutObject", "arn:aws:s3:::photo-uploads/*")],
     env={"OUTPUT_BUCKET": "photo-thumbs"}, about="PutObject granted on the input bucket, not the output one")

case("s3-list-needs-listbucket", '''
    import os

    import boto3

    s3 = boto3.client("s3")


    def handler(event, context):
        bucket = os.environ["REPORTS"]
        keys = []
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="daily/")  # expect: s3:ListBucket
        for page in pages:
            keys += [item["Key"] for item in page.get("Contents", [])]
        return {"count": len(keys)}
''', [LOGS, allow("ReadReports", ["s3:GetObject"], "arn:aws:s3:::acme-reports/*")],
     env={"REPORTS": "acme-reports"}, unused={"ReadReports": ["s3:GetObject"]},
     about="listing objects needs s3:ListBucket on the bucket, not s3:GetObject on its objects")

case("s3-head-object-is-getobject", '''
    import os

    import boto3

    s3 = boto3.client("s3")
    BUCKET = os.environ.get("ASSETS", "assets-dev")


    def handler(event, context):
        head = s3.head_object(Bucket=BUCKET, Key=event["key"])
        return {"size": head["ContentLength"]}
''', [LOGS, allow("Read", "s3:GetObject", "arn:aws:s3:::assets-prod/*")], env={"ASSETS": "assets-prod"},
     about="near miss: head_object is authorized as s3:GetObject")

case("s3-copy-between-buckets", '''
    import os

    import boto3

    s3 = boto3.resource("s3")
    archive = s3.Bucket(os.environ["ARCHIVE"])


    def handler(event, context):
        for record in event["Records"]:
            source = {"Bucket": record["s3"]["bucket"]["name"], "Key": record["s3"]["object"]["key"]}
            archive.copy(source, "raw/" + source["Key"])  # expect: s3:GetObject
''', [LOGS, allow("Archive", "s3:PutObject", "arn:aws:s3:::acme-archive/raw/*")], env={"ARCHIVE": "acme-archive"},
     about="a copy reads the source object too: s3:GetObject")

case("s3-object-resource-get", '''
    import json
    import os

    import boto3

    CONFIG = boto3.resource("s3").Object(os.environ["CONFIG_BUCKET"], "settings.json")


    def handler(event, context):
        settings = json.loads(CONFIG.get()["Body"].read())  # expect: s3:GetObject
        return settings.get("mode")
''', [LOGS, allow("Read", "s3:GetObject", "arn:aws:s3:::acme-config-dev/*")], env={"CONFIG_BUCKET": "acme-config"},
     about="the sub-resource Object(bucket, key).get() on a bucket the role does not cover")

case("s3-if-false-and-type-checking", '''
    from __future__ import annotations

    from typing import TYPE_CHECKING

    import boto3

    if TYPE_CHECKING:
        from mypy_boto3_s3 import S3Client

    s3: S3Client = boto3.client("s3")


    def handler(event, context):
        if False:
            s3.delete_object(Bucket="acme-data", Key=event["key"])
        return s3.get_object(Bucket="acme-data", Key=event["key"])["Body"].read()
''', [LOGS, allow("Read", "s3:GetObject", "arn:aws:s3:::acme-data/*")],
     about="near miss: the delete behind `if False:` never runs")

case("s3-explicit-deny", '''
    import boto3

    bucket = boto3.resource("s3").Bucket("acme-tmp")


    def handler(event, context):
        for obj in bucket.objects.filter(Prefix="incoming/"):
            obj.delete()  # expect: s3:DeleteObject
''', [LOGS, allow("All", "s3:*", ["arn:aws:s3:::acme-tmp", "arn:aws:s3:::acme-tmp/*"]),
      deny("NoDeletes", "s3:DeleteObject")],
     about="s3:* allows it, an unconditional Deny takes it away")

case("s3-conditional-deny", '''
    import boto3

    bucket = boto3.resource("s3").Bucket("acme-tmp")


    def handler(event, context):
        for obj in bucket.objects.filter(Prefix="incoming/"):
            obj.delete()
''', [LOGS, allow("All", "s3:*", ["arn:aws:s3:::acme-tmp", "arn:aws:s3:::acme-tmp/*"]),
      deny("TlsOnly", "s3:*", "*", Condition={"Bool": {"aws:SecureTransport": "false"}})],
     about="near miss: the Deny applies only without TLS, which boto3 always uses")

case("s3-presigned-upload", '''
    import os

    import boto3

    s3 = boto3.client("s3")


    def handler(event, context):
        url = s3.generate_presigned_url(  # expect: s3:PutObject
            "put_object", Params={"Bucket": os.environ["UPLOADS"], "Key": event["key"]}, ExpiresIn=300)
        return {"url": url}
''', [LOGS, allow("Read", "s3:GetObject", "arn:aws:s3:::acme-uploads/*")], env={"UPLOADS": "acme-uploads"},
     unused={"Read": ["s3:GetObject"]},
     about="a presigned URL carries the role's permission for put_object")

# -- DynamoDB CRUD APIs -------------------------------------------------------------------------

CRUD = {
    "app.py": '''
        import json

        from orders import repository


        def handler(event, context):
            method = event["httpMethod"]
            if method == "GET" and event.get("pathParameters"):
                item = repository.get(event["pathParameters"]["id"])
            elif method == "GET":
                item = repository.list_all()
            elif method == "PUT":
                item = repository.save(json.loads(event["body"]))
            else:
                item = repository.remove(event["pathParameters"]["id"])
            return {"statusCode": 200, "body": json.dumps(item, default=str)}
    ''',
    "orders/__init__.py": "",
    "orders/repository.py": '''
        import os

        import boto3

        _table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])


        def get(order_id):
            return _table.get_item(Key={"id": order_id}).get("Item")


        def list_all():
            return _table.scan(Limit=100)["Items"]  # expect: dynamodb:Scan


        def save(item):
            _table.put_item(Item=item)
            return item


        def remove(order_id):
            _table.delete_item(Key={"id": order_id})
            return {"id": order_id}
    ''',
}
TABLE = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/orders"
case("dynamodb-crud-scan-missing", CRUD,
     [LOGS, allow("Crud", ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:BatchGetItem"],
                  TABLE)],
     env={"TABLE_NAME": "orders"}, unused={"Crud": ["dynamodb:BatchGetItem"]},
     about="a CRUD API in a package module; Scan is not granted, BatchGetItem is never called")
case("dynamodb-crud-wildcard", {k: v.replace("  # expect: dynamodb:Scan", "") for k, v in CRUD.items()},
     [LOGS, allow("Crud", "dynamodb:*", [TABLE, TABLE + "/index/*"])], env={"TABLE_NAME": "orders"},
     about="near miss: dynamodb:* on the table covers every call")
WRONG_TABLE = {
    'return _table.get_item(Key={"id": order_id}).get("Item")': "  # expect: dynamodb:GetItem",
    "_table.put_item(Item=item)": "  # expect: dynamodb:PutItem",
    '_table.delete_item(Key={"id": order_id})': "  # expect: dynamodb:DeleteItem",
}


def _wrong_table(text: str) -> str:
    for line, mark in WRONG_TABLE.items():
        text = text.replace(line, line + mark)
    return text


case("dynamodb-crud-wrong-table", {k: _wrong_table(v) for k, v in CRUD.items()},
     [LOGS, allow("Crud", ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Scan"],
                  f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/orders-v2")],
     env={"TABLE_NAME": "orders"}, about="every call names a table the role does not cover")

case("dynamodb-class-attribute", '''
    import os

    import boto3
    from boto3.dynamodb.conditions import Key


    class Customers:
        def __init__(self):
            self.table = boto3.resource("dynamodb").Table(os.environ["CUSTOMERS"])

        def by_email(self, email):
            result = self.table.query(IndexName="email", KeyConditionExpression=Key("email").eq(email))
            return result["Items"]


    customers = Customers()


    def handler(event, context):
        return customers.by_email(event["email"])
''', [LOGS, allow("Read", ["dynamodb:Query", "dynamodb:Scan"], [f"arn:aws:dynamodb:*:{ACCOUNT}:table/customers",
                                                                f"arn:aws:dynamodb:*:{ACCOUNT}:table/customers/index/*"])],
     env={"CUSTOMERS": "customers"}, unused={"Read": ["dynamodb:Scan"]},
     about="a client kept on self; Scan granted and never called")

case("dynamodb-paginator-waiter", '''
    import os

    import boto3

    ddb = boto3.client("dynamodb")


    def handler(event, context):
        table = os.environ["AUDIT"]
        ddb.get_waiter("table_exists").wait(TableName=table)  # expect: dynamodb:DescribeTable
        total = 0
        for page in ddb.get_paginator("scan").paginate(TableName=table):
            total += page["Count"]
        return total
''', [LOGS, allow("Scan", "dynamodb:Scan", "arn:aws:dynamodb:*:*:table/audit")], env={"AUDIT": "audit"},
     about="a waiter polls DescribeTable; the paginator's Scan is granted")

# -- SQS ----------------------------------------------------------------------------------------

case("sqs-producer-batch", '''
    import json
    import os

    import boto3

    sqs = boto3.client("sqs")
    QUEUE_URL = os.environ["QUEUE_URL"]


    def handler(event, context):
        entries = [{"Id": str(i), "MessageBody": json.dumps(r)} for i, r in enumerate(event["records"])]
        for start in range(0, len(entries), 10):
            sqs.send_message_batch(QueueUrl=QUEUE_URL, Entries=entries[start:start + 10])
''', [LOGS, allow("Send", "sqs:SendMessage", f"arn:aws:sqs:eu-west-1:{ACCOUNT}:jobs")],
     env={"QUEUE_URL": f"https://sqs.eu-west-1.amazonaws.com/{ACCOUNT}/jobs"},
     about="near miss: SendMessageBatch is authorized as sqs:SendMessage on the queue")
case("sqs-producer-wrong-queue", '''
    import os

    import boto3

    queue = boto3.resource("sqs").Queue(os.environ["QUEUE_URL"])


    def handler(event, context):
        queue.send_message(MessageBody=event["body"])  # expect: sqs:SendMessage
''', [LOGS, allow("Send", "sqs:SendMessage", f"arn:aws:sqs:eu-west-1:{ACCOUNT}:jobs-dlq")],
     env={"QUEUE_URL": f"https://sqs.eu-west-1.amazonaws.com/{ACCOUNT}/jobs"},
     about="the grant names the dead-letter queue, the code sends to the main one")

# -- Step Functions -------------------------------------------------------------------------------

case("stepfunctions-start", '''
    import json
    import os

    import boto3

    sfn = boto3.client("stepfunctions")


    def handler(event, context):
        sfn.start_execution(stateMachineArn=os.environ["STATE_MACHINE_ARN"], input=json.dumps(event))
''', [LOGS, allow("Start", ["states:StartExecution", "states:DescribeExecution"],
                  f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:order-flow")],
     env={"STATE_MACHINE_ARN": f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:order-flow"},
     unused={"Start": ["states:DescribeExecution"]}, about="StartExecution granted; DescribeExecution never called")
case("stepfunctions-task-token", '''
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
''', [LOGS, allow("Callback", "states:SendTaskSuccess")],
     about="the callback pattern: the failure path needs its own action")

# -- Powertools apps ------------------------------------------------------------------------------

case("powertools-parameters", '''
    from aws_lambda_powertools import Logger, Tracer
    from aws_lambda_powertools.utilities import parameters

    logger = Logger()
    tracer = Tracer()


    @tracer.capture_lambda_handler
    def handler(event, context):
        endpoint = parameters.get_parameter("/payments/endpoint")
        secret = parameters.get_secret("payments/api-key")
        logger.info("calling", extra={"endpoint": endpoint})
        return {"ok": bool(secret)}
''', [LOGS, allow("Config", "ssm:GetParameter", f"arn:aws:ssm:*:{ACCOUNT}:parameter/payments/*"),
      allow("Secret", "secretsmanager:GetSecretValue", f"arn:aws:secretsmanager:*:{ACCOUNT}:secret:payments/api-key-??????")],
     about="near miss: Powertools' parameters utility, scoped grants that cover it")
case("powertools-idempotency", '''
    import os

    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, idempotent

    persistence = DynamoDBPersistenceLayer(table_name=os.environ["IDEMPOTENCY_TABLE"])  # expect: dynamodb:UpdateItem dynamodb:DeleteItem


    @idempotent(persistence_store=persistence)
    def handler(event, context):
        return {"payment": event["id"], "status": "accepted"}
''', [LOGS, allow("Idempotency", ["dynamodb:GetItem", "dynamodb:PutItem"], "arn:aws:dynamodb:*:*:table/idempotency")],
     env={"IDEMPOTENCY_TABLE": "idempotency"},
     about="the idempotency layer needs GetItem, PutItem, UpdateItem and DeleteItem")

# -- helpers, modules, dynamic code -----------------------------------------------------------------

case("helper-returns-client", {
    "app.py": '''
        import os

        from notify.clients import client_for


        def handler(event, context):
            client_for("sns").publish(TopicArn=os.environ["TOPIC_ARN"], Message="order shipped")  # expect: sns:Publish
    ''',
    "notify/__init__.py": "",
    "notify/clients.py": '''
        import functools

        import boto3


        @functools.cache
        def client_for(service):
            return boto3.client(service)
    ''',
}, [LOGS, allow("Publish", "sns:Publish", f"arn:aws:sns:us-east-1:{ACCOUNT}:orders-shipped")],
     env={"TOPIC_ARN": f"arn:aws:sns:us-east-1:{ACCOUNT}:order-events"},
     about="a cached helper returns the client; the topic granted is another")

case("imported-client", {
    "app.py": '''
        import os

        from shared.aws import s3


        def handler(event, context):
            listing = s3.list_objects_v2(Bucket=os.environ["DATA_BUCKET"], Prefix=event["prefix"])
            return [item["Key"] for item in listing.get("Contents", [])]
    ''',
    "shared/__init__.py": "",
    "shared/aws.py": '''
        import boto3

        s3 = boto3.client("s3")
        sns = boto3.client("sns")
    ''',
}, [LOGS, allow("List", "s3:ListBucket", "arn:aws:s3:::acme-data"),
    allow("Read", "s3:GetObject", "arn:aws:s3:::acme-data/*"), allow("Notify", "sns:Publish", "*")],
     env={"DATA_BUCKET": "acme-data"}, unused={"Read": ["s3:GetObject"], "Notify": ["sns:Publish"]},
     about="a client imported from another module; a client created and never used grants nothing")

case("handler-passes-resources", {
    "app.py": '''
        import os

        import boto3
        from backup.handler import handle_request

        bucket = boto3.resource("s3").Bucket(os.environ["BACKUP_BUCKET"])
        table = boto3.resource("dynamodb").Table(os.environ["TABLE"])


        def handler(event, context):
            return handle_request(event, bucket, table)
    ''',
    "backup/__init__.py": "",
    "backup/handler.py": '''
        import json


        def handle_request(event, bucket, table):
            items = table.scan()["Items"]
            bucket.put_object(Key="backup.json", Body=json.dumps(items))  # expect: s3:PutObject
            return len(items)
    ''',
}, [LOGS, allow("Scan", "dynamodb:Scan", "arn:aws:dynamodb:*:*:table/notes"),
    allow("Write", "s3:PutObject", "arn:aws:s3:::acme-backups/daily/*")],
     env={"BACKUP_BUCKET": "acme-backups", "TABLE": "notes"},
     about="resources passed to a function in another module; the grant's prefix misses backup.json")

case("dynamic-service-quiet", '''
    import boto3


    def handler(event, context):
        client = boto3.client(event["service"])
        return client.list_tags_for_resource(ResourceArn=event["arn"])
''', [LOGS, allow("Tags", ["sns:ListTagsForResource", "sqs:ListQueueTags"])],
     about="near miss: a service named at run time: no finding, not even unused grants")

case("getattr-quiet-for-its-service", '''
    import boto3

    s3 = boto3.client("s3")
    sqs = boto3.client("sqs")
    audit = boto3.resource("dynamodb").Table("audit")


    def handler(event, context):
        audit.put_item(Item={"operation": event["operation"]})
        method = getattr(s3, event["operation"])
        return method(**event["params"])
''', [LOGS, allow("S3", ["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::acme-data/*"),
      allow("Audit", "dynamodb:PutItem", f"arn:aws:dynamodb:*:{ACCOUNT}:table/audit"),
      allow("Queue", "sqs:SendMessage", "*")],
     unused={"Queue": ["sqs:SendMessage"]},
     about="getattr on the S3 client: its grants may be used; the SQS grant is not")

case("library-calls-aws", '''
    import os

    import awswrangler as wr
    import boto3

    ssm = boto3.client("ssm")


    def handler(event, context):
        database = ssm.get_parameter(Name="/analytics/database")["Parameter"]["Value"]  # expect: ssm:GetParameter
        frame = wr.athena.read_sql_query("SELECT 1", database=database)
        wr.s3.to_parquet(frame, path=os.environ["OUTPUT"])
''', [LOGS, allow("Athena", ["athena:StartQueryExecution", "athena:GetQueryResults", "s3:PutObject"])],
     about="awswrangler calls AWS itself: no grant is called unused; the code's own call still counts")

case("assumed-role-credentials", '''
    import boto3

    sts = boto3.client("sts")


    def handler(event, context):
        creds = sts.assume_role(RoleArn="arn:aws:iam::210987654321:role/report-reader",  # expect: sts:AssumeRole
                                RoleSessionName="reports")["Credentials"]
        s3 = boto3.client("s3", aws_access_key_id=creds["AccessKeyId"],
                          aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])
        return s3.get_object(Bucket="partner-reports", Key=event["key"])["Body"].read()
''', [LOGS, allow("Assume", "sts:AssumeRole", "arn:aws:iam::210987654321:role/report-writer")],
     about="sts:AssumeRole on another role; the S3 call runs with the assumed role's credentials, not this one's")

case("notaction-allow", '''
    import boto3

    kms = boto3.client("kms")


    def handler(event, context):
        return kms.encrypt(KeyId="alias/app", Plaintext=event["data"].encode())["CiphertextBlob"]
''', [LOGS, {"Sid": "AllButIam", "Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}],
     about="near miss: NotAction iam:* allows kms:Encrypt")

case("kms-encrypt-missing", '''
    import os

    import boto3

    kms = boto3.client("kms")
    KEY = os.environ["KEY_ARN"]


    def handler(event, context):
        blob = kms.encrypt(KeyId=KEY, Plaintext=event["card"].encode())["CiphertextBlob"]  # expect: kms:Encrypt
        return kms.decrypt(CiphertextBlob=blob, KeyId=KEY)["Plaintext"].decode()
''', [LOGS, allow("Decrypt", "kms:Decrypt", f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab")],
     env={"KEY_ARN": f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
     about="decrypt is granted on the key, encrypt is not")

case("sts-caller-identity-needs-nothing", '''
    import boto3

    sts = boto3.client("sts")
    s3 = boto3.client("s3")


    def handler(event, context):
        account = sts.get_caller_identity()["Account"]
        s3.put_object(Bucket=f"reports-{account}", Key="r.json", Body=b"{}")  # expect: s3:PutObject
        return account
''', [LOGS], about="GetCallerIdentity needs no permission (a role without any may call it); PutObject is not granted")

case("scheduler-passes-its-role", '''
    import os

    import boto3

    scheduler = boto3.client("scheduler")


    def handler(event, context):
        target = {"RoleArn": os.environ["SCHEDULER_ROLE_ARN"], "Arn": "arn:aws:scheduler:::aws-sdk:ses:sendEmail",
                  "Input": "{}"}
        return scheduler.create_schedule(Name=event["id"], Target=target, FlexibleTimeWindow={"Mode": "OFF"},
                                         ScheduleExpression="at(2030-01-01T00:00:00)")
''', [LOGS, allow("Schedule", "scheduler:CreateSchedule"),
      allow("Pass", "iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/scheduler-ses"),
      allow("Spare", "scheduler:DeleteSchedule")],
     env={"SCHEDULER_ROLE_ARN": f"arn:aws:iam::{ACCOUNT}:role/scheduler-ses"}, unused={"Spare": ["scheduler:DeleteSchedule"]},
     about="create_schedule hands the scheduler a role (Target.RoleArn): iam:PassRole is used, not spare "
           "(serverless-patterns/apigw-dynamodb-lambda-scheduler-ses-auto-deletion-sam)")

case("transcribe-reads-the-media-with-the-role", '''
    import boto3

    transcribe = boto3.client("transcribe")


    def handler(event, context):
        record = event["Records"][0]["s3"]
        uri = f"s3://{record['bucket']['name']}/{record['object']['key']}"
        return transcribe.start_transcription_job(TranscriptionJobName=record["object"]["key"],
                                                  Media={"MediaFileUri": uri}, OutputBucketName="transcripts",
                                                  LanguageCode="en-US")
''', [LOGS, allow("Transcribe", "transcribe:StartTranscriptionJob"),
      allow("Media", ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], "arn:aws:s3:::*")],
     unused={"Media": ["s3:DeleteObject"]},
     about="Transcribe reads the media and writes the transcript with the caller's permissions: s3:GetObject and "
           "s3:PutObject are used, s3:DeleteObject is not (serverless-patterns/s3-lambda-transcribe-sam)")

case("secrets-rotation", '''
    import boto3

    secrets = boto3.client("secretsmanager")


    def handler(event, context):
        arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
        metadata = secrets.describe_secret(SecretId=arn)
        if step == "createSecret":
            password = secrets.get_random_password(ExcludeCharacters="/@\\"")  # expect: secretsmanager:GetRandomPassword
            secrets.put_secret_value(SecretId=arn, ClientRequestToken=token,
                                     SecretString=password["RandomPassword"], VersionStages=["AWSPENDING"])
        elif step == "finishSecret":
            current = next(v for v, stages in metadata["VersionIdsToStages"].items() if "AWSCURRENT" in stages)
            secrets.update_secret_version_stage(SecretId=arn, VersionStage="AWSCURRENT",
                                                MoveToVersionId=token, RemoveFromVersionId=current)
''', [LOGS, allow("Rotate", ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue",
                             "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage"],
                  f"arn:aws:secretsmanager:*:{ACCOUNT}:secret:*")],
     unused={"Rotate": ["secretsmanager:GetSecretValue"]},
     about="a rotation function: GetRandomPassword is forgotten; this step-subset never reads the secret")

case("ses-send", '''
    import os

    import boto3

    ses = boto3.client("sesv2")


    def handler(event, context):
        ses.send_email(  # expect: ses:SendEmail
            FromEmailAddress=os.environ["SENDER"],
            Destination={"ToAddresses": [event["email"]]},
            Content={"Simple": {"Subject": {"Data": "Welcome"}, "Body": {"Text": {"Data": "Hello"}}}},
        )
''', [LOGS, allow("Mail", "ses:SendRawEmail")], env={"SENDER": "hello@example.com"},
     unused={"Mail": ["ses:SendRawEmail"]}, about="the SES v2 client signs as ses: SendEmail, not SendRawEmail")

case("websocket-post", '''
    import json
    import os

    import boto3

    api = boto3.client("apigatewaymanagementapi", endpoint_url=os.environ["CALLBACK_URL"])


    def handler(event, context):
        api.post_to_connection(ConnectionId=event["connectionId"], Data=json.dumps({"ok": True}).encode())
''', [LOGS, allow("Connections", "execute-api:ManageConnections", f"arn:aws:execute-api:*:{ACCOUNT}:*/prod/POST/@connections/*")],
     env={"CALLBACK_URL": "https://abc123.execute-api.us-east-1.amazonaws.com/prod"},
     about="near miss: PostToConnection is authorized as execute-api:ManageConnections")

case("lambda-invoke", '''
    import json
    import os

    import boto3

    lam = boto3.client("lambda")


    def handler(event, context):
        lam.invoke(FunctionName=os.environ["WORKER"], InvocationType="Event", Payload=json.dumps(event))
''', [LOGS, allow("Invoke", ["lambda:InvokeFunction", "lambda:InvokeAsync"],
                  f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:image-worker")],
     env={"WORKER": "image-worker"}, unused={"Invoke": ["lambda:InvokeAsync"]},
     about="Invoke is authorized as lambda:InvokeFunction; InvokeAsync is the deprecated API")

case("eventbridge-put-events", '''
    import json

    import boto3

    events = boto3.client("events")


    def handler(event, context):
        events.put_events(Entries=[{  # expect: events:PutEvents
            "Source": "orders", "DetailType": "OrderPlaced", "Detail": json.dumps(event), "EventBusName": "orders",
        }])
''', [LOGS, allow("Sns", "sns:Publish", f"arn:aws:sns:*:{ACCOUNT}:orders")], unused={"Sns": ["sns:Publish"]},
     about="the function moved from SNS to EventBridge and its role did not")

case("sns-publish-wildcard-action", '''
    import os

    import boto3

    topic = boto3.resource("sns").Topic(os.environ["TOPIC_ARN"])


    def handler(event, context):
        topic.publish(Message=event["message"])
''', [LOGS, allow("Publish", "sns:Pub*", f"arn:aws:sns:eu-west-1:{ACCOUNT}:alerts")],
     env={"TOPIC_ARN": f"arn:aws:sns:eu-west-1:{ACCOUNT}:alerts"}, about="near miss: sns:Pub* covers Publish")

case("unknown-managed-policy", '''
    import boto3

    s3 = boto3.client("s3")


    def handler(event, context):
        return s3.get_object(Bucket="acme-data", Key=event["key"])["Body"].read()
''', [LOGS], policies=["role.json", f"arn:aws:iam::{ACCOUNT}:policy/data-readers"], not_judged=True,
     about="a customer managed policy lpack cannot read: no LP570, one LP572")

case("managed-policy-grants", '''
    import boto3

    kinesis = boto3.client("kinesis")


    def handler(event, context):
        return [s["StreamName"] for s in kinesis.list_streams()["StreamSummaries"]]
''', [LOGS], policies=["role.json", "arn:aws:iam::aws:policy/service-role/AWSLambdaKinesisExecutionRole"],
     about="near miss: the AWS managed policy grants kinesis:ListStreams")

# -- SAM templates ----------------------------------------------------------------------------------

SAM = '''
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  OrdersTable:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
  EventsTable:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
      StreamSpecification: {StreamViewType: NEW_IMAGE}
  Function:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: python3.12
EXTRA      Environment:
        Variables:
          TABLE_NAME: !Ref OrdersTable
      Events:
        Changes:
          Type: DynamoDB
          Properties:
            Stream: !GetAtt EventsTable.StreamArn
            StartingPosition: LATEST
      Policies:
POLICIES
'''


def sam(policies: str, extra: str = "") -> str:
    return SAM.replace("EXTRA", extra).replace("POLICIES", policies)


CONSUMER = '''
    import os

    import boto3

    table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])


    def handler(event, context):
        with table.batch_writer() as batch:
            for record in event["Records"]:
                batch.put_item(Item=record["dynamodb"]["NewImage"])MARK
'''
case("sam-stream-processor", CONSUMER.replace("MARK", ""), template=sam('''\
        - Statement:
            - Effect: Allow
              Action: dynamodb:BatchWriteItem
              Resource: !GetAtt OrdersTable.Arn
            - Effect: Allow
              Action: [sqs:SendMessage]
              Resource: "*"'''), unused={"Action: [sqs:SendMessage]": ["sqs:SendMessage"]},
     about="a stream processor writing to a table of the template (!Ref and !GetAtt); the stream reads are Lambda's")
case("sam-stream-processor-missing", CONSUMER.replace("MARK", "  # expect: dynamodb:BatchWriteItem"), template=sam('''\
        - Statement:
            - Effect: Allow
              Action: [dynamodb:PutItem]
              Resource: !GetAtt OrdersTable.Arn'''),
     about="a batch writer sends BatchWriteItem, which PutItem does not grant")
case("sam-vpc-tracing", CONSUMER.replace("MARK", ""), template=sam('''\
        - Statement:
            - Effect: Allow
              Action: [dynamodb:BatchWriteItem]
              Resource: !GetAtt OrdersTable.Arn
            - Effect: Allow
              Action: [ec2:CreateNetworkInterface, ec2:DescribeNetworkInterfaces, ec2:DeleteNetworkInterface, xray:PutTraceSegments, xray:PutTelemetryRecords]
              Resource: "*"''', extra='''\
      Tracing: Active
      VpcConfig:
        SubnetIds: [subnet-0a1b2c3d]
        SecurityGroupIds: [sg-0a1b2c3d]
'''), about="near miss: ENI and X-Ray actions are what Lambda needs for VpcConfig and Tracing")
case("sam-policy-template", CONSUMER.replace("MARK", ""), template=sam('''\
        - DynamoDBCrudPolicy:
            TableName: !Ref OrdersTable'''),
     about="near miss: SAM's DynamoDBCrudPolicy on the table grants BatchWriteItem")
case("sam-policy-template-read-only", CONSUMER.replace("MARK", "  # expect: dynamodb:BatchWriteItem"), template=sam('''\
        - DynamoDBReadPolicy:
            TableName: !Ref OrdersTable'''),
     about="a read policy template for a function that writes")
case("sam-policy-template-unknown", CONSUMER.replace("MARK", ""), template=sam('''\
        - AWSSecretsManagerRotationPolicy:
            FunctionName: rotate'''), not_judged=True,
     about="a SAM policy template lpack does not expand (its statements use conditions): no LP570, one LP572")


# -- writing ------------------------------------------------------------------------------------------

def write_case(name: str, spec: dict[str, Any]) -> None:
    folder = HERE / name
    if folder.exists():
        shutil.rmtree(folder)
    (folder / "src").mkdir(parents=True)
    for relative, text in spec["files"].items():
        path = folder / "src" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    expected: dict[str, Any] = {"about": spec["about"],
                                "LP570": marked({f"src/{k}": v for k, v in spec["files"].items()}, "LP570")}
    unused = []
    if spec["template"] is not None:
        text = spec["template"].lstrip()
        (folder / "template.yaml").write_text(text, encoding="utf-8")
        # a statement's line is that of its "- Effect" item: the line before its Action here
        lines = text.splitlines()
        unused = [f"template.yaml:{next(i for i, line in enumerate(lines) if marker in line)} {action}"
                  for marker, actions in spec["unused"].items() for action in actions]
    else:
        text = policy_text(spec["statements"])
        (folder / "role.json").write_text(text, encoding="utf-8")
        policies = spec["policies"] or ["role.json"]
        env = "".join(f'{k} = "{v}"\n' for k, v in spec["env"].items())
        (folder / "lpack.toml").write_text(
            f'runtime = "python3.12"\nsource = "src"\n\n[functions.fn]\nhandler = "{spec["entry"]}"\n'
            f"policies = {json.dumps(policies)}\n" + (f"\n[functions.fn.environment]\n{env}" if env else ""),
            encoding="utf-8")
        unused = [f"role.json:{statement_line(text, sid)} {action}"
                  for sid, actions in spec["unused"].items() for action in actions]
    expected["LP571"] = sorted(unused)
    expected["LP572"] = spec["not_judged"]
    (folder / "expected.json").write_text(json.dumps(expected, indent=2) + "\n", encoding="utf-8")


def main() -> None:
    for name, spec in CASES.items():
        write_case(name, spec)
    print(f"{len(CASES)} cases in {HERE}")


if __name__ == "__main__":
    main()
