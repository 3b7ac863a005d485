"""A template's HTTP triggers become routes (SAM Api and HttpApi events, OpenAPI bodies, function
URLs, ALB target groups), a plain project gets routes from --event-shape, and a request finds its
route as API Gateway matches it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lpack.core.errors import UsageError
from lpack.inputs.config import load_project
from lpack.inputs.template import load_template
from lpack.serve.routes import ALB, CATCH_ALL, FUNCTION_URL, REST, V2, Route, match, routes

DATA = Path(__file__).parent.parent / "data" / "serve"
SAM = "AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\n"


def function(name: str, extra: str = "", events: str = "") -> str:
    text = (f"  {name}:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: src/\n"
            "      Handler: app.handler\n      Runtime: python3.13\n" + extra)
    return text + ("      Events:\n" + events if events else "")


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # routes name the template as the user would: template.yaml


def template_routes(tmp_path: Path, resources: str, *, head: str = "", shape: str | None = None) -> list[Route]:
    (tmp_path / "src").mkdir(exist_ok=True)
    (tmp_path / "src" / "app.py").write_text("def handler(event, context):\n    return event\n")
    path = tmp_path / "template.yaml"
    path.write_text(SAM + head + "Resources:\n" + resources)
    return routes(load_template(path).project, shape)


def test_api_events_become_rest_routes_with_the_implicit_prod_stage(tmp_path: Path) -> None:
    found = template_routes(tmp_path, function("Items", events=(
        "        Get:\n          Type: Api\n          Properties:\n            Path: /items/{id}\n"
        "            Method: get\n"
        "        Put:\n          Type: Api\n          Properties:\n            Path: /items/{id}\n"
        "            Method: put\n")))
    assert found == [
        Route("Items", REST, "GET", "/items/{id}", "/items/{id}", "Prod", "template.yaml: Resources.Items.Events.Get"),
        Route("Items", REST, "PUT", "/items/{id}", "/items/{id}", "Prod", "template.yaml: Resources.Items.Events.Put"),
    ]


def test_a_non_http_event_makes_no_route(tmp_path: Path) -> None:
    found = template_routes(tmp_path, function("Worker", events=(
        "        Queue:\n          Type: SQS\n          Properties:\n"
        "            Queue: arn:aws:sqs:us-east-1:123456789012:jobs\n"
        "        Nightly:\n          Type: Schedule\n          Properties:\n            Schedule: rate(1 day)\n")))
    assert found == []


def test_without_triggers_or_event_shape_there_is_no_route_but_with_one_each_function_gets_its_prefix(
        tmp_path: Path) -> None:
    resources = function("One") + function("Two")
    assert template_routes(tmp_path, resources) == []
    found = template_routes(tmp_path, resources, shape=V2)
    assert [(r.function, r.path, r.shape, r.stage, r.payload_version) for r in found] == [
        ("One", "/One", V2, "$default", "2.0"), ("Two", "/Two", V2, "$default", "2.0"),
        ("One", "/One/{proxy+}", V2, "$default", "2.0"), ("Two", "/Two/{proxy+}", V2, "$default", "2.0")]


def test_a_plain_project_with_one_function_is_served_at_the_root_too(tmp_path: Path) -> None:
    folder = tmp_path / "hello"  # zero config: the folder names the function
    folder.mkdir()
    (folder / "lambda_function.py").write_text("def lambda_handler(event, context):\n    return event\n")
    found = routes(load_project(folder), REST)
    assert [(r.function, r.method, r.path, r.stage, r.where) for r in found] == [
        ("hello", "ANY", "/", "Prod", "--event-shape"), ("hello", "ANY", "/hello", "Prod", "--event-shape"),
        ("hello", "ANY", "/hello/{proxy+}", "Prod", "--event-shape")]
    assert match(found, "POST", "/") == (found[0], {})
    assert match(found, "GET", "/hello/a/b") == (found[2], {"proxy": "a/b"})
    assert routes(load_project(folder), None) == []
    with pytest.raises(UsageError, match="--event-shape rest: not an event shape; use one of api-gateway-v1, "):
        routes(load_project(folder), "rest")


def test_http_api_events_default_route_and_payload_version(tmp_path: Path) -> None:
    found = template_routes(tmp_path, function("Api", events=(
        "        Default:\n          Type: HttpApi\n"
        "        Legacy:\n          Type: HttpApi\n          Properties:\n            Path: /v1/{thing}\n"
        "            Method: POST\n            PayloadFormatVersion: '1.0'\n")))
    assert found == [
        Route("Api", V2, "POST", "/v1/{thing}", "/v1/{thing}", "$default", "template.yaml: Resources.Api.Events.Legacy",
              payload_version="1.0"),
        Route("Api", V2, "ANY", CATCH_ALL, "$default", "$default", "template.yaml: Resources.Api.Events.Default",
              payload_version="2.0"),
    ]


def test_explicit_apis_give_their_stage_and_binary_media_types(tmp_path: Path) -> None:
    found = template_routes(tmp_path, (
        "  Rest:\n    Type: AWS::Serverless::Api\n    Properties:\n      StageName: dev\n"
        "      BinaryMediaTypes: ['image~1png', 'application/octet-stream']\n"
        "  Http:\n    Type: AWS::Serverless::HttpApi\n    Properties:\n      StageName: beta\n")
        + function("Fn", events=(
            "        Get:\n          Type: Api\n          Properties:\n            Path: /a\n            Method: get\n"
            "            RestApiId: !Ref Rest\n"
            "        Post:\n          Type: HttpApi\n          Properties:\n            Path: /b\n"
            "            Method: post\n            ApiId: !Ref Http\n")))
    assert [(r.shape, r.path, r.stage, r.binary_types) for r in found] == [
        (REST, "/a", "dev", ("image~1png", "application/octet-stream")), (V2, "/b", "beta", ())]


def test_globals_api_binary_media_types_apply_to_the_implicit_api(tmp_path: Path) -> None:
    found = template_routes(tmp_path, function("Fn", events=(
        "        Get:\n          Type: Api\n          Properties:\n            Path: /img\n            Method: get\n")),
        head="Globals:\n  Api:\n    BinaryMediaTypes: ['image~1png']\n")
    assert found[0].binary_types == ("image~1png",)


def test_openapi_definition_bodies_route_operations_to_the_function_they_integrate(tmp_path: Path) -> None:
    found = template_routes(tmp_path, (
        "  Rest:\n    Type: AWS::Serverless::Api\n    Properties:\n      StageName: v1\n      DefinitionBody:\n"
        "        openapi: '3.0.1'\n        paths:\n          /pets/{petId}:\n            get:\n"
        "              x-amazon-apigateway-integration:\n                type: aws_proxy\n"
        "                httpMethod: POST\n"
        "                uri: !Sub arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Pets.Arn}/invocations\n"
        "            x-amazon-apigateway-any-method:\n              x-amazon-apigateway-integration:\n"
        "                type: mock\n"
        "  Http:\n    Type: AWS::Serverless::HttpApi\n    Properties:\n      DefinitionBody:\n"
        "        openapi: '3.0.1'\n        paths:\n          /orders:\n            post:\n"
        "              x-amazon-apigateway-integration:\n                type: AWS_PROXY\n"
        "                httpMethod: POST\n                payloadFormatVersion: '1.0'\n"
        "                uri: !GetAtt Pets.Arn\n")
        + function("Pets"))
    assert [(r.function, r.shape, r.method, r.path, r.stage, r.payload_version) for r in found] == [
        ("Pets", V2, "POST", "/orders", "$default", "1.0"), ("Pets", REST, "GET", "/pets/{petId}", "v1", "")]


def test_function_urls_and_alb_target_groups_are_catch_alls(tmp_path: Path) -> None:
    found = template_routes(tmp_path, function("Site", "      FunctionUrlConfig:\n        AuthType: NONE\n"))
    assert found == [Route("Site", FUNCTION_URL, "ANY", CATCH_ALL, CATCH_ALL, "$default",
                           "template.yaml: Resources.Site.FunctionUrlConfig")]
    assert match(found, "DELETE", "/") == (found[0], {})
    assert match(found, "GET", "/a/b%20c") == (found[0], {})


def test_cloudformation_url_and_target_group_resources(tmp_path: Path) -> None:
    found = template_routes(tmp_path, function("Web") + function("Lb") + (
        "  WebUrl:\n    Type: AWS::Lambda::Url\n    Properties:\n      AuthType: NONE\n"
        "      TargetFunctionArn: !GetAtt Web.Arn\n"
        "  Group:\n    Type: AWS::ElasticLoadBalancingV2::TargetGroup\n    Properties:\n      TargetType: lambda\n"
        "      TargetGroupAttributes:\n        - Key: lambda.multi_value_headers.enabled\n          Value: 'true'\n"
        "      Targets:\n        - Id: !GetAtt Lb.Arn\n"))
    assert [(r.function, r.shape, r.path, r.multi_value) for r in found] == [
        ("Lb", ALB, "/Lb/{proxy+}", True), ("Web", FUNCTION_URL, "/Web/{proxy+}", False)]
    assert match(found, "GET", "/Web/x")[0].function == "Web"  # type: ignore[index]


def test_a_function_with_two_api_events_gets_two_routes(tmp_path: Path) -> None:
    found = template_routes(tmp_path, function("Fn", events=(
        "        A:\n          Type: Api\n          Properties:\n            Path: /a\n            Method: any\n"
        "        B:\n          Type: Api\n          Properties:\n            Path: /b\n            Method: get\n")))
    assert [(r.method, r.path) for r in found] == [("GET", "/b"), ("ANY", "/a")] or \
        [(r.method, r.path) for r in found] == [("ANY", "/a"), ("GET", "/b")]
    assert len(found) == 2


def rest(method: str, path: str) -> Route:
    return Route("Fn" + path, REST, method, path, path, "Prod", "test")


@pytest.mark.parametrize(("method", "path", "expected", "params"), [
    ("GET", "/items/special", ("GET", "/items/special"), {}),
    ("GET", "/items/42", ("GET", "/items/{id}"), {"id": "42"}),
    ("POST", "/items/42", ("ANY", "/items/{id}"), {"id": "42"}),
    ("GET", "/items/42/tags/x", ("ANY", "/items/{proxy+}"), {"proxy": "42/tags/x"}),
    ("GET", "/items/42/", ("GET", "/items/{id}"), {"id": "42"}),
    ("GET", "/other/a%2Fb", ("ANY", "/{proxy+}"), {"proxy": "other/a%2Fb"}),
], ids=["exact-before-param", "param", "method-before-any-then-any", "greedy", "trailing-slash", "root-greedy"])
def test_match_prefers_what_api_gateway_prefers(method: str, path: str, expected: tuple[str, str],
                                                 params: dict[str, str]) -> None:
    table = [rest("ANY", "/{proxy+}"), rest("ANY", "/items/{proxy+}"), rest("ANY", "/items/{id}"),
             rest("GET", "/items/{id}"), rest("GET", "/items/special")]
    found = match(table, method, path)
    assert found is not None
    assert ((found[0].method, found[0].path), found[1]) == (expected, params)


def test_no_route_for_an_unmatched_path_or_method() -> None:
    table = [rest("GET", "/items/{id}"), rest("ANY", "/items/{id}/{proxy+}")]
    assert match(table, "GET", "/items") is None  # a greedy parameter needs at least one segment
    assert match(table, "POST", "/items/1") is None
    assert match(table, "GET", "/") is None


def test_a_cdk_synthesized_template_routes_its_cloudformation_methods_and_http_api_routes(tmp_path: Path) -> None:
    """``AWS::ApiGateway::Method``s under a chain of ``AWS::ApiGateway::Resource``s, with an
    ``Fn::Join`` integration URI as ``cdk synth`` writes it; a MOCK method makes no route; an
    ``AWS::ApiGatewayV2::Route`` whose target is an AWS_PROXY ``Integration``."""
    shutil.copytree(DATA / "cdk-rest", tmp_path / "app")
    found = routes(load_template(tmp_path / "app" / "template.json").project, None)
    function = "Handler886CB40B"
    assert [(r.function, r.shape, r.method, r.path, r.stage, r.binary_types) for r in found] == [
        (function, REST, "ANY", "/", "prod", ("image/png",)),
        (function, REST, "GET", "/items/{id}", "prod", ("image/png",)),
        (function, V2, "GET", "/orders/{orderId}", "$default", ()),
    ]
    assert match(found, "POST", "/items") is None
    assert match(found, "GET", "/orders/7") == (found[2], {"orderId": "7"})


def test_an_http_api_quick_create_target_is_a_default_route(tmp_path: Path) -> None:
    found = template_routes(tmp_path, function("Fn") + (
        "  Quick:\n    Type: AWS::ApiGatewayV2::Api\n    Properties:\n      ProtocolType: HTTP\n"
        "      Target: !GetAtt Fn.Arn\n"))
    assert found == [Route("Fn", V2, "ANY", CATCH_ALL, "$default", "$default", "template.yaml: Resources.Quick",
                           payload_version="2.0")]


def test_an_event_written_into_its_apis_openapi_body_too_is_one_route(tmp_path: Path) -> None:
    found = template_routes(tmp_path, (
        "  Rest:\n    Type: AWS::Serverless::Api\n    Properties:\n      StageName: Prod\n      DefinitionBody:\n"
        "        paths:\n          /a:\n            get:\n              x-amazon-apigateway-integration:\n"
        "                type: aws_proxy\n                uri: !Sub arn:aws:apigateway:${AWS::Region}:lambda:path/"
        "2015-03-31/functions/${Fn.Arn}/invocations\n")
        + function("Fn", events=(
            "        Get:\n          Type: Api\n          Properties:\n            Path: /a\n"
            "            Method: get\n            RestApiId: !Ref Rest\n")))
    assert len(found) == 1 and found[0].where == "template.yaml: Resources.Rest.DefinitionBody.paths./a.get"


def test_only_functions_the_project_has_get_routes(tmp_path: Path) -> None:
    """A function lpack skips (another language) keeps its events out of the routes."""
    found = template_routes(tmp_path, function("Py", events=(
        "        Get:\n          Type: Api\n          Properties:\n            Path: /py\n            Method: get\n"))
        + "  Node:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: src/\n"
        "      Handler: index.handler\n      Runtime: nodejs22.x\n      Events:\n"
        "        Get:\n          Type: Api\n          Properties:\n            Path: /node\n            Method: get\n")
    assert [r.path for r in found] == ["/py"]
