"""The command line: version, help, the rules command, the JSON report, exit codes and colour."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

import lpack
from lpack.cli import main
from lpack.rules import load_all

REPO = Path(__file__).resolve().parents[1]
HANDLER = "def lambda_handler(event, context):\n    return {'ok': True}\n"
LAYER_ARNS = [f"arn:aws:lambda:us-east-1:123456789012:layer:l{i}:1" for i in range(6)]
ANSI = re.compile(r"\x1b\[")
IAM_DATA = "(IAM action data {generated}, managed policies {managed})".format(
    **json.loads((Path(lpack.__file__).parent / "iam" / "data" / "meta.json").read_text()),
    managed=json.loads((Path(lpack.__file__).parent / "iam" / "data" / "managed.dat").read_bytes().split(b"\n", 1)[0])
    ["generated"])
RULE_CODES = ["LP101", "LP102", "LP103", "LP104", "LP105", "LP401", "LP402"]


@pytest.fixture(autouse=True)
def plain_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Wide, colourless output, so the text compared does not depend on the terminal (the date is
    pinned in conftest.py)."""
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("NO_COLOR", "1")
    for key in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(key, raising=False)


def make_project(root: Path, pyproject: str | None = None) -> Path:
    root.mkdir(parents=True)
    (root / "lambda_function.py").write_text(HANDLER)
    if pyproject is not None:
        (root / "pyproject.toml").write_text(pyproject)
    return root


def six_layers(root: Path) -> Path:
    arns = ", ".join(f'"{arn}"' for arn in LAYER_ARNS)
    return make_project(
        root,
        f'[tool.lpack]\nruntime = "python3.12"\n\n[tool.lpack.functions.api]\nlayers = [{arns}]\n',
    )


# -- version and help --------------------------------------------------------------------------


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])

    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out == f"lpack {lpack.__version__} {IAM_DATA}\n"
    assert re.fullmatch(r"lpack \d+\.\d+\.\d+ \(IAM action data \d{4}-\d\d-\d\d, "
                        r"managed policies \d{4}-\d\d-\d\d\)\n", out)


def test_python_m_lpack_version_in_a_real_process() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "lpack", "--version"],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
        timeout=60,
    )

    assert (done.returncode, done.stdout, done.stderr) == (0, f"lpack {lpack.__version__} {IAM_DATA}\n", "")


VERSION_PROBE = ("import sys; sys.argv = ['lpack', '--version']; from lpack._entry import main; code = main(); "
                 "sys.stdout.flush(); print('cli' if 'lpack.cli' in sys.modules else 'no cli', 'argparse' in sys.modules, "
                 "code, file=sys.stderr)")


@pytest.mark.parametrize("columns", ["200", "69", "68", "20", "0", "wide"], ids=lambda c: f"COLUMNS={c}")
def test_version_without_the_cli_prints_what_argparse_does(columns: str) -> None:
    """`lpack --version` alone is answered before the command line is imported, with argparse's
    exact output (wrapped to COLUMNS - 2); a terminal too narrow for one line goes to argparse."""
    env = {**os.environ, "COLUMNS": columns}
    fast = subprocess.run([sys.executable, "-c", VERSION_PROBE], capture_output=True, text=True, check=False,
                          cwd=REPO, env=env, timeout=60)
    slow = subprocess.run([sys.executable, "-c", "from lpack.cli import main; main(['--version'])"],
                          capture_output=True, text=True, check=False, cwd=REPO, env=env, timeout=60)

    assert fast.stdout == slow.stdout
    width = (int(columns) if columns.isdigit() and int(columns) else 80) - 2  # not a terminal: 80 unless COLUMNS
    fits = len(slow.stdout) - 1 <= width
    # too narrow: argparse printed it and exited (SystemExit) before the probe's report
    assert (fast.returncode, fast.stderr.split()) == ((0, ["no", "cli", "False", "0"]) if fits else (0, []))


def test_help_lists_commands_and_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--help"])

    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: lpack ")
    for text in (
        "build",
        "rules",
        "--version",
        (
            "Exit codes: 0 ok, 1 error findings (or warnings with --strict), 2 usage/config/input error, "
            "3 internal error."
        ),
    ):
        assert text in out


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2

    assert capsys.readouterr().out.startswith("usage: lpack ")


def test_build_help_mentions_the_key_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["build", "--help"])

    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: lpack build ")
    for option in (
        "--function",
        "--runtime",
        "--arch",
        "--as-layer",
        "--layer ZIP",
        "--format",
        "--strict",
        "--select",
        "--ignore",
        "--config",
        "--cache-dir",
        "--refresh",
        "--installer",
        "-q, --quiet",
    ):
        assert option in out, option
    assert "dist/NAME.zip" in out
    assert "lambda_function.py" in out
    assert (
        "Exit codes: 0 ok, 1 error findings (or warnings with --strict), 2 usage/config/input error, "
        "3 internal error."
    ) in out


def test_unknown_option_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["build", "--runtime", "python3.6"])

    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-2].startswith(
        "lpack: error: argument --runtime: invalid choice: 'python3.6'"
    )
    assert err.splitlines()[-1] == "lpack: tip: did you mean 'python3.9'?"


def _parsed(parser: object, argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[object, str, str]:
    try:
        result: object = vars(parser.parse_args(argv))  # type: ignore[attr-defined]
    except SystemExit as exc:
        result = exc.code
    out, err = capsys.readouterr()
    return result, out, err


@pytest.mark.parametrize("argv", [
    ["check", "--help"], ["check", "-q", "--files", "a.py", "b.py"], ["check", "--format", "jsn"],
    ["check", "--selec", "LP1"], ["check", "--version"], ["check", "--layer"], ["build", "--help"],
    ["build", "--layer"], ["build", "--jobs", "0"], ["cache", "kee"], ["cache", "key", "--help"],
    ["invoke", "--help"], ["serve", "--help"], ["rules", "--format"], ["sam-makefile", "--bogus"],
], ids=" ".join)
def test_a_command_parses_alone_as_among_all(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """`lpack COMMAND ...` builds only COMMAND's parser (start-up for the pre-commit hook): its
    help, errors, tips and parsed arguments are what the whole command line gives."""
    from lpack.cli import _parser

    alone = _parsed(_parser(argv[0]), argv, capsys)
    assert alone == _parsed(_parser(), argv, capsys)
    assert alone[1] or alone[2] or isinstance(alone[0], dict)


# -- rules -------------------------------------------------------------------------------------


def test_rules_lists_every_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules"]) == 0

    lines = capsys.readouterr().out.splitlines()
    registry = load_all()
    assert [line.split()[0] for line in lines] == sorted(registry)
    for line in lines:
        code, name, severity = line.split()
        assert (name, severity) == (registry[code].name, registry[code].severity.value)
    assert "LP101  zipped-size-exceeded         error" in lines
    assert "LP402  runtime-blocked              error" in lines


@pytest.mark.parametrize("query", ["LP101", "lp101", "zipped-size-exceeded"])
def test_rules_code_prints_the_doc(capsys: pytest.CaptureFixture[str], query: str) -> None:
    assert main(["rules", query]) == 0

    out = capsys.readouterr().out
    assert out.startswith("LP101 zipped-size-exceeded (error)\n\n## What it does\n")
    assert "\n## Why is this bad?\n" in out
    assert "\n## How to fix\n" in out
    assert "52,428,800 bytes" in out
    assert out.endswith(
        "\nSource: https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html\n"
    )


def test_rules_json_for_one_rule(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "LP105", "--format", "json"]) == 0

    data = json.loads(capsys.readouterr().out)
    assert (data["code"], data["name"], data["severity"]) == ("LP105", "too-many-layers", "error")
    assert data["doc"].startswith("## What it does\n")


@pytest.mark.parametrize("query", ["LP999", "LP10", "zipped-size"])
def test_rules_unknown_code_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], query: str
) -> None:
    assert main(["rules", query]) == 2

    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"lpack: error: no rule {query!r}; `lpack rules` lists them\n"


def test_registry_holds_the_documented_codes() -> None:
    assert set(RULE_CODES) <= set(load_all())


@pytest.mark.parametrize("code", sorted(load_all()))
def test_every_rule_is_documented(code: str) -> None:
    registry = load_all()
    found = registry[code]

    assert re.fullmatch(r"LP\d{3}", found.code)
    assert found.code == code
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", found.name)
    assert [r.name for r in registry.values()].count(found.name) == 1
    assert found.severity.value in ("error", "warning", "info")
    headings = [line for line in found.doc.splitlines() if line.startswith("## ")]
    assert headings[:3] == ["## What it does", "## Why is this bad?", "## How to fix"]
    for heading in headings:  # each section says something
        body = found.doc.split(heading, 1)[1].split("\n## ", 1)[0].strip()
        assert body, f"{code}: {heading} is empty"
    # an AWS documentation page, or AWS's announcement of a changed quota
    assert found.source.startswith(("https://docs.aws.amazon.com/", "https://aws.amazon.com/about-aws/whats-new/"))


# -- the JSON report ---------------------------------------------------------------------------


def validate_report(text: str) -> dict[str, object]:
    schema = json.loads((REPO / "schemas" / "report.schema.json").read_text())
    report: dict[str, object] = json.loads(text)
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(report)
    return report


def test_json_report_validates_and_hashes_match_the_zip(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = six_layers(tmp_path / "repo")

    assert main(["build", str(project), "--format", "json"]) == 1

    captured = capsys.readouterr()
    assert captured.err == ""  # json mode: no progress lines
    report = validate_report(captured.out)
    [artifact] = report["artifacts"]  # type: ignore[misc]
    data = (project / "dist" / "api.zip").read_bytes()
    assert Path(artifact["path"]) == project / "dist" / "api.zip"
    assert artifact["sha256"] == hashlib.sha256(data).hexdigest()
    assert artifact["sha256_base64"] == base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert artifact["size_zipped"] == len(data)
    assert (artifact["runtime"], artifact["architecture"], artifact["kind"]) == (
        "python3.12",
        "x86_64",
        "function",
    )
    assert report["summary"] == {"error": 1, "warning": 0, "info": 0}
    [finding] = report["findings"]  # type: ignore[misc]
    assert (finding["code"], finding["severity"], finding["function"]) == ("LP105", "error", "api")
    assert finding["message"] == "function uses 6 layers; Lambda allows at most 5"


@pytest.fixture
def with_layer(tmp_path: Path, wheelhouse: Path) -> Path:
    project = make_project(
        tmp_path / "repo",
        (
            '[tool.lpack]\nruntime = "python3.12"\n[tool.lpack.functions.api]\nlayers = ["deps"]\n'
            '[tool.lpack.layers.deps]\nrequirements = "requirements.txt"\n'
        ),
    )
    (project / "requirements.txt").write_text(
        f"--no-index\n--find-links {wheelhouse}\ndemo-pure==1.1\n"
    )
    return project


def test_json_report_of_a_layer_build_validates(
    with_layer: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["build", str(with_layer), "--format", "json"]) == 0

    report = validate_report(capsys.readouterr().out)
    artifacts = {a["name"]: a for a in report["artifacts"]}  # type: ignore[attr-defined]
    assert sorted(artifacts) == ["api", "deps"]
    assert (artifacts["api"]["kind"], artifacts["deps"]["kind"]) == ("function", "layer")
    for name, artifact in artifacts.items():
        data = (with_layer / "dist" / f"{name}.zip").read_bytes()
        assert artifact["sha256"] == hashlib.sha256(data).hexdigest()
        assert artifact["sha256_base64"] == base64.b64encode(hashlib.sha256(data).digest()).decode()


def test_layer_largest_lists_packages_not_the_python_prefix(
    with_layer: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The layer's python/ folder is the prefix that gets stripped, not a package: no nameless row."""
    assert main(["build", str(with_layer), "--format", "json"]) == 0

    report = json.loads(capsys.readouterr().out)
    [layer] = [a for a in report["artifacts"] if a["kind"] == "layer"]
    assert [row["name"] for row in layer["largest"]] == ["demo_pure-1.1.dist-info", "demo_pure"]


# -- exit codes --------------------------------------------------------------------------------


def test_clean_build_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = make_project(
        tmp_path / "repo", '[tool.lpack]\nname = "api"\nruntime = "python3.12"\n'
    )

    assert main(["build", str(project), "--strict"]) == 0

    out = capsys.readouterr().out
    assert "LP" not in out


def test_error_finding_exits_1_with_the_finding_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project = six_layers(tmp_path / "repo")
    monkeypatch.chdir(project)

    assert main(["build", "."]) == 1

    captured = capsys.readouterr()
    sha = hashlib.sha256((project / "dist" / "api.zip").read_bytes())
    b64 = base64.b64encode(sha.digest()).decode()
    assert re.sub(r"in \d+\.\d s$", "in T s", captured.out, flags=re.MULTILINE).splitlines()[-6:] == [
        "api: dist/api.zip",
        f"  sha256 {sha.hexdigest()}",
        (
            "dist/api.zip: LP105 error function uses 6 layers; Lambda allows at most 5 "
            "(fix: merge layers or vendor the small ones)"
        ),
        "built 1 artifact in T s",
        "next: lpack invoke api -e events/EVENT.json (a sample: lpack events)",
        f'api: source_code_hash = "{b64}"',
    ]
    assert captured.err.splitlines() == [
        "api: target python3.12 x86_64",
        "api: compressing 1 source files",
        "api: writing dist/api.zip",
    ]


def test_five_layers_is_fine(tmp_path: Path) -> None:
    arns = ", ".join(f'"{arn}"' for arn in LAYER_ARNS[:5])
    project = make_project(tmp_path / "repo", f"[tool.lpack.functions.api]\nlayers = [{arns}]\n")

    assert main(["build", str(project), "-q", "--strict"]) == 0


@pytest.mark.parametrize(
    ("options", "code"),
    [
        pytest.param([], 1, id="error-fails"),
        pytest.param(["--ignore", "LP105"], 0, id="ignore-code"),
        pytest.param(["--ignore", "LP1"], 0, id="ignore-prefix"),
        pytest.param(["--ignore", "LP101,LP105"], 0, id="ignore-comma-list"),
        pytest.param(["--ignore", "LP104"], 1, id="ignore-another-code"),
        pytest.param(["--select", "LP4"], 0, id="select-other-family"),
        pytest.param(["--select", "LP105"], 1, id="select-it"),
    ],
)
def test_select_and_ignore_decide_the_exit_code(
    tmp_path: Path, options: list[str], code: int
) -> None:
    project = six_layers(tmp_path / "repo")

    assert main(["build", str(project), "-q", *options]) == code


def test_ignore_in_config_silences_a_finding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    arns = ", ".join(f'"{arn}"' for arn in LAYER_ARNS)
    project = make_project(
        tmp_path / "repo",
        f'[tool.lpack]\nignore = ["LP105"]\n[tool.lpack.functions.api]\nlayers = [{arns}]\n',
    )

    assert main(["build", str(project), "-q"]) == 0

    assert "LP105" not in capsys.readouterr().out


@pytest.mark.parametrize(
    ("options", "code"),
    [
        pytest.param([], 0, id="warning-passes"),
        pytest.param(["--strict"], 1, id="strict-fails-on-warning"),
        pytest.param(["--strict", "--ignore", "LP401"], 0, id="strict-but-ignored"),
    ],
)
def test_strict_turns_a_warning_into_exit_1(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    options: list[str],
    code: int,
) -> None:
    project = make_project(tmp_path / "repo", '[tool.lpack]\nname = "api"\n')

    assert main(["build", str(project), "-q", "--runtime", "python3.10", *options]) == code

    assert (project / "dist" / "api.zip").is_file()
    assert ("LP401 warning" in capsys.readouterr().out) == ("LP401" not in options)


def test_config_error_is_exit_2_even_with_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = make_project(tmp_path / "repo", '[tool.lpack]\nmemory = "big"\n')

    assert main(["build", str(project), "--format", "json"]) == 2

    captured = capsys.readouterr()
    assert captured.out == ""
    assert (
        captured.err
        == f"lpack: error: {project / 'pyproject.toml'}:2: tool.lpack.memory: expected integer, got str 'big'\n"
    )


# -- colour --------------------------------------------------------------------------------------


def test_no_color_output_has_no_escape_codes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = six_layers(tmp_path / "repo")

    assert main(["build", str(project), "--runtime", "python3.10"]) == 1

    captured = capsys.readouterr()
    assert "LP105 error" in captured.out and "LP401 warning" in captured.out
    assert not ANSI.search(captured.out)
    assert not ANSI.search(captured.err)


def test_force_color_does_colour_findings(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The near miss of the test above: the capture would see escape codes if they were written."""
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("FORCE_COLOR", "1")
    project = six_layers(tmp_path / "repo")

    assert main(["build", str(project), "-q"]) == 1

    assert ANSI.search(capsys.readouterr().out)


def test_a_finding_is_one_line_however_long_its_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Logs and CI problem matchers read `path: CODE severity message` one line per finding; a
    non-terminal has no width to wrap to."""
    project = six_layers(tmp_path / ("deeply-nested-checkout-" * 6) / "repo")

    assert main(["build", str(project), "-q"]) == 1

    lines = [line for line in capsys.readouterr().out.splitlines() if "LP105" in line]
    assert lines == [
        (
            f"{project / 'dist' / 'api.zip'}: LP105 error function uses 6 layers; Lambda allows at most 5 "
            "(fix: merge layers or vendor the small ones)"
        ),
    ]


@pytest.mark.parametrize("argv", [
    ["check"], ["check", "-q"], ["check", "--files", "a.py"], ["check", "-q", "--files", "a.py", "b/c.py"],
    ["check", "--files", "a.py", "-q"], ["check", "a.py", "--files"], ["check", "-qq", "--files", "x"],
    ["check", "--quiet", "--quiet", "y"], ["check", "--files"], ["check", "x", "y", "z"], ["check", "-q", "-q", "p"],
])
def test_the_hooks_command_line_is_what_argparse_makes_of_it(argv: list[str]) -> None:
    from lpack.cli import _hook_args, _parser

    assert _hook_args(argv) == _parser("check").parse_args(argv)


@pytest.mark.parametrize("argv", [
    ["check", "a.py", "-q", "b.py"], ["check", "-q", "a", "--files", "b"], ["check", "--format", "json"],
    ["check", "-qqq"], ["check", "--fil", "a"], ["check", "-"], ["check", ""], ["check", "--", "a"], ["build"],
    ["check", "--silent"], ["check", "-v"], ["check", "--files", "-o", "x"],
])
def test_any_other_command_line_is_left_to_argparse(argv: list[str]) -> None:
    from lpack.cli import _hook_args

    assert _hook_args(argv) is None
