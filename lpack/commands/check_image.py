"""`lpack check IMAGE`: a container image read from disk (a `docker save` tar, an OCI layout
folder, or an OCI layout in a tar), checked as a Lambda function's image. No Docker needed."""

from __future__ import annotations

from pathlib import Path

from lpack.analysis.image import is_oci_layout, read_image
from lpack.analysis.package import display_path
from lpack.core.findings import Finding
from lpack.rules import engine


def is_image(path: Path) -> bool:
    """A path `lpack check` reads as an image: a .tar file, or an OCI layout folder."""
    return (path.suffix == ".tar" and not path.is_dir()) or is_oci_layout(path)


def check_image(path: Path, architecture: str | None) -> tuple[list[Finding], str]:
    """The image's findings, and how it was read (for the summary: "tar" or "oci layout")."""
    from lpack.core.errors import UsageError

    if path.suffix == ".tar" and not path.is_file():
        raise UsageError(f"{path}: no such file; pass an image tar (`docker save IMAGE -o image.tar`)")
    target = architecture or "x86_64"
    image = read_image(path, target)
    return engine.check_image(image, target, display_path(path)), "oci layout" if path.is_dir() else "tar"
