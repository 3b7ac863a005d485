"""Contents rules (LP120-LP159) on real zips built in a temporary folder: each rule's cases and
the near misses it must stay quiet on."""

from __future__ import annotations

import importlib.util
import shutil
import struct
import sys
import warnings
import zipfile
from pathlib import Path
from typing import NamedTuple

import pathspec
import pytest

from lpack import rules
from lpack.analysis.package import (
    PackageReader,
    index_directory,
    read_package,
)
from lpack.analysis.secrets import (
    PrivateKey,
    dotenv_credentials,
    is_dotenv,
    is_placeholder,
    private_keys,
)
from lpack.analysis.subjects import PackageSubject
from lpack.cli import main
from lpack.core import select
from lpack.core.findings import Finding, Severity
from lpack.core.targets import make_target
from lpack.rules import credentials
from lpack.rules.bytecode import pyc_version
from tests.factories.readers import RecordingReader

EXAMPLES = Path(__file__).parent.parent.parent / "examples"
HANDLER = "lambda_function.lambda_handler"
CODE = "def lambda_handler(event, context):\n    return event\n"

# Strings that look like credentials, assembled so that this file itself holds none.
KEY_ID = "AKIA" + "Z7Q4RT2M6XWB3KDN"
TEMP_KEY_ID = "ASIA" + "Z7Q4RT2M6XWB3KDN"
SECRET = "k3Jd8Qp2Lx" + "Vn7Rt5Wy1Zb" + "Hc4Mf6Gs9Ua0" + "Ee+Ti/O"
EXAMPLE_KEY_ID = "AKIA" + "IOSFODNN7EXAMPLE"
EXAMPLE_SECRET = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYEXAMPLEKEY"
PEM_BODY = "MIIEowIBAAKCAQEA" + "q7Vx3Lm9Pz2Kd8Rt5Wy1ZbHc4Mf6Gs9Ua0Ee3Ti7Oo" * 2
RSA_KEY = ("-----BEGIN RSA " + "PRIVATE KEY-----\n" + PEM_BODY + "\n" + "Zm9v" * 16 + "\n"
           + "-----END RSA PRIVATE KEY-----\n")


class Item(NamedTuple):
    name: str
    data: bytes = b""
    mode: int = 0o644
    kind: int = 0o100000  # regular file; 0o040000 folder, 0o120000 symlink
    system: int = 3  # 3 Unix (records modes), 0 MS-DOS/Windows (no modes)


def f(name: str, data: str | bytes = "", mode: int = 0o644, **kw: int) -> Item:
    return Item(name, data.encode() if isinstance(data, str) else data, mode, **kw)


def folder(name: str, mode: int = 0o755) -> Item:
    return Item(name.rstrip("/") + "/", b"", mode, 0o040000)


def link(name: str, target: str) -> Item:
    return Item(name, target.encode(), 0o777, 0o120000)


def big(name: str, size: int) -> Item:
    return f(name, b"#" * size)


def make_zip(path: Path, items: list[Item]) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names, made on purpose
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for item in items:
                info = zipfile.ZipInfo(item.name, date_time=(1980, 1, 1, 0, 0, 0))
                info.create_system = item.system
                info.external_attr = ((item.kind | item.mode) << 16) if item.system == 3 else 0x20
                if item.name.endswith("/"):
                    info.external_attr |= 0x10
                zf.writestr(info, item.data)
    return path


def check(tmp_path: Path, items: list[Item], *, kind: str = "function", handler: str | None = HANDLER,
          runtime: str = "python3.12", read: bool = True) -> list[Finding]:
    index = read_package(make_zip(tmp_path / f"{kind}.zip", items))
    return run(index, kind=kind, handler=handler, runtime=runtime, read=read)


def run(index: object, *, kind: str = "function", handler: str | None = HANDLER, runtime: str = "python3.12",
        read: bool = True, is_source: bool = False) -> list[Finding]:
    assert not isinstance(index, Path)
    reader = PackageReader(index) if read else None  # type: ignore[arg-type]
    subject = PackageSubject(package=index, kind=kind, target=make_target(runtime, "x86_64", where="t"),  # type: ignore[arg-type]
                             reader=reader, handler=handler if kind == "function" else None, is_source=is_source)
    try:
        return [x for x in rules.run(subject) if 120 <= int(x.code[2:]) <= 159]
    finally:
        if reader is not None:
            reader.close()


def codes(findings: list[Finding]) -> list[str]:
    return [x.code for x in findings]


def only(findings: list[Finding], code: str) -> Finding:
    (finding,) = [x for x in findings if x.code == code]
    return finding


HEALTHY = [f("lambda_function.py", CODE), folder("pkg"), f("pkg/__init__.py"), f("pkg/mod.py", "X = 1\n")]


# -- the registry ------------------------------------------------------------------------------

def test_rules_are_registered_with_docs_and_sources() -> None:
    mine = [r for r in rules.rules_for(PackageSubject) if 120 <= int(r.code[2:]) <= 159]
    assert [r.code for r in mine] == ["LP120", "LP121", "LP122", "LP123", "LP124", "LP125", "LP126", "LP127",
                                      "LP130", "LP131", "LP132", "LP140", "LP141", "LP142", "LP143", "LP144",
                                      "LP145", "LP146", "LP147"]
    for r in mine:
        assert r.doc.startswith("## What it does") and "## Why is this bad?" in r.doc and "## How to fix" in r.doc
        assert r.source.startswith("https://docs.aws.amazon.com/lambda/")


def test_healthy_package_is_quiet(tmp_path: Path) -> None:
    assert check(tmp_path, HEALTHY) == []


# -- LP120 permissions ---------------------------------------------------------------------------

def test_unreadable_files_and_folders(tmp_path: Path) -> None:
    findings = check(tmp_path, [f("lambda_function.py", CODE, 0o600), folder("pkg", 0o700),
                                f("pkg/__init__.py", "", 0o640), f("pkg/ok.py")])
    finding = only(findings, "LP120")
    assert codes(findings) == ["LP120"] and finding.severity is Severity.ERROR
    assert finding.message == ("3 entries are not readable by Lambda's runtime user: "
                               "lambda_function.py (0600), pkg/ (0700), pkg/__init__.py (0640)")
    assert finding.path.endswith("function.zip:lambda_function.py")


@pytest.mark.parametrize("items", [
    pytest.param([f("lambda_function.py", CODE, 0o644), folder("pkg", 0o755), f("pkg/run.sh", "", 0o755)], id="0644-0755"),
    pytest.param([f("lambda_function.py", CODE, 0, system=0), f("pkg/mod.py", "", 0, system=0)], id="windows-no-modes"),
    pytest.param([f("lambda_function.py", CODE, 0o444)], id="read-only"),
    pytest.param([f("lambda_function.py", CODE), link("alias.py", "lambda_function.py")], id="symlink-mode"),
])
def test_readable_entries_are_quiet(tmp_path: Path, items: list[Item]) -> None:
    assert check(tmp_path, items) == []


def test_zip_written_with_pythons_writestr_defaults(tmp_path: Path) -> None:
    """``ZipFile.writestr(name, data)`` records 0600: the classic cause of Permission denied."""
    with zipfile.ZipFile(tmp_path / "py.zip", "w") as zf:
        zf.writestr("lambda_function.py", CODE)
    findings = run(read_package(tmp_path / "py.zip"))
    assert codes(findings) == ["LP120"] and "lambda_function.py (0600)" in findings[0].message


def test_source_folder_modes_are_not_checked(tmp_path: Path) -> None:
    (tmp_path / "lambda_function.py").write_text(CODE)
    (tmp_path / "lambda_function.py").chmod(0o600)
    index = index_directory(tmp_path, [("lambda_function.py", tmp_path / "lambda_function.py")])
    assert run(index, is_source=True) == []


# -- LP121, LP122 names --------------------------------------------------------------------------

def test_names_outside_the_package(tmp_path: Path) -> None:
    findings = check(tmp_path, [*HEALTHY, f("../../etc/cron.d/x"), f("/tmp/abs.py"), f("a/../../b.py"), f("C:/x.py")])
    finding = only(findings, "LP121")
    assert codes(findings) == ["LP121"]
    assert finding.message == ("4 entries would be written outside the package folder: "
                               "../../etc/cron.d/x, /tmp/abs.py, a/../../b.py and 1 more")


def test_dots_inside_names_are_fine(tmp_path: Path) -> None:
    assert check(tmp_path, [*HEALTHY, f("pkg/..hidden.py"), f("pkg/a..b.py"), f("pkg/.../x.txt"), f("a:b.txt")]) == []


def test_backslashes_from_windows_tools(tmp_path: Path) -> None:
    findings = check(tmp_path, [f("lambda_function.py", CODE, 0, system=0), f("pkg\\__init__.py", "", 0, system=0),
                                f("pkg\\mod.py", "", 0, system=0)])
    finding = only(findings, "LP122")
    assert codes(findings) == ["LP122"] and finding.severity is Severity.ERROR
    assert finding.message.startswith("2 entry names use backslashes as folder separators")
    assert "pkg\\__init__.py, pkg\\mod.py" in finding.message


# -- LP123 symlinks -------------------------------------------------------------------------------

def test_symlinks_that_leave_the_package(tmp_path: Path) -> None:
    findings = check(tmp_path, [*HEALTHY, link("pkg/shared", "../../shared"), link("lib", "/home/me/project/lib")])
    finding = only(findings, "LP123")
    assert codes(findings) == ["LP123"]
    assert finding.message == ("2 symbolic links would dangle on Lambda: pkg/shared -> ../../shared (outside the "
                               "package), lib -> /home/me/project/lib (a path on the machine that made the zip)")
    assert finding.path.endswith(":pkg/shared")


def test_symlinks_inside_the_package_or_to_lambda_paths_are_fine(tmp_path: Path) -> None:
    items = [*HEALTHY, link("pkg/alias.py", "mod.py"), link("pkg/up.py", "../lambda_function.py"),
             link("cache", "/tmp/cache"), link("libssl.so.3", "/usr/lib64/libssl.so.3")]
    assert check(tmp_path, items) == []


def test_symlink_targets_need_the_contents(tmp_path: Path) -> None:
    assert check(tmp_path, [*HEALTHY, link("lib", "/home/me/lib")], read=False) == []


# -- LP124 duplicates -----------------------------------------------------------------------------

def test_duplicate_names(tmp_path: Path) -> None:
    findings = check(tmp_path, [*HEALTHY, f("pkg/mod.py", "X = 2\n"), f("pkg/mod.py", "X = 3\n")])
    finding = only(findings, "LP124")
    assert codes(findings) == ["LP124"]
    assert finding.message == ("1 file name appears more than once; the extractor decides which copy Lambda runs: "
                               "pkg/mod.py (3 times)")


# -- LP125, LP126 layers --------------------------------------------------------------------------

def test_layer_code_outside_python(tmp_path: Path) -> None:
    items = [f("requests/__init__.py"), f("requests-2.32.0.dist-info/METADATA"),
             f("lib/python3.12/site-packages/six.py"), f("python/lib/python3.12/idna/__init__.py")]
    findings = check(tmp_path, items, kind="layer")
    finding = only(findings, "LP125")
    assert codes(findings) == ["LP125"]
    assert finding.message.startswith("4 Python files are outside python/ and so not on sys.path: requests/__init__.py")


def test_layer_paths_lambda_reads(tmp_path: Path) -> None:
    items = [f("python/requests/__init__.py"), f("python/lib/python3.12/site-packages/six.py"),
             f("bin/ffmpeg", b"\x7fELF", 0o755), f("lib/libvips.so.42", b"\x7fELF"), f("extensions/agent.py", "", 0o755),
             f("fonts/DejaVuSans.ttf", b"\0"), f("README.md")]
    assert check(tmp_path, items, kind="layer") == []


def test_layer_for_another_python(tmp_path: Path) -> None:
    findings = check(tmp_path, [f("python/lib/python3.11/site-packages/six.py"),
                                f("python/lib/python3.11/site-packages/idna/__init__.py")], kind="layer")
    finding = only(findings, "LP126")
    assert codes(findings) == ["LP126"]
    assert finding.message == ("2 files are in python/lib/python3.11/site-packages/, which python3.12 does not read: "
                               "it adds python/ and python/lib/python3.12/site-packages/ to sys.path")


def test_layer_for_several_pythons_is_fine(tmp_path: Path) -> None:
    items = [f("python/lib/python3.11/site-packages/six.py"), f("python/lib/python3.12/site-packages/six.py")]
    assert check(tmp_path, items, kind="layer") == []


def test_function_rules_skip_layers_and_layer_rules_skip_functions(tmp_path: Path) -> None:
    assert check(tmp_path, [*HEALTHY, f("requests/__init__.py"), f("python/lib/python3.11/site-packages/x.py")]) == []
    assert check(tmp_path, [f("python/x/__init__.py"), f("python/x/y.py")], kind="layer") == []


# -- LP127 a function zipped with its folder ------------------------------------------------------

def test_function_inside_an_extra_folder(tmp_path: Path) -> None:
    findings = check(tmp_path, [folder("myfunc"), f("myfunc/lambda_function.py", CODE), f("myfunc/util.py"),
                                f("__MACOSX/myfunc/._lambda_function.py", b"\0\5\26\7")])
    finding = only(findings, "LP127")
    assert codes(findings) == ["LP127"] and finding.severity is Severity.ERROR
    assert finding.message == ("every file is inside myfunc/, but the handler lambda_function.lambda_handler imports "
                               "lambda_function from the package root; it is at myfunc/lambda_function.py")


@pytest.mark.parametrize(("items", "handler", "message", "fix"), [
    pytest.param([f("orders/__init__.py"), f("orders/api.py", CODE), f("orders/db.py")], "api.handler",
                 "every file is inside the package orders/, but the handler api.handler imports api from the "
                 "package root; it is orders.api in the package orders/",
                 'set handler = "orders.api.handler"', id="module-in-the-package"),
    pytest.param([f("orders/__init__.py"), f("orders/api/__init__.py", CODE)], "api.handler",
                 "every file is inside the package orders/, but the handler api.handler imports api from the "
                 "package root; it is orders.api in the package orders/",
                 'set handler = "orders.api.handler"', id="subpackage-in-the-package"),
    pytest.param([f("orders/__init__.py"), f("orders/api.py", CODE)], HANDLER,
                 f"every file is inside the package orders/, but the handler {HANDLER} imports lambda_function "
                 "from the package root",
                 'set handler = "orders.MODULE.lambda_handler", naming the module of orders/ that defines it',
                 id="module-not-in-the-package"),
])
def test_a_package_folder_is_a_wrong_handler_not_a_wrong_zip(
    tmp_path: Path, items: list[Item], handler: str, message: str, fix: str
) -> None:
    """Unzipping a real package would break its imports (from orders import db): fix the handler."""
    finding = only(check(tmp_path, items, handler=handler), "LP127")
    assert (finding.severity, finding.message, finding.fix) == (Severity.ERROR, message, fix)


def test_a_plain_folder_is_still_a_wrong_zip(tmp_path: Path) -> None:
    finding = only(check(tmp_path, [f("orders/api.py", CODE), f("orders/db.py")], handler="api.handler"), "LP127")
    assert finding.fix == "zip the contents of orders/, not the folder itself"


def test_extra_folder_without_a_handler_is_a_warning(tmp_path: Path) -> None:
    findings = check(tmp_path, [f("my-func/app.py", CODE), f("my-func/util.py")], handler=None)
    assert codes(findings) == ["LP127"] and findings[0].severity is Severity.WARNING


@pytest.mark.parametrize(("items", "handler"), [
    pytest.param([f("myfunc/lambda_function.py", CODE)], "myfunc/lambda_function.lambda_handler", id="handler-names-folder"),
    pytest.param([f("orders/__init__.py"), f("orders/api.py", CODE)], "orders.api.handler", id="package-handler"),
    pytest.param([f("orders/__init__.py"), f("orders/api.py", CODE)], None, id="package-no-handler"),
    pytest.param([f("lambda_function.py", CODE), f("lib/util.py")], HANDLER, id="file-at-root"),
])
def test_folder_layouts_that_work(tmp_path: Path, items: list[Item], handler: str | None) -> None:
    assert check(tmp_path, items, handler=handler) == []


# -- LP130 AWS keys -------------------------------------------------------------------------------

def test_aws_key_pair(tmp_path: Path) -> None:
    source = f'import boto3\n\nKEY = "{KEY_ID}"\nSECRET = "{SECRET}"\n'
    findings = check(tmp_path, [*HEALTHY, f("settings.py", source)])
    finding = only(findings, "LP130")
    assert codes(findings) == ["LP130"] and finding.severity is Severity.ERROR
    assert (finding.path.endswith(":settings.py"), finding.line) == (True, 3)
    assert finding.message == ("access key ID AKIA************3KDN on line 3 with its secret access key on line 4: "
                               "whoever can read the package can use them")
    assert KEY_ID not in str(finding) and SECRET not in str(finding)


def test_aws_key_forms(tmp_path: Path) -> None:
    files = [f("alone.py", f'KEY = "{KEY_ID}"\n'), f("named.cfg", f"aws_secret_access_key = {SECRET}\n"),
             f("temp.json", f'{{"AccessKeyId": "{TEMP_KEY_ID}", "SecretAccessKey": "{SECRET}"}}')]
    findings = check(tmp_path, [*HEALTHY, *files])
    assert [(x.path.rsplit(":", 1)[1], x.severity, x.line) for x in findings] == [
        ("alone.py", Severity.WARNING, 1), ("named.cfg", Severity.ERROR, 1), ("temp.json", Severity.ERROR, 1)]
    assert findings[2].message.startswith("temporary access key ID ASIA************3KDN")
    assert all(SECRET not in str(x) and KEY_ID not in str(x) for x in findings)


def test_aws_documentation_keys_are_not_secrets(tmp_path: Path) -> None:
    source = f'KEY = "{EXAMPLE_KEY_ID}"\nSECRET = "{EXAMPLE_SECRET}"\nSHA = "{"0123456789abcdef" * 2}01234567"\n'
    assert check(tmp_path, [*HEALTHY, f("settings.py", source)]) == []


def test_placeholder_key_ids_are_not_keys(tmp_path: Path) -> None:
    source = 'KEY = "AKIA' + "X" * 16 + '"\nOTHER = "AKIA' + "0" * 16 + '"\n'
    assert check(tmp_path, [*HEALTHY, f("settings.py", source)]) == []


def test_a_secret_without_its_key_id_or_name_is_not_reported(tmp_path: Path) -> None:
    assert check(tmp_path, [*HEALTHY, f("data.txt", f"checksum {SECRET}\n")]) == []


def test_library_files_are_not_searched(tmp_path: Path) -> None:
    record = "botocore/tests/creds.py,sha256=x,10\nbotocore-1.0.dist-info/RECORD,,\n"
    items = [*HEALTHY, f("botocore/tests/creds.py", f'K = "{KEY_ID}"\nS = "{SECRET}"\n'),
             f("botocore-1.0.dist-info/RECORD", record)]
    assert "LP130" not in codes(check(tmp_path, items))


# A library whose metadata lost its RECORD (pip install --target, then repacked): which files it
# owns comes from what its metadata still says (lpack.analysis.distributions).
NO_RECORD = {
    "project name": [f("fakelib-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: fakelib\n")],
    "top_level.txt": [f("fake_lib-1.0.dist-info/top_level.txt", "fakelib\n")],
    "Import-Name": [f("fake-client-1.0.dist-info/METADATA", "Metadata-Version: 2.5\nImport-Name: fakelib\n")],
}


@pytest.mark.parametrize("metadata", NO_RECORD.values(), ids=NO_RECORD.keys())
def test_a_library_without_record_is_not_searched(tmp_path: Path, metadata: list[Item]) -> None:
    pair = f'K = "{KEY_ID}"\nS = "{SECRET}"\n'
    library = [f("fakelib/__init__.py"), f("fakelib/tests/data/credentials.txt", pair), *metadata]
    assert check(tmp_path, [*HEALTHY, *library]) == []
    findings = check(tmp_path, [*HEALTHY, *library, f("settings.py", pair)])
    assert [(x.code, x.path.rsplit(":", 1)[1]) for x in findings] == [("LP130", "settings.py")]


def test_files_beside_a_library_without_record_are_searched(tmp_path: Path) -> None:
    """Without a RECORD, a distribution owns the modules its metadata claims, nothing else."""
    items = [*HEALTHY, *NO_RECORD["project name"], f("fakelib_settings.py", f'K = "{KEY_ID}"\nS = "{SECRET}"\n')]
    assert codes(check(tmp_path, items)) == ["LP130"]


def test_the_functions_own_project_without_record_is_searched(tmp_path: Path) -> None:
    items = [f("orders/__init__.py"), f("orders/api.py", f'K = "{KEY_ID}"\nS = "{SECRET}"\n'),
             f("orders-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: orders\n")]
    assert codes(check(tmp_path, items, handler="orders.api.handler")) == ["LP130"]


def test_a_layers_library_without_record_is_not_searched(tmp_path: Path) -> None:
    prefix = "python/lib/python3.12/site-packages/"
    items = [f(prefix + "paramiko/tests/test_rsa.key", RSA_KEY),
             f(prefix + "paramiko-3.4.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: paramiko\n")]
    assert check(tmp_path, items, kind="layer") == []


def test_a_damaged_record_does_not_stop_the_check(tmp_path: Path) -> None:
    items = [*HEALTHY, f("lib/__init__.py"), f("lib-1.0.dist-info/RECORD", "lib/__init__.py,,\n\"bad\0line\n")]
    assert check(tmp_path, items) == []


def test_the_functions_own_installed_project_is_searched(tmp_path: Path) -> None:
    """A source folder that is a Python project is installed from its wheel: its files have a
    RECORD too, but they are the function's own."""
    record = "orders/__init__.py,,\norders/api.py,,\norders-1.0.dist-info/RECORD,,\n"
    items = [f("orders/__init__.py"), f("orders/api.py", f'K = "{KEY_ID}"\nS = "{SECRET}"\n'),
             f("orders-1.0.dist-info/RECORD", record)]
    assert codes(check(tmp_path, items, handler="orders.api.handler")) == ["LP130"]


def test_binaries_and_large_files_are_not_read(tmp_path: Path) -> None:
    pair = f'K = "{KEY_ID}"\nS = "{SECRET}"\n'
    items = [*HEALTHY, f("blob.txt", "\0" + pair), f("model.onnx", pair), f("huge.json", pair + " " * (1 << 20))]
    assert check(tmp_path, items) == []




def test_only_the_functions_own_files_are_read(tmp_path: Path) -> None:
    """Installed libraries are known from their RECORD: a 250 MB package costs a few reads."""
    library = [f(f"lib/mod{i}.py", "X = 1\n" * 1000) for i in range(50)]
    record = "".join(f"lib/mod{i}.py,,\n" for i in range(50)) + "lib-1.0.dist-info/RECORD,,\n"
    index = read_package(make_zip(tmp_path / "fn.zip", [*HEALTHY, *library, f("lib-1.0.dist-info/RECORD", record)]))
    reader = RecordingReader(index)
    subject = PackageSubject(package=index, kind="function", target=make_target("python3.12", "x86_64", where="t"),
                             reader=reader, handler=HANDLER)
    mine = [r for r in rules.rules_for(PackageSubject) if 120 <= int(r.code[2:]) <= 159]
    assert [x for r in mine for x in r.func(r, subject)] == []
    reader.close()
    assert set(reader.reads) == {"lib-1.0.dist-info/RECORD", "lambda_function.py", "pkg/__init__.py", "pkg/mod.py"}


def test_reading_stops_at_the_budget(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(credentials, "SCAN_BUDGET_BYTES", 10_000)
    items = [*HEALTHY, *(f(f"data/{i:02}.txt", "x" * 1000) for i in range(20)),
             f("data/zz.py", f'K = "{KEY_ID}"\nS = "{SECRET}"\n')]
    assert check(tmp_path, items) == []


def test_secrets_need_the_contents(tmp_path: Path) -> None:
    items = [*HEALTHY, f("settings.py", f'K = "{KEY_ID}"\nS = "{SECRET}"\n'), f("key.pem", RSA_KEY),
             f(".env", "DB_PASSWORD=hunter2\n")]
    assert check(tmp_path, items, read=False) == []


# -- LP131 private keys ---------------------------------------------------------------------------

def test_private_keys(tmp_path: Path) -> None:
    literal = 'KEY = (\n    "-----BEGIN ' + 'PRIVATE KEY-----\\n"\n    "' + PEM_BODY + '\\n"\n)\n'
    findings = check(tmp_path, [*HEALTHY, f("certs/service.pem", RSA_KEY), f("signing.py", literal)])
    assert [(x.code, x.path.rsplit(":", 1)[1], x.line, x.message) for x in findings] == [
        ("LP131", "certs/service.pem", 1, "RSA private key on line 1"),
        ("LP131", "signing.py", 2, "private key on line 2"),
    ]
    assert PEM_BODY not in str(findings)


@pytest.mark.parametrize(("text", "expected"), [
    ("-----BEGIN OPENSSH PRIVATE KEY-----\n" + PEM_BODY + "\n", [PrivateKey(1, "OPENSSH", False)]),
    ("x\n-----BEGIN PGP PRIVATE KEY BLOCK-----\nVersion: GnuPG v1\n\n" + PEM_BODY, [PrivateKey(2, "PGP", False)]),
    ("-----BEGIN ENCRYPTED PRIVATE KEY-----\n" + PEM_BODY, [PrivateKey(1, "", True)]),
    ("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,0A1B\n\n" + PEM_BODY,
     [PrivateKey(1, "RSA", True)]),
    ("-----BEGIN EC PRIVATE KEY-----\n...\n-----END EC PRIVATE KEY-----", []),
    ("-----BEGIN CERTIFICATE-----\n" + PEM_BODY, []),
])
def test_private_key_forms(text: str, expected: list[PrivateKey]) -> None:
    assert private_keys(text) == expected


def test_pem_markers_in_code_are_not_keys(tmp_path: Path) -> None:
    source = ('def is_key(pem):\n    return pem.startswith("-----BEGIN ' + 'RSA PRIVATE KEY-----")\n'
              'PUBLIC = "-----BEGIN PUBLIC KEY-----\\n' + PEM_BODY + '"\n'
              'HELP = "paste -----BEGIN ' + 'PRIVATE KEY-----\\n...\\n-----END PRIVATE KEY-----"\n')
    assert check(tmp_path, [*HEALTHY, f("keys.py", source)]) == []


def test_a_librarys_test_fixture_key_is_not_reported(tmp_path: Path) -> None:
    record = ("paramiko/__init__.py,sha256=a,1\nparamiko/tests/test_rsa.key,sha256=b,2\n"
              "paramiko-3.4.0.dist-info/RECORD,,\n")
    items = [*HEALTHY, f("paramiko/__init__.py"), f("paramiko/tests/test_rsa.key", RSA_KEY),
             f("paramiko-3.4.0.dist-info/RECORD", record)]
    assert check(tmp_path, items) == []


def test_a_layers_library_fixture_is_not_reported(tmp_path: Path) -> None:
    prefix = "python/lib/python3.12/site-packages/"
    record = "paramiko/tests/test_rsa.key,,\nparamiko-3.4.0.dist-info/RECORD,,\n"
    items = [f(prefix + "paramiko/tests/test_rsa.key", RSA_KEY), f(prefix + "paramiko-3.4.0.dist-info/RECORD", record)]
    assert check(tmp_path, items, kind="layer") == []


# -- LP132 .env files -----------------------------------------------------------------------------

def test_dotenv_with_credentials(tmp_path: Path) -> None:
    env = ("# local settings\nTABLE_NAME=orders\nDB_PASSWORD=hunter2\nexport STRIPE_API_KEY='sk_live_51HxQ'\n"
           "GITHUB_TOKEN=ghp_8f2kLm3 # for the CI\n")
    findings = check(tmp_path, [*HEALTHY, f(".env", env), f("config/.env.production", "JWT_SECRET=s3cr3t-v4lue\n")])
    assert [(x.code, x.path.rsplit(":", 1)[1], x.line, x.message) for x in findings] == [
        ("LP132", ".env", 3, ("DB_PASSWORD (line 3), STRIPE_API_KEY (line 4), GITHUB_TOKEN (line 5) set to "
                              "values that look like real credentials (not shown)")),
        ("LP132", "config/.env.production", 1, ("JWT_SECRET (line 1) set to values that look like real "
                                                "credentials (not shown)")),
    ]
    assert "hunter2" not in str(findings) and "sk_live" not in str(findings)


def test_dotenv_placeholders_and_templates(tmp_path: Path) -> None:
    env = ("DB_PASSWORD=\nAPI_KEY=changeme\nTOKEN=${GITHUB_TOKEN}\nCLIENT_SECRET=<your-client-secret>\n"
           "AUTH_TOKEN=xxxxxxxx\nSESSION_SECRET=\"\"\nPARTITION_KEY=pk\nS3_KEY=uploads/2024/report.csv\n"
           "DB_PASSWORD_ARN=arn:aws:secretsmanager:eu-west-1:123456789012:secret:db\n"
           "API_TOKEN={{resolve:secretsmanager:api}}\n# PASSWORD=hunter2\nFEATURE_KEY=new-checkout\n")
    items = [*HEALTHY, f(".env", env), f(".env.example", "DB_PASSWORD=hunter2\n"), f("env.py", "PASSWORD=hunter2\n")]
    assert check(tmp_path, items) == []


def test_dotenv_urls_with_passwords(tmp_path: Path) -> None:
    env = ("DATABASE_URL=postgres://app:Zq8vR2mK@orders.cluster-1.eu-west-1.rds.amazonaws.com/orders\n"
           "LOCAL_DB=postgres://postgres:postgres@localhost:5432/dev\nCACHE_URL=redis://cache.internal:6379/0\n"
           "BROKER=amqp://user:${BROKER_PASSWORD}@mq.internal/\nSITE=https://example.org/a:b@c\n")
    findings = check(tmp_path, [*HEALTHY, f(".env", env)])
    assert [(x.code, x.line) for x in findings] == [("LP132", 1)]
    assert "DATABASE_URL (line 1)" in findings[0].message and "Zq8vR2mK" not in str(findings)


def test_aws_keys_in_dotenv_are_reported_once(tmp_path: Path) -> None:
    env = f"AWS_ACCESS_KEY_ID={KEY_ID}\nAWS_SECRET_ACCESS_KEY={SECRET}\nDB_PASSWORD=hunter2\n"
    findings = check(tmp_path, [*HEALTHY, f(".env", env)])
    assert [(x.code, x.line) for x in findings] == [("LP130", 1), ("LP132", 3)]


@pytest.mark.parametrize(("name", "expected"), [
    (".env", True), ("app/.env", True), (".env.production", True), (".env.local", True),
    (".env.example", False), (".env.sample", False), (".env.template", False), ("prod.env", False), ("env", False),
])
def test_dotenv_names(name: str, expected: bool) -> None:
    assert is_dotenv(name) is expected


@pytest.mark.parametrize("value", ["", "changeme", "${X}", "$X", "<key>", "xxxx", "none", "your-key-here",
                                   "arn:aws:ssm:eu-west-1:1:parameter/x", "REPLACE_ME"])
def test_placeholders(value: str) -> None:
    assert is_placeholder(value)


def test_generated_looking_key_values() -> None:
    text = "SENTRY_KEY=a81f9c2e44d04b6f9e2f\nLOOKUP_KEY=a81f9c2e44d04b6f9e2f\nMY_KEY=short1\n"
    assert [x.name for x in dotenv_credentials(text)] == ["SENTRY_KEY"]


# -- LP140, LP141 bytecode ------------------------------------------------------------------------

def pyc(version: tuple[int, int], flags: int = 0) -> bytes:
    magic = {(3, 11): 3495, (3, 12): 3531, (3, 13): 3571}[version]
    return struct.pack("<HcciII", magic, b"\r", b"\n", flags, 0, 0) + b"\xe3" + b"\0" * 40


def test_the_magic_number_table_knows_this_python() -> None:
    assert pyc_version(importlib.util.MAGIC_NUMBER) == sys.version_info[:2]
    assert pyc_version(pyc((3, 12))) == (3, 12) and pyc_version(pyc((3, 13))) == (3, 13)
    assert pyc_version(b"\x03\xf3\r\n") is None  # Python 2.7


def test_bytecode_for_another_python(tmp_path: Path) -> None:
    items = [*HEALTHY, f("pkg/__pycache__/mod.cpython-313.pyc", pyc((3, 13))),
             f("pkg/__pycache__/__init__.cpython-313.opt-1.pyc", pyc((3, 13))), f("legacy.pyc", pyc((3, 11)))]
    findings = check(tmp_path, items)
    assert codes(findings) == ["LP140", "LP140"] and findings[0].severity is Severity.WARNING
    assert findings[0].message.startswith("2 .pyc files compiled for cpython-313, 114 B unzipped (114 bytes), which "
                                          "python3.12 never reads: was the package built with another Python?")
    assert findings[1].message == ("1 module ships only as bytecode for another Python, which python3.12 cannot "
                                   "load (bad magic number): legacy.pyc (Python 3.11)")


def test_bytecode_for_the_right_python_is_not_a_warning(tmp_path: Path) -> None:
    items = [*HEALTHY, f("pkg/__pycache__/mod.cpython-312.pyc", pyc((3, 12))), f("pkg/old.py"),
             f("pkg/old.pyc", pyc((3, 11)))]
    assert check(tmp_path, items) == []


def test_bytecode_that_python_never_loads_is_not_sourceless(tmp_path: Path) -> None:
    """An extension module or a regular package of the same name comes first in Python's search."""
    items = [*HEALTHY, f("fast.cpython-312-x86_64-linux-gnu.so", b"\x7fELF"), f("fast.pyc", pyc((3, 11))),
             f("pkg.pyc", pyc((3, 11)))]
    assert check(tmp_path, items) == []


def test_sourceless_module_for_the_right_python(tmp_path: Path) -> None:
    findings = check(tmp_path, [*HEALTHY, f("secret_sauce.pyc", pyc((3, 12)))])
    finding = only(findings, "LP141")
    assert codes(findings) == ["LP141"] and finding.severity is Severity.INFO
    assert finding.message == "1 module ships only as bytecode, which only Python 3.12 can load: secret_sauce.pyc"


# -- LP142 boto3 ----------------------------------------------------------------------------------

def test_boto3_in_the_function(tmp_path: Path) -> None:
    items = [*HEALTHY, big("boto3/__init__.py", 1000), f("boto3-1.35.10.dist-info/METADATA"),
             big("botocore/data/s3.json", 4000), f("botocore-1.35.10.dist-info/METADATA"), big("s3transfer/x.py", 10)]
    finding = only(check(tmp_path, items), "LP142")
    assert finding.severity is Severity.INFO
    assert finding.message == ("boto3 1.35.10 and botocore 1.35.10 are in the package, 4.9 KB unzipped (5,010 bytes), "
                               "although the runtime provides them; fine if deliberate, e.g. to pin a newer boto3 "
                               "than the runtime's")


def test_boto3_in_a_layer(tmp_path: Path) -> None:
    findings = check(tmp_path, [f("python/boto3/__init__.py")], kind="layer")
    assert codes(findings) == ["LP142"] and findings[0].message.startswith("boto3 is in the package")


def test_names_like_boto3_are_not_boto3(tmp_path: Path) -> None:
    items = [*HEALTHY, f("boto3_helpers/__init__.py"), f("myboto3/x.py"), f("pkg/boto3/x.py"), f("boto3.txt")]
    assert check(tmp_path, items) == []


# -- LP143-LP145 dead weight ----------------------------------------------------------------------

def excluded(patterns: list[str], name: str) -> bool:
    return bool(pathspec.GitIgnoreSpec.from_lines(patterns).match_file(name))


def patterns_of(finding: Finding) -> list[str]:
    import json

    assert finding.fix is not None
    return list(json.loads(finding.fix.split(": ", 1)[1]))


def test_tests_shipped(tmp_path: Path) -> None:
    items = [*HEALTHY, big("numpy/_core/tests/test_umath.py", 60_000), big("numpy/_core/tests/data/x.csv", 20_000),
             big("pandas/tests/frame/test_api.py", 30_000), big("tornado/test/web_test.py", 5_000),
             big("django/test/client.py", 50_000), big("django/test/utils.py", 50_000), f("numpy/testing/__init__.py")]
    findings = check(tmp_path, items)
    finding = only(findings, "LP143")
    assert codes(findings) == ["LP143"] and finding.severity is Severity.INFO
    assert finding.message == ("tests ship in the package: 4 files, 112.3 KB unzipped (115,000 bytes), in "
                               "numpy/_core/tests/ (78.1 KB), pandas/tests/ (29.3 KB), tornado/test/ (4.9 KB); "
                               "libraries usually never import their tests at run time")
    patterns = patterns_of(finding)
    assert patterns == ["tests/", "test/", "!**/django/test/"]
    assert finding.fix is not None and "saves 112.3 KB" in finding.fix
    assert excluded(patterns, "numpy/_core/tests/data/x.csv") and excluded(patterns, "tornado/test/web_test.py")
    assert not excluded(patterns, "django/test/client.py") and not excluded(patterns, "numpy/testing/__init__.py")


def test_small_test_folders_are_not_worth_a_finding(tmp_path: Path) -> None:
    assert check(tmp_path, [*HEALTHY, big("tests/test_handler.py", 4_000), big("six/tests/t.py", 1_000)]) == []


def test_a_handler_in_a_test_folder_is_kept(tmp_path: Path) -> None:
    items = [f("tests/__init__.py"), big("tests/smoke.py", 100_000)]
    assert check(tmp_path, items, handler="tests.smoke.handler") == []


def test_caches_shipped(tmp_path: Path) -> None:
    items = [*HEALTHY, big(".pytest_cache/v/cache/nodeids", 40_000),
             f("pkg/__pycache__/mod.cpython-312.pyc", pyc((3, 12)) + b"\0" * 30_000), f("pkg/mod.pyc", b"\0" * 1000)]
    finding = only(check(tmp_path, items), "LP144")
    assert finding.message.startswith("caches ship in the package: 3 files, 69.4 KB unzipped (71,057 bytes), in "
                                      ".pytest_cache/ (39.1 KB), pkg/__pycache__/ (29.4 KB), pkg/*.pyc (1000 B)")
    patterns = patterns_of(finding)
    assert patterns == ["__pycache__/", ".pytest_cache/", "*.pyc"]


def test_caches_inside_tests_are_counted_once(tmp_path: Path) -> None:
    items = [*HEALTHY, big("numpy/tests/test_a.py", 70_000), big("numpy/tests/__pycache__/test_a.cpython-312.pyc", 70_000),
             big("numpy/tests/README.md", 70_000)]
    findings = check(tmp_path, items)
    assert codes(findings) == ["LP143"] and "3 files, 205.1 KB unzipped (210,000 bytes)" in findings[0].message


def test_macos_resource_forks_are_not_code(tmp_path: Path) -> None:
    items = [f("python/requests/__init__.py"), f("__MACOSX/python/requests/.___init__.py", b"\0\5\26\7", 0o600),
             f("__MACOSX/python/requests/._x.pyc", b"\0\5\26\7")]
    assert check(tmp_path, items, kind="layer") == []


def test_hash_based_bytecode_is_deliberate(tmp_path: Path) -> None:
    items = [*HEALTHY, f("pkg/__pycache__/mod.cpython-312.pyc", pyc((3, 12), flags=1) + b"\0" * 100_000)]
    assert check(tmp_path, items) == []


def test_docs_shipped(tmp_path: Path) -> None:
    items = [*HEALTHY, big("somelib/docs/index.html", 50_000), big("somelib/docs/guide.md", 10_000),
             big("README.md", 10_000), big("otherlib/CHANGES.rst", 5_000), big("otherlib/LICENSE.md", 9_000),
             big("boto3/docs/__init__.py", 20_000), big("boto3/docs/method.py", 20_000),
             big("somelib-1.0.dist-info/licenses/NOTICE.md", 9_000)]
    finding = only(check(tmp_path, items), "LP145")
    assert finding.message.startswith("docs ship in the package: 4 files, 73.2 KB unzipped (75,000 bytes), in "
                                      "somelib/docs/ (58.6 KB), *.md (9.8 KB), *.rst (4.9 KB)")
    patterns = patterns_of(finding)
    assert patterns == ["docs/", "*.md", "*.rst", "!**/boto3/docs/", "!**/*.dist-info/**", "!LICENSE*"]
    for name in ("somelib/docs/index.html", "README.md", "otherlib/CHANGES.rst"):
        assert excluded(patterns, name)
    for name in ("boto3/docs/method.py", "otherlib/LICENSE.md", "somelib-1.0.dist-info/licenses/NOTICE.md"):
        assert not excluded(patterns, name)


def test_a_readme_is_not_worth_a_finding(tmp_path: Path) -> None:
    assert check(tmp_path, [*HEALTHY, big("README.md", 3_000), big("docs/index.md", 2_000)]) == []


def test_layer_dead_weight_patterns_are_relative_to_python(tmp_path: Path) -> None:
    items = [big("python/numpy/tests/test_a.py", 100_000), big("python/django/test/utils.py", 10_000),
             big("python/foo/test/x.py", 1_000)]
    finding = only(check(tmp_path, items, kind="layer"), "LP143")
    assert patterns_of(finding) == ["tests/", "test/", "!**/django/test/"]


# -- end to end -----------------------------------------------------------------------------------

def test_lpack_build_of_the_area_example_is_clean(tmp_path: Path) -> None:
    root = Path(shutil.copytree(EXAMPLES / "area", tmp_path / "area", ignore=shutil.ignore_patterns("dist")))
    assert main(["build", str(root), "-q"]) == 0
    index = read_package(root / "dist" / "area.zip")
    assert run(index, runtime="python3.14") == []
    assert run(index, runtime="python3.14", read=False) == []
    source = index_directory(root, list(select.walk(root, select.SOURCE_EXCLUDES, skip=[root / "dist"])))
    assert run(source, runtime="python3.14", is_source=True) == []
