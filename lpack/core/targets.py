"""Lambda Python runtimes and architectures as data: Python version, OS, glibc, wheel tags, dates.

Sources: Lambda runtimes page (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html),
cfn-lint's LmbdRuntimeLifecycle.json (2026-06-02 sync, newer than the 2025 docs for the
Amazon Linux 2 runtimes), Lambda "instruction set architectures" page. See shared/LAMBDA-FACTS.md.
"""

from __future__ import annotations

from typing import NamedTuple

from lpack.core.dates import dt
from lpack.core.errors import ConfigError

RUNTIMES_URL = "https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html"
ARCHITECTURES_URL = "https://docs.aws.amazon.com/lambda/latest/dg/foundation-arch.html"

D = dt.date


class Runtime(NamedTuple):
    name: str
    python: tuple[int, int]
    os: str
    glibc: tuple[int, int]
    released: dt.date
    deprecated: dt.date | None
    block_create: dt.date | None
    block_update: dt.date | None

    @property
    def python_version(self) -> str:
        return f"{self.python[0]}.{self.python[1]}"

    @property
    def abi(self) -> str:
        return f"cp{self.python[0]}{self.python[1]}"


# name: Python, OS, glibc, released, deprecated, block create, block update
RUNTIMES: dict[str, Runtime] = {
    r.name: r
    for r in (
        Runtime("python3.14", (3, 14), "Amazon Linux 2023", (2, 34), D(2025, 11, 18),
                D(2029, 6, 30), D(2029, 7, 31), D(2029, 8, 31)),
        Runtime("python3.13", (3, 13), "Amazon Linux 2023", (2, 34), D(2024, 11, 14),
                D(2029, 6, 30), D(2029, 7, 31), D(2029, 8, 31)),
        Runtime("python3.12", (3, 12), "Amazon Linux 2023", (2, 34), D(2023, 12, 14),
                D(2028, 10, 31), D(2028, 11, 30), D(2029, 1, 10)),
        Runtime("python3.11", (3, 11), "Amazon Linux 2", (2, 26), D(2023, 7, 27),
                D(2027, 6, 30), D(2027, 7, 31), D(2027, 8, 31)),
        Runtime("python3.10", (3, 10), "Amazon Linux 2", (2, 26), D(2022, 4, 18),
                D(2026, 10, 31), D(2027, 2, 1), D(2027, 3, 3)),
        Runtime("python3.9", (3, 9), "Amazon Linux 2", (2, 26), D(2021, 8, 16),
                D(2025, 12, 15), D(2027, 2, 1), D(2027, 3, 3)),
        Runtime("python3.8", (3, 8), "Amazon Linux 2", (2, 26), D(2019, 11, 18),
                D(2024, 10, 14), D(2027, 2, 1), D(2027, 3, 3)),
        Runtime("python3.7", (3, 7), "Amazon Linux", (2, 17), D(2018, 11, 19),
                D(2023, 12, 4), D(2024, 1, 9), D(2024, 2, 8)),
    )
}

# Lambda's architecture name -> the machine name in wheel tags and ELF headers.
ARCHITECTURES: dict[str, str] = {"x86_64": "x86_64", "arm64": "aarch64"}

# The newest runtime on x86_64 (Lambda's default architecture), printed with every build.
DEFAULT_RUNTIME = max(RUNTIMES.values(), key=lambda r: r.python).name
DEFAULT_ARCHITECTURE = "x86_64"

# uv names a fixed set of manylinux levels; the newest one the runtime's glibc can load.
_UV_MANYLINUX_LEVELS = ((2, 17), (2, 28), (2, 31), (2, 32), (2, 33), (2, 34))


class Target(NamedTuple):
    runtime: Runtime
    architecture: str

    @property
    def machine(self) -> str:
        return ARCHITECTURES[self.architecture]

    @property
    def label(self) -> str:
        return f"{self.runtime.name} {self.architecture}"

    def platform_tags(self) -> list[str]:
        """Wheel platform tags this target can load, newest first (PEP 600 plus legacy aliases)."""
        major, newest = self.runtime.glibc
        tags = [f"manylinux_{major}_{minor}_{self.machine}" for minor in range(newest, 16, -1)]
        tags.append(f"manylinux2014_{self.machine}")
        if self.machine == "x86_64":
            tags += ["manylinux_2_12_x86_64", "manylinux2010_x86_64",
                     "manylinux_2_5_x86_64", "manylinux1_x86_64"]
        return tags

    def uv_platform(self) -> str:
        level = max(v for v in _UV_MANYLINUX_LEVELS if v <= self.runtime.glibc)
        return f"{self.machine}-manylinux_{level[0]}_{level[1]}"

    def as_dict(self) -> dict[str, str]:
        return {"runtime": self.runtime.name, "architecture": self.architecture}


def runtime_named(name: str, *, where: str) -> Runtime:
    try:
        return RUNTIMES[name]
    except KeyError:
        known = ", ".join(sorted(RUNTIMES, key=lambda n: RUNTIMES[n].python))
        raise ConfigError(f"{where}: unknown runtime {name!r}; Lambda's Python runtimes are {known}") from None


def make_target(runtime: str | None, architecture: str | None, *, where: str) -> Target:
    arch = architecture or DEFAULT_ARCHITECTURE
    if arch not in ARCHITECTURES:
        hint = " (Lambda calls it arm64)" if arch in ("aarch64", "arm") else ""
        raise ConfigError(f"{where}: unknown architecture {arch!r}{hint}; use x86_64 or arm64")
    return Target(runtime_named(runtime or DEFAULT_RUNTIME, where=where), arch)


def lifecycle(runtime: Runtime, today: dt.date) -> str:
    """'supported', 'deprecated' (still creatable) or 'blocked' (can no longer be created)."""
    if runtime.block_create and today >= runtime.block_create:
        return "blocked"
    if runtime.deprecated and today >= runtime.deprecated:
        return "deprecated"
    return "supported"
