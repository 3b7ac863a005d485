"""What the configuration rules look at: one function's settings and its test events."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple

from lpack.core.targets import Target


class EventFile(NamedTuple):
    path: Path
    data: bytes
    invocation: str  # "sync" or "async": which payload limit applies


class FunctionSubject(NamedTuple):
    name: str
    where: str  # the file the settings come from, as findings name it
    target: Target
    handler: str | None = None
    environment: Mapping[str, object] | None = None
    environment_where: str = ""  # the file the environment comes from (config or --env)
    memory: object = None  # as configured: rules check the type and the range
    timeout: object = None
    ephemeral_storage: object = None
    invocation: str = "sync"
    events: tuple[EventFile, ...] = ()
    config_text: str = ""  # the configuration file's text, to find the line of a key
    section: str = ""  # the function's table in it, e.g. "tool.lpack.functions.api"
    lines: Mapping[str, int] = MappingProxyType({})  # setting -> line, when known (a template's)
    log_format: object = None  # Lambda's LoggingConfig.LogFormat, as configured
    log_level: object = None  # LoggingConfig.ApplicationLogLevel, as configured

    def line_of(self, key: str) -> int | None:
        """The line that sets ``key`` (``key =``, ``"key" =`` or a ``[...key]`` table) in this function's table, else in
        the top-level table it inherits from. ``lines`` (a template's) answers first."""
        if key in self.lines:
            return self.lines[key]
        tables: dict[str, int] = {}
        table = ""
        for number, line in enumerate(self.config_text.splitlines(), start=1):
            stripped = line.strip()
            if stripped.startswith("[") and not stripped.startswith("[["):
                table = stripped.strip("[] ").replace('"', "")
                if table.endswith(f".{key}"):  # the key as a table of its own: [tool.lpack.environment]
                    tables.setdefault(table[: -len(key) - 1], number)
                continue
            bare = stripped.strip('"')
            if bare.startswith((f"{key} ", f"{key}=", f'{key}" ', f'{key}"=')):
                tables.setdefault(table, number)
        top = self.section.rsplit(".functions.", 1)[0] if ".functions." in self.section else ""
        for candidate in (self.section, f"{self.section}.environment", top, ""):
            if candidate in tables:
                return tables[candidate]
        return None if self.section else min(tables.values(), default=None)
