"""A deterministic zip writer that can copy already-compressed entries byte for byte.

Entries are written in the order given (callers sort them), with one fixed timestamp, normalized
Unix permissions, no extra fields and no host metadata, so the same inputs give the same bytes.
Copying compressed members from another zip (``RawMember``) means a dependency that did not
change is never recompressed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import struct
import time
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO, NamedTuple

from lpack.core.errors import BuildError
from lpack.core.files import atomic_writer

DEFLATE_LEVEL = 6
STORED, DEFLATED = 0, 8  # zip compression methods
FILE_MODE = 0o644
EXEC_MODE = 0o755
DIR_MODE = 0o755
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_MADE_BY = (3 << 8) | 20  # Unix, zip spec 2.0
_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_END = struct.Struct("<IHHHHIIH")
_END64 = struct.Struct("<IQHHIIQQQQ")
_LOCATOR64 = struct.Struct("<IIQI")
_LIMIT16, _LIMIT32 = 0xFFFF, 0xFFFFFFFF


class Member(NamedTuple):
    """One compressed entry ready to write: name, mode, sizes, CRC and where its bytes are."""

    name: str
    mode: int
    crc: int
    size: int
    compressed_size: int
    method: int
    data: bytes | None = None  # compressed bytes, or None to copy from ``source``
    source: Path | None = None  # a zip holding the compressed bytes
    offset: int = 0  # offset of the compressed bytes in ``source``

    def renamed(self, name: str) -> Member:
        return Member(name, self.mode, self.crc, self.size, self.compressed_size, self.method,
                      self.data, self.source, self.offset)


def compress(name: str, data: bytes, mode: int) -> Member:
    if not data:
        return Member(name, mode, 0, 0, 0, STORED, b"")
    packer = zlib.compressobj(DEFLATE_LEVEL, zlib.DEFLATED, -15)
    packed = packer.compress(data) + packer.flush()
    crc = zlib.crc32(data)
    if len(packed) >= len(data):
        return Member(name, mode, crc, len(data), len(data), STORED, data)
    return Member(name, mode, crc, len(data), len(packed), DEFLATED, packed)


def file_mode(path: Path) -> int:
    return EXEC_MODE if os.stat(path).st_mode & 0o111 else FILE_MODE


def compress_files(files: Iterable[tuple[str, Path]]) -> list[Member]:
    """Read and compress files in parallel (zlib releases the GIL), in input order. Given an
    iterator (a folder walk), compression starts while the walk goes on."""
    def one(item: tuple[str, Path]) -> Member:
        name, path = item
        return compress(name, path.read_bytes(), file_mode(path))

    if isinstance(files, (list, tuple)) and len(files) < 8:
        return [one(item) for item in files]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=(os.cpu_count() or 1) + 1) as pool:
        return list(pool.map(one, files))


def directory(name: str) -> Member:
    return Member(name if name.endswith("/") else name + "/", DIR_MODE, 0, 0, 0, STORED, b"")


def read_members(path: Path) -> list[Member]:
    """The entries of a zip this module wrote, as Members pointing at their compressed bytes.

    Reads only the central directory (parsed here: ``zipfile`` needs a seek and read of every
    local header, which dominated a rebuild). Archives from elsewhere go through ``zipfile``.
    """
    data = path.read_bytes() if path.stat().st_size < (64 << 20) else None
    if data is None or data[-_END.size:-_END.size + 4] != b"PK\x05\x06":
        return _read_members_zipfile(path)
    _, _, _, _, count, _size, start, _ = _END.unpack_from(data, len(data) - _END.size)
    members = []
    at = start
    for _ in range(count):
        fields = _CENTRAL.unpack_from(data, at)
        name_len, extra_len, comment_len = fields[10], fields[11], fields[12]
        if fields[0] != 0x02014B50 or extra_len or comment_len:
            return _read_members_zipfile(path)
        name = data[at + _CENTRAL.size: at + _CENTRAL.size + name_len].decode("utf-8")
        offset = fields[16] + _LOCAL.size + name_len  # this writer puts no extra field in local headers
        members.append(Member(name, (fields[15] >> 16) & 0o7777, fields[7], fields[9], fields[8],
                              fields[4], None, path, offset))
        at += _CENTRAL.size + name_len
    return members


def _read_members_zipfile(path: Path) -> list[Member]:
    import zipfile

    members = []
    with zipfile.ZipFile(path) as zf, open(path, "rb") as raw:
        for info in zf.infolist():
            raw.seek(info.header_offset)
            header = _LOCAL.unpack(raw.read(_LOCAL.size))
            offset = info.header_offset + _LOCAL.size + header[9] + header[10]
            mode = (info.external_attr >> 16) & 0o7777 or (DIR_MODE if info.is_dir() else FILE_MODE)
            members.append(Member(info.filename, mode, info.CRC, info.file_size, info.compress_size,
                                  info.compress_type, None, path, offset))
    return members


def source_date() -> tuple[int, int, int, int, int, int]:
    """SOURCE_DATE_EPOCH when set (clamped to zip's 1980 epoch), else 1980-01-01 00:00:00."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if not epoch:
        return _ZIP_EPOCH
    try:
        when = time.gmtime(int(epoch))
    except (ValueError, OverflowError, OSError):
        raise BuildError(f"SOURCE_DATE_EPOCH={epoch!r} is not a whole number of seconds since 1970") from None
    if when.tm_year < 1980:
        return _ZIP_EPOCH
    return (min(when.tm_year, 2107), when.tm_mon, when.tm_mday, when.tm_hour, when.tm_min, when.tm_sec)


def _dos(stamp: tuple[int, int, int, int, int, int]) -> tuple[int, int]:
    year, month, day, hour, minute, second = stamp
    return (hour << 11) | (minute << 5) | (second // 2), ((year - 1980) << 9) | (month << 5) | day


def write_zip(out: BinaryIO, members: Iterable[Member], stamp: tuple[int, int, int, int, int, int] | None = None) -> None:
    """Write ``members`` in order as a complete zip archive to ``out``."""
    dos_time, dos_date = _dos(stamp or source_date())
    central = bytearray()
    count = 0
    position = 0
    for member, data in _with_data(members):
        name = member.name.encode("utf-8")
        flags = 0x800 if not member.name.isascii() else 0
        if position > _LIMIT32 or member.compressed_size > _LIMIT32 or member.size > _LIMIT32:
            raise BuildError(f"{member.name}: the package passes 4 GB, far over Lambda's limits; exclude what the function does not need")
        kind = 0o040000 if member.name.endswith("/") else 0o100000
        out.write(_LOCAL.pack(0x04034B50, 20, flags, member.method, dos_time, dos_date, member.crc,
                              member.compressed_size, member.size, len(name), 0))
        out.write(name)
        out.write(data)
        central += _CENTRAL.pack(0x02014B50, _MADE_BY, 20, flags, member.method, dos_time, dos_date,
                                 member.crc, member.compressed_size, member.size, len(name), 0, 0, 0,
                                 0, (kind | member.mode) << 16, position)
        central += name
        position += _LOCAL.size + len(name) + len(data)
        count += 1
    _write_end(out, central, count, position)


def local_offsets(members: Iterable[Member]) -> list[int]:
    """Where ``write_zip`` puts each member's local header, in order: what a central directory
    would say, known without reading the zip back."""
    offsets, position = [], 0
    for member in members:
        offsets.append(position)
        position += _LOCAL.size + len(member.name.encode("utf-8")) + member.compressed_size
    return offsets


def _with_data(members: Iterable[Member]) -> Iterator[tuple[Member, bytes]]:
    handles: dict[Path, BinaryIO] = {}
    try:
        for member in members:
            if member.data is not None:
                yield member, member.data
                continue
            assert member.source is not None
            handle = handles.get(member.source)
            if handle is None:
                handle = handles[member.source] = open(member.source, "rb")  # noqa: SIM115
            handle.seek(member.offset)
            yield member, handle.read(member.compressed_size)
    finally:
        for handle in handles.values():
            handle.close()


def _write_end(out: BinaryIO, central: bytearray, count: int, position: int) -> None:
    out.write(central)
    if count > _LIMIT16 or position > _LIMIT32:
        end64 = position + len(central)
        out.write(_END64.pack(0x06064B50, 44, _MADE_BY, 45, 0, 0, count, count, len(central), position))
        out.write(_LOCATOR64.pack(0x07064B50, 0, end64, 1))
        out.write(_END.pack(0x06054B50, 0, 0, _LIMIT16, _LIMIT16, min(len(central), _LIMIT32), _LIMIT32, 0))
    else:
        out.write(_END.pack(0x06054B50, 0, 0, count, count, len(central), position, 0))


class _Digesting:
    """A binary file wrapper that hashes and counts what is written through it."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        self.size += len(data)
        return self.raw.write(data)


def atomic_write_zip(path: Path, members: Iterable[Member], *, durable: bool = True,
                     tip: str | None = None) -> tuple[str, int]:
    """Write to a temporary file beside ``path`` and rename it into place: never a partial zip.
    ``durable`` flushes it to disk first (a cache entry can do without). Returns the sha256
    (hex) and size of what was written; a refused write is a WriteError with ``tip``."""
    with atomic_writer(path, durable=durable, tip=tip) as out:
        digesting = _Digesting(out)
        write_zip(digesting, members)  # type: ignore[arg-type]
    return digesting.digest.hexdigest(), digesting.size


def timestamp_label() -> str:
    stamp = source_date()
    return dt.datetime(*stamp).isoformat()
