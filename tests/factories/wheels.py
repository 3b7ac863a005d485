"""Build real, spec-compliant wheels and sdists in a directory, deterministically.

Wheels follow the binary distribution format (PEP 427/491): normalised file name,
``.dist-info`` with METADATA, WHEEL (one ``Tag:`` per expanded tag), optional
``entry_points.txt`` and a RECORD of sha256 (urlsafe base64, unpadded) hashes and sizes.
Archives use a fixed timestamp, fixed permissions and sorted entries, so building the
same thing twice gives identical bytes.
"""

from __future__ import annotations

import base64
import csv
import gzip
import hashlib
import io
import itertools
import re
import tarfile
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from .elf import MACHINES, make_elf

__all__ = [
    "expand_tags",
    "make_native_wheel",
    "make_sdist",
    "make_wheel",
    "normalize",
]

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # earliest time a zip entry can hold
GENERATOR = "lpack-tests-factories (1.0)"
PYTHONS = ("cp310", "cp311", "cp312", "cp313", "cp314")


def normalize(name: str) -> str:
    """Project name as it appears in wheel/sdist file names and ``.dist-info``."""
    return re.sub(r"[-_.]+", "_", name).lower()


def expand_tags(tag: str) -> list[str]:
    """``py2.py3-none-any`` -> ``["py2-none-any", "py3-none-any"]`` (compressed tag sets)."""
    parts = tag.split("-")
    if len(parts) != 3 or not all(parts):
        raise ValueError(f"not a wheel tag (python-abi-platform): {tag!r}")
    return ["-".join(t) for t in itertools.product(*(p.split(".") for p in parts))]


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + digest.decode("ascii")


def _as_bytes(content: bytes | str) -> bytes:
    return content.encode("utf-8") if isinstance(content, str) else content


def _check_path(path: str) -> str:
    if path.startswith("/") or "\\" in path or ".." in path.split("/") or not path:
        raise ValueError(f"archive paths must be relative POSIX paths: {path!r}")
    return path


def _zip_write(zf: zipfile.ZipFile, path: str, data: bytes) -> None:
    info = zipfile.ZipInfo(path, date_time=ZIP_EPOCH)
    info.create_system = 3  # Unix, so external_attr carries the mode
    info.external_attr = (0o100755 if path.endswith(".so") else 0o100644) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(info, data)


def make_wheel(
    dest_dir: Path,
    name: str,
    version: str,
    *,
    tag: str = "py3-none-any",
    files: Mapping[str, bytes | str] | None = None,
    requires: Sequence[str] = (),
    console_scripts: Mapping[str, str] | None = None,
    metadata: Sequence[str] = (),
) -> Path:
    """Write ``{name}-{version}-{tag}.whl`` into ``dest_dir`` and return its path.

    ``files`` maps archive paths to contents; by default a package ``{import_name}``
    with ``__version__`` is written (``import_name`` is the normalised name). ``metadata``:
    more METADATA header lines (``License-Expression: MIT``, ``Classifier: ...``).
    """
    dist = normalize(name)
    wheel_version = version.replace("-", "_")
    tags = expand_tags(tag)
    pure = all(t.endswith("-none-any") for t in tags)
    if files is None:
        files = {f"{dist}/__init__.py": f'__version__ = "{version}"\n'}
    payload = {_check_path(p): _as_bytes(c) for p, c in files.items()}

    dist_info = f"{dist}-{wheel_version}.dist-info"
    if any(p.split("/")[0] == dist_info for p in payload):
        raise ValueError(f"files must not write into {dist_info}/")
    header = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}", *metadata]
    header += [f"Requires-Dist: {r}" for r in requires]
    wheel = [
        "Wheel-Version: 1.0",
        f"Generator: {GENERATOR}",
        f"Root-Is-Purelib: {'true' if pure else 'false'}",
    ]
    wheel += [f"Tag: {t}" for t in tags]
    meta_files = {
        f"{dist_info}/METADATA": "\n".join(header) + "\n\n",
        f"{dist_info}/WHEEL": "\n".join(wheel) + "\n\n",
    }
    if console_scripts:
        lines = ["[console_scripts]"]
        lines += [f"{k} = {v}" for k, v in sorted(console_scripts.items())]
        meta_files[f"{dist_info}/entry_points.txt"] = "\n".join(lines) + "\n"

    # Package files sorted first, then .dist-info sorted, RECORD last (as wheel tools do).
    entries = sorted(payload.items()) + sorted((p, _as_bytes(c)) for p, c in meta_files.items())
    record_path = f"{dist_info}/RECORD"
    record = io.StringIO()
    writer = csv.writer(record, lineterminator="\n")
    for path, data in entries:
        writer.writerow([path, _record_hash(data), len(data)])
    writer.writerow([record_path, "", ""])
    entries.append((record_path, record.getvalue().encode("utf-8")))

    dest_dir.mkdir(parents=True, exist_ok=True)
    out = dest_dir / f"{dist}-{wheel_version}-{tag}.whl"
    with zipfile.ZipFile(out, "w") as zf:
        for path, data in entries:
            _zip_write(zf, path, data)
    return out


def make_native_wheel(
    dest_dir: Path,
    name: str,
    version: str,
    *,
    python: str = "cp312",
    machine: str = "x86_64",
    manylinux: str = "manylinux_2_17",
    glibc_versions: Sequence[str] = ("GLIBC_2.17",),
    abi: str | None = None,
    requires: Sequence[str] = (),
) -> Path:
    """A manylinux wheel holding ``{pkg}/_native.<suffix>.so`` built by :func:`make_elf`.

    Tag: ``{python}-{abi or python}-{manylinux}_{machine}``, plus the legacy alias
    ``manylinux2014_{machine}`` when ``manylinux == "manylinux_2_17"``.
    """
    if python not in PYTHONS:
        raise ValueError(f"python must be one of {PYTHONS}, got {python!r}")
    if machine not in MACHINES:
        raise ValueError(f"machine must be one of {sorted(MACHINES)}, got {machine!r}")
    if not re.fullmatch(r"manylinux_\d+_\d+", manylinux):
        raise ValueError(f"manylinux must look like 'manylinux_2_17', got {manylinux!r}")
    if abi not in (None, "abi3", python):
        raise ValueError(f"abi must be None, 'abi3' or {python!r}, got {abi!r}")
    abi = abi or python

    platform = f"{manylinux}_{machine}"
    if manylinux == "manylinux_2_17":
        platform += f".manylinux2014_{machine}"
    pkg = normalize(name)
    suffix = "abi3" if abi == "abi3" else f"cpython-{python[2:]}-{machine}-linux-gnu"
    so_name = f"_native.{suffix}.so"
    files: dict[str, bytes | str] = {
        f"{pkg}/__init__.py": f'__version__ = "{version}"\n',
        f"{pkg}/{so_name}": make_elf(machine, glibc_versions, soname=so_name),
    }
    return make_wheel(
        dest_dir, name, version, tag=f"{python}-{abi}-{platform}", files=files, requires=requires
    )


def make_sdist(dest_dir: Path, name: str, version: str) -> Path:
    """Write a PEP 625 sdist ``{name}-{version}.tar.gz`` (setuptools backend)."""
    dist = normalize(name)
    root = f"{dist}-{version}"
    pkg_info = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\n"
    pyproject = (
        '[build-system]\nrequires = ["setuptools>=61"]\n'
        'build-backend = "setuptools.build_meta"\n\n'
        f'[project]\nname = "{name}"\nversion = "{version}"\n'
    )
    members = {
        f"{root}/PKG-INFO": pkg_info,
        f"{root}/pyproject.toml": pyproject,
        f"{root}/{dist}/__init__.py": f'__version__ = "{version}"\n',
    }
    dest_dir.mkdir(parents=True, exist_ok=True)
    out = dest_dir / f"{root}.tar.gz"
    with (
        open(out, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for path, content in sorted(members.items()):
            data = _as_bytes(content)
            info = tarfile.TarInfo(path)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    return out
