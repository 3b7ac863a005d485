"""A Serverless Framework service (serverless.yml) read as its functions (lpack.inputs.template.
serverless): `lpack build` in the service's folder writes what `serverless package` with
serverless-python-requirements would zip for each Python function, for the target, with no
lpack.toml. Shapes from serverless/examples (aws-python-*) and the plugin's documentation."""

from __future__ import annotations

import json
import textwrap
import zipfile
from pathlib import Path

import pytest

from lpack.cli import main
from lpack.inputs.detect import load
from tests.factories.wheels import make_wheel


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    house = tmp_path_factory.mktemp("sls-wheels")
    for name in ("alpha", "beta"):
        make_wheel(house, name, "1.0", files={f"{name}/__init__.py": f"NAME = {name!r}\n"})
        make_wheel(house, name, "2.0", files={f"{name}/__init__.py": f"NAME = {name!r}\n"})  # what a re-resolve ships
    return house


def service(root: Path, wheels: Path, yml: str, files: dict[str, str] | None = None) -> Path:
    root.mkdir(parents=True)
    (root / "serverless.yml").write_text(textwrap.dedent(yml))
    (root / "requirements.txt").write_text(f"--no-index\n--find-links {wheels}\nalpha==1.0\n")
    for rel, text in {"handler.py": "import alpha\n\n\ndef hello(event, context):\n    return alpha.NAME\n",
                      **(files or {})}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def names(zip_path: Path) -> set[str]:
    with zipfile.ZipFile(zip_path) as zf:
        return {n for n in zf.namelist() if not n.endswith("/")}


def build(root: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, object], str]:
    code = main(["build", str(root), "--cache-dir", str(root.parent / "cache"), "--format", "json", *args])
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.strip().startswith("{") else {}, err


def test_a_service_builds_each_python_function_as_serverless_would_package_it(
        tmp_path: Path, wheels: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LPACK_TEST_TABLE", "hello")
    root = service(tmp_path / "svc", wheels, """\
        service: orders
        frameworkVersion: '3'
        custom:
          table: ${env:LPACK_TEST_TABLE}-${sls:stage}-${self:provider.region}
          arch: arm64
        provider:
          name: aws
          runtime: python3.12
          architecture: ${self:custom.arch}
          stage: ${opt:stage, 'dev'}
          environment:
            TABLE: ${self:custom.table}
            SECRET: ${ssm:/orders/secret}
        package:
          patterns:
            - '!tests/**'
            - '!docs-site/**'
        functions:
          hello:
            handler: handler.hello
            events:
              - httpApi: '*'
          worker:
            handler: handler.work
            module: worker
            memorySize: 256
            layers:
              - arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-arm64:7
          web:
            handler: index.handler
            runtime: nodejs20.x
        """, {"worker/handler.py": "import beta\n\n\ndef work(event, context):\n    return beta.NAME\n",
              "worker/requirements.txt": f"--no-index\n--find-links {wheels}\nbeta==1.0\n",
              "tests/test_handler.py": "", "docs-site/page.py": "", "lib/util.py": "", "index.js": ""})
    code, report, err = build(root, capsys)
    assert code == 0, err
    assert [a["name"] for a in report["artifacts"]] == ["hello", "worker"]  # web is Node.js: not lpack's
    # the service's folder, as Serverless zips it for a function without a module, less the patterns
    assert names(root / "dist" / "hello.zip") >= {"handler.py", "lib/util.py", "alpha/__init__.py"}
    assert not names(root / "dist" / "hello.zip") & {"tests/test_handler.py", "docs-site/page.py", "serverless.yml"}
    # the module's files at the package's root, its own requirements (beta, not the service's alpha)
    assert tops(root / "dist" / "worker.zip") == {"handler.py", "beta", "beta-1.0.dist-info"}
    project, template = load(root)
    assert template is not None and template.skipped == ("web",)
    hello, worker = project.units
    assert (hello.runtime, hello.architecture, hello.handler) == ("python3.12", "arm64", "handler.hello")
    assert (hello.settings.memory, hello.settings.timeout) == (1024, 6)  # Serverless's defaults, not Lambda's
    # provider.region unset: Serverless's default, as it fills it in before it resolves variables
    assert hello.settings.environment == {"TABLE": "hello-dev-us-east-1", "SECRET": "${ssm:/orders/secret}"}
    assert (worker.settings.memory, worker.layers) == (256, (
        "arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-arm64:7",))


def tops(zip_path: Path) -> set[str]:
    return {name.split("/")[0] for name in names(zip_path)}


def test_patterns_that_exclude_everything_then_bring_files_back_apply_to_the_code_not_the_dependencies(
        tmp_path: Path, wheels: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """serverless/examples' aws-python-auth0-custom-authorizers-api: `exclude: ./**`, then `include`
    the handler and vendored/**. The plugin's requirements are added after the patterns."""
    root = service(tmp_path / "svc", wheels, """\
        service: auth
        provider: {name: aws, runtime: python3.12}
        package:
          exclude:
            - ./**
          include:
            - vendored/**
            - handler.py
        functions:
          hello: {handler: handler.hello}
        """, {"vendored/extra/__init__.py": "", "frontend/app.py": "", "other.py": ""})
    code, _report, err = build(root, capsys)
    assert code == 0, err
    assert tops(root / "dist" / "hello.zip") == {"handler.py", "vendored", "alpha", "alpha-1.0.dist-info"}


def test_the_plugins_layer_holds_the_dependencies_and_the_functions_that_use_it_none(
        tmp_path: Path, wheels: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = service(tmp_path / "svc", wheels, """\
        service: layered
        provider: {name: aws, runtime: python3.12}
        custom:
          pythonRequirements:
            layer: true
        functions:
          hello:
            handler: handler.hello
            layers:
              - Ref: PythonRequirementsLambdaLayer
        """)
    code, report, err = build(root, capsys)
    assert code == 0, err
    assert sorted(a["name"] for a in report["artifacts"]) == ["hello", "pythonRequirements"]
    assert names(root / "dist" / "hello.zip") == {"handler.py"}
    assert "python/alpha/__init__.py" in names(root / "dist" / "pythonRequirements.zip")


@pytest.mark.parametrize(("yml", "message"), [
    ("provider: {name: aws, runtime: python3.12}\nfunctions:\n  hello:\n    handler: ${file(./h.yml):handler}\n",
     (r"serverless.yml: functions.hello.handler is '\$\{file\(./h.yml\):handler\}', which only the deployment can "
      r"resolve")),
    ("provider: {name: aws, runtime: pyhton3.12}\nfunctions:\n  hello:\n    handler: handler.hello\n",
     r"'pyhton3.12' is not a Lambda runtime; did you mean 'python3.12'\?"),
    ("provider: {name: google, runtime: python3.12}\nfunctions:\n  hello:\n    handler: handler.hello\n",
     r"provider.name is 'google': lpack builds for AWS Lambda only"),
    ("provider: {name: aws, runtime: python3.12}\nfunctions:\n  ../../etc:\n    handler: handler.hello\n",
     r"name functions with letters, digits, '-' and '_'"),
    (("provider: {name: aws, runtime: python3.12}\nfunctions:\n  hello:\n    handler: handler.hello\n"
      "    package: {artifact: build/hello.zip}\n"), r"package.artifact 'build/hello.zip' is not there"),
    ("provider: {name: aws, runtime: python3.12}\nfunctions:\n  hello: {events: []}\n",
     r"serverless.yml: line 3: functions.hello: no handler; set `handler:`"),
    ("provider: {name: aws, runtime: python3.12}\nfunctions:\n  hello: {handler: [a, b]}\n", r"functions.hello: no handler"),
    ("provider: {name: aws, runtime: python3.12}\nfunctions:\n  hello: {handler: handler.hello, module: nope}\n",
     r"functions.hello.module 'nope' is not a folder under"),
    ("provider: {name: aws, runtime: python3.12}\nfunctions:\n  hello: {handler: handler.hello, module: 5}\n",
     r"functions.hello.module is 5; give the function's folder"),
    (("provider: {name: aws, runtime: python3.12}\nfunctions:\n  - hello: {handler: handler.hello}\n"
      "  - hello: {handler: handler.hello}\n"), r"functions.hello is defined twice; keep one"),
])
def test_what_lpack_cannot_read_is_one_line_and_exit_2(tmp_path: Path, wheels: Path,
                                                       capsys: pytest.CaptureFixture[str], yml: str,
                                                       message: str) -> None:
    root = service(tmp_path / "svc", wheels, yml)
    code, _report, err = build(root, capsys)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert __import__("re").search(message, err), err
    assert not (root / "dist").exists()


@pytest.mark.parametrize("custom", [
    "  a: ${self:custom.a}\n",  # refers to itself
    "".join(f"  v{i}: " + ("${self:custom.v" + str(i + 1) + "}") * 10 + "\n" for i in range(12)),  # 10**12 expanded
])
def test_variables_that_never_end_are_an_error_not_a_hang(tmp_path: Path, wheels: Path,
                                                          capsys: pytest.CaptureFixture[str], custom: str) -> None:
    first = "${self:custom.a}" if "a:" in custom else "${self:custom.v0}"
    root = service(tmp_path / "svc", wheels, f"custom:\n{custom}provider: {{name: aws, runtime: python3.12}}\n"
                                             f"functions:\n  hello:\n    handler: handler.hello\n    module: '{first}'\n")
    code, _report, err = build(root, capsys)
    assert code == 2 and "functions.hello.module is" in err and "which only the deployment can resolve" in err, err


def test_a_handler_a_plugin_writes_is_left_to_serverless_with_the_reason(
        tmp_path: Path, wheels: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """serverless-wsgi writes wsgi_handler.py when it packages (serverless/examples' aws-python-flask-api)."""
    root = service(tmp_path / "svc", wheels, """\
        service: flask
        provider: {name: aws, runtime: python3.12}
        plugins: [serverless-wsgi, serverless-python-requirements]
        functions:
          api: {handler: wsgi_handler.handler}
          hello: {handler: handler.hello}
        """)
    code, report, err = build(root, capsys)
    assert code == 0, err
    assert [a["name"] for a in report["artifacts"]] == ["hello"]
    assert ("lpack: note: api: not built: the Serverless plugin serverless-wsgi writes its handler's module "
            "(wsgi_handler.py) when it packages") in " ".join(err.split())


def test_lpacks_own_configuration_and_a_sam_template_win_over_serverless_yml(
        tmp_path: Path, wheels: Path) -> None:
    root = service(tmp_path / "svc", wheels, "provider: {name: aws, runtime: python3.12}\n"
                                             "functions:\n  hello: {handler: handler.hello}\n")
    assert [u.name for u in load(root)[0].units] == ["hello"]
    (root / "lpack.toml").write_text('handler = "handler.hello"\n')
    project, template = load(root)
    assert template is None and project.config_path == root / "lpack.toml"
    (root / "lpack.toml").unlink()
    (root / "template.yaml").write_text("Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n"
                                        "    Type: AWS::Serverless::Function\n    Properties:\n"
                                        "      Handler: handler.hello\n      Runtime: python3.12\n")
    assert [u.name for u in load(root)[0].units] == ["Fn"]


def test_a_serverless_ts_service_says_lpack_does_not_run_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "svc"
    root.mkdir()
    (root / "serverless.ts").write_text("export default { service: 'x' };\n")
    (root / "handler.py").write_text("def hello(event, context):\n    return 1\n")
    assert main(["build", str(root)]) == 2
    err = capsys.readouterr().err
    assert "serverless.ts: lpack reads serverless.yml, not a serverless.ts program" in err


def test_check_invoke_and_plan_read_the_same_functions(tmp_path: Path, wheels: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    root = service(tmp_path / "svc", wheels, """\
        provider: {name: aws, runtime: python3.12, timeout: 10}
        functions:
          hello: {handler: handler.hello}
        """)
    assert main(["plan", str(root), "--format", "json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert [u["name"] for u in plan["units"]] == ["hello"]
    assert build(root, capsys)[0] == 0
    event = tmp_path / "event.json"
    event.write_text("{}")
    assert main(["invoke", str(root), "--event", str(event)]) == 0
    out, err = capsys.readouterr()
    assert "'alpha'" in out or '"alpha"' in out, out
    assert "Memory Size: 1024 MB" in err + out


def check(root: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[dict[str, object]]]:
    code = main(["check", str(root), "--format", "json"])
    out = json.loads(capsys.readouterr().out)
    return code, out["findings"]


ROLE_CODE = ("import boto3\n\n\ndef hello(event, context):\n"
             "    return boto3.client('dynamodb').get_item(TableName='orders-dev', Key={})\n")


def role_service(root: Path, wheels: Path, action: str, resource: str, functions: tuple[str, ...] = ("hello",),
                 code: str = "") -> Path:
    """A service whose role has one statement, and whose handler reads the table orders-dev (or,
    given its ``code``, whose functions are its functions of their names)."""
    listed = "\n".join(f"          {name}: {{handler: handler.{name if code else 'hello'}}}" for name in functions)
    return service(root, wheels, f"""\
        service: orders
        custom:
          table: orders-${{sls:stage}}
        provider:
          name: aws
          runtime: python3.12
          iam:
            role:
              statements:
                - Effect: Allow
                  Action: {action}
                  Resource: {resource}
        functions:
{listed}
        """, {"handler.py": code or ROLE_CODE})


def test_the_services_role_is_checked_at_serverless_yml_lines(tmp_path: Path, wheels: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    """provider.iam.role.statements is the role of every function, as Serverless makes it (with its
    log permissions): checkov's and parliament's ground, with the code beside it."""
    code, findings = check(role_service(tmp_path / "svc", wheels, '"*"', '"*"'), capsys)
    assert code == 1
    admin = [f for f in findings if f["code"] == "LP520"]
    assert [(Path(str(f["path"])).name, f["line"]) for f in admin] == [("serverless.yml", 10)]


def test_a_role_that_grants_what_the_code_calls_stays_quiet(tmp_path: Path, wheels: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    """The near miss: the same service, its statement naming the table the code reads (a
    variable lpack resolves), and no IAM finding at all."""
    root = role_service(tmp_path / "svc", wheels, "[dynamodb:GetItem]",
                        "arn:aws:dynamodb:us-east-1:123456789012:table/${self:custom.table}")
    code, findings = check(root, capsys)
    assert [f["code"] for f in findings if str(f["code"]).startswith("LP5")] == [], findings
    assert code == 0


def test_a_role_a_plugin_writes_into_is_not_judged_missing_a_grant(tmp_path: Path, wheels: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """serverless/examples' aws-python-sqs-worker: Lift's queue grants the functions their access
    (no LP570 for the SendMessage the code makes), and its worker is a function, jobsWorker."""
    root = service(tmp_path / "svc", wheels, """\
        service: jobs
        provider: {name: aws, runtime: python3.12}
        constructs:
          jobs:
            type: queue
            worker:
              handler: handler.consume
        functions:
          hello: {handler: handler.hello}
        plugins: [serverless-lift, serverless-python-requirements]
        """, {"handler.py": ("import boto3\n\n\ndef hello(event, context):\n"
                             "    return boto3.client('sqs').send_message(QueueUrl='q', MessageBody='x')\n\n\n"
                             "def consume(event, context):\n    return len(event['Records'])\n")})
    assert [u.name for u in load(root)[0].units] == ["hello", "jobsWorker"]
    _code, findings = check(root, capsys)
    assert [f for f in findings if f["code"] == "LP570"] == []
    assert [f["code"] for f in findings if f["code"] == "LP572"] == ["LP572", "LP572"]  # said, not judged


def test_a_function_in_another_runtime_is_said_not_built(tmp_path: Path, wheels: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """A mixed service (or SAM template): the Node.js function is named, not passed over in silence."""
    root = service(tmp_path / "svc", wheels, """\
        provider: {name: aws, runtime: python3.12}
        functions:
          hello: {handler: handler.hello}
          web: {handler: index.handler, runtime: nodejs20.x}
        """)
    code, report, err = build(root, capsys)
    assert code == 0 and [a["name"] for a in report["artifacts"]] == ["hello"]
    assert "lpack: note: web: not built: its runtime is not one lpack builds for" in " ".join(err.split())
    code, report, err = build(root, capsys, "-f", "hello")
    assert code == 0 and "web" not in err  # not asked for: nothing to say


def test_the_services_own_layer_is_built_and_its_functions_see_what_it_holds(
        tmp_path: Path, wheels: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`layers: common-libs: path: layer` and a function's `Ref: CommonDashlibsLambdaLayer` (as
    Serverless names it): the layer is built (its python/ folder and requirements.txt), and the
    function's import of what the layer holds is not reported missing."""
    root = service(tmp_path / "svc", wheels, """\
        provider: {name: aws, runtime: python3.12}
        layers:
          common-libs:
            path: layer
            compatibleRuntimes: [python3.12]
        functions:
          hello:
            handler: handler.hello
            layers:
              - Ref: CommonDashlibsLambdaLayer
        """, {"handler.py": "import alpha\nimport shared\n\n\ndef hello(event, context):\n    return shared.X\n",
              "layer/python/shared.py": "X = 1\n",
              "layer/requirements.txt": f"--no-index\n--find-links {wheels}\nbeta==1.0\n"})
    (root / "requirements.txt").write_text(f"--no-index\n--find-links {wheels}\nalpha==1.0\n")
    code, report, err = build(root, capsys)
    assert code == 0, err
    assert sorted(a["name"] for a in report["artifacts"]) == ["common-libs", "hello"]
    assert {"python/shared.py", "python/beta/__init__.py"} <= names(root / "dist" / "common-libs.zip")
    assert [f for f in report["findings"] if f["code"] in ("LP209", "LP204")] == []


def test_use_poetry_false_installs_requirements_txt_as_the_plugin_does(
        tmp_path: Path, wheels: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A service with a Poetry project beside its requirements.txt and `usePoetry: false`: the plugin
    installs requirements.txt (alpha 1.0), and so does lpack, rather than weigh the two against
    each other (without the setting, the two declarations that disagree are refused)."""
    root = service(tmp_path / "svc", wheels, """\
        provider: {name: aws, runtime: python3.12}
        custom:
          pythonRequirements:
            usePoetry: false
        functions:
          hello: {handler: handler.hello}
        """, {"pyproject.toml": '[tool.poetry]\nname = "svc"\nversion = "1"\n\n[tool.poetry.dependencies]\n'
                                'python = "^3.12"\nbeta = "2.0"\n'})
    code, _report, err = build(root, capsys)
    assert code == 0, err
    assert tops(root / "dist" / "hello.zip") == {"handler.py", "alpha", "alpha-1.0.dist-info"}
    (root / "serverless.yml").write_text((root / "serverless.yml").read_text().replace("usePoetry: false", "slim: false"))
    code, _report, err = build(root, capsys)
    assert code == 2 and "poetry" in err.lower(), err


def test_http_events_are_lpack_serves_routes(tmp_path: Path, wheels: Path) -> None:
    """httpApi ('*', 'GET /path', a table) and http (REST, at the provider's stage) events, and `url: true`,
    as `lpack serve` routes them; a Node.js function's event is not lpack's."""
    from lpack.serve.routes import routes

    root = service(tmp_path / "svc", wheels, """\
        provider: {name: aws, runtime: python3.12, stage: prod, httpApi: {payload: '1.0'}}
        functions:
          items:
            handler: handler.hello
            events:
              - httpApi: GET /items/{id}
              - httpApi: {method: post, path: /items}
          rest:
            handler: handler.hello
            events:
              - http: {path: orders, method: get}
          link:
            handler: handler.hello
            url: true
          fallback:
            handler: handler.hello
            events:
              - httpApi: '*'
          web:
            handler: index.handler
            runtime: nodejs20.x
            events:
              - httpApi: GET /web
        """)
    found = {(r.function, r.shape, r.method, r.path, r.stage, r.payload_version) for r in routes(load(root)[0], None)}
    assert found == {
        ("items", "api-gateway-v2", "GET", "/items/{id}", "$default", "1.0"),
        ("items", "api-gateway-v2", "POST", "/items", "$default", "1.0"),
        ("rest", "api-gateway-v1", "GET", "/orders", "prod", ""),
        ("link", "function-url", "ANY", "/{proxy+}", "$default", ""),
        ("fallback", "api-gateway-v2", "ANY", "/{proxy+}", "$default", "1.0"),
    }


@pytest.mark.parametrize("form", ["table", "list"])
def test_functions_and_values_from_yaml_and_json_files(tmp_path: Path, wheels: Path,
                                                       capsys: pytest.CaptureFixture[str], form: str) -> None:
    """`functions: ${file(./functions.yml)}` (or a list of such files) and `${file(./config.dev.json):table}`,
    as services split their configuration; the stage in a file's name resolved first."""
    functions = ("${file(./functions.yml)}" if form == "table" else
                 "\n          - ${file(./functions.yml)}\n          - ${file(./more.yml)}")
    root = service(tmp_path / "svc", wheels, f"""\
        provider:
          name: aws
          runtime: python3.12
          environment:
            TABLE: ${{file(./config.${{sls:stage}}.json):table}}
        functions: {functions}
        """, {"functions.yml": "hello:\n  handler: handler.hello\n  memorySize: 512\n",
              "more.yml": "other:\n  handler: handler.hello\n", "config.dev.json": '{"table": "orders-dev"}'})
    project, _template = load(root)
    units = {u.name: u for u in project.units}
    assert sorted(units) == (["hello"] if form == "table" else ["hello", "other"])
    assert (units["hello"].handler, units["hello"].settings.memory) == ("handler.hello", 512)
    assert units["hello"].settings.environment == {"TABLE": "orders-dev"}
    code, _report, err = build(root, capsys)
    assert code == 0, err


def test_no_deploy_packages_are_left_out_as_the_plugin_leaves_them(tmp_path: Path, wheels: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    root = service(tmp_path / "svc", wheels, """\
        provider: {name: aws, runtime: python3.12}
        custom:
          pythonRequirements:
            noDeploy: [beta]
        functions:
          hello: {handler: handler.hello}
        """)
    (root / "requirements.txt").write_text(f"--no-index\n--find-links {wheels}\nalpha==1.0\nbeta==1.0\n")
    code, _report, err = build(root, capsys)
    assert code == 0, err
    assert tops(root / "dist" / "hello.zip") == {"handler.py", "alpha", "alpha-1.0.dist-info"}


def test_a_function_with_its_own_role_is_checked_against_it(tmp_path: Path, wheels: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    """serverless-iam-roles-per-function: `hello` has a role of its own (an admin statement: LP520
    at its line); `quiet` inherits the provider's scoped one, and `other` uses that one alone."""
    root = service(tmp_path / "svc", wheels, """\
        service: orders
        provider:
          name: aws
          runtime: python3.12
          iam:
            role:
              statements:
                - {Effect: Allow, Action: [dynamodb:GetItem], Resource: arn:aws:dynamodb:us-east-1:123456789012:table/orders-dev}
        plugins: [serverless-iam-roles-per-function]
        functions:
          hello:
            handler: handler.hello
            iamRoleStatements:
              - {Effect: Allow, Action: "*", Resource: "*"}
          quiet:
            handler: handler.hello
            iamRoleStatementsInherit: true
            iamRoleStatements:
              - {Effect: Allow, Action: [sqs:SendMessage], Resource: arn:aws:sqs:us-east-1:123456789012:q}
          other:
            handler: handler.hello
        """, {"handler.py": ROLE_CODE})
    _code, findings = check(root, capsys)
    admin = [(f["function"], f["line"]) for f in findings if f["code"] == "LP520"]
    assert admin == [("hello", 14)]
    assert [f for f in findings if f["code"] == "LP570"] == []  # each role grants the GetItem the code makes
    unused = {str(f["function"]) for f in findings if f["code"] == "LP571"}
    assert unused == {"quiet"}  # its own sqs:SendMessage; the inherited GetItem is what the code calls


def test_a_policy_that_several_functions_share_is_reported_once(tmp_path: Path, wheels: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    """What a statement of the shared role says (LP520 at its line) is said once, naming the
    functions; what each function's code needs of it (LP570) stays each function's own."""
    _code, findings = check(role_service(tmp_path / "svc", wheels, '"*"', '"*"', ("a", "b")), capsys)
    admin = [f for f in findings if f["code"] == "LP520"]
    assert len(admin) == 1 and "(2 functions have this policy: a, b)" in str(admin[0]["message"])


def test_a_shared_role_is_judged_by_what_all_its_functions_call(tmp_path: Path, wheels: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    """`read` calls GetItem and `write` PutItem on the role they share: only DeleteItem, which
    neither calls, is an unused grant (LP571), said once; not each function's "unused" other half."""
    code = ("import boto3\n\ntable = boto3.client('dynamodb')\n\n\n"
            "def read(event, context):\n    return table.get_item(TableName='orders-dev', Key={})\n\n\n"
            "def write(event, context):\n    return table.put_item(TableName='orders-dev', Item={})\n")
    root = role_service(tmp_path / "svc", wheels, "[dynamodb:GetItem, dynamodb:PutItem, dynamodb:DeleteItem]",
                        "arn:aws:dynamodb:us-east-1:123456789012:table/orders-dev", ("read", "write"), code)
    _code, findings = check(root, capsys)
    unused = [f for f in findings if f["code"] == "LP571"]
    assert len(unused) == 1, unused
    assert "grants dynamodb:DeleteItem, which no code path of the 2 functions that share the role (read, write)" in \
        str(unused[0]["message"])
    assert [f for f in findings if f["code"] == "LP570"] == []


def test_patterns_are_relative_to_the_service_for_a_module_function_too(tmp_path: Path, wheels: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """serverless-python-requirements' own tests: `module: fn2` with `'!**/*'` and `'fn2/**'`:
    Serverless matches the patterns from the service's folder, then the plugin moves the module's
    files to the package's root."""
    root = service(tmp_path / "svc", wheels, """\
        provider: {name: aws, runtime: python3.12}
        package:
          individually: true
          patterns: ['!**/*', 'handler.py']
        functions:
          hello: {handler: handler.hello}
          other:
            handler: fn2_handler.hello
            module: fn2
            package:
              patterns: ['fn2/**', '!fn2/notes.py']
        """, {"fn2/fn2_handler.py": "def hello(event, context):\n    return 2\n", "fn2/notes.py": "",
              "fn2/requirements.txt": "", "lib.py": ""})
    code, _report, err = build(root, capsys)
    assert code == 0, err
    assert tops(root / "dist" / "other.zip") == {"fn2_handler.py"}
    assert tops(root / "dist" / "hello.zip") == {"handler.py", "alpha", "alpha-1.0.dist-info"}
