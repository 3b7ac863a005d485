"""`lpack sbom`: what a built zip ships, as CycloneDX 1.6 (validated with cyclonedx-python-lib's own
schema validator, offline) and SPDX 2.3 (validated against SPDX's published JSON schema)."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from lpack.cli import main
from tests.sbom.conftest import make_project, sha256

DATA = Path(__file__).parent / "data"
TARGET = ["--runtime", "python3.12", "--arch", "arm64"]
PINS = ("Web_By==1.0", "tiny-dep==2.1", "vague==0.3", "worded==1.0")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def cyclonedx_valid(text: str) -> dict[str, Any]:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text, all_errors=True)
    assert errors is None, list(errors) if not hasattr(errors, "data") else errors  # type: ignore[arg-type]
    data: dict[str, Any] = json.loads(text)
    return data


def spdx_valid(text: str) -> dict[str, Any]:
    import jsonschema

    data: dict[str, Any] = json.loads(text)
    jsonschema.validate(data, json.loads((DATA / "spdx-2.3.schema.json").read_text()))
    return data


@pytest.fixture
def built(tmp_path: Path, sbom_wheels: Path) -> Path:
    root = make_project(tmp_path / "fn", sbom_wheels, *PINS, hashes=True)
    assert main(["build", str(root), *TARGET, "-q"]) == 0
    return root


def by_name(bom: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in bom["components"]}


def test_every_distribution_in_the_zip_is_a_component_with_purl_version_and_files(
        built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "sbom", str(built), *TARGET)
    assert code == 0, err
    assert err == ""
    bom = cyclonedx_valid(out)
    with zipfile.ZipFile(built / "dist" / "fn.zip") as zf:
        folders = {n.split("/")[0] for n in zf.namelist() if n.split("/")[0].endswith(".dist-info")}
        record = {row[0]: row[1] for row in csv.reader(io.StringIO(zf.read("web_by-1.0.dist-info/RECORD").decode()))}
    shipped = [c for c in bom["components"] if c.get("scope") != "excluded"]
    assert len(shipped) == len(folders) == 4
    web = by_name(bom)["Web_By"]
    assert (web["version"], web["purl"], web["bom-ref"]) == ("1.0", "pkg:pypi/web-by@1.0", "pkg:pypi/web-by@1.0")
    files = {f["name"]: f.get("hashes", [{}])[0].get("content") for f in web["components"]}
    assert "webby/core.py" in files and "web_by-1.0.dist-info/METADATA" in files
    digest = base64.urlsafe_b64encode(bytes.fromhex(files["webby/core.py"])).rstrip(b"=").decode()
    assert record["webby/core.py"] == f"sha256={digest}"
    assert files["web_by-1.0.dist-info/RECORD"] is None  # RECORD lists no hash of itself


def test_the_root_is_the_functions_own_code_with_the_zip_hash_and_target(
        built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bom = cyclonedx_valid(run(capsys, "sbom", str(built), *TARGET)[1])
    root = bom["metadata"]["component"]
    assert (root["type"], root["name"]) == ("application", "fn")
    assert root["hashes"] == [{"alg": "SHA-256", "content": sha256(built / "dist" / "fn.zip")}]
    assert [f["name"] for f in root["components"]] == ["lambda_function.py"]
    assert root["components"][0]["hashes"][0]["content"] == sha256(built / "lambda_function.py")
    properties = {p["name"]: p["value"] for p in root["properties"]}
    assert properties["lpack:target:runtime"] == "python3.12"
    assert properties["lpack:target:architecture"] == "arm64"
    assert bom["metadata"]["tools"]["components"][0]["name"] == "lpack"


def test_licences_are_spdx_only_where_the_metadata_is_unambiguous(
        built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    components = by_name(cyclonedx_valid(run(capsys, "sbom", str(built), *TARGET)[1]))
    assert components["Web_By"]["licenses"] == [{"expression": "Apache-2.0 OR MIT"}]
    assert components["tiny-dep"]["licenses"] == [{"license": {"id": "MIT"}}]
    # "Apache Software License" names no version: a name, never a guessed Apache-2.0
    assert components["vague"]["licenses"] == [{"license": {"name": "Apache Software License"}}]
    assert components["worded"]["licenses"] == [{"license": {"name": "Custom Corp Licence v2"}}]


def test_wheel_hashes_from_the_lock_and_requirements_that_resolve_inside_the_zip(
        built: Path, sbom_wheels: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bom = cyclonedx_valid(run(capsys, "sbom", str(built), *TARGET)[1])
    web = by_name(bom)["Web_By"]
    assert web["hashes"] == [{"alg": "SHA-256", "content": sha256(sbom_wheels / "web_by-1.0-py3-none-any.whl")}]
    edges = {d["ref"]: d.get("dependsOn", []) for d in bom["dependencies"]}
    # socksy (an extra's) and win-only (a Windows marker) are not in the zip: no edge
    assert edges["pkg:pypi/web-by@1.0"] == ["pkg:pypi/tiny-dep@2.1"]
    assert edges["lpack:function:fn"] == ["pkg:pypi/vague@0.3", "pkg:pypi/web-by@1.0", "pkg:pypi/worded@1.0",
                                          "runtime:boto3"]


def test_runtime_provided_packages_are_listed_as_provided_not_shipped(
        built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    components = by_name(cyclonedx_valid(run(capsys, "sbom", str(built), *TARGET)[1]))
    boto3 = components["boto3"]  # the handler imports it; nothing ships it
    assert boto3["scope"] == "excluded" and boto3["purl"] == "pkg:pypi/boto3"
    assert "version" not in boto3 and "components" not in boto3
    assert boto3["properties"] == [{"name": "lpack:provided-by", "value": "aws-lambda-runtime:python3.12"}]
    assert "botocore" not in components  # provided too, but nothing here uses it


def test_a_shipped_botocore_is_a_shipped_component(tmp_path: Path, sbom_wheels: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    root = make_project(tmp_path / "fn", sbom_wheels, *PINS, "botocore==1.40.0",
                        handler="def lambda_handler(event, context):\n    return {}\n")
    components = by_name(cyclonedx_valid(run(capsys, "sbom", str(root), *TARGET)[1]))
    assert components["botocore"]["version"] == "1.40.0" and "scope" not in components["botocore"]
    assert "boto3" not in components  # nothing imports it


def test_the_same_zip_gives_the_same_bytes_and_source_date_epoch_sets_the_time(
        built: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    zip_path = str(built / "dist" / "fn.zip")
    first = run(capsys, "sbom", zip_path)[1]
    assert run(capsys, "sbom", zip_path)[1] == first
    bom = cyclonedx_valid(first)
    assert bom["metadata"]["timestamp"].startswith("1980-01-01T00:00:00")  # what the zip's entries carry
    assert bom["serialNumber"].startswith("urn:uuid:")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    later = cyclonedx_valid(run(capsys, "sbom", zip_path)[1])
    assert later["metadata"]["timestamp"].startswith("2023-11-14T22:13:20")
    assert later["serialNumber"] == bom["serialNumber"]  # the zip's bytes name it, not the clock


def test_a_different_zip_gets_a_different_serial_number(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = json.loads(run(capsys, "sbom", str(built), *TARGET)[1])["serialNumber"]
    (built / "lambda_function.py").write_text("def lambda_handler(event, context):\n    return 1\n")
    after = json.loads(run(capsys, "sbom", str(built), *TARGET)[1])["serialNumber"]
    assert before != after


def test_a_zip_from_elsewhere_is_described_as_it_is(tmp_path: Path, built: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    elsewhere = tmp_path / "other" / "package.zip"
    elsewhere.parent.mkdir()
    elsewhere.write_bytes((built / "dist" / "fn.zip").read_bytes())  # no manifest beside it
    bom = cyclonedx_valid(run(capsys, "sbom", str(elsewhere))[1])
    root = bom["metadata"]["component"]
    assert root["name"] == "package"
    assert not any(p["name"].startswith("lpack:target") for p in root["properties"])
    assert "hashes" not in by_name(bom)["Web_By"]  # no lock says which wheel it was
    assert by_name(bom)["boto3"]["properties"][0]["value"] == "aws-lambda-runtime:a Lambda Python runtime"


def test_spdx_is_valid_and_says_the_same(built: Path, sbom_wheels: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "sbom", str(built), *TARGET, "--format", "spdx")
    assert code == 0
    doc = spdx_valid(out)
    packages = {p["name"]: p for p in doc["packages"]}
    assert packages["Web_By"]["externalRefs"][0]["referenceLocator"] == "pkg:pypi/web-by@1.0"
    assert packages["Web_By"]["licenseDeclared"] == "Apache-2.0 OR MIT"
    assert packages["Web_By"]["checksums"] == [{"algorithm": "SHA256",
                                                "checksumValue": sha256(sbom_wheels / "web_by-1.0-py3-none-any.whl")}]
    assert packages["worded"]["licenseDeclared"] == "LicenseRef-Custom-Corp-Licence-v2"
    assert {"licenseId": "LicenseRef-Custom-Corp-Licence-v2", "name": "Custom Corp Licence v2",
            "extractedText": "Custom Corp Licence v2"} in doc["hasExtractedLicensingInfos"]
    relations = {(r["spdxElementId"], r["relationshipType"], r["relatedSpdxElement"]) for r in doc["relationships"]}
    assert ("SPDXRef-DOCUMENT", "DESCRIBES", "SPDXRef-Root-fn") in relations
    assert ("SPDXRef-Package-web-by", "DEPENDS_ON", "SPDXRef-Package-tiny-dep") in relations
    assert ("SPDXRef-Runtime-boto3", "PROVIDED_DEPENDENCY_OF", "SPDXRef-Root-fn") in relations
    assert packages["fn"]["checksums"][0]["checksumValue"] == sha256(built / "dist" / "fn.zip")
    assert run(capsys, "sbom", str(built), *TARGET, "--format", "spdx")[1] == out


def test_build_writes_each_zips_sbom_beside_it(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "build", str(built), *TARGET, "--sbom")
    assert code == 0
    assert "lpack: wrote " in err and "fn.cdx.json" in err
    written = (built / "dist" / "fn.cdx.json").read_text()
    assert written == run(capsys, "sbom", str(built / "dist" / "fn.zip"))[1]
    assert run(capsys, "build", str(built), *TARGET, "--sbom", "spdx", "-q")[0] == 0
    spdx_valid((built / "dist" / "fn.spdx.json").read_text())
    assert not list((built / "dist").glob(".*tmp"))


def test_a_project_of_several_packages_needs_one_named(tmp_path: Path, sbom_wheels: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    config = ('[functions.api]\nhandler = "lambda_function.lambda_handler"\n'
              '[functions.jobs]\nhandler = "lambda_function.lambda_handler"\n')
    root = make_project(tmp_path / "two", sbom_wheels, "tiny-dep==2.1", config=config)
    code, out, err = run(capsys, "sbom", str(root), *TARGET)
    assert (code, out) == (2, "")
    assert err.startswith(f"lpack: error: {root}: builds 2 packages (api, jobs); an SBOM describes one\n")
    assert "lpack build --sbom" in err
    code, out, _ = run(capsys, "sbom", str(root), *TARGET, "-f", "jobs")
    assert code == 0 and cyclonedx_valid(out)["metadata"]["component"]["name"] == "jobs"


def test_a_file_that_is_not_a_zip_is_one_error_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "broken.zip"
    bad.write_bytes(b"not a zip")
    code, out, err = run(capsys, "sbom", str(bad))
    assert (code, out) == (2, "")
    assert err.startswith(f"lpack: error: {bad}: not a readable zip file") and "Traceback" not in err


def test_without_the_sbom_extra_it_says_what_to_install(built: Path) -> None:
    """cyclonedx-python-lib made unimportable in a real interpreter, as where the extra is not installed."""
    script = ("import sys; sys.modules['cyclonedx'] = None; from lpack.cli import main; "
              f"raise SystemExit(main(['sbom', {str(built / 'dist' / 'fn.zip')!r}]))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert "install lpack[sbom]" in done.stderr and "pip install 'lpack-lambda[sbom]'" in done.stderr
    assert "Traceback" not in done.stderr
    spdx = subprocess.run([sys.executable, "-c", script.replace("'sbom', ", "'sbom', '--format', 'spdx', ")],
                          capture_output=True, text=True, check=False)
    assert spdx.returncode == 0 and json.loads(spdx.stdout)["spdxVersion"] == "SPDX-2.3"  # needs no extra


def test_a_layer_zip_lists_what_its_python_folder_holds(tmp_path: Path, sbom_wheels: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    root = make_project(tmp_path / "fn", sbom_wheels, "tiny-dep==2.1", "worded==1.0",
                        handler="import tiny_dep\n\n\ndef lambda_handler(event, context):\n    return {}\n")
    assert main(["build", str(root), *TARGET, "--as-layer", "-q"]) == 0
    bom = cyclonedx_valid(run(capsys, "sbom", str(root / "dist" / "fn-layer.zip"))[1])
    assert {c["bom-ref"] for c in bom["components"]} == {"pkg:pypi/tiny-dep@2.1?installed-in=python/",
                                                         "pkg:pypi/worded@1.0?installed-in=python/"}
    assert "components" not in bom["metadata"]["component"]  # a layer has no code of its own
    digest = hashlib.sha256((root / "dist" / "fn-layer.zip").read_bytes()).hexdigest()
    assert bom["metadata"]["component"]["hashes"][0]["content"] == digest
