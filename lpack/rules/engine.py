"""Which rules run on what: the one entry point commands (check, build, lock) use to judge a
package, a function's settings, its runtime, a lock, a policy or an execution role.

Each function builds the subjects (``lpack.analysis.subjects``) and runs the rules registered for
them; nothing below ``lpack.commands`` calls ``lpack.rules.run`` on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from lpack import rules
from lpack.analysis.package import PackageReader
from lpack.analysis.subjects import (
    FunctionSubject,
    HandlerSubject,
    ImageSubject,
    PackageSubject,
    PolicySubject,
    RoleSubject,
    RuntimeSubject,
)
from lpack.core.features import NONE as NO_FEATURES
from lpack.core.features import Features
from lpack.core.findings import Finding

if TYPE_CHECKING:
    import datetime as dt

    from lpack.analysis.aws_calls import CodeUse
    from lpack.analysis.image import Image
    from lpack.core.targets import Target
    from lpack.iam.policy import ParsedPolicy


def check_package(subject: PackageSubject, *, contents: bool = True) -> list[Finding]:
    """The package rules, then, for a function with a handler, the handler rules (which always
    read the entries: a package that cannot start is an error now, not after deployment).
    ``contents=False`` runs the package rules on the central directory alone, as a build does
    on the zip it has just written. Each package and layer is read once, and closed after."""
    readers = [PackageReader(subject.package), *(PackageReader(layer) for layer in subject.layers)]
    read = subject._replace(reader=readers[0], layer_readers=tuple(readers[1:]))
    try:
        findings = rules.run(read if contents else subject)
        if subject.kind == "function" and subject.handler:
            findings += rules.run(HandlerSubject.of(read))
        return findings
    finally:
        for reader in readers:
            reader.close()


def check_runtime(target: Target, today: dt.date, where: str) -> list[Finding]:
    """The runtime's lifecycle on ``today``; ``where`` names the file that chose it."""
    return rules.run(RuntimeSubject(target=target, today=today, where=where))


def check_function(subject: FunctionSubject) -> list[Finding]:
    """A function's settings: environment, test events, memory, timeout, storage, logging."""
    return rules.run(subject)


def check_lockfile(lock: Path | None) -> list[Finding]:
    """A unit's lock, if `lpack lock` wrote it, against its input as it is now (any other file,
    or none, has no header to compare)."""
    from lpack.inputs.lpack_lock import lock_state

    state = lock_state(lock) if lock is not None else None
    return [] if state is None else rules.run(state)


def check_policy(parsed: ParsedPolicy, kind: str | None, inline: bool = False) -> list[Finding]:
    """The IAM policy rules on one parsed document (kind None: what the document says, else identity)."""
    resolved = parsed.policy.kind if parsed.policy is not None else (kind or "identity")
    return rules.run(PolicySubject(policy=parsed, kind=resolved, where=parsed.path, inline=inline))


def check_policy_file(path: Path, kind: str | None, inline: bool = False) -> list[Finding]:
    """The IAM policy rules on one policy file (kind None: inferred from the document)."""
    from lpack.iam.policy import read_policy

    return check_policy(read_policy(path, kind), kind, inline)


def check_role(policies: Sequence[ParsedPolicy], inline: Sequence[ParsedPolicy], where: str,
               function: str | None, opaque: int, unreadable: int = 0, features: Features = NO_FEATURES,
               code: CodeUse | None = None, templates: Sequence[ParsedPolicy] = (),
               shared: Sequence[str] = (), shared_code: CodeUse | None = None) -> list[Finding]:
    """The execution-role rules on one role's complete set of policies (``features``: its function's;
    ``code``: what its code calls, for the rules that compare the two; ``templates``: a SAM
    function's policy templates, expanded; ``shared``: the functions that share the role, and
    ``shared_code`` what all their code calls)."""
    return rules.run(RoleSubject(policies=tuple(policies), where=where, function=function, opaque=opaque,
                                 inline=tuple(inline), unreadable=unreadable, features=features, code=code,
                                 templates=tuple(templates), shared=tuple(shared), shared_code=shared_code))


def check_image(image: Image, architecture: str, where: str) -> list[Finding]:
    """The container image rules on one image read from disk, for a function on ``architecture``."""
    return rules.run(ImageSubject(image=image, architecture=architecture, where=where))
