"""Handler rules (LP201-LP211): one small package per scenario, as a source folder or a zip, checked
for what Lambda's runtime would do when it loads the handler -- and near misses that must stay quiet."""

from __future__ import annotations

import ast
import inspect
import json
import os
import subprocess
import sys
import textwrap
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from lpack import rules
from lpack.analysis.package import (
    PackageIndex,
    PackageReader,
    index_directory,
    read_package,
)
from lpack.analysis.signature import call_error
from lpack.analysis.subjects import HandlerSubject
from lpack.analysis.syntax import HOST, parse_host, target_syntax
from lpack.analysis.versions import truth
from lpack.core import stdlib
from lpack.core.features import Features
from lpack.core.findings import Finding
from lpack.core.targets import make_target
from tests.factories import make_wheel
from tests.factories.readers import RecordingReader

EXAMPLES = Path(__file__).resolve().parent.parent.parent / "examples"
Files = Mapping[str, str]


def write(root: Path, files: Files) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def folder_index(root: Path) -> PackageIndex:
    files = sorted((p.relative_to(root).as_posix(), p) for p in root.rglob("*") if p.is_file())
    return index_directory(root, files)


def make_zip(path: Path, files: Files) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, textwrap.dedent(text))
    return path


def subject(index: PackageIndex, handler: str, *, runtime: str | None = "python3.12",
            provided: tuple[str, ...] = (), layers: tuple[PackageIndex, ...] = (),
            layer_count: int | None = None, reader: bool = True) -> HandlerSubject:
    return HandlerSubject(
        package=index, kind="function", layers=layers, layer_count=len(layers) if layer_count is None else layer_count,
        target=make_target(runtime, None, where="test"), handler=handler,
        reader=PackageReader(index) if reader else None, provided=frozenset(provided),
        is_source=index.path.is_dir(),
    )


def check(tmp_path: Path, files: Files, handler: str, **options: object) -> list[Finding]:
    index = folder_index(write(tmp_path / "src", files))
    return rules.run(subject(index, handler, **options))  # type: ignore[arg-type]


def summary(findings: list[Finding]) -> list[tuple[str, int | None, str]]:
    return [(f.code, f.line, f.message) for f in findings]


def codes(findings: list[Finding]) -> list[str]:
    return [f.code for f in findings]


HANDLER = "def handler(event, context):\n    return {}\n"


# -- must stay quiet ---------------------------------------------------------------------------------

QUIET: dict[str, tuple[Files, str, dict[str, object]]] = {
    "from-import-binds-handler": (
        {"app.py": "from impl import handler\n", "impl.py": HANDLER}, "app.handler", {}),
    "mangum-assignment": (
        {"app.py": """\
            from fastapi import FastAPI
            from mangum import Mangum

            app = FastAPI()
            handler = Mangum(app)
            """}, "app.handler", {"provided": ("fastapi", "mangum")}),
    "namespace-package-module": ({"svc/api.py": HANDLER}, "svc.api.handler", {}),
    "slash-form-with-relative-imports": (
        {"src/orders/__init__.py": "", "src/orders/models.py": "class Order: ...\n",
         "src/orders/db.py": "TABLE = 'orders'\n",
         "src/orders/api.py": "from .db import TABLE\nfrom . import models\nfrom .models import Order\n" + HANDLER},
        "src/orders/api.handler", {}),
    "extra-args-star": ({"app.py": "def handler(event, context, *_):\n    pass\n"}, "app.handler", {}),
    "context-default": ({"app.py": "def handler(event, context=None):\n    pass\n"}, "app.handler", {}),
    "star-args-only": ({"app.py": "def handler(*args):\n    pass\n"}, "app.handler", {}),
    "keyword-only-with-default": (
        {"app.py": "def handler(event, context, *, debug=False):\n    pass\n"}, "app.handler", {}),
    "positional-only": ({"app.py": "def handler(event, /, context):\n    pass\n"}, "app.handler", {}),
    "lambda-two-args": ({"app.py": "handler = lambda event, context: {}\n"}, "app.handler", {}),
    "decorated-one-arg": (
        {"app.py": """\
            from aws_lambda_powertools import Logger

            logger = Logger()

            @logger.inject_lambda_context
            def handler(event):
                return {}
            """}, "app.handler", {"provided": ("aws_lambda_powertools",)}),
    "decorated-async": (
        {"app.py": "from adapters import sync\n\n@sync\nasync def handler(event, context):\n    return {}\n",
         "adapters.py": "def sync(f):\n    return f\n"}, "app.handler", {}),
    "class-handler": (
        {"app.py": "class handler(dict):\n    def __init__(self, event, context):\n        super().__init__()\n"},
        "app.handler", {}),
    "handler-bound-in-branches": (
        {"app.py": """\
            import os
            if os.environ.get("FAST"):
                def handler(event, context):
                    return 1
            else:
                try:
                    from impl import handler
                except ImportError:
                    handler = None
            """, "impl.py": HANDLER}, "app.handler", {}),
    "module-getattr": ({"app.py": "def __getattr__(name):\n    return lambda e, c: {}\n"}, "app.handler", {}),
    "star-import": ({"app.py": "from impl import *\n", "impl.py": HANDLER}, "app.handler", {}),
    "globals-assignment": ({"app.py": "globals()['handler'] = print\n"}, "app.handler", {}),
    "try-except-importerror-fallback": (
        {"app.py": textwrap.dedent("""\
            try:
                import ujson as json
            except ImportError:
                import json
            try:
                from orjson import dumps
            except (ImportError, AttributeError):
                dumps = None
            try:
                import sentry_sdk
            except Exception:
                sentry_sdk = None
            """) + HANDLER}, "app.handler", {}),
    "else-after-guarded-import": (
        {"app.py": "try:\n    import ujson\nexcept ImportError:\n    ujson = None\nelse:\n    import ujson.extra\n"
         + HANDLER}, "app.handler", {}),
    "suppress-importerror": (
        {"app.py": "import contextlib\nwith contextlib.suppress(ImportError):\n    import rich\n" + HANDLER},
        "app.handler", {}),
    "type-checking": (
        {"app.py": """\
            from __future__ import annotations
            from typing import TYPE_CHECKING
            if TYPE_CHECKING:
                from mypy_boto3_s3 import S3Client
            def handler(event, context):
                if TYPE_CHECKING:
                    import types_boto3
                return {}
            """}, "app.handler", {}),
    "main-block": (
        {"app.py": HANDLER + "if __name__ == '__main__':\n    import dotenv\n    dotenv.load_dotenv()\n"},
        "app.handler", {}),
    "undecidable-condition": (
        {"app.py": "import os\nif os.environ.get('LOCAL'):\n    from dotenv import load_dotenv\n" + HANDLER},
        "app.handler", {}),
    "version-branch-new": (
        {"app.py": "import sys\nif sys.version_info >= (3, 11):\n    import tomllib\nelse:\n    import tomli as tomllib\n"
         + HANDLER}, "app.handler", {"runtime": "python3.12"}),
    "version-branch-old-backport-provided": (
        {"app.py": "import sys\nif sys.version_info[:2] < (3, 11):\n    import tomli as tomllib\nelse:\n    import tomllib\n"
         + HANDLER}, "app.handler", {"runtime": "python3.10", "provided": ("tomli",)}),
    "runtime-provided": (
        {"app.py": "import boto3\nimport botocore.exceptions\nfrom dateutil import parser\nimport simplejson\n"
         "import jmespath, urllib3, six, s3transfer, awslambdaric\n"
         "from snapshot_restore_py import register_before_snapshot\n" + HANDLER}, "app.handler", {}),
    "stdlib": (
        {"app.py": "from __future__ import annotations\nimport json, zoneinfo, tomllib, logging.handlers\n"
         "from email.mime.text import MIMEText\nimport xml.etree.ElementTree as ET\n" + HANDLER},
        "app.handler", {"runtime": "python3.11"}),
    "requirements-provided": (
        {"app.py": "import requests\nfrom pydantic import BaseModel\n" + HANDLER},
        "app.handler", {"provided": ("requests", "pydantic")}),
    "distutils-with-setuptools": (
        {"app.py": "import setuptools\nimport distutils.util\n" + HANDLER},
        "app.handler", {"runtime": "python3.12", "provided": ("setuptools",)}),
    "pep695-on-312-from-older-host": (
        {"app.py": """\
            type Event = dict[str, object]

            def first[T](items: list[T]) -> T:
                return items[0]

            def handler(event, context):
                return f"{event["name"]}"
            """}, "app.handler", {"runtime": "python3.12"}),
    "pep758-on-314": (
        {"app.py": "def handler(event, context):\n    try:\n        return 1\n    except ValueError, TypeError:\n"
         "        return 2\n"}, "app.handler", {"runtime": "python3.14"}),
    "handler-in-package-init": (
        {"api/__init__.py": "from .views import handler\n", "api/views.py": HANDLER}, "api.handler", {}),
    "submodule-import-of-own-package": (
        {"app.py": "import orders.db\nfrom orders import db as orders_db, models\n" + HANDLER,
         "orders/__init__.py": "", "orders/db.py": "", "orders/models.py": ""}, "app.handler", {}),
    "guarded-own-module-not-followed": (
        {"app.py": "try:\n    import fast\nexcept ImportError:\n    fast = None\n" + HANDLER,
         "fast.py": "import numpy\n"}, "app.handler", {}),
    "walrus-and-for-bindings": (
        {"app.py": "for handler in [print]:\n    pass\n"}, "app.handler", {}),
    "aliased-import": (
        {"app.py": "import impl as handler_module\nfrom impl import handler as handler\n", "impl.py": HANDLER},
        "app.handler", {}),
    "namespace-folder-named-like-stdlib": (
        {"app.py": "import email\nfrom email.mime.text import MIMEText\n" + HANDLER, "email/templates/a.txt": ""},
        "app.handler", {}),
    "namespace-portion-beside-requirements": (
        {"app.py": "from google import protobuf\nimport google.cloud.storage\nfrom google.api import x\n" + HANDLER,
         "google/api/__init__.py": "x = 1\n"}, "app.handler", {"provided": ("google",)}),
    "unseen-layers-may-provide": (
        {"app.py": "import requests\n" + HANDLER}, "app.handler", {"layer_count": 1}),
}


@pytest.mark.parametrize("files, handler, options", list(QUIET.values()), ids=list(QUIET))
def test_quiet(tmp_path: Path, files: Files, handler: str, options: dict[str, object]) -> None:
    assert summary(check(tmp_path, files, handler, **options)) == []


@pytest.mark.parametrize("example", ["area", "hello-world", "multi-function/src"])
@pytest.mark.parametrize("runtime", ["python3.10", "python3.12", "python3.14"])
def test_examples_are_clean(example: str, runtime: str) -> None:
    index = folder_index(EXAMPLES / example)
    handlers = ["orders.api.handler", "orders.worker.handler"] if "multi" in example else ["lambda_function.lambda_handler"]
    for handler in handlers:
        assert rules.run(subject(index, handler, runtime=runtime)) == []


def test_example_with_dependencies_is_clean_when_they_are_provided() -> None:
    index = folder_index(EXAMPLES / "with-deps")
    found = rules.run(subject(index, "lambda_function.lambda_handler", provided=("pydantic",)))
    assert found == []


@pytest.mark.parametrize("example", ["area", "hello-world"])
def test_example_zips_are_clean(example: str, tmp_path: Path) -> None:
    """The examples as `lpack build` zips them (built here: dist/ is not committed)."""
    import shutil

    from lpack.cli import main

    root = shutil.copytree(EXAMPLES / example, tmp_path / example, ignore=shutil.ignore_patterns("dist"))
    assert main(["build", "-q", str(root)]) == 0
    index = read_package(root / "dist" / f"{example}.zip")
    assert rules.run(subject(index, "lambda_function.lambda_handler", runtime=None)) == []


def test_module_in_layers(tmp_path: Path) -> None:
    layer = read_package(make_zip(tmp_path / "deps.zip", {
        "python/requests/__init__.py": "",
        "python/lib/python3.12/site-packages/yaml/__init__.py": "",
        "python/lib/python3.12/site-packages/google/protobuf/__init__.py": "",
    }))
    files = {"app.py": "import requests, yaml\nfrom google.protobuf import message\n" + HANDLER}
    index = folder_index(write(tmp_path / "src", files))
    assert rules.run(subject(index, "app.handler", layers=(layer,))) == []


def test_handler_module_in_a_layer(tmp_path: Path) -> None:
    layer = read_package(make_zip(tmp_path / "code.zip", {"python/shared/entry.py": HANDLER}))
    index = read_package(make_zip(tmp_path / "fn.zip", {"README.txt": "x"}))
    assert rules.run(subject(index, "shared.entry.handler", layers=(layer,))) == []


def test_compiled_handler_module_counts_as_present(tmp_path: Path) -> None:
    index = read_package(make_zip(tmp_path / "fn.zip", {"fast.cpython-312-x86_64-linux-gnu.so": "\x7fELF"}))
    assert rules.run(subject(index, "fast.handler")) == []


def test_distribution_code_is_not_analysed(tmp_path: Path) -> None:
    files = {
        "app.py": "import requests\n" + HANDLER,
        "requests/__init__.py": "import charset_normalizer\nfrom .api import get\n",
        "requests-2.32.0.dist-info/RECORD": "requests/__init__.py,sha256=x,1\nrequests/api.py,,\n",
    }
    index = read_package(make_zip(tmp_path / "fn.zip", files))
    assert rules.run(subject(index, "app.handler")) == []


# -- LP201-LP204: the handler string and its module ------------------------------------------------

@pytest.mark.parametrize("handler, message", [
    ("lambda_function", ("Runtime.MalformedHandlerName: Bad handler 'lambda_function': "
                        "not enough values to unpack (expected 2, got 1)")),
    ("app.", "handler 'app.' is malformed: it has no function name after the last dot"),
    (".handler", "handler '.handler' is malformed: it has no module name before the last dot"),
    ("src//app.handler", "handler 'src//app.handler' is malformed: its module path 'src//app' has an empty part"),
    ("app. handler", "handler 'app. handler' contains whitespace, which Lambda's API rejects"),
    ("a" * 125 + ".h1", "handler is 128 characters; Lambda's API accepts at most 128"),
    ("a" * 126 + ".h1", "handler is 129 characters; Lambda's API accepts at most 128"),
])
def test_malformed_handler(tmp_path: Path, handler: str, message: str) -> None:
    found = check(tmp_path, {"app.py": HANDLER}, handler)
    if len(handler) == 128:
        assert codes(found) == ["LP204"]  # well-formed: the module is looked for
    else:
        assert [(f.code, f.message) for f in found] == [("LP201", message)]


def test_malformed_handler_stops_the_other_rules(tmp_path: Path) -> None:
    assert codes(check(tmp_path, {"x.py": ""}, "nodot")) == ["LP201"]


@pytest.mark.parametrize("handler", ["sys.handler", "time.handler", "posix.run"])
def test_builtin_module(tmp_path: Path, handler: str) -> None:
    module = handler.split(".")[0]
    found = check(tmp_path, {f"{module}.py": HANDLER}, handler)
    assert summary(found) == [
        ("LP202", None, f"Runtime.BuiltInModuleConflict: Cannot use built-in module {module} as a handler module")]


def test_preloaded_stdlib_module(tmp_path: Path) -> None:
    found = check(tmp_path, {"json.py": HANDLER}, "json.handler")
    assert summary(found) == [("LP203", None, (
        "handler module 'json': the runtime has imported the standard library's 'json' before it loads the "
        "handler -- Runtime.HandlerNotFound: Handler 'handler' missing on module 'json'"))]


def test_stdlib_module_not_in_package(tmp_path: Path) -> None:
    found = check(tmp_path, {"app.py": HANDLER}, "email.handler")
    assert summary(found) == [("LP203", None, (
        "handler module 'email': there is no 'email' in the package or its layers, so Lambda imports the "
        "standard library's -- Runtime.HandlerNotFound: Handler 'handler' missing on module 'email'"))]


def test_own_module_named_like_unloaded_stdlib_is_used(tmp_path: Path) -> None:
    assert check(tmp_path, {"email.py": HANDLER}, "email.handler") == []


def test_module_not_found(tmp_path: Path) -> None:
    found = check(tmp_path, {"main.py": HANDLER}, "lambda_function.lambda_handler")
    assert summary(found) == [("LP204", None, ("Runtime.ImportModuleError: Unable to import module "
                                             "'lambda_function': No module named 'lambda_function'"))]
    assert found[0].fix == ("the package root needs lambda_function.py (or lambda_function/__init__.py): "
                            "check the handler and the package contents")


def test_module_zipped_one_folder_down(tmp_path: Path) -> None:
    index = read_package(make_zip(tmp_path / "fn.zip", {"my-function/": "", "my-function/app.py": HANDLER}))
    found = rules.run(subject(index, "app.handler"))
    assert summary(found) == [("LP204", None, ("Runtime.ImportModuleError: Unable to import module 'app': "
                                             "No module named 'app'"))]
    assert found[0].fix == ("'app' is inside the top-level folder 'my-function/', but Lambda imports from the root: "
                            "zip the folder's contents, not the folder, or set the handler to 'my-function/app.handler'")


PACKAGE_FIX = ("'api' is orders.api in the package orders/ (it has __init__.py), and Lambda imports from the "
               'root: set handler = "orders.api.handler"')
PLAIN_FOLDER_FIX = ("'api' is inside the top-level folder 'orders/', but Lambda imports from the root: "
                    "zip the folder's contents, not the folder, or set the handler to 'orders/api.handler'")


@pytest.mark.parametrize("files, handler, fix", [
    pytest.param({"orders/__init__.py": "", "orders/api.py": "from orders import db\n" + HANDLER, "orders/db.py": ""},
                 "api.handler", PACKAGE_FIX, id="module-in-a-package"),
    pytest.param({"orders/__init__.py": "", "orders/api/__init__.py": HANDLER}, "api.handler", PACKAGE_FIX,
                 id="subpackage-in-a-package"),
    pytest.param({"orders/": "", "orders/api.py": HANDLER, "orders/db.py": ""}, "api.handler", PLAIN_FOLDER_FIX,
                 id="plain-folder"),
])
def test_module_in_a_top_level_folder(tmp_path: Path, files: Files, handler: str, fix: str) -> None:
    """A folder that is a package (__init__.py) means a wrong handler path, as LP127 says; zipping its
    contents would break its own imports. A plain folder is the zip's mistake."""
    index = read_package(make_zip(tmp_path / "fn.zip", files))
    found = rules.run(subject(index, handler))
    assert [(f.code, f.message, f.fix) for f in found] == [
        ("LP204", "Runtime.ImportModuleError: Unable to import module 'api': No module named 'api'", fix)]


@pytest.mark.parametrize("handler", ["orders.api.handler", "orders/api.handler"])
def test_handler_through_the_package_is_found(tmp_path: Path, handler: str) -> None:
    """bootstrap.py imports modname.replace("/", "."): both spellings find orders/api.py."""
    files = {"orders/__init__.py": "", "orders/api.py": "from orders import db\n" + HANDLER, "orders/db.py": ""}
    index = read_package(make_zip(tmp_path / "fn.zip", files))
    assert rules.run(subject(index, handler)) == []


@pytest.mark.parametrize("files, handler, error, fix", [
    ({"App.py": HANDLER}, "app.handler", "No module named 'app'",
     "the package has 'App.py': names are case-sensitive on Lambda"),
    ({"app.py": HANDLER}, "app.py.handler", "No module named 'app.py'; 'app' is not a package",
     "leave out '.py': the handler for app.py is 'app.handler'"),
    ({"src/orders/__init__.py": ""}, "src/orders/api.handler", "No module named 'src.orders.api'",
     ("the package root needs src/orders/api.py (or src/orders/api/__init__.py): check the handler and the package "
     "contents")),
], ids=["case", "dot-py", "slash-form"])
def test_module_not_found_hints(tmp_path: Path, files: Files, handler: str, error: str, fix: str) -> None:
    found = check(tmp_path, files, handler)
    module = handler.rpartition(".")[0]
    assert [(f.code, f.message, f.fix) for f in found] == [
        ("LP204", f"Runtime.ImportModuleError: Unable to import module '{module}': {error}", fix)]


def test_module_for_another_python_in_a_layer_is_not_found(tmp_path: Path) -> None:
    layer = read_package(make_zip(tmp_path / "deps.zip", {"python/lib/python3.11/site-packages/yaml/__init__.py": ""}))
    index = folder_index(write(tmp_path / "src", {"app.py": "import yaml\n" + HANDLER}))
    found = rules.run(subject(index, "app.handler", layers=(layer,)))
    assert [(f.code, f.fix) for f in found] == [("LP209", (
        "a layer has 'yaml' under python/lib/python3.11/site-packages/, which python3.12 does not search: "
        "build the layer for python3.12"))]


def test_unseen_layers_keep_module_not_found_quiet(tmp_path: Path) -> None:
    assert check(tmp_path, {"x.py": ""}, "app.handler", layer_count=2) == []


def test_without_contents_only_names_are_checked(tmp_path: Path) -> None:
    files = {"app.py": "import requests\ndef other(event, context): pass\n"}
    assert check(tmp_path, files, "app.handler", reader=False) == []
    assert codes(check(tmp_path, files, "missing.handler", reader=False)) == ["LP204"]


# -- LP205: syntax for the target ---------------------------------------------------------------

def test_syntax_error_in_handler_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")
    found = check(tmp_path, {"app.py": "def handler(event, context)\n    return {}\n"}, "app.handler",
                  runtime="python3.10")
    assert summary(found) == [("LP205", 1, (
        "Runtime.UserCodeSyntaxError: Syntax error in module 'app': expected ':' (app.py, line 1) "
        f"[python3.10, checked with Python {HOST[0]}.{HOST[1]}'s parser]"))]


def test_compiler_errors_count(tmp_path: Path) -> None:
    found = check(tmp_path, {"app.py": HANDLER + "return 1\n"}, "app.handler", runtime="python3.10")
    assert [(f.code, f.line) for f in found] == [("LP205", 3)]
    assert "'return' outside function (app.py, line 3)" in found[0].message


def test_syntax_error_in_imported_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")
    files = {"app.py": "import helpers\n" + HANDLER, "helpers.py": "x = = 1\n"}
    found = check(tmp_path, files, "app.handler", runtime="python3.10")
    assert summary(found) == [("LP205", 1, (
        "Runtime.UserCodeSyntaxError: Syntax error in module 'app': invalid syntax (helpers.py, line 1) "
        f"(helpers.py is imported by app.py line 1) [python3.10, checked with Python {HOST[0]}.{HOST[1]}'s parser]"))]
    assert found[0].path.endswith("/helpers.py")  # a source folder: a real file path


@pytest.mark.skipif(HOST < (3, 11) or HOST > (3, 11), reason="the host parser's messages")
@pytest.mark.parametrize("source, runtime, line, message, fix", [
    ("def first[T](items: list[T]) -> T:\n    return items[0]\n", "python3.11", 1,
     "expected '(' (app.py, line 1) [python3.11, checked with Python 3.11's parser]", "fix the syntax error"),
    ("type Event = dict\n", "python3.11", 1,
     "invalid syntax (app.py, line 1) [python3.11, checked with Python 3.11's parser]", "fix the syntax error"),
    ("try:\n    pass\nexcept* ValueError:\n    pass\n", "python3.10", 4,
     ("Exception groups are only supported in Python 3.11 and greater (app.py, line 4) "
     "[python3.10, checked with ast feature_version=(3, 10)]"), "rewrite it for python3.10, or target a newer runtime"),
    ("def handler(event, context):\n    return (1\n", "python3.14", 2,
     "'(' was never closed (app.py, line 2) [python3.14, checked with Python 3.11's parser]", "fix the syntax error"),
], ids=["pep695-on-311", "type-statement-on-311", "except-star-on-310", "plain-error-newer-target"])
def test_syntax_for_the_target(tmp_path: Path, source: str, runtime: str, line: int, message: str,
                               fix: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")  # no python3.X to ask: the host's verdicts only
    found = check(tmp_path, {"app.py": source}, "app.handler", runtime=runtime)
    assert [(f.code, f.line, f.message, f.fix) for f in found] == [
        ("LP205", line, f"Runtime.UserCodeSyntaxError: Syntax error in module 'app': {message}", fix)]


def test_newer_target_stays_quiet_near_newer_syntax(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real error next to an f-string, for a target newer than the host: the host cannot tell a PEP 701
    f-string from a mistake there, so lpack says nothing (unless python3.X is on PATH)."""
    monkeypatch.setenv("PATH", "")
    source = "def handler(event, context):\n    return f'{event}' +\n"
    expected = [] if HOST < (3, 12) else ["LP205"]
    assert codes(check(tmp_path, {"app.py": source}, "app.handler", runtime="python3.12")) == expected


def _interpreter(minor: int) -> Path | None:
    for root in (Path.home() / ".pyenv" / "versions").glob(f"3.{minor}.*"):
        exe = root / "bin" / f"python3.{minor}"
        if exe.is_file():
            return exe
    return None


@pytest.mark.skipif(_interpreter(12) is None or HOST >= (3, 12), reason="needs python3.12 beside an older host")
def test_target_interpreter_decides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    exe = _interpreter(12)
    assert exe is not None
    monkeypatch.setenv("PATH", str(exe.parent))
    good = "def first[T](x: list[T]) -> T:\n    return x[0]\n" + HANDLER
    assert check(tmp_path / "good", {"app.py": good}, "app.handler", runtime="python3.12") == []
    bad = "def handler(event, context):\n    return f'{event}' +\n"
    found = check(tmp_path / "bad", {"app.py": bad}, "app.handler", runtime="python3.12")
    assert [(f.code, f.line) for f in found] == [("LP205", 2)]
    assert found[0].message.endswith("[python3.12, checked with python3.12]")


@pytest.mark.skipif(HOST < (3, 12), reason="PEP 701 f-strings parse only on a 3.12+ host")
@pytest.mark.parametrize("source, flagged", [
    ('x = f"{d["k"]}"\n', True),
    ("x = f'{\"\\n\".join(a)}'\n", True),
    ('x = f"{d[\'k\']}"\n', False),
    ('x = f"""{d["k"]}"""\n', False),
])
def test_pep701_fstrings_for_older_targets(source: str, flagged: bool) -> None:
    data = source.encode()
    problem = target_syntax(parse_host(data, "app.py"), data, "app.py", (3, 11))
    assert (problem is not None) == flagged


# -- LP206-LP208: the function ---------------------------------------------------------------------

def test_handler_not_found(tmp_path: Path) -> None:
    found = check(tmp_path, {"app.py": "def lambda_handlr(event, context):\n    pass\n"}, "app.lambda_handler")
    assert [(f.code, f.line, f.message, f.fix) for f in found] == [(
        "LP206", 1, "Runtime.HandlerNotFound: Handler 'lambda_handler' missing on module 'app'",
        "the module defines lambda_handlr(): set the handler to 'app.lambda_handlr'")]


@pytest.mark.parametrize("source", [
    "if False:\n    def handler(event, context): pass\n",
    "import sys\nif sys.version_info < (3, 8):\n    def handler(event, context): pass\n",
    "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    handler = print\n",
    "handler: object\n",
    "def main(event, context):\n    handler = 1\n",
], ids=["if-false", "old-python-branch", "type-checking", "annotation-only", "local-variable"])
def test_handler_not_bound(tmp_path: Path, source: str) -> None:
    assert codes(check(tmp_path, {"app.py": source}, "app.handler")) == ["LP206"]


def test_namespace_package_has_no_handler(tmp_path: Path) -> None:
    found = check(tmp_path, {"api/views.py": HANDLER}, "api.handler")
    assert codes(found) == ["LP206"]
    assert found[0].message.startswith("Runtime.HandlerNotFound: Handler 'handler' missing on module 'api'")


@pytest.mark.parametrize("source, error", [
    ("def handler(event):\n    pass\n", "handler() takes 1 positional argument but 2 were given"),
    ("def handler():\n    pass\n", "handler() takes 0 positional arguments but 2 were given"),
    ("def handler(event=None):\n    pass\n", "handler() takes from 0 to 1 positional arguments but 2 were given"),
    ("def handler(self, event, context):\n    pass\n", "handler() missing 1 required positional argument: 'context'"),
    ("def handler(event, context, a, b, c):\n    pass\n",
     "handler() missing 3 required positional arguments: 'a', 'b', and 'c'"),
    ("def handler(event, context, *, table):\n    pass\n",
     "handler() missing 1 required keyword-only argument: 'table'"),
    ("handler = lambda event: event\n", "<lambda>() takes 1 positional argument but 2 were given"),
])
def test_signature(tmp_path: Path, source: str, error: str) -> None:
    found = check(tmp_path, {"app.py": source}, "app.handler")
    assert summary(found) == [("LP207", 1, ("handler 'handler' cannot be called as handler(event, context): "
                                          f"every invocation fails with TypeError: {error}"))]


def _one(a: object) -> None: ...
def _defaults(a: object = 1) -> None: ...
def _four(a: object, b: object, c: object, d: object) -> None: ...
def _keywords(a: object, b: object, *, k: object, j: object) -> None: ...
def _mixed(a: object, b: object = 1, *c: object, k: object = 2) -> None: ...
def _keyword_only(*, k: object) -> None: ...


@pytest.mark.parametrize("function", [_one, _defaults, _four, _keywords, _mixed, _keyword_only],
                         ids=lambda f: f.__name__)
def test_signature_matches_python(function: Callable[..., None]) -> None:
    try:
        function(1, 2)
        expected = None
    except TypeError as exc:
        expected = str(exc)
    node = ast.parse(inspect.getsource(function)).body[0]
    assert isinstance(node, ast.FunctionDef)
    assert call_error(function.__name__, node.args) == expected


def test_async_handler(tmp_path: Path) -> None:
    found = check(tmp_path, {"app.py": "import asyncio\n\nasync def handler(event, context):\n    return {}\n"},
                  "app.handler")
    assert [(f.code, f.line) for f in found] == [("LP208", 3)]
    assert found[0].message == (
        "handler 'handler' is an async def: Lambda calls it without awaiting, so every invocation returns an un-run "
        "coroutine and fails with Runtime.MarshalError: Unable to marshal response: Object of type coroutine is not "
        "JSON serializable")


def test_generator_handler(tmp_path: Path) -> None:
    source = "def handler(event, context):\n    def inner():\n        yield 1\n    yield from inner()\n"
    assert [(f.code, f.line) for f in check(tmp_path, {"app.py": source}, "app.handler")] == [("LP208", 1)]
    plain = "def handler(event, context):\n    def inner():\n        yield 1\n    return list(inner())\n"
    assert check(tmp_path / "plain", {"app.py": plain}, "app.handler") == []


# -- LP209-LP211: imports ----------------------------------------------------------------------------

def test_missing_import(tmp_path: Path) -> None:
    found = check(tmp_path, {"app.py": "import json\nimport requests\n" + HANDLER}, "app.handler")
    assert [(f.code, f.line, f.message, f.fix) for f in found] == [(
        "LP209", 2, "Runtime.ImportModuleError: Unable to import module 'app': No module named 'requests'",
        "add requests to the requirements, or ship it in a layer")]


def test_missing_import_in_a_zip_names_the_distribution(tmp_path: Path) -> None:
    index = read_package(make_zip(tmp_path / "fn.zip", {"app.py": "import yaml\n" + HANDLER}))
    found = rules.run(subject(index, "app.handler"))
    assert [(f.code, f.path, f.fix) for f in found] == [
        ("LP209", f"{index.path}:app.py", "add PyYAML to the requirements and rebuild, or ship it in a layer")]


def test_missing_import_through_own_modules(tmp_path: Path) -> None:
    files = {
        "src/orders/__init__.py": "from .db import table\n",
        "src/orders/db.py": "import psycopg2\n\ntable = 'orders'\n",
        "src/orders/api.py": "from . import db\n" + HANDLER,
    }
    found = check(tmp_path, files, "src/orders/api.handler")
    assert [(f.code, Path(f.path).relative_to(tmp_path / "src").as_posix(), f.line, f.message) for f in found] == [(
        "LP209", "src/orders/db.py", 1,
        ("Runtime.ImportModuleError: Unable to import module 'src/orders/api': No module named 'psycopg2' "
        "(src/orders/db.py is imported by src/orders/__init__.py line 1)"))]


@pytest.mark.parametrize("module, runtime, note, fix", [
    ("imp", "python3.12", "'imp' was removed from the standard library in Python 3.12 (gh-98040)", "use importlib"),
    ("distutils", "python3.12", "'distutils' was removed from the standard library in Python 3.12 (PEP 632)",
     "use setuptools (which still provides distutils) or packaging"),
    ("cgi", "python3.13", "'cgi' was removed from the standard library in Python 3.13 (PEP 594)",
     "use email.message and urllib.parse, or the legacy-cgi package"),
    ("tomllib", "python3.10", "'tomllib' is in the standard library from Python 3.11; the target is python3.10",
     "target python3.11 or newer, or add tomli (import tomli as tomllib) to the requirements"),
])
def test_stdlib_changes(tmp_path: Path, module: str, runtime: str, note: str, fix: str) -> None:
    found = check(tmp_path, {"app.py": f"import {module}\n" + HANDLER}, "app.handler", runtime=runtime)
    assert [(f.code, f.message, f.fix) for f in found] == [(
        "LP209", f"Runtime.ImportModuleError: Unable to import module 'app': No module named '{module}' -- {note}", fix)]


@pytest.mark.parametrize("module, runtime", [("imp", "python3.11"), ("cgi", "python3.12"), ("tomllib", "python3.11")])
def test_stdlib_modules_still_there(tmp_path: Path, module: str, runtime: str) -> None:
    assert check(tmp_path, {"app.py": f"import {module}\n" + HANDLER}, "app.handler", runtime=runtime) == []


@pytest.mark.parametrize("files, line, error", [
    ({"app.py": "from . import utils\n" + HANDLER, "utils.py": ""}, 1,
     "attempted relative import with no known parent package"),
    ({"pkg/__init__.py": "", "pkg/app.py": "from .missing import x\n" + HANDLER}, 1, "No module named 'pkg.missing'"),
    ({"pkg/__init__.py": "", "pkg/app.py": "from ... import x\n" + HANDLER}, 1,
     "attempted relative import beyond top-level package"),
    ({"pkg/__init__.py": "", "pkg/app.py": "from . import helpers\n" + HANDLER}, 1,
     "cannot import name 'helpers' from 'pkg' (/var/task/pkg/__init__.py)"),
    ({"pkg/__init__.py": "", "pkg/util.py": "def a(): pass\n", "pkg/app.py": "from .util import b\n" + HANDLER}, 1,
     "cannot import name 'b' from 'pkg.util' (/var/task/pkg/util.py)"),
    ({"pkg/app.py": "from pkg import nothing\n" + HANDLER}, 1, "cannot import name 'nothing' from 'pkg' (unknown location)"),
    ({"pkg/__init__.py": "", "pkg/app.py": "import pkg.sub.mod\n" + HANDLER}, 1, "No module named 'pkg.sub'"),
    ({"pkg/__init__.py": "", "pkg/app.py": "import pkg.app.x\n" + HANDLER}, 1,
     "No module named 'pkg.app.x'; 'pkg.app' is not a package"),
], ids=["no-parent", "relative-missing", "beyond-top", "missing-name-in-package", "missing-name-in-module",
        "namespace", "missing-subpackage", "not-a-package"])
def test_own_imports(tmp_path: Path, files: Files, line: int, error: str) -> None:
    handler = "app.handler" if "app.py" in files else "pkg.app.handler"
    module = handler.rpartition(".")[0]
    found = check(tmp_path, files, handler)
    assert summary(found) == [("LP209", line, f"Runtime.ImportModuleError: Unable to import module '{module}': {error}")]


def test_import_inside_function_is_a_warning(tmp_path: Path) -> None:
    source = HANDLER + "\n\ndef report(rows):\n    import pandas as pd\n    return pd.DataFrame(rows)\n"
    found = check(tmp_path, {"app.py": source}, "app.handler")
    assert [(f.code, f.severity.value, f.line, f.message) for f in found] == [(
        "LP210", "warning", 6, ("`import pandas` in report() fails when it runs: ModuleNotFoundError: "
                               "No module named 'pandas'"))]


def test_import_in_nested_function_names_it(tmp_path: Path) -> None:
    source = HANDLER + "def outer():\n    def inner():\n        from orjson import dumps\n    return inner\n"
    found = check(tmp_path, {"app.py": source}, "app.handler")
    assert [(f.code, f.line, f.message.split(" fails")[0]) for f in found] == [
        ("LP210", 5, "`from orjson import dumps` in inner()")]


def test_unreadable_entry_is_left_to_the_contents_rules(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "fn.zip", {"app.py": HANDLER})
    data = bytearray(path.read_bytes())
    at = data.index(b"def handler")
    data[at] = ord("D")  # the entry no longer matches its CRC
    path.write_bytes(bytes(data))
    assert rules.run(subject(read_package(path), "app.handler")) == []


def test_imports_in_class_bodies_run_at_import(tmp_path: Path) -> None:
    source = "class Config:\n    import missing_mod\n" + HANDLER
    assert [(f.code, f.line) for f in check(tmp_path, {"app.py": source}, "app.handler")] == [("LP209", 2)]


def test_reraised_importerror_still_fails(tmp_path: Path) -> None:
    source = "try:\n    import requests\nexcept ImportError:\n    raise SystemExit('pip install requests')\n" + HANDLER
    assert [(f.code, f.line) for f in check(tmp_path, {"app.py": source}, "app.handler")] == [("LP209", 2)]


def test_version_branch_taken_on_old_target(tmp_path: Path) -> None:
    source = "import sys\nif sys.version_info >= (3, 11):\n    import tomllib\nelse:\n    import tomli as tomllib\n"
    found = check(tmp_path, {"app.py": source + HANDLER}, "app.handler", runtime="python3.10")
    assert [(f.code, f.line, f.message) for f in found] == [
        ("LP209", 5, "Runtime.ImportModuleError: Unable to import module 'app': No module named 'tomli'")]


def test_shadowing_stdlib(tmp_path: Path) -> None:
    files = {"app.py": "import queue\nimport logging\nimport email\n" + HANDLER, "queue.py": "", "logging.py": "",
             "email/__init__.py": ""}
    found = check(tmp_path, files, "app.handler")
    assert summary(found) == [
        ("LP211", 1, ("the package's queue.py hides the standard library's 'queue' from every module in the "
                     "function, the runtime's and third-party packages' included")),
        ("LP211", 2, ("`import logging` gets the standard library's 'logging' (built in, or imported by the "
                      "runtime before the handler): the package's logging.py is never used")),
        ("LP211", 3, ("the package's email/ hides the standard library's 'email' from every module in the "
                      "function, the runtime's and third-party packages' included")),
    ]


# -- libraries whose *.dist-info lost RECORD (issue #19) -----------------------------------------------

# A stand-in for six 1.16, built the way the real one is: six.moves exists only at run time, served
# by a finder six.py puts on sys.meta_path; there is no six/moves.py anywhere.
SIX = """\
import sys
import types


class _SixMetaPathImporter:
    def __init__(self, name):
        self.name = name
        self.known_modules = {}

    def _add_module(self, mod, *fullnames):
        for fullname in fullnames:
            self.known_modules[self.name + "." + fullname] = mod

    def find_spec(self, fullname, path, target=None):
        if fullname in self.known_modules:
            import importlib.util
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        return self.known_modules[spec.name]

    def exec_module(self, module):
        pass


_importer = _SixMetaPathImporter(__name__)
moves = types.ModuleType(__name__ + ".moves")
moves.urllib = types.ModuleType(__name__ + ".moves.urllib")
moves.urllib.parse = types.ModuleType(__name__ + ".moves.urllib.parse")
moves.urllib.parse.urlencode = lambda query: ""
_importer._add_module(moves, "moves")
_importer._add_module(moves.urllib, "moves.urllib")
_importer._add_module(moves.urllib.parse, "moves.urllib.parse")
sys.meta_path.append(_importer)
"""
# A library that uses six.moves and, like much third-party code, imports more than the function needs.
FETCHER = """\
from six.moves import urllib
from six.moves.urllib.parse import urlencode
from . import __doc__ as about
import __doc__
import brotli
"""
OWN_SIX_IMPORTS = "from six.moves import urllib\nimport six.moves.urllib.parse\nfrom six import moves\n"


def _pip_target(wheels: Path, target: Path, *names: str) -> Path:
    """``pip install --target``, offline, from ``wheels``: what many tools do before zipping."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_"))}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_NO_INPUT="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--no-cache-dir", "--no-compile", "--no-index",
                           "--find-links", str(wheels), "--target", str(target), *names],
                          capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return target


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """six and two libraries that import six.moves (one whose project name is not its import name),
    installed by pip; each test copies it and takes metadata away."""
    wheels = tmp_path_factory.mktemp("wheels")
    make_wheel(wheels, "six", "1.16.0", files={"six.py": SIX})
    make_wheel(wheels, "fetcher", "1.0", files={"fetcher/__init__.py": FETCHER}, requires=["six"])
    make_wheel(wheels, "py-poster", "2.0", files={"poster/__init__.py": FETCHER}, requires=["six"])
    return _pip_target(wheels, tmp_path_factory.mktemp("site") / "target", "fetcher", "py-poster")


def zipped(folder: Path, path: Path, extra: Files, drop: Callable[[str], bool] = lambda name: False) -> Path:
    """``folder`` and ``extra`` as a zip, leaving out the entries ``drop`` names."""
    with zipfile.ZipFile(path, "w") as zf:
        for file in sorted(folder.rglob("*")):
            name = file.relative_to(folder).as_posix()
            if file.is_file() and not drop(name) and "__pycache__" not in name:
                zf.write(file, name)
        for name, text in extra.items():
            zf.writestr(name, textwrap.dedent(text))
    return path


def no_record(name: str) -> bool:
    return name.endswith(".dist-info/RECORD")


APP = "import fetcher\nimport poster\n" + HANDLER
POSTER_CLAIMS: dict[str, Files] = {
    "top-level-txt": {"py_poster-2.0.dist-info/top_level.txt": "poster\n"},
    "import-name": {"py_poster-2.0.dist-info/METADATA": "Metadata-Version: 2.5\nName: py-poster\nVersion: 2.0\n"
                    "Import-Name: poster\n\nImport-Name: not-the-header\n"},
}


@pytest.mark.parametrize("claim", list(POSTER_CLAIMS), ids=list(POSTER_CLAIMS))
def test_libraries_without_record_are_not_analysed(installed: Path, tmp_path: Path, claim: str) -> None:
    """fetcher is claimed by its project name, poster by top_level.txt or METADATA's Import-Name."""
    metadata = POSTER_CLAIMS[claim]
    path = zipped(installed, tmp_path / "fn.zip", {"app.py": APP, **metadata},
                  drop=lambda name: no_record(name) or name in metadata)
    assert summary(rules.run(subject(read_package(path), "app.handler"))) == []


def test_library_no_metadata_names_is_the_functions_code(installed: Path, tmp_path: Path) -> None:
    """Near miss: py-poster installs poster/ and nothing left says so, so poster/ is analysed as the
    function's own code -- and only its genuinely missing import is reported."""
    path = zipped(installed, tmp_path / "fn.zip", {"app.py": APP}, drop=no_record)
    found = rules.run(subject(read_package(path), "app.handler"))
    assert [(f.code, f.path.rpartition(":")[2], f.line, f.message.split(": ", 1)[1]) for f in found] == [
        ("LP209", "poster/__init__.py", 4, ("Unable to import module 'app': No module named '__doc__' "
                                            "(poster/__init__.py is imported by app.py line 2)")),
        ("LP209", "poster/__init__.py", 5, ("Unable to import module 'app': No module named 'brotli' "
                                            "(poster/__init__.py is imported by app.py line 2)")),
    ]


def test_record_still_decides_where_there_is_one(installed: Path, tmp_path: Path) -> None:
    path = zipped(installed, tmp_path / "fn.zip", {"app.py": APP})
    assert rules.run(subject(read_package(path), "app.handler")) == []


def test_six_moves_in_the_functions_own_code(installed: Path, tmp_path: Path) -> None:
    source = OWN_SIX_IMPORTS + HANDLER + "\n\ndef later():\n    from six.moves.urllib.parse import urlencode\n"
    path = zipped(installed, tmp_path / "fn.zip", {"app.py": source}, drop=no_record)
    assert rules.run(subject(read_package(path), "app.handler")) == []


def test_six_moves_from_a_six_in_a_layer(tmp_path: Path) -> None:
    layer = read_package(make_zip(tmp_path / "six.zip", {"python/six.py": SIX}))
    index = read_package(make_zip(tmp_path / "fn.zip", {"app.py": OWN_SIX_IMPORTS + HANDLER}))
    assert rules.run(subject(index, "app.handler", layers=(layer,))) == []


def test_genuine_missing_imports_beside_six_moves(installed: Path, tmp_path: Path) -> None:
    """Near miss: with six and its runtime-made submodules all quiet, the function's own missing
    imports are still reported, at import (LP209) and inside a function (LP210)."""
    source = OWN_SIX_IMPORTS + "import requests\n" + HANDLER + "\n\ndef later():\n    import yaml\n"
    path = zipped(installed, tmp_path / "fn.zip", {"app.py": source}, drop=no_record)
    found = rules.run(subject(read_package(path), "app.handler"))
    assert [(f.code, f.line, f.message) for f in found] == [
        ("LP209", 4, "Runtime.ImportModuleError: Unable to import module 'app': No module named 'requests'"),
        ("LP210", 10, "`import yaml` in later() fails when it runs: ModuleNotFoundError: No module named 'yaml'"),
    ]


REGISTERING = {
    "meta-path": "import sys\nsys.meta_path.append(object())\n",
    "sys-modules-item": "import sys, types\nsys.modules[__name__ + '.extra'] = types.ModuleType('x')\n",
    "aliased-sys-update": "import sys as _sys\n_sys.modules.update(extra=None)\n",
}


@pytest.mark.parametrize("source", list(REGISTERING.values()), ids=list(REGISTERING))
def test_submodules_a_module_registers_are_not_judged(tmp_path: Path, source: str) -> None:
    files = {"app.py": "from helpers.extra import thing\nimport helpers.extra.deeper\n" + HANDLER, "helpers.py": source}
    assert check(tmp_path, files, "app.handler") == []


@pytest.mark.parametrize("source", [
    "import sys\nthis = sys.modules[__name__]\n",
    "modules = {}\nmodules['extra'] = 1\n",
    "moves = object()\n",
], ids=["reads-sys-modules", "own-dict-named-modules", "moves-attribute"])
def test_submodules_of_a_plain_module_are_still_missing(tmp_path: Path, source: str) -> None:
    """Near miss: reading sys.modules, or a dict of its own called modules, creates no module."""
    files = {"app.py": "from helpers.extra import thing\n" + HANDLER, "helpers.py": source}
    assert summary(check(tmp_path, files, "app.handler")) == [(
        "LP209", 1, ("Runtime.ImportModuleError: Unable to import module 'app': No module named 'helpers.extra'; "
                     "'helpers' is not a package"))]


def test_module_attributes_import_from_any_module(tmp_path: Path) -> None:
    files = {"app.py": "from pkg import __doc__, __file__, __path__, __spec__, __name__ as name\n"
                       "from helpers import __doc__ as about, __builtins__, __loader__\nfrom ns import __path__\n"
                       + HANDLER,
             "pkg/__init__.py": "", "helpers.py": "", "ns/x.py": ""}
    assert check(tmp_path, files, "app.handler") == []


@pytest.mark.parametrize("source, error", [
    ("from helpers import __path__\n", "cannot import name '__path__' from 'helpers' (/var/task/helpers.py)"),
    ("from helpers import __version__\n", "cannot import name '__version__' from 'helpers' (/var/task/helpers.py)"),
    ("import __doc__\n", "No module named '__doc__'"),
], ids=["path-of-a-plain-module", "version-not-set", "import-as-a-module"])
def test_names_a_module_does_not_have(tmp_path: Path, source: str, error: str) -> None:
    """Near miss: only a package has __path__; __version__ is set by code, not by the import system;
    ``import __doc__`` asks for a module of that name."""
    found = check(tmp_path, {"app.py": source + HANDLER, "helpers.py": ""}, "app.handler")
    assert summary(found) == [("LP209", 1, f"Runtime.ImportModuleError: Unable to import module 'app': {error}")]


def test_develop_egg_info_claims_nothing(tmp_path: Path) -> None:
    """Near miss: ``app.egg-info`` (no version) is the project's own metadata from ``setup.py
    develop``; the modules its top_level.txt names are still the function's own code."""
    files = {"app.py": "import helpers\n" + HANDLER, "helpers.py": "import psycopg2\n",
             "app.egg-info/top_level.txt": "app\nhelpers\n", "app.egg-info/PKG-INFO": "Name: app\n"}
    assert [(f.code, f.line) for f in check(tmp_path, files, "app.handler")] == [("LP209", 1)]


def test_installed_egg_info_claims_its_top_level(tmp_path: Path) -> None:
    files = {"app.py": "import helpers\n" + HANDLER, "helpers.py": "import psycopg2\n",
             "helpers-1.0-py3.12.egg-info/top_level.txt": "helpers\n"}
    index = read_package(make_zip(tmp_path / "fn.zip", files))
    assert rules.run(subject(index, "app.handler")) == []


def test_the_handlers_own_distribution_is_its_code(tmp_path: Path) -> None:
    """A function installed from its own wheel (RECORD or not): its package is the function's code."""
    files = {"orders/__init__.py": "", "orders/api.py": "from . import db\n" + HANDLER,
             "orders/db.py": "import psycopg2\n", "orders-1.0.dist-info/METADATA": "Name: orders\n",
             "orders-1.0.dist-info/RECORD": "orders/__init__.py,,\norders/api.py,,\norders/db.py,,\n"}
    for name, drop in (("with-record.zip", ""), ("without-record.zip", "orders-1.0.dist-info/RECORD")):
        index = read_package(make_zip(tmp_path / name, {k: v for k, v in files.items() if k != drop}))
        found = rules.run(subject(index, "orders/api.handler"))
        assert [(f.code, f.path.rpartition(":")[2], f.line) for f in found] == [("LP209", "orders/db.py", 1)], name


# -- performance: only what the handler imports is read -----------------------------------------------



def test_reads_only_what_the_handler_imports(tmp_path: Path) -> None:
    files = {f"pkg{i}/mod{j}.py": "import nothing_here\n" for i in range(50) for j in range(20)}
    files.update({"app.py": "import helpers\nimport pkg3.mod4\n" + HANDLER, "helpers.py": "import json\n"})
    index = read_package(make_zip(tmp_path / "fn.zip", files))
    reader = RecordingReader(index)
    s = subject(index, "app.handler")._replace(reader=reader)
    assert codes(rules.run(s)) == ["LP209"]
    assert sorted(set(reader.reads)) == ["app.py", "helpers.py", "pkg3/mod4.py"]


# -- the tables and evaluators behind the rules ------------------------------------------------------

def _interpreters() -> list[Path]:
    found = [Path(sys.executable)]
    for minor in range(10, 15):
        exe = _interpreter(minor)
        if exe is not None and minor != HOST[1]:
            found.append(exe)
    return found


@pytest.mark.parametrize("exe", _interpreters(), ids=lambda p: p.name)
def test_stdlib_table_matches_interpreters(exe: Path) -> None:
    program = ("import json, sys; print(json.dumps([sys.version_info[:2], sorted(sys.stdlib_module_names), "
               "sorted(sys.builtin_module_names)]))")
    done = subprocess.run([str(exe), "-I", "-c", program], capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})
    version, names, builtin = json.loads(done.stdout)
    python = (version[0], version[1])
    assert stdlib.differences(python, names) == ([], [])
    assert stdlib.builtin_modules(python) == frozenset(builtin)


def test_stdlib_rows() -> None:
    assert "distutils" in stdlib.stdlib_modules((3, 11)) and "distutils" not in stdlib.stdlib_modules((3, 12))
    assert "cgi" in stdlib.stdlib_modules((3, 12)) and "cgi" not in stdlib.stdlib_modules((3, 13))
    assert "annotationlib" in stdlib.stdlib_modules((3, 14))
    assert "parser" in stdlib.stdlib_modules((3, 9))  # older runtimes: widened, never narrower
    assert stdlib.PRELOADED <= stdlib.stdlib_modules((3, 10))
    assert all(r.name in stdlib.stdlib_modules((3, 10)) for r in stdlib.REMOVALS.values())


@pytest.mark.parametrize("condition, python, expected", [
    ("sys.version_info >= (3, 11)", (3, 12), True),
    ("sys.version_info >= (3, 11)", (3, 10), False),
    ("sys.version_info < (3, 12, 1)", (3, 12), None),
    ("sys.version_info[:2] == (3, 12)", (3, 12), True),
    ("sys.version_info.minor >= 13", (3, 12), False),
    ("(3, 8) <= sys.version_info", (3, 12), True),
    ("sys.version_info > (3,)", (3, 12), True),
    ("not TYPE_CHECKING", (3, 12), True),
    ("typing.TYPE_CHECKING or DEBUG", (3, 12), None),
    ("__name__ == '__main__'", (3, 12), False),
    ("sys.platform == 'linux'", (3, 12), None),
])
def test_truth(condition: str, python: tuple[int, int], expected: bool | None) -> None:
    test = ast.parse(condition, mode="eval").body
    assert truth(test, python) is expected


# -- LP212-LP214: exec wrappers and the Lambda Web Adapter ---------------------------------------------

RUN_SH = '#!/bin/bash\nexec python -m uvicorn --port="$PORT" app:app\n'


def wrapped(index: PackageIndex, handler: str, wrapper: str = "/opt/bootstrap") -> list[Finding]:
    s = subject(index, handler, layer_count=1)
    return rules.run(s._replace(features=Features(exec_wrapper=wrapper)))


def script_folder(tmp_path: Path, files: Files, mode: int = 0o755) -> PackageIndex:
    root = write(tmp_path / "src", files)
    for name in files:
        if not name.endswith(".py"):
            (root / name).chmod(mode)
    return folder_index(root)


def test_web_adapter_start_script_is_quiet(tmp_path: Path) -> None:
    index = script_folder(tmp_path, {"run.sh": RUN_SH, "app.py": "app = object()\n"})
    assert wrapped(index, "run.sh") == []


def test_web_adapter_script_missing(tmp_path: Path) -> None:
    index = script_folder(tmp_path, {"app.py": "app = object()\n"})
    assert summary(wrapped(index, "run.sh")) == [(
        "LP212", None, ("the exec wrapper /opt/bootstrap runs the handler 'run.sh' as a program from the package, but "
        "the package has no run.sh: every cold start fails"))]


@pytest.mark.skipif(os.name == "nt", reason="a folder on Windows has no execute bits")
def test_web_adapter_script_not_executable_in_a_folder(tmp_path: Path) -> None:
    index = script_folder(tmp_path, {"run.sh": RUN_SH}, mode=0o644)
    found = wrapped(index, "run.sh")
    assert [(f.code, f.message.split(":")[0], f.fix) for f in found] == [(
        "LP212", "run.sh is not executable (mode 0644)",
        ("chmod +x run.sh (and `git update-index --chmod=+x run.sh`, so a checkout keeps it); lpack build keeps the "
        "execute bit"))]


def _zip_with_mode(path: Path, name: str, text: str, mode: int | None) -> PackageIndex:
    with zipfile.ZipFile(path, "w") as zf:
        info = zipfile.ZipInfo(name)
        if mode is None:
            info.create_system = 0  # as Windows tools write it: no Unix mode
        else:
            info.external_attr = (0o100000 | mode) << 16
        zf.writestr(info, text)
    return read_package(path)


@pytest.mark.parametrize(("mode", "why"), [
    (0o644, "run.sh is not executable (mode 0644)"),
    (None, ("the zip records no Unix permissions for run.sh (it was made on Windows), so Lambda extracts it without "
           "the execute bit")),
])
def test_web_adapter_script_not_executable_in_a_zip(tmp_path: Path, mode: int | None, why: str) -> None:
    found = wrapped(_zip_with_mode(tmp_path / "fn.zip", "run.sh", RUN_SH, mode), "run.sh")
    assert [f.code for f in found] == ["LP212"] and found[0].message.startswith(why + ": the exec wrapper")


def test_executable_script_in_a_zip_is_quiet(tmp_path: Path) -> None:
    assert wrapped(_zip_with_mode(tmp_path / "fn.zip", "run.sh", RUN_SH, 0o755), "run.sh") == []


def test_start_script_without_shebang(tmp_path: Path) -> None:
    index = script_folder(tmp_path, {"run.sh": "exec python -m uvicorn app:app\n"})
    assert summary(wrapped(index, "run.sh")) == [(
        "LP214", 1, ("run.sh has no #! line naming its interpreter: a wrapper that starts it directly fails with "
        "Exec format error"))]


def test_compiled_start_program_needs_no_shebang(tmp_path: Path) -> None:
    root = tmp_path / "src"
    root.mkdir()
    (root / "bootstrap").write_bytes(b"\x7fELF\x02\x01\x01" + bytes(64))
    (root / "bootstrap").chmod(0o755)
    assert wrapped(folder_index(root), "bootstrap") == []


def test_a_wrapper_that_keeps_the_python_handler_still_checks_it(tmp_path: Path) -> None:
    """A wrapper like ADOT's /opt/otel-instrument runs the managed runtime, which imports the handler."""
    index = folder_index(write(tmp_path / "src", {"app.py": HANDLER}))
    s = subject(index, "missing.handler")._replace(features=Features(exec_wrapper="/opt/otel-instrument"))
    assert codes(rules.run(s)) == ["LP204"]
    assert wrapped(index, "app.handler", "/opt/otel-instrument") == []


def test_start_script_without_a_wrapper_says_what_is_missing(tmp_path: Path) -> None:
    found = check(tmp_path, {"run.sh": RUN_SH, "app.py": HANDLER}, "run.sh")
    assert [(f.code, f.fix) for f in found] == [("LP204", (
        "'run.sh' is a file of the package, a start script for an exec wrapper: set AWS_LAMBDA_EXEC_WRAPPER "
        "(e.g. /opt/bootstrap with the Lambda Web Adapter layer), or name a Python module.function"))]


@pytest.mark.skipif(os.name == "nt", reason="a folder on Windows has no execute bits")
def test_wrapper_in_the_package(tmp_path: Path) -> None:
    index = script_folder(tmp_path, {"app.py": HANDLER, "wrap": "#!/bin/sh\nexec \"$@\"\n"}, mode=0o644)
    found = wrapped(index, "app.handler", "/var/task/wrap")
    assert [(f.code, f.message) for f in found] == [("LP213", (
        "wrap is not executable (mode 0644): Lambda starts the runtime through it (AWS_LAMBDA_EXEC_WRAPPER), and the "
        "runtime cannot start"))]
    (tmp_path / "src" / "wrap").chmod(0o755)
    assert wrapped(folder_index(tmp_path / "src"), "app.handler", "/var/task/wrap") == []


def test_missing_import_is_one_finding_with_its_lines(tmp_path: Path) -> None:
    files = {"app.py": "import requests\nimport helpers\n" + HANDLER,
             "helpers.py": "import requests\nfrom requests import get\n"}
    assert summary(check(tmp_path, files, "app.handler")) == [(
        "LP209", 1, ("Runtime.ImportModuleError: Unable to import module 'app': No module named 'requests' "
        "(also imported at helpers.py line 1, helpers.py line 2)"))]
