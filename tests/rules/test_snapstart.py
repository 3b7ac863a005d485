"""SnapStart: the settings Lambda refuses with it (LP340-LP343) and the init code a snapshot freezes
(LP230-LP234), checked through `lpack check` on real templates, folders and zips."""

from __future__ import annotations

import json
import textwrap
import zipfile
from pathlib import Path

import pytest

from lpack.cli import main

DATA = Path(__file__).parent.parent / "data" / "templates"
HANDLER = "def handler(event, context):\n    return event\n"


def template(props: str = "", *, runtime: str = "python3.13", snap: str = "PublishedVersions", extra: str = "",
             code: str = "src/") -> str:
    snap_block = f"      SnapStart:\n        ApplyOn: {snap}\n" if snap else ""
    return textwrap.dedent("""\
        AWSTemplateFormatVersion: "2010-09-09"
        Transform: AWS::Serverless-2016-10-31
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              CodeUri: {code}
              Handler: app.handler
              Runtime: {runtime}
              Timeout: 10
              Policies:
                - AWSLambdaBasicExecutionRole
        """).format(code=code, runtime=runtime) + snap_block + textwrap.indent(textwrap.dedent(props), "      ") + extra


def check(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, files: dict[str, str] | None = None,
          ) -> tuple[int, list[dict[str, object]]]:
    (tmp_path / "template.yaml").write_text(text, encoding="utf-8")
    for name, source in (files or {"app.py": HANDLER}).items():
        path = tmp_path / "src" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
    capsys.readouterr()
    code = main(["check", str(tmp_path / "template.yaml"), "--format", "json"])
    findings: list[dict[str, object]] = json.loads(capsys.readouterr().out)["findings"]
    return code, findings


def codes(findings: list[dict[str, object]], prefix: str = "LP3") -> list[tuple[object, object]]:
    return [(f["code"], f.get("line")) for f in findings if str(f["code"]).startswith(prefix)]


PUBLISHED = "AutoPublishAlias: live\n"


# -- LP340-LP343: the settings ----------------------------------------------------------------------


def test_snapstart_on_python311_is_an_error_on_its_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, found = check(tmp_path, capsys, template(PUBLISHED, runtime="python3.11"))
    assert codes(found) == [("LP340", 13)]
    assert code == 1


@pytest.mark.parametrize("runtime", ["python3.12", "python3.13"])
def test_snapstart_on_a_supported_runtime_is_quiet(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   runtime: str) -> None:
    code, found = check(tmp_path, capsys, template(PUBLISHED, runtime=runtime))
    assert (code, found) == (0, [])


@pytest.mark.parametrize("value", ["publishedVersions", "true", "All"])
def test_an_apply_on_lambda_does_not_take_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                      value: str) -> None:
    _, found = check(tmp_path, capsys, template(PUBLISHED, snap=value))
    assert [f["code"] for f in found] == ["LP341"]
    assert "ApplyOn is" in str(found[0]["message"])


def test_a_snapstart_block_without_apply_on_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, found = check(tmp_path, capsys, template("SnapStart: {}\n" + PUBLISHED, snap=""))
    assert codes(found) == [("LP341", 13)]


def test_apply_on_none_turns_every_snapstart_rule_off(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    props = "ProvisionedConcurrencyConfig:\n  ProvisionedConcurrentExecutions: 2\nEphemeralStorage:\n  Size: 2048\n"
    files = {"app.py": "import uuid\nID = uuid.uuid4()\n" + HANDLER}
    code, found = check(tmp_path, capsys, template(props, snap="None", runtime="python3.11"), files)
    assert (code, found) == (0, [])


def test_provisioned_concurrency_with_snapstart_points_at_its_line(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    props = PUBLISHED + "ProvisionedConcurrencyConfig:\n  ProvisionedConcurrentExecutions: 2\n"
    code, found = check(tmp_path, capsys, template(props))
    assert codes(found) == [("LP342", 16)]
    assert "provisioned concurrency" in str(found[0]["message"])
    assert code == 1


def test_a_cloudformation_version_with_provisioned_concurrency_counts(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    extra = ("  Published:\n    Type: AWS::Lambda::Version\n    Properties:\n      FunctionName: !Ref Fn\n"
             "      ProvisionedConcurrencyConfig: {ProvisionedConcurrentExecutions: 3}\n")
    _, found = check(tmp_path, capsys, template(extra=extra))
    assert [(f["code"], f.get("line")) for f in found] == [("LP342", 19)]


def test_efs_with_snapstart_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    props = PUBLISHED + ("FileSystemConfigs:\n  - Arn: arn:aws:elasticfilesystem:us-east-1:123456789012:"
                         "access-point/fsap-0123456789abcdef0\n    LocalMountPath: /mnt/data\n")
    _, found = check(tmp_path, capsys, template(props))
    assert codes(found) == [("LP342", 16)]
    assert "EFS" in str(found[0]["message"])


@pytest.mark.parametrize(("size", "expected"), [(512, []), (513, [("LP342", 17)]), (10240, [("LP342", 17)])])
def test_ephemeral_storage_over_512_mb_with_snapstart(tmp_path: Path, capsys: pytest.CaptureFixture[str], size: int,
                                                      expected: list[tuple[str, int]]) -> None:
    _, found = check(tmp_path, capsys, template(PUBLISHED + f"EphemeralStorage:\n  Size: {size}\n"))
    assert codes(found) == expected


def test_snapstart_without_published_versions_is_a_warning(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    code, found = check(tmp_path, capsys, template())
    assert codes(found) == [("LP343", 13)]
    assert found[0]["severity"] == "warning"
    assert code == 0


def test_tenancy_and_managed_instances_are_not_judged_here(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    # tenancy with SnapStart is the tenancy rules' (LP355-LP359); Managed Instances are not in the
    # SnapStart limitations read on 2026-12-05
    props = PUBLISHED + ("TenancyConfig:\n  TenantIsolationMode: PER_TENANT\nCapacityProviderConfig:\n"
                         "  Arn: arn:aws:lambda:us-east-1:123456789012:capacity-provider/cp\n")
    _, found = check(tmp_path, capsys, template(props))
    assert [f["code"] for f in found if str(f["code"]).startswith("LP34")] == []


def test_a_cloudformation_version_publishes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    extra = "  Version:\n    Type: AWS::Lambda::Version\n    Properties:\n      FunctionName: !Ref Fn\n"
    _, found = check(tmp_path, capsys, template(extra=extra))
    assert found == []


# -- LP230-LP234: the init code ---------------------------------------------------------------------


# Stand-ins for the drivers, so the import rules find them: the names are what the analysis judges.
STUBS = {"psycopg2.py": "def connect(dsn):\n    return dsn\n", "requests.py": "class Session:\n    pass\n",
         "mylib.py": "def uuid4():\n    return 1\n"}


def handler_findings(tmp_path: Path, capsys: pytest.CaptureFixture[str], source: str,
                     files: dict[str, str] | None = None) -> list[tuple[object, object]]:
    sources = {"app.py": textwrap.dedent(source), **STUBS, **(files or {})}
    _, found = check(tmp_path, capsys, template(PUBLISHED), sources)
    return [(f["code"], f.get("line")) for f in found]


@pytest.mark.parametrize(("source", "expected"), [
    ("import uuid\nID = uuid.uuid4()\n", [("LP230", 2)]),
    ("from uuid import uuid4 as new_id\nID = new_id()\n", [("LP230", 2)]),
    ("import random\nrandom.seed(42)\n", [("LP230", 2)]),
    ("import secrets\nclass Config:\n    KEY = secrets.token_hex(16)\n", [("LP230", 3)]),
    ("import os\nSALT = os.urandom(16)\n", [("LP230", 2)]),
    ("import time\nSTARTED = time.time()\n", [("LP231", 2)]),
    ("import datetime as dt\nTODAY = dt.date.today()\n", [("LP231", 2)]),
    ("from datetime import datetime\nBOOT: datetime = datetime.now()\n", [("LP231", 2)]),
    ("import os\nimport psycopg2\nconn = psycopg2.connect(os.environ['DSN'])\n", [("LP232", 3)]),
    ("import socket\nsock = socket.create_connection(('db', 5432))\n", [("LP232", 2)]),
    # and the role SAM makes (AWSLambdaBasicExecutionRole) does not grant sts:AssumeRole (LP570)
    ("import boto3\ncreds = boto3.client('sts').assume_role(RoleArn='r', RoleSessionName='s')\n",
     [("LP570", 2), ("LP233", 2)]),
    ("import boto3\nTOKEN = boto3.client('rds').generate_db_auth_token('h', 5432, 'u')\n", [("LP233", 2)]),
], ids=["uuid4", "uuid4-alias", "random-seed", "secrets-class-attr", "urandom", "time", "date-today", "datetime-now",
        "psycopg2", "socket", "assume-role", "db-auth-token"])
def test_init_code_a_snapshot_freezes(tmp_path: Path, capsys: pytest.CaptureFixture[str], source: str,
                                      expected: list[tuple[str, int]]) -> None:
    assert handler_findings(tmp_path, capsys, source + HANDLER) == expected


@pytest.mark.parametrize("source", [
    "import boto3\nclient = boto3.client('dynamodb')\ntable = boto3.resource('dynamodb').Table('t')\n",
    "import requests\nsession = requests.Session()\n",
    "import time\nimport logging\nlogging.getLogger().info('loaded at %s', time.time())\n",
    "import uuid\ndef new_id():\n    return uuid.uuid4()\n",
    "import uuid\nmake = lambda: uuid.uuid4()\n",
    "import uuid\nif __name__ == '__main__':\n    print(uuid.uuid4())\n",
    "from mylib import uuid4\nID = uuid4()\n",  # not the standard library's uuid
    ("import uuid\nfrom snapshot_restore_py import register_after_restore\nID = uuid.uuid4()\n\n"
     "@register_after_restore\ndef renew():\n    global ID\n    ID = uuid.uuid4()\n"),
    ("import uuid\nimport snapshot_restore_py\nID = uuid.uuid4()\n\ndef renew():\n    global ID\n    ID = uuid.uuid4()\n\n"
     "snapshot_restore_py.register_after_restore(renew)\n"),
], ids=["boto3-clients", "requests-session", "time-not-kept", "in-function", "in-lambda", "main-guard",
        "other-uuid4", "restore-decorator", "restore-call"])
def test_near_misses_stay_quiet(tmp_path: Path, capsys: pytest.CaptureFixture[str], source: str) -> None:
    assert handler_findings(tmp_path, capsys, source + HANDLER) == []


def test_without_snapstart_init_code_is_not_judged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = {"app.py": "import uuid\nID = uuid.uuid4()\n" + HANDLER}
    code, found = check(tmp_path, capsys, template(PUBLISHED, snap=""), files)
    assert (code, found) == (0, [])


def test_an_imported_own_module_is_read_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = {"settings.py": "import time\n\nLOADED = time.time()\n"}
    _, found = check(tmp_path, capsys, template(PUBLISHED), {"app.py": "import settings\n" + HANDLER, **files})
    assert [(f["code"], f["path"], f["line"]) for f in found] == [
        ("LP231", str(tmp_path / "src" / "settings.py"), 3)]


def test_a_restore_hook_in_an_imported_module_counts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hooks = "from snapshot_restore_py import register_after_restore\n\n@register_after_restore\ndef renew():\n    pass\n"
    assert handler_findings(tmp_path, capsys, "import hooks\nimport uuid\nID = uuid.uuid4()\n" + HANDLER,
                            {"hooks.py": hooks}) == []


def test_a_hook_registered_inside_the_handler_is_too_late(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    source = """\
        from snapshot_restore_py import register_after_restore, register_before_snapshot

        def handler(event, context):
            @register_after_restore
            def renew():
                pass
            register_before_snapshot(print)
            return event
        """
    assert handler_findings(tmp_path, capsys, source) == [("LP234", 4), ("LP234", 7)]


def test_a_hook_registered_at_module_level_is_in_time(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = """\
        import snapshot_restore_py

        def close():
            pass

        snapshot_restore_py.register_before_snapshot(close)

        def handler(event, context):
            return event
        """
    assert handler_findings(tmp_path, capsys, source) == []


def test_a_built_zip_is_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    entry = zipfile.ZipInfo("app.py", date_time=(2026, 1, 1, 0, 0, 0))
    entry.external_attr = 0o100644 << 16
    with zipfile.ZipFile(tmp_path / "fn.zip", "w") as zf:
        zf.writestr(entry, "import secrets\nKEY = secrets.token_bytes(32)\n" + HANDLER)
    _, found = check(tmp_path, capsys, template(PUBLISHED, code="fn.zip"))
    assert [(f["code"], f.get("line")) for f in found] == [("LP230", 2)]


# -- [tool.lpack] snap-start ------------------------------------------------------------------------


def project(tmp_path: Path, value: str) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("import uuid\nID = uuid.uuid4()\n" + HANDLER, encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.lpack]\nsource = "src"\nhandler = "app.handler"\nruntime = "python3.13"\nsnap-start = {value}\n',
        encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("value", ["true", '"PublishedVersions"'])
def test_the_config_key_turns_snapstart_on(tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str) -> None:
    capsys.readouterr()
    assert main(["check", str(project(tmp_path, value)), "--format", "json"]) == 0
    found = json.loads(capsys.readouterr().out)["findings"]
    assert [(f["code"], f["line"]) for f in found] == [("LP230", 2)]  # published: no LP343


def test_the_config_key_off_is_quiet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["check", str(project(tmp_path, "false")), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["findings"] == []


def test_a_bad_config_value_is_a_config_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["check", str(project(tmp_path, '"yes"'))]) == 2
    err = capsys.readouterr().err
    assert "snap-start" in err and "Traceback" not in err
    assert "use one of: true, false, PublishedVersions, None" in err  # TOML's booleans, not Python's


# -- the real template ------------------------------------------------------------------------------


def test_the_snapstart_api_template_gives_exactly_its_finding(capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["check", str(DATA / "snapstart" / "template.yaml"), "--format", "json"]) == 0
    found = json.loads(capsys.readouterr().out)["findings"]
    assert [(f["code"], Path(str(f["path"])).name, f["line"], f["function"]) for f in found] == [
        ("LP230", "app.py", 17, "OrdersFunction")]
