"""Hostile and broken input files: each is one `lpack: error:` line naming the file, exit 2 (issue 21)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from lpack.cli import main

HEADER = ("AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n"
          "    Properties:\n      Handler: app.handler\n      Runtime: python3.12\n      CodeUri: src/\n")
JSON_HEADER = '{"AWSTemplateFormatVersion": "2010-09-09", "Resources": {}, "Metadata": '


def billion_laughs(levels: int) -> str:
    anchors = ["  a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    anchors += [f"  a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "Metadata:\n" + "\n".join(anchors) + "\n" + HEADER + f"      Environment: {{Variables: {{X: *a{levels - 1}}}}}\n"


def one_error(capsys: pytest.CaptureFixture[str], argv: list[str], path: Path) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"lpack: error: {path}"), err
    assert "Traceback" not in err
    return err


TEMPLATES = {
    "billion-laughs": ("template.yaml", billion_laughs(10), "YAML aliases expand to more than 100,000 values"),
    "alias-contains-itself": ("template.yaml", HEADER + "Metadata: &a [*a]\n", "refers to a node that contains it"),
    "deep-yaml": ("template.yaml", HEADER + "Metadata: " + "[" * 5000 + "]" * 5000 + "\n", "nested more than 100"),
    "deep-yaml-parsable": ("template.yaml", HEADER + "Metadata: " + "[" * 150 + "]" * 150 + "\n", "nested more than"),
    "deep-json": ("template.json", JSON_HEADER + "[" * 100_000 + "]" * 100_000 + "}", "nested more than 100"),
    "deep-json-parsable": ("template.json", JSON_HEADER + "[" * 500 + "]" * 500 + "}", "nested more than 100"),
    "huge-int-yaml": ("template.yaml", HEADER + "Metadata: " + "9" * 5000 + "\n", "(line 9): int value"),
    "huge-int-json": ("template.json", JSON_HEADER + "9" * 5000 + "}", "more than 4,300 digits"),
    "bool-tag": ("template.yaml", HEADER + "Metadata: !!bool maybe\n", "(line 9): bool value 'maybe' cannot be read"),
    "int-tag": ("template.yaml", HEADER + "Metadata: !!int abc\n", "(line 9): int value 'abc' cannot be read"),
    "float-tag": ("template.yaml", HEADER + "Metadata: !!float abc\n", "(line 9): float value 'abc' cannot be read"),
}


@pytest.mark.parametrize(("name", "text", "message"), TEMPLATES.values(), ids=TEMPLATES)
def test_hostile_template(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, text: str,
                          message: str) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("def handler(event, context):\n    return 1\n")
    path = tmp_path / name
    path.write_text(text)
    start = time.monotonic()
    assert message in one_error(capsys, ["check", str(path)], path)
    # a guard against a parser that never ends (billion laughs), not a measure of speed (that is
    # benchmarks/' job): ~1 s of CPU here, so a busy CI machine stays far inside it
    assert time.monotonic() - start < 120


def test_a_few_anchors_still_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("def handler(event, context):\n    return 1\n")
    path = tmp_path / "template.yaml"
    path.write_text("Metadata:\n  env: &env {Variables: {STAGE: prod}}\n" + HEADER + "      Environment: *env\n")
    assert main(["check", str(path)]) == 0, capsys.readouterr()


def test_codeuri_with_nul_names_the_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(HEADER.replace("CodeUri: src/", 'CodeUri: "s\\0rc/"'))
    assert "line 8: CodeUri 's\\x00rc/' holds a NUL character" in one_error(capsys, ["check", str(path)], path)


HANDLER = "def lambda_handler(event, context):\n    return 1\n"
CONFIGS = {
    "deep-toml": ("x = " + "[" * 5000 + "]" * 5000 + "\n", "invalid TOML: nested more than 100 levels deep"),
    "deep-toml-parsable": ("x = " + "[" * 150 + "]" * 150 + "\n", "invalid TOML: nested more than 100 levels deep"),
    "huge-int-toml": ("memory = " + "9" * 5000 + "\n", "invalid TOML: a number has more than 4,300 digits"),
    "nul-source": ('source = "a\\u0000b"\n', "project.source: 'a\\x00b' holds a NUL character"),
    "nul-requirements": ('requirements = "a\\u0000b"\n', "project.requirements: 'a\\x00b' holds a NUL character"),
    "nul-dist": ('dist = "a\\u0000b"\n', "dist: 'a\\x00b' holds a NUL character"),
}


@pytest.mark.parametrize(("text", "message"), CONFIGS.values(), ids=CONFIGS)
def test_hostile_config(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str) -> None:
    (tmp_path / "lambda_function.py").write_text(HANDLER)
    path = tmp_path / "lpack.toml"
    path.write_text(text)
    assert message in one_error(capsys, ["check", str(tmp_path)], path)


REQUIREMENTS = {
    "unclosed-quote": (b'requests\n"foo @ ./x\n', "line 2: No closing quotation; close the quote"),
    "latin-1": (b"requests\ncaf\xe9==1\n", "line 2: not UTF-8 text"),
    "utf-16": ("requests\n".encode("utf-16"), "line 1: not UTF-8 text"),
}


@pytest.mark.parametrize(("data", "message"), REQUIREMENTS.values(), ids=REQUIREMENTS)
def test_broken_requirements_file(tmp_path: Path, capsys: pytest.CaptureFixture[str], data: bytes,
                                  message: str) -> None:
    (tmp_path / "lambda_function.py").write_text(HANDLER)
    path = tmp_path / "requirements.txt"
    path.write_bytes(data)
    assert message in one_error(capsys, ["check", str(tmp_path)], path.resolve())


ENV_FILES = {
    "deep": ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    "huge-int": ('{"A": ' + "9" * 5000 + "}", "a number has more than 4,300 digits"),
}


@pytest.mark.parametrize(("text", "message"), ENV_FILES.values(), ids=ENV_FILES)
def test_hostile_env_file(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str) -> None:
    import zipfile

    package = tmp_path / "fn.zip"
    with zipfile.ZipFile(package, "w") as zf:
        zf.writestr("lambda_function.py", HANDLER)
    path = tmp_path / "env.json"
    path.write_text(text)
    assert message in one_error(capsys, ["check", str(package), "--env", str(path)], path)


def chain(depth: int) -> dict[str, bytes]:
    """requirements.txt including r1.txt including r2.txt ... ``depth`` files deep."""
    files = {"requirements.txt": b"requests\n-r r1.txt\n"}
    files |= {f"r{i}.txt": f"-r r{i + 1}.txt\n".encode() for i in range(1, depth)}
    return files | {f"r{depth}.txt": b"six\n"}


INCLUDES = {  # the files, then the file and line the error names, then what it says
    "cycle": ({"requirements.txt": b"requests\n-r a.txt\n", "a.txt": b"six\n-r requirements.txt\n"},
              "a.txt: line 2", "includes 'requirements.txt', which includes this file again"),
    "includes-itself": ({"requirements.txt": b"requests\n-c requirements.txt\n"}, "requirements.txt: line 2",
                        "which includes this file again"),
    "too-deep": (chain(40), "r31.txt: line 1", "includes 'r32.txt', more than 32 files deep"),
    "nul": ({"requirements.txt": b"requests\n-r a\0b.txt\n"}, "requirements.txt: line 2", "contains a NUL byte"),
    "missing": ({"requirements.txt": b"requests\n\n-r nope.txt\n"}, "requirements.txt: line 3",
                "includes 'nope.txt', which does not exist"),
    "folder": ({"requirements.txt": b"requests\n--requirement=sub\n", "sub/x": b""}, "requirements.txt: line 2",
               "includes 'sub', which is a folder"),
    "not-utf-8": ({"requirements.txt": b"requests\n-r a.txt\n", "a.txt": b"caf\xe9==1\n"}, "a.txt: line 1",
                  "not UTF-8 text (included at "),
}


@pytest.mark.parametrize("command", ["check", "build"])
@pytest.mark.parametrize(("files", "where", "message"), INCLUDES.values(), ids=INCLUDES)
def test_hostile_requirements_includes(tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str,
                                       files: dict[str, bytes], where: str, message: str) -> None:
    (tmp_path / "lambda_function.py").write_text(HANDLER)
    for name, data in files.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(data)
    err = one_error(capsys, [command, str(tmp_path), "-q"], (tmp_path / where).resolve())
    assert message in err
    assert not (tmp_path / "dist").exists()


def test_a_file_two_others_include_is_read_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "lambda_function.py").write_text(HANDLER)
    (tmp_path / "requirements.txt").write_text("-r a.txt\n-r b.txt\n")
    (tmp_path / "a.txt").write_text("-c common.txt\n")
    (tmp_path / "b.txt").write_text("-c common.txt\n")
    (tmp_path / "common.txt").write_text("six==1.16.0\n")
    assert main(["check", str(tmp_path)]) in (0, 1)
    assert "lpack: error" not in capsys.readouterr().err


@pytest.mark.parametrize("packaged", [True, False], ids=["zip", "project"])
@pytest.mark.parametrize("option", ["--event", "--async-event"])
def test_a_deeply_nested_event_is_a_finding(tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str,
                                            packaged: bool) -> None:
    """On a .zip and on a project folder alike: the events given on the command line are checked."""
    import zipfile

    (tmp_path / "fn").mkdir()
    (tmp_path / "fn" / "lambda_function.py").write_text(HANDLER)
    package = tmp_path / "fn.zip"
    with zipfile.ZipFile(package, "w") as zf:
        zf.writestr("lambda_function.py", HANDLER)
    event = tmp_path / "deep.json"
    event.write_text("[" * 100_000 + "]" * 100_000)
    target = package if packaged else tmp_path / "fn"
    assert main(["check", str(target), option, str(event), "--select", "LP311"]) == 1
    out, err = capsys.readouterr()
    assert "LP311 error test event is not valid JSON: nested too deeply" in out
    assert "crashed" not in out and err == ""


@pytest.mark.parametrize(("files", "where", "message"), [
    pytest.param({"requirements.in": b"requests\n-r a.txt\n", "a.txt": b"six\n-r requirements.in\n"},
                 "a.txt: line 2", "which includes this file again", id="cycle"),
    pytest.param({"requirements.in": b"requests\n-r a\0b.txt\n"}, "requirements.in: line 2",
                 "contains a NUL byte", id="nul"),
])
def test_lock_reads_the_input_chain_before_uv(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              files: dict[str, bytes], where: str, message: str) -> None:
    """`lpack lock` reads requirements.in as build does: a broken -r chain is one line, not uv's output."""
    (tmp_path / "lambda_function.py").write_text(HANDLER)
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    assert message in one_error(capsys, ["lock", str(tmp_path), "-q"], (tmp_path / where).resolve())
    assert not (tmp_path / "requirements.txt").exists()
