"""Run one event through the durable execution SDK's own local test runner, in the child.

The durable execution model (checkpoints, replays, waits, callbacks) is the SDK's:
``aws_durable_execution_sdk_python_testing.DurableFunctionTestRunner`` runs the handler against
its in-memory checkpoint service, as its README shows. This driver only sets up the runtime's
``sys.path`` (the bootstrap's), then this interpreter's site-packages where the SDK's testing
package may be installed, and writes the runner's result as JSON to the file named in the setup.
Standard library only, besides the SDK.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import sys
from typing import Any

TESTING = "aws_durable_execution_sdk_python_testing"
MISSING = 3  # the exit status that says the testing package is not importable


def _bootstrap() -> Any:
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_bootstrap.py")
    spec = importlib.util.spec_from_file_location("_lpack_bootstrap", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    return {k: _plain(v) for k, v in vars(value).items()} if hasattr(value, "__dict__") else str(value)


def main() -> None:
    setup = json.loads(sys.stdin.read())
    bootstrap = _bootstrap()
    os.chdir(setup["task_root"])
    bootstrap.set_search_path(setup)
    sys.path += [p for p in bootstrap._site_packages() if p not in sys.path]
    if importlib.util.find_spec(TESTING) is None:
        sys.exit(MISSING)
    testing = importlib.import_module(TESTING + ".runner")
    handler = bootstrap.get_handler(setup["handler"])
    with testing.DurableFunctionTestRunner(handler=handler) as runner:
        result = runner.run(input=setup["event"], timeout=setup["timeout_s"], function_name=setup["function"])
    document = {"status": getattr(result.status, "name", str(result.status)), "result": result.result,
                "error": _plain(result.error),
                "operations": [getattr(op, "name", None) for op in getattr(result, "operations", [])]}
    with open(setup["result_file"], "w", encoding="utf-8") as f:
        json.dump(document, f)


if __name__ == "__main__":
    main()
