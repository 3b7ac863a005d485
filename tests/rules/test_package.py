"""Lambda's limits: package sizes at and just past each quota, and the runtime lifecycle on
pinned dates.

The boundaries are arithmetic on the package's central directory, so they are tested on
synthetic indexes (``PackageIndex``, as a build or ``lpack check`` reads it) run through the
package rules. A few real builds prove the path end to end, with exact sizes: zeros (sparse
files, compressed to almost nothing) for the unzipped quota, seeded random bytes (stored, not
deflated) for the zipped one, whose zip overhead is measured by building once with a small blob.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import random
import shutil
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from lpack import rules
from lpack.analysis.package import Entry, PackageIndex
from lpack.analysis.subjects import PackageSubject
from lpack.bundle.builder import BuildOptions, BuildResult, build_project
from lpack.cli import main
from lpack.core import limits
from lpack.core.findings import Finding, Severity
from lpack.inputs.config import load_project

HANDLER = "def lambda_handler(event, context):\n    return {'ok': True}\n"
HANDLER_BYTES = len(HANDLER.encode())
TODAY = dt.date(2026, 11, 23)  # python3.10 deprecated (2026-10-31), not yet blocked (2027-02-01)

ZIPPED = limits.ZIPPED_SIZE.value  # 52,428,800
UNZIPPED = limits.UNZIPPED_SIZE.value  # 262,144,000
ZIPPED_NEAR = 47_185_920  # 90% of ZIPPED
UNZIPPED_NEAR = 235_929_600  # 90% of UNZIPPED


def test_the_limits_are_lambdas() -> None:
    assert (ZIPPED, UNZIPPED, limits.LAYERS_PER_FUNCTION.value) == (52_428_800, 262_144_000, 5)
    assert (ZIPPED_NEAR, UNZIPPED_NEAR) == (ZIPPED * 9 // 10, UNZIPPED * 9 // 10)


# -- helpers -------------------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    """A zero-config function folder; removed afterwards, as its blobs are tens of MB."""
    root = tmp_path / "fn"
    root.mkdir()
    (root / "lambda_function.py").write_text(HANDLER)
    yield root
    shutil.rmtree(tmp_path, ignore_errors=True)


def zeros(path: Path, size: int) -> None:
    """A file of ``size`` zero bytes, written sparse (no disk, no time)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        handle.truncate(size)


@functools.cache
def _noise() -> bytes:
    return random.Random(0).randbytes(ZIPPED + 1)


def noise(path: Path, size: int) -> None:
    """``size`` incompressible, deterministic bytes (deflate cannot shrink them: stored)."""
    assert size <= len(_noise())
    path.write_bytes(_noise()[:size])


def build(root: Path, **options: object) -> BuildResult:
    settings: dict[str, object] = {"runtime": "python3.12", "today": TODAY, **options}
    return build_project(load_project(root), BuildOptions(**settings))  # type: ignore[arg-type]


def codes(findings: list[Finding]) -> list[str]:
    return sorted(f.code for f in findings)


@pytest.fixture(scope="session")
def zip_overhead(tmp_path_factory: pytest.TempPathFactory) -> int:
    """Bytes a zero-config zip adds to a stored blob.bin: headers, names and the deflated handler."""
    root = tmp_path_factory.mktemp("overhead") / "fn"
    root.mkdir()
    (root / "lambda_function.py").write_text(HANDLER)
    noise(root / "blob.bin", 4096)
    [artifact] = build(root).artifacts
    with zipfile.ZipFile(artifact.path) as zf:
        assert zf.getinfo("blob.bin").compress_type == zipfile.ZIP_STORED
    return artifact.size_zipped - 4096


# -- the boundaries, on synthetic indexes ----------------------------------------------------------


def index(name: str, unzipped: int = HANDLER_BYTES, zipped: int = 0) -> PackageIndex:
    """A built package as its central directory describes it: the handler and one blob."""
    entries = [Entry("lambda_function.py", HANDLER_BYTES, HANDLER_BYTES, 0o644)]
    if unzipped > HANDLER_BYTES:
        entries.append(Entry("blob.bin", unzipped - HANDLER_BYTES, unzipped - HANDLER_BYTES, 0o644))
    return PackageIndex(Path("dist") / f"{name}.zip", zipped, tuple(entries))


def package_findings(package: PackageIndex, *, layers: tuple[PackageIndex, ...] = (),
                     upload: str = "direct") -> list[Finding]:
    """What the package rules say about a function deployed with ``layers``, as a build runs them."""
    subject = PackageSubject(package=package, kind="function", layers=layers,
                             layer_count=len(layers), upload=upload, function="fn")
    return rules.run(subject)


# the unzipped quota (LP102, LP104)


@pytest.mark.parametrize(
    ("total", "expected"),
    [
        pytest.param(UNZIPPED_NEAR, [], id="exactly-90%-not-near"),
        pytest.param(UNZIPPED_NEAR + 1, ["LP104"], id="90%-plus-one-byte-near"),
        pytest.param(UNZIPPED, ["LP104"], id="at-the-limit-near-not-over"),
        pytest.param(UNZIPPED + 1, ["LP102"], id="one-byte-over"),
    ],
)
def test_unzipped_size_boundaries(total: int, expected: list[str]) -> None:
    package = index("fn", unzipped=total)

    assert package.size_unzipped == total
    assert codes(package_findings(package)) == expected


def test_unzipped_over_finding_says_by_how_much() -> None:
    [finding] = package_findings(index("fn", unzipped=UNZIPPED + 1))

    assert finding == Finding(
        "LP102",
        "unzipped-size-exceeded",
        Severity.ERROR,
        "unzipped function package: 250.0 MB (262,144,001 bytes); the limit is 262,144,000 bytes",
        str(Path("dist") / "fn.zip"),
        function="fn",
        fix="see the largest packages in the size table; exclude or move what is not needed",
    )


def test_unzipped_near_finding_says_how_close() -> None:
    [finding] = package_findings(index("fn", unzipped=UNZIPPED))

    assert (finding.code, finding.severity) == ("LP104", Severity.WARNING)
    assert finding.message == "unzipped size is 250.0 MB, 100% of the 262,144,000 bytes limit"


@pytest.mark.parametrize(
    ("together", "expected"),
    [
        pytest.param(UNZIPPED_NEAR, [], id="together-exactly-90%"),
        pytest.param(UNZIPPED, ["LP104"], id="together-at-the-limit"),
        pytest.param(UNZIPPED + 1, ["LP102"], id="together-one-byte-over"),
    ],
)
def test_function_and_its_layers_count_together(together: int, expected: list[str]) -> None:
    first, second = together // 3, together // 3  # each well under 90% of the limit
    layers = (index("big", unzipped=first), index("more", unzipped=second))

    findings = package_findings(index("fn", unzipped=together - first - second), layers=layers)

    assert [(f.code, f.function) for f in findings] == [(code, "fn") for code in expected]
    if expected == ["LP102"]:
        assert findings[0].message == (
            "unzipped function and its layers: 250.0 MB (262,144,001 bytes); the limit is 262,144,000 bytes"
        )


# the zipped quota (LP101, LP103)


@pytest.mark.parametrize(
    ("zipped", "expected"),
    [
        pytest.param(ZIPPED_NEAR, [], id="exactly-90%-not-near"),
        pytest.param(ZIPPED_NEAR + 1, ["LP103"], id="90%-plus-one-byte-near"),
        pytest.param(ZIPPED, ["LP103"], id="at-the-limit-near-not-over"),
        pytest.param(ZIPPED + 1, ["LP101"], id="one-byte-over"),
    ],
)
def test_zipped_size_boundaries(zipped: int, expected: list[str]) -> None:
    # a stored blob: as large unzipped as zipped, far under the unzipped quota
    assert codes(package_findings(index("fn", unzipped=zipped, zipped=zipped))) == expected


def test_zipped_findings_say_by_how_much() -> None:
    [finding] = package_findings(index("fn", unzipped=ZIPPED + 1, zipped=ZIPPED + 1))

    assert (finding.code, finding.severity, finding.function) == ("LP101", Severity.ERROR, "fn")
    assert finding.message == (
        "zipped package is 50.0 MB (52,428,801 bytes); the limit is 52,428,800 bytes for a direct upload"
    )
    assert finding.fix == (
        'exclude what the function does not need, move dependencies to a layer, or deploy through S3 (upload = "s3")'
    )


# upload = "s3"


@pytest.mark.parametrize(
    "zipped",
    [
        pytest.param(ZIPPED + 1, id="over-the-zipped-limit"),
        pytest.param(ZIPPED_NEAR + 1, id="near-the-zipped-limit"),
    ],
)
def test_s3_upload_silences_the_zipped_limit(zipped: int) -> None:
    package = index("fn", unzipped=zipped, zipped=zipped)

    assert codes(package_findings(package, upload="s3")) == []


def test_s3_upload_still_has_the_unzipped_limit() -> None:
    package = index("fn", unzipped=UNZIPPED + 1, zipped=1_000_000)

    assert codes(package_findings(package, upload="s3")) == ["LP102"]


# -- real builds: the sizes a build measures reach the rules ----------------------------------------


def test_a_build_one_byte_over_the_zipped_limit(project: Path, zip_overhead: int) -> None:
    noise(project / "blob.bin", ZIPPED + 1 - zip_overhead)

    result = build(project)

    [artifact] = result.artifacts
    assert artifact.size_zipped == ZIPPED + 1 == artifact.path.stat().st_size
    assert [(f.code, f.function, f.path) for f in result.findings] == [
        ("LP101", "fn", str(project / "dist" / "fn.zip"))
    ]


def test_a_build_of_a_function_and_its_layer_one_byte_over_unzipped(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "api").mkdir(parents=True)
    (root / "api" / "lambda_function.py").write_text(HANDLER)
    (root / "pyproject.toml").write_text(
        '[tool.lpack.functions.api]\nsource = "api"\nlayers = ["big"]\n\n[tool.lpack.layers.big]\nsource = "big"\n'
    )
    layer_bytes = (UNZIPPED + 1) // 2  # each well under the limit, and under 90% of it
    zeros(root / "big" / "blob.bin", layer_bytes)
    zeros(root / "api" / "blob.bin", UNZIPPED + 1 - layer_bytes - HANDLER_BYTES)

    result = build(root)

    sizes = {a.name: a.size_unzipped for a in result.artifacts}
    assert sizes["api"] < UNZIPPED_NEAR and sizes["big"] < UNZIPPED_NEAR
    assert sizes["api"] + sizes["big"] == UNZIPPED + 1
    assert [(f.code, f.function) for f in result.findings] == [("LP102", "api")]
    assert result.findings[0].message == (
        "unzipped function and its layers: 250.0 MB (262,144,001 bytes); the limit is 262,144,000 bytes"
    )
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_a_build_with_a_layer_zip_one_byte_over_unzipped(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``lpack build --layer ZIP``: the layer the function is deployed with counts towards LP102."""
    layer_bytes = (UNZIPPED + 1) // 2  # each well under the limit, and under 90% of it
    zeros(project / "blob.bin", UNZIPPED + 1 - layer_bytes - HANDLER_BYTES)
    zeros(project.parent / "python" / "blob.bin", layer_bytes)
    layer = project.parent / "deps.zip"
    with zipfile.ZipFile(layer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(project.parent / "python" / "blob.bin", "python/blob.bin")

    assert main(["build", "-q", str(project), "--runtime", "python3.12", "--layer", str(layer)]) == 1

    assert capsys.readouterr().out == (
        f"{project / 'dist' / 'fn.zip'}: LP102 error unzipped function and its layers: 250.0 MB "
        "(262,144,001 bytes); the limit is 262,144,000 bytes (fix: see the largest packages in the size "
        "table; exclude or move what is not needed)\n"
    )


@pytest.mark.parametrize(("upload", "expected"), [("direct", ["LP101"]), ("s3", [])])
def test_a_builds_upload_setting_reaches_the_zipped_limit(
    project: Path, monkeypatch: pytest.MonkeyPatch, upload: str, expected: list[str]
) -> None:
    """``upload`` from the configuration decides, on a small build against a lowered quota."""
    (project / "pyproject.toml").write_text(f'[tool.lpack]\nname = "fn"\nupload = "{upload}"\n')
    monkeypatch.setattr(limits, "ZIPPED_SIZE", limits.ZIPPED_SIZE._replace(value=100))

    result = build(project)

    [artifact] = result.artifacts
    assert artifact.size_zipped > 100
    assert codes(result.findings) == expected


# -- runtime lifecycle -----------------------------------------------------------------------------


def test_deprecated_runtime_warns_with_its_dates_and_still_builds(project: Path) -> None:
    result = build(project, runtime="python3.10")

    assert [(f.code, f.severity) for f in result.findings] == [("LP401", Severity.WARNING)]
    assert result.findings[0].message == (
        "python3.10 is deprecated since 2026-10-31; Lambda blocks creating functions with it "
        "from 2027-02-01 and updating them from 2027-03-03"
    )
    assert result.findings[0].fix == "move to python3.14"
    [artifact] = result.artifacts
    assert artifact.path.is_file()


def test_blocked_runtime_is_an_error_and_writes_no_zip(project: Path) -> None:
    result = build(project, runtime="python3.7")

    assert [(f.code, f.severity) for f in result.findings] == [("LP402", Severity.ERROR)]
    assert (
        result.findings[0].message
        == "python3.7 can no longer be used to create functions (blocked since 2024-01-09)"
    )
    assert result.artifacts == []
    assert not (project / "dist").exists()


@pytest.mark.parametrize(
    ("runtime", "today", "expected"),
    [
        pytest.param("python3.12", TODAY, [], id="python3.12-supported"),
        pytest.param("python3.14", TODAY, [], id="python3.14-supported"),
        pytest.param(
            "python3.10", dt.date(2026, 10, 30), [], id="python3.10-day-before-deprecation"
        ),
        pytest.param(
            "python3.10", dt.date(2026, 10, 31), ["LP401"], id="python3.10-deprecation-day"
        ),
        pytest.param(
            "python3.10", dt.date(2027, 1, 31), ["LP401"], id="python3.10-day-before-block"
        ),
        pytest.param(
            "python3.10", dt.date(2027, 2, 1), ["LP402"], id="python3.10-block-create-day"
        ),
        pytest.param("python3.9", TODAY, ["LP401"], id="python3.9-deprecated"),
        pytest.param("python3.7", TODAY, ["LP402"], id="python3.7-blocked"),
    ],
)
def test_runtime_lifecycle_dates(
    project: Path, runtime: str, today: dt.date, expected: list[str]
) -> None:
    result = build(project, runtime=runtime, today=today)

    assert codes(result.findings) == expected
    assert bool(result.artifacts) == (expected != ["LP402"])


# -- runtime lifecycle through the command line ----------------------------------------------------


@pytest.fixture
def plain_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Wide, colourless output (the date is pinned in conftest.py)."""
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("FORCE_COLOR", raising=False)


@pytest.mark.parametrize(
    ("runtime", "strict", "code", "built"),
    [
        pytest.param("python3.12", True, 0, True, id="supported-strict-0"),
        pytest.param("python3.10", False, 0, True, id="deprecated-0"),
        pytest.param("python3.10", True, 1, True, id="deprecated-strict-1"),
        pytest.param("python3.7", False, 1, False, id="blocked-1-no-zip"),
    ],
)
def test_runtime_lifecycle_exit_codes(
    project: Path,
    plain_terminal: None,
    runtime: str,
    strict: bool,
    code: int,
    built: bool,
) -> None:
    argv = ["build", str(project), "-q", "--runtime", runtime] + (["--strict"] if strict else [])

    assert main(argv) == code

    assert (project / "dist" / "fn.zip").is_file() == built


def test_blocked_runtime_output(
    project: Path,
    plain_terminal: None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (project / "pyproject.toml").write_text('[tool.lpack]\nname = "fn"\n')
    monkeypatch.chdir(project)

    assert main(["build", ".", "--runtime", "python3.7"]) == 1

    captured = capsys.readouterr()
    assert captured.out == (
        "pyproject.toml: LP402 error python3.7 can no longer be used to create functions (blocked since 2024-01-09) "
        "(fix: move to python3.14)\n"
    )
    assert not (project / "dist").exists()


def test_deprecated_runtime_output(
    project: Path,
    plain_terminal: None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (project / "pyproject.toml").write_text('[tool.lpack]\nname = "fn"\n')
    monkeypatch.chdir(project)

    assert main(["build", ".", "--runtime", "python3.10"]) == 0

    out = capsys.readouterr().out.splitlines()
    digest = hashlib.sha256((project / "dist" / "fn.zip").read_bytes())
    assert out[-6:-3] == [
        "fn: dist/fn.zip",
        f"  sha256 {digest.hexdigest()}",
        (
            "pyproject.toml: LP401 warning python3.10 is deprecated since 2026-10-31; Lambda blocks creating functions "
            "with it from 2027-02-01 and updating them from 2027-03-03 (fix: move to python3.14)"
        ),
    ]


@pytest.mark.parametrize("command", ["build", "check"])
def test_the_commands_read_the_date_from_the_clock(
    project: Path, plain_terminal: None, set_today: Callable[[dt.date], None], command: str
) -> None:
    """On the day Lambda blocks python3.10, both commands fail on it: neither reads the date itself."""
    set_today(dt.date(2027, 2, 1))

    assert main([command, str(project), "-q", "--runtime", "python3.10"]) == 1

    assert not (project / "dist").exists()
