"""lpack's own S3 GETs (lpack.bundle.s3_light): the request is botocore's, byte for byte where it
is signed (compared with botocore's real client, its clock frozen); against moto's standalone
server they read what botocore reads, a wrong key falls back to botocore's error, and the
download process of a build no longer imports botocore; every setting lpack does not model
sends the reads to botocore."""

from __future__ import annotations

import datetime
import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import textwrap
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from lpack.bundle import s3_light
from lpack.bundle.remote import RemoteCache
from tests.bundle.test_remote import (  # noqa: F401
    SECRET,
    aws,
    bucket,
    build,
    machine,
    remote,
    s3,
    s3_server,
    wheels,
    zip_digest,
)
from tests.bundle.test_remote_set import archives
from tests.bundle.test_remote_set import machine as set_machine
from tests.bundle.test_workers import wheels as set_wheels  # noqa: F401  (a fixture)
from tests.factories.s3 import moto_server

botocore = pytest.importorskip("botocore")

NOW = datetime.datetime(2026, 3, 1, 23, 59, 58, tzinfo=datetime.timezone.utc)
KEYS = [
    "team/lpack/v1/lpack-deps-0123abcd.zip",
    "with space/and+plus/tilde~/eq=/pct%20/amp&/q?/hash#",
    "a//b///c/",
    "/leading/slash",
    "dots/./x/../y",
    "unicode/é/日本語/😀",
    "reserved/*()!'$,;:@[]",
    "long/" + "k" * 1000,
]
BASE_ENV = {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}
BOTOCORE = {"AWS_RESPONSE_CHECKSUM_VALIDATION": "when_supported"}  # its default, a setting lpack leaves to botocore
TOKEN = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ+=="


class _Sent(Exception):
    """Raised from botocore's before-send: the request it would have sent, not sent."""

    def __init__(self, request: Any) -> None:
        super().__init__()
        self.request = request


def _env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **values: str) -> dict[str, str]:
    """Only these AWS settings (and no config file, no proxy) in the environment."""
    for name in list(os.environ):
        if name.startswith("AWS_") or name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)
    env = {**BASE_ENV, "AWS_CONFIG_FILE": str(tmp_path / "none"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
           **values}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


def _botocore_request(bucket_name: str, key: str, region: str, endpoint: str | None) -> Any:
    """The GetObject request botocore's client (made as lpack.bundle.remote.make_client makes
    it) signs at NOW, caught before it is sent."""
    import botocore.auth

    from lpack.bundle.remote import make_client

    client = make_client(endpoint)
    assert client.meta.region_name == region

    def stop(request: Any, **_kwargs: Any) -> None:
        raise _Sent(request)

    client.meta.events.register("before-send.s3.GetObject", stop)
    with pytest.MonkeyPatch.context() as frozen:  # the one clock S3SigV4Auth reads
        frozen.setattr(botocore.auth, "get_current_datetime", lambda *_a: NOW.replace(tzinfo=None))
        with pytest.raises(_Sent) as sent:
            client.get_object(Bucket=bucket_name, Key=key)
    return sent.value.request


@pytest.mark.parametrize("token", [None, TOKEN], ids=["keys", "session-token"])
@pytest.mark.parametrize(("region", "endpoint", "extra"), [
    ("us-east-1", None, {}),  # the legacy global address
    ("us-east-1", None, {"AWS_S3_US_EAST_1_REGIONAL_ENDPOINT": "regional"}),
    ("eu-west-1", None, {}),
    ("ap-southeast-2", None, {}),
    ("cn-north-1", None, {}),
    ("us-west-2", "http://127.0.0.1:9000", {}),
    ("eu-central-1", "https://minio.example.com:9443", {}),
    ("us-east-1", "https://S3.Example.COM/", {}),  # the default port, a capitalized host
    ("us-east-1", None, {"AWS_ENDPOINT_URL_S3": "http://localhost:4566"}),
    ("us-east-1", None, {"AWS_ENDPOINT_URL": "http://127.0.0.1:5000"}),
], ids=["us-east-1", "us-east-1-regional", "eu-west-1", "ap-southeast-2", "cn-north-1", "http-port", "https-port",
        "https-default-port", "env-endpoint-s3", "env-endpoint"])
def test_the_request_and_its_signature_are_botocores(
    region: str, endpoint: str | None, extra: dict[str, str], token: str | None,
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    tokens = {"AWS_SESSION_TOKEN": token} if token else {}
    env = _env(monkeypatch, tmp_path, AWS_DEFAULT_REGION=region, **extra, **tokens)
    target = s3_light.for_bucket("lpack-cache-1", endpoint, env)
    assert target is not None
    for key in KEYS:
        request = _botocore_request("lpack-cache-1", key, region, endpoint)
        ours = s3_light.signed_headers(target, key, NOW)
        theirs = {name.lower(): value.decode() for name, value in request.headers.items()}
        url, theirs_url = urlsplit(target.url(key)), urlsplit(request.url)
        assert (url.scheme, url.netloc, url.path) == (theirs_url.scheme, theirs_url.netloc.lower(), theirs_url.path), key
        assert ours["host"] == botocore.auth._host_from_url(request.url)
        assert ours["authorization"] == theirs["authorization"], key
        signed = theirs["authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
        assert {name: ours[name] for name in signed if name != "host"} == {name: theirs[name] for name in signed
                                                                           if name != "host"}
        assert ("x-amz-security-token" in signed) is bool(token)


def test_the_signature_is_s3sigv4auths_for_the_same_request(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The same check on botocore's signer alone, the AWSRequest built from lpack's headers."""
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    env = _env(monkeypatch, tmp_path, AWS_REGION="sa-east-1", AWS_SECURITY_TOKEN=TOKEN)
    target = s3_light.for_bucket("b-1", "http://127.0.0.1:8080", env)
    assert target is not None and target.credentials.token == TOKEN
    for key in KEYS:
        ours = s3_light.signed_headers(target, key, NOW)
        request = AWSRequest("GET", target.url(key), headers={"x-amz-checksum-mode": "ENABLED"})
        monkeypatch.setattr("botocore.auth.get_current_datetime", lambda *_a: NOW.replace(tzinfo=None))
        S3SigV4Auth(Credentials(BASE_ENV["AWS_ACCESS_KEY_ID"], BASE_ENV["AWS_SECRET_ACCESS_KEY"], TOKEN), "s3",
                    "sa-east-1").add_auth(request)
        assert ours["authorization"] == request.headers["Authorization"], key
    assert s3_light.signed_headers(target, KEYS[0], NOW.replace(second=59))["authorization"] != ours["authorization"]


# -- when botocore makes the reads ---------------------------------------------------------------

ELIGIBLE = {"AWS_DEFAULT_REGION": "us-east-1"}
NEAR_MISSES = {  # id: (environment changes, bucket, endpoint)
    "no-secret": ({"AWS_SECRET_ACCESS_KEY": ""}, "lpack-cache", None),
    "no-access-key": ({"AWS_ACCESS_KEY_ID": ""}, "lpack-cache", None),
    "no-region": ({"AWS_DEFAULT_REGION": ""}, "lpack-cache", None),
    "region-not-a-host-label": ({"AWS_REGION": "us_east_1"}, "lpack-cache", None),
    "gov-partition": ({"AWS_REGION": "us-gov-west-1"}, "lpack-cache", None),
    "iso-partition": ({"AWS_REGION": "us-iso-east-1"}, "lpack-cache", None),
    "https-proxy": ({"HTTPS_PROXY": "http://proxy:3128"}, "lpack-cache", None),
    "http-proxy-lowercase": ({"http_proxy": "http://proxy:3128"}, "lpack-cache", "http://127.0.0.1:9000"),
    "all-proxy": ({"ALL_PROXY": "socks5://proxy:1080"}, "lpack-cache", None),
    "ca-bundle-empty": ({"AWS_CA_BUNDLE": ""}, "lpack-cache", "http://127.0.0.1:9000"),
    "ca-bundle-not-a-file": ({"AWS_CA_BUNDLE": "/no/such/corp.pem"}, "lpack-cache", None),
    "requests-ca-bundle-not-a-file": ({"REQUESTS_CA_BUNDLE": "/no/such/corp.pem"}, "lpack-cache",
                                      "https://minio.example.com"),
    "fips": ({"AWS_USE_FIPS_ENDPOINT": "true"}, "lpack-cache", None),
    "dualstack": ({"AWS_USE_DUALSTACK_ENDPOINT": "TRUE"}, "lpack-cache", None),
    "profile": ({"AWS_PROFILE": "ci"}, "lpack-cache", None),
    "an-unknown-setting": ({"AWS_RESPONSE_CHECKSUM_VALIDATION": "when_required"}, "lpack-cache", None),
    "expiring-keys": ({"AWS_CREDENTIAL_EXPIRATION": "2026-01-01T00:00:00Z"}, "lpack-cache", None),
    "us-east-1-unknown-style": ({"AWS_S3_US_EAST_1_REGIONAL_ENDPOINT": "global"}, "lpack-cache", None),
    "bucket-with-dots": ({}, "lpack.cache", None),
    "bucket-like-an-ip": ({}, "192.168.1.10", None),
    "directory-bucket": ({}, "lpack--use1-az4--x-s3", "http://127.0.0.1:9000"),
    "access-point-alias": ({}, "lpack-ap-abc123-s3alias", None),
    "endpoint-with-a-path": ({}, "lpack-cache", "https://gateway.example.com/s3"),
    "endpoint-with-credentials": ({}, "lpack-cache", "https://user:pw@minio.example.com"),
    "endpoint-ipv6": ({}, "lpack-cache", "http://[::1]:9000"),
    "endpoint-not-http": ({}, "lpack-cache", "ftp://minio.example.com"),
}


@pytest.mark.parametrize(("changes", "bucket_name", "endpoint"), NEAR_MISSES.values(), ids=NEAR_MISSES.keys())
def test_what_lpack_does_not_model_goes_to_botocore(
    changes: dict[str, str], bucket_name: str, endpoint: str | None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    env = _env(monkeypatch, tmp_path, **ELIGIBLE)
    assert s3_light.for_bucket("lpack-cache", "http://127.0.0.1:9000", env) is not None
    assert s3_light.for_bucket("lpack-cache", None, env) is not None
    assert s3_light.for_bucket(bucket_name, endpoint, {**env, **changes}) is None


@pytest.mark.parametrize(("changes", "endpoint"), [
    ({"AWS_SESSION_TOKEN": ""}, None),  # an empty token is none (and hides AWS_SECURITY_TOKEN, as botocore's)
    ({"AWS_USE_FIPS_ENDPOINT": "false", "AWS_USE_DUALSTACK_ENDPOINT": "false"}, None),
    ({"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true", "AWS_ENDPOINT_URL": "https://ignored.example.com/x"}, None),
    ({"AWS_ENDPOINT_URL_DYNAMODB": "http://localhost:8000", "AWS_EC2_METADATA_DISABLED": "true"}, None),
    ({"NO_PROXY": "*", "HTTPS_PROXY": ""}, None),
    ({}, "http://127.0.0.1:9000/"),
    ({"AWS_CA_BUNDLE": "/no/such/corp.pem"}, "http://127.0.0.1:9000"),  # not used for http
], ids=["empty-token", "fips-false", "ignored-endpoint", "harmless-settings", "empty-proxy", "endpoint-slash",
        "ca-bundle-http"])
def test_near_misses_that_stay_light(
    changes: dict[str, str], endpoint: str | None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    env = {**_env(monkeypatch, tmp_path, **ELIGIBLE), "AWS_SECURITY_TOKEN": "old", **changes}
    target = s3_light.for_bucket("lpack-cache", endpoint, env)
    assert target is not None
    assert target.credentials.token is None if "AWS_SESSION_TOKEN" in changes else target.credentials.token == "old"
    assert target.url("k") == ("http://127.0.0.1:9000/lpack-cache/k" if endpoint else "https://lpack-cache.s3.amazonaws.com/k")


@pytest.mark.parametrize("name", ["AWS_CA_BUNDLE", "REQUESTS_CA_BUNDLE"])
def test_https_is_checked_against_the_ca_bundle_botocore_would_use(
    name: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    (tmp_path / "corp.pem").write_text("")
    env = _env(monkeypatch, tmp_path, **ELIGIBLE)
    for endpoint in (None, "https://minio.example.com"):
        assert s3_light.for_bucket("lpack-cache", endpoint, env).cafile is None  # type: ignore[union-attr]
        target = s3_light.for_bucket("lpack-cache", endpoint, {**env, name: str(tmp_path / "corp.pem")})
        assert target is not None and target.cafile == str(tmp_path / "corp.pem")
    both = {**env, "AWS_CA_BUNDLE": str(tmp_path / "corp.pem"), "REQUESTS_CA_BUNDLE": "/no/such/file.pem"}
    assert s3_light.for_bucket("lpack-cache", None, both).cafile == str(tmp_path / "corp.pem")  # type: ignore[union-attr]


@pytest.mark.parametrize(("config", "light"), [
    ("[default]\nregion = eu-west-1\noutput = json\n\n[profile ci]\nrole_arn = arn:aws:iam::1:role/ci\n", True),
    ("[default]\ns3 =\n    addressing_style = virtual\n", False),
    ("[default]\nendpoint_url = https://proxy.example.com\n", False),
    ("[default]\nservices = local\n\n[services local]\ns3 =\n  endpoint_url = http://localhost:9000\n", False),
    ("[default]\nuse_fips_endpoint = true\n", False),
    ("[default]\nuse_dualstack_endpoint = true\n", False),
    ("[default]\nca_bundle = /etc/ssl/corp.pem\n", False),
    ("[default]\nresponse_checksum_validation = when_required\n", False),
], ids=["unrelated", "addressing-style", "endpoint-url", "services", "fips", "dualstack", "ca-bundle", "checksums"])
def test_a_config_file_about_s3_or_endpoints_goes_to_botocore(
    config: str, light: bool, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    (tmp_path / "config").write_text(config)
    env = _env(monkeypatch, tmp_path, **ELIGIBLE, AWS_CONFIG_FILE=str(tmp_path / "config"))
    if "addressing_style" in config:  # what botocore does with that file: not lpack's path-style URL
        request = _botocore_request("lpack-cache", "k", "us-east-1", "http://minio.example.com:9000")
        assert request.url == "http://lpack-cache.minio.example.com:9000/k"
    assert (s3_light.for_bucket("lpack-cache", None, env) is not None) is light
    # with an endpoint too: botocore addresses it virtual-hosted when the file says addressing_style = virtual
    assert (s3_light.for_bucket("lpack-cache", "http://minio.example.com:9000", env) is not None) is light


# -- against a real S3 server -------------------------------------------------------------------

_READ = textwrap.dedent("""
    import hashlib, json, sys
    from lpack.bundle.remote import RemoteCache
    url, endpoint, names = sys.argv[1], sys.argv[2], sys.argv[3:]
    warnings = []
    remote = RemoteCache(url, endpoint=endpoint, warn=warnings.append)
    remote.warm_up()
    found = []
    for name in names:
        got = remote.get_with_metadata(name)
        found.append(None if got is None else [hashlib.sha256(got[0]).hexdigest(), got[1]])
    with remote.stream(names[0]) as body:
        streamed = body and hashlib.sha256(body.read()).hexdigest()
    print(json.dumps({"found": found, "streamed": streamed, "botocore": "botocore" in sys.modules}))
""")


def _read(endpoint: str, bucket_name: str, *names: str, **env: str) -> dict[str, Any]:
    """Objects read in a process of its own by RemoteCache: each one's sha256 and metadata (or
    None), the first one streamed, and whether that process imported botocore."""
    done = subprocess.run([sys.executable, "-c", _READ, f"s3://{bucket_name}/x", endpoint, *names],
                          capture_output=True, text=True, env={**os.environ, **env}, check=False)
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def _put(endpoint: str, bucket_name: str, name: str, data: bytes, metadata: dict[str, str]) -> str:
    s3(endpoint).put_object(Bucket=bucket_name, Key=name, Body=data, Metadata=metadata)
    return hashlib.sha256(data).hexdigest()


def test_an_object_read_by_lpack_is_the_one_botocore_reads(s3_server: str, bucket: str) -> None:  # noqa: F811
    data = os.urandom(3 * 1024 * 1024 + 17)
    digest = _put(s3_server, bucket, "team/ünïcode key+=~/a b.zip", data, {"sha256": "x", "Record": "{}"})
    _put(s3_server, bucket, "empty", b"", {})
    light = _read(s3_server, bucket, "team/ünïcode key+=~/a b.zip", "empty", "team/missing.json")
    assert light == {"found": [[digest, {"sha256": "x", "record": "{}"}], [hashlib.sha256(b"").hexdigest(), {}], None],
                     "streamed": digest, "botocore": False}
    # the same reads through botocore (a setting lpack does not model): the same answers
    heavy = _read(s3_server, bucket, "team/ünïcode key+=~/a b.zip", "empty", "team/missing.json",
                  **BOTOCORE)
    assert heavy == {**light, "botocore": True}


def test_a_bucket_that_does_not_exist_is_botocores_error(s3_server: str, bucket: str) -> None:  # noqa: F811
    """A 404 that is not NoSuchKey (here NoSuchBucket) is asked again through botocore, whose
    error the caller sees; lpack's own reads are off from then on."""
    from botocore.exceptions import ClientError

    cache = RemoteCache("s3://no-such-bucket-lpack/x", endpoint=s3_server)
    with pytest.raises(ClientError, match="NoSuchBucket"):
        cache.get("x")
    assert cache._light_client() is None
    assert RemoteCache(f"s3://{bucket}/x", endpoint=s3_server)._light_client() is not None


def test_a_cold_machines_download_process_does_not_import_botocore(
    tmp_path: Path, set_wheels: Path, s3_server: str, bucket: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Machine B's whole build from the archive machine A shared, lpack run as a command: its
    download process (forked, or lpack.bundle._set_fetcher) says at exit which modules it had imported."""
    a, _report, _err = set_machine(tmp_path, "a", set_wheels, s3_server, bucket, capsys, "--jobs", "2")
    assert len(archives(s3_server, bucket)) == 1
    probe = tmp_path / "probe"
    probe.mkdir()
    (probe / "sitecustomize.py").write_text(textwrap.dedent("""
        import atexit, json, os, sys

        def _fetcher():  # started (python -m lpack.bundle._set_fetcher), or forked (it ends in _Forked.start)
            frames, frame = [], sys._getframe()
            while frame is not None:
                frames.append((frame.f_code.co_name, frame.f_code.co_filename))
                frame = frame.f_back
            return (sys.argv and sys.argv[0].endswith("_set_fetcher.py")) or \
                any(name == "start" and path.endswith(os.path.join("bundle", "artifacts.py")) for name, path in frames)

        def _said(*_code):
            if _fetcher():
                with open(os.path.join(os.environ["LPACK_TEST_PROBE"], f"{os.getpid()}.json"), "w") as out:
                    json.dump({"botocore": "botocore" in sys.modules}, out)

        def _said_then_exit(code, _exit=os._exit):  # it may end with os._exit, without atexit's hooks
            _said()
            _exit(code)

        atexit.register(_said)
        os._exit = _said_then_exit
    """))

    def machine_b(name: str, **env: str) -> tuple[list[Any], Path]:
        root = tmp_path / name / "proj"
        import shutil

        shutil.copytree(a, root, ignore=shutil.ignore_patterns("dist"))
        said = tmp_path / name / "said"
        said.mkdir()
        path = os.pathsep.join([str(probe), *filter(None, [os.environ.get("PYTHONPATH")])])
        done = subprocess.run(
            [sys.executable, "-m", "lpack", "build", str(root), "--cache-dir", str(tmp_path / name / "cache"),
             "--format", "json", *remote(s3_server, bucket), "--jobs", "2"],
            capture_output=True, text=True, check=False,
            env={**os.environ, "PYTHONPATH": path, "LPACK_TEST_PROBE": str(said), **env})
        report = json.loads(done.stdout)
        assert (done.returncode, done.stderr) == (0, ""), done.stderr
        assert {u.get("artifact") for u in report["artifacts"]} == {"remote"}
        return [json.loads(p.read_text()) for p in said.glob("*.json")], root

    light, b = machine_b("b")
    heavy, c = machine_b("c", **BOTOCORE)
    assert (light, heavy) == ([{"botocore": False}], [{"botocore": True}])
    for zip_a in sorted((a / "dist").glob("*.zip")):
        assert (b / "dist" / zip_a.name).read_bytes() == zip_a.read_bytes() == (c / "dist" / zip_a.name).read_bytes()


# -- signatures checked by the server ------------------------------------------------------------

@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A moto server of its own: it checks signatures once `_enforce_auth` is called."""
    log = tmp_path_factory.mktemp("moto-auth") / "server.log"
    with moto_server(log, {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}) as url:
        yield url


def _user_with_a_bucket(endpoint: str) -> tuple[str, str, str]:
    """An IAM user allowed s3:* in this moto server, its access key, and a new bucket."""
    import boto3

    iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1")
    user = f"lpack-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="s3", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
    key = iam.create_access_key(UserName=user)["AccessKey"]
    name = f"lpack-{uuid.uuid4().hex[:12]}"
    s3(endpoint).create_bucket(Bucket=name)
    return key["AccessKeyId"], key["SecretAccessKey"], name


def _enforce_auth(endpoint: str, after: int) -> None:
    """moto's INITIAL_NO_AUTH_ACTION_COUNT, set on the running server: every request after the
    next ``after`` must be signed with a key of its IAM (moto.moto_api reset-auth)."""
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset-auth", data=str(after).encode(),
                                                  headers={"Content-Type": "text/plain"}), timeout=10).close()


def test_the_server_accepts_lpacks_signature_and_refuses_a_wrong_secret(
    auth_server: str, aws: None, tmp_path: Path, wheels: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    access_key, secret, name = _user_with_a_bucket(auth_server)
    digest = _put(auth_server, name, "team/a b+c.zip", b"zip bytes" * 1000, {"sha256": "d"})
    _enforce_auth(auth_server, 0)
    try:
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", access_key)
        found = _read(auth_server, name, "team/a b+c.zip", "team/none", AWS_SECRET_ACCESS_KEY=secret)
        assert found == {"found": [[digest, {"sha256": "d"}], None], "streamed": digest, "botocore": False}

        # a wrong secret: refused, asked again through botocore, whose error is the one warning
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
        root, cache = machine(tmp_path, "a", wheels)
        code, report, err = build(root, cache, monkeypatch, capsys, *remote(auth_server, name))
        assert (code, report["artifacts"][0]["dependencies"]) == (0, "installed")
        assert err == (f"lpack: warning: remote cache s3://{name}/team/lpack: access denied (SignatureDoesNotMatch); "
                       "building locally\n")
        assert SECRET not in err and zip_digest(root)
    finally:
        _enforce_auth(auth_server, 1 << 30)


# -- a server that misbehaves ----------------------------------------------------------------------

class _Scripted:
    """A real HTTP/1.1 server on loopback that answers GETs from a script: each entry a status,
    a body, ``cut`` (the body announced whole but cut short, then the connection closed) and
    maybe more headers."""

    def __init__(self, script: list[tuple[Any, ...]], tls: Any = None) -> None:
        import http.server
        import threading

        self.script, self.requests, self.connections = list(script), 0, 0
        self.agents: list[str] = []  # each request's User-Agent: lpack's own reads say "lpack/"
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                outer.connections += 1
                super().setup()

            def do_GET(self) -> None:
                outer.requests += 1
                outer.agents.append(self.headers.get("User-Agent", ""))
                status, body, cut, *headers = outer.script.pop(0) if len(outer.script) > 1 else outer.script[0]
                self.send_response(status)
                self.send_header("Content-Length", str(len(body) + (100 if cut else 0)))
                self.send_header("x-amz-meta-Sha256", "abc")
                for name, value in (headers[0] if headers else {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)
                if cut:
                    self.close_connection = True

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Any]:
    _env(monkeypatch, tmp_path, **ELIGIBLE)
    servers: list[_Scripted] = []

    def start(*script: tuple[Any, ...], tls: Any = None) -> _Scripted:
        servers.append(_Scripted(list(script), tls))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def test_a_5xx_is_tried_once_more_and_a_warm_connection_is_kept(scripted: Any) -> None:
    server = scripted((503, b"<Error><Code>SlowDown</Code></Error>", False), (200, b"the zip", False))
    cache = RemoteCache("s3://lpack-cache/x", endpoint=server.url)
    cache.warm_up()
    assert cache.get_with_metadata("k") == (b"the zip", {"sha256": "abc"})
    assert cache.get("k") == b"the zip"
    cache.finish()
    # the warm-up's connection served the first attempt; the 503's was closed, its retry's kept
    assert (server.requests, server.connections) == (3, 2)


def test_a_body_cut_short_is_a_remote_failure(scripted: Any) -> None:
    server = scripted((200, b"part of it", True))
    cache = RemoteCache("s3://lpack-cache/x", endpoint=server.url)
    with pytest.raises(s3_light.LightError, match=r"10 of 110 bytes"), cache.stream("k") as body:
        body.read()
    with pytest.raises(s3_light.LightError, match=r"10 of 110 bytes"), cache.stream("k") as body:
        while body.read(4):
            pass
    cache.finish()


def test_an_endpoint_that_refuses_is_said_in_botocores_words(scripted: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.exceptions import EndpointConnectionError

    from tests.factories.s3 import free_port

    endpoint = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(s3_light.LightError) as light:
        RemoteCache("s3://lpack-cache/x", endpoint=endpoint).get("team/a b.zip")
    for name, value in BOTOCORE.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(EndpointConnectionError) as heavy:
        RemoteCache("s3://lpack-cache/x", endpoint=endpoint).get("team/a b.zip")
    assert str(light.value) == str(heavy.value)


def test_any_other_answer_is_botocores_from_then_on(scripted: Any) -> None:
    from botocore.exceptions import ClientError

    server = scripted((403, b"<Error><Code>AccessDenied</Code></Error>", False))
    cache = RemoteCache("s3://lpack-cache/x", endpoint=server.url)
    for _ in range(2):
        with pytest.raises(ClientError, match="AccessDenied"):
            cache.get("k")
    assert server.requests == 3  # lpack's, then botocore's for it and for the next (a 403 is not retried)
    assert [agent.split("/")[0] for agent in server.agents] == ["lpack", "Botocore", "Botocore"]


def _self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (its own issuer) and its key, as PEM files."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "lpack test 127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    public = key.public_key()
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), False)
            .sign(key, hashes.SHA256()))
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    return folder / "cert.pem", folder / "key.pem"


def test_https_trusts_what_botocore_trusts(scripted: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The server's certificate in AWS_CA_BUNDLE: lpack's reads over https; without it, the
    certificate is refused, and botocore says so in its own words."""
    import ssl

    from botocore.exceptions import SSLError

    pytest.importorskip("cryptography")
    cert, key = _self_signed(tmp_path)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    server = scripted((200, b"over tls", False), tls=tls)
    monkeypatch.setenv("AWS_CA_BUNDLE", str(cert))
    cache = RemoteCache("s3://lpack-cache/x", endpoint=server.url)
    assert cache.get("k") == b"over tls" and server.agents == [server.agents[0]] and server.agents[0].startswith("lpack/")
    cache.finish()
    monkeypatch.delenv("AWS_CA_BUNDLE")
    with pytest.raises(SSLError, match=f"SSL validation failed for {server.url}/lpack-cache/k"):
        RemoteCache("s3://lpack-cache/x", endpoint=server.url).get("k")
    assert server.requests == 1


def test_a_session_tokens_reads_are_accepted_and_a_wrong_token_is_botocores_error(
    auth_server: str, aws: None, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
) -> None:
    """Keys of an assumed role (moto's STS): lpack sends and signs x-amz-security-token, which
    moto checks against the role's session."""
    import boto3
    from botocore.exceptions import ClientError

    access_key, secret, name = _user_with_a_bucket(auth_server)
    digest = _put(auth_server, name, "team/set.tar", b"tar bytes" * 100, {})
    iam = boto3.client("iam", endpoint_url=auth_server, region_name="us-east-1")
    role = iam.create_role(RoleName=f"ci-{uuid.uuid4().hex[:8]}", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}))["Role"]
    iam.put_role_policy(RoleName=role["RoleName"], PolicyName="s3", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
    sts = boto3.client("sts", endpoint_url=auth_server, region_name="us-east-1", aws_access_key_id=access_key,
                       aws_secret_access_key=secret)
    keys = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="ci")["Credentials"]
    _enforce_auth(auth_server, 0)
    try:
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", keys["AccessKeyId"])
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", keys["SecretAccessKey"])
        found = _read(auth_server, name, "team/set.tar", "team/none", AWS_SESSION_TOKEN=keys["SessionToken"])
        assert found == {"found": [[digest, {}], None], "streamed": digest, "botocore": False}

        monkeypatch.setenv("AWS_SESSION_TOKEN", keys["SessionToken"][:-4] + "AAAA")
        cache = RemoteCache(f"s3://{name}/x", endpoint=auth_server)
        with pytest.raises(ClientError, match="InvalidToken"):
            cache.get("team/set.tar")
        assert cache._light_client() is None  # botocore's from then on
    finally:
        _enforce_auth(auth_server, 1 << 30)


def _checksum_header(algorithm: str, data: bytes) -> str:
    import base64
    import zlib

    digest = zlib.crc32(data).to_bytes(4, "big") if algorithm == "crc32" else hashlib.new(algorithm, data).digest()
    return base64.b64encode(digest).decode()


@pytest.mark.parametrize(("headers", "whole"), [
    ({"x-amz-checksum-crc32": _checksum_header("crc32", b"the zip")}, True),
    ({"x-amz-checksum-sha256": _checksum_header("sha256", b"the zip")}, True),
    ({"x-amz-checksum-sha1": _checksum_header("sha1", b"the zip")}, True),
    ({"x-amz-checksum-crc32": _checksum_header("crc32", b"the zap")}, False),
    ({"x-amz-checksum-sha256": _checksum_header("sha256", b"the zap")}, False),
    # the first of botocore's algorithms is the one checked, whatever the others say
    ({"x-amz-checksum-sha1": _checksum_header("sha1", b"the zap"), "x-amz-checksum-crc32": _checksum_header("crc32", b"the zip")}, True),
    ({"x-amz-checksum-crc32": "AAAAAA==-3"}, True),  # a multipart object's checksum of checksums: not checked
    ({"x-amz-checksum-crc64nvme": "AAAAAAAAAAA="}, True),  # awscrt's alone: botocore without it skips it too
], ids=["crc32", "sha256", "sha1", "crc32-wrong", "sha256-wrong", "crc32-before-sha1", "composite", "crc64nvme"])
def test_the_bodys_checksum_is_checked_as_botocore_checks_it(
    headers: dict[str, str], whole: bool, scripted: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from lpack.bundle.remote import remote_errors

    pytest.importorskip("botocore")
    if importlib.util.find_spec("awscrt") is not None:
        pytest.skip("with awscrt, botocore checks more algorithms")
    server = scripted((200, b"the zip", False, headers))
    said = []
    for env in ({}, BOTOCORE):  # lpack's own read, then botocore's
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        cache = RemoteCache("s3://lpack-cache/x", endpoint=server.url)
        try:
            said.append(cache.get("k"))
        except remote_errors() as exc:
            said.append(str(exc))
        cache.finish()
    assert [agent.split("/")[0] for agent in server.agents] == ["lpack", "Botocore"]
    assert said[0] == said[1]
    assert (said[0] == b"the zip") is whole
