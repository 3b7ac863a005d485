"""What the lock readers share: loading a file, its shape errors, markers, the target's wheel tags."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from lpack.core.compat import tomllib
from lpack.core.errors import ConfigError
from lpack.core.targets import Target

# What reading a lock of an unexpected shape raises: missing keys, a string where a table was
# expected, an unparsable TOML/JSON document, version or marker (all ValueError subclasses).
_SHAPE_ERRORS = (KeyError, TypeError, ValueError, AttributeError, IndexError)


@contextmanager
def malformed(path: Path, regenerate: str, *, what: str = "a lock file") -> Iterator[None]:
    """Report a file that is not what its tool writes as a ConfigError naming the file.
    ``regenerate`` names the command that rewrites it (a manifest: "fix it, then ...")."""
    try:
        yield
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it ({exc.strerror or exc})") from exc
    except _SHAPE_ERRORS as exc:
        detail = f"missing key {exc}" if isinstance(exc, KeyError) else str(exc).splitlines()[0]
        raise ConfigError(
            f"{path}: not {what} lpack can read ({detail}); "
            + (
                f"regenerate it with {regenerate}"
                if what == "a lock file"
                else f"fix it, then run {regenerate}"
            )
        ) from exc


def load_toml(path: Path) -> dict[str, Any]:
    with path.open("rb") as f:
        return tomllib.load(f)


def load_json_object(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise TypeError(f"expected a JSON object, found {type(data).__name__}")
    return data


def table(data: Mapping[str, Any], key: str) -> dict[str, Any]:
    """``data[key]`` when it is a table, ``{}`` when absent; a TypeError for anything else."""
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise TypeError(f"{key!r} should be a table, found {type(value).__name__}")
    return value


def array(data: Mapping[str, Any], key: str) -> list[Any]:
    """``data[key]`` when it is an array, ``[]`` when absent; a TypeError for anything else."""
    value = data.get(key, [])
    if not isinstance(value, list):
        raise TypeError(f"{key!r} should be an array, found {type(value).__name__}")
    return value


def string(data: Mapping[str, Any], key: str) -> str:
    value = data[key]
    if not isinstance(value, str):
        raise TypeError(f"{key!r} should be a string, found {type(value).__name__}")
    return value


def marker_true(marker: object, env: Mapping[str, Any], *, lock_file: bool = False) -> bool:
    """Whether a PEP 508 marker (absent: always) holds in ``env``. ``lock_file`` evaluates the
    PEP 751 variables ``extras`` and ``dependency_groups`` (sets) as well."""
    from packaging.markers import Marker

    if marker is None or marker == "":
        return True
    if not isinstance(marker, str):
        raise TypeError(f"a marker should be a string, found {type(marker).__name__}")
    if lock_file:
        return Marker(marker).evaluate(dict(env), context="lock_file")
    return Marker(marker).evaluate(dict(env))


def absolute(base: Path, value: str) -> Path:
    """``value`` (relative to ``base``, or absolute) as a normalised absolute path."""
    return Path(os.path.normpath(base.absolute() / value))


def python_full_version(target: Target) -> str:
    major, minor = target.runtime.python
    return f"{major}.{minor}.0"


def check_requires_python(path: Path, spec: object, target: Target, regenerate: str) -> None:
    """A lock made for Pythons that exclude the target's cannot be installed for it."""
    from packaging.specifiers import SpecifierSet

    if spec is None:
        return
    if not isinstance(spec, str):
        raise TypeError(f"'requires-python' should be a string, found {type(spec).__name__}")
    if not SpecifierSet(spec).contains(python_full_version(target), prereleases=True):
        raise ConfigError(
            f"{path}: locked for Python {spec}, but {target.label} runs Python "
            f"{target.runtime.python_version}; widen requires-python and run {regenerate}"
        )


def hash_strings(hashes: Mapping[str, Any]) -> list[str]:
    """``{"sha256": "ab.."}`` -> ``["sha256:ab.."]`` (the algorithms pip can check)."""
    return [
        f"{alg}:{string(hashes, alg)}" for alg in ("sha256", "sha384", "sha512") if alg in hashes
    ]


def target_tags(target: Target) -> list[Any]:
    """The wheel tags the target's interpreter accepts, most specific first."""
    from packaging import tags

    python = target.runtime.python
    platforms = target.platform_tags()
    abi = target.runtime.abi
    return [
        *tags.cpython_tags(python, abis=[abi], platforms=platforms),
        *tags.compatible_tags(python, interpreter=abi, platforms=platforms),
    ]


def ordered_indexes(urls: Sequence[str]) -> tuple[str, ...]:
    """Unique index URLs in first-seen order, PyPI first when it is one of them."""
    unique = list(dict.fromkeys(urls))
    pypi = [
        u
        for u in unique
        if u.rstrip("/") in ("https://pypi.org/simple", "https://pypi.python.org/simple")
    ]
    return tuple(pypi + [u for u in unique if u not in pypi])


def load_toml_or_refuse(path: Path, fix: str) -> dict[str, Any]:
    """A TOML file's data; unreadable or malformed: ConfigError naming it and saying ``fix``."""
    from lpack.core.compat import tomllib

    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: invalid TOML ({exc}); {fix}") from exc


def load_manifest(manifest: Path, lock: str) -> dict[str, Any]:
    """The pyproject.toml a lock is read with."""
    if not manifest.is_file():
        raise ConfigError(f"{manifest}: no such file; {lock} is read with the pyproject.toml beside it")
    return load_toml_or_refuse(manifest, "fix the TOML syntax")


def nested_table(data: Any, *keys: str) -> dict[str, Any]:
    """``data[k1][k2]...`` when each is a table, else {} (a pyproject need not have them)."""
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data if isinstance(data, dict) else {}


STRONG_HASHES = ("sha256:", "sha384:", "sha512:")  # what --require-hashes accepts (md5 and sha1 are dropped)


class Unreadable(ValueError):
    """A marker, specifier or constraint in a lock that cannot be parsed; its reader turns it into
    a ConfigError naming the lock."""


def checked_field(table: Mapping[str, Any], key: str, kind: type | tuple[type, ...], path: Path, where: str,
                  default: Any = None, *, fix: str) -> Any:
    """``table[key]`` checked to be ``kind``; ``default`` when absent (missing if None). The errors
    name the lock, the place in it (``where``) and end with ``fix``."""
    if key not in table:
        if default is None:
            raise ConfigError(f"{path}: {where} has no {key!r}; {fix}")
        return default
    value = table[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise ConfigError(f"{path}: {where}: {key!r} has the wrong type ({type(value).__name__}); {fix}")
    return value


def file_hashes(files: Sequence[Any], path: Path, where: str, *, fix: str) -> tuple[str, ...]:
    """The strong hashes of a package's ``files = [{file, hash}]`` (Poetry's and PDM's shape), once each."""
    hashes = []
    for item in files:
        if not isinstance(item, dict) or not isinstance(item.get("hash", ""), str):
            raise ConfigError(f"{path}: {where}: 'files' holds something other than {{file, hash}} tables; {fix}")
        if item.get("hash", "").startswith(STRONG_HASHES):
            hashes.append(item["hash"])
    return tuple(dict.fromkeys(hashes))
