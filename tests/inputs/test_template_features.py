"""A template's Lambda features of 2025-2026 (SnapStart, Managed Instances, durable functions, tenant
isolation, function URLs, code signing) are read in SAM's and CloudFormation's spellings, and
functions whose code is not on this disk (images, S3, inline) are reported, never passed over."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from lpack.cli import main
from lpack.core.features import CapacityProvider, CodeSigning, Durable, Features
from lpack.inputs.template import load_template

SAM = "AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\nResources:\n"
HANDLER = "def handler(event, context):\n    return {'ok': True}\n"


def project(tmp_path: Path, resources: str, *, header: str = SAM) -> Path:
    (tmp_path / "src").mkdir(exist_ok=True)
    (tmp_path / "src" / "app.py").write_text(HANDLER)
    template = tmp_path / "template.yaml"
    template.write_text(header + resources)
    return template


def features(template: Path, name: str = "Fn") -> Features:
    return load_template(template).project.unit(name).settings.features


FUNCTION = """  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: python3.13
"""


def test_a_plain_function_has_no_features(tmp_path: Path) -> None:
    assert features(project(tmp_path, FUNCTION)) == Features(lines={})


def test_managed_instances_in_sams_spelling_with_its_event_source_mapping(tmp_path: Path) -> None:
    template = project(tmp_path, FUNCTION + """      CapacityProviderConfig:
        Arn: !GetAtt Provider.Arn
        ExecutionEnvironmentMemoryGiBPerVCpu: 2
        PerExecutionEnvironmentMaxConcurrency: 10
  Provider:
    Type: AWS::Serverless::CapacityProvider
    Properties: {}
  Queue:
    Type: AWS::SQS::Queue
  Mapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      FunctionName: !GetAtt Fn.Arn
      EventSourceArn: !GetAtt Queue.Arn
""")
    found = features(template)
    assert found.capacity_provider == CapacityProvider(arn="${Provider.Arn}", memory_per_vcpu=2, max_concurrency=10)
    assert found.managed_instances and found.event_sources == ("SQS",)
    assert found.lines["capacity-provider"] == 10


def test_managed_instances_in_cloudformations_spelling(tmp_path: Path) -> None:
    template = project(tmp_path, """  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Code: src/
      Handler: app.handler
      Runtime: python3.13
      Role: arn:aws:iam::123456789012:role/r
      CapacityProviderConfig:
        LambdaManagedInstancesCapacityProviderConfig:
          CapacityProviderArn: arn:aws:lambda:us-east-1:123456789012:capacity-provider:main
          PerExecutionEnvironmentMaxConcurrency: 32
""", header="AWSTemplateFormatVersion: '2010-09-09'\nResources:\n")
    assert features(template).capacity_provider == CapacityProvider(
        arn="arn:aws:lambda:us-east-1:123456789012:capacity-provider:main", max_concurrency=32)


def test_snapstart_with_provisioned_concurrency_from_sam_and_from_an_alias(tmp_path: Path) -> None:
    sam = features(project(tmp_path, FUNCTION + """      AutoPublishAlias: live
      SnapStart:
        ApplyOn: PublishedVersions
      ProvisionedConcurrencyConfig:
        ProvisionedConcurrentExecutions: 5
      FileSystemConfigs:
        - Arn: arn:aws:elasticfilesystem:us-east-1:123456789012:access-point/fsap-1
          LocalMountPath: /mnt/data
"""))
    assert (sam.snap_start, sam.published, sam.provisioned_concurrency, sam.file_systems) == (
        "PublishedVersions", True, 5, 1)
    cfn = features(project(tmp_path, FUNCTION + """      SnapStart:
        ApplyOn: PublishedVersions
  Version:
    Type: AWS::Lambda::Version
    Properties:
      FunctionName: !Ref Fn
  Alias:
    Type: AWS::Lambda::Alias
    Properties:
      FunctionName: !Ref Fn
      FunctionVersion: !GetAtt Version.Version
      Name: live
      ProvisionedConcurrencyConfig:
        ProvisionedConcurrentExecutions: 2
"""))
    assert (cfn.snap_start, cfn.published, cfn.provisioned_concurrency) == ("PublishedVersions", True, 2)


def test_durable_tenancy_url_and_code_signing(tmp_path: Path) -> None:
    template = project(tmp_path, FUNCTION + """      DurableConfig:
        ExecutionTimeout: 3600
        RetentionPeriodInDays: 7
      TenancyConfig:
        TenantIsolationMode: PER_TENANT
      FunctionUrlConfig:
        AuthType: AWS_IAM
        InvokeMode: RESPONSE_STREAM
      CodeSigningConfigArn: !Ref Signing
      Events:
        Api:
          Type: Api
          Properties: {Path: /, Method: get}
  Signing:
    Type: AWS::Lambda::CodeSigningConfig
    Properties:
      AllowedPublishers:
        SigningProfileVersionArns:
          - arn:aws:signer:us-east-1:123456789012:/signing-profiles/team/abc
      CodeSigningPolicies:
        UntrustedArtifactOnDeployment: Enforce
""")
    found = features(template)
    assert found.durable == Durable(execution_timeout=3600, retention_days=7)
    assert found.tenancy == "PER_TENANT"
    assert (found.function_url, found.url_invoke_mode, found.streams) == (True, "RESPONSE_STREAM", True)
    assert found.code_signing == CodeSigning(
        config="Signing", profiles=("arn:aws:signer:us-east-1:123456789012:/signing-profiles/team/abc",),
        enforce="Enforce")
    assert found.event_sources == ("Api",)


def test_a_url_resource_in_cloudformation_counts_as_the_functions_url(tmp_path: Path) -> None:
    found = features(project(tmp_path, FUNCTION + """  Url:
    Type: AWS::Lambda::Url
    Properties:
      AuthType: NONE
      TargetFunctionArn: !GetAtt Fn.Arn
      InvokeMode: BUFFERED
"""))
    assert (found.function_url, found.url_invoke_mode, found.streams) == (True, "BUFFERED", False)


STREAMING_BODY = """  Api:
    Type: AWS::ApiGateway::RestApi
    Properties:
      Body:
        swagger: "2.0"
        paths:
          /chat:
            post:
              x-amazon-apigateway-integration:
                type: aws_proxy
                httpMethod: POST
                responseTransferMode: STREAM
                uri: !Sub
                  - arn:aws:apigateway:${AWS::Region}:lambda:path/2021-11-15/functions/${Target}/response-streaming-invocations
                  - Target: !GetAtt Fn.Arn
"""


def test_a_rest_api_body_that_streams_the_function(tmp_path: Path) -> None:
    template = project(tmp_path, FUNCTION + STREAMING_BODY)
    found = features(template)
    assert found.api_streaming and not found.streams
    assert template.read_text().splitlines()[found.lines["api-streaming"] - 1].strip() == "responseTransferMode: STREAM"
    assert not features(project(tmp_path, FUNCTION + STREAMING_BODY.replace("STREAM\n", "BUFFERED\n"))).api_streaming
    other = FUNCTION.replace("  Fn:", "  Other:") + FUNCTION
    assert not features(project(tmp_path, other + STREAMING_BODY), "Other").api_streaming


def test_each_sam_event_kind_has_the_line_of_its_first_entry(tmp_path: Path) -> None:
    template = project(tmp_path, FUNCTION + """      Events:
        First:
          Type: SQS
          Properties: {Queue: arn:aws:sqs:us-east-1:123456789012:q}
        Nightly:
          Type: Schedule
          Properties: {Schedule: rate(1 day)}
        Second:
          Type: SQS
          Properties: {Queue: arn:aws:sqs:us-east-1:123456789012:r}
""")
    found = features(template)
    text = template.read_text().splitlines()
    assert found.event_sources == ("SQS", "Schedule", "SQS")
    assert {k: text[found.lines[k] - 1].strip() for k in ("SQS", "Schedule")} == {"SQS": "First:", "Schedule": "Nightly:"}


IMAGE_AND_S3 = """  ImageFn:
    Type: AWS::Serverless::Function
    Properties:
      PackageType: Image
      ImageUri: 123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1
      Timeout: 30
  S3Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: s3://artifacts/fn.zip
      Handler: app.handler
      Runtime: python3.12
  InlineFn:
    Type: AWS::Lambda::Function
    Properties:
      Code:
        ZipFile: "def handler(event, context): pass"
      Handler: index.handler
      Runtime: python3.12
      Role: arn:aws:iam::123456789012:role/r
  BucketFn:
    Type: AWS::Lambda::Function
    Properties:
      Code: {S3Bucket: artifacts, S3Key: fn.zip}
      Handler: app.handler
      Runtime: python3.12
      Role: arn:aws:iam::123456789012:role/r
  SamInlineFn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: index.handler
      InlineCode: |
        def handler(event, context):
            return {"statusCode": 200}
      Runtime: python3.12
  SamBothFn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: ./
      Handler: index.handler
      InlineCode: "def handler(event, context): pass"
      Runtime: python3.12
"""


def test_code_that_is_not_here_is_reported_by_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    template = project(tmp_path, FUNCTION + IMAGE_AND_S3)
    assert main(["check", str(template), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    found = {(f["function"], f["code"]): f for f in report["findings"]}
    assert set(found) == {("ImageFn", "LP360"), ("S3Fn", "LP361"), ("InlineFn", "LP361"), ("BucketFn", "LP361"),
                          ("SamInlineFn", "LP361"), ("SamBothFn", "LP361")}
    assert "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1" in found["ImageFn", "LP360"]["message"]
    assert "s3://artifacts/fn.zip" in found["BucketFn", "LP361"]["message"]
    assert "inline in the template (ZipFile)" in found["InlineFn", "LP361"]["message"]
    assert "inline in the template (InlineCode)" in found["SamInlineFn", "LP361"]["message"]
    # SAM takes InlineCode over a CodeUri set beside it (serverless-patterns' apigw-cognito-certificate-bound-...)
    assert "inline in the template (InlineCode)" in found["SamBothFn", "LP361"]["message"]
    assert found["S3Fn", "LP361"]["line"] == template.read_text().splitlines().index(
        "      CodeUri: s3://artifacts/fn.zip") + 1


def test_build_skips_them_with_a_note_and_refuses_one_named(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    template = project(tmp_path, FUNCTION + IMAGE_AND_S3)
    monkeypatch.chdir(tmp_path)
    assert main(["build", "--template", str(template)]) == 0
    err = capsys.readouterr().err
    assert "ImageFn: not built: a container image" in err and "S3Fn: not built: its code is at s3://" in err
    # serverless-patterns' InlineCode functions had been built from the template's folder: "nothing to package"
    assert "SamInlineFn: not built: its code is inline in the template (InlineCode)" in err
    assert sorted(p.name for p in (tmp_path / "dist").glob("*.zip")) == ["Fn.zip"]
    assert main(["build", "--template", str(template), "-f", "ImageFn"]) == 2
    assert "ImageFn: nothing to build: a container image" in capsys.readouterr().err


def test_invoke_says_why_an_image_cannot_run(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    project(tmp_path, IMAGE_AND_S3)
    monkeypatch.chdir(tmp_path)
    assert main(["invoke", "ImageFn", "--payload", "{}"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "ImageFn cannot run here: a container image" in err


def cdk_out(tmp_path: Path, handler_source: str) -> Path:
    """What `cdk synth` writes: a template whose code is an S3 object once deployed, and an asset folder
    beside it until then, named by the resource's aws:asset:path metadata."""
    out = tmp_path / "cdk.out"
    asset = out / "asset.0a1b2c3d4e5f"
    asset.mkdir(parents=True)
    (asset / "index.py").write_text(handler_source)
    template = {"Resources": {"ApiHandler5E7490E8": {
        "Type": "AWS::Lambda::Function",
        "Properties": {
            "Code": {"S3Bucket": {"Fn::Sub": "cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}"},
                     "S3Key": "0a1b2c3d4e5f.zip"},
            "Handler": "index.handler", "Runtime": "python3.12",
            "Role": {"Fn::GetAtt": ["ApiHandlerServiceRole", "Arn"]}},
        "Metadata": {"aws:cdk:path": "App/ApiHandler/Resource", "aws:asset:path": "asset.0a1b2c3d4e5f",
                     "aws:asset:is-bundled": False, "aws:asset:property": "Code"}}}}
    path = out / "AppStack.template.json"
    path.write_text(json.dumps(template))
    return path


def test_a_cdk_synth_template_is_checked_and_built_from_its_asset_folder(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    template = cdk_out(tmp_path, "import requests\n\ndef handler(event, context):\n    return requests\n")
    assert main(["check", str(template), "--format", "json"]) == 1
    codes = [f["code"] for f in json.loads(capsys.readouterr().out)["findings"]]
    assert codes == ["LP209"]  # the asset's code was read: its import is missing, not "code not local"
    (template.parent / "asset.0a1b2c3d4e5f" / "index.py").write_text(HANDLER.replace("handler", "handler", 1))
    monkeypatch.chdir(tmp_path)
    assert main(["build", "--template", str(template)]) == 0
    with zipfile.ZipFile(template.parent / "dist" / "ApiHandler5E7490E8.zip") as built:
        assert built.namelist() == ["index.py"]


def test_pseudo_parameters_are_printed_as_the_template_writes_them(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """IAM matching reads ``${AWS::AccountId}`` colon-free inside an ARN; a message shows it as written."""
    template = project(tmp_path, FUNCTION + """      Policies:
        - Version: '2012-10-17'
          Statement:
            - Effect: Allow
              Action: iam:PassRole
              Resource: !Sub "arn:aws:iam::${AWS::AccountId}:role/*"
""")
    assert main(["check", str(template), "--format", "json", "--select", "LP540"]) == 1
    (finding,) = json.loads(capsys.readouterr().out)["findings"]
    assert "arn:aws:iam::${AWS::AccountId}:role/*" in finding["message"]
    assert "${AWS.AccountId}" not in finding["message"]


MAKEFILE_LAYER = """  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: jwt_app.handler
      Runtime: python3.13
      Layers: [!Ref Deps]
  Deps:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: deps/
      CompatibleRuntimes: [python3.13]
    Metadata:
      BuildMethod: makefile
"""


@pytest.mark.parametrize(("makefile", "more", "built"), [
    # serverless-patterns' apigw-cognito-certificate-bound-access-token: `pip install jose -t ...` in a Makefile
    pytest.param("build-Deps:\n\tpip install python-jose -t $(ARTIFACTS_DIR)/python\n", {}, False, id="own-makefile"),
    # near misses: a declaration lpack reads, or the Makefile `lpack sam-makefile` writes: lpack builds it
    pytest.param("build-Deps:\n\tpip install -r requirements.txt -t $(ARTIFACTS_DIR)/python\n",
                 {"requirements.txt": ""}, True, id="declares-requirements"),
    pytest.param("build-Deps:\n\tlpack build ../template.yaml -f Deps --out $(ARTIFACTS_DIR)\n", {}, True,
                 id="lpack-makefile"),
])
def test_a_layer_its_own_makefile_builds_is_left_to_sam(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch, makefile: str,
                                                        more: dict[str, str], built: bool) -> None:
    template = project(tmp_path, MAKEFILE_LAYER)
    (tmp_path / "src" / "jwt_app.py").write_text("import jose\n\n\ndef handler(event, context):\n    return 1\n")
    (tmp_path / "deps").mkdir()
    (tmp_path / "deps" / "Makefile").write_text(makefile)
    (tmp_path / "deps" / "jose.py").write_text("")  # something to package from the folder
    for name, text in more.items():
        (tmp_path / "deps" / name).write_text(text)
    monkeypatch.chdir(tmp_path)
    assert main(["build", "--template", str(template)]) == 0
    err = capsys.readouterr().err
    assert (tmp_path / "dist" / "Deps.zip").exists() == built
    assert ("Deps: not built: `sam build` makes it with deps/Makefile (BuildMethod: makefile)" in err) == (not built)
    assert (tmp_path / "dist" / "Fn.zip").exists()  # its import is the layer's to provide: no LP209 either way
    if not built:  # checked from the sources before any build, with nothing in the folder: still its Makefile's
        (tmp_path / "dist" / "Fn.zip").unlink()
        (tmp_path / "deps" / "jose.py").unlink()
        main(["check", str(template), "--format", "json"])
        assert "LP209" not in {f["code"] for f in json.loads(capsys.readouterr().out)["findings"]}
        main(["check", str(template)])  # and it says the layer's folder was not read as the layer
        assert "1 layer from settings" in capsys.readouterr().out


@pytest.mark.parametrize(("code_uri", "handler", "expected"), [
    # serverless-patterns' textract pattern: no CodeUri, `sam build` packages the template's folder
    (None, "src/job.lambda_handler", {"src/job.py", "src/helper.py", "src/requirements.txt", "other.py"}),
    # lambda-kendra-bedrock: CodeUri names one .py file, packaged alone
    ("src/job.py", "job.lambda_handler", {"job.py"}),
])
def test_a_sam_function_without_a_codeuri_folder_builds_as_sam_does(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code_uri: str | None, handler: str,
        expected: set[str]) -> None:
    import zipfile

    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "job.py").write_text("def lambda_handler(event, context):\n    return 1\n")
    (tmp_path / "src" / "helper.py").write_text("X = 1\n")
    (tmp_path / "src" / "requirements.txt").write_text("")
    (tmp_path / "other.py").write_text("Y = 2\n")
    (tmp_path / "README.md").write_text("# not shipped\n")
    uri = f"      CodeUri: {code_uri}\n" if code_uri else ""
    template = tmp_path / "template.yaml"
    template.write_text(SAM + f"  Job:\n    Type: AWS::Serverless::Function\n    Properties:\n{uri}"
                              f"      Handler: {handler}\n      Runtime: python3.13\n")
    monkeypatch.chdir(tmp_path)
    assert main(["build", "--template", str(template), "-q"]) == 0
    with zipfile.ZipFile(tmp_path / "dist" / "Job.zip") as zf:
        assert {n for n in zf.namelist() if not n.endswith("/")} == expected


@pytest.mark.parametrize("manifest", [True, False])
def test_a_synth_without_asset_metadata_finds_the_asset_by_its_manifest(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], manifest: bool) -> None:
    """`python app.py` (or `cdk synth --no-asset-metadata`) writes no aws:asset:path; the assembly's
    STACK.assets.json still names the folder the S3 object is made from (serverless-patterns' CDK
    apps, synthesized here without the CLI). Without that manifest, the code is on S3 (LP361)."""
    template = cdk_out(tmp_path, "import requests\n\ndef handler(event, context):\n    return requests\n")
    data = json.loads(template.read_text())
    del data["Resources"]["ApiHandler5E7490E8"]["Metadata"]
    template.write_text(json.dumps(data))
    if manifest:
        (template.parent / "AppStack.assets.json").write_text(json.dumps({"version": "48.0.0", "files": {
            "0a1b2c3d4e5f": {"displayName": "ApiHandler/Code",
                             "source": {"path": "asset.0a1b2c3d4e5f", "packaging": "zip"},
                             "destinations": {"current_account-current_region": {
                                 "bucketName": "cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}",
                                 "objectKey": "0a1b2c3d4e5f.zip"}}}}}))
    main(["check", str(template), "--format", "json"])
    codes = [f["code"] for f in json.loads(capsys.readouterr().out)["findings"]]
    assert codes == (["LP209"] if manifest else ["LP361"])


@pytest.mark.parametrize(("logical_id", "judged"), [
    ("CustomCDKBucketDeployment8693BB64968944B69AAFB0CC9EB8756C81C01536", False),  # the CDK's own handler
    ("ApiHandler5E7490E8", True),  # near miss: the user's function with the same code is judged
])
def test_the_cdks_own_functions_are_not_judged_against_their_role(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], logical_id: str, judged: bool) -> None:
    """serverless-patterns' cloudfront-cff-s3-cdk-python: BucketDeployment's handler invalidates
    CloudFront only when given a distribution, and copies with the AWS CLI lpack cannot follow."""
    out = tmp_path / "cdk.out"
    (out / "asset.0a1b").mkdir(parents=True)
    (out / "asset.0a1b" / "index.py").write_text(
        "import boto3\n\ncloudfront = boto3.client('cloudfront')\n\n\ndef handler(event, context):\n"
        "    if event.get('DistributionId'):\n"
        "        cloudfront.create_invalidation(DistributionId=event['DistributionId'], InvalidationBatch={})\n")
    template = {"Resources": {
        "Role": {"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
            "ManagedPolicyArns": ["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"],
            "Policies": [{"PolicyName": "s3", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::site/*"}]}}]}},
        logical_id: {"Type": "AWS::Lambda::Function", "Properties": {
            "Code": {"S3Bucket": "cdk-assets", "S3Key": "0a1b.zip"}, "Handler": "index.handler",
            "Runtime": "python3.13", "Role": {"Fn::GetAtt": ["Role", "Arn"]}},
            "Metadata": {"aws:asset:path": "asset.0a1b", "aws:asset:property": "Code"}}}}
    path = out / "AppStack.template.json"
    path.write_text(json.dumps(template))
    main(["check", str(path), "--format", "json"])
    codes = {f["code"] for f in json.loads(capsys.readouterr().out)["findings"]}
    assert ("LP570" in codes) is judged
