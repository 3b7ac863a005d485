"""`lpack audit` against vulnerability services served on loopback from real advisory records
(tests/sbom/data/osv: the PyPA advisory database's PYSEC-2018-28 for requests and PYSEC-2019-132
for urllib3, as OSV serves them), with real zips of distributions named and versioned as the
affected releases. A service that cannot answer must never look like a clean audit."""

from __future__ import annotations

import http.server
import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from lpack.cli import main
from tests.factories import make_wheel
from tests.factories.s3 import free_port
from tests.sbom.conftest import make_project

RECORDS = {p.stem: json.loads(p.read_text()) for p in (Path(__file__).parent / "data" / "osv").glob("*.json")}
TARGET = ["--runtime", "python3.12", "--arch", "x86_64"]
HANDLER = "import requests\n\n\ndef lambda_handler(event, context):\n    return {}\n"


def _key(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _affecting(name: str, version: str) -> list[dict[str, Any]]:
    return [r for r in RECORDS.values() for a in r["affected"]
            if _key(a["package"]["name"]) == _key(name) and version in a.get("versions", [])]


def _pypi_form(record: dict[str, Any]) -> dict[str, Any]:
    """The record as PyPI's JSON API lists it under ``vulnerabilities`` (docs.pypi.org/api/json)."""
    fixed = [e["fixed"] for a in record["affected"] for r in a["ranges"] if r["type"] == "ECOSYSTEM"
             for e in r["events"] if "fixed" in e]
    return {"id": record["id"], "aliases": record["aliases"], "details": record["details"], "summary": None,
            "fixed_in": fixed, "link": f"https://osv.dev/vulnerability/{record['id']}", "source": "osv",
            "withdrawn": None}


class _Service(http.server.BaseHTTPRequestHandler):
    known: ClassVar[set[str]] = {"requests", "urllib3", "certifi"}  # what "PyPI" has; anything else: 404
    seen: ClassVar[list[str]] = []

    def log_message(self, *args: object) -> None:
        pass

    def _answer(self, status: int, body: Any = None) -> None:
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    page_size: ClassVar[int | None] = None  # OSV pages a query's advisories (next_page_token) past its limit

    def do_POST(self) -> None:
        self.seen.append(f"POST {self.path}")
        queries = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["queries"]
        self._answer(200, {"results": [self._result(q) for q in queries]})

    def _result(self, query: dict[str, Any]) -> dict[str, Any]:
        vulns = [{"id": r["id"], "modified": r["modified"]} for r in _affecting(query["package"]["name"], query["version"])]
        start = int(query.get("page_token", "0"))
        if self.page_size is None:
            return {"vulns": vulns} if vulns else {}
        page = vulns[start:start + self.page_size]
        more = {"next_page_token": str(start + self.page_size)} if start + self.page_size < len(vulns) else {}
        return {"vulns": page, **more} if page else {}

    def do_GET(self) -> None:
        self.seen.append(f"GET {self.path}")
        if m := re.fullmatch(r"/v1/vulns/([A-Z0-9-]+)", self.path):
            return self._answer(200, RECORDS[m.group(1)]) if m.group(1) in RECORDS else self._answer(404)
        if m := re.fullmatch(r"/pypi/([^/]+)/([^/]+)/json", self.path):
            if _key(m.group(1)) not in self.known:
                return self._answer(404)
            vulns = [_pypi_form(r) for r in _affecting(m.group(1), m.group(2))]
            return self._answer(200, {"info": {"name": m.group(1), "version": m.group(2)}, "vulnerabilities": vulns})
        return self._answer(404)


@pytest.fixture
def service(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Service)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("LPACK_OSV_URL", base)
    monkeypatch.setenv("LPACK_PYPI_JSON_URL", f"{base}/pypi")
    _Service.seen = []
    _Service.page_size = None
    try:
        yield base
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def old_wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    house = tmp_path_factory.mktemp("old-wheels")
    make_wheel(house, "requests", "2.19.1", requires=["urllib3<1.24,>=1.21.1", "certifi>=2017.4.17"])
    make_wheel(house, "requests", "2.20.0", requires=["urllib3<1.25,>=1.21.1", "certifi>=2017.4.17"])
    make_wheel(house, "urllib3", "1.23")
    make_wheel(house, "urllib3", "1.24.3")
    make_wheel(house, "certifi", "2024.8.30")
    make_wheel(house, "acme-private", "1.0")
    return house


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_known_vulnerabilities_of_what_ships_with_ids_fixes_and_who_pulled_them_in(
        tmp_path: Path, old_wheels: Path, service: str, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_project(tmp_path / "fn", old_wheels, "requests==2.19.1", "urllib3==1.23", "certifi==2024.8.30",
                        handler=HANDLER)
    monkeypatch.chdir(root)
    code, out, err = run(capsys, "audit", *TARGET)
    assert code == 1, err
    assert out.splitlines() == [
        ("dist/fn.zip:requests-2.19.1.dist-info/METADATA: LP601 error requests 2.19.1: PYSEC-2018-28 (CVE-2018-18074, "
         "GHSA-x84v-xcm2-53pg): The Requests package before 2.20.0 for Python sends an HTTP Authorization header to an "
         "http URI upon receiving a same-hostname https-to-http redirect, which...; fixed in 2.20.0; required directly "
         "(nothing else in the package requires it); https://osv.dev/vulnerability/PYSEC-2018-28 "
         "(fix: require requests>=2.20.0, lock and rebuild)"),
        ("dist/fn.zip:urllib3-1.23.dist-info/METADATA: LP601 error urllib3 1.23: PYSEC-2019-132 (CVE-2019-11236, "
         "GHSA-r64q-w8jr-g9qp): In the urllib3 library through 1.24.1 for Python, CRLF injection is possible if the "
         "attacker controls the request parameter; fixed in 1.24.3; pulled in by requests -> urllib3; "
         "https://osv.dev/vulnerability/PYSEC-2019-132 "
         "(fix: require urllib3>=1.24.3 (or raise requests to a release that requires it), lock and rebuild)"),
        "audited 3 distributions in 1 package against OSV; 2 errors",
    ]
    assert _Service.seen[0] == "POST /v1/querybatch"
    assert sorted(_Service.seen[1:]) == ["GET /v1/vulns/PYSEC-2018-28", "GET /v1/vulns/PYSEC-2019-132"]


def test_advisories_on_later_pages_and_packages_past_one_batch_are_all_asked_for(
        tmp_path: Path, old_wheels: Path, service: str, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """OSV answers a query with many advisories a page at a time (next_page_token) and takes up
    to 1,000 queries a request: an advisory on a later page, or of a package past the first
    batch, is still found."""
    from lpack.bundle import vulndb

    second = {**RECORDS["PYSEC-2018-28"], "id": "PYSEC-2018-9999", "aliases": ["CVE-2018-99999"]}
    monkeypatch.setitem(RECORDS, second["id"], second)  # requests 2.19.1 has two advisories now
    monkeypatch.setattr(_Service, "page_size", 1)
    monkeypatch.setattr(vulndb, "_OSV_BATCH", 2)  # 3 distributions: two requests a page
    root = make_project(tmp_path / "fn", old_wheels, "requests==2.19.1", "urllib3==1.23", "certifi==2024.8.30",
                        handler=HANDLER)
    code, out, err = run(capsys, "audit", str(root), *TARGET, "--format", "json")
    report = json.loads(out)
    assert code == 1, err
    found = sorted(re.match(r"(\S+ \S+): (\S+) ", f["message"]).groups() for f in report["findings"])  # type: ignore[union-attr]
    assert found == [("requests 2.19.1", "PYSEC-2018-28"), ("requests 2.19.1", "PYSEC-2018-9999"),
                     ("urllib3 1.23", "PYSEC-2019-132")]
    posts = [s for s in _Service.seen if s.startswith("POST")]
    assert len(posts) == 3  # the first page in two batches, then requests' second page


def test_fixed_releases_are_clean_and_say_what_was_audited(
        tmp_path: Path, old_wheels: Path, service: str, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_project(tmp_path / "fn", old_wheels, "requests==2.20.0", "urllib3==1.24.3", "certifi==2024.8.30",
                        handler=HANDLER)
    code, out, err = run(capsys, "audit", str(root), *TARGET)
    assert (code, out) == (0, "audited 3 distributions in 1 package against OSV; no findings\n"), err


def test_json_and_sarif_carry_the_findings_and_the_fix(
        tmp_path: Path, old_wheels: Path, service: str, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_project(tmp_path / "fn", old_wheels, "requests==2.19.1", "urllib3==1.23", "certifi==2024.8.30",
                        handler=HANDLER)
    code, out, _ = run(capsys, "audit", str(root), *TARGET, "--format", "json")
    report = json.loads(out)
    assert code == 1 and report["summary"]["error"] == 2
    fixes = sorted(f["fix"] for f in report["findings"])
    assert fixes == ["require requests>=2.20.0, lock and rebuild",
                     "require urllib3>=1.24.3 (or raise requests to a release that requires it), lock and rebuild"]
    code, out, _ = run(capsys, "audit", str(root), *TARGET, "--format", "sarif")
    sarif = json.loads(out)
    assert code == 1
    assert {r["ruleId"] for r in sarif["runs"][0]["results"]} == {"LP601"}
    assert any(rule["id"] == "LP601" for rule in sarif["runs"][0]["tool"]["driver"]["rules"])


def test_pypi_json_api_and_a_release_it_does_not_know(
        tmp_path: Path, old_wheels: Path, service: str, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_project(tmp_path / "fn", old_wheels, "requests==2.19.1", "urllib3==1.23", "certifi==2024.8.30",
                        "acme-private==1.0", handler=HANDLER)
    code, out, err = run(capsys, "audit", str(root), *TARGET, "--service", "pypi")
    assert code == 1, err
    assert "PYSEC-2018-28 (CVE-2018-18074, GHSA-x84v-xcm2-53pg)" in out
    assert "LP602 info acme-private 1.0: PyPI does not know this release, so it was not checked for vulnerabilities" \
        in out
    assert out.splitlines()[-1] == "audited 4 distributions in 1 package against PyPI; 2 errors, 1 info"
    assert not any(s.startswith("POST") for s in _Service.seen)


def test_unreachable_service_is_an_error_never_a_clean_audit(
        tmp_path: Path, old_wheels: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    monkeypatch.setenv("LPACK_OSV_URL", closed)
    monkeypatch.setenv("LPACK_PYPI_JSON_URL", f"{closed}/pypi")
    root = make_project(tmp_path / "fn", old_wheels, "requests==2.20.0", "urllib3==1.24.3", "certifi==2024.8.30",
                        handler=HANDLER)
    code, out, err = run(capsys, "audit", str(root), *TARGET)
    assert (code, out) == (2, "")
    lines = err.splitlines()
    assert lines[0].startswith(f"lpack: error: {closed}/v1/querybatch: cannot be reached (")
    assert lines[0].endswith("nothing was checked")
    assert lines[1].startswith(f"lpack: error: {closed}/pypi/") and "cannot be reached" in lines[1]
    assert "no findings" not in err and "Traceback" not in err


def test_a_service_that_knows_no_release_is_an_error(
        tmp_path: Path, old_wheels: Path, service: str, capsys: pytest.CaptureFixture[str]) -> None:
    """A proxy that does not serve PyPI's per-release JSON answers 404 to all: nothing was checked."""
    root = make_project(tmp_path / "fn", old_wheels, "acme-private==1.0",
                        handler="def lambda_handler(event, context):\n    return {}\n")
    code, out, err = run(capsys, "audit", str(root), *TARGET, "--service", "pypi")
    assert (code, out) == (2, "")
    assert "answered 404 for every release (1), so none could be checked" in err


def test_a_zip_with_no_distributions_audits_nothing_and_says_so(
        tmp_path: Path, service: str, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "bare"
    root.mkdir()
    (root / "lambda_function.py").write_text("def lambda_handler(event, context):\n    return {}\n")
    code, out, _ = run(capsys, "audit", str(root), *TARGET)
    assert (code, out) == (0, "audited 0 distributions in 1 package against OSV; no findings\n")
    assert _Service.seen == []  # nothing to ask


def test_the_rules_are_documented() -> None:
    from lpack.commands.rules import find_rule

    for code in ("LP601", "LP602"):
        doc = find_rule(code).doc
        assert "## What it does" in doc and "## How to fix" in doc and "osv.dev" in doc
