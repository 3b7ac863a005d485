"""Real wheels (tests/factories) with the metadata SBOMs read, and projects that lpack builds from them."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.factories import make_wheel, normalize

HANDLER = "import boto3\nimport webby\n\n\ndef lambda_handler(event, context):\n    return {}\n"


@pytest.fixture(scope="session")
def sbom_wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Distributions stating their licences each way core metadata allows, and requirements
    between them (one only for an extra, one on a package the runtime provides)."""
    house = tmp_path_factory.mktemp("sbom-wheels")
    make_wheel(house, "Web_By", "1.0", requires=["tiny-dep>=1", "socksy; extra == 'socks'",
                                                 "win-only; sys_platform == 'win32'"],
               files={"webby/__init__.py": "", "webby/core.py": "X = 1\n"},
               metadata=["License-Expression: Apache-2.0 OR MIT", "Summary: A web library"])
    make_wheel(house, "tiny-dep", "2.1", metadata=["Classifier: License :: OSI Approved :: MIT License"])
    make_wheel(house, "vague", "0.3", metadata=["Classifier: License :: OSI Approved :: Apache Software License"])
    make_wheel(house, "worded", "1.0", metadata=["License: Custom Corp Licence v2"])
    make_wheel(house, "socksy", "1.0")
    make_wheel(house, "win-only", "1.0")
    make_wheel(house, "botocore", "1.40.0")
    return house


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_project(root: Path, wheels: Path, *pins: str, hashes: bool = False, handler: str = HANDLER,
                 config: str = "") -> Path:
    """A zero-config function (or a configured one) installing ``pins`` from ``wheels`` offline;
    with ``hashes``, each pin carries its wheel's sha256, as a lock does."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "lambda_function.py").write_text(handler)
    lines = ["--no-index", f"--find-links {wheels}"]
    for pin in pins:
        name, _, version = pin.partition("==")
        wheel = next(wheels.glob(f"{normalize(name)}-{version}-*.whl"), None) if hashes else None
        lines.append(f"{pin} --hash=sha256:{sha256(wheel)}" if wheel else pin)
    (root / "requirements.txt").write_text("\n".join(lines) + "\n")
    if config:
        (root / "lpack.toml").write_text(config)
    return root
