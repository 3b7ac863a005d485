"""SAM and CloudFormation templates: real files, real parsing, findings at the template's lines."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from lpack.cli import main
from lpack.commands.check import CheckOptions, check_template
from lpack.inputs.template import load_template, read_template

DATA = Path(__file__).parent.parent / "data" / "templates"


def run(capsys: pytest.CaptureFixture[str], path: Path) -> tuple[int, list[dict[str, object]]]:
    code = main(["check", str(path), "--format", "json"])
    out = capsys.readouterr().out
    return code, json.loads(out)["findings"] if out.strip() else []


def line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), start=1) if text in line)


def test_healthy_sam_app_has_no_findings(capsys: pytest.CaptureFixture[str]) -> None:
    code, findings = run(capsys, DATA / "healthy" / "template.yaml")
    assert (code, findings) == (0, [])


@pytest.mark.parametrize(("case", "code", "marker"), [
    pytest.param("memory-64", "LP321", "MemorySize: 64", id="memory-from-globals"),
    pytest.param("env-too-large", "LP301", "Variables:", id="environment-too-large"),
    pytest.param("reserved-env", "LP304", "AWS_REGION:", id="reserved-name"),
    pytest.param("admin-policy", "LP520", '- Effect: Allow\n              Action: "*"', id="admin-statement"),
    pytest.param("public-permission", "LP550", "PublicInvoke:", id="public-permission"),
])
def test_one_finding_at_the_template_line(capsys: pytest.CaptureFixture[str], case: str, code: str,
                                          marker: str) -> None:
    template = DATA / case / "template.yaml"
    exit_code, findings = run(capsys, template)
    assert exit_code == 1
    assert [(f["code"], f["path"]) for f in findings] == [(code, str(template.relative_to(Path.cwd())))]
    text = template.read_text()
    assert findings[0]["line"] == text[: text.index(marker)].count("\n") + 1 + marker.count("\n") * 0


def test_function_overriding_globals_stays_quiet() -> None:
    units = {u.name: u for u in load_template(DATA / "memory-64" / "template.yaml").project.units}
    assert units["BigFunction"].settings.memory == 1024
    assert units["WorkerFunction"].settings.memory == 64


def test_missing_handler_function_points_into_the_source(capsys: pytest.CaptureFixture[str]) -> None:
    code, findings = run(capsys, DATA / "handler-missing" / "template.yaml")
    assert code == 1
    assert [(f["code"], f["path"], f["line"], f["function"]) for f in findings] == [
        ("LP206", str((DATA / "healthy" / "src" / "worker.py").relative_to(Path.cwd())), 1, "ApiFunction")]


def test_json_template(capsys: pytest.CaptureFixture[str]) -> None:
    template = DATA / "json-template" / "template.json"
    code, findings = run(capsys, template)
    assert code == 1
    assert [(f["code"], f["line"]) for f in findings] == [("LP323", line_of(template, '"Timeout"'))]


def test_not_a_template_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    path = DATA / "not-a-template" / "config.yaml"
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "not a CloudFormation or SAM template" in err


def test_invalid_yaml_names_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "template.yaml"
    path.write_text("Resources:\n  Fn: [unclosed\n")
    assert main(["check", str(path)]) == 2
    assert f"{path}: not valid YAML" in capsys.readouterr().err


def test_short_form_tags_become_long_form(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(
        "Resources:\n  A:\n    Type: AWS::S3::Bucket\n    Properties:\n"
        "      R: !Ref X\n      G: !GetAtt Role.Arn\n      L: !GetAtt [Role, Arn]\n"
        "      S: !Sub 'a-${X}'\n      J: !Join [',', [a, !Ref X]]\n      I: !If [C, 1, !Ref AWS::NoValue]\n"
        "      D: 2012-10-17\n      U: !Unknown x\n")
    data = read_template(path)
    assert data is not None
    props = data["Resources"]["A"]["Properties"]
    assert props == {
        "R": {"Ref": "X"}, "G": {"Fn::GetAtt": ["Role", "Arn"]}, "L": {"Fn::GetAtt": ["Role", "Arn"]},
        "S": {"Fn::Sub": "a-${X}"}, "J": {"Fn::Join": [",", ["a", {"Ref": "X"}]]},
        "I": {"Fn::If": ["C", 1, {"Ref": "AWS::NoValue"}]}, "D": "2012-10-17", "U": {"Fn::Unknown": "x"},
    }
    assert props.lines["G"] == 6


def test_template_becomes_a_project() -> None:
    found = load_template(DATA / "healthy" / "template.yaml")
    units = {u.name: u for u in found.project.units}
    api = units["ApiFunction"]
    assert (api.kind, api.handler, api.runtime, api.layers) == ("function", "app.handler", "python3.12", ("SharedLayer",))
    assert api.settings.timeout == 10
    assert api.settings.environment == {"STAGE": "prod", "TABLE_NAME": "${Orders}",
                                           "TABLE_ARN": "${Orders.Arn}", "GREETING": "hello-prod"}
    assert units["SharedLayer"].kind == "layer"
    assert found.lines["ApiFunction"]["handler"] == line_of(found.path, "Handler: app.handler")
    assert found.iam["WorkerFunction"].trust is not None
    assert found.iam["WorkerFunction"].resource is not None
    assert len(found.iam["ApiFunction"].inline) == 1


def test_policy_templates_are_noted_not_expanded() -> None:
    iam = load_template(DATA / "admin-policy" / "template.yaml").iam["WorkerFunction"]
    assert (iam.templates, iam.opaque) == (("S3ReadPolicy",), ())


def test_intrinsic_settings_are_skipped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copytree(DATA / "healthy" / "src", tmp_path / "src")
    (tmp_path / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\nParameters:\n  Mem:\n    Type: Number\n"
        "Conditions:\n  Big: !Equals [a, b]\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n"
        "    Properties:\n      CodeUri: src/\n      Handler: worker.handle\n      Runtime: python3.12\n"
        "      MemorySize: !Ref Mem\n      Timeout: !If [Big, 30, 10]\n"
        "      Environment:\n        Variables:\n          QUEUE: !GetAtt Queue.QueueName\n"
        "      Policies:\n        - Version: '2012-10-17'\n          Statement:\n            - Effect: Allow\n"
        "              Action: !If [Big, 's3:*', 's3:GetObject']\n              Resource: '*'\n"
        "  Queue:\n    Type: AWS::SQS::Queue\n")
    assert run(capsys, tmp_path / "template.yaml") == (0, [])


def test_other_runtimes_are_skipped_and_images_are_units_without_code(tmp_path: Path) -> None:
    (tmp_path / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\nResources:\n"
        "  Node:\n    Type: AWS::Serverless::Function\n    Properties:\n      Runtime: nodejs20.x\n"
        "      CodeUri: s3://bucket/code.zip\n      Handler: index.handler\n"
        "  Image:\n    Type: AWS::Serverless::Function\n    Properties:\n      PackageType: Image\n")
    found = load_template(tmp_path / "template.yaml")
    assert found.skipped == ("Node",)
    (image,) = found.project.units
    assert (image.name, image.source, image.settings.features.package_type) == ("Image", None, "Image")


def sam_build(tmp_path: Path, vendored: bool) -> Path:
    build = tmp_path / ".aws-sam" / "build"
    fn = build / "WorkerFunction"
    (fn / "requests_lite").mkdir(parents=True)
    (fn / "requests_lite" / "__init__.py").write_text("def get(url):\n    return url\n")
    (fn / "app.py").write_text("import requests_lite\n\n\ndef handler(event, context):\n    return requests_lite.get('x')\n")
    (fn / "requirements.txt").write_text("requests-lite\n")
    if not vendored:
        shutil.rmtree(fn / "requests_lite")
    (build / "template.yaml").write_text(
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  WorkerFunction:\n"
        "    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: WorkerFunction\n"
        "      Handler: app.handler\n      Runtime: python3.12\n")
    return build / "template.yaml"


def test_sam_build_output_is_checked_as_is(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    template = sam_build(tmp_path, vendored=True)
    found = load_template(template)
    assert found.built and found.project.units[0].requirements is None
    assert run(capsys, template) == (0, [])


def test_sam_build_output_missing_dependency(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, findings = run(capsys, sam_build(tmp_path, vendored=False))
    assert code == 1 and [f["code"] for f in findings] == ["LP209"]


def test_folder_with_only_a_template(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copytree(DATA / "memory-64", tmp_path / "app")
    shutil.copytree(DATA / "healthy" / "src", tmp_path / "healthy" / "src")
    code, findings = run(capsys, tmp_path / "app")
    assert code == 1 and [f["code"] for f in findings] == ["LP321"]


def test_check_template_api() -> None:
    findings = check_template(DATA / "reserved-env" / "template.yaml", CheckOptions())
    assert [(f.code, f.function) for f in findings] == [("LP304", "WorkerFunction")]


def test_unquoted_numbers_and_booleans_in_environment_are_strings_to_cloudformation(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """CloudFormation passes `FLAG: true` to Lambda as "true": no type finding (a TOML config gets one)."""
    shutil.copytree(DATA / "healthy" / "src", tmp_path / "src")
    (tmp_path / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n"
        "    Properties:\n      CodeUri: src/\n      Handler: worker.handle\n      Runtime: python3.12\n"
        "      Environment:\n        Variables:\n          FLAG: true\n          RETRIES: 5\n          RATIO: 0.5\n")
    assert run(capsys, tmp_path / "template.yaml") == (0, [])
    from lpack.inputs.template import load_template

    unit = load_template(tmp_path / "template.yaml").project.unit("Fn")
    assert unit.settings.environment == {"FLAG": "true", "RETRIES": "5", "RATIO": "0.5"}


# -- real templates that lpack used to misread (reduced) ----------------------------------------

def sam_app(tmp_path: Path, resources: str, head: str = "") -> Path:
    """A SAM template (``Resources:`` body given) next to a ``src/`` folder with ``app.handler``."""
    (tmp_path / "src").mkdir(exist_ok=True)
    (tmp_path / "src" / "app.py").write_text("def handler(event, context):\n    return 1\n")
    path = tmp_path / "template.yaml"
    path.write_text(f"Transform: AWS::Serverless-2016-10-31\n{head}Resources:\n{resources}")
    return path


def test_retired_python_runtime_is_skipped_not_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """SAM's own examples still say python2.7 and python3.6: lpack has no facts for them, so it
    leaves those functions (and layers) alone, as it does other languages, and checks the rest."""
    template = sam_app(tmp_path, (
        "  Old:\n    Type: AWS::Serverless::Function\n    Properties:\n"
        "      CodeUri: s3://bucket/old.zip\n      Handler: hello.handler\n      Runtime: python2.7\n"
        "  Layer:\n    Type: AWS::Serverless::LayerVersion\n    Properties:\n      ContentUri: src/\n"
        "      CompatibleRuntimes: [python3.6, python3.12]\n"
        "  New:\n    Type: AWS::Serverless::Function\n    Properties:\n"
        "      CodeUri: src/\n      Handler: app.handler\n      Runtime: python3.12\n      Layers: [!Ref Layer]\n"))
    assert run(capsys, template) == (0, [])
    found = load_template(template)
    assert found.skipped == ("Old",)
    assert found.project.unit("Layer").runtime == "python3.12"


@pytest.mark.parametrize("code_uri", ["./deployment.zip", "build/lambda.zip"])
def test_code_uri_naming_a_zip_is_not_a_missing_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                      code_uri: str) -> None:
    """`CodeUri: ./deployment.zip` (Chalice, Makefile builds) is a package, made before deploying:
    the settings are still checked; the package is checked when it exists (here an empty zip,
    without the handler's module: LP204), and need not exist yet."""
    (tmp_path / "deployment.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)
    template = sam_app(tmp_path, (
        "  Api:\n    Type: AWS::Serverless::Function\n    Properties:\n"
        f"      CodeUri: {code_uri}\n      Handler: app.app\n      Runtime: python3.12\n      Timeout: 901\n"))
    code, findings = run(capsys, template)
    expected = ["LP323", "LP204"] if (tmp_path / code_uri).is_file() else ["LP323"]
    assert (code, [f["code"] for f in findings]) == (1, expected)
    assert load_template(template).project.unit("Api").source is None


def test_missing_code_folder_is_still_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    template = sam_app(tmp_path, (
        "  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n"
        "      CodeUri: srcc/\n      Handler: app.handler\n      Runtime: python3.12\n"))
    assert main(["check", str(template)]) == 2
    assert "CodeUri 'srcc/': no such folder" in capsys.readouterr().err


def test_ignore_globals(tmp_path: Path) -> None:
    """SAM's `IgnoreGlobals` resource attribute: '*' or a list of Globals properties the function
    does not take."""
    template = sam_app(tmp_path, (
        "  All:\n    Type: AWS::Serverless::Function\n    IgnoreGlobals: '*'\n    Properties:\n"
        "      CodeUri: src/\n      Handler: app.handler\n      Runtime: python3.12\n"
        "  Some:\n    Type: AWS::Serverless::Function\n    IgnoreGlobals: [Timeout, Environment]\n"
        "    Properties:\n      CodeUri: src/\n      Handler: app.handler\n      Runtime: python3.12\n"
        "  Plain:\n    Type: AWS::Serverless::Function\n    Properties:\n"
        "      CodeUri: src/\n      Handler: app.handler\n      Runtime: python3.12\n"), head=(
        "Globals:\n  Function:\n    Timeout: 900\n    MemorySize: 64\n"
        "    Environment:\n      Variables:\n        AWS_REGION: eu-west-1\n"))
    settings = {u.name: u.settings.configured() for u in load_template(template).project.units}
    assert settings["All"] == {}
    assert settings["Some"] == {"memory": 64}
    assert settings["Plain"] == {"memory": 64, "timeout": 900, "environment": {"AWS_REGION": "eu-west-1"}}


ROLE = (
    "  Fn:\n    Type: AWS::Lambda::Function\n    Properties:\n      Code: src/\n      Handler: app.handler\n"
    "      Runtime: python3.12\n      Role: !GetAtt Role.Arn\n"
    "  Role:\n    Type: AWS::IAM::Role\n    Properties:\n")
TRUST = ("      AssumeRolePolicyDocument:\n        Version: '2012-10-17'\n        Statement:\n"
         "          - Effect: Allow\n            Principal: {Service: lambda.amazonaws.com}\n"
         "            Action: sts:AssumeRole\n")


@pytest.mark.parametrize("policies", [
    pytest.param("        - PolicyName: included\n          PolicyDocument:\n            Fn::Transform:\n"
                 "              Name: AWS::Include\n              Parameters: {Location: 's3://bucket/policy.yaml'}\n",
                 id="aws-include"),
    pytest.param("        - PolicyName: text\n          PolicyDocument: !Sub |\n"
                 '            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",\n'
                 '             "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*"}]}\n',
                 id="sub-json-text"),
    pytest.param("        - PolicyName: conditional\n          PolicyDocument:\n            Version: '2012-10-17'\n"
                 "            Statement: !If\n              - Prod\n"
                 "              - [{Effect: Allow, Action: 'logs:*', Resource: '*'}]\n"
                 "              - [{Effect: Allow, Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: '*'}]\n",
                 id="statement-if"),
    pytest.param("        - PolicyName: partly\n          PolicyDocument:\n            Version: '2012-10-17'\n"
                 "            Statement:\n              - {Effect: Allow, Action: 's3:ListAllMyBuckets', Resource: '*'}\n"
                 "              - Effect: Allow\n                Action: !If [Prod, ['logs:CreateLogStream', 'logs:PutLogEvents'], "
                 "'logs:PutLogEvents']\n                Resource: '*'\n",
                 id="action-if"),
])
def test_policy_documents_made_at_deployment_are_not_misread(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                             policies: str) -> None:
    """A PolicyDocument that CloudFormation makes (AWS::Include, a !Sub of JSON text, a conditional
    Statement) is unreadable to lpack: not "a policy must be a JSON object", and the role-wide rules
    (LP560: no grant of the log actions) stay quiet as they do for an unknown managed policy."""
    template = sam_app(tmp_path, ROLE + TRUST + "      Policies:\n" + policies,
                       head="Conditions:\n  Prod: !Equals [a, a]\n")
    assert run(capsys, template) == (0, [])
    assert load_template(template).iam["Fn"].unreadable != ()


def test_trust_policy_made_at_deployment_is_skipped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    template = sam_app(tmp_path, ROLE + (
        "      AssumeRolePolicyDocument: !Sub |\n"
        '        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": '
        '"lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}\n'
        "      ManagedPolicyArns: [arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]\n"))
    assert run(capsys, template) == (0, [])
    assert load_template(template).iam["Fn"].trust is None


def test_ref_to_a_list_parameter_is_a_list_of_resources(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`Resource: !Ref DataArns` (CommaDelimitedList) is one resource per item, not one ARN with
    commas in it (which made dynamodb:GetItem look like it had no table to act on)."""
    template = sam_app(tmp_path, (
        "  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: src/\n"
        "      Handler: app.handler\n      Runtime: python3.12\n      Policies:\n"
        "        - Version: '2012-10-17'\n          Statement:\n            - Effect: Allow\n"
        "              Action: [s3:GetObject, dynamodb:GetItem]\n              Resource: !Ref DataArns\n"
        "            - Effect: Allow\n              Action: s3:ListBucket\n"
        "              Resource: !Split [',', !Ref Buckets]\n"), head=(
        "Parameters:\n  DataArns:\n    Type: CommaDelimitedList\n"
        "    Default: 'arn:aws:s3:::bucket/*, arn:aws:dynamodb:us-east-1:123456789012:table/t'\n"
        "  Buckets:\n    Type: String\n    Default: 'arn:aws:s3:::a,arn:aws:s3:::b'\n"))
    assert run(capsys, template) == (0, [])
    statements = load_template(template).iam["Fn"].inline[0].policy.statements
    assert [s.resources for s in statements] == [
        ("arn:aws:s3:::bucket/*", "arn:aws:dynamodb:us-east-1:123456789012:table/t"),
        ("arn:aws:s3:::a", "arn:aws:s3:::b")]


def test_environment_variable_set_to_no_value_is_removed(tmp_path: Path) -> None:
    template = sam_app(tmp_path, (
        "  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: src/\n"
        "      Handler: app.handler\n      Runtime: python3.12\n      Environment:\n        Variables:\n"
        "          KEEP: x\n          DROP: !Ref AWS::NoValue\n          MAYBE: !If [Prod, y, !Ref AWS::NoValue]\n"),
        head="Conditions:\n  Prod: !Equals [a, a]\n")
    assert load_template(template).project.unit("Fn").settings.environment == {"KEEP": "x", "MAYBE": "${Fn.If}"}


def test_sam_policy_templates_are_inline_policies_not_managed(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    """SAM writes each policy template as an inline policy of the role it makes: ten of them are not
    eleven managed policies (LP561), with AWSLambdaBasicExecutionRole."""
    policies = "".join(f"        - SQSPollerPolicy:\n            QueueName: queue-{i}\n" for i in range(10))
    template = sam_app(tmp_path, (
        "  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: src/\n"
        "      Handler: app.handler\n      Runtime: python3.12\n      Policies:\n" + policies))
    assert run(capsys, template) == (0, [])
    assert load_template(template).iam["Fn"].templates == ("SQSPollerPolicy",) * 10


def test_permission_on_the_sam_alias_is_the_function_s(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`FunctionName: !Ref Fn.Alias` (SAM's AutoPublishAlias) grants on the function's alias: its
    statement belongs to the function's resource policy."""
    template = sam_app(tmp_path, (
        "  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: src/\n"
        "      Handler: app.handler\n      Runtime: python3.12\n      AutoPublishAlias: live\n"
        "  FromS3:\n    Type: AWS::Lambda::Permission\n    Properties:\n      FunctionName: !Ref Fn.Alias\n"
        "      Action: lambda:InvokeFunction\n      Principal: s3.amazonaws.com\n"))
    code, findings = run(capsys, template)
    assert (code, [(f["code"], f["line"]) for f in findings]) == (0, [("LP551", line_of(template, "FromS3:"))])


def test_an_unreadable_inline_policy_does_not_count_as_a_managed_one(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """LP561 counts managed policies (IAM's 10 per role); an inline document made at deployment is
    unreadable, not managed."""
    arns = "".join(f"        - arn:aws:iam::123456789012:policy/p{i}\n" for i in range(10))
    template = sam_app(tmp_path, ROLE + TRUST + "      ManagedPolicyArns:\n" + arns + "      Policies:\n"
                       "        - PolicyName: text\n          PolicyDocument: !Sub |\n"
                       '            {"Version": "2012-10-17", "Statement": []}\n')
    assert "LP561" not in [f["code"] for f in run(capsys, template)[1]]
    arns += "        - arn:aws:iam::123456789012:policy/p10\n"
    (tmp_path / "eleven").mkdir()
    template = sam_app(tmp_path / "eleven", ROLE + TRUST + "      ManagedPolicyArns:\n" + arns)
    assert "LP561" in [f["code"] for f in run(capsys, template)[1]]


def test_a_code_uri_zip_is_the_package_for_check_build_and_invoke(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """A template whose CodeUri names an already built .zip: check reads that zip, build leaves it
    alone, invoke runs it."""
    import sys
    import zipfile

    with zipfile.ZipFile(tmp_path / "fn.zip", "w") as out:
        entry = zipfile.ZipInfo("app.py")
        entry.external_attr = 0o644 << 16  # readable on Lambda (LP120 otherwise)
        out.writestr(entry, "def handler(event, context):\n    return 'from the zip'\n")
    template = tmp_path / "template.yaml"
    template.write_text("Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n"
                        "    Properties:\n      CodeUri: fn.zip\n      Handler: app.missing\n      Runtime: python3.12\n")
    code, findings = run(capsys, template)
    assert (code, [f["code"] for f in findings]) == (1, ["LP206"])
    assert findings[0]["path"].endswith("fn.zip:app.py")
    template.write_text(template.read_text().replace("app.missing", "app.handler"))
    assert run(capsys, template) == (0, [])
    assert main(["build", "--template", str(template), "-q"]) == 0
    assert not (tmp_path / "dist").exists()
    capsys.readouterr()
    code = main(["invoke", str(template), "--payload", "{}", "--python", sys.executable,
                 "--runtime", f"python{sys.version_info[0]}.{sys.version_info[1]}", "--format", "json"])
    assert code == 0
    assert json.loads(capsys.readouterr().out)["invocations"][0]["response"] == "from the zip"


def test_a_misspelt_python_runtime_is_an_error_not_another_language(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("def handler(event, context):\n    return 1\n")
    template = ("Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n"
                "    Properties:\n      CodeUri: src/\n      Handler: app.handler\n      Runtime: {}\n")
    (tmp_path / "template.yaml").write_text(template.format("pyhton3.12"))
    assert main(["check", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip().endswith(
        "template.yaml:8: Resources.Fn.Runtime: 'pyhton3.12' is not a Lambda runtime; did you mean 'python3.12'?")
    for other in ("nodejs20.x", "python3.6", "java21"):  # another language, or a retired Python: not lpack's
        (tmp_path / "template.yaml").write_text(template.format(other))
        assert main(["check", str(tmp_path)]) == 0


@pytest.mark.parametrize("logical_id", ["../../outside/pwn", "/tmp/lpack-pwn", "Fn-1", "A" * 256])
def test_logical_id_cloudformation_refuses_is_an_error_and_writes_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], logical_id: str) -> None:
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    (project / "src" / "app.py").write_text("def handler(event, context):\n    return event\n")
    template = project / "template.yaml"
    template.write_text("Transform: AWS::Serverless-2016-10-31\nResources:\n"
                        f"  {json.dumps(logical_id)}:\n    Type: AWS::Serverless::Function\n"
                        "    Properties:\n      CodeUri: src\n      Handler: app.handler\n      Runtime: python3.12\n")
    before = set(tmp_path.rglob("*"))
    assert main(["build", "--template", str(template), "--cache-dir", str(tmp_path / "cache")]) == 2
    err = capsys.readouterr().err
    assert f"template.yaml: line 3: Resources: logical ID {logical_id[:100]!r} is not valid" in err
    assert set(tmp_path.rglob("*")) == before
    assert not Path("/tmp/lpack-pwn.zip").exists()


def test_a_name_that_leaves_dist_is_refused_by_the_plan(tmp_path: Path) -> None:
    from lpack.core.errors import ConfigError
    from lpack.inputs.config import Project, Unit
    from lpack.plan import plan

    project = Project(root=tmp_path, config_path=None, dist=tmp_path / "dist", installer=None,
                      units=(unit := Unit(name="../pwn", kind="function", where="x", source=tmp_path, requirements=None),))
    with pytest.raises(ConfigError, match="would put its zip outside"):
        _ = plan(project, unit, runtime="python3.12").artifact


def test_a_role_two_functions_share_is_linted_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A SAM template's AWS::IAM::Role that two functions name: its statement's finding once."""
    root = tmp_path / "app"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text("def handler(event, context):\n    return 1\n")
    functions = "".join(f"""
  {name}:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src
      Handler: app.handler
      Runtime: python3.12
      Role: !GetAtt Shared.Arn
""" for name in ("First", "Second"))
    (root / "template.yaml").write_text(f"""Transform: AWS::Serverless-2016-10-31
Resources:{functions}
  Shared:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - {{Effect: Allow, Principal: {{Service: lambda.amazonaws.com}}, Action: sts:AssumeRole}}
      Policies:
        - PolicyName: all
          PolicyDocument:
            Statement:
              - {{Effect: Allow, Action: "s3:*", Resource: "*"}}
""")
    _code, findings = run(capsys, root / "template.yaml")
    wildcard = [f for f in findings if f["code"] == "LP521"]
    assert len(wildcard) == 1 and "(2 functions have this policy: First, Second)" in str(wildcard[0]["message"])
