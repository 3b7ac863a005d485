"""What a Lambda Python runtime has in its own site-packages besides the SDK: pip in every runtime,
setuptools (with ``pkg_resources`` and ``_distutils_hack``) up to python3.11 only. Read on 2026-12-05.

The function's ``sys.path`` holds the runtime's ``/var/lang/lib/python3.X/site-packages`` after the
package and the layers (SEARCH_PATH_URL), so what the runtime's Python installed there is importable
without being packaged. The runtimes' Python is CPython installed with its ``ensurepip``:

- up to Python 3.11, ``ensurepip`` installs pip and setuptools. The python3.11 base image carries
  setuptools 65.5 (BASE_IMAGE_SETUPTOOLS_ISSUE: CVE-2022-40897, a setuptools flaw, reported against
  ``public.ecr.aws/lambda/python:3.11``; closed by AWS as a patching question, not as "not present").
- from Python 3.12, ``ensurepip`` no longer installs setuptools (CPYTHON_312_URL, gh-95299), and the
  python3.12+ runtimes are built on the Amazon Linux 2023 minimal image (RUNTIMES_312_BLOG_URL), which
  adds no Python packages: ``import pkg_resources`` fails there unless the function bundles setuptools.

The base images' layers (BASE_IMAGES_URL, one branch per runtime) are the runtimes' own contents; their
tarballs are Git LFS objects not read here, so the rows rest on the sources above: confidence medium.
"""

from __future__ import annotations

from lpack.core.dates import dt

READ = dt.date(2026, 12, 5)

SEARCH_PATH_URL = "https://docs.aws.amazon.com/lambda/latest/dg/python-package.html#python-package-searchpath"
BASE_IMAGES_URL = "https://github.com/aws/aws-lambda-base-images"
BASE_IMAGE_SETUPTOOLS_ISSUE = "https://github.com/aws/aws-lambda-base-images/issues/134"
CPYTHON_312_URL = "https://docs.python.org/3.12/whatsnew/3.12.html#removed"
RUNTIMES_312_BLOG_URL = "https://aws.amazon.com/blogs/compute/python-3-12-runtime-now-available-in-aws-lambda/"

# Top-level modules of the runtime's site-packages, by the last Python that has them (None: every one).
SITE_PACKAGES: dict[str, tuple[int, int] | None] = {
    "pip": None,
    "setuptools": (3, 11),
    "pkg_resources": (3, 11),  # part of the setuptools distribution
    "_distutils_hack": (3, 11),  # setuptools' distutils shim
}


# Top-level modules the runtimes include from a Python on, by the first Python that has them: the
# durable execution SDK, which "Lambda Node.js and Python runtimes include" in the runtimes that run
# durable functions, python3.13 and python3.14 (compute.DURABLE_RUNTIMES_URL; LP245 still asks for a
# bundled copy, the one AWS recommends for production).
INCLUDED_FROM: dict[str, tuple[int, int]] = {
    "aws_durable_execution_sdk_python": (3, 13),
}


def site_packages(python: tuple[int, int]) -> frozenset[str]:
    """The top-level modules the runtime of ``python`` has besides the SDK and the standard library:
    its own site-packages, and what it includes from a Python on (`INCLUDED_FROM`)."""
    return frozenset([*(name for name, last in SITE_PACKAGES.items() if last is None or python <= last),
                      *(name for name, first in INCLUDED_FROM.items() if python >= first)])


def shipped_until(module: str) -> tuple[int, int] | None:
    """The last Python whose runtime has ``module`` in its site-packages, or None (every one, or none)."""
    return SITE_PACKAGES.get(module)
