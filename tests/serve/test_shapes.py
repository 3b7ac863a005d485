"""Each request becomes the event AWS sends for its trigger, field by field as AWS's documentation
shows it, and each handler result becomes the response that trigger sends back (or BadResponse)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from lpack.serve.routes import ALB, CATCH_ALL, FUNCTION_URL, REST, V2, Route
from lpack.serve.shapes import (
    BadResponse,
    HttpRequest,
    HttpResponse,
    error_response,
    to_event,
    to_response,
)

NOW_MS = 1_583_348_638_390  # 04/Mar/2020:19:03:58 +0000, the time in API Gateway's sample events
REST_ROUTE = Route("Fn", REST, "GET", "/my/path", "/my/path", "Prod", "test")
V2_ROUTE = Route("Fn", V2, "ANY", "/my/{name}", "/my/{name}", "$default", "test", payload_version="2.0")
URL_ROUTE = Route("Fn", FUNCTION_URL, "ANY", CATCH_ALL, CATCH_ALL, "$default", "test")
ALB_ROUTE = Route("Fn", ALB, "ANY", CATCH_ALL, CATCH_ALL, "", "test")


def request(method: str = "GET", path: str = "/my/path", query: str = "", body: bytes = b"",
            headers: list[tuple[str, str]] | None = None) -> HttpRequest:
    return HttpRequest(method, path, query, headers if headers is not None else [
        ("Host", "127.0.0.1:3000"), ("User-Agent", "curl/8.5.0"), ("Accept", "*/*")], body, "192.0.2.7",
        "127.0.0.1:3000")


def event(route: Route, req: HttpRequest, params: dict[str, str] | None = None) -> dict[str, Any]:
    return to_event(route, params or {}, req, request_id="c6af9ac6-7b61-11e6-9a41-93e8deadbeef", now_ms=NOW_MS)


# -- REST API (v1) ---------------------------------------------------------------------------------
# https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html
# ("Input format of a Lambda function for proxy integration")

def test_rest_event_has_every_field_of_the_documented_input_format() -> None:
    got = event(REST_ROUTE, request(query="parameter1=value1&parameter1=value2&parameter2=value",
                                    headers=[("Host", "127.0.0.1:3000"), ("header1", "value1"),
                                             ("header2", "value1"), ("header2", "value2")]))
    assert list(got) == ["resource", "path", "httpMethod", "headers", "multiValueHeaders", "queryStringParameters",
                         "multiValueQueryStringParameters", "requestContext", "pathParameters", "stageVariables",
                         "body", "isBase64Encoded"]
    assert got["resource"] == "/my/path" and got["path"] == "/my/path" and got["httpMethod"] == "GET"
    # the documented sample: headers keep the last value, multiValueHeaders all of them, names as sent
    assert got["headers"]["header1"] == "value1" and got["headers"]["header2"] == "value2"
    assert got["multiValueHeaders"]["header2"] == ["value1", "value2"]
    assert got["queryStringParameters"] == {"parameter1": "value2", "parameter2": "value"}
    assert got["multiValueQueryStringParameters"] == {"parameter1": ["value1", "value2"], "parameter2": ["value"]}
    assert (got["pathParameters"], got["stageVariables"], got["body"], got["isBase64Encoded"]) == (
        None, None, None, False)
    context = got["requestContext"]
    assert context["path"] == "/Prod/my/path" and context["stage"] == "Prod"
    assert context["resourcePath"] == "/my/path" and context["httpMethod"] == "GET"
    assert context["requestTime"] == "04/Mar/2020:19:03:58 +0000" and context["requestTimeEpoch"] == NOW_MS
    assert context["identity"]["sourceIp"] == "192.0.2.7" and context["identity"]["caller"] is None
    assert context["requestId"] == "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"


def test_rest_event_without_query_has_null_query_fields_and_keeps_header_case() -> None:
    got = event(REST_ROUTE, request())
    assert got["queryStringParameters"] is None and got["multiValueQueryStringParameters"] is None
    assert got["headers"]["User-Agent"] == "curl/8.5.0" and "user-agent" not in got["headers"]
    assert got["headers"]["X-Forwarded-For"] == "192.0.2.7"


def test_rest_body_is_base64_only_for_binary_media_types() -> None:
    png = b"\x89PNG\r\n\x1a\n\x00"
    post = request("POST", body=png, headers=[("Host", "h"), ("Content-Type", "image/png")])
    assert event(REST_ROUTE, post)["isBase64Encoded"] is False  # no BinaryMediaTypes: passed as text
    binary_route = REST_ROUTE._replace(binary_types=("image~1png",))
    got = event(binary_route, post)
    assert got["isBase64Encoded"] is True and base64.b64decode(got["body"]) == png
    text = request("POST", body=b'{"a": 1}', headers=[("Content-Type", "application/json")])
    assert event(binary_route, text)["body"] == '{"a": 1}'


def test_rest_path_parameters_are_passed() -> None:
    route = REST_ROUTE._replace(path="/items/{id}", resource="/items/{id}")
    got = event(route, request(path="/items/42"), {"id": "42"})
    assert got["pathParameters"] == {"id": "42"} and got["resource"] == "/items/{id}"


# -- HTTP API (v2) ---------------------------------------------------------------------------------
# https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
# ("Payload format version": the 2.0 sample)

def test_http_api_event_matches_the_documented_2_0_sample() -> None:
    got = event(V2_ROUTE, request(path="/my/path", query="parameter1=value1&parameter1=value2&parameter2=value",
                                  headers=[("Host", "127.0.0.1:3000"), ("Header1", "value1"), ("Header2", "value1"),
                                           ("Header2", "value2"), ("Cookie", "cookie1; cookie2")]),
                {"name": "path"})
    assert got["version"] == "2.0" and got["routeKey"] == "ANY /my/{name}"
    assert got["rawPath"] == "/my/path"
    assert got["rawQueryString"] == "parameter1=value1&parameter1=value2&parameter2=value"
    assert got["cookies"] == ["cookie1", "cookie2"]
    assert got["headers"]["header1"] == "value1" and got["headers"]["header2"] == "value1,value2"
    assert "cookie" not in got["headers"]
    assert got["queryStringParameters"] == {"parameter1": "value1,value2", "parameter2": "value"}
    assert got["pathParameters"] == {"name": "path"}
    assert "body" not in got and got["isBase64Encoded"] is False
    context = got["requestContext"]
    assert context["http"] == {"method": "GET", "path": "/my/path", "protocol": "HTTP/1.1",
                               "sourceIp": "192.0.2.7", "userAgent": ""}
    assert context["routeKey"] == "ANY /my/{name}" and context["stage"] == "$default"
    assert context["time"] == "04/Mar/2020:19:03:58 +0000" and context["timeEpoch"] == NOW_MS


def test_http_api_named_stage_is_the_first_segment_of_raw_path() -> None:
    got = event(V2_ROUTE._replace(stage="beta"), request(path="/my/x"), {"name": "x"})
    assert got["rawPath"] == "/beta/my/x" and got["requestContext"]["http"]["path"] == "/beta/my/x"
    assert got["requestContext"]["stage"] == "beta"


def test_front_doors_add_trace_and_forwarded_headers_unless_sent() -> None:
    got = event(V2_ROUTE, request(headers=[("Host", "h:8080"), ("X-Forwarded-For", "203.0.113.9")]))
    assert got["headers"]["x-forwarded-for"] == "203.0.113.9" and got["headers"]["x-forwarded-port"] == "3000"
    trace = got["headers"]["x-amzn-trace-id"]
    assert trace.startswith("Root=1-5e5ffb9e-") and len(trace) == len("Root=1-") + 8 + 1 + 24


def test_http_api_default_route_and_absent_optional_fields() -> None:
    route = V2_ROUTE._replace(path=CATCH_ALL, resource="$default")
    got = event(route, request(path="/anything"))
    assert got["routeKey"] == "$default" and got["requestContext"]["routeKey"] == "$default"
    for absent in ("cookies", "queryStringParameters", "pathParameters", "body"):
        assert absent not in got


@pytest.mark.parametrize(("content_type", "binary"), [
    ("application/json", False), ("text/plain; charset=utf-8", False), ("application/problem+json", False),
    ("application/x-www-form-urlencoded", True), ("image/png", True), ("application/octet-stream", True),
])
def test_http_api_and_function_url_base64_encode_non_text_bodies(content_type: str, binary: bool) -> None:
    body = b"a=1&b=%20"
    for route in (V2_ROUTE, URL_ROUTE):
        got = event(route, request("POST", body=body, headers=[("Content-Type", content_type)]))
        assert got["isBase64Encoded"] is binary
        assert (base64.b64decode(got["body"]) if binary else got["body"].encode()) == body


def test_http_api_payload_1_0_is_the_rest_shape_with_a_version() -> None:
    route = V2_ROUTE._replace(payload_version="1.0", path="/my/path", resource="/my/path")
    got = event(route, request(headers=[("Host", "h"), ("X-Thing", "a"), ("X-Thing", "b")]))
    assert got["version"] == "1.0" and got["multiValueHeaders"]["x-thing"] == ["a", "b"]
    assert got["requestContext"]["path"] == "/my/path"


# -- function URL ------------------------------------------------------------------------------------
# https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html ("Request payload format")

def test_function_url_event_is_the_2_0_shape_with_default_route_and_lambda_url_domain() -> None:
    got = event(URL_ROUTE, request(path="/my/path", query="message=hello"))
    assert got["routeKey"] == "$default" and got["rawPath"] == "/my/path" and got["rawQueryString"] == "message=hello"
    assert got["queryStringParameters"] == {"message": "hello"}
    assert (got["pathParameters"], got["stageVariables"], got["isBase64Encoded"]) == (None, None, False)
    context = got["requestContext"]
    assert context["domainName"].endswith(".lambda-url.us-east-1.on.aws")
    assert context["domainPrefix"] == context["apiId"] and context["stage"] == "$default"


# -- ALB ---------------------------------------------------------------------------------------------
# https://docs.aws.amazon.com/elasticloadbalancing/latest/application/lambda-functions.html
# ("Receive events from the load balancer", "Multi-value headers")

def test_alb_event_keeps_query_strings_encoded_and_last_values() -> None:
    got = event(ALB_ROUTE, request(query="myKey=val1&myKey=val2&sp=a%20b", headers=[("Host", "h"), ("Accept", "x")]))
    assert set(got) == {"requestContext", "httpMethod", "path", "queryStringParameters", "headers", "body",
                        "isBase64Encoded"}
    assert got["requestContext"]["elb"]["targetGroupArn"].startswith("arn:aws:elasticloadbalancing:")
    assert got["queryStringParameters"] == {"myKey": "val2", "sp": "a%20b"}
    assert got["headers"]["accept"] == "x" and got["body"] == "" and got["isBase64Encoded"] is False


def test_alb_multi_value_event() -> None:
    got = event(ALB_ROUTE._replace(multi_value=True), request(query="myKey=val1&myKey=val2"))
    assert got["multiValueQueryStringParameters"] == {"myKey": ["val1", "val2"]}
    assert "headers" not in got and got["multiValueHeaders"]["host"] == ["127.0.0.1:3000"]


# -- responses ---------------------------------------------------------------------------------------
# https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html
# ("Output format of a Lambda function for proxy integration")

def test_rest_response_merges_headers_and_multi_value_headers() -> None:
    # "If the same key-value pair is specified in both, only the values from multiValueHeaders will
    # appear in the merged list."
    got = to_response(REST_ROUTE, {"statusCode": 201, "headers": {"X-A": "1", "X-B": "single", "X-C": "m1"},
                                   "multiValueHeaders": {"X-C": ["m1", "m2"], "Set-Cookie": ["a=1", "b=2"]},
                                   "body": "made"})
    assert got == HttpResponse(201, [("X-A", "1"), ("X-B", "single"), ("X-C", "m1"), ("X-C", "m2"),
                                     ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"),
                                     ("Content-Type", "application/json")], b"made")


def test_http_api_payload_1_0_needs_the_rest_response_format_but_takes_other_keys() -> None:
    route = V2_ROUTE._replace(payload_version="1.0")
    with pytest.raises(BadResponse, match="the response is a string"):
        to_response(route, "hello")
    assert to_response(route, {"statusCode": 204, "extra": 1}) == HttpResponse(204, [], b"")


@pytest.mark.parametrize(("result", "reason"), [
    ("hello", "the response is a string, not a JSON object with statusCode"),
    (None, "the response is null, not a JSON object with statusCode"),
    ({"body": "x"}, "the response has no statusCode"),
    ({"statusCode": "abc"}, "statusCode is a string, not an integer"),
    ({"statusCode": True}, "statusCode is a boolean, not an integer"),
    ({"statusCode": 700}, "statusCode 700 is not an HTTP status (100-599)"),
    ({"statusCode": 200, "body": {"a": 1}}, "body is a JSON object, not a string; return json.dumps(...) of it"),
    ({"statusCode": 200, "headers": ["a"]}, "headers is a list, not a JSON object"),
    ({"statusCode": 200, "headers": {"a": None}}, "header 'a' is null, not a string"),
    ({"statusCode": 200, "multiValueHeaders": {"a": "b"}}, "multiValueHeaders['a'] is a string, not a list"),
    ({"statusCode": 200, "isBase64Encoded": "yes"}, "isBase64Encoded is a string, not true or false"),
    ({"statusCode": 200, "extra": 1}, "the response has keys a proxy integration does not take: extra"),
], ids=["string", "null", "no-status", "status-text", "status-bool", "status-range", "body-object", "headers-list",
        "header-null", "multi-not-list", "flag-text", "extra-key"])
def test_malformed_rest_responses_are_bad_responses_with_their_reason(result: object, reason: str) -> None:
    with pytest.raises(BadResponse) as caught:
        to_response(REST_ROUTE, result)
    assert caught.value.reason == reason


@pytest.mark.parametrize("result", ["hello", {"message": "hi"}, [1, 2], 42, None])
def test_http_api_takes_a_bare_value_as_the_json_body(result: object) -> None:
    for route in (V2_ROUTE, URL_ROUTE):
        got = to_response(route, result)
        assert got.status == 200 and got.headers == [("content-type", "application/json")]
        assert json.loads(got.body) == result


def test_a_bare_value_keeps_the_functions_own_text_when_given() -> None:
    assert to_response(V2_ROUTE, {"a": 1}, raw='{"a":1}').body == b'{"a":1}'


def test_the_region_names_the_function_url_domain_and_target_group() -> None:
    url = to_event(URL_ROUTE, {}, request(), request_id="r", now_ms=NOW_MS, region="eu-west-1")
    assert url["requestContext"]["domainName"] == "local.lambda-url.eu-west-1.on.aws"
    alb = to_event(ALB_ROUTE, {}, request(), request_id="r", now_ms=NOW_MS, region="eu-west-1")
    assert alb["requestContext"]["elb"]["targetGroupArn"].startswith("arn:aws:elasticloadbalancing:eu-west-1:")


def test_http_api_cookies_become_set_cookie_headers_and_base64_bodies_are_decoded() -> None:
    got = to_response(V2_ROUTE, {"statusCode": 200, "headers": {"content-type": "image/png"},
                                 "cookies": ["a=1; Path=/", "b=2"], "isBase64Encoded": True,
                                 "body": base64.b64encode(b"\x89PNG").decode()})
    assert got == HttpResponse(200, [("content-type", "image/png"), ("set-cookie", "a=1; Path=/"),
                                     ("set-cookie", "b=2")], b"\x89PNG")
    with pytest.raises(BadResponse, match="cookies is not a list of strings"):
        to_response(V2_ROUTE, {"statusCode": 200, "cookies": "a=1"})
    with pytest.raises(BadResponse, match="not valid base64"):
        to_response(V2_ROUTE, {"statusCode": 200, "isBase64Encoded": True, "body": "***"})


def test_rest_base64_body_is_binary_only_for_binary_media_types() -> None:
    encoded = {"statusCode": 200, "headers": {"Content-Type": "image/png"}, "isBase64Encoded": True,
               "body": base64.b64encode(b"\x89PNG").decode()}
    assert to_response(REST_ROUTE, encoded).body == encoded["body"].encode()  # sent as the text it is
    binary = REST_ROUTE._replace(binary_types=("image/png",))
    assert to_response(binary, encoded, request(headers=[("Accept", "image/png")])).body == b"\x89PNG"


def test_alb_response_status_description_and_multi_value_headers() -> None:
    result = {"statusCode": 200, "statusDescription": "200 OK", "headers": {"a": "1"},
              "multiValueHeaders": {"b": ["1", "2"]}, "body": "ok"}
    assert to_response(ALB_ROUTE, result) == HttpResponse(200, [("a", "1")], b"ok")
    assert to_response(ALB_ROUTE._replace(multi_value=True), result) == HttpResponse(200, [("b", "1"), ("b", "2")], b"ok")
    with pytest.raises(BadResponse, match="statusDescription is not a string"):
        to_response(ALB_ROUTE, {"statusCode": 200, "statusDescription": 5})


@pytest.mark.parametrize(("route", "kind", "status", "body"), [
    (REST_ROUTE, "bad-response", 502, {"message": "Internal server error"}),
    (REST_ROUTE, "timeout", 504, {"message": "Endpoint request timed out"}),
    (REST_ROUTE, "no-route", 403, {"message": "Missing Authentication Token"}),
    (V2_ROUTE, "bad-response", 500, {"message": "Internal Server Error"}),
    (V2_ROUTE, "no-route", 404, {"message": "Not Found"}),
], ids=["rest-bad", "rest-timeout", "rest-no-route", "http-bad", "http-no-route"])
def test_error_responses_are_the_front_doors_own(route: Route, kind: str, status: int, body: dict[str, str]) -> None:
    got = error_response(route, kind)
    assert got.status == status and json.loads(got.body) == body


def test_alb_errors_are_html_pages() -> None:
    got = error_response(ALB_ROUTE, "bad-response")
    assert got.status == 502 and b"<title>502 Bad Gateway</title>" in got.body
