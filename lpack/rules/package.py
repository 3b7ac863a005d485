"""Package rules: what the Lambda service refuses at upload, read from the zip's central directory."""

from __future__ import annotations

from collections.abc import Iterator

from lpack.analysis.subjects import PackageSubject
from lpack.core import limits
from lpack.core.findings import Finding, Severity
from lpack.core.units import exact_bytes, human_bytes
from lpack.rules import Rule, rule


def _over(size: int, limit: int) -> str:
    return f"{human_bytes(size)} ({exact_bytes(size)}); the limit is {exact_bytes(limit)}"


@rule("LP101", "zipped-size-exceeded", Severity.ERROR, subject=PackageSubject, source=limits.QUOTAS_URL)
def zipped_size_exceeded(r: Rule, s: PackageSubject) -> Iterator[Finding]:
    """## What it does
    Compares the size of the .zip file with Lambda's quota for a direct upload: 52,428,800 bytes
    (50 MB, where Lambda's MB is 1,048,576 bytes).

    ## Why is this bad?
    `CreateFunction`/`UpdateFunctionCode` with `ZipFile`, the console upload and tools that upload
    directly fail with `RequestEntityTooLargeException`.

    ## How to fix
    Shrink the package (exclude tests, docs and caches; move dependencies into a layer), or upload
    the zip to S3 and deploy from there, where only the 250 MB unzipped limit applies. If you always
    deploy through S3 (SAM, CDK and the Serverless Framework do), set `upload = "s3"` in
    `[tool.lpack]` and this rule stays quiet.
    """
    size, limit = s.package.size_zipped, limits.ZIPPED_SIZE.value
    if s.upload == "direct" and size > limit:
        yield r.finding(
            f"zipped package is {_over(size, limit)} for a direct upload",
            s.display, function=s.function,
            fix="exclude what the function does not need, move dependencies to a layer, "
            'or deploy through S3 (upload = "s3")',
        )


@rule("LP102", "unzipped-size-exceeded", Severity.ERROR, subject=PackageSubject, source=limits.QUOTAS_URL)
def unzipped_size_exceeded(r: Rule, s: PackageSubject) -> Iterator[Finding]:
    """## What it does
    Sums the uncompressed size of every entry in the function package and in each layer it is
    deployed with, and compares it with Lambda's 262,144,000-byte (250 MB) quota.

    ## Why is this bad?
    Lambda rejects the function: "Unzipped size must be smaller than 262144000 bytes". The limit
    applies however the zip is uploaded, S3 included, and counts the layers too.

    ## How to fix
    Exclude tests, docs and caches; drop dependencies the runtime already provides (boto3);
    split the function; or ship a container image (10 GB).
    """
    total = s.package.size_unzipped + sum(layer.size_unzipped for layer in s.layers)
    limit = limits.UNZIPPED_SIZE.value
    if total > limit:
        what = "function and its layers" if s.layers else f"{s.kind} package"
        yield r.finding(
            f"unzipped {what}: {_over(total, limit)}", s.display, function=s.function,
            fix="see the largest packages in the size table; exclude or move what is not needed",
        )


@rule("LP103", "zipped-size-near-limit", Severity.WARNING, subject=PackageSubject, source=limits.QUOTAS_URL)
def zipped_size_near_limit(r: Rule, s: PackageSubject) -> Iterator[Finding]:
    """## What it does
    Warns when the .zip file is within 10% of the 52,428,800-byte direct-upload quota.

    ## Why is this bad?
    The next dependency bump can push the package over the limit and break a deployment that
    worked yesterday.

    ## How to fix
    Trim the package now (see LP101), or set `upload = "s3"` if you deploy through S3.
    """
    size, limit = s.package.size_zipped, limits.ZIPPED_SIZE.value
    if s.upload == "direct" and limit * limits.NEAR_LIMIT_FRACTION < size <= limit:
        yield r.finding(
            f"zipped package is {human_bytes(size)}, {size / limit:.0%} of the {exact_bytes(limit)} limit",
            s.display, function=s.function,
        )


@rule("LP104", "unzipped-size-near-limit", Severity.WARNING, subject=PackageSubject, source=limits.QUOTAS_URL)
def unzipped_size_near_limit(r: Rule, s: PackageSubject) -> Iterator[Finding]:
    """## What it does
    Warns when the function and its layers, unzipped, are within 10% of the 262,144,000-byte quota.

    ## Why is this bad?
    A small dependency change can make the next deployment fail.

    ## How to fix
    Trim the package now (see LP102).
    """
    total = s.package.size_unzipped + sum(layer.size_unzipped for layer in s.layers)
    limit = limits.UNZIPPED_SIZE.value
    if limit * limits.NEAR_LIMIT_FRACTION < total <= limit:
        yield r.finding(
            f"unzipped size is {human_bytes(total)}, {total / limit:.0%} of the {exact_bytes(limit)} limit",
            s.display, function=s.function,
        )


@rule("LP105", "too-many-layers", Severity.ERROR, subject=PackageSubject, source=limits.QUOTAS_URL)
def too_many_layers(r: Rule, s: PackageSubject) -> Iterator[Finding]:
    """## What it does
    Counts the layers a function is configured with; Lambda allows at most 5.

    ## Why is this bad?
    `CreateFunction` fails: "Cannot reference more than 5 layers."

    ## How to fix
    Merge layers, or vendor the smaller ones into the function package.
    """
    limit = limits.LAYERS_PER_FUNCTION.value
    if s.layer_count > limit:
        yield r.finding(
            f"function uses {s.layer_count} layers; Lambda allows at most {limit}",
            s.display, function=s.function, fix="merge layers or vendor the small ones",
        )
