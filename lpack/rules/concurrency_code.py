"""Handler code on Lambda Managed Instances (LP240-LP249): one execution environment serves several
requests at once, in several Python processes that share /tmp. Also what a durable function's
package must carry (LP245)."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from lpack.analysis.subjects import HandlerSubject
from lpack.core.facts import compute
from lpack.core.findings import Finding, Severity
from lpack.rules import Rule, rule

_WRITE_MODES = set("wax+")
_PATH_WRITES = {"write_text", "write_bytes", "touch"}


def _constants(tree: ast.Module) -> dict[str, str]:
    """Module-level names bound once to a string: ``OUT = "/tmp/out.json"``."""
    found: dict[str, str] = {}
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):
            found[node.targets[0].id] = node.value.value
    return found


def _fixed_tmp(node: ast.expr | None, constants: dict[str, str]) -> str | None:
    """The path when ``node`` is a fixed name under /tmp (a literal, or a module constant)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        text = node.value
    elif isinstance(node, ast.Name) and node.id in constants:
        text = constants[node.id]
    else:
        return None  # f-strings, joins and calls build the name at run time: per request or process
    return text if text.startswith("/tmp/") and len(text) > len("/tmp/") else None


def _mode(call: ast.Call, position: int) -> str:
    mode = call.args[position] if len(call.args) > position else next(
        (k.value for k in call.keywords if k.arg == "mode"), None)
    return mode.value if isinstance(mode, ast.Constant) and isinstance(mode.value, str) else "r"


def _is_path(node: ast.expr) -> bool:
    func = node.func if isinstance(node, ast.Call) else None
    return (isinstance(func, ast.Name) and func.id in ("Path", "PosixPath")) or (
        isinstance(func, ast.Attribute) and func.attr in ("Path", "PosixPath"))


def _tmp_writes(tree: ast.Module) -> Iterator[tuple[str, int]]:
    constants = _constants(tree)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id == "open" and node.args:
            path = _fixed_tmp(node.args[0], constants)
            if path and _WRITE_MODES & set(_mode(node, 1)):
                yield path, node.lineno
        elif isinstance(func, ast.Attribute) and _is_path(func.value):
            target = func.value.args[0] if isinstance(func.value, ast.Call) and func.value.args else None
            path = _fixed_tmp(target, constants)
            writes = func.attr in _PATH_WRITES or (func.attr == "open" and _WRITE_MODES & set(_mode(node, 0)))
            if path and writes:
                yield path, node.lineno


@rule("LP240", "tmp-fixed-name-write", Severity.WARNING, subject=HandlerSubject, source=compute.MI_PYTHON_URL)
def tmp_fixed_name_write(r: Rule, s: HandlerSubject) -> Iterator[Finding]:
    """## What it does
    On a Lambda Managed Instances function (`CapacityProviderConfig`), finds writes in the
    handler module to a fixed file name under `/tmp`: `open("/tmp/data.json", "w")` (or `"a"`,
    `"x"`, `"+"`), `Path("/tmp/x").write_text(...)`, `.write_bytes`, `.touch`, `.open("w")`, also
    through a module-level constant. Names built at run time (an f-string with the request ID, the
    process ID or a UUID), `tempfile` and reads are not flagged.

    ## Why is this bad?
    The Python runtime serves concurrent requests in separate processes of one execution
    environment, and they all share `/tmp`: two requests writing the same file at once corrupt it
    or read each other's data.

    ## How to fix
    Use `tempfile.NamedTemporaryFile()` / `tempfile.mkdtemp()`, or put the request ID
    (`context.aws_request_id`) or `os.getpid()` in the name; lock a file that must be shared.
    """
    if s.features.capacity_provider is None or s.kind != "function" or s.handler is None:
        return
    from lpack.analysis.handler_analysis import analysis

    module = analysis(s).module
    if module is None or not module.location.entry:
        return
    for path, line in _tmp_writes(module.tree):
        yield r.finding(
            f"writes {path}, a fixed name in /tmp: on Managed Instances concurrent requests run in processes "
            "that share /tmp, so they overwrite each other's file",
            s.where(module.location.entry), line=line, function=s.function,
            fix="use tempfile, or put context.aws_request_id or os.getpid() in the file name",
        )


def _ships(s: HandlerSubject, module: str) -> bool:
    """Whether the package or its layers (found as the runtime's import path finds them), the declared
    requirements, or a layer lpack cannot see may provide ``module``."""
    from lpack.analysis.handler_analysis import analysis
    from lpack.analysis.import_paths import ModuleLocation

    a = analysis(s)
    return module in s.provided or a.unseen_layers or isinstance(a.path.find(module), ModuleLocation)


@rule("LP245", "durable-sdk-not-bundled", Severity.WARNING, subject=HandlerSubject,
      source=compute.DURABLE_RUNTIMES_URL)
def durable_sdk_not_bundled(r: Rule, s: HandlerSubject) -> Iterator[Finding]:
    """## What it does
    On a durable function (`DurableConfig`), checks that the package, its layers or its declared
    requirements provide the durable execution SDK (`aws-durable-execution-sdk-python`, imported
    as `aws_durable_execution_sdk_python`). Layers lpack cannot see keep it quiet.

    ## Why is this bad?
    The Python runtimes include a copy of the SDK for testing and development, so the function
    runs; but that copy changes when AWS updates the runtime, and a replay after an update can
    meet different SDK behaviour. AWS recommends bundling the SDK for production.

    ## How to fix
    Add `aws-durable-execution-sdk-python` to the function's requirements (pinned), and rebuild.
    """
    if s.features.durable is None or s.kind != "function":
        return
    if not _ships(s, compute.DURABLE_SDK_MODULE):
        yield r.finding(
            f"durable function without {compute.DURABLE_SDK} in its package or requirements: it runs on the "
            "runtime's copy, which AWS updates under it; AWS recommends bundling the SDK",
            s.display, function=s.function, fix=f"add {compute.DURABLE_SDK} to the requirements",
        )
