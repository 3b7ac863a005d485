"""Native rules: compiled code in the package that the target runtime cannot load.

Each file is judged once, by the first thing that rules it out, so one mistake gives one finding:
its name (LP112: an extension module for another Python or platform), then its format (LP111:
Mach-O or PE), then its machine (LP110), then what it links against (LP113 glibc, LP115 musl).
LP114 reads the ``WHEEL`` file each installed distribution keeps.

Where the target looks: a function's whole zip is on ``sys.path`` (``/var/task``). A layer's
``python/`` and ``python/lib/python3.X/site-packages/`` are, the latter only for the target's X,
so a layer built for several runtimes is judged by the folder this runtime reads; its ``lib/`` and
``bin/`` are on ``LD_LIBRARY_PATH`` and ``PATH``.

Contents are read only for entries named like native code (``*.so``, ``*.so.N``, anything in a
``bin/`` or ``*.libs/`` folder) and ``*.dist-info/WHEEL`` files, through the package's reader, and
each is parsed once. Findings are grouped by top-level folder (a distribution's package, its
``.libs``): a wheel for the wrong platform gives one finding per folder, with a count, not fifty.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, NamedTuple
from weakref import WeakKeyDictionary

from lpack.analysis.package import Entry, PackageReader
from lpack.analysis.subjects import PackageSubject
from lpack.core.findings import Finding, Severity
from lpack.core.patterns import lazy
from lpack.core.targets import ARCHITECTURES_URL, RUNTIMES, RUNTIMES_URL, Runtime, Target
from lpack.rules import Rule, rule

if TYPE_CHECKING:
    from lpack.analysis.binary import Binary

PACKAGE_URL = "https://docs.aws.amazon.com/lambda/latest/dg/python-package.html"

_SITE_PACKAGES = lazy(r"python/lib/python3\.(\d+)/site-packages/")
_SHARED_OBJECT = re.compile(r"\.so(?:\.\d+)*$")
_TAGGED = re.compile(r"(?P<module>[^.]+)\.(?P<tag>[^.]+)\.(?:so|pyd)")  # PEP 3149: name.TAG.so
_CPYTHON = lazy(r"cpython-3(?P<minor>\d+)(?P<flags>[a-z]*)-(?P<platform>.+)")
_LINUX = lazy(r"(?P<arch>[^-]+)-linux-(?P<libc>gnu|musl)\w*")
_OTHER_PYTHONS = {"pypy": "PyPy", "graalpy": "GraalPy", "pyston": "Pyston"}
_WHEEL = re.compile(r"[^/]+\.dist-info/WHEEL")
_MANYLINUX = lazy(r"manylinux_(?P<major>\d+)_(?P<minor>\d+)_(?P<arch>.+)")
_LEGACY_MANYLINUX = {"manylinux1": "manylinux_2_5", "manylinux2010": "manylinux_2_12",
                     "manylinux2014": "manylinux_2_17"}  # PEP 600 aliases


class _Native(NamedTuple):
    """An entry and its name below the folder the target finds it in (``numpy/_core/x.so``)."""

    entry: Entry
    rel: str

    @property
    def folder(self) -> str:
        return self.rel.rpartition("/")[0]

    @property
    def base(self) -> str:
        return self.rel.rpartition("/")[2]

    @property
    def top(self) -> str:
        return self.rel.split("/", 1)[0]


_Problem = tuple[_Native, str]  # the entry, and what is wrong with it ("is an x86_64 ELF")


# -- the rules ------------------------------------------------------------------------------------


@rule("LP110", "elf-wrong-machine", Severity.ERROR, subject=PackageSubject, source=ARCHITECTURES_URL)
def elf_wrong_machine(r: Rule, s: PackageSubject) -> Iterator[Finding]:
    """## What it does
    Reads the ELF header of every shared object (`*.so`, `*.so.N`) and of the files in `bin/` and
    `*.libs/` folders, and flags those built for another machine than the function's architecture:
    x86_64 code in an arm64 function, aarch64 code in an x86_64 one, 32-bit or big-endian code,
    or any other processor.

    It stays quiet about a library with a plain name (not a `.cpython-3XY-...` or `.abi3` extension
    module) in a folder that also holds a library for the target's machine: packages such as
    `tls_client` ship one build per machine and load the right one at run time. Files whose names
    already say another platform are reported once, by LP112.

    ## Why is this bad?
    The loader refuses the file. Importing the module fails at cold start with
    `Runtime.ImportModuleError` ("cannot open shared object file" or "wrong ELF class"), and a
    program in `bin/` fails with "Exec format error". Most often the dependencies were installed
    for the build machine (`pip install` on an x86_64 laptop) instead of for the function.

    ## How to fix
    Install dependencies for the function's architecture: `lpack build --arch arm64` (or
    `x86_64`), or `pip install --platform manylinux2014_aarch64 --only-binary=:all: --target ...`.
    If a file is never loaded, exclude it, or silence the rule for it with `per-path-ignores` in
    `[tool.lpack]`, saying why.
    """
    if s.target is None:
        return
    machine = s.target.machine
    problems = [(n, f"is {_a(b.describe())}") for n, b in _alone(_binaries(s), s.target)
                if b.format == "elf" and not _loads(b, machine)]
    yield from _report(r, s, problems, f"{s.target.label} loads only {machine} code", _install_fix(s.target))


@rule("LP111", "macos-or-windows-binary", Severity.ERROR, subject=PackageSubject, source=PACKAGE_URL)
def macos_or_windows_binary(r: Rule, s: PackageSubject) -> Iterator[Finding]:
    """## What it does
    Flags Mach-O (macOS, thin or universal) and PE (Windows) files where Linux would load or run
    them: shared objects (`*.so`, `*.so.N`) and files in `bin/` and `*.libs/` folders.

    It does not read `.exe`, `.dll` or `.dylib` files elsewhere: Linux never imports or
    dynamically loads them, and healthy packages ship them on purpose: pip's and setuptools'
    Windows launchers (`pip/_vendor/distlib/t64.exe`, `setuptools/cli-64.exe`), one library per
    platform chosen at run time (`sounddevice`, `tls_client`), .NET assemblies that run on Linux
    (`pythonnet`, `clr_loader`). A Windows extension module (`*.pyd`) or a macOS one
    (`*-darwin.so`) is reported by LP112. Like LP110, it stays quiet about a plain-named library
    in a folder that also holds one for the target.

    ## Why is this bad?
    Lambda runs Amazon Linux, which loads only ELF files. A macOS `.so` fails to import with
    "invalid ELF header" (`Runtime.ImportModuleError`). It usually means the package was built on
    a Mac or Windows machine and its wheels were installed for that machine.

    ## How to fix
    Install Linux wheels for the target: `lpack build` does, or `pip install --platform
    manylinux2014_x86_64 --only-binary=:all: --target ...`. Never copy `site-packages` from a Mac.
    """
    if s.target is None:
        return
    problems = [(n, f"is {_a(b.describe())} file") for n, b in _alone(_binaries(s), s.target)
                if b.format in ("mach-o", "pe")]
    yield from _report(r, s, problems, "Lambda runs Linux and loads only ELF files", _install_fix(s.target))


@rule("LP112", "extension-suffix-mismatch", Severity.ERROR, subject=PackageSubject, source=PACKAGE_URL)
def extension_suffix_mismatch(r: Rule, s: PackageSubject) -> Iterator[Finding]:
    """## What it does
    Reads the names of extension modules. CPython on Lambda imports `NAME.cpython-3XY-ARCH-linux-gnu.so`
    for its own 3.XY and machine, `NAME.abi3.so` and `NAME.so`, and nothing else. It flags
    modules named for another Python (`.cpython-313-x86_64-linux-gnu.so` on python3.12,
    free-threaded `cpython-313t`, PyPy), another machine (`aarch64-linux-gnu` on x86_64), musl
    (`-linux-musl`), macOS (`.cpython-312-darwin.so`) or Windows (`.pyd`, `.cp312-win_amd64.pyd`).

    It stays quiet when the same folder holds a build of that module the target does import (a
    package that ships builds for several Pythons side by side), and about `.so` names that carry
    no Python tag (`libopenblas64_p-r0.3.23.dev.so`). Needs no contents: it also runs when only
    the zip's directory is read.

    ## Why is this bad?
    The import finds no module it can load: `Runtime.ImportModuleError: No module named
    'numpy._core._multiarray_umath'` at cold start. The dependencies were installed for another
    Python version or platform than the function's runtime.

    ## How to fix
    Install dependencies for the function's runtime and architecture: `lpack build --runtime
    python3.12 --arch x86_64`, or `pip install --python-version 3.12 --implementation cp
    --platform manylinux2014_x86_64 --only-binary=:all: --target ...`. Or change the function's
    runtime to the Python the modules were built for.

    ## References
    PEP 3149 (ABI version tagged .so files): https://peps.python.org/pep-3149/ ;
    `importlib.machinery.EXTENSION_SUFFIXES` lists what an interpreter imports.
    """
    if s.target is None:
        return
    natives = _visible(s, s.target)
    importable = _importable_modules(natives, s.target)
    problems = [(n, f"is an extension module for {what}") for n in natives
                if (what := _foreign_extension(n.base, s.target)) and _module(n) not in importable]
    suffixes = f"*{_suffix(s.target)} and *.abi3.so"
    yield from _report(r, s, problems, f"{s.target.label} imports only {suffixes}", _install_fix(s.target))


@rule("LP113", "glibc-too-new", Severity.ERROR, subject=PackageSubject, source=RUNTIMES_URL)
def glibc_too_new(r: Rule, s: PackageSubject) -> Iterator[Finding]:
    """## What it does
    Reads the symbol versions each ELF file for the target's machine needs from glibc
    (`.gnu.version_r`) and flags files that need a newer glibc than the runtime's operating
    system has: 2.26 on Amazon Linux 2 (python3.8 to python3.11), 2.34 on Amazon Linux 2023
    (python3.12 and newer). The finding names the file that needs the newest version in each
    folder. `GLIBC_PRIVATE` and other unnumbered versions do not count.

    ## Why is this bad?
    The loader refuses the file at import: `ImportError: /lib64/libc.so.6: version
    'GLIBC_2.28' not found`, a `Runtime.ImportModuleError` at cold start. Typical cause: a
    `manylinux_2_28` wheel on python3.11, or a library built on a newer Linux than Lambda's.

    ## How to fix
    Install wheels whose manylinux tag the runtime's glibc meets (`lpack build` asks for them);
    if a project has none for your version, pin an older release that ships `manylinux2014`
    wheels, or move to a runtime with a newer glibc. Build your own native code on the runtime's
    OS (e.g. the `public.ecr.aws/lambda/python:3.12` image).
    """
    if s.target is None:
        return
    rt = s.target.runtime
    needs = sorted(_glibc_needs(s, s.target), key=lambda need: need[1], reverse=True)  # newest leads
    if needs:
        problems = [(n, f"needs GLIBC_{_dotted(version)}") for n, version in needs]
        yield from _report(r, s, problems, f"{rt.name} runs on {rt.os} with glibc {_dotted(rt.glibc)}",
                           _glibc_fix(rt, needs[0][1]))


@rule("LP114", "wheel-tag-mismatch", Severity.ERROR, subject=PackageSubject, source=PACKAGE_URL)
def wheel_tag_mismatch(r: Rule, s: PackageSubject) -> Iterator[Finding]:
    """## What it does
    Reads the `Tag:` lines of each installed distribution's `*.dist-info/WHEEL` file and flags a
    distribution when none of its tags can run on the target: a Python tag for another CPython
    (`cp313` on python3.12; `abi3` wheels need `cp3N` with N at most the runtime's), a platform
    for another OS or machine (`macosx_*`, `win_amd64`, `*_aarch64` on x86_64), `musllinux_*`,
    or `manylinux_2_X` newer than the runtime's glibc (X > 26 on Amazon Linux 2, X > 34 on
    Amazon Linux 2023). One finding per distribution.

    A wheel with several tags is fine if any tag fits. Pure-Python tags (`py3-none-any`) always
    fit, and so does `linux_<machine>` (a wheel built locally, for instance in a Lambda build
    image): the files themselves are checked by LP110 to LP113.

    ## Why is this bad?
    The wheel was chosen for another interpreter or platform; its compiled code will not load on
    Lambda, or its files are for another Python. This often catches the mistake even when the
    failing file is deep inside the package.

    ## How to fix
    Reinstall for the target (`lpack build --runtime python3.X --arch ...`), or pin a release that
    ships a wheel for it (for Amazon Linux 2: `manylinux2014` / `manylinux_2_17`).

    ## References
    Platform compatibility tags: https://packaging.python.org/en/latest/specifications/platform-compatibility-tags/ ;
    PEP 600 (`manylinux_x_y`), PEP 656 (`musllinux`); Amazon Linux glibc versions: LAMBDA-FACTS.md section 5.
    """
    if s.target is None or s.reader is None:
        return
    for n in (n for n in _visible(s, s.target) if _WHEEL.fullmatch(n.rel)):
        tags = _wheel_tags(s.reader.text(n.entry.name))
        problems = [_tag_problem(tag, s.target) for tag in tags]
        if tags and all(problems):
            yield r.finding(
                f"{_distribution(n)} was installed from a wheel for {_tag_list(tags)}: {problems[0]}",
                s.where(n.entry.name), function=s.function, fix=_install_fix(s.target),
            )


@rule("LP115", "musl-binary", Severity.ERROR, subject=PackageSubject, source=RUNTIMES_URL)
def musl_binary(r: Rule, s: PackageSubject) -> Iterator[Finding]:
    """## What it does
    Flags ELF files for the target's machine that link the musl C library (they need
    `libc.musl-x86_64.so.1` or `libc.musl-aarch64.so.1`), as `musllinux` wheels built for Alpine
    Linux do. Statically linked programs need no libc and are not flagged.

    ## Why is this bad?
    Amazon Linux has glibc, not musl: the loader cannot find `libc.musl-*.so.1` and the import
    fails at cold start with `Runtime.ImportModuleError`.

    ## How to fix
    Install `manylinux` wheels instead of `musllinux` ones (`lpack build` does), and do not build
    Lambda packages in Alpine containers.
    """
    if s.target is None:
        return
    machine = s.target.machine
    problems = [(n, f"links musl libc ({lib})") for n, b in _binaries(s)
                if _loads(b, machine) and (lib := _musl(b))]
    yield from _report(r, s, problems, f"{s.target.runtime.os} has glibc, not musl", _install_fix(s.target))


# -- which entries, and what they are ------------------------------------------------------------


def _visible(s: PackageSubject, target: Target) -> list[_Native]:
    """The files the target can see, with their names below the folder it finds them in."""
    natives = []
    for entry in s.package.entries:
        if entry.is_dir or entry.symlink:
            continue
        rel = _relative(entry.name, s.kind, target.runtime.python[1])
        if rel is not None:
            natives.append(_Native(entry, rel))
    return natives


def _relative(name: str, kind: str, minor: int) -> str | None:
    if kind != "layer":
        return name
    site = _SITE_PACKAGES().match(name)
    if site:
        return name[site.end():] if int(site[1]) == minor else None  # another runtime's folder
    return name.removeprefix("python/")


def _is_candidate(n: _Native) -> bool:
    """Named like native code Linux loads or runs: only these entries are decompressed."""
    folders = n.folder.split("/")
    in_native_folder = folders[-1] == "bin" or any(f.endswith(".libs") for f in folders)
    return in_native_folder or _SHARED_OBJECT.search(n.base) is not None


# Files up to this size are inflated whole, several at once in threads; a larger one (a 250 MB
# libtorch) is streamed and only its headers and the sections they point at are kept.
_READ_WHOLE_MAX_BYTES = 32 << 20
_PARSED: WeakKeyDictionary[PackageReader, dict[str, Binary]] = WeakKeyDictionary()


def _binaries(s: PackageSubject) -> list[tuple[_Native, Binary]]:
    """Candidate entries the target would load by their names, read and parsed once per reader."""
    if s.reader is None or s.target is None:
        return []
    parsed = _PARSED.setdefault(s.reader, {})
    chosen = [n for n in _visible(s, s.target) if _is_candidate(n) and _foreign_extension(n.base, s.target) is None]
    todo = [n.entry.name for n in chosen if n.entry.name not in parsed]
    if not todo:
        return [(n, parsed[n.entry.name]) for n in chosen]
    from lpack.analysis.binary import (
        read_binary,  # ELF parsing loads only when a package has native code not read yet
    )

    sizes = {n.entry.name: n.entry.size for n in chosen}
    small = [name for name in todo if sizes[name] <= _READ_WHOLE_MAX_BYTES]
    parsed.update(zip(small, s.reader.map(read_binary, small)))
    for name in (name for name in todo if name not in parsed):
        with s.reader.open(name) as stream:
            parsed[name] = read_binary(stream)
    return [(n, parsed[n.entry.name]) for n in chosen]


def _loads(b: Binary, machine: str) -> bool:
    """An ELF file the target's loader accepts: 64-bit, little-endian, its machine."""
    return b.format == "elf" and b.bits == 64 and b.little_endian and b.machine == machine


def _alone(binaries: list[tuple[_Native, Binary]], target: Target) -> list[tuple[_Native, Binary]]:
    """Drop plain-named libraries in folders that also hold one for the target: one build per
    machine, chosen at run time. Tagged extension modules are imported by name, so never dropped."""
    chosen = {n.folder for n, b in binaries if _loads(b, target.machine)}
    return [(n, b) for n, b in binaries if n.folder not in chosen or _is_extension_name(n.base)]


def _glibc_needs(s: PackageSubject, target: Target) -> list[tuple[_Native, tuple[int, ...]]]:
    """Loadable ELF files that need a newer ``GLIBC_x.y`` than the runtime's, and that version."""
    needs = []
    for n, b in _binaries(s):
        glibc = b.glibc
        if _loads(b, target.machine) and glibc is not None and glibc > target.runtime.glibc:
            needs.append((n, glibc))
    return needs


def _musl(b: Binary) -> str | None:
    return next((lib for lib in b.needed if lib.startswith("libc.musl-")), None)


# -- extension module names ----------------------------------------------------------------------


def _suffix(target: Target) -> str:
    minor = target.runtime.python[1]
    return f".cpython-3{minor}{'m' if minor <= 7 else ''}-{target.machine}-linux-gnu.so"


def _is_extension_name(base: str) -> bool:
    """Named with a Python tag (``.abi3.so``, ``.cpython-312-...so``): imported by that name."""
    tagged = _TAGGED.fullmatch(base)
    if tagged is None or not base.endswith(".so"):
        return False
    return tagged["tag"] == "abi3" or _CPYTHON().fullmatch(tagged["tag"]) is not None


def _foreign_extension(base: str, target: Target) -> str | None:
    """What an extension module's file name says it is built for, if the target cannot import it."""
    tagged = _TAGGED.fullmatch(base)
    if base.endswith(".pyd"):
        return f"Windows ({tagged['tag']})" if tagged else "Windows"
    if tagged is None or tagged["tag"] == "abi3" or base.endswith(_suffix(target)):
        return None
    cpython = _CPYTHON().fullmatch(tagged["tag"])
    if cpython is None:
        tag = tagged["tag"]
        other = next((name for prefix, name in _OTHER_PYTHONS.items() if tag.startswith(prefix)), None)
        return f"{other} ({tag})" if other else None  # not a Python tag: libfoo.1.2.so
    flags = {"t": " free-threaded", "d": " debug"}.get(cpython["flags"].replace("m", ""), "")
    return f"CPython 3.{cpython['minor']}{flags} on {_platform(cpython['platform'])}"


def _platform(platform: str) -> str:
    linux = _LINUX().fullmatch(platform)
    if linux:
        return f"{linux['arch']} Linux" + (" with musl libc" if linux["libc"] == "musl" else "")
    return {"darwin": "macOS"}.get(platform, platform)


def _module(n: _Native) -> str:
    return f"{n.folder}/{n.base.split('.', 1)[0]}"


def _importable_modules(natives: list[_Native], target: Target) -> set[str]:
    """``folder/module`` for every extension module the target imports (tagged for it, abi3, plain)."""
    return {_module(n) for n in natives if n.base.endswith(".so") and n.base.count(".") in (1, 2)
            and _foreign_extension(n.base, target) is None}


# -- wheel tags ----------------------------------------------------------------------------------


def _wheel_tags(text: str) -> list[str]:
    """The ``Tag:`` values of a WHEEL file, compressed sets (``py2.py3-none-any``) expanded."""
    from packaging.tags import parse_tag

    tags: list[str] = []
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() == "tag":
            try:
                tags += sorted(str(t) for t in parse_tag(value.strip()))
            except ValueError:
                continue
    return list(dict.fromkeys(tags))


def _tag_problem(tag: str, target: Target) -> str | None:
    interpreter, abi, platform = tag.split("-")
    return _python_problem(interpreter, abi, target.runtime) or _platform_problem(platform, target)


def _python_problem(interpreter: str, abi: str, rt: Runtime) -> str | None:
    minor = rt.python[1]
    version = re.fullmatch(r"(py|cp)3(\d*)", interpreter)
    if abi == "abi3" and version and version[1] == "cp" and version[2] and int(version[2]) <= minor:
        return None
    if abi == "none" and version and (not version[2] or int(version[2]) <= minor):
        return None
    if abi in (rt.abi, f"{rt.abi}m") and interpreter == rt.abi:
        return None
    if abi == "abi3" and version and version[2]:
        return f"{interpreter}-abi3 needs CPython 3.{version[2]} or newer, and {rt.name} is {rt.python_version}"
    return f"{interpreter}-{abi} is not for CPython {rt.python_version}"


def _platform_problem(platform: str, target: Target) -> str | None:
    machine, rt = target.machine, target.runtime
    for legacy, modern in _LEGACY_MANYLINUX.items():
        if platform.startswith(legacy + "_"):
            platform = modern + platform[len(legacy):]
    many = _MANYLINUX().fullmatch(platform)
    if platform == "any" or platform == f"linux_{machine}":
        return None
    if many and many["arch"] == machine:
        need = (int(many["major"]), int(many["minor"]))
        if need <= rt.glibc:
            return None
        return f"{platform} needs glibc {_dotted(need)}, and {rt.os} ({rt.name}) has {_dotted(rt.glibc)}"
    if platform.startswith("musllinux_"):
        return f"{platform} needs musl libc, and {rt.os} has glibc"
    for prefix, system in (("macosx_", "macOS"), ("win", "Windows"), ("ios_", "iOS"), ("android_", "Android")):
        if platform.startswith(prefix):
            return f"{platform} is for {system}"
    return f"{platform} is not for {machine} Linux"


def _tag_list(tags: list[str]) -> str:
    others = len(tags) - 1
    return tags[0] + (f" (and {others} other tag{'s' * (others != 1)})" if others else "")


def _distribution(n: _Native) -> str:
    name, _, version = n.rel.split("/", 1)[0].removesuffix(".dist-info").rpartition("-")
    return f"{name} {version}" if name else version


# -- findings ------------------------------------------------------------------------------------


def _report(r: Rule, s: PackageSubject, problems: list[_Problem], need: str, fix: str) -> Iterator[Finding]:
    """One finding per top-level folder, naming its first problem and counting the others."""
    groups: dict[str, list[_Problem]] = {}
    for problem in problems:
        groups.setdefault(problem[0].top, []).append(problem)
    for top, group in groups.items():
        n, what = group[0]
        more = f" ({len(group) - 1} more file{'s' * (len(group) > 2)} in {top}/)" if len(group) > 1 else ""
        yield r.finding(f"{n.entry.name} {what}; {need}{more}", s.where(n.entry.name),
                        function=s.function, fix=fix)


def _install_fix(target: Target) -> str:
    rt = target.runtime
    return (f"install dependencies for {target.label}: `lpack build --runtime {rt.name} --arch "
            f"{target.architecture}`, or `pip install --platform manylinux2014_{target.machine} "
            f"--implementation cp --python-version {rt.python_version} --only-binary=:all: --target ...`")


def _glibc_fix(rt: Runtime, needed: tuple[int, ...]) -> str:
    fix = (f"install wheels tagged manylinux_{rt.glibc[0]}_{rt.glibc[1]} or older (manylinux2014 "
           f"works on every runtime); pin an older release if the project has none")
    newer = sorted((o for o in RUNTIMES.values() if o.glibc >= needed and o.python > rt.python), key=_by_python)
    if newer:
        fix += f", or move to {newer[0].name} or newer (glibc {_dotted(newer[0].glibc)})"
    return fix


def _by_python(rt: Runtime) -> tuple[int, int]:
    return rt.python


def _a(noun: str) -> str:
    """``an x86_64 ELF``, ``an aarch64 ELF``, ``a 32-bit i386 ELF``, ``a Mach-O (macOS) ...``."""
    return f"{'an' if noun[:1] in ('a', 'e', 'i', 'o', 'x') else 'a'} {noun}"


def _dotted(version: tuple[int, ...]) -> str:
    return ".".join(str(part) for part in version)

