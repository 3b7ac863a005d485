"""Sample test events: every file ships, parses, has the shape its trigger sends, and fits Lambda."""

from __future__ import annotations

import base64
import gzip
import json
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

import pytest

from lpack.core import limits
from lpack.core.errors import UsageError
from lpack.inputs import events

REQUIRED = {
    "s3-put",
    "s3-delete",
    "sqs",
    "sns",
    "api-gateway-proxy",
    "http-api",
    "function-url",
    "alb",
    "eventbridge",
    "scheduled",
    "dynamodb-stream",
    "kinesis",
    "cloudwatch-logs",
    "cognito-pre-signup",
    "cloudformation-custom-resource",
}
ALL = events.names()


def b64decode(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def shipped_files() -> set[str]:
    folder = resources.files("lpack") / "data" / "events"
    return {f.name.removesuffix(".json") for f in folder.iterdir() if f.name.endswith(".json")}


def test_names_are_sorted_and_cover_the_required_samples() -> None:
    assert ALL == sorted(ALL)
    assert REQUIRED <= set(ALL)


def test_names_match_the_shipped_files() -> None:
    assert set(ALL) == shipped_files()


@pytest.mark.parametrize("name", ALL)
def test_sample_json_is_a_pretty_json_object(name: str) -> None:
    text = events.sample_json(name)
    data = json.loads(text)
    assert isinstance(data, dict) and data
    assert text == json.dumps(data, indent=2) + "\n"
    assert events.event(name) == data


@pytest.mark.parametrize("name", ALL)
def test_metadata(name: str) -> None:
    s = events.sample(name)
    assert s.name == name
    assert s.invocation in {"sync", "async"}
    assert s.summary and "\n" not in s.summary
    url = urlsplit(s.source)
    assert (url.scheme, url.netloc) == ("https", "docs.aws.amazon.com")
    assert url.path.endswith(".html")


@pytest.mark.parametrize(
    ("name", "invocation"),
    [
        ("s3-put", "async"),
        ("sns", "async"),
        ("eventbridge", "async"),
        ("scheduled", "async"),
        ("cloudwatch-logs", "async"),
        ("api-gateway-proxy", "sync"),
        ("http-api", "sync"),
        ("function-url", "sync"),
        ("alb", "sync"),
        ("cognito-pre-signup", "sync"),
        ("sqs", "sync"),
        ("kinesis", "sync"),
        ("dynamodb-stream", "sync"),
    ],
)
def test_invocation_type_matches_the_trigger(name: str, invocation: str) -> None:
    assert events.sample(name).invocation == invocation


@pytest.mark.parametrize("name", ALL)
def test_fits_the_payload_limit_of_its_invocation_type(name: str) -> None:
    limit = {"sync": limits.SYNC_PAYLOAD, "async": limits.ASYNC_PAYLOAD}[
        events.sample(name).invocation
    ]
    assert len(events.sample_json(name).encode("utf-8")) <= limit.value


@pytest.mark.parametrize("name", ALL)
def test_uses_neutral_placeholder_values(name: str) -> None:
    text = events.sample_json(name)
    for arn_account in text.split("arn:aws:")[1:]:
        parts = arn_account.split(":")
        # arn:aws:SERVICE:REGION:ACCOUNT:... -- S3 bucket ARNs have neither region nor account
        assert parts[1] in {"", "us-east-1"}, arn_account[:80]
        assert parts[2] in {"", "123456789012"}, arn_account[:80]


def test_unknown_name_suggests_the_closest() -> None:
    with pytest.raises(UsageError) as info:
        events.sample("s3-puts")
    assert str(info.value) == (
        "no sample event 's3-puts'; did you mean 's3-put'? `lpack events` lists them"
    )


def test_unknown_name_without_a_close_match() -> None:
    with pytest.raises(UsageError, match=r"^no sample event 'zzz'; `lpack events` lists them$"):
        events.sample_json("zzz")


def test_a_path_is_not_a_sample_name() -> None:
    with pytest.raises(UsageError):
        events.sample_json("../events/sqs")


# --- shapes, as the documentation at each sample's source describes them ---


def record(name: str) -> dict[str, Any]:
    records: list[dict[str, Any]] = events.event(name)["Records"]
    assert records
    return records[0]


@pytest.mark.parametrize(
    ("name", "kind"), [("s3-put", "ObjectCreated:"), ("s3-delete", "ObjectRemoved:")]
)
def test_s3(name: str, kind: str) -> None:
    r = record(name)
    assert r["eventSource"] == "aws:s3"
    assert r["eventName"].startswith(kind)
    assert r["s3"]["bucket"]["name"] == "amzn-s3-demo-bucket"
    assert r["s3"]["bucket"]["arn"] == "arn:aws:s3:::amzn-s3-demo-bucket"
    assert isinstance(r["s3"]["object"]["key"], str)
    assert r["eventTime"].startswith("2026-")


def test_s3_put_has_size_and_etag_and_delete_does_not() -> None:
    put, delete = record("s3-put")["s3"]["object"], record("s3-delete")["s3"]["object"]
    assert isinstance(put["size"], int) and isinstance(put["eTag"], str)
    assert "size" not in delete and "eTag" not in delete


@pytest.mark.parametrize("name", ["sqs", "sqs-fifo"])
def test_sqs_body_is_a_string(name: str) -> None:
    for r in events.event(name)["Records"]:
        assert r["eventSource"] == "aws:sqs"
        assert isinstance(r["body"], str)
        json.loads(r["body"])
        assert all(isinstance(v, str) for v in r["attributes"].values())


def test_sqs_fifo_has_message_group_and_fifo_queue() -> None:
    r = record("sqs-fifo")
    assert r["eventSourceARN"].endswith(".fifo")
    assert {"MessageGroupId", "MessageDeduplicationId", "SequenceNumber"} <= set(r["attributes"])


def test_sns_message_is_a_string() -> None:
    r = record("sns")
    assert r["EventSource"] == "aws:sns"
    assert isinstance(r["Sns"]["Message"], str)
    assert r["Sns"]["TopicArn"].startswith("arn:aws:sns:us-east-1:123456789012:")


def test_api_gateway_proxy() -> None:
    e = events.event("api-gateway-proxy")
    assert e["httpMethod"] == e["requestContext"]["httpMethod"]
    assert e["requestContext"]["accountId"] == "123456789012"
    assert isinstance(e["requestContext"]["identity"]["sourceIp"], str)
    assert e["body"] is None or isinstance(e["body"], str)
    assert isinstance(e["isBase64Encoded"], bool)
    assert all(isinstance(v, list) for v in e["multiValueHeaders"].values())
    assert "version" not in e


@pytest.mark.parametrize("name", ["http-api", "function-url"])
def test_payload_version_2(name: str) -> None:
    e = events.event(name)
    assert e["version"] == "2.0"
    assert isinstance(e["rawPath"], str) and isinstance(e["rawQueryString"], str)
    assert isinstance(e["requestContext"]["http"]["method"], str)
    assert "httpMethod" not in e and "multiValueHeaders" not in e
    assert all(k == k.lower() for k in e["headers"])
    assert isinstance(e["isBase64Encoded"], bool)
    assert e.get("body") is None or isinstance(e["body"], str)


def test_function_url_host_is_a_lambda_url() -> None:
    e = events.event("function-url")
    assert e["routeKey"] == "$default"
    assert e["requestContext"]["domainName"].endswith(".lambda-url.us-east-1.on.aws")


def test_alb() -> None:
    e = events.event("alb")
    assert e["requestContext"]["elb"]["targetGroupArn"].startswith(
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/"
    )
    assert isinstance(e["httpMethod"], str) and isinstance(e["path"], str)
    assert isinstance(e["body"], str) and isinstance(e["isBase64Encoded"], bool)


@pytest.mark.parametrize("name", ["eventbridge", "scheduled"])
def test_eventbridge_envelope(name: str) -> None:
    e = events.event(name)
    assert {
        "version",
        "id",
        "detail-type",
        "source",
        "account",
        "time",
        "region",
        "resources",
    } <= set(e)
    assert isinstance(e["detail"], dict)
    assert e["time"].startswith("2026-")


def test_eventbridge_custom_event_is_not_from_aws() -> None:
    e = events.event("eventbridge")
    assert not e["source"].startswith("aws.")
    assert e["detail"]


def test_scheduled_event() -> None:
    e = events.event("scheduled")
    assert (e["detail-type"], e["source"], e["detail"]) == ("Scheduled Event", "aws.events", {})
    assert e["resources"][0].startswith("arn:aws:events:us-east-1:123456789012:rule/")


def attribute_value(value: dict[str, Any]) -> None:
    """A DynamoDB attribute value: one type descriptor and a value of the right JSON type."""
    assert len(value) == 1
    ((kind, inner),) = value.items()
    if kind in {"S", "N", "B"}:
        assert isinstance(inner, str)
    elif kind == "BOOL":
        assert isinstance(inner, bool)
    elif kind == "NULL":
        assert inner is True
    elif kind == "L":
        for item in inner:
            attribute_value(item)
    elif kind == "M":
        for item in inner.values():
            attribute_value(item)
    else:
        assert kind in {"SS", "NS", "BS"} and all(isinstance(i, str) for i in inner)


def test_dynamodb_stream_images_are_attribute_value_maps() -> None:
    records = events.event("dynamodb-stream")["Records"]
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    for r in records:
        assert r["eventSource"] == "aws:dynamodb"
        images = [r["dynamodb"][k] for k in ("Keys", "NewImage", "OldImage") if k in r["dynamodb"]]
        for image in images:
            for value in image.values():
                attribute_value(value)
    assert "OldImage" not in records[0]["dynamodb"] and "NewImage" not in records[2]["dynamodb"]


def test_kinesis_data_is_base64_json() -> None:
    for r in events.event("kinesis")["Records"]:
        assert r["eventSource"] == "aws:kinesis"
        assert isinstance(json.loads(b64decode(r["kinesis"]["data"])), dict)


def test_msk_key_and_value_are_base64() -> None:
    e = events.event("msk")
    assert e["eventSource"] == "aws:kafka"
    for batch in e["records"].values():
        for r in batch:
            b64decode(r["key"])
            json.loads(b64decode(r["value"]))


def test_cloudwatch_logs_data_is_base64_gzip_json() -> None:
    data = events.event("cloudwatch-logs")["awslogs"]["data"]
    payload = json.loads(gzip.decompress(b64decode(data)))
    assert payload["messageType"] == "DATA_MESSAGE"
    assert payload["owner"] == "123456789012"
    assert isinstance(payload["logGroup"], str) and isinstance(payload["logStream"], str)
    assert payload["subscriptionFilters"]
    assert payload["logEvents"]
    for log_event in payload["logEvents"]:
        assert isinstance(log_event["id"], str)
        assert isinstance(log_event["timestamp"], int)
        assert isinstance(log_event["message"], str)


def test_cognito_pre_signup() -> None:
    e = events.event("cognito-pre-signup")
    assert e["triggerSource"] == "PreSignUp_SignUp"
    assert e["userPoolId"].startswith("us-east-1_")
    assert isinstance(e["request"]["userAttributes"], dict)
    assert e["response"] == {
        "autoConfirmUser": False,
        "autoVerifyEmail": False,
        "autoVerifyPhone": False,
    }


def test_cloudformation_custom_resource() -> None:
    e = events.event("cloudformation-custom-resource")
    assert e["RequestType"] in {"Create", "Update", "Delete"}
    assert urlsplit(e["ResponseURL"]).scheme == "https"
    assert e["StackId"].startswith("arn:aws:cloudformation:us-east-1:123456789012:stack/")
    assert e["ResourceType"].startswith("Custom::")
    assert e["ResourceProperties"]["ServiceToken"] == e["ServiceToken"]
    assert {"RequestId", "LogicalResourceId"} <= set(e)
