"""Cold builds without recompression (issue #23): the wheels' members copied into the cache entry
and the zip hold what `uv pip install --target` and compressing gave (LPACK_WHEEL_COPY=0)."""

from __future__ import annotations

import base64
import csv
import hashlib
import http.server
import importlib
import io
import os
import stat
import sys
import zipfile
import zlib
from pathlib import Path

import pytest

from lpack.bundle import wheelcopy
from lpack.bundle.installer import Installer, find_installer
from lpack.cli import main
from lpack.core.targets import make_target
from tests.factories import make_native_wheel, make_wheel
from tests.factories.index import make_simple_index, serve

HANDLER = ("def lambda_handler(event, context):\n"
           "    import alpha, beta, gamma, stored\n"
           "    return {'alpha': alpha.x, 'beta': beta.b, 'gamma': gamma.__version__, 'stored': stored.s}\n")
EXPECTED = {"alpha": 1, "beta": 2, "gamma": "2.0", "stored": "s"}


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def hand_made_wheel(house: Path, name: str, files: dict[str, tuple[bytes, int, int]],
                    hashed: bool = True) -> Path:
    """A wheel written member by member: ``files`` maps a path to (data, compression, mode);
    ``hashed=False`` leaves the files' hashes out of RECORD (some tools do)."""
    dist_info = f"{name}-1.0.dist-info"
    meta = {f"{dist_info}/METADATA": (f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n\n".encode(), zipfile.ZIP_DEFLATED, 0o644),
            f"{dist_info}/WHEEL": (b"Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\nTag: py3-none-any\n\n",
                                   zipfile.ZIP_STORED, 0o644)}
    entries = {**files, **meta}
    record = io.StringIO()
    writer = csv.writer(record, lineterminator="\n")
    for path, (data, _method, _mode) in entries.items():
        writer.writerow([path, _record_hash(data) if hashed else "", len(data) if hashed else ""])
    writer.writerow([f"{dist_info}/RECORD", "", ""])
    entries[f"{dist_info}/RECORD"] = (record.getvalue().encode(), zipfile.ZIP_DEFLATED, 0o644)
    out = house / f"{name}-1.0-py3-none-any.whl"
    with zipfile.ZipFile(out, "w") as zf:
        for path, (data, method, mode) in entries.items():
            info = zipfile.ZipInfo(path, date_time=(1980, 1, 1, 0, 0, 0))
            info.create_system, info.external_attr, info.compress_type = 3, (0o100000 | mode) << 16, method
            zf.writestr(info, data, compresslevel=1)
    return out


@pytest.fixture(scope="module")
def house(tmp_path_factory: pytest.TempPathFactory) -> Path:
    house = tmp_path_factory.mktemp("copyhouse")
    make_wheel(house, "alpha", "1.0", requires=["gamma"], console_scripts={"alpha-cli": "alpha:main"},
               files={"alpha/__init__.py": "x = 1\n", "alpha-1.0.data/purelib/beta.py": "b = 2\n",
                      "alpha-1.0.data/scripts/tool": "#!python\nprint(1)\n",
                      "alpha/__pycache__/__init__.cpython-312.pyc": b"\0\0"})
    make_wheel(house, "gamma", "2.0", tag="py3-none-any")
    make_wheel(house, "gamma", "2.0", tag="cp312-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64")
    for machine in ("x86_64", "aarch64"):
        make_native_wheel(house, "fastlib", "1.0", python="cp312", machine=machine)
    text = b"s = 's'\n" + b"# padding padding padding\n" * 40
    hand_made_wheel(house, "stored", {
        "stored/__init__.py": (text, zipfile.ZIP_STORED, 0o644),
        "stored/run.sh": (b"#!/bin/sh\necho hi\n", zipfile.ZIP_DEFLATED, 0o755),
        "stored/empty.txt": (b"", zipfile.ZIP_DEFLATED, 0o644),
        "stored/level1.txt": (b"level one " * 200, zipfile.ZIP_DEFLATED, 0o644),
        "stored-1.0.data/platlib/stored_plat.py": (b"p = 1\n", zipfile.ZIP_DEFLATED, 0o644),
    }, hashed=False)
    hand_made_wheel(house, "other", {  # another compression: uv installs it, as before
        "other/__init__.py": (b"o = 1\n" * 50, zipfile.ZIP_BZIP2, 0o644),
    })
    hand_made_wheel(house, "withdata", {  # .data/data: uv installs it, as before
        "withdata/__init__.py": (b"w = 1\n", zipfile.ZIP_DEFLATED, 0o644),
        "withdata-1.0.data/data/share/withdata.txt": (b"shared\n", zipfile.ZIP_DEFLATED, 0o644),
    })
    return house


REQUIREMENTS = ["alpha==1.0", "fastlib==1.0", "stored==1.0", "withdata==1.0"]


def project(root: Path, requirements: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "lambda_function.py").write_text(HANDLER)
    (root / "requirements.txt").write_text(requirements)
    return root


def local(house: Path, *lines: str) -> str:
    return "\n".join(["--no-index", f"--find-links {house}", *lines]) + "\n"


def build_zip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, requirements: str, *, copy: bool, name: str,
              arch: str = "x86_64") -> Path:
    """Build into a new, empty dependency cache; the built zip."""
    monkeypatch.setenv("LPACK_WHEEL_COPY", "1" if copy else "0")
    monkeypatch.setenv("LPACK_CACHE_DIR", str(tmp_path / f"cache-{name}"))
    root = project(tmp_path / name, requirements)
    assert main(["build", "-q", str(root), "--runtime", "python3.12", "--arch", arch]) == 0
    return root / "dist" / f"{name}.zip"


def copied(built: Path, house: Path) -> bool:
    """Whether the zip holds the stored wheel's level-1 deflated member as the wheel has it."""
    with zipfile.ZipFile(house / "stored-1.0-py3-none-any.whl") as wheel, zipfile.ZipFile(built) as zf:
        return zf.getinfo("stored/level1.txt").compress_size == wheel.getinfo("stored/level1.txt").compress_size


def contents(path: Path) -> dict[str, tuple[bytes, int]]:
    """Every entry's uncompressed bytes and mode."""
    with zipfile.ZipFile(path) as zf:
        return {info.filename: (zf.read(info), stat.S_IMODE(info.external_attr >> 16)) for info in zf.infolist()}


def zip_of(path: Path) -> str:
    return path.name.removesuffix(".zip")


@pytest.mark.parametrize("arch", ["x86_64", "arm64"])
def test_copied_install_holds_what_uv_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, house: Path,
                                                arch: str) -> None:
    reqs = local(house, *REQUIREMENTS)
    old_zip = build_zip(tmp_path, monkeypatch, reqs, copy=False, name="old", arch=arch)
    new_zip = build_zip(tmp_path, monkeypatch, reqs, copy=True, name="new", arch=arch)
    assert copied(new_zip, house) and not copied(old_zip, house)
    old, new = contents(old_zip), contents(new_zip)
    assert sorted(new) == sorted(old)
    assert new == old
    assert "beta.py" in new and "stored_plat.py" in new  # .data/purelib and platlib moved to the root
    assert not [n for n in new if n.startswith("bin/") or "__pycache__" in n]  # scripts, wrappers, caches
    assert new["stored/run.sh"][1] == 0o755 and new["stored/empty.txt"] == (b"", 0o644)
    assert new["alpha-1.0.dist-info/INSTALLER"][0] == b"uv"
    machine = "x86_64" if arch == "x86_64" else "aarch64"
    assert f"fastlib/_native.cpython-312-{machine}-linux-gnu.so" in new
    if arch == "x86_64":  # the abi3 manylinux wheel, preferred to the pure one
        assert "manylinux" in new["gamma-2.0.dist-info/WHEEL"][0].decode()


def test_a_wheel_named_by_its_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, house: Path) -> None:
    """A requirement that is a wheel file (as a local project's, built for the build, is named)."""
    reqs = local(house, str(house / "stored-1.0-py3-none-any.whl"), "alpha==1.0")
    old_zip = build_zip(tmp_path, monkeypatch, reqs, copy=False, name="old")
    new_zip = build_zip(tmp_path, monkeypatch, reqs, copy=True, name="new")
    assert copied(new_zip, house)
    assert contents(new_zip) == contents(old_zip)


def test_copies_the_wheels_compressed_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, house: Path) -> None:
    """The member deflated at level 1 in the wheel is in the zip as the wheel has it, not recompressed."""
    built = build_zip(tmp_path, monkeypatch, local(house, "stored==1.0"), copy=True, name="fn")
    with zipfile.ZipFile(house / "stored-1.0-py3-none-any.whl") as wheel, zipfile.ZipFile(built) as zf:
        for name in ("stored/level1.txt", "stored/__init__.py"):
            assert zf.getinfo(name).compress_size == wheel.getinfo(name).compress_size
            assert zf.getinfo(name).compress_type == wheel.getinfo(name).compress_type
        data = b"level one " * 200
        packer = zlib.compressobj(6, zlib.DEFLATED, -15)
        assert zf.getinfo("stored/level1.txt").compress_size != len(packer.compress(data) + packer.flush())


def test_record_lists_what_ships(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, house: Path) -> None:
    built = contents(build_zip(tmp_path, monkeypatch, local(house, "alpha==1.0"), copy=True, name="fn"))
    rows = list(csv.reader(io.StringIO(built["alpha-1.0.dist-info/RECORD"][0].decode())))
    listed = {row[0]: row[1] for row in rows}
    assert set(listed) == {n for n in built if n.startswith(("alpha", "beta")) and not n.endswith("/")}
    for name, digest in listed.items():
        if digest:
            assert digest == _record_hash(built[name][0])
    assert listed["alpha-1.0.dist-info/RECORD"] == ""


def test_two_cold_builds_give_the_same_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, house: Path) -> None:
    reqs = local(house, *REQUIREMENTS)
    first = build_zip(tmp_path / "a", monkeypatch, reqs, copy=True, name="fn")
    second = build_zip(tmp_path / "b", monkeypatch, reqs, copy=True, name="fn")
    assert first.read_bytes() == second.read_bytes()


def test_the_handler_runs_from_the_zip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, house: Path) -> None:
    built = build_zip(tmp_path, monkeypatch, local(house, "alpha==1.0", "stored==1.0"), copy=True, name="fn")
    sys.path.insert(0, str(built))
    try:
        module = importlib.import_module("lambda_function")
        assert module.lambda_handler({}, None) == EXPECTED
        assert module.__file__ is not None and str(built) in module.__file__
    finally:
        sys.path.remove(str(built))
        for name in ("lambda_function", "alpha", "beta", "gamma", "stored"):
            sys.modules.pop(name, None)


def hashed(house: Path, *names: str, wrong: str = "") -> str:
    lines = []
    for wheel in sorted(house.glob("*.whl")):
        project = wheel.name.split("-")[0]
        if project in names:
            digest = "0" * 64 if project == wrong else hashlib.sha256(wheel.read_bytes()).hexdigest()
            lines.append((project, f"--hash=sha256:{digest}"))
    pins = {p: [h for q, h in lines if q == p] for p, _ in lines}
    return local(house, *[f"{p}=={'2.0' if p == 'gamma' else '1.0'} " + " ".join(hs) for p, hs in pins.items()])


def test_a_hashed_lock_installs_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, house: Path) -> None:
    reqs = hashed(house, "alpha", "gamma", "stored")
    old = contents(build_zip(tmp_path, monkeypatch, reqs, copy=False, name="old"))
    new = contents(build_zip(tmp_path, monkeypatch, reqs, copy=True, name="new"))
    assert new == old


def test_a_hash_mismatch_still_refuses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, house: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("LPACK_WHEEL_COPY", "1")
    root = project(tmp_path / "fn", hashed(house, "alpha", "gamma", "stored", wrong="stored"))
    assert main(["build", "-q", str(root), "--runtime", "python3.12"]) == 2
    assert "hash mismatch for stored" in capsys.readouterr().err
    assert not (root / "dist" / "fn.zip").exists()


def test_from_a_simple_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, house: Path) -> None:
    index = make_simple_index(house, tmp_path / "index")
    with serve(index) as url:
        reqs = "\n".join([f"--index-url {url}/simple", *REQUIREMENTS]) + "\n"
        old = contents(build_zip(tmp_path, monkeypatch, reqs, copy=False, name="old"))
        new = contents(build_zip(tmp_path, monkeypatch, reqs, copy=True, name="new"))
    assert new == old
    assert list((tmp_path / "cache-new" / "wheels").glob("*/*/*.whl"))  # downloaded once, kept by sha256


def test_cache_prune_removes_downloaded_wheels(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, house: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    import os

    index = make_simple_index(house, tmp_path / "index")
    with serve(index) as url:
        build_zip(tmp_path, monkeypatch, f"--index-url {url}/simple\nstored==1.0\n", copy=True, name="fn")
    cache = tmp_path / "cache-fn"
    [wheel] = cache.glob("wheels/*/*/*.whl")
    for path in [wheel, *cache.glob("deps/*/*/*")]:
        os.utime(path, (1_000_000, 1_000_000))
    capsys.readouterr()
    assert main(["cache", "prune", "--older-than", "1d", "--cache-dir", str(cache)]) == 0
    last = capsys.readouterr().out.splitlines()[-1]
    assert last.startswith("removed 1 dependency set, ") and " and 1 downloaded wheel, " in last
    assert not wheel.exists() and not wheel.parent.exists()


def test_unresolvable_sets_install_as_before(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, house: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """uv's own messages, as before: the set goes the old way when it cannot be resolved."""
    monkeypatch.setenv("LPACK_WHEEL_COPY", "1")
    root = project(tmp_path / "fn", local(house, "nosuchthing==1.0"))
    assert main(["build", "-q", str(root), "--runtime", "python3.12"]) == 2
    assert "nosuchthing: not found in the --find-links folders" in capsys.readouterr().err


def test_the_switch_keys_the_cache_apart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, house: Path) -> None:
    monkeypatch.setenv("LPACK_CACHE_DIR", str(tmp_path / "cache"))
    keys = []
    for value in ("1", "0"):
        root = project(tmp_path / f"fn{value}", local(house, "alpha==1.0"))
        monkeypatch.setenv("LPACK_WHEEL_COPY", value)
        assert main(["build", "-q", str(root), "--runtime", "python3.12"]) == 0
        keys.append({p.name for p in (tmp_path / "cache" / "deps").glob("*/*")})
    assert len(keys[0]) == 1 and len(keys[1]) == 2


def test_wheel_members_refuses_what_it_cannot_copy(house: Path) -> None:
    assert wheelcopy.wheel_members(house / "other-1.0-py3-none-any.whl") is None
    assert wheelcopy.wheel_members(house / "withdata-1.0-py3-none-any.whl") is None
    members = wheelcopy.wheel_members(house / "alpha-1.0-py3-none-any.whl")
    assert members is not None and "beta.py" in {m.name for m in members}


class _Guarded(http.server.SimpleHTTPRequestHandler):
    """A simple index that wants Basic credentials for every page and file."""

    expected = "Basic " + base64.b64encode(b"ci:s3cret-token").decode()

    def do_GET(self) -> None:
        if self.headers.get("Authorization") != self.expected:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="index"')
            self.end_headers()
            return
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_an_index_that_wants_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, house: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """Its wheels are installed as before (lpack does not send the credentials itself), never echoed."""
    import functools
    import threading

    index = make_simple_index(house, tmp_path / "index")
    handler = functools.partial(_Guarded, directory=str(index))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://ci:s3cret-token@127.0.0.1:{server.server_address[1]}/simple"
        reqs = "\n".join([f"--index-url {url}", "alpha==1.0", "stored==1.0"]) + "\n"
        old = contents(build_zip(tmp_path, monkeypatch, reqs, copy=False, name="old"))
        new = contents(build_zip(tmp_path, monkeypatch, reqs, copy=True, name="new"))
    finally:
        server.shutdown()
        server.server_close()
    assert new == old and "stored/level1.txt" in new
    out, err = capsys.readouterr()
    assert "s3cret" not in out + err
    assert not list((tmp_path / "cache-new").glob("wheels/*/*/*.whl"))


def test_a_stale_guess_gives_way_to_the_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The wheels fetched early (uv's cached pages, --offline) are only a guess: when the index has
    published since, the zip holds what the index's answer chose, as `uv pip install` would."""
    wheels = tmp_path / "wheels"
    make_wheel(wheels, "gamma", "2.0")
    index = make_simple_index(wheels, tmp_path / "index")
    with serve(index, {"Cache-Control": "max-age=0, must-revalidate"}) as url:  # uv asks the index every time
        reqs = f"--index-url {url}/simple\ngamma\n"
        first = contents(build_zip(tmp_path, monkeypatch, reqs, copy=True, name="first"))
        make_wheel(wheels, "gamma", "3.0")
        make_simple_index(wheels, index)
        target, root = make_target("python3.12", "x86_64", where="test"), tmp_path / "first"
        guess = wheelcopy._guess(find_installer("uv"), target, ["-r", str(root / "requirements.txt")], root,
                                 wheelcopy._ranks(target))
        second = contents(build_zip(tmp_path, monkeypatch, reqs, copy=True, name="second"))
        third = contents(build_zip(tmp_path, monkeypatch, reqs, copy=False, name="third"))
    assert [wheel.url.rsplit("/", 1)[-1] for wheel in guess] == ["gamma-2.0-py3-none-any.whl"]  # stale, as meant
    assert first["gamma/__init__.py"][0] == b'__version__ = "2.0"\n'
    assert second["gamma/__init__.py"][0] == b'__version__ = "3.0"\n'
    assert "gamma-3.0.dist-info/RECORD" in second and "gamma-2.0.dist-info/RECORD" not in second
    assert second == third  # what installing with uv gives


def _logging_uv(tmp_path: Path) -> tuple[Installer, Path]:
    """The real uv, behind a script that notes each command line."""
    real = find_installer("uv")
    log, script = tmp_path / "uv-calls.txt", tmp_path / "uv-logged"
    script.write_text(f'#!/bin/sh\necho "$*" >> {log}\nexec {" ".join(real.command)} "$@"\n')
    script.chmod(0o755)
    return real._replace(command=(str(script),)), log


def _logging_uv_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`_logging_uv` as the `uv` a build finds on PATH, with a cache of its own; its log."""
    installer, log = _logging_uv(tmp_path)
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "uv").symlink_to(installer.command[0])
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))
    return log


def test_a_set_from_local_wheels_only_is_resolved_once_and_one_from_an_index_twice(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The early guess (uv's cached pages, --offline) only helps while uv waits for a server: with
    the index off and only local --find-links it would be the same resolution again, a second uv
    process for nothing. From an index, both run, and the zip is the same either way."""
    from lpack.inputs.requirements_file import read_requirements

    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))
    installer, log = _logging_uv(tmp_path)
    target = make_target("python3.12", "x86_64", where="test")
    house = tmp_path / "house"
    make_wheel(house, "gamma", "2.0")
    index = make_simple_index(house, tmp_path / "index")
    found = {}
    with serve(index, {}) as url:
        for name, lines in (("local", f"--no-index\n--find-links {house}\ngamma==2.0\n"),
                            ("index", f"--index-url {url}/simple\ngamma==2.0\n")):
            folder = tmp_path / f"set-{name}"
            folder.mkdir()
            (folder / "requirements.txt").write_text(lines)
            reqs = read_requirements(folder / "requirements.txt")
            log.write_text("")
            wheels, read = wheelcopy._resolve_and_fetch(installer, target, ["-r", str(folder / "requirements.txt")],
                                                        reqs, folder, tmp_path / "store")
            compiles = [line for line in log.read_text().splitlines() if line.startswith("pip compile")]
            found[name] = ([w.name for w in wheels], [(r.path.read_bytes(), [m.name for m in r.members or ()]) for r in read],
                           sorted("--offline" in line.split() for line in compiles))
    assert found["local"][:2] == found["index"][:2] and found["local"][0] == ["gamma"]
    assert found["local"][2] == [False]  # one uv process: the resolution itself
    assert found["index"][2] == [False, True]  # the resolution, and the guess beside it


@pytest.mark.parametrize(("lines", "environment", "asks"), [
    ("--no-index\n--find-links ./wheels\nx==1\n", {}, False),
    ("--no-index\n--find-links=file:///srv/wheels\nx==1\n", {}, False),
    ("--find-links ./wheels\nx==1\n", {}, True),  # the index is on
    ("--no-index\n--find-links https://example.org/wheels/\nx==1\n", {}, True),  # a server's page
    ("--find-links ./wheels\nx==1\n", {"PIP_NO_INDEX": "1"}, False),  # off in pip's settings
    ("--find-links ./wheels\nx==1\n", {"UV_NO_INDEX": "true"}, False),
    ("--no-index\nx==1\n", {"UV_FIND_LINKS": "./a,https://example.org/w/"}, True),
])
def test_whether_resolving_a_set_may_wait_for_a_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lines: str,
                                                       environment: dict[str, str], asks: bool) -> None:
    from lpack.inputs.requirements_file import read_requirements

    (tmp_path / "wheels").mkdir()
    (tmp_path / "requirements.txt").write_text(lines)
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    for name in ("PIP_NO_INDEX", "PIP_FIND_LINKS", "UV_NO_INDEX", "UV_FIND_LINKS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert wheelcopy._asks_a_server(read_requirements(tmp_path / "requirements.txt")) is asks


def _lines_within(log: Path, start: str, count: int, seconds: float) -> list[str]:
    """The lines of ``log`` that begin with ``start``, once there are ``count`` of them (a process
    started notes itself a moment later) or ``seconds`` have passed."""
    import time

    deadline = time.monotonic() + seconds
    while True:
        lines = [line for line in log.read_text().splitlines() if line.startswith(start)]
        if len(lines) >= count or time.monotonic() > deadline:
            return lines
        time.sleep(0.01)


def test_a_cold_build_asks_uv_to_resolve_before_it_starts_on_the_unit_and_a_warm_one_not_at_all(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """uv's resolution (the index's answer: most of a cold one-function build) starts as soon as
    the build knows its set is not cached, and runs while lpack starts up, checks and walks the
    source; the install takes its answer (no second resolution). A rebuild, its set cached,
    starts no uv at all. The zip is the one uv's own install gives."""
    from lpack.bundle.builder import BuildOptions, build_project
    from lpack.inputs.detect import load

    log = _logging_uv_on_path(tmp_path, monkeypatch)
    house = tmp_path / "house"
    make_wheel(house, "gamma", "2.0")
    index = make_simple_index(house, tmp_path / "index")
    runs = {}
    with serve(index, {}) as url:
        reqs = f"--index-url {url}/simple\ngamma==2.0\n"
        root = project(tmp_path / "early", reqs)
        for name in ("cold", "warm"):
            log.write_text("")
            seen: list[str] = []  # the uv commands started by the time the unit's first step is heard

            def progress(_unit: str, _message: str, seen: list[str] = seen, wait: float = 10 * (name == "cold")) -> None:
                if not seen:  # the build waits here: a uv started now was started before
                    seen += _lines_within(log, "pip compile", 2, seconds=wait) or ["(none)"]

            result = build_project(load(root, None)[0], BuildOptions(cache_dir=tmp_path / "cache", runtime="python3.12",
                                                                     architecture="x86_64"), progress)
            assert not result.failures
            runs[name] = (contents(root / "dist" / "early.zip"), seen, log.read_text().splitlines())
        installed = contents(build_zip(tmp_path, monkeypatch, reqs, copy=False, name="installed"))
    compiles = [line for line in runs["cold"][2] if line.startswith("pip compile")]
    assert sorted("--offline" in line.split() for line in compiles) == [False, True]  # once each
    assert [line for line in runs["cold"][1] if line.startswith("pip compile")] == compiles  # before the unit's first step
    assert [line for line in runs["warm"][2] if line.startswith("pip ")] == []
    assert runs["cold"][0] == runs["warm"][0] == installed and "gamma/__init__.py" in installed


def _locked_project(root: Path, url: str) -> Path:
    """An app (no build backend, as `uv init --app` writes it) needing alpha (which needs beta),
    locked by the real `uv lock` against the index at ``url``."""
    import subprocess

    root.mkdir(parents=True)
    (root / "lambda_function.py").write_text("def lambda_handler(event, context):\n    return 1\n")
    (root / "pyproject.toml").write_text('[project]\nname = "app"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n'
                                         'dependencies = ["alpha"]\n')
    uv = find_installer("uv").command
    done = subprocess.run([*uv, "lock", "--no-progress", "--default-index", f"{url}/simple"], cwd=root,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return root


def test_a_locked_set_is_installed_from_the_locks_own_files_without_asking_the_index(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """uv.lock names each wheel's URL and hash: the lock is the resolution, so a cold build runs
    no `uv pip compile` (most of its time) and fetches those files. The index publishing newer
    versions since the lock (which a resolution of the unpinned `alpha` would take) changes
    nothing, and the zip is what installing the lock with uv gives (LPACK_WHEEL_COPY=0)."""
    log = _logging_uv_on_path(tmp_path, monkeypatch)
    wheels = tmp_path / "wheels"
    make_wheel(wheels, "alpha", "1.0", requires=["beta"])
    make_wheel(wheels, "beta", "1.0")
    index = make_simple_index(wheels, tmp_path / "index")
    built, uv_runs = {}, {}
    with serve(index, {"Cache-Control": "max-age=0, must-revalidate"}) as url:
        root = _locked_project(tmp_path / "app", url)
        make_wheel(wheels, "alpha", "2.0", requires=["beta"])
        make_wheel(wheels, "beta", "2.0")
        make_simple_index(wheels, index)  # published since the lock
        for copy in ("1", "0"):
            monkeypatch.setenv("LPACK_WHEEL_COPY", copy)
            monkeypatch.setenv("LPACK_CACHE_DIR", str(tmp_path / f"cache-{copy}"))
            log.write_text("")
            assert main(["build", "-q", str(root), "--runtime", "python3.12", "--arch", "arm64"]) == 0
            built[copy] = contents(root / "dist" / "app.zip")
            uv_runs[copy] = [line.split()[:2] for line in log.read_text().splitlines() if line.startswith("pip ")]
    assert uv_runs == {"1": [], "0": [["pip", "install"]]}
    assert {name.split("/")[0] for name in built["1"] if ".dist-info/" in name} == {"alpha-1.0.dist-info",
                                                                                    "beta-1.0.dist-info"}
    assert built["1"] == built["0"]


def test_a_locked_set_falls_back_to_uv_when_the_lock_lists_no_wheel_for_a_pin(tmp_path: Path) -> None:
    """A pin the lock has only an sdist (or no file URL) for is not guessed: uv resolves the set."""
    from lpack.inputs.requirements_file import read_requirements

    wheels = tmp_path / "wheels"
    made = make_wheel(wheels, "alpha", "1.0")
    digest = hashlib.sha256(made.read_bytes()).hexdigest()
    lock = tmp_path / "uv.lock"
    lock.write_text(f'version = 1\n\n[[package]]\nname = "alpha"\nversion = "1.0"\n'
                    f'wheels = [{{ url = "https://example.org/alpha-1.0-py3-none-any.whl", hash = "sha256:{digest}" }}]\n'
                    f'\n[[package]]\nname = "beta"\nversion = "1.0"\n'
                    f'sdist = {{ url = "https://example.org/beta-1.0.tar.gz", hash = "sha256:{"b" * 64}" }}\n')
    (tmp_path / "reqs.txt").write_text(f"alpha==1.0 --hash=sha256:{digest}\nbeta==1.0 --hash=sha256:{'b' * 64}\n")
    reqs = read_requirements(tmp_path / "reqs.txt")
    reqs.no_deps, reqs.origin = True, lock
    ranks = wheelcopy._ranks(make_target("python3.12", "x86_64", where="test"))
    assert wheelcopy._locked_wheels(reqs, ranks) is None
    (tmp_path / "reqs.txt").write_text(f"alpha==1.0 --hash=sha256:{digest}\n")
    reqs = read_requirements(tmp_path / "reqs.txt")
    reqs.no_deps, reqs.origin = True, lock
    assert wheelcopy._locked_wheels(reqs, ranks) == [
        wheelcopy.Wheel("alpha", "https://example.org/alpha-1.0-py3-none-any.whl", digest)]


@pytest.mark.parametrize("where", ["url", "path"])
def test_a_pylock_names_its_wheels_too(tmp_path: Path, where: str) -> None:
    """pylock.toml (PEP 751) lists each wheel by URL or by a path relative to the lock."""
    from lpack.inputs.requirements_file import read_requirements

    made = make_wheel(tmp_path / "wheels", "alpha", "1.0")
    digest = hashlib.sha256(made.read_bytes()).hexdigest()
    place = 'url = "https://example.org/alpha-1.0-py3-none-any.whl"' if where == "url" else \
        'path = "wheels/alpha-1.0-py3-none-any.whl"'
    lock = tmp_path / "pylock.toml"
    lock.write_text(f'lock-version = "1.0"\ncreated-by = "test"\n\n[[packages]]\nname = "alpha"\nversion = "1.0"\n'
                    f'wheels = [{{ {place}, hashes = {{ sha256 = "{digest}" }} }}]\n')
    (tmp_path / "reqs.txt").write_text(f"alpha==1.0 --hash=sha256:{digest}\n")
    reqs = read_requirements(tmp_path / "reqs.txt")
    reqs.no_deps, reqs.origin = True, lock
    ranks = wheelcopy._ranks(make_target("python3.12", "arm64", where="test"))
    url = "https://example.org/alpha-1.0-py3-none-any.whl" if where == "url" else made.resolve().as_uri()
    assert wheelcopy._locked_wheels(reqs, ranks) == [wheelcopy.Wheel("alpha", url, digest)]


@pytest.mark.parametrize("style", ["inline", "tables"])
def test_a_uv_locks_files_are_read_however_the_toml_spells_them(tmp_path: Path, style: str) -> None:
    """uv writes each file as an inline table, read without a TOML parse; the same lock spelled
    with [[package.wheels]] tables (as a hand or another tool may write it) gives the same files."""
    wheel = ('{ url = "https://example.org/alpha-1.0-py3-none-any.whl", hash = "sha256:' + "A" * 64 + '", size = 3 }')
    sdist = '{ url = "https://example.org/alpha-1.0.tar.gz", hash = "sha256:' + "b" * 64 + '" }'
    lock = tmp_path / "uv.lock"
    if style == "inline":
        lock.write_text(f'version = 1\n\n[[package]]\nname = "alpha"\nversion = "1.0"\nsdist = {sdist}\n'
                        f'wheels = [\n    {wheel},\n]\n')
    else:
        lock.write_text('version = 1\n\n[[package]]\nname = "alpha"\nversion = "1.0"\n\n[[package.wheels]]\n'
                        'url = "https://example.org/alpha-1.0-py3-none-any.whl"\nhash = "sha256:' + "A" * 64 + '"\n')
    files = wheelcopy._lock_files(lock)
    assert files["a" * 64] == "https://example.org/alpha-1.0-py3-none-any.whl"
    assert set(files) <= {"a" * 64, "b" * 64}
