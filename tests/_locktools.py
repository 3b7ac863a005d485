"""What the lock-reader tests share: a wheel folder with old and new versions, local projects
any tool can build offline, and the host's machine (pip and pipenv lock for the host only)."""

from __future__ import annotations

import platform
import textwrap
from collections.abc import Sequence
from pathlib import Path

from lpack.inputs.locked import Locked
from tests.factories import make_native_wheel, make_wheel

# The Lambda architecture of the machine running the tests, and the other one.
HOST_MACHINE = platform.machine()
LAMBDA_ARCH = {"x86_64": "x86_64", "aarch64": "arm64"}
HOST_ARCH = LAMBDA_ARCH.get(HOST_MACHINE, "")
OTHER_ARCH = {"x86_64": "arm64", "arm64": "x86_64"}.get(HOST_ARCH, "")
OTHER_MACHINE = {"x86_64": "aarch64", "arm64": "x86_64"}.get(HOST_ARCH, "")


def make_wheels(dest: Path) -> Path:
    """alpha 1.0 and 2.0 (tests pin 1.0), their dependency, one wheel per role, and a decoy
    ``localpkg 9.0`` that must never replace the local project of that name."""
    make_wheel(dest, "alpha", "1.0", requires=["beta"])
    make_wheel(dest, "alpha", "2.0", requires=["beta"])
    make_wheel(dest, "beta", "1.0")
    for name in ("armdep", "x86dep", "olddep", "extradep", "devdep", "gamma", "lintdep", "hostdep"):
        make_wheel(dest, name, "1.0")
    make_wheel(dest, "withextra", "1.0", requires=["gamma; extra == 'fast'"])
    make_wheel(dest, "localpkg", "9.0")
    for machine in ("x86_64", "aarch64"):
        make_native_wheel(dest, "fastlib", "1.0", python="cp311", abi="abi3", machine=machine)
    return dest


_BACKEND = '''\
"""A PEP 517/660 backend with no build requirements, so tools can build it offline."""
import base64, hashlib, os, zipfile

NAME, VERSION, REQUIRES = {name!r}, {version!r}, {requires!r}
DIST = NAME.replace("-", "_")
INFO = f"{{DIST}}-{{VERSION}}.dist-info"
FILES = {{
    f"{{DIST}}/__init__.py": "",
    f"{{INFO}}/METADATA": "Metadata-Version: 2.1\\nName: " + NAME + "\\nVersion: " + VERSION + "\\n"
    + "".join("Requires-Dist: " + r + "\\n" for r in REQUIRES),
    f"{{INFO}}/WHEEL": "Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
}}


def get_requires_for_build_wheel(config_settings=None):
    return []


get_requires_for_build_editable = get_requires_for_build_sdist = get_requires_for_build_wheel


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    os.makedirs(os.path.join(metadata_directory, INFO))
    for path in ("METADATA", "WHEEL"):
        with open(os.path.join(metadata_directory, INFO, path), "w") as f:
            f.write(FILES[f"{{INFO}}/{{path}}"])
    return INFO


prepare_metadata_for_build_editable = prepare_metadata_for_build_wheel


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    name = f"{{DIST}}-{{VERSION}}-py3-none-any.whl"
    record = []
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as zf:
        for path, text in FILES.items():
            data = text.encode()
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append(f"{{path}},sha256={{digest}},{{len(data)}}")
            zf.writestr(path, data)
        zf.writestr(f"{{INFO}}/RECORD", "\\n".join(record + [f"{{INFO}}/RECORD,,"]) + "\\n")
    return name


build_editable = build_wheel
'''


def make_local_project(
    folder: Path, name: str, version: str = "0.1", requires: Sequence[str] = ()
) -> Path:
    """A project with static metadata and an in-tree backend that needs nothing from an index."""
    folder.mkdir(parents=True, exist_ok=True)
    deps = ", ".join(f'"{r}"' for r in requires)
    (folder / "pyproject.toml").write_text(
        textwrap.dedent(f"""\
        [project]
        name = "{name}"
        version = "{version}"
        requires-python = ">=3.8"
        dependencies = [{deps}]

        [build-system]
        requires = []
        build-backend = "_backend"
        backend-path = ["."]
        """)
    )
    (folder / "_backend.py").write_text(
        _BACKEND.format(name=name, version=version, requires=list(requires))
    )
    return folder


def pinned(locked: Locked) -> dict[str, str]:
    """name -> version of the pins."""
    return {pin.name: pin.version for pin in locked.pins}


def local_names(locked: Locked) -> dict[str, Path]:
    return {item.name: item.path for item in locked.local}
