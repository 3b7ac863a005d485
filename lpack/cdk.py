"""lpack for AWS CDK Python apps: a function's code bundled by lpack, without Docker.

```python
from lpack.cdk import LpackFunction, lpack_code

LpackFunction(self, "Orders", path="functions/orders")           # runtime, arch, handler from lpack
lambda_.Function(self, "Reports", code=lpack_code("functions/reports", runtime="python3.13",
                 architecture="arm64", handler="app.handler"), runtime=lambda_.Runtime.PYTHON_3_13,
                 architecture=lambda_.Architecture.ARM_64, handler="app.handler")
```

The code is a CDK asset bundled locally (``ILocalBundling``): at synth, lpack builds the function
for its target (as ``lpack build --function NAME``) and hands CDK the zip itself
(``BundlingOutput.ARCHIVED``), so the asset CDK uploads *is* lpack's zip, byte for byte. CDK's
asset hash is lpack's digest of the function's inputs (`lpack.api.package_digest`), known before
building: a synth with nothing changed finds the asset already in cdk.out and builds nothing, and
a deploy uploads nothing. Docker is never used: the bundling image is a name that is never pulled.

A function's runtime and architecture must be the ones lpack builds for: `LpackFunction` takes
them from lpack's plan (or passes yours to both); `lpack_code` refuses, at synth, a Function whose
runtime or architecture differs from what its package was built for.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

try:
    import jsii
    from aws_cdk import AssetHashType, BundlingOptions, BundlingOutput, DockerImage, ILocalBundling
    from aws_cdk import aws_lambda as lambda_
    from constructs import Construct
except ImportError as exc:  # the extra is not installed
    raise ImportError(
        f"lpack.cdk needs aws-cdk-lib and constructs, which are not installed here (no module named "
        f"{exc.name!r}): pip install 'lpack-lambda[cdk]' into the environment that runs your CDK app") from exc

from lpack.api import build_package, function_plan, package_digest
from lpack.core.errors import LpackError
from lpack.plan import Plan

# What BundlingOptions' required `image` names: never pulled, since lpack's local bundling never
# hands the asset back to Docker (try_bundle builds, or raises).
NO_DOCKER_IMAGE = "lpack-bundles-locally-no-docker"

__all__ = ["NO_DOCKER_IMAGE", "LpackBundling", "LpackFunction", "lpack_code"]


@jsii.implements(ILocalBundling)
class LpackBundling:
    """CDK's local bundling of one function: lpack builds its zip into CDK's output folder."""

    def __init__(self, unit_plan: Plan) -> None:
        self.plan = unit_plan

    def try_bundle(self, output_dir: str, options: Any = None) -> bool:
        name = self.plan.unit.name

        def progress(_unit: str, message: str) -> None:
            print(f"lpack: {name}: {message}", file=sys.stderr)

        try:
            package = build_package(self.plan, dist=Path(output_dir), progress=progress)
        except LpackError as exc:  # CDK prints it as "Failed to bundle asset PATH: MESSAGE"
            tip = f" ({exc.tip})" if exc.tip else ""
            raise RuntimeError(f"lpack could not build {name}: {exc}{tip}") from exc
        for finding in package.findings:
            print(f"lpack: {name}: {finding.severity.value} {finding.code} {finding.message}", file=sys.stderr)
        return True


class _LpackCode(lambda_.AssetCode):  # type: ignore[misc]
    """The asset, and a check that the function it is bound to runs what it was built for."""

    def __init__(self, unit_plan: Plan) -> None:
        self._runtime = unit_plan.target.runtime.name
        self._architecture = unit_plan.target.architecture
        self._handler = unit_plan.unit.handler
        self._name = unit_plan.unit.name
        super().__init__(
            str(unit_plan.project.root),
            asset_hash=package_digest(unit_plan),
            asset_hash_type=AssetHashType.CUSTOM,
            bundling=BundlingOptions(image=DockerImage.from_registry(NO_DOCKER_IMAGE), local=LpackBundling(unit_plan),
                                     output_type=BundlingOutput.ARCHIVED),
        )

    def bind_to_resource(self, resource: Any, *, resource_property: str | None = None) -> None:
        # called by lambda_.Function once its runtime and architecture are set on the resource
        runtime, handler = getattr(resource, "runtime", None), getattr(resource, "handler", None)
        architectures = getattr(resource, "architectures", None) or ["x86_64"]
        if isinstance(runtime, str) and (runtime, list(architectures)) != (self._runtime, [self._architecture]):
            raise ValueError(
                f"lpack built {self._name} for {self._runtime} {self._architecture}, but the function "
                f"{resource.node.scope.node.path} runs {runtime} {'/'.join(architectures)}: pass the same "
                "runtime and architecture to lpack_code() and to the Function, or use LpackFunction")
        if isinstance(handler, str) and handler != self._handler:
            raise ValueError(
                f"lpack checked {self._name}'s package for the handler {self._handler}, but the function "
                f"{resource.node.scope.node.path} runs {handler}: pass handler={handler!r} to lpack_code(), "
                "or use LpackFunction")
        if resource_property is None:
            super().bind_to_resource(resource)
        else:
            super().bind_to_resource(resource, resource_property=resource_property)


def lpack_code(path: str | Path, *, runtime: Any = None, architecture: Any = None, handler: str | None = None,
               function: str | None = None, config: str | Path | None = None) -> lambda_.AssetCode:
    """The function at ``path`` (its folder, or the project's) as a CDK ``Code``, built by lpack.

    ``runtime``/``architecture`` are names (``"python3.13"``, ``"arm64"``) or CDK's
    ``lambda_.Runtime``/``lambda_.Architecture``; left out, lpack's configuration decides
    (``[tool.lpack]``, ``.python-version``, else its default). ``handler`` is the Function's
    handler (``"app.handler"``): lpack checks the package for it, and it makes a folder with no
    lpack configuration a function. The Function must say the same runtime, architecture and
    handler: a mismatch is refused at synth. ``function`` names one of a multi-function project's
    functions; ``config`` is a pyproject.toml or lpack.toml elsewhere than ``path``.
    """
    try:
        unit_plan = function_plan(path, function=function, runtime=_name(runtime),
                                  architecture=_name(architecture), handler=handler, config=config)
    except LpackError as exc:
        raise ValueError(f"lpack: {exc}") from exc
    return _LpackCode(unit_plan)


class LpackFunction(lambda_.Function):  # type: ignore[misc]
    """A ``lambda_.Function`` whose code, runtime, architecture and handler come from one lpack
    plan, so they cannot disagree. Pass ``runtime``/``architecture``/``handler`` to override
    lpack's configuration; every other keyword goes to ``lambda_.Function``."""

    def __init__(self, scope: Construct, construct_id: str, *, path: str | Path, runtime: Any = None,
                 architecture: Any = None, handler: str | None = None, function: str | None = None,
                 config: str | Path | None = None, **kwargs: Any) -> None:
        try:
            unit_plan = function_plan(path, function=function, runtime=_name(runtime),
                                      architecture=_name(architecture), handler=handler, config=config)
        except LpackError as exc:
            raise ValueError(f"lpack: {exc}") from exc
        handler = unit_plan.unit.handler
        if not handler:
            raise ValueError(f"lpack: {unit_plan.where}: no handler configured; pass handler='module.function'")
        target = unit_plan.target
        super().__init__(
            scope, construct_id, code=_LpackCode(unit_plan), handler=handler,
            runtime=lambda_.Runtime(target.runtime.name, lambda_.RuntimeFamily.PYTHON),
            architecture=lambda_.Architecture.ARM_64 if target.architecture == "arm64" else lambda_.Architecture.X86_64,
            **kwargs)


def _name(value: Any) -> str | None:
    """A runtime or architecture given as a name or as CDK's object (which has ``.name``)."""
    if value is None or isinstance(value, str):
        return value
    return str(value.name)
