"""What an event source mapping needs from the function's execution role. Lambda reads a pull
source (a queue, a stream) itself, with the execution role, and refuses to create the mapping when
the role cannot ("The provided execution role does not have permissions to call ReceiveMessage on
SQS"). Push sources (API Gateway, SNS, S3, EventBridge ...) invoke the function through its
resource-based policy and need nothing from the role. Each value with its source; all read on
2026-12-05 (``READ``), in the AWS documentation and in the SAM translator's source.

Left out, and why:
- Kinesis: the Lambda guide (KINESIS_URL, "Create an Kinesis event source mapping") says Lambda
  "needs the following permissions to manage resources related to your Kinesis data stream":
  kinesis:DescribeStream, DescribeStreamSummary, GetRecords, GetShardIterator, ListShards,
  SubscribeToShard (the end of the list was not read). It does not say which of them the mapping
  needs when it is created, nor whether a standard-iterator mapping needs SubscribeToShard (an
  enhanced fan-out call) or an enhanced fan-out one GetRecords; roles written to the older guide
  (DescribeStream, GetRecords, GetShardIterator, ListStreams) are common. Lpack stays quiet rather
  than guess; the AWS managed policy's document is recorded below.
- Amazon MQ, MSK, self-managed Kafka, DocumentDB: their permissions depend on the authentication
  and network configuration (Secrets Manager secrets, VPC interfaces); not judged.
"""

from __future__ import annotations

READ = "2026-12-05"

SQS_URL = ("https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/"
           "sqs-configure-lambda-function-trigger.html")
SQS_ESM_URL = "https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html"
DYNAMODB_URL = ("https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/"
                "iam-policy-example-lamda-process-dynamodb-streams.html")
DYNAMODB_POLICY_URL = ("https://docs.aws.amazon.com/aws-managed-policy/latest/reference/"
                       "AWSLambdaDynamoDBExecutionRole.html")
KINESIS_URL = "https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-create.html"
KINESIS_POLICY_URL = ("https://docs.aws.amazon.com/aws-managed-policy/latest/reference/"
                      "AWSLambdaKinesisExecutionRole.html")
MANAGED_POLICIES_URL = "https://docs.aws.amazon.com/lambda/latest/dg/permissions-managed-policies.html"
SAM_PULL_URL = ("https://github.com/aws/serverless-application-model/blob/develop/"
                "samtranslator/model/eventsources/pull.py")

# SQS_URL, "Prerequisites": "The Lambda execution role must include the following permissions:
# sqs:DeleteMessage, sqs:GetQueueAttributes, sqs:ReceiveMessage".
# DYNAMODB_URL: the permissions policy an execution role needs to read a DynamoDB stream allows
# dynamodb:GetRecords, GetShardIterator, DescribeStream and ListStreams; the AWS managed policy
# AWSLambdaDynamoDBExecutionRole (DYNAMODB_POLICY_URL, v1) allows the same four on "*".
# Keys are the event source kinds lpack.core.features records (a SAM event's Type, or the service
# of an AWS::Lambda::EventSourceMapping's EventSourceArn).
ROLE_ACTIONS: dict[str, tuple[str, ...]] = {
    "SQS": ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"),
    "DynamoDB": ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator",
                 "dynamodb:ListStreams"),
}

# The AWS managed policy that grants each kind's actions (MANAGED_POLICIES_URL), and what the fix names.
_SERVICE_ROLE = "arn:aws:iam::aws:policy/service-role/"
MANAGED_POLICY: dict[str, str] = {
    "SQS": _SERVICE_ROLE + "AWSLambdaSQSQueueExecutionRole",
    "Kinesis": _SERVICE_ROLE + "AWSLambdaKinesisExecutionRole",
    "DynamoDB": _SERVICE_ROLE + "AWSLambdaDynamoDBExecutionRole",
    "MSK": _SERVICE_ROLE + "AWSLambdaMSKExecutionRole",
}

# SAM_PULL_URL (PullEventSource._link_policy, read at commit 00245b65): for a function whose execution
# role SAM generates (no Role: property), each SQS, Kinesis, DynamoDB and MSK event adds its managed
# policy (get_policy_arn) to the role's ManagedPolicyArns; MQ, SelfManagedKafka and DocumentDB add
# inline statements instead (Secrets Manager, mq:DescribeBroker, rds:...). A function with its own
# Role: gets nothing added.
SAM_EVENT_POLICY: dict[str, str] = {kind: MANAGED_POLICY[kind] for kind in ("SQS", "Kinesis", "DynamoDB", "MSK")}

# The two documents AWS publishes (DYNAMODB_POLICY_URL v1, KINESIS_POLICY_URL v2), for whoever
# teaches lpack.iam.managed to read them; AWSLambdaSQSQueueExecutionRole's document was not read.
_LOGS = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
DOCUMENTS: dict[str, dict[str, object]] = {
    MANAGED_POLICY["DynamoDB"]: {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": [*ROLE_ACTIONS["DynamoDB"], *_LOGS], "Resource": "*"}],
    },
    MANAGED_POLICY["Kinesis"]: {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": [
            "kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetRecords",
            "kinesis:GetShardIterator", "kinesis:ListShards", "kinesis:ListStreams", "kinesis:SubscribeToShard",
            *_LOGS], "Resource": "*"}],
    },
}
