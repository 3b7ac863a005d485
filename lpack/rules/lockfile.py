"""LP331: a lock written by `lpack lock` that no longer matches its input."""

from __future__ import annotations

from collections.abc import Iterator

from lpack.analysis.package import display_path
from lpack.analysis.subjects import LockfileSubject
from lpack.core.findings import Finding, Severity
from lpack.rules import Rule, rule

# AWS: installing a function's dependencies for the target (the page the rule tests require);
# the lock format itself is pip-tools', written by `uv pip compile` (see the doc's References).
PYTHON_PACKAGE_URL = "https://docs.aws.amazon.com/lambda/latest/dg/python-package.html"


@rule("LP331", "lock-out-of-date", Severity.WARNING, subject=LockfileSubject, source=PYTHON_PACKAGE_URL)
def lock_out_of_date(r: Rule, state: LockfileSubject) -> Iterator[Finding]:
    """## What it does
    Compares the sha256 of `requirements.in` recorded in the header of the `requirements.txt`
    that `lpack lock` wrote with the sha256 of `requirements.in` as it is now (and of the files
    it includes with `-r` or `-c`). Content, not modification times: a git checkout sets those.

    Only locks lpack wrote are checked: a hand-written `requirements.txt`, or one from
    pip-compile, has no such header and gets no finding.

    ## Why is this bad?
    The package is built from the lock, so an edit to `requirements.in` (a new dependency, a
    raised minimum version) is silently not deployed until the lock is written again.

    ## How to fix
    Run `lpack lock` and commit both files. If the edit was only a comment and the pins are
    right, running `lpack lock` still records the new hash without changing a pin.

    ## References
    - [uv: locking environments](https://docs.astral.sh/uv/pip/compile/)
    - [pip-tools: pip-compile](https://pip-tools.readthedocs.io/en/stable/)
    """
    if state.recorded_sha256 != state.current_sha256:
        yield r.finding(
            f"{state.lock.name} was locked from an older {state.input.name}; run lpack lock",
            display_path(state.lock), line=1, fix="lpack lock",
        )
