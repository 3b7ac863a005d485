"""`lpack check` end to end through main(): inputs, formats, silencing, exit codes."""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from pathlib import Path

import jsonschema
import pytest

from lpack.cli import main
from lpack.core.decide import filter_findings
from lpack.core.findings import Finding, Location, Severity

ROOT = Path(__file__).parent.parent.parent
SARIF_SCHEMA = ROOT / "tests" / "data" / "sarif" / "sarif-2.1.0-rtm.5.json"  # vendored, MIT


def area(tmp_path: Path) -> Path:
    return Path(shutil.copytree(ROOT / "examples" / "area", tmp_path / "area", ignore=shutil.ignore_patterns("dist")))


def six_layers(tmp_path: Path) -> Path:
    root = area(tmp_path)
    arns = ", ".join(f'"arn:aws:lambda:us-east-1:123456789012:layer:l{i}:1"' for i in range(6))
    (root / "pyproject.toml").write_text(
        f'[tool.lpack]\n[tool.lpack.functions.area]\nhandler = "lambda_function.lambda_handler"\nlayers = [{arns}]\n')
    return root


def test_clean_project_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(area(tmp_path))]) == 0
    assert capsys.readouterr().out == "checked 1 function from source; no findings\n"


def test_clean_zip_from_build_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = area(tmp_path)
    assert main(["build", "-q", str(root), "--runtime", "python3.12"]) == 0
    capsys.readouterr()
    code = main(["check", str(root / "dist" / "area.zip"), "--handler", "lambda_function.lambda_handler",
                 "--runtime", "python3.12", "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert (code, report["findings"]) == (0, [])


def test_error_finding_exits_1_and_exit_zero_overrides(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = six_layers(tmp_path)
    assert main(["build", "-q", str(root)]) == 1
    capsys.readouterr()
    assert main(["check", str(root)]) == 1
    finding = (f"{root / 'dist' / 'area.zip'}: LP105 error function uses 6 layers; Lambda allows at most 5 "
               "(fix: merge layers or vendor the small ones)\n")
    assert capsys.readouterr().out == finding + "checked 1 function from dist/*.zip; 1 error\n"
    assert main(["check", str(root), "--exit-zero", "-q"]) == 0
    assert capsys.readouterr().out == finding  # -q: the findings alone
    assert main(["check", str(root), "-qq"]) == 1
    assert main(["check", str(root), "--silent"]) == 1
    assert capsys.readouterr().out == ""  # -qq/--silent: nothing, only the exit code
    assert main(["check", str(root), "--ignore", "LP105"]) == 0
    assert main(["check", str(root), "--ignore", "LP1"]) == 0  # a prefix silences the family


def test_warning_fails_only_with_strict(tmp_path: Path) -> None:
    root = area(tmp_path)
    assert main(["check", str(root), "--runtime", "python3.10"]) == 0  # LP401 deprecated: a warning
    assert main(["check", str(root), "--runtime", "python3.10", "--strict"]) == 1


def test_config_ignore_and_per_path_ignores(tmp_path: Path) -> None:
    root = six_layers(tmp_path)
    assert main(["build", "-q", str(root)]) == 1
    text = (root / "pyproject.toml").read_text()
    (root / "pyproject.toml").write_text(text.replace("[tool.lpack]\n", '[tool.lpack]\nignore = ["LP105"]\n'))
    assert main(["check", str(root)]) == 0
    (root / "pyproject.toml").write_text(text + '[tool.lpack.per-path-ignores]\n"dist/*.zip" = ["LP105"]\n')
    assert main(["check", str(root)]) == 0
    (root / "pyproject.toml").write_text(text + '[tool.lpack.per-path-ignores]\n"src/*" = ["LP105"]\n')
    assert main(["check", str(root)]) == 1  # a glob that does not match keeps the finding


def test_inline_ignore_needs_the_code_on_that_line(tmp_path: Path) -> None:
    source = tmp_path / "app.py"
    source.write_text("import requests  # lpack: ignore[LP210] vendored by the layer\nimport yaml\n")
    found = [Finding("LP210", "x", Severity.ERROR, "m", str(source), line=1),
             Finding("LP210", "x", Severity.ERROR, "m", str(source), line=2),
             Finding("LP211", "x", Severity.ERROR, "m", str(source), line=1)]
    assert [(f.code, f.line) for f in filter_findings(found, [], [])] == [("LP210", 2), ("LP211", 1)]


def test_inline_ignore_inside_a_zip(tmp_path: Path) -> None:
    archive = tmp_path / "fn.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("app.py", "import x  # lpack: ignore[LP210, LP211]\n")
    found = [Finding("LP211", "x", Severity.ERROR, "m", Location(str(archive), "app.py", line=1))]
    assert filter_findings(found, [], []) == []


def test_json_report_validates_against_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = six_layers(tmp_path)
    main(["build", "-q", str(root)])
    capsys.readouterr()
    assert main(["check", str(root), "--runtime", "python3.10", "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    schema = json.loads((ROOT / "schemas" / "report.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(report)
    assert sorted(f["code"] for f in report["findings"]) == ["LP105", "LP401"]
    assert report["summary"] == {"error": 1, "warning": 1, "info": 0}


def test_sarif_validates_against_the_sarif_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = six_layers(tmp_path)
    main(["build", "-q", str(root)])
    capsys.readouterr()
    assert main(["check", str(root), "--runtime", "python3.10", "--format", "sarif"]) == 1
    log = json.loads(capsys.readouterr().out)
    schema = json.loads(SARIF_SCHEMA.read_text())
    jsonschema.validators.validator_for(schema)(schema).validate(log)
    run = log["runs"][0]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == ["LP105", "LP401"]
    levels = {r["ruleId"]: r["level"] for r in run["results"]}
    assert levels == {"LP105": "error", "LP401": "warning"}
    for result in run["results"]:
        assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"]


def test_github_annotations(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = six_layers(tmp_path)
    main(["build", "-q", str(root)])
    capsys.readouterr()
    main(["check", str(root), "--format", "github"])
    (line,) = capsys.readouterr().out.splitlines()
    assert re.fullmatch(r"::error file=[^,]*dist/area\.zip,title=LP105 too-many-layers::function uses 6 layers; "
                        r"Lambda allows at most 5\. Fix: merge layers or vendor the small ones", line)


@pytest.mark.parametrize(("args", "message"), [
    (["missing.zip"], "missing.zip: no such file"),
    (["{bad}"], "not a readable zip file"),
    (["{good}", "--env", "{badjson}"], "not valid JSON"),
    (["{good}", "--kind", "layer", "--handler", "a.b"], "a layer has no handler"),
], ids=["missing-zip", "corrupt-zip", "bad-env-json", "layer-with-handler"])
def test_bad_input_is_exit_2_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      args: list[str], message: str) -> None:
    (tmp_path / "bad.zip").write_bytes(b"PK\x03\x04 not really")
    with zipfile.ZipFile(tmp_path / "good.zip", "w") as zf:
        zf.writestr("app.py", "def handler(e, c):\n    pass\n")
    (tmp_path / "env.json").write_text("{not json")
    paths = {"bad": tmp_path / "bad.zip", "good": tmp_path / "good.zip", "badjson": tmp_path / "env.json"}
    assert main(["check", *(a.format(**paths) for a in args)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("lpack: error:") and message in err


def readable(name: str) -> zipfile.ZipInfo:
    """A zip entry as Lambda needs it: readable by others (writestr alone records 0600)."""
    info = zipfile.ZipInfo(name)
    info.external_attr = 0o100644 << 16
    return info


def test_env_file_in_lambda_cli_shape_is_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with zipfile.ZipFile(tmp_path / "fn.zip", "w") as zf:
        zf.writestr(readable("app.py"), "def handler(e, c):\n    pass\n")
    (tmp_path / "env.json").write_text('{"Environment": {"Variables": {"TABLE": "orders"}}}')
    assert main(["check", str(tmp_path / "fn.zip"), "--handler", "app.handler", "--env", str(tmp_path / "env.json")]) == 0


@pytest.mark.network
@pytest.mark.parametrize(("runtime", "arch"), [("python3.12", "arm64"), ("python3.11", "x86_64")])
def test_healthy_real_packages_are_quiet(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                         runtime: str, arch: str) -> None:
    """numpy, pydantic-core and cryptography built for the right target: no error or warning from
    any rule family (precision on real packages lpack did not make up)."""
    root = tmp_path / "fn"
    root.mkdir()
    (root / "lambda_function.py").write_text(
        "import numpy\nimport pydantic\nfrom cryptography.fernet import Fernet\n\n"
        "def lambda_handler(event, context):\n    return {'n': int(numpy.int64(1))}\n")
    (root / "requirements.txt").write_text("numpy==2.2.6\npydantic==2.11.7\ncryptography==45.0.5\n")
    assert main(["build", str(root), "-q", "--runtime", runtime, "--arch", arch]) == 0
    capsys.readouterr()
    main(["check", str(root / "dist" / "fn.zip"), "--handler", "lambda_function.lambda_handler",
          "--runtime", runtime, "--arch", arch, "--format", "json"])
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert [f for f in findings if f["severity"] != "info"] == []


def test_source_check_knows_what_an_unbuilt_project_layer_provides(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "mono"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text("import requests\nimport yaml\n\ndef handler(event, context):\n    return 1\n")
    (root / "layer-requirements.txt").write_text("requests==2.32.3\n")
    (root / "pyproject.toml").write_text(
        '[tool.lpack]\nsource = "src"\n[tool.lpack.layers.deps]\nrequirements = "layer-requirements.txt"\n'
        '[tool.lpack.functions.api]\nhandler = "app.handler"\nlayers = ["deps"]\n')
    assert main(["check", str(root), "--format", "json"]) == 1
    (finding,) = json.loads(capsys.readouterr().out)["findings"]
    assert (finding["code"], finding["line"], finding["path"]) == ("LP209", 2, str(root / "src" / "app.py"))
    assert "No module named 'yaml'" in finding["message"]
    (root / "src" / "app.py").write_text(
        "import requests\nimport yaml  # lpack: ignore[LP209] from a layer in another repo\n\n"
        "def handler(event, context):\n    return 1\n")
    assert main(["check", str(root)]) == 0


def test_policy_files_on_the_command_line_and_in_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    basic = ('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": '
             '["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*"}]}')
    broken = '{"Version": "2012-10-17", "Statement": {"Effect": "Alow", "Action": "s3:GetObject", "Resource": "*"}}'
    (tmp_path / "basic.json").write_text(basic)
    (tmp_path / "broken.json").write_text(broken)
    assert main(["check", str(tmp_path / "basic.json")]) == 0
    capsys.readouterr()
    assert main(["check", str(tmp_path / "broken.json"), "--format", "json"]) == 1
    assert [f["code"] for f in json.loads(capsys.readouterr().out)["findings"]] == ["LP508"]
    root = area(tmp_path)
    (root / "iam").mkdir()
    (root / "iam" / "role.json").write_text(broken)
    (root / "pyproject.toml").write_text(
        '[tool.lpack]\n[tool.lpack.functions.area]\nhandler = "lambda_function.lambda_handler"\n'
        'policies = ["iam/role.json"]\n')
    capsys.readouterr()
    assert main(["check", str(root), "--format", "json"]) == 1
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert [(f["code"], f["function"], f.get("line")) for f in findings] == [
        ("LP508", "area", 1),  # the file's own mistake
        ("LP560", "area", None),  # and so the role, all of it, cannot write the function's logs
    ]
    (root / "pyproject.toml").write_text(
        '[tool.lpack]\n[tool.lpack.functions.area]\nhandler = "lambda_function.lambda_handler"\n'
        'policies = ["iam/missing.json"]\n')
    assert main(["check", str(root)]) == 2
    assert "policy file 'iam/missing.json' does not exist" in capsys.readouterr().err


def test_a_zip_older_than_its_inputs_is_set_aside_for_the_source(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    root = area(tmp_path)
    assert main(["build", str(root), "-q", "--format", "json"]) == 0
    capsys.readouterr()
    assert main(["check", str(root)]) == 0  # the zip is current: it is what is checked
    assert "older than its inputs" not in capsys.readouterr().err

    # the handler is renamed after the build: the old zip would still pass, the source does not
    handler = root / "lambda_function.py"
    handler.write_text(handler.read_text().replace("def lambda_handler", "def handle"))
    assert main(["check", str(root)]) == 1
    out, err = capsys.readouterr()
    assert "LP206" in out and "lambda_function.py" in out
    assert err.startswith("lpack: note: ") and "area.zip is older than its inputs" in err

    handler.touch()  # a new mtime with the same bytes is not a change
    assert main(["build", str(root), "-q", "--format", "json"]) == 1  # LP206 on the built zip
    capsys.readouterr()
    (root / "lambda_function.py").touch()
    assert main(["check", str(root)]) == 1
    assert "older than its inputs" not in capsys.readouterr().err


def test_source_check_guesses_import_names_that_differ_from_the_distribution(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """serverless-patterns' apigw-lambda-dsql and s3-lambda-bedrock-aoss, checked before a build:
    opensearch-py installs opensearchpy, PyPDF2 keeps its case, aurora-dsql-python-connector
    installs aurora_dsql_psycopg2. A module none of them can install is still reported."""
    root = tmp_path / "fn"
    root.mkdir()
    (root / "requirements.txt").write_text("opensearch-py==2.8.0\nPyPDF2==3.0.1\naurora-dsql-python-connector==1.0\n")
    (root / "lambda_function.py").write_text(
        "import aurora_dsql_psycopg2\nimport opensearchpy\nimport PyPDF2\nimport requests\n\n\n"
        "def lambda_handler(event, context):\n    return 1\n")
    assert main(["check", str(root), "--format", "json"]) == 1
    findings = [f for f in json.loads(capsys.readouterr().out)["findings"] if f["code"] == "LP209"]
    assert [(f["line"], "No module named 'requests'" in f["message"]) for f in findings] == [(4, True)]
