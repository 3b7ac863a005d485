"""Container images (LP370-LP379): an image read from a `docker save` tar or an OCI layout, judged
as Lambda would take it: its size, platform, manifest, start command and runtime interface."""

from __future__ import annotations

from collections.abc import Iterator

from lpack.analysis.subjects import ImageSubject
from lpack.core.facts import images as facts
from lpack.core.findings import Finding, Severity
from lpack.core.units import exact_bytes, human_bytes
from lpack.rules import Rule, rule


@rule("LP370", "image-too-large", Severity.ERROR, subject=ImageSubject, source=facts.QUOTAS_URL)
def image_too_large(r: Rule, s: ImageSubject) -> Iterator[Finding]:
    """## What it does
    Adds up the uncompressed size of the image's layers (a gzip layer is decompressed, in a
    stream, to count it; an uncompressed layer counts its tar's size).

    ## Why is this bad?
    Lambda's quota for a container image is 10 GB, "maximum uncompressed image size, including
    all layers", where GB means 1,024 MB: 10,737,418,240 bytes. A larger image is refused at
    deployment, whatever its compressed size in the registry.

    ## How to fix
    Use a multi-stage build that copies only what the function runs into the final stage,
    remove package caches (`pip install --no-cache-dir`, `dnf clean all`) in the same `RUN` as
    the install, and leave tests, docs and build tools out of the image.
    """
    size = s.image.size_bytes
    if s.image.over or size > facts.IMAGE_SIZE_LIMIT_BYTES:
        amount = f"more than {human_bytes(facts.IMAGE_SIZE_LIMIT_BYTES)}" if s.image.over else \
            f"{human_bytes(size)} ({exact_bytes(size)})"
        yield r.finding(
            f"the image is {amount} uncompressed; Lambda's limit is 10 GB "
            f"({exact_bytes(facts.IMAGE_SIZE_LIMIT_BYTES)}), layers included",
            s.where, fix="use a multi-stage build and copy only what the function runs into the last stage")


@rule("LP371", "image-architecture-mismatch", Severity.ERROR, subject=ImageSubject, source=facts.ARCHITECTURES_URL)
def image_architecture_mismatch(r: Rule, s: ImageSubject) -> Iterator[Finding]:
    """## What it does
    Compares the image's architecture (its config's `architecture`: `amd64` or `arm64`) with the
    function's (`x86_64` or `arm64`; `--arch`, default `x86_64`).

    ## Why is this bad?
    An image runs only on the instruction set it was built for: an `arm64` image on an `x86_64`
    function (or the reverse) fails at its first start with `Runtime.InvalidEntrypoint` /
    `exec format error`.

    ## How to fix
    Build for the function's platform (`docker build --platform linux/amd64` for `x86_64`,
    `linux/arm64` for `arm64`), or set the function's architecture to the image's.
    """
    wanted = facts.OCI_ARCHITECTURE.get(s.architecture, s.architecture)
    arch = s.image.architecture
    if arch in facts.LAMBDA_ARCHITECTURE and arch != wanted:
        yield r.finding(
            f"the image is built for {s.image.platform}, but the function runs on {s.architecture} "
            f"(linux/{wanted})", s.where,
            fix=f"build with `docker build --platform linux/{wanted}`, or check with "
                f"`--arch {facts.LAMBDA_ARCHITECTURE[arch]}` if the function is {facts.LAMBDA_ARCHITECTURE[arch]}")


@rule("LP372", "image-unsupported-platform", Severity.ERROR, subject=ImageSubject, source=facts.IMAGES_URL)
def image_unsupported_platform(r: Rule, s: ImageSubject) -> Iterator[Finding]:
    """## What it does
    Flags an image whose platform Lambda cannot run: an OS other than Linux, or an architecture
    other than `amd64` and `arm64` (for example `arm/v7`, `386`, `ppc64le`).

    ## Why is this bad?
    Lambda runs Linux images on `x86_64` and `arm64` only; any other image cannot start.

    ## How to fix
    Build from a Linux base image for `linux/amd64` or `linux/arm64`, for example an AWS base
    image for Lambda (`public.ecr.aws/lambda/python`).
    """
    image = s.image
    if image.os != facts.IMAGE_OS or image.architecture not in facts.LAMBDA_ARCHITECTURE:
        yield r.finding(
            f"the image's platform is {image.platform or 'not stated in its config'}; Lambda runs "
            "linux/amd64 and linux/arm64 images only", s.where,
            fix="build from a Linux base image with `--platform linux/amd64` or `--platform linux/arm64`")


@rule("LP373", "image-cannot-start", Severity.ERROR, subject=ImageSubject, source=facts.IMAGES_URL)
def image_cannot_start(r: Rule, s: ImageSubject) -> Iterator[Finding]:
    """## What it does
    Flags an image whose config sets neither `ENTRYPOINT` nor `CMD`.

    ## Why is this bad?
    Lambda starts the image's `ENTRYPOINT` with its `CMD` as arguments (on an AWS base image,
    `/lambda-entrypoint.sh` and the handler). With neither, there is nothing to start, and
    every invocation fails with `Runtime.InvalidEntrypoint` -- unless the function's
    `ImageConfig` sets `EntryPoint` or `Command`, which lpack does not see from the image.

    ## How to fix
    Add `CMD [ "app.handler" ]` on an AWS base image; on another base image,
    `ENTRYPOINT [ "/usr/local/bin/python", "-m", "awslambdaric" ]` and `CMD [ "app.handler" ]`.
    """
    if not s.image.entrypoint and not s.image.cmd:
        yield r.finding(
            "the image sets neither ENTRYPOINT nor CMD: Lambda has nothing to start "
            "(unless the function's ImageConfig sets EntryPoint or Command)", s.where,
            fix='add `CMD [ "app.handler" ]` (AWS base image), or an ENTRYPOINT that starts awslambdaric')


@rule("LP374", "image-multi-platform", Severity.WARNING, subject=ImageSubject, source=facts.RUNTIMES_IMAGES_URL)
def image_multi_platform(r: Rule, s: ImageSubject) -> Iterator[Finding]:
    """## What it does
    Flags an image index (a manifest list) that holds several platforms, or a build's
    attestation manifests beside the image. lpack checks the platform that matches the target
    and names it.

    ## Why is this bad?
    Lambda does not support multi-architecture images: a function's image must be a single
    image manifest. Pushed as it is, the index is refused ("The image manifest or layer media
    type for the source image ... is not supported"); `docker buildx` adds a provenance
    attestation by default, which makes even a one-platform image an index.

    ## How to fix
    Build one platform per image: `docker buildx build --platform linux/arm64
    --provenance=false`, and deploy the image's own manifest digest, not the index's.
    """
    image = s.image
    if len(image.platforms) > 1 or image.attestations:
        held = ", ".join(image.platforms) if image.platforms else image.platform
        extra = f" and {image.attestations} attestation manifest(s)" if image.attestations else ""
        yield r.finding(
            f"the image is an index of {held}{extra}; Lambda takes a single-platform image manifest "
            f"(lpack checked {image.platform})", s.where,
            fix="build one platform per image with `docker buildx build --platform ... --provenance=false`")


@rule("LP375", "image-layer-unreadable", Severity.WARNING, subject=ImageSubject, source=facts.QUOTAS_URL)
def image_layer_unreadable(r: Rule, s: ImageSubject) -> Iterator[Finding]:
    """## What it does
    Names a layer lpack could not decompress (a zstd layer, on a Python that has neither
    `compression.zstd` nor the `zstandard` package), so its size and files went uncounted.

    ## Why is this bad?
    The image's size against the 10 GB limit, and whether it holds a runtime interface client,
    are then judged on the other layers only: lpack says so rather than guess.

    ## How to fix
    Install `zstandard` in lpack's environment (or run lpack on Python 3.14+), or build the
    image with gzip layers.
    """
    for layer in s.image.layers:
        if layer.size_bytes is None:
            yield r.finding(f"layer {layer.digest} was not counted: {layer.unreadable}", s.where,
                            fix="install `zstandard` beside lpack, or run lpack on Python 3.14+")


@rule("LP376", "image-no-runtime-interface", Severity.INFO, subject=ImageSubject, source=facts.IMAGES_URL)
def image_no_runtime_interface(r: Rule, s: ImageSubject) -> Iterator[Finding]:
    """## What it does
    Notes an image in which lpack found no Lambda runtime interface: neither the AWS base
    image's (`/lambda-entrypoint.sh`, `/var/runtime`) nor `awslambdaric` in a `site-packages`.

    ## Why is this bad?
    A function's image must talk to the Lambda Runtime API to receive events. The AWS base
    images carry a runtime interface client; on an OS-only or another base image "you must
    include a runtime interface client for your language in the image". Without one the
    function times out at its first invocation. (An image with its own client, for example a
    compiled program, is fine: this is a note, not an error.)

    ## How to fix
    Build from `public.ecr.aws/lambda/python`, or `pip install awslambdaric` into the image and
    start it: `ENTRYPOINT [ "/usr/local/bin/python", "-m", "awslambdaric" ]`.
    """
    if s.image.fully_read and not s.image.over and not s.image.markers:
        yield r.finding(
            "lpack found no Lambda runtime interface in the image (no /lambda-entrypoint.sh, /var/runtime "
            "or awslambdaric): it may not be able to receive events", s.where,
            fix="build from public.ecr.aws/lambda/python, or `pip install awslambdaric` and start it as ENTRYPOINT")
