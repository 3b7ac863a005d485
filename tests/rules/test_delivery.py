"""Delivery rules (LP362-LP366): exec wrappers, the Lambda Web Adapter, response streaming and code
signing, through `lpack check` on real templates and folders -- and the healthy near misses."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest

from lpack.cli import main

DATA = Path(__file__).resolve().parent.parent / "data" / "templates" / "web-adapter-streaming"
ADAPTER = "!Sub arn:aws:lambda:${AWS::Region}:753240598075:layer:LambdaAdapterLayerX86:25"
RUN_SH = '#!/bin/bash\nexec python -m uvicorn --port="$PORT" app:app\n'


def findings(capsys: pytest.CaptureFixture[str], path: Path) -> list[tuple[str, int | None, str, str]]:
    main(["check", str(path), "--format", "json"])
    out = json.loads(capsys.readouterr().out)
    return [(f["code"], f.get("line"), f["message"], f.get("fix") or "") for f in out["findings"]]


def template(tmp_path: Path, properties: str, extra: str = "", *, script: str | None = RUN_SH) -> Path:
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    (src / "app.py").write_text("def handler(event, context):\n    return {}\n", encoding="utf-8")
    if script is not None:
        (src / "run.sh").write_text(script, encoding="utf-8")
        (src / "run.sh").chmod(0o755)
    path = tmp_path / "template.yaml"
    path.write_text(textwrap.dedent("""\
        Transform: AWS::Serverless-2016-10-31
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              CodeUri: src/
              Runtime: python3.13
        """) + textwrap.indent(textwrap.dedent(properties), " " * 6) + extra, encoding="utf-8")
    return path


WEB_ADAPTER = f"""\
    Handler: run.sh
    Environment:
      Variables:
        AWS_LAMBDA_EXEC_WRAPPER: /opt/bootstrap
        AWS_LWA_INVOKE_MODE: response_stream
    Layers:
      - {ADAPTER}
    FunctionUrlConfig:
      AuthType: AWS_IAM
      InvokeMode: RESPONSE_STREAM
    """


def test_the_serverless_patterns_shape_is_quiet(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    copy = tmp_path / "app"
    shutil.copytree(DATA, copy)
    assert findings(capsys, copy / "template.yaml") == []
    assert (copy / "src" / "run.sh").stat().st_mode & 0o111, "the committed run.sh lost its execute bit"


def test_web_adapter_function_is_quiet(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert findings(capsys, template(tmp_path, WEB_ADAPTER)) == []


def test_streaming_without_adapter(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = template(tmp_path, """\
        Handler: app.handler
        FunctionUrlConfig:
          AuthType: AWS_IAM
          InvokeMode: RESPONSE_STREAM
        """)
    assert findings(capsys, path) == [(
        "LP363", 9, ("Fn's function URL streams responses (InvokeMode: RESPONSE_STREAM), but the managed Python "
        "runtime answers with one buffered response (Lambda streams natively on Node.js only)"),
        ("run the app behind the Lambda Web Adapter (its layer, AWS_LAMBDA_EXEC_WRAPPER=/opt/bootstrap, a run.sh "
        "handler), or set InvokeMode: BUFFERED"))]


def test_streaming_with_the_adapter_layer_but_no_wrapper(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = template(tmp_path, WEB_ADAPTER.replace("AWS_LAMBDA_EXEC_WRAPPER: /opt/bootstrap", "PORT: 8080"))
    found = findings(capsys, path)
    assert [f[0] for f in found] == ["LP363"]
    assert "the Lambda Web Adapter layer is attached, but without AWS_LAMBDA_EXEC_WRAPPER" in found[0][2]


@pytest.mark.parametrize("mode", ["BUFFERED", None])
def test_buffered_url_is_quiet(capsys: pytest.CaptureFixture[str], tmp_path: Path, mode: str | None) -> None:
    url = "FunctionUrlConfig:\n  AuthType: AWS_IAM\n" + (f"  InvokeMode: {mode}\n" if mode else "")
    assert findings(capsys, template(tmp_path, "Handler: app.handler\n" + url)) == []


@pytest.mark.parametrize(("mode", "fix"), [("response_stream", "write RESPONSE_STREAM"),
                                           ("STREAMING", "use BUFFERED or RESPONSE_STREAM")])
def test_invalid_invoke_mode(capsys: pytest.CaptureFixture[str], tmp_path: Path, mode: str, fix: str) -> None:
    path = template(tmp_path, f"Handler: app.handler\nFunctionUrlConfig:\n  AuthType: NONE\n  InvokeMode: {mode}\n")
    found = [(f[0], f[3]) for f in findings(capsys, path) if f[0] != "LP550"]  # LP550: the public URL's permissions
    assert found == [("LP364", fix)]


def at(path: Path, line: int | None) -> str:
    """The template line a finding points at, stripped."""
    assert line is not None
    return path.read_text(encoding="utf-8").splitlines()[line - 1].strip()


STREAM_URI = ("!Sub arn:aws:apigateway:${AWS::Region}:lambda:path/2021-11-15/functions/${Fn.Arn}/"
              "response-streaming-invocations")
BUFFERED_URI = "!Sub arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Fn.Arn}/invocations"


def rest_method(mode: str | None, uri: str = STREAM_URI) -> str:
    """An AWS::ApiGateway::Method whose Lambda proxy integration calls Fn (CloudFormation's spelling)."""
    transfer = f"      ResponseTransferMode: {mode}\n" if mode else ""
    return textwrap.dedent(f"""\
          Api:
            Type: AWS::ApiGateway::RestApi
            Properties:
              Name: story
          Story:
            Type: AWS::ApiGateway::Method
            Properties:
              RestApiId: !Ref Api
              ResourceId: !GetAtt Api.RootResourceId
              HttpMethod: POST
              AuthorizationType: NONE
              Integration:
                Type: AWS_PROXY
                IntegrationHttpMethod: POST
                Uri: {uri}
        """).replace("      Uri:", f"{transfer}      Uri:")


def sam_api(mode: str, uri: str = STREAM_URI) -> str:
    """A SAM API whose OpenAPI DefinitionBody integrates Fn."""
    return textwrap.dedent(f"""\
          StoryApi:
            Type: AWS::Serverless::Api
            Properties:
              StageName: prod
              DefinitionBody:
                openapi: 3.0.1
                info: {{title: story, version: "1.0"}}
                paths:
                  /story:
                    post:
                      x-amazon-apigateway-integration:
                        type: aws_proxy
                        httpMethod: POST
                        responseTransferMode: {mode}
                        uri: {uri}
        """)


API_FIX = ("run the app behind the Lambda Web Adapter (its layer, AWS_LAMBDA_EXEC_WRAPPER=/opt/bootstrap, a run.sh "
           "handler), or set the integration's ResponseTransferMode to BUFFERED")


@pytest.mark.parametrize(("resources", "line"), [
    pytest.param(rest_method("STREAM"), "ResponseTransferMode: STREAM", id="cloudformation-method"),
    pytest.param(sam_api("STREAM"), "responseTransferMode: STREAM", id="sam-definition-body"),
])
def test_rest_api_streaming_without_adapter(capsys: pytest.CaptureFixture[str], tmp_path: Path, resources: str,
                                            line: str) -> None:
    path = template(tmp_path, "Handler: app.handler\n", textwrap.indent(resources, "  "))
    found = findings(capsys, path)
    assert [(code, at(path, n), message, fix) for code, n, message, fix in found] == [(
        "LP363", line, ("Fn's API Gateway integration streams responses (ResponseTransferMode: STREAM), but the "
                        "managed Python runtime answers with one buffered response (Lambda streams natively on "
                        "Node.js only)"), API_FIX)]


@pytest.mark.parametrize("resources", [
    pytest.param(rest_method(None, BUFFERED_URI), id="buffered-method"),
    pytest.param(rest_method("BUFFERED", BUFFERED_URI), id="explicitly-buffered-method"),
    pytest.param(sam_api("BUFFERED", BUFFERED_URI), id="buffered-definition-body"),
    pytest.param(rest_method("STREAM", STREAM_URI.replace("Fn.Arn", "Other.Arn")), id="streams-another-function"),
])
def test_buffered_rest_integration_is_quiet(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                            resources: str) -> None:
    path = template(tmp_path, "Handler: app.handler\n", textwrap.indent(resources, "  "))
    assert findings(capsys, path) == []


@pytest.mark.parametrize("resources", [rest_method("STREAM"), sam_api("STREAM")], ids=["method", "definition-body"])
def test_rest_api_streaming_with_the_adapter_is_quiet(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                      resources: str) -> None:
    props = WEB_ADAPTER.split("    FunctionUrlConfig:")[0]
    assert findings(capsys, template(tmp_path, props, textwrap.indent(resources, "  "))) == []


def adapter(mode: str | None, url: str | None) -> str:
    """A Web Adapter function with AWS_LWA_INVOKE_MODE ``mode`` and a function URL in ``url`` mode."""
    props = WEB_ADAPTER.split("    FunctionUrlConfig:")[0]
    props = props.replace("AWS_LWA_INVOKE_MODE: response_stream", f"AWS_LWA_INVOKE_MODE: {mode}") if mode else \
        props.replace("        AWS_LWA_INVOKE_MODE: response_stream\n", "")
    if url is not None:
        props += "    FunctionUrlConfig:\n      AuthType: AWS_IAM\n" + (f"      InvokeMode: {url}\n" if url else "")
    return props


@pytest.mark.parametrize(("mode", "url", "line", "message", "fix"), [
    pytest.param("response_stream", "BUFFERED", "AWS_LWA_INVOKE_MODE: response_stream",
                 "Fn's AWS_LWA_INVOKE_MODE is 'response_stream', but its function URL's InvokeMode is BUFFERED",
                 "set AWS_LWA_INVOKE_MODE=buffered, or the URL's InvokeMode to RESPONSE_STREAM", id="stream-buffered"),
    pytest.param("response_stream", "", "AWS_LWA_INVOKE_MODE: response_stream",
                 "Fn's AWS_LWA_INVOKE_MODE is 'response_stream', but its function URL's InvokeMode is BUFFERED",
                 "set AWS_LWA_INVOKE_MODE=buffered, or the URL's InvokeMode to RESPONSE_STREAM", id="url-default"),
    pytest.param("buffered", "RESPONSE_STREAM", "AWS_LWA_INVOKE_MODE: buffered",
                 "Fn's AWS_LWA_INVOKE_MODE is 'buffered', but its function URL's InvokeMode is RESPONSE_STREAM",
                 "set AWS_LWA_INVOKE_MODE=response_stream, or the URL's InvokeMode to BUFFERED", id="buffered-stream"),
    pytest.param(None, "RESPONSE_STREAM", "FunctionUrlConfig:",
                 "Fn's AWS_LWA_INVOKE_MODE is not set (buffered), but its function URL's InvokeMode is RESPONSE_STREAM",
                 "set AWS_LWA_INVOKE_MODE=response_stream, or the URL's InvokeMode to BUFFERED", id="unset-stream"),
    pytest.param("stream", "RESPONSE_STREAM", "AWS_LWA_INVOKE_MODE: stream",
                 "Fn's AWS_LWA_INVOKE_MODE is 'stream' (the adapter knows buffered and response_stream, and reads "
                 "anything else as buffered), but its function URL's InvokeMode is RESPONSE_STREAM",
                 "set AWS_LWA_INVOKE_MODE=response_stream, or the URL's InvokeMode to BUFFERED", id="unknown-value"),
])
def test_adapter_invoke_mode_mismatch(capsys: pytest.CaptureFixture[str], tmp_path: Path, mode: str | None, url: str,
                                      line: str, message: str, fix: str) -> None:
    path = template(tmp_path, adapter(mode, url))
    found = findings(capsys, path)
    assert [(code, at(path, n), text, hint) for code, n, text, hint in found] == [(
        "LP367", line, message + ": the Web Adapter and Lambda disagree on whether the response streams", fix)]


@pytest.mark.parametrize(("mode", "url"), [
    pytest.param("response_stream", "RESPONSE_STREAM", id="stream-stream"),
    pytest.param("RESPONSE_STREAM", "RESPONSE_STREAM", id="upper-case-is-read-lower-case"),
    pytest.param("buffered", "BUFFERED", id="buffered-buffered"),
    pytest.param(None, "", id="both-defaults"),
    pytest.param("buffered", None, id="no-url"),
    pytest.param("response_stream", None, id="no-url-streaming-adapter"),
])
def test_adapter_invoke_mode_that_matches_is_quiet(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                   mode: str | None, url: str | None) -> None:
    assert findings(capsys, template(tmp_path, adapter(mode, url))) == []


def test_adapter_mode_is_not_judged_without_the_adapter(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    props = adapter("buffered", "RESPONSE_STREAM").replace("        AWS_LAMBDA_EXEC_WRAPPER: /opt/bootstrap\n", "")
    assert [f[0] for f in findings(capsys, template(tmp_path, props))] == ["LP363"]
    other_bootstrap = adapter(None, "RESPONSE_STREAM").replace(ADAPTER, "arn:aws:lambda:us-east-1:123456789012:layer:web:3")
    assert findings(capsys, template(tmp_path, other_bootstrap)) == []


def test_buffered_adapter_behind_a_streaming_rest_integration(capsys: pytest.CaptureFixture[str],
                                                              tmp_path: Path) -> None:
    path = template(tmp_path, adapter("buffered", None), textwrap.indent(rest_method("STREAM"), "  "))
    found = findings(capsys, path)
    assert [(code, at(path, n)) for code, n, _, _ in found] == [("LP367", "AWS_LWA_INVOKE_MODE: buffered")]
    assert found[0][3] == "set AWS_LWA_INVOKE_MODE=response_stream, or the integration's ResponseTransferMode to BUFFERED"


def test_image_with_a_mismatched_adapter_mode(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    image = """\
        PackageType: Image
        ImageUri: 123456789012.dkr.ecr.us-east-1.amazonaws.com/app:latest
        Environment:
          Variables:
            AWS_LWA_INVOKE_MODE: response_stream
        FunctionUrlConfig:
          AuthType: AWS_IAM
        """
    path = template(tmp_path, image)
    assert [(f[0], at(path, f[1])) for f in findings(capsys, path) if f[0] != "LP360"] == [
        ("LP367", "AWS_LWA_INVOKE_MODE: response_stream")]
    assert [f[0] for f in findings(capsys, template(tmp_path, image.replace("response_stream", "buffered")))
            if f[0] != "LP360"] == []


def test_wrapper_under_opt_without_layers(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = template(tmp_path, """\
        Handler: run.sh
        Environment:
          Variables:
            AWS_LAMBDA_EXEC_WRAPPER: /opt/bootstrap
        """)
    found = findings(capsys, path)
    assert [(f[0], f[1]) for f in found] == [("LP362", 11)]
    assert "753240598075" in found[0][3]


def test_wrapper_in_the_package_must_exist_and_run(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    props = """\
        Handler: app.handler
        Environment:
          Variables:
            AWS_LAMBDA_EXEC_WRAPPER: /var/task/wrapper
        """
    path = template(tmp_path, props, script=None)
    assert [f[0] for f in findings(capsys, path)] == ["LP213"]
    wrapper = tmp_path / "src" / "wrapper"
    wrapper.write_text("#!/bin/bash\nexec \"$@\"\n", encoding="utf-8")
    wrapper.chmod(0o644)
    found = findings(capsys, path)
    assert [f[0] for f in found] == ["LP213"] and "not executable (mode 0644)" in found[0][2]
    wrapper.chmod(0o755)
    assert findings(capsys, path) == []


SIGNING = """\
  Signing:
    Type: AWS::Lambda::CodeSigningConfig
    Properties:
      AllowedPublishers:
        SigningProfileVersionArns:
          - arn:aws:signer:eu-west-1:111122223333:/signing-profiles/release/abcdef
      CodeSigningPolicies:
        UntrustedArtifactOnDeployment: {policy}
  Shared:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: layer/
      CompatibleRuntimes: [python3.13]
"""


def signed(tmp_path: Path, layers: str, policy: str = "Enforce") -> Path:
    (tmp_path / "layer" / "python").mkdir(parents=True)
    (tmp_path / "layer" / "python" / "shared.py").write_text("X = 1\n", encoding="utf-8")
    return template(tmp_path, f"Handler: app.handler\nCodeSigningConfigArn: !GetAtt Signing.CodeSigningConfigArn\nLayers:\n{layers}",
                    SIGNING.format(policy=policy))


def test_layer_of_another_publisher_under_enforce(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = signed(tmp_path, f"  - {ADAPTER}\n  - arn:aws:lambda:eu-west-1:111122223333:layer:ours:3\n")
    assert findings(capsys, path) == [(
        "LP365", 10, ("Fn enforces code signing (allowed publishers in account 111122223333), but its layer "
        "arn:aws:lambda:${AWS::Region}:753240598075:layer:LambdaAdapterLayerX86:25 is published by account "
        "753240598075: the deployment is refused"),
        ("add the publisher's signing profile to AllowedPublishers, or copy the layer into your account and sign it "
        "(docs/code-signing.md)"))]


def test_other_publisher_under_warn_is_quiet(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert findings(capsys, signed(tmp_path, f"  - {ADAPTER}\n", policy="Warn")) == []


def test_project_layer_with_code_signing(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    found = findings(capsys, signed(tmp_path, "  - !Ref Shared\n", policy="Warn"))
    assert [(f[0], f[2]) for f in found] == [(
        "LP366", ("Fn has code signing, and lpack builds its layer Shared unsigned: each must be signed by an "
        "allowed profile before it is published"))]
    assert "sam deploy --signing-profiles Fn=PROFILE Shared=PROFILE" in found[0][3]


def test_project_layer_without_code_signing_is_quiet(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "layer" / "python").mkdir(parents=True)
    (tmp_path / "layer" / "python" / "shared.py").write_text("X = 1\n", encoding="utf-8")
    extra = SIGNING.split("  Shared:")[0].replace("  Signing:", "  Unused:").format(policy="Enforce")
    extra += "  Shared:" + SIGNING.split("  Shared:")[1]
    path = template(tmp_path, "Handler: app.handler\nLayers:\n  - !Ref Shared\n", extra)
    assert findings(capsys, path) == []
