"""An environment variables file, as the Lambda CLI and console give it."""

from __future__ import annotations

import json
from pathlib import Path

from lpack.core.errors import LpackError


def read_env(path: Path) -> dict[str, object]:
    """An environment file: `{"K": "V"}`, or Lambda's `{"Variables": {...}}` as the CLI and
    `get-function-configuration` print it."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise LpackError(f"{path}: cannot read: {exc.strerror}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise LpackError(f"{path}: not valid JSON ({exc}); an environment file is an object of names to strings") from exc
    except RecursionError as exc:
        raise LpackError(f"{path}: nested too deeply; an environment file is an object of names to strings") from exc
    except ValueError as exc:  # an integer over Python's 4,300-digit limit
        raise LpackError(f"{path}: a number has more than 4,300 digits; write environment values as strings") from exc
    if isinstance(data, dict) and isinstance(data.get("Environment"), dict):
        data = data["Environment"]
    if isinstance(data, dict) and isinstance(data.get("Variables"), dict):
        data = data["Variables"]
    if not isinstance(data, dict):
        raise LpackError(f"{path}: expected a JSON object of environment variables")
    return data
