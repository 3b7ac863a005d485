"""Read a container image from disk, without Docker: a `docker save` tar (the legacy layout, or
Docker 25+'s, which is an OCI layout inside), an OCI image layout folder, or an OCI layout in a tar.

Everything is streamed: a layer is never held in memory. An uncompressed layer's size is its tar's
size (read from the blob's size, not its bytes); a gzip layer is decompressed once, in chunks, to
count it and to list the few paths the rules ask about; a zstd layer is read with
``compression.zstd`` or ``zstandard`` when the Python has one, else reported as unreadable.
Layer digests are not verified (that would read every byte of a 10 GB image).
"""

from __future__ import annotations

import functools
import io
import json
import os
import re
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, NamedTuple, cast

from lpack.core.errors import LpackError
from lpack.core.facts import images as facts

JSON_LIMIT_BYTES = 8 << 20  # an index, manifest or config larger than this is not one
HEADER_READ_LIMIT_BYTES = 16 << 20  # a tar header (pax, long name) larger than this is hostile
MEMBER_LIMIT = 100_000  # an image tar holds a few files per layer
NESTING_LIMIT = 4  # index -> index -> manifest, and a little room
DIGEST = re.compile(r"sha256:([0-9a-f]{64})")
GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
CHUNK = 1 << 20


@dataclass(frozen=True)
class ImageLayer:
    digest: str  # or the layer's member name in a legacy docker-save tar
    compression: str  # "none", "gzip" or "zstd"
    stored_bytes: int
    size_bytes: int | None  # uncompressed; None when lpack could not read it
    unreadable: str = ""  # why size_bytes is None
    over: bool = False  # counting stopped at the limit: the size is at least size_bytes


@dataclass(frozen=True)
class Image:
    path: Path
    layout: str  # "docker save tar", "OCI layout", "OCI layout tar"
    os: str
    architecture: str
    variant: str
    entrypoint: tuple[str, ...]
    cmd: tuple[str, ...]
    workdir: str
    env: tuple[str, ...]
    layers: tuple[ImageLayer, ...]
    platforms: tuple[str, ...] = ()  # the index's platforms, when it has several
    attestations: int = 0  # buildx attestation manifests in the index
    markers: frozenset[str] = frozenset()  # which runtime-interface markers the layers hold

    @property
    def platform(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)

    @property
    def size_bytes(self) -> int:
        """The uncompressed size of the layers lpack could read."""
        return sum(layer.size_bytes or 0 for layer in self.layers)

    @property
    def over(self) -> bool:
        """Counting stopped at the limit: the image is larger than ``size_bytes``."""
        return any(layer.over for layer in self.layers)

    @property
    def fully_read(self) -> bool:
        return all(layer.size_bytes is not None for layer in self.layers)


def is_oci_layout(path: Path) -> bool:
    return path.is_dir() and (path / "oci-layout").is_file() and (path / "index.json").is_file()


def read_image(path: Path, architecture: str = "x86_64") -> Image:
    """The image at ``path`` (a tar or an OCI layout folder); of a multi-platform index, the
    platform that matches ``architecture`` (Lambda's name: x86_64 or arm64)."""
    if path.is_dir():
        if not is_oci_layout(path):
            raise LpackError(f"{path}: not an OCI image layout (it needs an oci-layout file and index.json)")
        return _read(_Folder(path), "OCI layout", architecture)
    try:
        with open(path, "rb") as handle:
            store = _TarStore(path, handle)
            if store.has("oci-layout") and store.has("index.json"):
                layout = "docker save tar" if store.has("manifest.json") else "OCI layout tar"
                return _read(store, layout, architecture)
            if store.has("manifest.json"):
                return _read_legacy(store, architecture)
    except OSError as exc:
        raise LpackError(f"{path}: cannot read the image: {exc.strerror or exc}") from exc
    raise LpackError(f"{path}: not a container image (no manifest.json, nor oci-layout and index.json); "
                     "make one with `docker save IMAGE -o image.tar`")


# -- where the files are: a folder, or members of a tar ---------------------------------------------

class _Store:
    path: Path

    def open_blob(self, name: str) -> tuple[IO[bytes], int]:
        raise NotImplementedError

    def read_json(self, name: str) -> Any:
        handle, size = self.open_blob(name)
        with handle:
            if size > JSON_LIMIT_BYTES:
                raise LpackError(f"{self.path}: {name} is {size:,} bytes, too large for image metadata")
            data = handle.read(JSON_LIMIT_BYTES + 1)
        try:
            return json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise LpackError(f"{self.path}: {name} is not valid JSON ({exc})") from None
        except RecursionError:
            raise LpackError(f"{self.path}: {name} nests too deep to be image metadata") from None

    def blob(self, digest: Any) -> str:
        match = DIGEST.fullmatch(digest) if isinstance(digest, str) else None
        if match is None:
            raise LpackError(f"{self.path}: {str(digest)[:80]!r} is not a sha256 digest lpack can read")
        return f"blobs/sha256/{match.group(1)}"


class _Folder(_Store):
    def __init__(self, path: Path) -> None:
        self.path = path

    def open_blob(self, name: str) -> tuple[IO[bytes], int]:
        file = self.path / name
        try:
            info = os.lstat(file)
        except OSError:
            raise LpackError(f"{self.path}: {name} is missing from the layout") from None
        if not stat.S_ISREG(info.st_mode):
            raise LpackError(f"{self.path}: {name} is not a regular file (a link or a folder); lpack does not follow it")
        return open(file, "rb"), info.st_size


class _TarStore(_Store):
    """The members of an outer tar, by name; each opened as a slice of the tar file."""

    def __init__(self, path: Path, handle: IO[bytes]) -> None:
        self.path, self.handle = path, handle
        self.members: dict[str, _Entry] = {}
        try:
            for entry in _entries(handle, seekable=True):  # seeks past the data: a 10 GB layer costs nothing
                if len(self.members) > MEMBER_LIMIT:
                    raise ValueError(f"more than {MEMBER_LIMIT:,} members")
                self.members[_normal(entry.name)] = entry
        except ValueError as exc:
            raise LpackError(f"{path}: not a readable tar ({exc}); make one with `docker save IMAGE -o image.tar`") \
                from None

    def has(self, name: str) -> bool:
        return name in self.members

    def open_blob(self, name: str) -> tuple[IO[bytes], int]:
        if name.startswith("/") or ".." in name.split("/"):
            raise LpackError(f"{self.path}: the image names {name!r}, outside the archive; lpack does not follow it")
        member = self.members.get(_normal(name))
        if member is None:
            raise LpackError(f"{self.path}: {name} is missing from the archive")
        if not member.isfile():
            raise LpackError(f"{self.path}: {name} is not a regular file (a link or a folder); lpack does not follow it")
        return cast(IO[bytes], _Slice(self.handle, member.offset, member.size)), member.size


def _normal(name: str) -> str:
    return name.removeprefix("./")


class _Slice(io.RawIOBase):
    """``size`` bytes of ``handle`` from ``start``, as a seekable file of their own."""

    def __init__(self, handle: IO[bytes], start: int, size: int) -> None:
        self.handle, self.start, self.size, self.pos = handle, start, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self.pos, 2: self.size}[whence]
        self.pos = max(0, base + offset)
        return self.pos

    def tell(self) -> int:
        return self.pos

    def readinto(self, buffer: Any) -> int:
        want = min(len(buffer), self.size - self.pos)
        if want <= 0:
            return 0
        self.handle.seek(self.start + self.pos)
        data = self.handle.read(want)
        buffer[: len(data)] = data
        self.pos += len(data)
        return len(data)


# -- the image's manifest and config ----------------------------------------------------------------

def _read_legacy(store: _TarStore, architecture: str) -> Image:
    manifest = store.read_json("manifest.json")
    if not isinstance(manifest, list) or not manifest or not isinstance(manifest[0], dict):
        raise LpackError(f"{store.path}: manifest.json does not list an image")
    entry = manifest[0]
    config, layers = entry.get("Config"), entry.get("Layers")
    if not isinstance(config, str) or not isinstance(layers, list) or not all(isinstance(x, str) for x in layers):
        raise LpackError(f"{store.path}: manifest.json's image has no Config file or Layers list")
    return _image(store, "docker save tar", store.read_json(config), [(name, name) for name in layers])


def _read(store: _Store, layout: str, architecture: str) -> Image:
    index = store.read_json("index.json")
    found: list[tuple[dict[str, Any], str]] = []  # (descriptor, platform)
    attestations = _manifests(store, index, "index.json", found, 0)
    if not found:
        raise LpackError(f"{store.path}: index.json names no image manifest")
    platforms = tuple(platform for _, platform in found)
    wanted = f"linux/{facts.OCI_ARCHITECTURE.get(architecture, architecture)}"
    descriptor = next((d for d, p in found if p.startswith(wanted)), found[0][0])
    manifest = store.read_json(store.blob(descriptor.get("digest")))
    if not isinstance(manifest, dict) or not isinstance(manifest.get("config"), dict) \
            or not isinstance(manifest.get("layers"), list):
        raise LpackError(f"{store.path}: manifest {descriptor.get('digest')} has no config or layers")
    config = store.read_json(store.blob(manifest["config"].get("digest")))
    layers = [(store.blob(d.get("digest") if isinstance(d, dict) else d), str(d.get("digest")))
              for d in manifest["layers"] if isinstance(d, dict)]
    image = _image(store, layout, config, layers)
    from dataclasses import replace

    return replace(image, platforms=platforms if len(platforms) > 1 else (), attestations=attestations)


def _manifests(store: _Store, index: Any, name: str, found: list[tuple[dict[str, Any], str]], depth: int) -> int:
    """Collect the image manifests an index names (following nested indexes); return how many
    attestation manifests it holds."""
    if depth > NESTING_LIMIT:
        raise LpackError(f"{store.path}: indexes nested more than {NESTING_LIMIT} deep")
    if not isinstance(index, dict) or not isinstance(index.get("manifests"), list):
        raise LpackError(f"{store.path}: {name} has no manifests list")
    attestations = 0
    for descriptor in index["manifests"]:
        if not isinstance(descriptor, dict):
            raise LpackError(f"{store.path}: {name} lists a manifest that is not an object")
        annotations = descriptor.get("annotations") or {}
        if isinstance(annotations, dict) and facts.ATTESTATION_ANNOTATION in annotations:
            attestations += 1
            continue
        media = descriptor.get("mediaType")
        if media in facts.INDEX_MEDIA_TYPES or media is None:  # no media type: the blob says what it is
            blob = store.blob(descriptor.get("digest"))
            nested = store.read_json(blob)
            if media is not None or (isinstance(nested, dict) and "manifests" in nested):
                attestations += _manifests(store, nested, blob, found, depth + 1)
                continue
            found.append((descriptor, _platform(descriptor.get("platform"))))
        else:
            found.append((descriptor, _platform(descriptor.get("platform"))))
    return attestations


def _platform(platform: Any) -> str:
    if not isinstance(platform, dict):
        return ""
    return "/".join(str(platform[k]) for k in ("os", "architecture", "variant") if platform.get(k))


def _image(store: _Store, layout: str, config: Any, layers: list[tuple[str, str]]) -> Image:
    if not isinstance(config, dict):
        raise LpackError(f"{store.path}: the image config is not a JSON object")
    run: dict[str, Any] = config["config"] if isinstance(config.get("config"), dict) else {}
    markers: set[str] = set()
    read: list[ImageLayer] = []
    for blob, digest in layers:  # a gzip layer is counted only up to what is left of the limit
        budget = max(facts.IMAGE_SIZE_LIMIT_BYTES - sum(layer.size_bytes or 0 for layer in read), 0)
        read.append(_layer(store, blob, digest, markers, budget))
    return Image(path=store.path, layout=layout, os=_text(config.get("os")),
                 architecture=_text(config.get("architecture")), variant=_text(config.get("variant")),
                 entrypoint=_strings(run.get("Entrypoint")), cmd=_strings(run.get("Cmd")),
                 workdir=_text(run.get("WorkingDir")), env=_strings(run.get("Env")), layers=tuple(read),
                 markers=frozenset(markers))


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


# -- a layer: its uncompressed size and the paths the rules ask about ------------------------------

class _Limit(Exception):
    """Counting stopped: the layers already exceed the image limit."""


def _layer(store: _Store, blob: str, digest: str, markers: set[str], budget: int) -> ImageLayer:
    handle, stored = store.open_blob(blob)
    with handle:
        magic = handle.read(4)
        handle.seek(0)
        if magic.startswith(GZIP_MAGIC):
            return _compressed(store, blob, (digest, "gzip"), handle, stored, markers, budget)
        if magic == ZSTD_MAGIC:
            return _compressed(store, blob, (digest, "zstd"), handle, stored, markers, budget)
        _scan(store, blob, handle, markers, stream=False)
        return ImageLayer(digest, "none", stored, stored)


def _compressed(store: _Store, blob: str, what: tuple[str, str], handle: IO[bytes], stored: int,
                markers: set[str], budget: int) -> ImageLayer:
    digest, kind = what
    opener = _decompressor(kind)
    if opener is None:
        return ImageLayer(digest, kind, stored, None,
                          unreadable="zstd layer, and this Python has neither compression.zstd nor zstandard")
    counter = _Counter(opener(handle), budget)
    try:
        _scan(store, blob, cast(IO[bytes], counter), markers, stream=True)
        while counter.read(CHUNK):
            pass
    except _Limit:
        return ImageLayer(digest, kind, stored, counter.count, over=True)
    except (EOFError, OSError, ValueError) as exc:
        raise LpackError(f"{store.path}: layer {blob} is not a readable {kind} stream ({exc or 'truncated'})") \
            from None
    except Exception as exc:  # noqa: BLE001  (zstandard's ZstdError and the like derive from Exception)
        raise LpackError(f"{store.path}: layer {blob} is not a readable {kind} stream ({exc})") from None
    return ImageLayer(digest, kind, stored, counter.count)


def _decompressor(kind: str) -> Callable[[IO[bytes]], IO[bytes]] | None:
    if kind == "gzip":
        import gzip

        return lambda handle: cast(IO[bytes], gzip.GzipFile(fileobj=handle, mode="rb"))
    import importlib

    for module, make in (("compression.zstd", lambda m, h: m.ZstdFile(h)),  # Python 3.14+
                         ("zstandard", lambda m, h: m.ZstdDecompressor().stream_reader(h))):
        try:
            found = importlib.import_module(module)
        except ImportError:
            continue
        return functools.partial(_zstd_reader, found, make)
    return None


def _zstd_reader(module: Any, make: Callable[[Any, IO[bytes]], Any], handle: IO[bytes]) -> IO[bytes]:
    return cast(IO[bytes], make(module, handle))


class _Counter(io.RawIOBase):
    """Counts what is read through it, and stops at ``limit`` bytes in all."""

    def __init__(self, inner: IO[bytes], limit: int) -> None:
        self.inner, self.limit, self.count = inner, limit, 0

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        data = self.inner.read(CHUNK if size is None or size < 0 else size)
        self.count += len(data)
        if self.count > self.limit:
            raise _Limit
        return data


class _Entry(NamedTuple):
    name: str
    kind: bytes  # the tar typeflag: b"0" (or b"\0") a file, b"2" a link, b"5" a folder...
    offset: int  # where its data starts (in a seekable tar)
    size: int

    def isfile(self) -> bool:
        return self.kind in (b"0", b"\0", b"7")


def _entries(handle: IO[bytes], *, seekable: bool) -> Iterator[_Entry]:
    """The members of a tar, read header by header: data is skipped (seeked past in a file, read
    and dropped in a stream), and no header may declare more than HEADER_READ_LIMIT_BYTES."""
    position, extended = 0, {}
    while True:
        header = _exactly(handle, 512)
        position += len(header)
        if len(header) < 512 or header == bytes(512):
            return  # the end blocks, or a tar that stops without them
        if _number(header[148:156]) != sum(header[:148]) + 256 + sum(header[156:]):
            raise ValueError("bad header checksum")
        size, kind = _number(header[124:136]), header[156:157]
        if kind in (b"L", b"x", b"g", b"K"):
            if size > HEADER_READ_LIMIT_BYTES:
                raise ValueError(f"a tar header declares {size:,} bytes")
            padded = -(-size // 512) * 512
            data = _exactly(handle, padded)[:size]
            position += padded
            extended.update(_extended(kind, data))
            continue
        size = int(extended.get("size", size))
        yield _Entry(extended.get("path") or _ustar_name(header), kind, position, size)
        extended = {}
        padded = -(-size // 512) * 512
        _skip(handle, padded, seekable)
        position += padded


def _exactly(handle: IO[bytes], size: int) -> bytes:
    parts, left = [], size
    while left > 0 and (data := handle.read(min(left, CHUNK))):
        parts.append(data)
        left -= len(data)
    return b"".join(parts)


def _skip(handle: IO[bytes], size: int, seekable: bool) -> None:
    if seekable:
        handle.seek(size, os.SEEK_CUR)
        return
    while size > 0 and (data := handle.read(min(size, CHUNK))):
        size -= len(data)


def _number(field: bytes) -> int:
    if field[:1] and field[0] & 0x80:  # base-256, GNU's way of writing sizes over 8 GB
        return int.from_bytes(field[1:], "big")
    text = field.split(b"\0", 1)[0].strip()
    try:
        return int(text, 8) if text else 0
    except ValueError:
        raise ValueError(f"bad number field {text[:12]!r}") from None


def _ustar_name(header: bytes) -> str:
    name = header[:100].split(b"\0", 1)[0].decode("utf-8", "replace")
    prefix = header[345:500].split(b"\0", 1)[0].decode("utf-8", "replace") if header[257:262] == b"ustar" else ""
    return f"{prefix}/{name}" if prefix else name


def _extended(kind: bytes, data: bytes) -> dict[str, str]:
    """What a GNU long name (L) or a pax header (x) says of the next member: its path, its size."""
    if kind == b"L":
        return {"path": data.split(b"\0", 1)[0].decode("utf-8", "replace")}
    found: dict[str, str] = {}
    position = 0
    while kind == b"x" and position < len(data):  # pax records: "LENGTH key=value\n"
        space = data.find(b" ", position)
        if space < 0 or not data[position:space].isdigit() or int(data[position:space]) <= space - position:
            raise ValueError("bad pax header")
        length = int(data[position:space])
        key, _, value = data[space + 1: position + length - 1].partition(b"=")
        if key == b"path":
            found["path"] = value.decode("utf-8", "replace")
        elif key == b"size" and value.isdigit():
            found["size"] = value.decode()
        position += length
    return found


def _scan(store: _Store, blob: str, handle: IO[bytes], markers: set[str], *, stream: bool) -> None:
    """Note which runtime-interface markers the layer's tar holds, keeping no member list. A
    whiteout (``.wh.NAME``, or a folder's ``.wh..wh..opq``) hides what lower layers held."""
    added: set[str] = set()
    hidden: set[str] = set()
    try:
        for entry in _entries(handle, seekable=not stream):
            path = entry.name.removeprefix("./").strip("/")
            folder, _, base = path.rpartition("/")
            if base.startswith(".wh."):
                gone = folder if base == ".wh..wh..opq" else f"{folder}/{base[4:]}".lstrip("/")
                hidden |= {m for m in markers if _covers(gone, m)}
            elif (marker := _marker(path)) is not None:
                added.add(marker)
    except ValueError as exc:
        raise LpackError(f"{store.path}: layer {blob} is not a readable tar ({exc})") from None
    markers.difference_update(hidden - added)
    markers.update(added)


def _marker(path: str) -> str | None:
    if path == facts.BASE_ENTRYPOINT:
        return "entrypoint"
    if path.startswith(facts.RUNTIME_DIR):
        return "runtime"
    if f"/{facts.PYTHON_RIC}/" in f"/{path}/" and "site-packages/" in path:
        return "awslambdaric"
    return None


def _covers(gone: str, marker: str) -> bool:
    """Whether removing ``gone`` (a path) removes what ``marker`` stands for."""
    if marker == "entrypoint":
        return gone in ("", facts.BASE_ENTRYPOINT)
    if marker == "runtime":
        return facts.RUNTIME_DIR.startswith(f"{gone}/") or gone in ("", facts.RUNTIME_DIR.rstrip("/"))
    return gone == facts.PYTHON_RIC or gone.endswith((f"/{facts.PYTHON_RIC}", "site-packages"))
