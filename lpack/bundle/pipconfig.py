"""pip's own settings (its configuration files and PIP_* variables) for the options that decide
where packages come from, so uv installs from the same places pip would.

Files in pip's order, later ones winning: the global ones ($XDG_CONFIG_DIRS/pip/pip.conf,
/etc/pip.conf), the user's (~/.pip/pip.conf, ~/.config/pip/pip.conf), the virtual environment's,
then $PIP_CONFIG_FILE (``os.devnull`` turns the files off, as in pip). In each file ``[install]``
overrides ``[global]``; ``PIP_*`` variables override the files.
"""

from __future__ import annotations

import os
from pathlib import Path

KEYS = ("index-url", "extra-index-url", "find-links", "no-index", "constraint")


def config_files() -> list[Path]:
    chosen = os.environ.get("PIP_CONFIG_FILE")
    if chosen == os.devnull:
        return []
    dirs = os.environ.get("XDG_CONFIG_DIRS", "/etc/xdg").split(os.pathsep)
    files = [Path(d) / "pip" / "pip.conf" for d in reversed(dirs) if d]
    files.append(Path("/etc/pip.conf"))
    home = Path.home()
    files += [home / ".pip" / "pip.conf", Path(os.environ.get("XDG_CONFIG_HOME", home / ".config")) / "pip" / "pip.conf"]
    if os.environ.get("VIRTUAL_ENV"):
        files.append(Path(os.environ["VIRTUAL_ENV"]) / "pip.conf")
    if chosen:
        files.append(Path(chosen))
    return [f for f in files if f.is_file()]


def settings() -> dict[str, list[str]]:
    """Each key's values (lists, since several keys take many whitespace-separated values)."""
    found: dict[str, list[str]] = {}
    for path in config_files():
        import configparser  # only with a file to read: 1.2 ms of a build's start-up otherwise

        parser = configparser.RawConfigParser()
        try:
            parser.read(path, encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError):
            continue  # pip itself reports a broken file when it runs
        for section in ("global", "install"):
            if parser.has_section(section):
                for key in KEYS:
                    if parser.has_option(section, key):
                        found[key] = parser.get(section, key).split()
    for key in KEYS:
        value = os.environ.get("PIP_" + key.upper().replace("-", "_"))
        if value is not None:
            found[key] = value.split()
    if "no-index" in found:
        truthy = found["no-index"][:1] in (["1"], ["true"], ["yes"], ["on"])
        found["no-index"] = ["1"] if truthy else []
    return {k: v for k, v in found.items() if v}


# Options whose values can hold credentials (``https://user:token@host/simple``): uv reads them
# from its environment, which only the user and root can read, rather than from its command line,
# which ``ps`` shows every local user. uv splits UV_EXTRA_INDEX_URL at spaces, UV_FIND_LINKS at commas.
UV_ENVIRONMENT = {"index-url": ("UV_INDEX_URL", " "), "extra-index-url": ("UV_EXTRA_INDEX_URL", " "),
                  "find-links": ("UV_FIND_LINKS", ",")}


def as_uv(hashed: bool = False, *, hide: bool = True) -> tuple[list[str], dict[str, str]]:
    """pip's settings as uv options and, with ``hide``, the environment variables that carry the
    ones that can hold credentials. pip picks the best version across all its indexes, where uv
    by default stops at the first index that has the package: ask uv to behave as pip does.
    ``hashed``: the requirements pin every package with hashes (a lock), so a machine-wide
    constraint file, whose loose lines --require-hashes would refuse, has nothing left to do."""
    options: list[str] = []
    environment: dict[str, str] = {}
    for key, values in settings().items():
        name, sep = UV_ENVIRONMENT.get(key, ("", ""))
        if key == "constraint" and hashed:
            continue
        if key == "no-index":
            options.append("--no-index")
        elif hide and name and not any(sep in value for value in values):
            environment[name] = sep.join(values)
        else:
            for value in values:
                options += [f"--{key}", value]
    if (options or environment) and "UV_INDEX_STRATEGY" not in os.environ:
        options += ["--index-strategy", "unsafe-best-match"]
    return options, environment
