"""`lpack serve --debug-port`: run the handler under debugpy, waiting for a debugger to attach.

The environment's handler becomes a small module lpack writes (``_lpack_debugpy.handler``): at
init it starts debugpy's listener on the port, waits for VS Code (or any DAP client) to attach,
then imports the real handler (``_HANDLER``, as the runtime sets it) and hands every event to it,
so breakpoints in the function's code stop there. Only the debugpy package is put on the child's
``sys.path`` (through a folder that links to it), not the rest of lpack's environment.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from lpack.core.errors import UsageError
from lpack.invoke.sandbox import Spec

SHIM_MODULE = "_lpack_debugpy"
SHIM = '''\
"""Written by lpack serve --debug-port: debugpy listens, waits for a debugger, then runs _HANDLER."""
import importlib
import os
import sys

import debugpy

_PORT = int(os.environ["LPACK_DEBUG_PORT"])
debugpy.listen(("127.0.0.1", _PORT))
sys.stderr.write("lpack: debugpy is listening on 127.0.0.1:%d; attach a debugger to go on\\n" % _PORT)
debugpy.wait_for_client()
_MODULE, _, _NAME = os.environ["_HANDLER"].replace("/", ".").rpartition(".")
handler = getattr(importlib.import_module(_MODULE), _NAME)
'''


def under_debugpy(spec: Spec, port: int, cache_dir: Path | None, function: str) -> Spec:
    """The same environment, with the handler run through the debugpy shim on ``port``, from a task
    root whose path stays the same across rebuilds (a link to the extracted package), so a debugger's
    pathMappings keep working after a reload."""
    from lpack.core.cache import default_root

    found = importlib.util.find_spec("debugpy")
    if found is None or not found.submodule_search_locations:
        raise UsageError("--debug-port needs debugpy, which is not installed: pip install debugpy")
    folder = (cache_dir or default_root()) / "serve" / "debugpy"
    folder.mkdir(parents=True, exist_ok=True)
    _write(folder / f"{SHIM_MODULE}.py", SHIM)
    _link(folder / "debugpy", Path(next(iter(found.submodule_search_locations))))
    task_root = task_folder(cache_dir, function)
    _link(task_root, spec.task_root)
    environment = {**spec.environment, "LPACK_DEBUG_PORT": str(port), "LAMBDA_TASK_ROOT": str(task_root),
                   "PYDEVD_DISABLE_FILE_VALIDATION": "1"}  # its frozen-modules warning is about the stdlib
    return spec._replace(handler=f"{SHIM_MODULE}.handler", environment=environment, task_root=task_root,
                         extra_paths=(*spec.extra_paths, str(folder)))


def task_folder(cache_dir: Path | None, function: str) -> Path:
    """Where a function's code is seen from under --debug-port: the ``remoteRoot`` of pathMappings."""
    from lpack.core.cache import default_root

    return (cache_dir or default_root()) / "serve" / "task" / function


def _link(link: Path, target: Path) -> None:
    """``link`` -> ``target``, replaced atomically."""
    if link.is_symlink() and link.resolve() == target.resolve():
        return
    link.parent.mkdir(parents=True, exist_ok=True)
    temporary = link.with_name(f".{link.name}.{os.getpid()}")
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(target, target_is_directory=True)
    os.replace(temporary, link)


def _write(path: Path, text: str) -> None:
    from lpack.core.files import atomic_write_text

    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        atomic_write_text(path, text)
