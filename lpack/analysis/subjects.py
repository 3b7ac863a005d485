"""What the rules look at: one immutable value per kind of subject (a NamedTuple of its fields,
and the class the rules are registered for, which adds its tag and how findings name it).

A rule is registered for exactly one of these classes (``lpack.rules.rule(..., subject=...)``), and
``lpack.rules.run(subject)`` runs the rules registered for the subject's class. The subjects hold
data only: reading a package, parsing a policy or hashing a lock's input happens before (in
``lpack.analysis`` and ``lpack.iam``), judging it after (in ``lpack.rules``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from lpack.analysis.package import PackageIndex, PackageReader, display_path
from lpack.core.features import NONE as NO_FEATURES
from lpack.core.features import Features
from lpack.core.findings import Location

if TYPE_CHECKING:
    import datetime as dt

    from lpack.analysis.aws_calls import CodeUse
    from lpack.analysis.image import Image
    from lpack.core.targets import Target
    from lpack.iam.policy import ParsedPolicy


class Subject:
    """The base of every subject. ``tag`` names the kind in SARIF's rule properties and in
    ``lpack rules --format json``; ``display`` is how a finding about the subject as a whole
    (e.g. a rule that crashed on it) names it."""

    __slots__ = ()
    tag: ClassVar[str] = ""

    @property
    def display(self) -> str:
        raise NotImplementedError


# Each subject is a NamedTuple of its fields (``_...Fields``; creating a NamedTuple class costs a
# tenth of a frozen dataclass, and `lpack check` in a pre-commit hook creates nine) and the class
# the rules are registered for, which adds the tag and how findings name it.

class _PackageFields(NamedTuple):
    package: PackageIndex
    kind: str  # "function" or "layer"
    layers: tuple[PackageIndex, ...] = ()
    layer_count: int = 0  # layers attached, including ones lpack did not build
    upload: str = "direct"  # "direct" (50 MB zipped applies) or "s3"
    function: str | None = None
    target: Target | None = None
    handler: str | None = None
    reader: PackageReader | None = None
    layer_readers: tuple[PackageReader, ...] = ()
    provided: frozenset[str] = frozenset()  # top-level import names the requirements will install
    is_source: bool = False  # ``package`` is a source folder, not a built zip
    described_layers: int = 0  # layers not in ``layers`` whose modules ``provided`` already lists
    features: Features = NO_FEATURES  # the function's SnapStart, Managed Instances ... settings


class PackageSubject(_PackageFields, Subject):
    """What the package rules look at: one artifact, the layers it is deployed with,
    its target and handler. ``reader`` is None when only the central directory may be used
    (``lpack build`` after writing): rules that need contents then stay quiet."""

    __slots__ = ()
    tag: ClassVar[str] = "package"

    @property
    def display(self) -> str:
        """How findings name this package: its path, relative to the working folder if inside."""
        return display_path(self.package.path)

    def where(self, entry: str) -> Location:
        """How findings name an entry: file ``dist/fn.zip`` and entry ``pkg/mod.py`` inside a zip,
        file ``src/pkg/mod.py`` in a source folder (a file path, for editors and inline ignores)."""
        if self.package.path.is_dir():
            return Location(str(Path(self.display) / entry))
        return Location(self.display, entry)


class HandlerSubject(PackageSubject):
    """What the handler rules look at: a function's package with its handler string, read with
    its contents (``reader``), and its layers' readers."""

    __slots__ = ()
    tag: ClassVar[str] = "handler"

    @classmethod
    def of(cls, package: PackageSubject, **changes: Any) -> HandlerSubject:
        """The handler subject of a package subject, with ``changes`` (e.g. its readers)."""
        return cls(**{**package._asdict(), **changes})


class EventFile(NamedTuple):
    path: Path
    data: bytes
    invocation: str  # "sync" or "async": which payload limit applies


class _FunctionFields(NamedTuple):
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
    features: Features = NO_FEATURES  # SnapStart, Managed Instances, durable, tenancy, URLs, event sources
    layers: tuple[str, ...] = ()  # its layers: ARNs, or the names of the project's layers


class FunctionSubject(_FunctionFields, Subject):
    """What the configuration rules look at: one function's settings and its test events."""

    __slots__ = ()
    tag: ClassVar[str] = "function"

    @property
    def display(self) -> str:
        return self.where

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


class _RuntimeFields(NamedTuple):
    target: Target
    today: dt.date
    where: str  # the file that chose the runtime, as findings name it


class RuntimeSubject(_RuntimeFields, Subject):
    """What the runtime rules look at: the target runtime, on a given day."""

    __slots__ = ()
    tag: ClassVar[str] = "runtime"

    @property
    def display(self) -> str:
        return self.where


class _LockfileFields(NamedTuple):
    lock: Path
    input: Path
    recorded_sha256: str
    current_sha256: str


class LockfileSubject(_LockfileFields, Subject):
    """What a lock file's header records (one `lpack lock` wrote), against its input as it is now."""

    __slots__ = ()
    tag: ClassVar[str] = "lockfile"

    @property
    def display(self) -> str:
        return display_path(self.lock)


class _PolicyFields(NamedTuple):
    policy: ParsedPolicy
    kind: str  # "identity", "resource" or "trust": from config, --policy-kind, else inferred
    where: str  # the file, as findings name it
    inline: bool = False  # an inline role policy: its size counts toward the role's 10,240, not 6,144


class PolicySubject(_PolicyFields, Subject):
    """What the IAM policy rules look at: one parsed policy document and its kind."""

    __slots__ = ()
    tag: ClassVar[str] = "iam-policy"

    @property
    def display(self) -> str:
        return self.where


class _RoleFields(NamedTuple):
    policies: tuple[ParsedPolicy, ...]
    where: str  # how findings name the role: its first policy file
    function: str | None = None  # names the log group /aws/lambda/NAME
    opaque: int = 0  # attached policies lpack cannot read (unknown managed policy ARNs)
    inline: tuple[ParsedPolicy, ...] = ()  # the role's inline policies
    unreadable: int = 0  # documents lpack cannot read all of (a template's, made at deployment)
    features: Features = NO_FEATURES  # the function's, when known: a durable function needs checkpoint rights
    code: CodeUse | None = None  # what the function's code calls (lpack.analysis.aws_calls), when known
    # a SAM function's policy templates, as the statements SAM writes into its role: they grant
    # (every role rule counts them) but are not the user's to trim (LP571 does not list them)
    templates: tuple[ParsedPolicy, ...] = ()
    # a role several functions share (a Serverless service's): what all their code calls, None when
    # one of them cannot be read; LP571 judges the role by it, once, at its first function
    shared: tuple[str, ...] = ()
    shared_code: CodeUse | None = None


class RoleSubject(_RoleFields, Subject):
    """One execution role: every permission policy attached to it (``--role``, or a function's
    ``policies`` in the configuration), and the function it runs, when known."""

    __slots__ = ()
    tag: ClassVar[str] = "iam-role"

    @property
    def display(self) -> str:
        return self.where


class _ImageFields(NamedTuple):
    image: Image
    architecture: str
    where: str  # the tar or the layout folder, as findings name it


class ImageSubject(_ImageFields, Subject):
    """What the container image rules look at: one image read from disk (``lpack.analysis.image``),
    and the architecture the function is to run on (Lambda's name: x86_64 or arm64)."""

    __slots__ = ()
    tag: ClassVar[str] = "image"

    @property
    def display(self) -> str:
        return self.where
