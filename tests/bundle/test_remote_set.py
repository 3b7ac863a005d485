"""One archive per build in the remote cache (lpack.bundle.artifacts, ``builds/v2/SETKEY.tar.zst``),
against a real S3 server (moto's, as tests/bundle/test_remote.py starts it): a cold machine
whose build another machine finished downloads every package in one request, and gets what
the per-package path gives, byte for byte and word for word; any other set of units, or an
archive that is not whole, falls back to each package's own object."""

from __future__ import annotations

import io
import json
import shutil
import tarfile
from pathlib import Path
from typing import Any

import pytest
import zstandard

from lpack.bundle.artifacts import SET_FORMAT, SetMember, set_key
from lpack.cli import main
from tests.bundle.test_jobs import _zips
from tests.bundle.test_remote import aws, bucket, objects, remote, s3, s3_server  # noqa: F401  (fixtures)
from tests.bundle.test_workers import FUNCTIONS, _project, fn, wheels  # noqa: F401  (a fixture)

UNITS = FUNCTIONS + 1  # and the layer


def lpack_build(root: Path, cache: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[dict[str, Any], str]:
    code = main(["build", str(root), "--cache-dir", str(cache), "--format", "json", *args])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out), err


def machine(tmp_path: Path, name: str, wheels: Path, endpoint: str, bucket: str, capsys: pytest.CaptureFixture[str],  # noqa: F811
            *args: str, project: Path | None = None) -> tuple[Path, dict[str, Any], str]:
    """A fresh checkout (a copy of ``project``, else a new one) and an empty cache, built with the remote."""
    root = tmp_path / name / "proj"
    if project is None:
        _project(root, wheels)
    else:
        shutil.copytree(project, root, ignore=shutil.ignore_patterns("dist"))
    report, err = lpack_build(root, tmp_path / name / "cache", capsys, *remote(endpoint, bucket), *args)
    return root, report, err


BUILDS = f"team/lpack/builds/v{SET_FORMAT}/"


def archives(endpoint: str, bucket: str) -> list[str]:  # noqa: F811
    return [k for k in objects(endpoint, bucket) if k.startswith(BUILDS) and k.endswith(".tar.zst")]


def set_name(archive: str) -> str:
    """The set key an archive's object name carries."""
    return archive.split("/")[-1].removesuffix(".tar.zst")


def tar_of(data: bytes) -> bytes:
    """An archive's tar, decompressed."""
    return zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data), read_across_frames=True).read()


def compressed(tar: bytes) -> bytes:
    return zstandard.ZstdCompressor().compress(tar)


def pointers(endpoint: str, bucket: str) -> dict[str, Any]:  # noqa: F811
    """The pointers to the last archive of each set of units, by object name: what each says."""
    return {k: json.loads(s3(endpoint).get_object(Bucket=bucket, Key=k)["Body"].read())
            for k in objects(endpoint, bucket) if k.startswith(f"{BUILDS}latest/")}


def delete(endpoint: str, bucket: str, keys: list[str]) -> None:  # noqa: F811
    for key in keys:
        s3(endpoint).delete_object(Bucket=bucket, Key=key)


def origins(report: dict[str, Any]) -> list[str | None]:
    return [a.get("artifact") for a in report["artifacts"]]


def portable(value: Any, root: Path) -> Any:
    """A report or manifest with this checkout's folder written ROOT and the timings left out."""
    if isinstance(value, dict):
        return {k: portable(v, root) for k, v in value.items() if k != "seconds"}
    if isinstance(value, list):
        return [portable(v, root) for v in value]
    return value.replace(str(root), "ROOT") if isinstance(value, str) else value


def manifest(root: Path) -> Any:
    return portable(json.loads((root / "dist" / "lpack-manifest.json").read_text()), root)


@pytest.mark.parametrize("jobs", ["1", "2"])  # threads, worker processes
def test_a_cold_machine_gets_the_whole_build_from_one_archive_as_each_package_would_give_it(
    tmp_path: Path, wheels: Path, s3_server: str, bucket: str, capsys: pytest.CaptureFixture[str], jobs: str,  # noqa: F811
) -> None:
    a, report_a, err = machine(tmp_path, "a", wheels, s3_server, bucket, capsys, "--jobs", "2")
    assert err == "" and origins(report_a) == [None] * UNITS
    [archive] = archives(s3_server, bucket)  # machine A shared its build as one archive, beside each package

    # machine C: without the archive, each package's own object (and C shares the archive again)
    delete(s3_server, bucket, [archive])
    c, report_c, err = machine(tmp_path, "c", wheels, s3_server, bucket, capsys, "--jobs", jobs, project=a)
    assert (err, origins(report_c)) == ("", ["remote"] * UNITS)
    assert archives(s3_server, bucket) == [archive]

    # machine B: the archive alone (each package's objects are gone), the same zips, report and manifest
    delete(s3_server, bucket, [k for k in objects(s3_server, bucket) if k not in (archive,)])
    b, report_b, err = machine(tmp_path, "b", wheels, s3_server, bucket, capsys, "--jobs", jobs, project=a)
    assert (err, origins(report_b)) == ("", ["remote"] * UNITS)
    assert _zips(b / "dist") == _zips(a / "dist") == _zips(c / "dist")
    assert portable(report_b, b) == portable(report_c, c)
    assert manifest(b) == manifest(c)
    assert objects(s3_server, bucket) == [archive]  # B wrote nothing back: the archive was there
    assert not list((b / "dist").glob(".*.tmp"))

    # and B's next build finds every unit unchanged (the stamps written as for any fetched zip)
    report, _err = lpack_build(b, tmp_path / "b" / "cache", capsys, *remote(s3_server, bucket), "--jobs", jobs)
    assert [a.get("current") for a in report["artifacts"]] == [True] * UNITS


def test_a_change_to_one_function_misses_the_archive_and_fetches_the_rest_one_by_one(
    tmp_path: Path, wheels: Path, s3_server: str, bucket: str, capsys: pytest.CaptureFixture[str],  # noqa: F811
) -> None:
    a, _report, _err = machine(tmp_path, "a", wheels, s3_server, bucket, capsys, "--jobs", "2")
    [archive] = archives(s3_server, bucket)
    pr = tmp_path / "pr"
    shutil.copytree(a, pr, ignore=shutil.ignore_patterns("dist"))
    (pr / fn(5) / "app.py").write_text((pr / fn(5) / "app.py").read_text() + "# changed in a pull request\n")

    b, report_b, err = machine(tmp_path, "b", wheels, s3_server, bucket, capsys, "--jobs", "2", project=pr)
    assert err == ""
    assert not list((b / "dist").glob(".*"))  # the guessed archive (A's, its pointer's) was staged, then removed
    assert origins(report_b) == ["remote" if a["name"] != fn(5) else None for a in report_b["artifacts"]]
    same = {name: data for name, data in _zips(a / "dist").items() if name != f"{fn(5)}.zip"}
    assert {name: data for name, data in _zips(b / "dist").items() if name != f"{fn(5)}.zip"} == same
    assert len(archives(s3_server, bucket)) == 2  # B's build, every package now shared, is an archive of its own
    [pointer] = pointers(s3_server, bucket).values()  # the same units: one pointer, now to B's archive
    assert f"{BUILDS}{pointer['set']}.tar.zst" in set(archives(s3_server, bucket)) - {archive}

    # the pull request's next job: its whole build from that archive, the changed function included
    c, report_c, err = machine(tmp_path, "c", wheels, s3_server, bucket, capsys, "--jobs", "2", project=pr)
    assert (err, origins(report_c)) == ("", ["remote"] * UNITS)
    assert _zips(c / "dist") == _zips(b / "dist")

    # a build of two of the functions is another set of units: their own objects, then an archive of them
    _d, report_d, err = machine(tmp_path, "d", wheels, s3_server, bucket, capsys, "-f", fn(1), "-f", fn(2), project=a)
    assert (err, origins(report_d)) == ("", ["remote", "remote"])
    assert archive in archives(s3_server, bucket) and len(archives(s3_server, bucket)) == 3


@pytest.mark.parametrize("damage", ["a flipped byte in a zip", "a flipped byte in the compressed stream", "cut short",
                                    "not an archive", "an uncompressed tar", "a link among the zips",
                                    "a second frame after it"])
def test_an_archive_that_is_not_whole_is_one_warning_and_each_package_is_fetched(
    tmp_path: Path, wheels: Path, s3_server: str, bucket: str, capsys: pytest.CaptureFixture[str], damage: str,  # noqa: F811
) -> None:
    a, _report, _err = machine(tmp_path, "a", wheels, s3_server, bucket, capsys, "--jobs", "2")
    [archive] = archives(s3_server, bucket)
    data = s3(s3_server).get_object(Bucket=bucket, Key=archive)["Body"].read()
    tar = bytearray(tar_of(data))
    if damage == "a flipped byte in a zip":  # decompresses whole: the zip's sha256 is what catches it
        tar[len(tar) // 2] ^= 0xFF  # inside one of the zips (the index is short, at the start)
        data = compressed(bytes(tar))
    elif damage == "a flipped byte in the compressed stream":
        data = data[:len(data) // 2] + bytes([data[len(data) // 2] ^ 0xFF]) + data[len(data) // 2 + 1:]
    elif damage == "cut short":
        data = data[:len(data) * 2 // 3]
    elif damage == "an uncompressed tar":  # what SET_FORMAT 1 wrote
        data = bytes(tar)
    elif damage == "a second frame after it":
        data += compressed(b"\0" * (1 << 20))
    elif damage == "a link among the zips":  # a valid tar, but one zip's member is a link elsewhere
        out = io.BytesIO()
        with tarfile.open(fileobj=io.BytesIO(bytes(tar))) as src, \
                tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as dst:
            for i, member in enumerate(src.getmembers()):
                if i == 2:
                    member.type, member.linkname, member.size = tarfile.SYMTYPE, "/etc/passwd", 0
                    dst.addfile(member)
                else:
                    dst.addfile(member, src.extractfile(member))
        data = compressed(out.getvalue())
    else:
        data = b"not an archive\n" * 100
    s3(s3_server).put_object(Bucket=bucket, Key=archive, Body=data)

    b, report_b, err = machine(tmp_path, "b", wheels, s3_server, bucket, capsys, "--jobs", "2", project=a)
    assert err.count("lpack: warning:") == 1 and f"{archive} is not a whole archive of this build" in err, err
    assert origins(report_b) == ["remote"] * UNITS  # the remote stayed on: each package from its own object
    assert _zips(b / "dist") == _zips(a / "dist")
    assert not list((b / "dist").glob(".*.tmp"))


def test_read_only_takes_the_archive_and_never_writes_one(
    tmp_path: Path, wheels: Path, s3_server: str, bucket: str, capsys: pytest.CaptureFixture[str],  # noqa: F811
) -> None:
    a, _report, _err = machine(tmp_path, "a", wheels, s3_server, bucket, capsys, "--jobs", "2")
    [archive] = archives(s3_server, bucket)
    _b, report_b, err = machine(tmp_path, "b", wheels, s3_server, bucket, capsys, "--remote-cache-read-only",
                               project=a)
    assert (err, origins(report_b)) == ("", ["remote"] * UNITS)

    delete(s3_server, bucket, [archive])
    stored = objects(s3_server, bucket)
    _c, report_c, err = machine(tmp_path, "c", wheels, s3_server, bucket, capsys, "--remote-cache-read-only",
                               project=a)
    assert (err, origins(report_c)) == ("", ["remote"] * UNITS)
    assert objects(s3_server, bucket) == stored  # every package was there, and still no archive written


def test_the_archive_key_names_the_set_of_units_whatever_their_order(tmp_path: Path) -> None:
    one, two = SetMember("fn1", "k1", tmp_path / "fn1.zip"), SetMember("fn2", "k2", tmp_path / "fn2.zip")
    assert set_key([one, two]) == set_key([two, one])
    assert set_key([one, two]) != set_key([one]) != set_key([one._replace(key="k3")])
    assert set_key([one, two]) != set_key([one._replace(name="fn3"), two])  # a renamed function is another build


def test_the_download_process_dying_leaves_the_build_to_fetch_the_archive_itself(
    tmp_path: Path, wheels: Path, s3_server: str, bucket: str, capsys: pytest.CaptureFixture[str],  # noqa: F811
) -> None:
    """The archive is downloaded by a process of its own (lpack.bundle.artifacts.SetFetcher);
    when that process is gone before it is asked, the build downloads the archive itself."""
    from lpack.bundle import artifacts
    from lpack.bundle.remote import RemoteCache

    a, _report, _err = machine(tmp_path, "a", wheels, s3_server, bucket, capsys, "--jobs", "2")
    [archive] = archives(s3_server, bucket)
    index = json.loads(_index_of(s3_server, bucket, archive))
    by_name = {record["name"]: key for key, record in index["packages"].items()}
    b = tmp_path / "b"
    (b / "dist").mkdir(parents=True)
    members = [SetMember(name, key, b / "dist" / f"{name}.zip") for name, key in by_name.items()]
    assert artifacts.set_object(RemoteCache(f"s3://{bucket}/team/lpack"), set_key(members)) == archive

    warnings: list[str] = []
    remote_ = RemoteCache(f"s3://{bucket}/team/lpack", endpoint=s3_server, warn=warnings.append)
    with artifacts.SetFetcher.of(remote_) as fetcher:
        assert fetcher._process is not None
        fetcher._process.kill()  # as if the system had killed it
        fetcher._process.wait()
        records = fetcher.fetch(remote_, members)
    assert records is not None and set(records) == set(by_name) and warnings == []
    assert _zips(b / "dist") == _zips(a / "dist")
    assert not list((b / "dist").glob(".*.tmp"))

    # and with the process alive: the same zips, written by it, renamed here
    shutil.rmtree(b / "dist")
    (b / "dist").mkdir()
    with artifacts.SetFetcher.of(remote_) as fetcher:
        process = fetcher._process
        assert process is not None
        assert fetcher.fetch(remote_, members) == records
    assert process.poll() is not None  # it answered and ended
    assert _zips(b / "dist") == _zips(a / "dist")


def test_the_download_process_stages_the_archive_the_pointer_names_while_the_keys_are_worked_out(
    tmp_path: Path, wheels: Path, s3_server: str, bucket: str, capsys: pytest.CaptureFixture[str],  # noqa: F811
) -> None:
    """Told the build's units before their keys (SetFetcher.expect), the download process fetches
    the archive their last build shared; it is used only when the keys name that archive."""
    from lpack.bundle import artifacts
    from lpack.bundle.remote import RemoteCache

    a, report_a, _err = machine(tmp_path, "a", wheels, s3_server, bucket, capsys, "--jobs", "2")
    [archive] = archives(s3_server, bucket)
    by_name = {record["name"]: key for key, record in json.loads(_index_of(s3_server, bucket, archive))["packages"].items()}
    units = [(artifact["name"], "python3.12 x86_64") for artifact in report_a["artifacts"]]
    assert pointers(s3_server, bucket) == {
        f"{BUILDS}latest/{artifacts.latest_key(units)}.json": {"version": SET_FORMAT, "set": set_name(archive)}}
    remote_ = RemoteCache(f"s3://{bucket}/team/lpack", endpoint=s3_server)

    def fetch(folder: Path, members: list[SetMember], guess: list[tuple[str, str]]) -> tuple[bool, Any]:
        folder.mkdir(parents=True)
        with artifacts.SetFetcher.of(remote_) as fetcher:
            fetcher.expect(guess, folder)
            records = fetcher.fetch(remote_, members)
        assert not list(folder.glob(".*"))  # nothing staged is left behind
        return fetcher.guessed, records

    b = tmp_path / "b" / "dist"
    guessed, records = fetch(b, [SetMember(name, key, b / f"{name}.zip") for name, key in by_name.items()], units)
    assert guessed and records is not None and set(records) == set(by_name)
    assert _zips(b) == _zips(a / "dist")

    # the keys of fewer units name no archive: the guess is dropped, and nothing is fetched
    c = tmp_path / "c" / "dist"
    two = [SetMember(name, key, c / f"{name}.zip") for name, key in sorted(by_name.items())[:2]]
    assert fetch(c, two, units) == (False, None)
    assert not list(c.iterdir())

    # a pointer that is not one (or names no archive) is no guess: the keys' archive is fetched
    for text in (b"not json", b'{"version": 2, "set": "../../../etc/passwd"}', b'{"version": 2, "set": "' + b"0" * 64 + b'"}'):
        s3(s3_server).put_object(Bucket=bucket, Key=f"{BUILDS}latest/{artifacts.latest_key(units)}.json",
                                 Body=text)
        d = tmp_path / f"d{len(text)}" / "dist"
        guessed, records = fetch(d, [SetMember(name, key, d / f"{name}.zip") for name, key in by_name.items()], units)
        assert not guessed and records is not None and _zips(d) == _zips(a / "dist")


def test_a_download_process_not_needed_is_stopped(s3_server: str, bucket: str) -> None:  # noqa: F811
    from lpack.bundle import artifacts
    from lpack.bundle.remote import RemoteCache

    with artifacts.SetFetcher.of(RemoteCache(f"s3://{bucket}/team/lpack", endpoint=s3_server)) as fetcher:
        process = fetcher._process
        assert process is not None
    assert process.returncode is not None  # gone (and waited for), not left running


def test_a_fresh_machines_build_leaves_the_s3_client_to_the_download_process(
    tmp_path: Path, wheels: Path, s3_server: str, bucket: str, capsys: pytest.CaptureFixture[str],  # noqa: F811
) -> None:
    """botocore's import and the S3 client (~0.25 s) happen in the download process, on another
    core, while the build works out its keys: the build's own process never loads them."""
    import subprocess
    import sys

    a, _report, _err = machine(tmp_path, "a", wheels, s3_server, bucket, capsys, "--jobs", "2")
    b = tmp_path / "b" / "proj"
    shutil.copytree(a, b, ignore=shutil.ignore_patterns("dist"))
    script = ("import sys, json\nfrom lpack.cli import main\n"
              f"code = main(['build', {str(b)!r}, '--cache-dir', {str(tmp_path / 'b-cache')!r}, '-q', '--format', 'json', "
              + ", ".join(repr(x) for x in remote(s3_server, bucket)) + "])\n"
              "print(json.dumps({'code': code, 'botocore': 'botocore' in sys.modules}), file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    last = json.loads(done.stderr.strip().splitlines()[-1])
    assert last == {"code": 0, "botocore": False}, done.stderr
    assert origins(json.loads(done.stdout)) == ["remote"] * UNITS
    assert _zips(b / "dist") == _zips(a / "dist")


def _index_of(endpoint: str, bucket: str, archive: str) -> bytes:  # noqa: F811
    import io
    import tarfile

    data = tar_of(s3(endpoint).get_object(Bucket=bucket, Key=archive)["Body"].read())
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        member = tar.extractfile(tar.getmembers()[0])
        assert member is not None
        return member.read()


def test_the_download_process_started_early_is_stopped_as_soon_as_the_build_knows_it_needs_none(
    tmp_path: Path, wheels: Path, s3_server: str, bucket: str, capsys: pytest.CaptureFixture[str],  # noqa: F811
) -> None:
    """`lpack build` starts the download process before reading the project; a checkout whose
    dist/ has its zips needs no archive, and the process is stopped then, before any unit builds
    (a worker forked later would otherwise hold its pipes open)."""
    from lpack.bundle.builder import BuildOptions, build_project, start_set_fetch
    from lpack.commands.build import load_project

    a, _report, _err = machine(tmp_path, "a", wheels, s3_server, bucket, capsys, "--jobs", "2")
    options = BuildOptions(remote_cache=f"s3://{bucket}/team/lpack", remote_endpoint=s3_server,
                           cache_dir=tmp_path / "a" / "cache", jobs=2)
    fetcher = start_set_fetch(options)
    assert fetcher is not None and fetcher._process is not None
    process = fetcher._process
    seen: list[tuple[str, str]] = []

    def progress(unit: str, message: str) -> None:
        seen.append((unit, message))
        assert process.poll() is not None, f"still running while {unit} builds"

    result = build_project(load_project(a, None, None, options), options, progress, set_fetcher=fetcher)
    assert seen and [x.current for x in result.artifacts] == [True] * UNITS  # dist/ had them all: kept
    assert process.returncode is not None and fetcher._process is None


def test_a_download_process_stopped_while_it_writes_leaves_nothing_in_dist(
    tmp_path: Path, wheels: Path, s3_server: str, bucket: str, capsys: pytest.CaptureFixture[str],  # noqa: F811
) -> None:
    """Ctrl-C (or an error in the build) stops the download process wherever it is: the files it
    had staged beside dist/'s zips go with it, as a build's own temporary files do."""
    import signal

    from lpack.bundle import artifacts
    from lpack.bundle.remote import RemoteCache

    remote_ = RemoteCache(f"s3://{bucket}/team/lpack", endpoint=s3_server)
    dist = tmp_path / "b" / "dist"
    dist.mkdir(parents=True)
    fetcher = artifacts.SetFetcher.of(remote_)
    process = fetcher._process
    assert process is not None
    fetcher._folders = {dist}  # as asking for members sets it
    staged = dist / f".fn1.zip.{process.pid}.12345.tmp"  # what it was writing when stopped
    staged.write_bytes(b"half")
    other = dist / ".fn1.zip.1.12345.tmp"  # another writer's: left alone
    other.write_bytes(b"theirs")
    process.send_signal(signal.SIGINT)  # a terminal's Ctrl-C reaches it too
    fetcher.close()
    assert not staged.exists() and other.exists()


def test_an_archive_is_read_to_its_end_and_nothing_may_follow_its_padding(tmp_path: Path) -> None:
    """The download is read whole (its length, and an S3 checksum where one is checked, are
    checked at its end); what follows tar's end marker and padding is not an archive lpack wrote."""
    import hashlib

    from lpack.bundle import artifacts

    members = []
    for name in ("fn1", "fn2"):
        zip_path = tmp_path / f"{name}.zip"
        zip_path.write_bytes(name.encode() * 1000)
        data = zip_path.read_bytes()
        members.append((SetMember(name, hashlib.sha256(name.encode()).hexdigest(), zip_path),
                        {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}))
    archive = tmp_path / "set.tar.zst"
    assert artifacts._archive(archive, members)
    body = io.BytesIO(archive.read_bytes())
    stream = artifacts._TarStream(artifacts.decompressed(body))
    names = []
    while (info := stream.next()) is not None:
        names.append(info.name)
        stream.read()
    assert names == ["index.json", *(f"{m.key}.zip" for m, _r in members)]
    assert body.read() == b""  # all of it read, padding included

    padded = compressed(tar_of(archive.read_bytes()) + b"\0" * (1 << 20))
    stream = artifacts._TarStream(artifacts.decompressed(io.BytesIO(padded)))
    with pytest.raises(ValueError, match="after its end"):
        while stream.next() is not None:
            stream.read()


def test_functions_that_share_a_dependency_set_share_its_bytes_in_the_archive(tmp_path: Path) -> None:
    """Each function's zip carries its set's deflated bytes; the archive carries them about once."""
    import hashlib
    import os
    import zipfile

    from lpack.bundle import artifacts

    shared = os.urandom(3 << 20)  # a set's deflated bytes, as incompressible as they are
    members = []
    for i in range(8):
        zip_path = tmp_path / f"fn{i}.zip"
        with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_STORED) as zf:
            zf.writestr("vendor/lib.so", shared)
            zf.writestr("app.py", f"def handler(event, context):\n    return {i}\n")
        data = zip_path.read_bytes()
        members.append((SetMember(f"fn{i}", hashlib.sha256(data).hexdigest(), zip_path),
                        {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}))
    archive = tmp_path / "set.tar.zst"
    assert artifacts._archive(archive, members)
    assert archive.stat().st_size < 1.2 * len(shared)  # 8 zips of 3 MB each: about one of them
    with tarfile.open(fileobj=io.BytesIO(tar_of(archive.read_bytes()))) as tar:
        assert [m.name for m in tar.getmembers()][1:] == [f"{m.key}.zip" for m, _r in members]
        assert [tar.extractfile(f"{m.key}.zip").read() for m, _r in members] == [m.dest.read_bytes() for m, _r in members]  # type: ignore[union-attr]


def test_without_zstandard_no_archive_is_read_or_written_and_each_package_comes_from_its_own(
    tmp_path: Path, wheels: Path, s3_server: str, bucket: str, capsys: pytest.CaptureFixture[str],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """lpack with boto3 but not the s3 extra's zstandard: the remote cache works package by package."""
    import sys

    from lpack.bundle import artifacts

    a, _report, _err = machine(tmp_path, "a", wheels, s3_server, bucket, capsys, "--jobs", "2")
    [archive] = archives(s3_server, bucket)
    monkeypatch.setitem(sys.modules, "zstandard", None)  # what the import system says of a module not installed
    artifacts.archives.cache_clear()
    monkeypatch.setattr(artifacts, "archives", artifacts.archives.__wrapped__)
    delete(s3_server, bucket, [archive])
    b, report_b, err = machine(tmp_path, "b", wheels, s3_server, bucket, capsys, "--jobs", "2", project=a)
    assert (err, origins(report_b)) == ("", ["remote"] * UNITS)
    assert _zips(b / "dist") == _zips(a / "dist")
    assert archives(s3_server, bucket) == []  # none written back either
