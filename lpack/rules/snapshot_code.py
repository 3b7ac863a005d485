"""Handler code under SnapStart (LP230-LP239): what module-level code captures in the snapshot that every
restored environment then shares, and whether its runtime hooks are reachable.

These rules run only for a function with `SnapStart: {ApplyOn: PublishedVersions}` (or `snap-start` in
`[tool.lpack]`). The analysis (lpack/analysis/snapshot.py) reads the handler module and the package's
own modules it imports, with ``ast``; the calls it knows are in lpack/core/facts/snapstart.py.
"""

from __future__ import annotations

from collections.abc import Iterator

from lpack.analysis.handler_analysis import analysis
from lpack.analysis.handler_name import split_handler
from lpack.analysis.snapshot import Capture, Snapshot, snapshot
from lpack.analysis.subjects import HandlerSubject
from lpack.core.facts import snapstart as facts
from lpack.core.findings import Finding, Severity
from lpack.rules import Rule, rule

HOOKS_NOTE = (
    "Runtime hooks come from `snapshot_restore_py`, which the Python managed runtimes include:\n"
    f"{facts.HOOKS_URL}\n"
    "A module-level result can also be recomputed in the handler, on first use, instead."
)
_RESTORE_FIX = ("make it in the handler (or on first use), or redo it in a function decorated with "
                "@register_after_restore from snapshot_restore_py")


def _snapshot(s: HandlerSubject) -> Snapshot | None:
    """The snapshot analysis of a SnapStart function's handler module, when lpack can read it."""
    if s.features.snap_start != facts.ON or s.kind != "function" or s.handler is None or s.reader is None:
        return None
    name = split_handler(s.handler)
    if name is None or not name.module or not name.function:
        return None  # LP201 reports the handler
    return snapshot(analysis(s))


def _captured(r: Rule, s: HandlerSubject, kind: str) -> Iterator[Finding]:
    found = _snapshot(s)
    if found is None or found.restores:
        return
    for c in found.captures:
        if c.kind == kind:
            yield r.finding(_message(c), s.where(c.entry), line=c.line, function=s.function, fix=_RESTORE_FIX)


def _message(c: Capture) -> str:
    return {
        "unique": f"{c.call}() runs at import: {c.what} made before the snapshot is the same in every "
                  "environment Lambda resumes from it",
        "time": f"{c.call}() is kept at import: every environment resumed from the snapshot sees the "
                "time of the snapshot, hours or days old",
        "connection": f"{c.call}() opens {c.what} at import: after a restore it may be closed or dead, "
                      "with no hook to reopen it",
        "credentials": f".{c.call}() fetches {c.what} at import: they expire while the snapshot waits, and "
                       "every resumed environment shares them",
    }[c.kind]


@rule("LP230", "snapshot-unique-value", Severity.WARNING, subject=HandlerSubject, source=facts.UNIQUENESS_URL,
      references=HOOKS_NOTE)
def snapshot_unique_value(r: Rule, s: HandlerSubject) -> Iterator[Finding]:
    """## What it does
    On a SnapStart function, flags module-level code of the handler module (and of the package
    modules it imports) that makes a value meant to be unique or unpredictable:
    `uuid.uuid4()`, `uuid.uuid1()`, `os.urandom()`, `random.seed()` and other `random`
    draws, `random.Random()`, `secrets.token_hex()` and the other `secrets` draws,
    `numpy.random.seed()`/`default_rng()`.

    ## Why is this bad?
    Lambda runs the init code once, when it publishes the version, and resumes every new
    environment from that one snapshot. An ID made at import is then the same ID in every
    environment, a seed the same sequence of "random" numbers, a token the same token.

    ## How to fix
    Make the value inside the handler (or on first use), or register a function with
    `@register_after_restore` (from `snapshot_restore_py`) that makes it again. A module that
    registers an after-restore hook at import silences these rules for the function, as lpack
    cannot tell what the hook renews. Code under `if __name__ == "__main__":` and inside
    functions is not init code and is not flagged.
    """
    yield from _captured(r, s, "unique")


@rule("LP231", "snapshot-captured-time", Severity.WARNING, subject=HandlerSubject, source=facts.SNAPSTART_URL,
      references=HOOKS_NOTE)
def snapshot_captured_time(r: Rule, s: HandlerSubject) -> Iterator[Finding]:
    """## What it does
    On a SnapStart function, flags a module-level name (or class attribute) that keeps the time
    of import: `STARTED = time.time()`, `datetime.now()`, `datetime.utcnow()`, `date.today()`.

    ## Why is this bad?
    The value is taken when Lambda makes the snapshot, and a restored environment may start
    days later: uptimes, cache expiry times and "today" computed from it are wrong.

    ## How to fix
    Take the time in the handler, or set it again in an `@register_after_restore` hook.
    A call at import whose result is not kept (`log.info(time.time())`) is not flagged.
    """
    yield from _captured(r, s, "time")


@rule("LP232", "snapshot-connection-at-init", Severity.WARNING, subject=HandlerSubject,
      source=facts.SNAPSTART_URL, references=HOOKS_NOTE)
def snapshot_connection_at_init(r: Rule, s: HandlerSubject) -> Iterator[Finding]:
    """## What it does
    On a SnapStart function, flags a network connection opened at import: a database driver's
    `connect()` (psycopg, psycopg2, pymysql, mysql.connector, pg8000, pymssql, oracledb,
    cx_Oracle) or `socket.create_connection()`.

    ## Why is this bad?
    Lambda does not guarantee the state of connections opened during init once it resumes an
    environment from the snapshot: the first query after a restore can fail on a dead socket.

    ## How to fix
    Open (or check and reopen) the connection in the handler, or reconnect in an
    `@register_after_restore` hook. AWS SDK clients made at import (`boto3.client`,
    `boto3.resource`) are the recommended pattern and are not flagged: the SDK reconnects on its
    own. Nor are pools that connect on first use (`requests.Session()`, `redis.Redis()`).
    """
    yield from _captured(r, s, "connection")


@rule("LP233", "snapshot-credentials-at-init", Severity.WARNING, subject=HandlerSubject,
      source=facts.SNAPSTART_URL, references=HOOKS_NOTE)
def snapshot_credentials_at_init(r: Rule, s: HandlerSubject) -> Iterator[Finding]:
    """## What it does
    On a SnapStart function, flags temporary credentials fetched at import:
    `sts.assume_role(...)`, `get_session_token()`, `get_federation_token()`,
    `session.get_credentials().get_frozen_credentials()`, `rds.generate_db_auth_token(...)`.

    ## Why is this bad?
    Temporary credentials and IAM database tokens expire (a token after 15 minutes, role
    sessions after an hour by default). Fetched into the snapshot, they are already stale
    when a restored environment uses them, and every environment shares the same ones.

    ## How to fix
    Fetch them in the handler (cache them with their expiry time), or fetch them again in an
    `@register_after_restore` hook. The function's own role credentials need nothing: the SDK
    refreshes them.
    """
    yield from _captured(r, s, "credentials")


@rule("LP234", "snapshot-hook-registered-late", Severity.ERROR, subject=HandlerSubject, source=facts.HOOKS_URL)
def snapshot_hook_registered_late(r: Rule, s: HandlerSubject) -> Iterator[Finding]:
    """## What it does
    On a SnapStart function, flags a runtime hook registered inside the handler function:
    `register_after_restore(...)`/`register_before_snapshot(...)` called there, or a nested
    function decorated with them.

    ## Why is this bad?
    Lambda runs the before-snapshot hooks at the end of init and the after-restore hooks when it
    resumes an environment; both are looked up among the hooks registered while the handler
    module was imported. A hook the handler registers when it is invoked comes after both: it
    never runs, and the state it was meant to renew stays the snapshot's.

    ## How to fix
    Register the hook at module level of the handler module, or of a module the handler module
    imports (a hook in a module the handler never imports is ignored as well).
    """
    found = _snapshot(s)
    for hook in found.late_hooks if found else ():
        yield r.finding(f"{hook.hook} is called inside the handler function: the hook is registered after the "
                        "snapshot is taken and Lambda never runs it", s.where(hook.entry), line=hook.line,
                        function=s.function, fix="register the hook at module level of the handler module")
