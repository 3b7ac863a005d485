"""How a function's code reaches Lambda and how its responses leave (LP360-LP379): code that is not on
this disk (container images, S3, inline), exec wrappers and the Lambda Web Adapter, response
streaming, code signing."""

from __future__ import annotations

from collections.abc import Iterator

from lpack.analysis.subjects import FunctionSubject
from lpack.core.findings import Finding, Severity
from lpack.rules import Rule, rule

IMAGES_URL = "https://docs.aws.amazon.com/lambda/latest/dg/images-create.html"
CODE_URL = "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-lambda-function-code.html"


@rule("LP360", "image-function", Severity.INFO, subject=FunctionSubject, source=IMAGES_URL)
def image_function(r: Rule, s: FunctionSubject) -> Iterator[Finding]:
    """## What it does
    Notes a function deployed as a container image (`PackageType: Image`), so a report never
    passes over it in silence.

    ## Why is this bad?
    It is not: lpack checks what the template says of an image function (timeout, memory,
    environment, the execution role's policies, SnapStart and the other features), but not the
    image itself. Its dependencies are whatever the Dockerfile installs, its handler is the
    image's `CMD`, and layers do not apply to images. A report that says nothing about such a
    function reads as "checked".

    ## How to fix
    Nothing to fix. To check the code that goes into the image, run `lpack check` on the folder
    the Dockerfile copies (for example `lpack check src/`), or move the function to a .zip
    package, which lpack builds and checks whole.
    """
    if s.features.package_type == "Image":
        image = s.features.code_elsewhere
        yield r.finding(
            f"{s.name} is a container image{f' ({image})' if image else ''}: lpack checked its settings and "
            "role, not the image (its dependencies, handler and size are the Dockerfile's)",
            s.where, line=s.line_of("function"), function=s.name,
            fix="run `lpack check` on the folder the Dockerfile copies, or deploy the function as a .zip")


@rule("LP361", "code-not-local", Severity.INFO, subject=FunctionSubject, source=CODE_URL)
def code_not_local(r: Rule, s: FunctionSubject) -> Iterator[Finding]:
    """## What it does
    Notes a .zip function whose code the template places somewhere lpack cannot read: an S3
    object (`CodeUri: s3://...`, `Code: {S3Bucket, S3Key}`) or inline code (`ZipFile`).

    ## Why is this bad?
    lpack checks the function's settings and role, but not a package it cannot open: the size
    limits, the handler and its imports go unchecked until the deployment or the first invoke.

    ## How to fix
    Point `CodeUri` at the local folder (SAM and `aws cloudformation package` upload it for
    you), or check the package itself: `lpack check path/to/package.zip --handler app.handler`.
    A `cdk synth` template is read from its `cdk.out` folder, where each function's code is a
    local asset.
    """
    where = s.features.code_elsewhere
    if s.features.package_type == "Zip" and where is not None:
        shown = "inline in the template (ZipFile)" if where == "inline" else f"at {where}"
        yield r.finding(
            f"{s.name}'s code is {shown}: lpack checked its settings and role, not its package",
            s.where, line=s.line_of("source") or s.line_of("function"), function=s.name,
            fix="point CodeUri at the local folder, or run `lpack check PACKAGE.zip --handler MODULE.FUNCTION`")
