"""A shared dependency cache on S3 (or an S3-compatible store): read-through, write-back.

Each entry of the local cache (``deps.zip`` + ``meta.json``, see bundle/cache.py) is two objects:
``PREFIX/v{CACHE_FORMAT}/KEY.zip``, the deps.zip bytes, and ``PREFIX/v{CACHE_FORMAT}/KEY.json``, a
small record with that zip's sha256 and size and the entry's meta.json. The record is written
last, so a reader that finds it finds the zip; the zip is downloaded into a staging folder,
verified against the record's sha256 (a mismatch is never used: the build installs locally) and
committed by the local cache's one rename, so a half download is never visible.

Any remote failure (no credentials, the endpoint down, 403, a timeout) turns the remote off for
the rest of the run with one warning; the build goes on locally. boto3 is imported here only
(``pip install 'lpack-lambda[s3]'``); reads skip it where lpack.bundle.s3_light can sign exactly
the request botocore would send.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from lpack.bundle.cache import CACHE_TIP, DependencyCache
from lpack.core.cache import CACHE_FORMAT
from lpack.core.errors import UsageError, redact

if TYPE_CHECKING:
    from concurrent.futures import Future

    from lpack.bundle.s3_light import S3Light

REMOTE_ENV = "LPACK_REMOTE_CACHE"
READ_ONLY_ENV = "LPACK_REMOTE_CACHE_READ_ONLY"
INSTALL_TIP = "pip install 'lpack-lambda[s3]'"
MAX_RECORD_BYTES = 1 << 20


class RemoteCache:
    """``s3://bucket/prefix``. ``fetch`` and ``store`` never raise for a remote failure: the first
    one is reported through ``warn`` and the remote is off for the rest of the run."""

    def __init__(self, url: str, *, endpoint: str | None = None, read_only: bool = False,
                 warn: Callable[[str], None] = lambda _m: None) -> None:
        self.url = redact(url)
        self.given_url = url  # as given, for another process of this build (never shown)
        self.bucket, self.prefix = parse_url(url)
        import importlib.util

        if importlib.util.find_spec("boto3") is None:
            raise UsageError(f"--remote-cache {self.url} needs boto3, which is not installed", tip=INSTALL_TIP)
        self.endpoint = endpoint or None
        self.read_only = read_only
        self._warn = warn
        self._client: Any = None
        self._client_pid = 0  # a client is made in the process that uses it (never before a fork)
        self._guard = threading.Lock()  # units building at once (--jobs) make one client, say one warning
        self._pool: Any = None  # downloads and uploads in the background (lpack.bundle.artifacts), made on first use
        self._pool_pid = 0
        self._pending: list[Any] = []
        self._light: S3Light | None = None  # lpack's own GETs (lpack.bundle.s3_light), made on first use
        self._light_pid = 0
        self._light_off = False  # botocore makes every request: not eligible, or an answer sent it there
        self.failed: str | None = None  # why the remote is off, once it is

    def _object(self, key: str, ext: str) -> str:
        return f"{self.prefix}v{CACHE_FORMAT}/{key}.{ext}"

    def fetch(self, key: str, cache: DependencyCache) -> Path | None:
        """The key's entry, downloaded, verified and committed into ``cache``; None when the
        remote does not have it (or is off, or its copy is not what its record says)."""
        if self.failed is not None:
            return None
        try:
            record = self._get(self._object(key, "json"), MAX_RECORD_BYTES)
            if record is None:
                return None
            info = json.loads(record)
            data = self._get(self._object(key, "zip"))
        except remote_errors() as exc:
            self._fail(exc)
            return None
        except ValueError:
            self._fail(f"{self._object(key, 'json')} is not an lpack cache record")
            return None
        if data is None or not matches(data, info):
            self._fail(f"{self._object(key, 'zip')} does not match its recorded sha256; not used")
            return None
        return self._commit(key, data, info, cache)

    def _commit(self, key: str, data: bytes, info: dict[str, Any], cache: DependencyCache) -> Path:
        import shutil

        from lpack.core.files import cannot_write

        staged = cache.staging()
        meta = info["meta"] if isinstance(info.get("meta"), dict) else {}
        try:
            (staged / "deps.zip").write_bytes(data)
            (staged / "meta.json").write_text(json.dumps({**meta, "from": "remote"}, indent=2) + "\n", encoding="utf-8")
        except OSError as exc:
            shutil.rmtree(staged, ignore_errors=True)
            raise cannot_write(staged, exc, tip=CACHE_TIP) from exc
        return cache.commit(key, staged)

    def store(self, key: str, entry: Path) -> None:
        """Write the local entry back (zip first, then its record), unless read-only or off."""
        if self.read_only or self.failed is not None:
            return
        try:
            data = (entry / "deps.zip").read_bytes()
            meta = json.loads((entry / "meta.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return  # not a whole entry: nothing to share
        digest = hashlib.sha256(data).hexdigest()
        record = {"version": 1, "sha256": digest, "size": len(data), "meta": meta}
        try:
            self._put(self._object(key, "zip"), data, {"sha256": digest})
            self._put(self._object(key, "json"), json.dumps(record, indent=2).encode() + b"\n", {})
        except remote_errors() as exc:
            self._fail(exc)
            return

    # -- S3 ------------------------------------------------------------------------------------

    def get(self, name: str, limit: int | None = None) -> bytes | None:
        """The object's bytes, or None when there is none; a remote error raises (`remote_errors`),
        and an object over ``limit`` bytes is a ValueError."""
        return self._get(name, limit)

    def get_with_metadata(self, name: str) -> tuple[bytes, dict[str, str]] | None:
        """The object's bytes and its user metadata (``x-amz-meta-*``), or None; as `get`."""
        return self._get_object(name, None)

    def put(self, name: str, data: bytes, metadata: dict[str, str]) -> None:
        self._put(name, data, metadata)

    @contextlib.contextmanager
    def stream(self, name: str) -> Iterator[Any]:
        """The object's body to read as it arrives (one GET), or None when there is none; a
        remote error raises (`remote_errors`)."""
        found = self._open(name)
        if found is None:
            yield None
            return
        try:
            yield found[0]
        finally:
            found[0].close()

    def warm_up(self) -> None:
        """What can be done ahead of the first read: on lpack's own GETs (lpack.bundle.s3_light),
        their connection opened, without importing botocore; otherwise botocore's client made."""
        light = self._light_client()
        if light is not None:
            light.warm_up()
        else:
            self.client  # noqa: B018  a property: made now

    def put_file(self, name: str, path: Path) -> None:
        """Upload the file at ``path`` (in parts when large, with boto3's transfer manager)."""
        from boto3.s3.transfer import S3Transfer

        S3Transfer(self.client).upload_file(str(path), self.bucket, name)

    def warn(self, message: str) -> None:
        """One warning about the remote that leaves it on."""
        self._warn(f"remote cache {self.url}: {message}")

    def fail(self, why: object) -> None:
        """Turn the remote off for the rest of the run, with one warning."""
        self._fail(why)

    def adopt(self, failed: str | None, warnings: list[str]) -> None:
        """What another process found using this remote (lpack.bundle.artifacts.SetFetcher): its
        warnings said here, and the remote off here too when it turned off there."""
        for warning in warnings:
            self._warn(warning)
        if failed is not None:
            with self._guard:
                self.failed = self.failed or failed

    def submit(self, func: Callable[..., Any], *args: Any) -> Future[Any]:
        """Run ``func(*args)`` on a small pool of threads (boto3 lets go of the interpreter while
        it waits on the network), made in the process that uses it; `finish` waits for them all."""
        from concurrent.futures import ThreadPoolExecutor

        with self._guard:
            if self._pool is None or self._pool_pid != os.getpid():
                self._pool, self._pool_pid = ThreadPoolExecutor(4, thread_name_prefix="lpack-remote"), os.getpid()
            future: Future[Any] = self._pool.submit(func, *args)
            self._pending.append(future)
            return future

    def finish(self, cancel: bool = False) -> None:
        """Wait for what `submit` started (an error of theirs is raised here); with ``cancel``,
        drop what has not started and wait only for what has. lpack's own reads' kept-alive
        connections are closed then (a later read opens another)."""
        with self._guard:
            pending, self._pending = self._pending, []
        try:
            if cancel:
                for future in pending:
                    future.cancel()
                from concurrent.futures import wait

                wait(pending)
            else:
                for future in pending:
                    future.result()
        finally:
            if self._light is not None:
                self._light.close()

    def _get(self, name: str, limit: int | None = None) -> bytes | None:
        found = self._get_object(name, limit)
        return None if found is None else found[0]

    def _get_object(self, name: str, limit: int | None) -> tuple[bytes, dict[str, str]] | None:
        found = self._open(name)
        if found is None:
            return None
        body, metadata = found
        try:
            data = bytes(body.read() if limit is None else body.read(limit + 1))
        finally:
            body.close()
        if limit is not None and len(data) > limit:
            raise ValueError(f"{name} is larger than {limit} bytes")
        return data, metadata

    def _open(self, name: str) -> tuple[Any, dict[str, str]] | None:
        """One GET: the object's body (to read, then close) and its user metadata, or None.
        lpack signs it itself where that is what botocore would send (lpack.bundle.s3_light);
        any answer but a 200 or a NoSuchKey is asked again through botocore, and from then on
        botocore makes them all, so its errors, redirects and warnings are as they were."""
        light = self._light_client()
        if light is not None:
            from lpack.bundle.s3_light import Fallback

            try:
                return light.open(name)
            except Fallback:
                with self._guard:
                    self._light_off = True
        client = self.client
        from botocore.exceptions import ClientError

        try:
            response = client.get_object(Bucket=self.bucket, Key=name)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise
        return response["Body"], dict(response.get("Metadata") or {})

    def _light_client(self) -> S3Light | None:
        """lpack's own S3 GETs (an S3Light), made in the process that uses them, or None."""
        with self._guard:
            if self._light_off:
                return None
            if self._light is None or self._light_pid != os.getpid():
                from lpack.bundle import s3_light

                target = s3_light.for_bucket(self.bucket, self.endpoint)
                if target is None:
                    self._light_off = True
                    return None
                self._light, self._light_pid = s3_light.S3Light(target), os.getpid()
            return self._light

    def _put(self, name: str, data: bytes, metadata: dict[str, str]) -> None:
        import base64

        checksum = base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()
        self.client.put_object(Bucket=self.bucket, Key=name, Body=data, Metadata=metadata, ContentMD5=checksum)

    @property
    def client(self) -> Any:
        with self._guard:
            if self._client is None or self._client_pid != os.getpid():
                self._client, self._client_pid = make_client(self.endpoint), os.getpid()
            return self._client

    def _fail(self, why: object) -> None:
        with self._guard:
            if self.failed is not None:
                return
            self.failed = _reason(why)
        self._warn(f"remote cache {self.url}: {self.failed}; building locally")


def parse_url(url: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` -> (bucket, "some/prefix/")."""
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.hostname or "@" in parts.netloc:
        raise UsageError(f"{redact(url)}: a remote cache is an S3 URL, s3://BUCKET or s3://BUCKET/PREFIX",
                         tip="for an S3-compatible store, give its address with --remote-cache-endpoint")
    prefix = parts.path.strip("/")
    return parts.hostname, f"{prefix}/" if prefix else ""


def make_client(endpoint: str | None) -> Any:
    """An S3 client with short timeouts and few retries: a shared cache that does not answer
    costs seconds, not minutes. Credentials, region and endpoint come from the standard AWS
    environment and profile (AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL as botocore reads them)."""
    try:  # botocore's session, as boto3's wraps it: boto3 and s3transfer (~0.1 s) only for an upload's parts
        import botocore.session
        from botocore.config import Config
    except ImportError as exc:
        raise _Missing("boto3 is not installed (" + INSTALL_TIP + ")") from exc
    config = Config(connect_timeout=2, read_timeout=20, retries={"max_attempts": 2, "mode": "standard"})
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    session = botocore.session.get_session()
    return session.create_client("s3", endpoint_url=endpoint, config=config,
                                 region_name=region or session.get_config_variable("region") or "us-east-1")


class _Missing(Exception):
    """boto3 is not installed: a reason like any other remote failure."""


def matches(data: bytes, record: Mapping[str, Any]) -> bool:
    """Whether ``data`` is what ``record`` says was stored: its size and sha256."""
    return len(data) == record.get("size") and hashlib.sha256(data).hexdigest() == record.get("sha256")


def remote_errors() -> tuple[type[BaseException], ...]:
    """What a remote call can raise (botocore is imported by the time one of its errors is
    raised: a process whose reads never needed it does not import it to say so)."""
    import sys

    if "botocore" not in sys.modules:
        return (_Missing, OSError)
    try:
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:
        return (_Missing, OSError)
    return (_Missing, BotoCoreError, ClientError, OSError)


def _reason(why: object) -> str:
    """One line without credentials: botocore's errors name the endpoint, never the keys."""
    if isinstance(why, BaseException):
        code = getattr(why, "response", {}).get("Error", {}).get("Code") if hasattr(why, "response") else None
        text = str(why) or type(why).__name__
        if code in ("AccessDenied", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
            text = f"access denied ({code})"
        elif type(why).__name__ == "NoCredentialsError":
            text = "no AWS credentials found (environment, profile or instance role)"
    else:
        text = str(why)
    secret = os.environ.get("AWS_SECRET_ACCESS_KEY")
    if secret:
        text = text.replace(secret, "****")
    return redact(" ".join(text.split()))
