"""The handler module is parsed only up to a size: a generated or hostile module never hangs check."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from lpack.analysis.handler_analysis import MAX_MODULE_BYTES, HandlerAnalysis
from lpack.analysis.package import PackageReader, read_package
from lpack.analysis.subjects import PackageSubject
from lpack.core.targets import make_target

HANDLER = "def lambda_handler(event, context):\n    return event\n"


def analysis(tmp_path: Path, source: str) -> HandlerAnalysis:
    path = tmp_path / "fn.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("app.py", source)
    reader = PackageReader(read_package(path))
    return HandlerAnalysis(PackageSubject(package=reader.index, kind="function", reader=reader,
                                          target=make_target("python3.12", "x86_64", where="t"),
                                          handler="app.lambda_handler"))


def test_a_handler_module_over_the_limit_is_listed_not_parsed(tmp_path: Path) -> None:
    source = HANDLER + "x = 1\n" * (MAX_MODULE_BYTES // 6)  # 4 s and 400 MB to parse, were it parsed
    found = analysis(tmp_path, source)
    assert found.module is None
    assert found.unread == {"app.py": len(source)}


def test_a_handler_module_within_the_limit_is_parsed(tmp_path: Path) -> None:
    found = analysis(tmp_path, HANDLER + "x = 1\n" * 1000)
    assert found.module is not None
    assert found.unread == {}


CHECK = textwrap.dedent("""
    import resource, sys
    from lpack.cli import main
    limit = 400 << 20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    sys.exit(main(["check", sys.argv[1], "--runtime", "python3.12"]))
""")


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS bounds memory on Linux")
@pytest.mark.parametrize("size", [1 << 30, 20_000_000], ids=["1-GiB-sparse", "20-MB-of-statements"])
def test_a_huge_handler_module_is_checked_in_bounded_memory(tmp_path: Path, size: int) -> None:
    module = tmp_path / "fn" / "lambda_function.py"
    module.parent.mkdir()
    with open(module, "w") as handle:
        handle.write(HANDLER)
        if size < (1 << 30):
            handle.write("x = 1\n" * ((size - len(HANDLER)) // 6))
        handle.truncate(size)  # past the text: a sparse file, no disk used
    done = subprocess.run([sys.executable, "-c", CHECK, str(module.parent)], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode in (0, 1), done.stdout + done.stderr
    assert "crashed" not in done.stdout and "internal error" not in done.stderr
    assert "MemoryError" not in done.stdout + done.stderr


def test_check_names_the_module_it_did_not_parse(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """LP215: a module over the limit is reported as not analysed, not passed over in silence."""
    import json

    from lpack.cli import main

    big = tmp_path / "big"
    big.mkdir()
    (big / "lambda_function.py").write_text(HANDLER + "x = 1\n" * (MAX_MODULE_BYTES // 6))
    assert main(["check", str(big), "--format", "json", "--runtime", "python3.12"]) == 0
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert [(f["code"], f["severity"]) for f in findings] == [("LP215", "info")]
    assert "lambda_function.py is " in findings[0]["message"] and "did not parse it" in findings[0]["message"]
    small = tmp_path / "small"
    small.mkdir()
    (small / "lambda_function.py").write_text(HANDLER)
    assert main(["check", str(small), "--format", "json", "--runtime", "python3.12"]) == 0
    assert json.loads(capsys.readouterr().out)["findings"] == []
