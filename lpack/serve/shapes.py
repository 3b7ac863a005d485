"""An HTTP request -> the event AWS sends the function for its trigger, and the function's result -> the
HTTP response that trigger sends back.

Four triggers, each built from its documentation page:

- ``api-gateway-v1``: API Gateway REST API, Lambda proxy integration ("Input format of a Lambda
  function for proxy integration", "Output format ..."):
  https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html
  Header names keep their case; ``headers`` holds the last value of a repeated header and
  ``multiValueHeaders`` all of them (query strings the same); a body is base64 only when its
  Content-Type is one of the API's ``BinaryMediaTypes``.
- ``api-gateway-v2``: API Gateway HTTP API, payload format 2.0 (or 1.0, the REST shape with
  ``version: "1.0"``): https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
  Header names lower-cased, repeated headers and query values joined with commas, ``Cookie``
  headers become ``cookies``; a result without ``statusCode`` is the body of a 200 JSON response.
- ``function-url``: https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html (the 2.0
  shape, route ``$default``, domain ``<url-id>.lambda-url.<region>.on.aws``).
- ``alb``: https://docs.aws.amazon.com/elasticloadbalancing/latest/application/lambda-functions.html
  Query strings are passed as received (the load balancer does not decode them); with the target
  group's ``lambda.multi_value_headers.enabled`` the event and the response use the multi-value fields.

HTTP API, function URLs and ALB base64-encode a body whose Content-Type is not text (``text/*``,
JSON, XML, JavaScript); a ``application/x-www-form-urlencoded`` body arrives base64-encoded too.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple
from urllib.parse import unquote

from lpack.serve.routes import ALB, FUNCTION_URL, REST, V2, Route

REGION = "us-east-1"
URL_ID = "local"  # the function URL's id: <url-id>.lambda-url.<region>.on.aws
TARGET_GROUP = "arn:aws:elasticloadbalancing:{region}:{account}:targetgroup/{function}/0123456789abcdef"
# API Gateway's v1 requestContext.identity: every field a request without IAM/Cognito auth leaves null
_IDENTITY_FIELDS = ("cognitoIdentityPoolId", "accountId", "cognitoIdentityId", "caller", "accessKey",
                    "cognitoAuthenticationType", "cognitoAuthenticationProvider", "userArn", "user",
                    "principalOrgId")
_TEXT_TYPES = ("application/json", "application/javascript", "application/xml", "application/yaml")
_V1_RESPONSE_KEYS = frozenset({"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"})


class HttpRequest(NamedTuple):
    method: str
    path: str  # raw path, percent-encoded as received, no query
    query: str  # raw query string without "?" ("" if none)
    headers: list[tuple[str, str]]  # as received, in order, original case, repeated names kept
    body: bytes
    source_ip: str
    host: str  # Host header value, or "127.0.0.1:3000"
    protocol: str = "HTTP/1.1"


class HttpResponse(NamedTuple):
    status: int
    headers: list[tuple[str, str]]  # in order; repeated names (Set-Cookie) kept
    body: bytes


class BadResponse(Exception):
    """The handler's result is not a valid response for this integration."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # one line for the console log


# -- request -> event ------------------------------------------------------------------------------

def to_event(route: Route, params: dict[str, str], request: HttpRequest, *, request_id: str, now_ms: int,
             account_id: str = "123456789012", api_id: str = "local", region: str | None = None) -> dict[str, Any]:
    """The event AWS sends for ``request`` arriving on ``route`` (``region`` names the function
    URL's domain and the target group's ARN; us-east-1 when None)."""
    if route.shape == REST or (route.shape == V2 and route.payload_version == "1.0"):
        return _v1_event(route, params, request, request_id, now_ms, account_id, api_id)
    if route.shape in (V2, FUNCTION_URL):
        return _v2_event(route, params, request, request_id, now_ms, account_id, api_id, region or REGION)
    if route.shape == ALB:
        return _alb_event(route, request, account_id, trace_id(request_id, now_ms), region or REGION)
    raise ValueError(f"unknown event shape {route.shape!r}")


def _v1_event(route: Route, params: dict[str, str], request: HttpRequest, request_id: str, now_ms: int,
              account_id: str, api_id: str) -> dict[str, Any]:
    http_api = route.shape == V2
    headers = _forwarded(request, trace_id(request_id, now_ms), lower=http_api)
    query = _query_pairs(request.query, decode=True)
    content_type = _header(headers, "content-type")
    binary = bool(request.body) and (_is_binary(content_type) if http_api
                                     else _is_binary_v1(content_type, route.binary_types))
    domain = request.host.split(":")[0]
    context: dict[str, Any] = {
        "accountId": account_id, "apiId": api_id, "domainName": domain, "domainPrefix": domain.split(".")[0],
        "extendedRequestId": request_id, "httpMethod": request.method,
        "identity": {**dict.fromkeys(_IDENTITY_FIELDS), "sourceIp": request.source_ip,
                     "userAgent": _header(headers, "user-agent")},
        "path": request.path if route.stage in ("", "$default") else f"/{route.stage}{request.path}",
        "protocol": request.protocol, "requestId": request_id, "requestTime": _clf_time(now_ms),
        "requestTimeEpoch": now_ms, "resourceId": _resource_id(route), "resourcePath": route.resource,
        "stage": route.stage,
    }
    event: dict[str, Any] = {"version": "1.0"} if http_api else {}
    event.update({
        "resource": route.resource, "path": request.path, "httpMethod": request.method,
        "headers": _last_values(headers) or None, "multiValueHeaders": _all_values(headers) or None,
        "queryStringParameters": _last_values(query) or None,
        "multiValueQueryStringParameters": _all_values(query) or None,
        "requestContext": context, "pathParameters": _path_params(route, params, decode=False),
        "stageVariables": None, "body": _body(request.body, binary), "isBase64Encoded": binary,
    })
    return event


def _v2_event(route: Route, params: dict[str, str], request: HttpRequest, request_id: str, now_ms: int,
              account_id: str, api_id: str, region: str) -> dict[str, Any]:
    url = route.shape == FUNCTION_URL
    received = _forwarded(request, trace_id(request_id, now_ms), lower=True)
    cookies = [c.strip() for name, value in received if name == "cookie" for c in value.split(";") if c.strip()]
    headers = [(name, value) for name, value in received if name != "cookie"]
    query = _query_pairs(request.query, decode=True)
    binary = bool(request.body) and _is_binary(_header(headers, "content-type"))
    domain = f"{URL_ID}.lambda-url.{region}.on.aws" if url else request.host.split(":")[0]
    route_key = "$default" if url or route.resource == "$default" else f"{route.method} {route.path}"
    # a named stage is the first segment of the URL, and of rawPath; $default has none
    raw_path = request.path if url or route.stage in ("", "$default") else f"/{route.stage}{request.path}"
    event: dict[str, Any] = {"version": "2.0", "routeKey": route_key, "rawPath": raw_path,
                             "rawQueryString": request.query}
    if cookies:
        event["cookies"] = cookies
    event["headers"] = _joined(headers)
    if query:
        event["queryStringParameters"] = _joined(query)
    event["requestContext"] = {
        "accountId": "anonymous" if url else account_id, "apiId": URL_ID if url else api_id,
        "domainName": domain, "domainPrefix": domain.split(".")[0],
        "http": {"method": request.method, "path": raw_path, "protocol": request.protocol,
                 "sourceIp": request.source_ip, "userAgent": _header(headers, "user-agent") or ""},
        "requestId": request_id, "routeKey": route_key, "stage": "$default" if url else route.stage,
        "time": _clf_time(now_ms), "timeEpoch": now_ms,
    }
    if request.body:
        event["body"] = _body(request.body, binary)
    if url:
        event.update(pathParameters=None, isBase64Encoded=binary, stageVariables=None)
        return event
    if (path_params := _path_params(route, params, decode=True)) is not None:
        event["pathParameters"] = path_params
    event["isBase64Encoded"] = binary
    return event


def _alb_event(route: Route, request: HttpRequest, account_id: str, trace: str, region: str) -> dict[str, Any]:
    headers = _forwarded(request, trace, lower=True)
    query = _query_pairs(request.query, decode=False)  # the load balancer passes them as received
    binary = bool(request.body) and _is_binary(_header(headers, "content-type"))
    arn = TARGET_GROUP.format(region=region, account=account_id, function=route.function.lower()[:32])
    event: dict[str, Any] = {"requestContext": {"elb": {"targetGroupArn": arn}},
                             "httpMethod": request.method, "path": request.path}
    if route.multi_value:
        event["multiValueQueryStringParameters"] = _all_values(query)
        event["multiValueHeaders"] = _all_values(headers)
    else:
        event["queryStringParameters"] = _last_values(query)
        event["headers"] = _last_values(headers)
    event["body"] = _body(request.body, binary) or ""
    event["isBase64Encoded"] = binary
    return event


def _forwarded(request: HttpRequest, trace: str, *, lower: bool) -> list[tuple[str, str]]:
    """The request's headers as the front door passes them on, with what API Gateway, function URLs
    and ALB add when the client did not send it: ``X-Amzn-Trace-Id``, ``X-Forwarded-For``, ``-Port``
    and ``-Proto``; names lower-cased when ``lower`` (HTTP API, function URLs, ALB)."""
    headers = list(request.headers)
    names = {name.lower() for name, _ in headers}
    if "host" not in names:
        headers.insert(0, ("Host", request.host))
    port = request.host.rsplit(":", 1)[1] if ":" in request.host else "80"
    for name, value in (("X-Amzn-Trace-Id", trace), ("X-Forwarded-For", request.source_ip),
                        ("X-Forwarded-Port", port), ("X-Forwarded-Proto", "http")):
        if name.lower() not in names:
            headers.append((name, value))
    return [(name.lower(), value) for name, value in headers] if lower else headers


def trace_id(request_id: str, now_ms: int) -> str:
    """An X-Ray trace header for the request: ``Root=1-<epoch seconds, hex>-<24 hex digits>``."""
    return f"Root=1-{now_ms // 1000:08x}-{hashlib.sha256(request_id.encode()).hexdigest()[:24]}"


def _header(headers: Iterable[tuple[str, str]], name: str) -> str | None:
    return next((value for key, value in headers if key.lower() == name), None)


def _last_values(pairs: Sequence[tuple[str, str]]) -> dict[str, str]:
    return {name: value for name, value in pairs}


def _all_values(pairs: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in pairs:
        out.setdefault(name, []).append(value)
    return out


def _joined(pairs: Sequence[tuple[str, str]]) -> dict[str, str]:
    return {name: ",".join(values) for name, values in _all_values(pairs).items()}


def _query_pairs(query: str, *, decode: bool) -> list[tuple[str, str]]:
    """``a=1&b=2&a=3`` -> [(a, 1), (b, 2), (a, 3)]; a name without ``=`` has the value ""."""
    pairs = []
    for part in query.split("&"):
        if part:
            name, _, value = part.partition("=")
            pairs.append((unquote(name), unquote(value)) if decode else (name, value))
    return pairs


def _path_params(route: Route, params: Mapping[str, str], *, decode: bool) -> dict[str, str] | None:
    if not params or route.resource == "$default":
        return None
    return {name: unquote(value) if decode else value for name, value in params.items()}


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def _is_binary(content_type: str | None) -> bool:
    """HTTP API, function URLs and ALB: is a body of this Content-Type passed base64-encoded?"""
    media = _media_type(content_type)
    return not (media.startswith("text/") or media in _TEXT_TYPES or media.endswith(("+json", "+xml")))


def _is_binary_v1(content_type: str | None, binary_types: Sequence[str]) -> bool:
    """REST API: only a Content-Type among the API's BinaryMediaTypes (``image/*`` and ``*/*`` too)."""
    media = _media_type(content_type)
    return bool(media) and any(_media_matches(media, pattern) for pattern in binary_types)


def _media_matches(media: str, pattern: str) -> bool:
    pattern = pattern.replace("~1", "/").lower()  # SAM templates write image~1png for image/png
    kind, _, sub = pattern.partition("/")
    got_kind, _, got_sub = media.partition("/")
    return kind in ("*", got_kind) and sub in ("*", got_sub)


def _body(body: bytes, binary: bool) -> str | None:
    if not body:
        return None
    return base64.b64encode(body).decode("ascii") if binary else body.decode("utf-8", "replace")


def _clf_time(now_ms: int) -> str:
    """``12/Mar/2020:19:03:58 +0000``, API Gateway's requestTime."""
    return time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now_ms / 1000))


@functools.lru_cache(maxsize=1024)  # per route: a hash a request need not compute again
def _resource_id(route: Route) -> str | None:
    if route.shape != REST:
        return None  # an HTTP API's payload 1.0 has none
    return hashlib.sha256(f"{route.method} {route.resource}".encode()).hexdigest()[:6]


# -- result -> response ----------------------------------------------------------------------------

def to_response(route: Route, result: Any, request: HttpRequest | None = None, *,
                raw: str | None = None) -> HttpResponse:
    """The HTTP response the trigger sends for the handler's (JSON-decoded) ``result``; raises
    BadResponse when the trigger would refuse it. Optional: ``request`` gives a REST API the
    ``Accept`` header it matches against BinaryMediaTypes; ``raw``, the response as the function
    sent it, is the body an HTTP API or function URL passes on when the result is a bare value
    (else the value is written out again, its spacing perhaps not the function's)."""
    if route.shape == REST or (route.shape == V2 and route.payload_version == "1.0"):
        return _v1_response(route, result, request)
    if route.shape in (V2, FUNCTION_URL):
        return _v2_response(result, raw)
    if route.shape == ALB:
        return _alb_response(route, result)
    raise ValueError(f"unknown event shape {route.shape!r}")


def _v1_response(route: Route, result: Any, request: HttpRequest | None) -> HttpResponse:
    if not isinstance(result, dict):
        raise BadResponse(f"the response is {_kind(result)}, not a JSON object with statusCode")
    if route.shape == REST and (extra := sorted(set(result) - _V1_RESPONSE_KEYS)):
        raise BadResponse(f"the response has keys a proxy integration does not take: {', '.join(extra)}")
    status = _status(result)
    headers = _merged_headers(result.get("headers"), result.get("multiValueHeaders"))
    if route.shape == REST and _header(headers, "content-type") is None:
        headers.append(("Content-Type", "application/json"))  # what a REST API answers without one
    encoded = _flag(result)
    body = _text_body(result.get("body"))
    if encoded and route.shape == REST and not _v1_decodes(route, headers, request):
        return HttpResponse(status, headers, body.encode())  # no matching BinaryMediaTypes: sent as the text it is
    return HttpResponse(status, headers, _decoded(body) if encoded else body.encode())


def _v1_decodes(route: Route, headers: Sequence[tuple[str, str]], request: HttpRequest | None) -> bool:
    """REST API returns a base64 body as binary only when the request's Accept (or else the response's
    Content-Type) is one of the API's BinaryMediaTypes."""
    accept = _header(request.headers, "accept") if request is not None else None
    types = [t for t in (accept or "").split(",") if t.strip()] or [_header(headers, "content-type") or ""]
    return any(_is_binary_v1(t, route.binary_types) for t in types)


def _v2_response(result: Any, raw: str | None) -> HttpResponse:
    if not isinstance(result, dict) or "statusCode" not in result:  # a bare value is the body
        text = raw if raw is not None else json.dumps(result)
        return HttpResponse(200, [("content-type", "application/json")], text.encode())
    status = _status(result)
    headers = [(name, value) for name, value in _merged_headers(result.get("headers"), None)]
    cookies = result.get("cookies")
    if cookies is not None:
        if not isinstance(cookies, list) or not all(isinstance(c, str) for c in cookies):
            raise BadResponse("cookies is not a list of strings")
        headers += [("set-cookie", cookie) for cookie in cookies]
    body = _text_body(result.get("body"))
    return HttpResponse(status, headers, _decoded(body) if _flag(result) else body.encode())


def _alb_response(route: Route, result: Any) -> HttpResponse:
    if not isinstance(result, dict):
        raise BadResponse(f"the response is {_kind(result)}, not a JSON object with statusCode")
    status = _status(result)
    if (description := result.get("statusDescription")) is not None and not isinstance(description, str):
        raise BadResponse("statusDescription is not a string")
    headers = _merged_headers(None, result.get("multiValueHeaders")) if route.multi_value \
        else _merged_headers(result.get("headers"), None)
    body = _text_body(result.get("body"))
    return HttpResponse(status, headers, _decoded(body) if _flag(result) else body.encode())


def _status(result: Mapping[str, Any]) -> int:
    if "statusCode" not in result:
        raise BadResponse("the response has no statusCode")
    status = result["statusCode"]
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool):
        raise BadResponse(f"statusCode is {_kind(status)}, not an integer")
    if not 100 <= status <= 599:
        raise BadResponse(f"statusCode {status} is not an HTTP status (100-599)")
    return status


def _merged_headers(single: object, multi: object) -> list[tuple[str, str]]:
    """``headers`` and ``multiValueHeaders`` merged into one list, as API Gateway merges them: a
    name and value given in both appears once (the multiValueHeaders one)."""
    if single is not None and not isinstance(single, dict):
        raise BadResponse(f"headers is {_kind(single)}, not a JSON object")
    if multi is not None and not isinstance(multi, dict):
        raise BadResponse(f"multiValueHeaders is {_kind(multi)}, not a JSON object")
    many: list[tuple[str, str]] = []
    for name, values in (multi or {}).items():
        if not isinstance(values, list):
            raise BadResponse(f"multiValueHeaders[{name!r}] is {_kind(values)}, not a list")
        many += [(str(name), _header_value(name, value)) for value in values]
    given = {(name.lower(), value) for name, value in many}
    ones = [(str(name), _header_value(name, value)) for name, value in (single or {}).items()]
    return [(name, value) for name, value in ones if (name.lower(), value) not in given] + many


def _header_value(name: object, value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise BadResponse(f"header {name!r} is {_kind(value)}, not a string")


def _flag(result: Mapping[str, Any]) -> bool:
    flag = result.get("isBase64Encoded", False)
    if flag is None:
        return False
    if not isinstance(flag, bool):
        raise BadResponse(f"isBase64Encoded is {_kind(flag)}, not true or false")
    return flag


def _text_body(body: object) -> str:
    if body is None:
        return ""
    if not isinstance(body, str):
        raise BadResponse(f"body is {_kind(body)}, not a string; return json.dumps(...) of it")
    return body


def _decoded(body: str) -> bytes:
    import binascii

    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadResponse("isBase64Encoded is true but body is not valid base64") from exc


def _kind(value: object) -> str:
    """A JSON value's kind, for messages: "a string", "null", "a list" ..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    kinds = {str: "a string", int: "a number", float: "a number", list: "a list", dict: "a JSON object"}
    return kinds.get(type(value), type(value).__name__)


# -- the front door's own answers ------------------------------------------------------------------

_ALB_PAGE = ("<html>\r\n<head><title>{status}</title></head>\r\n<body>\r\n<center><h1>{status}</h1></center>\r\n"
             "</body>\r\n</html>\r\n")
# kind -> (status, body) per front door; sources: API Gateway's "gateway responses" table
# (https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html),
# the HTTP API troubleshooting pages, and the ALB "Lambda functions as targets" page
_ERRORS: dict[str, dict[str, tuple[int, str]]] = {
    REST: {"bad-response": (502, "Internal server error"), "handler-error": (502, "Internal server error"),
           "timeout": (504, "Endpoint request timed out"), "no-route": (403, "Missing Authentication Token"),
           "too-large": (413, "Request Too Long")},
    V2: {"bad-response": (500, "Internal Server Error"), "handler-error": (500, "Internal Server Error"),
         "timeout": (503, "Service Unavailable"), "no-route": (404, "Not Found"),
         "too-large": (413, "Request Entity Too Large")},
    FUNCTION_URL: {"bad-response": (502, "Internal Server Error"), "handler-error": (502, "Internal Server Error"),
                   "timeout": (502, "Internal Server Error"), "no-route": (404, "Not Found"),
                   "too-large": (413, "Request Entity Too Large")},
    ALB: {"bad-response": (502, "502 Bad Gateway"), "handler-error": (502, "502 Bad Gateway"),
          "timeout": (504, "504 Gateway Time-out"), "no-route": (404, "404 Not Found"),
          "too-large": (413, "413 Request Entity Too Large")},
}
_REST_ERROR_TYPES = {"no-route": "MissingAuthenticationTokenException", "too-large": "RequestEntityTooLargeException"}
ERROR_KINDS = tuple(_ERRORS[REST])


def error_response(route: Route, kind: str) -> HttpResponse:
    """The status and body the trigger itself answers with: ``bad-response``, ``handler-error``,
    ``timeout``, ``no-route`` or ``too-large``."""
    status, text = _ERRORS[route.shape][kind]
    if route.shape == ALB:
        return HttpResponse(status, [("Server", "awselb/2.0"), ("Content-Type", "text/html")],
                            _ALB_PAGE.format(status=text).encode())
    if route.shape == FUNCTION_URL:
        return HttpResponse(status, [("Content-Type", "application/json")], json.dumps({"Message": text}).encode())
    headers = [("Content-Type", "application/json")]
    if route.shape == REST and kind in _REST_ERROR_TYPES:
        headers.append(("x-amzn-ErrorType", _REST_ERROR_TYPES[kind]))
    return HttpResponse(status, headers, json.dumps({"message": text}).encode())
