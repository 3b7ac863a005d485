"""`lpack check IMAGE`: a container image read from disk (a `docker save` tar, an OCI layout
folder, or an OCI layout in a tar), checked as a Lambda function's image. No Docker needed."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lpack.core.findings import Finding


def is_image(path: Path) -> bool:
    """A path `lpack check` reads as an image: a .tar file, or a folder marked as an OCI layout
    (the reader then says what else a layout needs). Asked of every path checked, so it imports
    nothing: the image reader loads only for an image."""
    return (path.suffix == ".tar" and not path.is_dir()) or (path / "oci-layout").is_file()


def check_image(path: Path, architecture: str | None) -> tuple[list[Finding], str]:
    """The image's findings, and how it was read (for the summary: "tar" or "oci layout")."""
    from lpack.analysis.image import read_image
    from lpack.analysis.package import display_path
    from lpack.core.errors import UsageError
    from lpack.rules import engine

    if path.suffix == ".tar" and not path.is_file():
        raise UsageError(f"{path}: no such file; pass an image tar (`docker save IMAGE -o image.tar`)")
    target = architecture or "x86_64"
    image = read_image(path, target)
    return engine.check_image(image, target, display_path(path)), "oci layout" if path.is_dir() else "tar"
