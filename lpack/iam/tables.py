"""The IAM facts the policy and role rules judge by: URLs of the pages they cite, action and
condition-key tables, and IAM's size quotas. Each table says where it comes from.

Actions and condition keys are lower-cased, as IAM compares them case-insensitively. Action names
and access levels are those of the Service Authorization Reference, as the offline action database
(``lpack.iam.actions``) holds them; tests/rules/test_iam_privilege.py checks the bulk-read and exposure
tables against it.
https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html
Global condition keys: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
"""

from __future__ import annotations

from typing import NamedTuple

from lpack.core.limits import QUOTAS_URL

EXECUTION_ROLE_URL = "https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html"
RESOURCE_POLICY_URL = "https://docs.aws.amazon.com/lambda/latest/dg/access-control-resource-based.html"
PERMISSIONS_URL = "https://docs.aws.amazon.com/lambda/latest/dg/lambda-permissions.html"
IAM_QUOTAS_URL = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html"


# -- actions and condition keys (the least-privilege rules, LP520-LP559) --------------------------

# Services whose `svc:*` on `Resource: "*"` hands over identities, keys, code or all data: error.
SENSITIVE_SERVICES = frozenset({"iam", "sts", "kms", "lambda", "s3", "secretsmanager", "organizations"})

# Actions that support resource-level permissions but are granted on "*" by AWS's own managed
# policies for Lambda; lpack keeps quiet about them on "*" (LP532), each with its reason.
STAR_IS_NORMAL = {
    # AWSLambdaBasicExecutionRole: the function's own log group and streams.
    "logs:createloggroup": "AWSLambdaBasicExecutionRole",
    "logs:createlogstream": "AWSLambdaBasicExecutionRole",
    "logs:putlogevents": "AWSLambdaBasicExecutionRole",
    # The only resource type is an optional CloudWatch dataset; a call without one needs "*".
    "cloudwatch:putmetricdata": "optional dataset resource type",
    # AWSLambdaVPCAccessExecutionRole: the network interfaces Lambda creates in the VPC.
    "ec2:createnetworkinterface": "AWSLambdaVPCAccessExecutionRole",
    "ec2:deletenetworkinterface": "AWSLambdaVPCAccessExecutionRole",
    "ec2:assignprivateipaddresses": "AWSLambdaVPCAccessExecutionRole",
    "ec2:unassignprivateipaddresses": "AWSLambdaVPCAccessExecutionRole",
    "ec2:detachnetworkinterface": "SAM's VPCAccessPolicy template (Lambda's network interfaces)",
}

# API operations that are not IAM actions: IAM authorizes each with the action named here, and a
# policy naming the operation grants nothing by that name (LP526). SQS: "Amazon SQS API permissions"
# (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-api-permissions-reference.html);
# S3: the API reference's Permissions section of HeadObject, HeadBucket, ListObjects(V2).
AUTHORIZED_BY = {
    "sqs:sendmessagebatch": "sqs:SendMessage",
    "sqs:deletemessagebatch": "sqs:DeleteMessage",
    "sqs:changemessagevisibilitybatch": "sqs:ChangeMessageVisibility",
    "s3:headobject": "s3:GetObject",
    "s3:headbucket": "s3:ListBucket",
    "s3:listobjects": "s3:ListBucket",
    "s3:listobjectsv2": "s3:ListBucket",
}

# Actions that let a role raise its own privileges whatever resource they name (LP541).
ESCALATION_ACTIONS = frozenset({
    "iam:createpolicyversion", "iam:setdefaultpolicyversion",
    "iam:attachuserpolicy", "iam:attachgrouppolicy", "iam:attachrolepolicy",
    "iam:putuserpolicy", "iam:putgrouppolicy", "iam:putrolepolicy",
    "iam:updateassumerolepolicy", "iam:createaccesskey", "iam:createloginprofile",
    "iam:updateloginprofile", "iam:addusertogroup",
})
# IAM's documented "users manage their own credentials" pattern (`user/${aws:username}`).
SELF_SERVICE_ACTIONS = frozenset({"iam:createaccesskey", "iam:createloginprofile", "iam:updateloginprofile"})
FUNCTION_WRITERS = frozenset({"lambda:createfunction", "lambda:updatefunctioncode"})

# Actions that hand out secrets or credentials (LP543); ecr:GetAuthorizationToken is not here: it
# supports only "*" and every image pull needs it.
CREDENTIAL_ACTIONS = frozenset({
    "secretsmanager:getsecretvalue", "ssm:getparameter", "ssm:getparameters",
    "ssm:getparametersbypath", "ssm:getparameterhistory", "kms:decrypt", "sts:getfederationtoken",
})

# Bulk data reads (LP544): Read-level actions of the data plane that return the stored data itself
# (objects, items, records, messages, log events, query results). The Write-level copies
# (dynamodb:ExportTableToPointInTime, rds:CopyDBSnapshot, ec2:CreateSnapshot) are not reads;
# sharing a copy outside the account is LP545 (ec2:ModifySnapshotAttribute, ...).
BULK_READ_ACTIONS = frozenset({
    "s3:getobject", "s3:getobjectversion",
    "dynamodb:scan", "dynamodb:query", "dynamodb:getitem", "dynamodb:batchgetitem",
    "dynamodb:partiqlselect", "dynamodb:getrecords",
    "kinesis:getrecords", "kinesis:subscribetoshard", "sqs:receivemessage",
    "logs:getlogevents", "logs:filterlogevents", "logs:startquery", "athena:getqueryresults",
    "timestream:select", "es:eshttpget", "glacier:getjoboutput", "ebs:getsnapshotblock",
    "codecommit:gitpull",
})

# Listing actions that return the names of stored data (object keys and versions): an action
# wildcard reaching them reaches data the author may not have meant to expose (LP531).
DATA_LISTING_ACTIONS = frozenset({"s3:listbucket", "s3:listbucketversions"})

# What an action wildcard must not reach unseen (LP531): bulk data reads, secrets and credentials,
# and the listing of stored data. All are Read or List in the action data except kms:Decrypt (Write).
SENSITIVE_READS = BULK_READ_ACTIONS | CREDENTIAL_ACTIONS | DATA_LISTING_ACTIONS

# Actions that change a resource policy, ACL or sharing (LP545). iam:UpdateAssumeRolePolicy is
# LP541's. All are Permissions management in the action data except the Lambda function URL,
# RAM and EC2/RDS attribute actions (Write), which share a resource all the same.
EXPOSURE_ACTIONS = frozenset({
    "s3:putbucketpolicy", "s3:deletebucketpolicy", "s3:putbucketacl", "s3:putobjectacl",
    "s3:putobjectversionacl", "s3:putaccesspointpolicy", "s3:putbucketpublicaccessblock",
    "lambda:addpermission", "lambda:addlayerversionpermission",
    "lambda:createfunctionurlconfig", "lambda:updatefunctionurlconfig",
    "sqs:setqueueattributes", "sqs:addpermission", "sns:settopicattributes", "sns:addpermission",
    "kms:putkeypolicy", "kms:creategrant", "secretsmanager:putresourcepolicy",
    "ecr:setrepositorypolicy", "glacier:setvaultaccesspolicy", "ram:createresourceshare",
    "ec2:modifysnapshotattribute", "ec2:modifyimageattribute",
    "rds:modifydbsnapshotattribute", "rds:modifydbclustersnapshotattribute",
})

# Condition keys that limit callers to an account, organization or source resource (LP550/LP551).
ACCOUNT_KEYS = frozenset({
    "aws:sourceaccount", "aws:sourcearn", "aws:sourceowner", "aws:sourceorgid", "aws:sourceorgpaths",
    "aws:principalorgid", "aws:principalorgpaths", "aws:principalaccount", "aws:principalarn",
    "aws:sourcevpc", "aws:sourcevpce",
})
SOURCE_KEYS = frozenset({
    "aws:sourcearn", "aws:sourceaccount", "aws:sourceowner", "aws:sourceorgid", "aws:sourceorgpaths",
})
# Multivalued global keys (the global condition keys page says "Multivalued" for these): a set
# operator belongs on them, and `ForAnyValue:StringLike aws:PrincipalOrgPaths` is AWS's own example.
MULTIVALUED_KEYS = frozenset({
    "aws:principalorgpaths", "aws:sourceorgpaths", "aws:resourceorgpaths", "aws:tagkeys",
    "aws:calledvia", "aws:principalservicenameslist",
})
# Single-valued keys: `ForAllValues:` on them is true when the key is absent or its set empty (LP552).
SINGLE_VALUED_KEYS = (ACCOUNT_KEYS - MULTIVALUED_KEYS) | {
    "aws:sourceip", "aws:principaltype", "aws:userid", "aws:username", "aws:requestedregion",
    "aws:securetransport", "aws:multifactorauthpresent", "aws:resourceaccount", "iam:passedtoservice",
    "kms:viaservice", "kms:calleraccount", "lambda:functionurlauthtype",
}


# -- the execution role (LP560-LP599) -------------------------------------------------------------

# What a function needs to write its logs (AWSLambdaBasicExecutionRole, EXECUTION_ROLE_URL).
LOG_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")


# -- size quotas (IAM_QUOTAS_URL; a function's resource-based policy: QUOTAS_URL) ------------------

class SizeQuota(NamedTuple):
    value: int
    unit: str
    counted: str
    source: str


# Policy size quotas by policy kind (shared/LAMBDA-FACTS.md section 8).
SIZE_QUOTAS = {
    "identity": SizeQuota(6_144, "characters", "non-whitespace characters (managed policy quota)",
                          IAM_QUOTAS_URL),
    "trust": SizeQuota(2_048, "characters", "non-whitespace characters (role trust policy quota, "
                       "adjustable to 4,096)", IAM_QUOTAS_URL),
    "resource": SizeQuota(20_480, "bytes", "bytes of the compact JSON (Lambda function resource-based "
                          "policy, 20 KB)", QUOTAS_URL),
}
MANAGED_PER_ROLE = (10, 20)  # managed policies attached to a role: default quota, and the most it can be raised to
INLINE_PER_ROLE = 10_240  # non-whitespace characters, all inline policies of a role together
