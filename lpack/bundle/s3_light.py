"""The remote cache's reads without botocore: one S3 GET signed here with Signature Version 4
over http.client, for the process that downloads a build (bundle/artifacts.py), where importing
botocore and building S3's client (~0.2 s) would come before its first byte.

Only where the request is certainly the one botocore would send (`for_bucket` says None
otherwise, and lpack.bundle.remote uses botocore as before): credentials from the environment
(botocore's first provider), a region from AWS_REGION / AWS_DEFAULT_REGION, no proxy, no FIPS
or dual-stack endpoint, a CA bundle (if any) that is a file, no AWS config file that says
anything about endpoints or S3, a plain bucket, and either an endpoint (path-style URLs, as
botocore addresses any endpoint it is given) or the bucket's virtual-hosted address in the aws
or aws-cn partition. The signature is botocore's S3SigV4Auth's for the same request, headers included
(tests/bundle/test_s3_light.py compares them). A 200 is read here (its body checked against its
Content-Length and the x-amz-checksum-* botocore would check), a 404 NoSuchKey is "none";
any other answer raises `Fallback`, and the caller asks botocore, so every error, redirect and
warning is botocore's own.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import hmac
import os
import re
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote, urlsplit

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
CONNECT_TIMEOUT_S = 2  # as lpack.bundle.remote.make_client's Config
READ_TIMEOUT_S = 20
ATTEMPTS = 2  # botocore's standard retry mode with max_attempts 2: one retry
ERROR_BODY_BYTES = 64 * 1024

_REGION = re.compile(r"^(?![0-9]+$)(?!-)[a-zA-Z0-9-]{1,63}(?<!-)$")  # botocore.utils.validate_region_name
_PARTITIONS = (  # the regions of botocore's partitions.json whose S3 address is the plain one
    (re.compile(r"^(us|eu|ap|sa|ca|me|af|il|mx)-\w+-\d+$"), "amazonaws.com"),
    (re.compile(r"^cn-\w+-\d+$"), "amazonaws.com.cn"),
)
_VIRTUAL_BUCKET = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")  # isVirtualHostableS3Bucket, no dots
_PATH_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IP = re.compile(r"^\d+\.\d+\.\d+\.\d+$")
_NO_SUCH_KEY = re.compile(rb"<Code>\s*NoSuchKey\s*</Code>")
# Environment variables that change nothing in a GET through botocore when the credentials and
# region come from the environment; any other AWS_* one sends the read to botocore.
_HARMLESS = frozenset({
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_REGION",
    "AWS_DEFAULT_REGION", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_EC2_METADATA_DISABLED",
    "AWS_ACCOUNT_ID", "AWS_DEFAULT_OUTPUT", "AWS_PAGER", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME",
    "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_EXECUTION_ENV", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE",
    "AWS_METADATA_SERVICE_TIMEOUT", "AWS_METADATA_SERVICE_NUM_ATTEMPTS", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "AWS_ENDPOINT_URL", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    "AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT", "AWS_S3_US_EAST_1_REGIONAL_ENDPOINT", "AWS_CA_BUNDLE",
})
_PROXIES = ("http_proxy", "https_proxy", "all_proxy")
# What an AWS config file may say that changes S3's address, signing or TLS (any of these words
# anywhere in the file, in any case, and botocore reads it instead)
_CONFIG_WORDS = re.compile(r"endpoint|services|s3|fips|dualstack|ca_bundle|checksum|proxy|auth_scheme|sigv4a|"
                           r"data_path|addressing|accelerate", re.IGNORECASE)


class Fallback(Exception):
    """The answer was not a plain 200 or NoSuchKey: botocore should make this request."""


class LightError(OSError):
    """The endpoint could not be reached or its answer was cut short (a remote failure, with
    botocore's wording)."""


class Credentials(NamedTuple):
    access_key: str
    secret_key: str
    token: str | None


class Target(NamedTuple):
    """Where a bucket's objects are and how requests to them are signed."""
    scheme: str  # http or https
    host: str  # the Host header: lowercase, with the port when it is not the scheme's own
    port: int
    base_path: str  # "/bucket" (path-style) or "" (virtual-hosted)
    region: str
    credentials: Credentials
    cafile: str | None = None  # the certificates https is checked against (None: botocore's default bundle)

    def url(self, key: str) -> str:
        return f"{self.scheme}://{self.host}{self.path(key)}"

    def path(self, key: str) -> str:
        """The request's path, as botocore's serializer writes S3's greedy ``{Key+}``."""
        return f"{self.base_path}/{quote(key.encode(), safe='/~')}"


def for_bucket(bucket: str, endpoint: str | None, environ: Mapping[str, str] = os.environ) -> Target | None:
    """Where lpack signs its own reads of ``bucket``, or None when botocore should make them."""
    credentials = env_credentials(environ)
    region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")
    if credentials is None or not region or not _REGION.match(region) or not _plain_environment(environ):
        return None
    if _config_may_matter(environ):  # e.g. addressing_style = virtual applies to a given endpoint too
        return None
    endpoint = endpoint or _configured_endpoint(environ)
    if endpoint:
        target = _path_style(bucket, endpoint, region, credentials)
    else:
        target = _virtual_hosted(bucket, region, credentials, environ.get("AWS_S3_US_EAST_1_REGIONAL_ENDPOINT"))
    return None if target is None else _with_trust(target, environ)


def _with_trust(target: Target, environ: Mapping[str, str]) -> Target | None:
    """The CA bundle botocore's requests would be checked against: AWS_CA_BUNDLE, else
    REQUESTS_CA_BUNDLE (botocore.endpoint honours it), else its default. An empty one is an
    error in botocore, and one that is not a file is botocore's to report."""
    name = next((n for n in ("AWS_CA_BUNDLE", "REQUESTS_CA_BUNDLE") if n in environ), None)
    if name is None:
        return target
    bundle = environ[name]
    if not bundle.strip():
        return None
    if target.scheme == "http":  # not used for http (botocore.httpsession._setup_ssl_cert)
        return target
    return target._replace(cafile=bundle) if os.path.isfile(bundle) else None


def env_credentials(environ: Mapping[str, str]) -> Credentials | None:
    """botocore's EnvProvider: both keys set; the token from the first of AWS_SESSION_TOKEN and
    AWS_SECURITY_TOKEN that is set (sent when not empty)."""
    access_key, secret_key = environ.get("AWS_ACCESS_KEY_ID"), environ.get("AWS_SECRET_ACCESS_KEY")
    if not access_key or not secret_key:
        return None
    token = next((environ[name] for name in ("AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN") if name in environ), None)
    return Credentials(access_key, secret_key, token or None)


def _plain_environment(environ: Mapping[str, str]) -> bool:
    """No proxy, no FIPS or dual-stack, no AWS setting lpack does not know."""
    if any(environ.get(name) or environ.get(name.upper()) for name in _PROXIES):
        return False
    if _true(environ.get("AWS_USE_FIPS_ENDPOINT")) or _true(environ.get("AWS_USE_DUALSTACK_ENDPOINT")):
        return False
    return all(name in _HARMLESS or name.startswith("AWS_ENDPOINT_URL_") for name in environ if name.startswith("AWS_"))


def _configured_endpoint(environ: Mapping[str, str]) -> str | None:
    """AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL, as botocore's ConfiguredEndpointProvider reads
    the environment (the config file's is left to botocore: `_config_may_matter`)."""
    if _true(environ.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")):
        return None
    return environ.get("AWS_ENDPOINT_URL_S3") or environ.get("AWS_ENDPOINT_URL") or None


def _path_style(bucket: str, endpoint: str, region: str, credentials: Credentials) -> Target | None:
    """``{endpoint}/{bucket}/{key}``: botocore forces path-style for any endpoint it is given."""
    parts = urlsplit(endpoint)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None
    plain = parts.scheme in ("http", "https") and parts.hostname and ":" not in parts.hostname
    if not plain or parts.path not in ("", "/") or parts.query or parts.fragment or "@" in parts.netloc:
        return None
    if not _PATH_BUCKET.match(bucket) or "--" in bucket or bucket.endswith("-s3alias"):
        return None
    assert parts.hostname is not None
    default = port == (443 if parts.scheme == "https" else 80)
    host = parts.hostname if default else f"{parts.hostname}:{port}"
    return Target(parts.scheme, host, port, f"/{bucket}", region, credentials)


def _virtual_hosted(bucket: str, region: str, credentials: Credentials, us_east_1: str | None) -> Target | None:
    """``https://{bucket}.s3.{region}.{suffix}``, as botocore's endpoint rules resolve a plain
    bucket without an endpoint (us-east-1's legacy global address unless told "regional")."""
    if not _VIRTUAL_BUCKET.match(bucket) or "--" in bucket or bucket.endswith("-s3alias") or _IP.match(bucket):
        return None
    suffix = next((suffix for pattern, suffix in _PARTITIONS if pattern.match(region)), None)
    if suffix is None or us_east_1 not in (None, "legacy", "regional"):
        return None
    name = "s3" if region == "us-east-1" and us_east_1 != "regional" else f"s3.{region}"
    return Target("https", f"{bucket}.{name}.{suffix}", 443, "", region, credentials)


def _config_may_matter(environ: Mapping[str, str]) -> bool:
    """Whether the AWS config file exists and may say something about S3 or endpoints."""
    path = Path(environ.get("AWS_CONFIG_FILE") or "~/.aws/config").expanduser()
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return False
    except OSError:
        return True
    return _CONFIG_WORDS.search(text) is not None


def _true(value: str | None) -> bool:
    return value is not None and value.lower() == "true"  # botocore.utils.ensure_boolean


# -- signing ---------------------------------------------------------------------------------------

def signed_headers(target: Target, key: str, now: datetime.datetime) -> dict[str, str]:
    """The headers of a GET of ``key`` at ``now`` (UTC), Authorization included, as botocore's
    S3SigV4Auth signs its GetObject: host, x-amz-checksum-mode, x-amz-content-sha256 (the empty
    body's sha256, on http and https alike: a GET has no body and no Content-MD5), x-amz-date and
    x-amz-security-token when there is a session token."""
    timestamp = now.strftime("%Y%m%dT%H%M%SZ")
    headers = {"host": target.host, "x-amz-checksum-mode": "ENABLED", "x-amz-content-sha256": EMPTY_SHA256,
               "x-amz-date": timestamp}
    if target.credentials.token:
        headers["x-amz-security-token"] = target.credentials.token
    scope = f"{timestamp[:8]}/{target.region}/s3/aws4_request"
    to_sign = f"AWS4-HMAC-SHA256\n{timestamp}\n{scope}\n{_canonical_request(target.path(key), headers)}"
    signature = hmac.new(_signing_key(target, timestamp[:8]), to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (f"AWS4-HMAC-SHA256 Credential={target.credentials.access_key}/{scope}, "
                                f"SignedHeaders={';'.join(sorted(headers))}, Signature={signature}")
    return headers


def _canonical_request(path: str, headers: Mapping[str, str]) -> str:
    """The sha256 of SigV4's canonical request of a GET with no query and no body; S3's path is
    not normalized (S3SigV4Auth._normalize_url_path)."""
    names = sorted(headers)
    lines = ["GET", path, "", *(f"{n}:{' '.join(headers[n].split())}" for n in names), "", ";".join(names),
             EMPTY_SHA256]
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def _signing_key(target: Target, day: str) -> bytes:
    key = f"AWS4{target.credentials.secret_key}".encode()
    for part in (day, target.region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


# -- the client ------------------------------------------------------------------------------------

class S3Light:
    """GETs of one bucket's objects over a few kept-alive connections (threads may share it)."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self._idle: list[Any] = []  # connections with nothing in flight
        self._lock = threading.Lock()
        self._tls: Any = None  # the TLS context, made once

    def warm_up(self) -> None:
        """A connection opened (TCP, and TLS for https) ahead of the first GET; a failure here is
        left for that GET to meet and report."""
        connection = self._new_connection()
        try:
            _connect(connection)
        except OSError:
            connection.close()
            return
        self._give_back(connection)

    def open(self, key: str) -> tuple[Body, dict[str, str]] | None:
        """The object's body (to read, then close) and its user metadata; None when there is no
        such key. `Fallback` for any other answer; `LightError` when the endpoint cannot be
        reached. A connection error or a 5xx is tried once more, as botocore's standard mode does
        with max_attempts 2."""
        import http.client
        import ssl

        for attempt in range(1, ATTEMPTS + 1):
            try:
                connection, response = self._send(key)
                if response.status == 200:
                    return self._body(connection, response, key), _metadata(response)
                with contextlib.closing(connection):
                    error = response.read(ERROR_BODY_BYTES)
            except ssl.SSLError as exc:  # a certificate not trusted, say: botocore's words for it
                raise Fallback(str(exc)) from exc
            except (OSError, http.client.HTTPException) as exc:
                if attempt == ATTEMPTS:
                    raise _unreachable(exc, self.target.url(key)) from exc
            else:
                if response.status == 404 and (not error or _NO_SUCH_KEY.search(error)):
                    return None
                if response.status < 500 or attempt == ATTEMPTS:
                    raise Fallback(response.status)
            _pause(attempt)
        raise AssertionError("unreachable")

    def _body(self, connection: Any, response: Any, key: str) -> Body:
        try:
            checksum = Checksum.of(response)
        except Fallback:
            connection.close()
            raise
        return Body(self, connection, response, self.target.url(key), checksum)

    def _send(self, key: str) -> tuple[Any, Any]:
        """A response (its status line and headers read), over a kept-alive connection when
        there is one; one that the server has closed meanwhile is replaced by a new one."""
        import http.client

        while True:
            connection, reused = self._connection()
            try:
                if connection.sock is None:
                    _connect(connection)
                connection.request("GET", self.target.path(key), headers=self._headers(key))
                return connection, connection.getresponse()
            except (OSError, http.client.HTTPException) as exc:
                connection.close()
                if not reused or isinstance(exc, TimeoutError):  # a slow server is not a stale connection
                    raise

    def _headers(self, key: str) -> dict[str, str]:
        from lpack import __version__

        now = datetime.datetime.now(datetime.timezone.utc)
        return {**signed_headers(self.target, key, now), "user-agent": f"lpack/{__version__}"}

    def _connection(self) -> tuple[Any, bool]:
        with self._lock:
            if self._idle:
                return self._idle.pop(), True
        return self._new_connection(), False

    def _new_connection(self) -> Any:
        import http.client

        host, port = self.target.host.partition(":")[0], self.target.port
        if self.target.scheme == "http":
            return http.client.HTTPConnection(host, port, timeout=CONNECT_TIMEOUT_S)
        with self._lock:
            if self._tls is None:
                self._tls = _tls_context(self.target.cafile)
        return http.client.HTTPSConnection(host, port, timeout=CONNECT_TIMEOUT_S, context=self._tls)

    def _give_back(self, connection: Any) -> None:
        with self._lock:
            self._idle.append(connection)

    def close(self) -> None:
        """Its idle connections closed."""
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()


class Body:
    """A 200's body as it arrives: ``read`` and ``close`` as botocore's StreamingBody; a body cut
    short of its Content-Length, or a network error while reading, is a `LightError`."""

    def __init__(self, client: S3Light, connection: Any, response: Any, url: str, checksum: Checksum | None) -> None:
        self._client, self._connection, self._response, self._url = client, connection, response, url
        length = response.getheader("Content-Length")
        self._expected = int(length) if length is not None and length.isdigit() else None
        self._read = 0
        self._checksum = checksum  # botocore's x-amz-checksum-* check of the whole body

    def read(self, amt: int | None = None) -> bytes:
        import http.client

        try:
            data: bytes = self._response.read(amt if amt is None or amt >= 0 else None)
        except http.client.IncompleteRead as exc:
            self._read += len(exc.partial)
            self._check_length()
            raise LightError(f"{self._url}: the response ended early") from exc
        except (OSError, http.client.HTTPException) as exc:
            raise LightError(f'Read timeout on endpoint URL: "{self._url}"' if isinstance(exc, TimeoutError)
                             else f"Connection was closed before we received a valid response from endpoint "
                                  f'URL: "{self._url}".') from exc
        self._read += len(data)
        if self._checksum is not None:
            self._checksum.update(data)
        if (not data and amt != 0) or amt is None:
            self._check_length()
            if self._checksum is not None:
                self._checksum.check()
        return data

    def _check_length(self) -> None:
        if self._expected is not None and self._read != self._expected:
            raise LightError(f"{self._url}: {self._read} of {self._expected} bytes received (Content-Length)")


    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        if self._response.isclosed() and self._read == self._expected:
            self._client._give_back(connection)  # all read: the connection is ready for another GET
        else:
            self._response.close()
            connection.close()


# botocore's order of the response checksums it checks (httpchecksum._ALGORITHMS_PRIORITY_LIST,
# GetObject's responseAlgorithms); the first five only with awscrt installed
_CHECKSUMS = ("xxhash128", "xxhash3", "crc64nvme", "xxhash64", "crc32c", "crc32", "sha1", "sha256", "sha512")
_CRT_ONLY = frozenset(_CHECKSUMS[:5])


class Checksum:
    """The body's checksum that botocore would check (it asks for them, x-amz-checksum-mode): the
    first of its algorithms the response has a whole-object value for (a composite one, "...-N",
    is not checked)."""

    def __init__(self, algorithm: str, expected: str) -> None:
        import zlib

        self.algorithm, self.expected = algorithm, expected
        self._crc = 0
        self._crc32 = zlib.crc32
        self._hash = None if algorithm == "crc32" else hashlib.new(algorithm)

    @classmethod
    def of(cls, response: Any) -> Checksum | None:
        """The response's checksum to check; `Fallback` when botocore would check one that only
        awscrt computes."""
        import importlib.util

        crt = importlib.util.find_spec("awscrt") is not None
        for algorithm in _CHECKSUMS:
            expected = response.getheader(f"x-amz-checksum-{algorithm}")
            if expected is None or "-" in expected or (algorithm in _CRT_ONLY and not crt):
                continue
            if algorithm in _CRT_ONLY:
                raise Fallback(f"a {algorithm} checksum")
            return cls(algorithm, expected)
        return None

    def update(self, data: bytes) -> None:
        if self._hash is None:
            self._crc = self._crc32(data, self._crc)
        else:
            self._hash.update(data)

    def check(self) -> None:
        """botocore's FlexibleChecksumError, in its words, when the body is not what S3 stored."""
        import base64

        digest = self._crc.to_bytes(4, "big") if self._hash is None else self._hash.digest()
        if base64.b64encode(digest).decode() != self.expected:
            raise LightError(f"Expected checksum {self.expected} did not match calculated checksum: "
                             f"{base64.b64encode(digest).decode()}")


def _connect(connection: Any) -> None:
    """Connected within the connect timeout; then each read waits up to the read timeout."""
    connection.connect()
    connection.sock.settimeout(READ_TIMEOUT_S)


def _metadata(response: Any) -> dict[str, str]:
    """``x-amz-meta-*`` headers, named without the prefix (lowercase), as botocore's Metadata."""
    prefix = "x-amz-meta-"
    return {name[len(prefix):].lower(): value for name, value in response.getheaders()
            if name.lower().startswith(prefix)}


def _unreachable(exc: BaseException, url: str) -> LightError:
    """botocore's words for the same failure."""
    if isinstance(exc, TimeoutError):
        return LightError(f'Connect timeout on endpoint URL: "{url}"')
    return LightError(f'Could not connect to the endpoint URL: "{url}"')


def _pause(attempt: int) -> None:
    """standard mode's backoff: a random wait of up to 2 ** (attempt - 1) seconds."""
    import random
    import time

    time.sleep(random.random() * 2 ** (attempt - 1))


def _tls_context(cafile: str | None) -> Any:
    """Certificates checked against the CA bundle botocore's would be: the one configured, else
    certifi's when it is installed, else botocore's own cacert.pem."""
    import ssl

    return ssl.create_default_context(cafile=cafile or _default_bundle())


def _default_bundle() -> str | None:
    """botocore.httpsession.where(), without importing botocore."""
    import importlib.util

    if importlib.util.find_spec("certifi") is not None:
        import certifi

        return str(certifi.where())
    spec = importlib.util.find_spec("botocore")
    if spec is None or not spec.submodule_search_locations:
        return None
    return os.path.join(next(iter(spec.submodule_search_locations)), "cacert.pem")
