"""`lpack build --report size.html` (issue #17): a self-contained treemap whose data is the zip's,
rendered by headless Chromium; and the size table that shows the limits that apply (upload = "s3")."""

from __future__ import annotations

import base64
import json
import re
import struct
import zipfile
import zlib
from pathlib import Path

import pytest

from lpack.cli import main
from tests.factories import make_wheel
from tests.serve.test_browser import CHROMIUM, Browser

PADDING = "# " + "y" * 100 + "\n"


@pytest.fixture(scope="module")
def house(tmp_path_factory: pytest.TempPathFactory) -> Path:
    house = tmp_path_factory.mktemp("sizehouse")
    make_wheel(house, "big", "1.0", files={"big/__init__.py": PADDING * 400, "big/tests/test_big.py": PADDING * 300,
                                           "big/sub/mod.py": PADDING * 100})
    make_wheel(house, "small", "1.0", files={"small/__init__.py": "s = 1\n"})
    return house


def _project(root: Path, house: Path, upload: str = "direct") -> Path:
    root.mkdir(parents=True)
    (root / "requirements.txt").write_text(f"--no-index\n--find-links {house}\nbig==1.0\nsmall==1.0\n")
    (root / "lambda_function.py").write_text("def lambda_handler(event, context):\n    return 1\n")
    (root / "pyproject.toml").write_text(f'[tool.lpack]\nruntime = "python3.12"\nupload = "{upload}"\n')
    return root


def _data(page: str) -> dict[str, object]:
    found = re.search(r'<script type="application/json" id="lpack-size-data">(.*?)</script>', page, re.DOTALL)
    assert found is not None
    data: dict[str, object] = json.loads(found.group(1))
    return data


def _unzipped_by_top(path: Path) -> dict[str, int]:
    sizes: dict[str, int] = {}
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            if not info.is_dir():
                top = info.filename.split("/", 1)[0]
                sizes[top] = sizes.get(top, 0) + info.file_size
    return sizes


def test_the_page_carries_the_zips_data_and_needs_no_network(tmp_path: Path, house: Path) -> None:
    root = _project(tmp_path / "fn", house)
    assert main(["build", "-q", str(root), "--report", str(tmp_path / "size.html")]) == 0
    page = (tmp_path / "size.html").read_text()
    assert not re.search(r"(src|href)=\"?https?:", page) and "cdn" not in page.lower()
    (artifact,) = _data(page)["artifacts"]  # type: ignore[misc]
    tree = artifact["tree"]
    assert {c["name"]: c["size"] for c in tree["children"]} == _unzipped_by_top(root / "dist" / "fn.zip")
    assert artifact["size_zipped"] == (root / "dist" / "fn.zip").stat().st_size
    assert artifact["limit_zipped"] == 52_428_800
    big = next(c for c in tree["children"] if c["name"] == "big")
    tests = next(c for c in big["children"] if c["name"] == "tests")
    assert big["slim"] == tests["size"] == tests["slim"] > 0  # what --slim would leave out
    assert next(c for c in tree["children"] if c["name"] == "lambda_function.py")["slim"] == 0


def test_the_table_shows_no_direct_upload_limit_for_s3(tmp_path: Path, house: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    direct = _project(tmp_path / "direct", house)
    assert main(["build", str(direct)]) == 0
    out = capsys.readouterr().out
    assert "zipped / 50.0 MB" in out and re.search(r"KB +0%", out)
    s3 = _project(tmp_path / "s3", house, upload="s3")
    assert main(["build", str(s3)]) == 0
    out = capsys.readouterr().out
    assert "zipped / 50.0 MB" not in out and "(S3)" in out and "unzipped / 250.0 MB" in out


def test_check_maps_the_zips_it_is_given(tmp_path: Path, house: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _project(tmp_path / "fn", house)
    assert main(["build", "-q", str(root)]) == 0
    zip_path = root / "dist" / "fn.zip"
    main(["check", "-q", str(zip_path), "--handler", "lambda_function.lambda_handler", "--runtime", "python3.12",
          "--report", str(tmp_path / "check.html")])
    (artifact,) = _data((tmp_path / "check.html").read_text())["artifacts"]  # type: ignore[misc]
    assert artifact["name"] == "fn" and artifact["size_unzipped"] == sum(_unzipped_by_top(zip_path).values())
    capsys.readouterr()
    assert main(["check", str(root), "--report", str(tmp_path / "none.html")]) == 2
    assert capsys.readouterr().err.startswith("lpack: error: --report maps .zip packages, and no .zip file was given")
    assert not (tmp_path / "none.html").exists()


def _png_colours(png: bytes) -> set[tuple[int, ...]]:
    """The distinct pixel colours of an 8-bit RGB or RGBA PNG (what Chromium writes)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    at, idat, width, height, channels = 8, b"", 0, 0, 0
    while at < len(png):
        size, kind = struct.unpack(">I4s", png[at:at + 8])
        body = png[at + 8:at + 8 + size]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and colour in (2, 6)
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        at += 12 + size
    raw, stride, colours = zlib.decompress(idat), width * channels, set()
    previous = bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - channels] if x >= channels else 0
            b, c = previous[x], previous[x - channels] if x >= channels else 0
            p = a + b - c
            predictor = min((abs(p - a), 0, a), (abs(p - b), 1, b), (abs(p - c), 2, c))[2]
            line[x] = (line[x] + (0, a, b, (a + b) // 2, predictor)[kind]) & 0xFF
        colours.update(tuple(line[x:x + 3]) for x in range(0, stride, channels * 7))
        previous = line
    return colours


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)")
def test_chromium_draws_the_map_with_the_zips_sizes(tmp_path: Path, house: Path) -> None:
    root = _project(tmp_path / "fn", house)
    assert main(["build", "-q", str(root), "--report", str(tmp_path / "size.html")]) == 0
    browser = Browser(tmp_path / "profile")
    try:
        browser.call("Emulation.setDeviceMetricsOverride", width=1000, height=700, deviceScaleFactor=1, mobile=False)
        browser.call("Page.enable")
        browser.call("Page.navigate", url=(tmp_path / "size.html").as_uri())
        browser.wait_for_title("lpack size map: fn")
        cells = browser.evaluate("document.body.dataset.ready === '1' && JSON.stringify([...document.querySelectorAll("
                                 "'#map .cell')].map(c => [c.dataset.name, +c.dataset.size, c.offsetWidth * c.offsetHeight]))")
        assert cells is not None
        drawn = {name: size for name, size, area in json.loads(cells) if area > 0}
        assert drawn == _unzipped_by_top(root / "dist" / "fn.zip")
        png = base64.b64decode(browser.call("Page.captureScreenshot", format="png")["data"])
    finally:
        browser.close()
    assert len(_png_colours(png)) >= 4  # the packages' colours, the header, the text: not a blank page
