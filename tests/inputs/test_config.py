"""Configuration: zero config, [tool.lpack] and lpack.toml, the errors users read, multi-unit builds."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest

from lpack.cli import main
from lpack.inputs.config import load_project

HANDLER = "def lambda_handler(event, context):\n    return {'ok': True}\n"


def make_project(root: Path, files: dict[str, str]) -> Path:
    """Write ``files`` (relative path -> text) under ``root`` and return ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def requirements(wheelhouse: Path, *lines: str) -> str:
    """A requirements.txt that installs only from the local wheelhouse (no network)."""
    return "\n".join(["--no-index", f"--find-links {wheelhouse}", *lines]) + "\n"


def names(zip_path: Path) -> list[str]:
    with zipfile.ZipFile(zip_path) as zf:
        return zf.namelist()


def error_lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    """stderr of a failed command, after checking it is one error line (plus an optional tip)."""
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert 1 <= len(lines) <= 2, captured.err
    assert lines[0].startswith("lpack: error: ")
    assert all(line.startswith("lpack: tip: ") for line in lines[1:])
    assert "Traceback" not in captured.err
    return lines


# -- zero config ------------------------------------------------------------------------------


def test_zero_config_builds_the_folder_named_after_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = make_project(
        tmp_path / "my_func", {"lambda_function.py": HANDLER, "helpers/util.py": "X = 1\n"}
    )

    assert main(["build", str(project)]) == 0

    assert sorted(p.name for p in (project / "dist").glob("*.zip")) == ["my_func.zip"]
    assert names(project / "dist" / "my_func.zip") == [
        "helpers/",
        "helpers/util.py",
        "lambda_function.py",
    ]
    out = capsys.readouterr().out
    assert out.startswith(
        "my_func: target python3.14 x86_64 (the default; set runtime and architecture in [tool.lpack] "
        "or pass --runtime/--arch)\n"
    )


@pytest.mark.parametrize(
    ("folder", "zip_name"),
    [
        pytest.param("orders", "orders.zip", id="plain"),
        pytest.param(
            "Order Service.v2", "Order-Service-v2.zip", id="spaces-and-dots-become-dashes"
        ),
        pytest.param("img_resize-2", "img_resize-2.zip", id="underscores-and-dashes-kept"),
    ],
)
def test_zero_config_name_comes_from_the_folder(tmp_path: Path, folder: str, zip_name: str) -> None:
    project = make_project(tmp_path / folder, {"lambda_function.py": HANDLER})

    assert main(["build", str(project), "-q"]) == 0

    assert sorted(p.name for p in (project / "dist").glob("*.zip")) == [zip_name]


def test_zero_config_with_requirements_installs_them(tmp_path: Path, wheelhouse: Path) -> None:
    project = make_project(
        tmp_path / "fn",
        {
            "lambda_function.py": HANDLER,
            "requirements.txt": requirements(wheelhouse, "demo-pure==1.0"),
        },
    )

    assert main(["build", str(project), "-q", "--runtime", "python3.12"]) == 0

    contents = names(project / "dist" / "fn.zip")
    assert "lambda_function.py" in contents
    assert "demo_pure/__init__.py" in contents
    assert "demo_dep/__init__.py" in contents  # demo-pure 1.0 requires demo-dep
    assert "requirements.txt" not in contents  # a build input, not the function's code


def test_zero_config_without_requirements_has_only_the_source(tmp_path: Path) -> None:
    project = make_project(tmp_path / "fn", {"lambda_function.py": HANDLER})

    assert main(["build", str(project), "-q"]) == 0

    assert names(project / "dist" / "fn.zip") == ["lambda_function.py"]


def test_pyproject_without_tool_lpack_is_still_zero_config(tmp_path: Path) -> None:
    project = make_project(
        tmp_path / "fn",
        {
            "lambda_function.py": HANDLER,
            "pyproject.toml": "[tool.black]\nline-length = 100\n",
        },
    )

    assert main(["build", str(project), "-q"]) == 0

    assert (project / "dist" / "fn.zip").is_file()


# -- [tool.lpack] and lpack.toml ---------------------------------------------------------------


def test_tool_lpack_in_pyproject_sets_name_target_and_source(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = make_project(
        tmp_path / "repo",
        {
            "pyproject.toml": '[tool.lpack]\nname = "orders"\nruntime = "python3.12"\narchitecture = "arm64"\n'
            'source = "src"\nhandler = "app.lambda_handler"\n',
            "src/app.py": HANDLER,
            "tests/test_app.py": "def test(): pass\n",
        },
    )

    assert main(["build", str(project), "--format", "json"]) == 0

    assert sorted(p.name for p in (project / "dist").glob("*.zip")) == ["orders.zip"]
    assert names(project / "dist" / "orders.zip") == ["app.py"]
    artifact = json.loads(capsys.readouterr().out)["artifacts"][0]
    assert (artifact["name"], artifact["runtime"], artifact["architecture"]) == (
        "orders",
        "python3.12",
        "arm64",
    )


def test_lpack_toml_holds_the_table_at_top_level(tmp_path: Path) -> None:
    project = make_project(
        tmp_path / "repo",
        {
            "lpack.toml": 'runtime = "python3.13"\n[functions.api]\nsource = "api"\n',
            "api/lambda_function.py": HANDLER,
        },
    )

    assert main(["build", str(project), "-q"]) == 0

    assert sorted(p.name for p in (project / "dist").glob("*.zip")) == ["api.zip"]
    assert names(project / "dist" / "api.zip") == [
        "lambda_function.py"
    ]  # lpack.toml is not packaged


def test_lpack_toml_wins_over_pyproject(tmp_path: Path) -> None:
    project = make_project(
        tmp_path / "repo",
        {
            "lpack.toml": 'name = "from-lpack-toml"\n',
            "pyproject.toml": '[tool.lpack]\nname = "from-pyproject"\n',
            "lambda_function.py": HANDLER,
        },
    )

    assert main(["build", str(project), "-q"]) == 0

    assert sorted(p.name for p in (project / "dist").glob("*.zip")) == ["from-lpack-toml.zip"]


def test_project_can_be_given_as_its_config_file(tmp_path: Path) -> None:
    project = make_project(
        tmp_path / "repo",
        {
            "pyproject.toml": '[tool.lpack]\nname = "orders"\n',
            "lambda_function.py": HANDLER,
        },
    )

    assert main(["build", str(project / "pyproject.toml"), "-q"]) == 0

    assert (project / "dist" / "orders.zip").is_file()


# -- configuration errors ----------------------------------------------------------------------

FUNCTION_FILES = {"lambda_function.py": HANDLER}


UNKNOWN_KEYS = [
    pytest.param(
        "pyproject.toml",
        '[tool.lpack.functions.api]\nruntme = "python3.12"\n',
        "tool.lpack.functions.api.runtme",
        "runtime",
        id="function-runtme",
    ),
    pytest.param(
        "pyproject.toml",
        '[tool.lpack.functions.api]\narchitecure = "arm64"\n',
        "tool.lpack.functions.api.architecure",
        "architecture",
        id="function-architecure",
    ),
    pytest.param(
        "pyproject.toml",
        '[tool.lpack]\nruntme = "python3.12"\n',
        "tool.lpack.runtme",
        "runtime",
        id="top-level-runtme",
    ),
    pytest.param(
        "pyproject.toml",
        '[tool.lpack.layers.deps]\nrequirments = "requirements.txt"\n',
        "tool.lpack.layers.deps.requirments",
        "requirements",
        id="layer-requirments",
    ),
    pytest.param(
        "lpack.toml",
        '[functions.api]\nhandlr = "app.handler"\n',
        "functions.api.handlr",
        "handler",
        id="lpack-toml-handlr",
    ),
    pytest.param(
        "lpack.toml",
        'architecure = "arm64"\n',
        "architecure",
        "architecture",
        id="lpack-toml-top-level",
    ),
]


@pytest.mark.parametrize(("config", "text", "path", "suggestion"), UNKNOWN_KEYS)
def test_unknown_key_suggests_the_closest_known_key(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    config: str,
    text: str,
    path: str,
    suggestion: str,
) -> None:
    project = make_project(tmp_path / "repo", {**FUNCTION_FILES, config: text})

    assert main(["build", str(project)]) == 2

    [line, *_] = error_lines(capsys)
    assert line.startswith(f"lpack: error: {project / config}:{len(text.splitlines())}: ")  # the key's line: the last
    assert line.endswith(f"did you mean {suggestion!r}?")
    assert not (project / "dist").exists()


@pytest.mark.parametrize(("config", "text", "path", "suggestion"), UNKNOWN_KEYS)
def test_unknown_key_error_names_the_full_path_of_the_key(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    config: str,
    text: str,
    path: str,
    suggestion: str,
) -> None:
    """The path goes down to the unknown key itself (tool.lpack.functions.api.runtme), as for
    every other error, so an editor's "go to" or a grep finds the line to fix."""
    project = make_project(tmp_path / "repo", {**FUNCTION_FILES, config: text})

    assert main(["build", str(project)]) == 2

    [line, *_] = error_lines(capsys)
    assert line.startswith(f"lpack: error: {project / config}:{len(text.splitlines())}: {path}: ")


def test_unknown_key_without_a_close_match_suggests_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = make_project(
        tmp_path / "repo",
        {
            **FUNCTION_FILES,
            "pyproject.toml": '[tool.lpack.functions.api]\ncolour = "red"\n',
        },
    )

    assert main(["build", str(project)]) == 2

    [line, *_] = error_lines(capsys)
    assert "colour" in line
    assert "did you mean" not in line


def test_every_config_mistake_is_reported_at_once_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One run lists every mistake, in the file's order, each as file:line (clickable)."""
    text = [
        "[project]",  # 1
        'name = "x"',
        "",
        "[tool.lpack]",
        'runtime = "python3.6"',  # 5
        'ignore = ["E501"]',
        'colour = "red"',
        "",
        "[tool.lpack.functions.api]",
        'memory = "big"',  # 10
        '"runtme" = "python3.12"',
    ]
    project = make_project(tmp_path / "repo", {**FUNCTION_FILES, "pyproject.toml": "\n".join(text) + "\n"})
    config = project / "pyproject.toml"

    assert main(["build", str(project)]) == 2

    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        (f"lpack: error: {config}:5: tool.lpack.runtime: 'python3.6' is not allowed; use one of: python3.7, "
         "python3.8, python3.9, python3.10, python3.11, python3.12, python3.13, python3.14"),
        f"lpack: error: {config}:6: tool.lpack.ignore.0: 'E501' does not match the pattern ^LP[0-9]{{0,3}}$",
        f"lpack: error: {config}:7: tool.lpack.colour: unknown key",
        f"lpack: error: {config}:10: tool.lpack.functions.api.memory: expected integer, got str 'big'",
        f"lpack: error: {config}:11: tool.lpack.functions.api.runtme: unknown key; did you mean 'runtime'?",
    ]
    assert not (project / "dist").exists()


def test_a_mistake_in_an_inline_table_points_at_the_line_that_holds_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = make_project(
        tmp_path / "repo",
        {**FUNCTION_FILES, "lpack.toml": '# settings\nfunctions = { api = { memory = "big" } }\n'},
    ) / "lpack.toml"

    assert main(["build", str(config.parent)]) == 2

    [line] = error_lines(capsys)
    assert line == f"lpack: error: {config}:2: functions.api.memory: expected integer, got str 'big'"


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        pytest.param(
            {"pyproject.toml": '[tool.lpack.functions.api]\narchitecture = "aarch64"\n'},
            "{config}:2: tool.lpack.functions.api.architecture: 'aarch64' is not allowed; use one of: x86_64, arm64",
            id="wrong-enum-architecture",
        ),
        pytest.param(
            {"pyproject.toml": '[tool.lpack]\nruntime = "python3.6"\n'},
            "{config}:2: tool.lpack.runtime: 'python3.6' is not allowed; use one of: python3.7, python3.8, "
            "python3.9, python3.10, python3.11, python3.12, python3.13, python3.14",
            id="wrong-enum-runtime",
        ),
        pytest.param(
            {"pyproject.toml": '[tool.lpack.functions.api]\nmemory = "big"\n'},
            "{config}:2: tool.lpack.functions.api.memory: expected integer, got str 'big'",
            id="wrong-type-memory",
        ),
        pytest.param(
            {"lpack.toml": 'ignore = "LP101"\n'},
            "{config}:1: ignore: expected array, got str 'LP101'",
            id="wrong-type-in-lpack-toml",
        ),
        pytest.param(
            {"pyproject.toml": '[tool.lpack]\nignore = ["E501"]\n'},
            "{config}:2: tool.lpack.ignore.0: 'E501' does not match the pattern ^LP[0-9]{{0,3}}$",
            id="not-an-lpack-code",
        ),
        pytest.param(
            {"pyproject.toml": "[tool.lpack.functions.api\nmemory = 1\n"},
            "{config}: invalid TOML: Expected ']' at the end of a table declaration (at line 1, column 26)",
            id="invalid-toml",
        ),
        pytest.param(
            {
                "pyproject.toml": '[tool.lpack.functions.api]\nlayers = ["dep"]\n'
                '[tool.lpack.layers.deps]\nrequirements = "requirements.txt"\n',
                "requirements.txt": "",
            },
            "{config}: tool.lpack.functions.api.layers: no layer named 'dep' in this project; did you mean "
            "'deps'? (a layer is a [tool.lpack.layers.NAME] table or a layer version ARN)",
            id="unknown-layer-with-suggestion",
        ),
        pytest.param(
            {"pyproject.toml": '[tool.lpack.functions.api]\nlayers = ["zzz"]\n'},
            "{config}: tool.lpack.functions.api.layers: no layer named 'zzz' in this project "
            "(a layer is a [tool.lpack.layers.NAME] table or a layer version ARN)",
            id="unknown-layer-nothing-close",
        ),
        pytest.param(
            {"pyproject.toml": '[tool.lpack.functions.api]\nsource = "srcx"\n'},
            "{config}: tool.lpack.functions.api.source: folder 'srcx' does not exist under {root}",
            id="missing-source-folder",
        ),
        pytest.param(
            {"pyproject.toml": '[tool.lpack.functions.api]\nrequirements = "req.txt"\n'},
            "{config}: tool.lpack.functions.api.requirements: file 'req.txt' does not exist under {root}",
            id="missing-requirements-file",
        ),
        pytest.param(
            {"pyproject.toml": '[tool.lpack]\nrequirements = "requirements-prod.txt"\n'},
            "{config}: tool.lpack.requirements: file 'requirements-prod.txt' does not exist under {root}",
            id="missing-top-level-requirements-file",
        ),
        pytest.param(
            {"lpack.toml": '[layers.deps]\nruntime = "python3.12"\n'},
            "{config}: layers.deps: a layer needs `requirements`, `lock` or `source`",
            id="layer-with-nothing-to-package",
        ),
    ],
)
def test_config_error_is_one_line_naming_file_and_path(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    files: dict[str, str],
    expected: str,
) -> None:
    project = make_project(tmp_path / "repo", {**FUNCTION_FILES, **files})
    config = project / next(name for name in files if name.endswith(".toml"))

    assert main(["build", str(project)]) == 2

    lines = error_lines(capsys)
    assert lines[0] == "lpack: error: " + expected.format(config=config, root=project.resolve())
    assert not (project / "dist").exists()


@pytest.mark.parametrize(
    "files",
    [
        pytest.param({}, id="empty-folder"),
        pytest.param({"README.md": "# hi\n", "app.py": "def main():\n    pass\n"}, id="python-but-no-handler"),
        pytest.param(
            {"pyproject.toml": "[tool.black]\nline-length = 100\n"},
            id="pyproject-without-tool-lpack",
        ),
    ],
)
def test_folder_without_a_function_is_an_error(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    files: dict[str, str],
) -> None:
    project = make_project(tmp_path / "repo", files)

    assert main(["build", str(project)]) == 2

    assert error_lines(capsys) == [
        (
            f"lpack: error: {project}: no Lambda function found; add lambda_function.py (zero config) "
            "or a [tool.lpack] table to pyproject.toml"
        ),
    ]
    assert not (project / "dist").exists()


def test_missing_project_folder_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope"

    assert main(["build", str(missing)]) == 2

    assert error_lines(capsys) == [
        f"lpack: error: {missing}: no such project folder; pass the folder that holds your function",
    ]


def test_layer_arn_is_not_an_unknown_layer(tmp_path: Path) -> None:
    project = make_project(
        tmp_path / "repo",
        {
            **FUNCTION_FILES,
            "pyproject.toml": "[tool.lpack.functions.api]\n"
            'layers = ["arn:aws:lambda:us-east-1:123456789012:layer:shared:3"]\n',
        },
    )

    assert main(["build", str(project), "-q"]) == 0

    assert (project / "dist" / "api.zip").is_file()


# -- several functions and a layer -------------------------------------------------------------


@pytest.fixture
def multi(tmp_path: Path, wheelhouse: Path) -> Path:
    """Two functions and a layer: api uses the project's layer; worker bundles its own dependencies."""
    return make_project(
        tmp_path / "repo",
        {
            "pyproject.toml": (
                '[tool.lpack]\nruntime = "python3.12"\narchitecture = "arm64"\nrequirements = "requirements.txt"\n\n'
                '[tool.lpack.functions.api]\nsource = "api"\nhandler = "app.lambda_handler"\nlayers = ["shared"]\n\n'
                '[tool.lpack.functions.worker]\nsource = "worker"\nhandler = "app.lambda_handler"\n\n'
                '[tool.lpack.layers.shared]\nrequirements = "requirements.txt"\n'
            ),
            "requirements.txt": requirements(wheelhouse, "demo-pure==1.1"),
            "api/app.py": HANDLER,
            "worker/app.py": HANDLER,
        },
    )


def test_one_command_builds_every_function_and_layer(multi: Path) -> None:
    assert main(["build", str(multi), "-q"]) == 0

    dist = multi / "dist"
    assert sorted(p.name for p in dist.glob("*.zip")) == ["api.zip", "shared.zip", "worker.zip"]
    assert names(dist / "api.zip") == ["app.py"]  # its dependencies are in the layer
    assert "python/demo_pure/__init__.py" in names(dist / "shared.zip")
    assert "app.py" not in [n.rsplit("/", 1)[-1] for n in names(dist / "shared.zip")]
    worker = names(dist / "worker.zip")
    assert "app.py" in worker
    assert "demo_pure/__init__.py" in worker


@pytest.mark.parametrize(
    ("selected", "built"),
    [
        pytest.param(["worker"], ["worker.zip"], id="one-function"),
        pytest.param(["shared"], ["shared.zip"], id="one-layer"),
        pytest.param(["api", "worker"], ["api.zip", "worker.zip"], id="two-functions"),
    ],
)
def test_function_option_builds_only_those(
    multi: Path, selected: list[str], built: list[str]
) -> None:
    argv = ["build", str(multi), "-q"]
    for name in selected:
        argv += ["--function", name]

    assert main(argv) == 0

    assert sorted(p.name for p in (multi / "dist").glob("*.zip")) == built


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param(
            "wroker",
            "no function or layer named 'wroker'; did you mean 'worker'?",
            id="typo-suggests",
        ),
        pytest.param(
            "billing",
            "no function or layer named 'billing'; this project has: api, worker, shared",
            id="nothing-close-lists-names",
        ),
    ],
)
def test_unknown_function_option_is_an_error(
    multi: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    expected: str,
) -> None:
    assert main(["build", str(multi), "--function", name]) == 2

    assert error_lines(capsys)[0] == f"lpack: error: {multi / 'pyproject.toml'}: {expected}"
    assert not (multi / "dist").exists()


def test_the_schema_has_the_shape_schemastore_partials_use() -> None:
    """A draft-07 schema whose every setting is described: editors show these descriptions on
    hover, and docs/configuration.md is generated from them."""
    import jsonschema

    from lpack.inputs.config import load_schema

    schema = load_schema("lpack.schema.json")
    jsonschema.Draft7Validator.check_schema(schema)
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert schema["$id"].startswith("https://json.schemastore.org/partial-")
    assert schema["additionalProperties"] is False

    def undescribed(properties: dict[str, Any], where: str) -> list[str]:
        return [f"{where}.{key}" for key, value in properties.items() if not value.get("description")]

    missing = undescribed(schema["properties"], "tool.lpack")
    for name in ("function", "layer"):
        missing += undescribed(schema["definitions"][name]["properties"], f"definitions.{name}")
    assert missing == []


def test_a_finding_about_a_table_points_at_its_header(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "fn"
    root.mkdir()
    (root / "lambda_function.py").write_text(HANDLER)
    (root / "pyproject.toml").write_text(
        '[tool.lpack]\nruntime = "python3.12"\n\n[tool.lpack.environment]\nBLOB = "' + "x" * 5000 + '"\n')
    assert main(["check", str(root), "--format", "json"]) == 1
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert [(f["code"], f["line"]) for f in findings if f["code"] == "LP301"] == [("LP301", 4)]


def test_a_single_function_config_names_layer_arns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    arn = "arn:aws:lambda:us-east-1:123456789012:layer:deps:3"
    project = make_project(tmp_path / "repo", {
        "pyproject.toml": f'[tool.lpack]\nruntime = "python3.12"\nlayers = ["{arn}"]\n',
        "lambda_function.py": HANDLER,
    })
    loaded = load_project(project)
    assert [u.layers for u in loaded.units] == [(arn,)]
    assert main(["build", str(project), "-q"]) == 0
    (project / "pyproject.toml").write_text('[tool.lpack]\nlayers = ["deps"]\n')
    assert main(["build", str(project), "-q"]) == 2
    assert "tool.lpack.layers" in capsys.readouterr().err


def test_functions_inherit_the_top_level_settings(tmp_path: Path) -> None:
    project = make_project(tmp_path / "repo", {
        "lpack.toml": 'handler = "app.lambda_handler"\nmemory = 1024\ntimeout = 30\n'
                      'environment = { STAGE = "prod", LOG = "info" }\n'
                      '[functions.a]\nsource = "a"\n'
                      '[functions.b]\nsource = "b"\nmemory = 256\nenvironment = { LOG = "debug" }\n',
        "a/app.py": HANDLER, "b/app.py": HANDLER,
    })
    units = {u.name: u for u in load_project(project).units}
    assert units["a"].handler == units["b"].handler == "app.lambda_handler"
    assert (units["a"].settings.memory, units["b"].settings.memory) == (1024, 256)
    assert units["b"].settings.timeout == 30
    assert units["b"].settings.environment == {"STAGE": "prod", "LOG": "debug"}


def test_validate_config_says_a_pyproject_without_the_table_is_not_lpacks(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "1"\n')
    assert main(["validate-config", str(tmp_path / "pyproject.toml")]) == 0
    assert capsys.readouterr().out == f"{tmp_path / 'pyproject.toml'}: no [tool.lpack] table; nothing to validate\n"
    assert main(["validate-config", "-q", str(tmp_path / "pyproject.toml")]) == 0
    assert capsys.readouterr().out == ""


# -- paths and the parsed configuration, as a large project loads them (issue #23) -------------

@pytest.mark.parametrize("named", [
    "functions/a", "./functions/a/", "functions//a", "linked/a", "functions/../functions/a", "elsewhere",
    "functions/missing/../a",
])
def test_a_configured_folder_is_resolved_as_the_path_itself_would_be(tmp_path: Path, named: str) -> None:
    """Folders are asked once per load whether they are links; what a unit names is the same
    folder ``(root / value).resolve()`` gives, through links and '..' alike."""
    root = make_project(tmp_path / "repo", {"functions/a/app.py": HANDLER, "reqs/base.txt": "",
                                            "../outside/app.py": HANDLER})
    (root / "linked").symlink_to(root / "functions")
    (root / "elsewhere").symlink_to(tmp_path / "outside")
    (root / "functions" / "missing").mkdir()
    (root / "lpack.toml").write_text(f'handler = "app.lambda_handler"\n[functions.x]\nsource = "{named}"\n'
                                     f'requirements = "linked/../reqs/base.txt"\n[functions.y]\nsource = "{named}"\n')
    x, y = load_project(root).units
    assert x.source == y.source == (root / named).resolve()
    assert x.requirements == (root / "reqs" / "base.txt").resolve()


def test_validating_does_not_import_jsonschemas_format_modules_which_stay_importable(tmp_path: Path) -> None:
    """jsonschema imports rfc3987_syntax when it is installed (jsonschema[format], which
    cyclonedx-python-lib or Jupyter pull in), and that import compiles ~40 grammars: 0.8 s of every
    cold build. lpack checks no string formats, so `lpack validate-config` (the one command that
    validates with jsonschema: builds use lpack's own checker) imports jsonschema without those
    modules; they still import after (another library in the process may use them). Here a stand-in
    rfc3987_syntax, first on the path, notes each import; the validation still finds a mistake."""
    fake = tmp_path / "site" / "rfc3987_syntax"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("import os\nopen(os.environ['IMPORTS_NOTED'], 'a').write('imported\\n')\n"
                                      "def is_valid_syntax_iri(value):\n    return True\n")
    project = make_project(tmp_path / "proj", {**FUNCTION_FILES, "lpack.toml": 'runtime = "python3.12"\ncolour = 1\n'})
    noted = tmp_path / "imports.txt"
    noted.touch()
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from lpack.core.errors import ConfigError\n"
        "from lpack.inputs.config import load_project\n"
        "try:\n"
        f"    load_project(Path({str(project)!r}), engine='jsonschema')\n"
        "except ConfigError as exc:\n"
        "    print('error:', exc)\n"
        "print('jsonschema' in sys.modules, 'rfc3987_syntax' in sys.modules)\n"
        "import rfc3987_syntax\n"
        "print('rfc3987_syntax' in sys.modules)\n"
    )
    import os
    import subprocess
    import sys

    env = {**os.environ, "IMPORTS_NOTED": str(noted), "LPACK_CACHE_DIR": str(tmp_path / "cache"),
           "PYTHONPATH": os.pathsep.join([str(tmp_path / "site"), *sys.path])}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    lines = done.stdout.splitlines()
    assert lines[0].startswith("error: ") and "colour: unknown key" in lines[0]
    assert lines[1:] == ["True False", "True"]  # validated without it; importable after
    assert noted.read_text() == "imported\n"  # once: by the script, not by the validation


def test_a_large_configuration_is_validated_once_and_again_whenever_it_changes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A configuration of many functions that validated is remembered by a digest of its content
    (a pre-commit check of 400 functions would otherwise validate it every time); an edit is a
    new content, validated again, so a mistake in it is still reported."""
    from lpack.core.errors import ConfigError

    cache = tmp_path / "cache"
    monkeypatch.setenv("LPACK_CACHE_DIR", str(cache))
    root = tmp_path / "many"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text("def handler(event, context):\n    return {}\n")
    functions = "".join(f'[functions.f{i:03d}]\nsource = "src"\nhandler = "app.handler"\nmemory = 512\n\n' for i in range(60))
    (root / "lpack.toml").write_text(functions)
    assert len(load_project(root).units) == 60
    markers = list((cache / "valid-config").iterdir())
    assert len(markers) == 1
    assert load_project(root).units == load_project(root).units  # remembered: the same answer

    (root / "lpack.toml").write_text(functions.replace("memory = 512", 'memory = "lots"', 1))
    with pytest.raises(ConfigError, match="memory"):
        load_project(root)
    assert list((cache / "valid-config").iterdir()) == markers  # nothing remembered of a table that failed
    (root / "lpack.toml").write_text(functions + "[functions.f999]\nsource = \"src\"\nhandler = \"app.handler\"\n")
    assert len(load_project(root).units) == 61 and len(list((cache / "valid-config").iterdir())) == 2
    # a digest of the content, empty: nothing of the configuration is kept (a hex digest may well hold "512")
    assert all(re.fullmatch(r"[0-9a-f]{64}", m.name) and m.stat().st_size == 0 for m in (cache / "valid-config").iterdir())


def test_a_small_configuration_leaves_no_marker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LPACK_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "one"
    root.mkdir()
    (root / "app.py").write_text("def handler(event, context):\n    return {}\n")
    (root / "lpack.toml").write_text('handler = "app.handler"\n')
    load_project(root)
    assert not (tmp_path / "cache" / "valid-config").exists()


def test_a_terraform_folder_says_lpack_does_not_read_terraform(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The shape of serverless-patterns' Terraform patterns: main.tf zips src/ with archive_file."""
    project = make_project(tmp_path / "repo", {
        "main.tf": 'data "archive_file" "zip" {\n  type = "zip"\n  source_dir = "${path.module}/src"\n}\n',
        "src/app.py": HANDLER})

    assert main(["check", str(project)]) == 2

    assert error_lines(capsys) == [
        (f"lpack: error: {project}: no Lambda function lpack can read: it does not read Terraform (main.tf); "
        "describe the function in an lpack.toml here (source, handler, runtime) or let Terraform build it "
        "with `lpack terraform-external` (docs/integrations.md, Terraform)")]


@pytest.mark.parametrize(("files", "found", "handler", "where"), [
    # gdamjan/uv-aws-lambda: `uv init --package`, the handler in the src layout's package
    ({"pyproject.toml": '[project]\nname = "demo"\nversion = "0.1.0"\n', "src/demo/__init__.py": HANDLER},
     "src/demo/__init__.py", "demo.lambda_handler", "[tool.lpack] in pyproject.toml"),
    ({"README.md": "# hi\n", "app.py": HANDLER, "tests/test_app.py": HANDLER},
     "app.py", "app.lambda_handler", "an lpack.toml"),
    ({"orders/api.py": "import json\n\n\nasync def main(event, context):\n    pass\n\n\n"
                       "def handle(event, context):\n    pass\n"},
     "orders/api.py", "orders.api.handle", "an lpack.toml"),
    # dacci/lambda-python-poetry-demo: Poetry, packages from src/, `lambda_handler(event, _context)`
    ({"pyproject.toml": '[tool.poetry]\nname = "demo"\n', "src/lambda_function.py":
      "def lambda_handler(event, _context):\n    pass\n\n\ndef _lambda_handler(event):\n    pass\n"},
     "src/lambda_function.py", "lambda_function.lambda_handler", "[tool.lpack] in pyproject.toml"),
    ({"app.py": "def lambda_handler(event: dict, context: LambdaContext) -> dict:\n    return {}\n"},
     "app.py", "app.lambda_handler", "an lpack.toml"),
])
def test_a_folder_with_one_handler_shaped_function_says_how_to_name_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], files: dict[str, str], found: str, handler: str,
        where: str) -> None:
    project = make_project(tmp_path / "repo", files)

    assert main(["check", str(project)]) == 2

    signature = "handle" if handler.endswith("handle") else "lambda_handler"
    assert error_lines(capsys) == [
        (f"lpack: error: {project}: no Lambda function configured; {signature}(event, context) in {found} "
         f'looks like its handler: set `handler = "{handler}"` in {where}')]


def test_two_handler_shaped_functions_get_the_general_hint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Near miss: lpack does not guess between two."""
    project = make_project(tmp_path / "repo", {"a.py": HANDLER, "b.py": HANDLER})

    assert main(["check", str(project)]) == 2

    assert "no Lambda function found; add lambda_function.py (zero config)" in error_lines(capsys)[0]
