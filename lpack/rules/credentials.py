"""Credential rules (LP130-LP132): secrets shipped in the package.

LP130 and LP131 search only the function's own text files: files of installed libraries
(``lpack.analysis.distributions`` decides, from a ``*.dist-info/RECORD`` or, without one, from the
modules the metadata claims) are not read, so a 250 MB package costs a few small reads. LP132
reads every ``.env`` file, libraries' included: a ``.env`` is deployment configuration wherever it
sits, and its own filters (templates, placeholders) keep fixtures quiet.
"""

from __future__ import annotations

import posixpath
import weakref
from collections.abc import Iterator
from typing import TYPE_CHECKING

from lpack.analysis.distributions import Libraries, installed
from lpack.analysis.package import Entry, PackageReader
from lpack.analysis.subjects import PackageSubject
from lpack.core.findings import Finding, Severity
from lpack.iam.tables import EXECUTION_ROLE_URL
from lpack.rules import Rule, rule
from lpack.rules._package import handler_module, in_metadata, package_files, some

if TYPE_CHECKING:
    from lpack.analysis import secrets

# Rules cite Lambda's own pages (the project's convention); LP130's doc names IAM's page on keys.
SECRETS_URL = "https://docs.aws.amazon.com/lambda/latest/dg/with-secrets-manager.html"

SCAN_MAX_FILE_BYTES = 1 << 20  # larger files are data, not code: not searched for secrets
SCAN_BUDGET_BYTES = 32 << 20  # at most this much of the function's own files is read per rule

_BINARY_SUFFIXES = frozenset({
    ".so", ".pyd", ".pyc", ".pyo", ".dll", ".dylib", ".a", ".o", ".exe", ".bin", ".dat", ".db",
    ".sqlite", ".sqlite3", ".zip", ".gz", ".tgz", ".bz2", ".xz", ".zst", ".whl", ".egg", ".jar",
    ".class", ".png", ".jpg", ".jpeg", ".gif", ".bmp", ".ico", ".webp", ".tif", ".tiff", ".pdf",
    ".woff", ".woff2", ".ttf", ".otf", ".eot", ".mo", ".npy", ".npz", ".pkl", ".pickle", ".joblib",
    ".parquet", ".h5", ".hdf5", ".onnx", ".pt", ".safetensors", ".tflite", ".wasm", ".mp3", ".mp4",
    ".wav", ".ogg", ".flac", ".mov", ".avi",
})

_LIBRARIES: weakref.WeakKeyDictionary[PackageReader, tuple[str | None, Libraries]] = weakref.WeakKeyDictionary()


def _libraries(s: PackageSubject, reader: PackageReader) -> Libraries:
    """The installed libraries' files (``lpack.analysis.distributions``: a RECORD's list, else the
    modules the metadata claims), except the distribution that installs the handler's top-level
    module: that is the function's own project, installed from its wheel, and its files are the
    function's own. Read once per package."""
    cached = _LIBRARIES.get(reader)
    if cached is not None and cached[0] == s.handler:
        return cached[1]
    module = handler_module(s)
    top = module.split("/", 1)[0] if module else None
    found = [d for d in installed(s.package, reader) if top is None or not d.installs(top)]
    libraries = Libraries(found)
    _LIBRARIES[reader] = (s.handler, libraries)
    return libraries


def _text(reader: PackageReader, entry: Entry) -> str | None:
    data = reader.read(entry.name)
    return None if b"\0" in data[:8192] else data.decode("utf-8", errors="replace")


def _own_text_files(s: PackageSubject, reader: PackageReader) -> Iterator[tuple[Entry, str]]:
    """The function's own text files (not installed by a distribution, at most 1 MB each, at
    most ``SCAN_BUDGET_BYTES`` in all), with their text."""
    libraries = _libraries(s, reader)
    budget = SCAN_BUDGET_BYTES
    for entry in package_files(s):
        suffix = posixpath.splitext(entry.name)[1].lower()
        if (entry.symlink or entry.size > SCAN_MAX_FILE_BYTES or suffix in _BINARY_SUFFIXES
                or in_metadata(entry.name) or libraries.holds(entry.name)):
            continue
        if entry.size > budget:
            return
        budget -= entry.size
        text = _text(reader, entry)
        if text is not None:
            yield entry, text


@rule("LP130", "aws-access-key", Severity.ERROR, subject=PackageSubject, source=EXECUTION_ROLE_URL)
def aws_access_key(r: Rule, s: PackageSubject) -> Iterator[Finding]:
    """## What it does
    Searches the function's own text files for AWS access keys: an access key ID (`AKIA...`,
    long-term; `ASIA...`, temporary) with a 40-character secret access key within five lines,
    or a secret access key named as one (`aws_secret_access_key = "..."`). An access key ID
    alone is a warning. Findings give the file and line, never the key: at most
    `AKIA************ABCD`.

    AWS's documentation keys (`AKIAIOSFODNN7EXAMPLE`, `wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY`)
    are not secrets. Files of installed libraries (those a `*.dist-info/RECORD` lists or, without
    one, those inside the modules its metadata names) are not searched, nor binaries, nor files
    over 1 MB.

    ## Why is this bad?
    Anyone who can read the package (`GetFunction` returns a download link for it) can use the
    key; a long-term key works until someone deactivates it. A function never needs one: the
    runtime gives it temporary credentials for its execution role.

    ## How to fix
    Deactivate and rotate the key in IAM now, remove it from the code, and grant the execution
    role the permissions the code needs. A key ID alone is not usable without its secret, but
    names a key of your account: find where its secret went. A made-up key in a test fixture:
    exclude the tests from the package, or ignore LP130 for that path (`per-path-ignores`).
    IAM's guide to access keys:
    https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html
    """
    if s.reader is None:
        return
    from lpack.analysis import secrets  # only a package read entry by entry is scanned

    for entry, text in _own_text_files(s, s.reader):
        for key in secrets.aws_keys(text):
            yield _aws_finding(r, s, entry, key)


def _aws_finding(r: Rule, s: PackageSubject, entry: Entry, key: secrets.AwsKey) -> Finding:
    fix = "deactivate and rotate the key in IAM, remove it, and use the function's execution role"
    kind = "temporary access key" if key.temporary else "access key"
    if not key.masked:
        message = f"a secret access key on line {key.line} (its key ID may be elsewhere)"
    elif key.secret_line is None:
        message = (f"{kind} ID {key.masked} on line {key.line} without a secret access key nearby: "
                   "not usable alone, but it names a key of your account")
        return r.finding(message, s.where(entry.name), line=key.line, function=s.function,
                         severity=Severity.WARNING, fix="find where its secret is, and rotate the key")
    else:
        message = (f"{kind} ID {key.masked} on line {key.line} with its secret access key on line "
                   f"{key.secret_line}: whoever can read the package can use them")
    return r.finding(message, s.where(entry.name), line=key.line, function=s.function, fix=fix)


@rule("LP131", "private-key", Severity.ERROR, subject=PackageSubject, source=SECRETS_URL)
def private_key(r: Rule, s: PackageSubject) -> Iterator[Finding]:
    """## What it does
    Searches the function's own text files for PEM private keys (`-----BEGIN RSA PRIVATE
    KEY-----`, `OPENSSH`, `EC`, PKCS#8, PGP) followed by a key body. Code that only looks for the
    marker (`if pem.startswith("-----BEGIN PRIVATE KEY-----")`) has no body and is not flagged.
    Test keys inside installed libraries (files a `*.dist-info/RECORD` lists or, without one,
    inside the modules its metadata names) are not searched.

    ## Why is this bad?
    Anyone who can read the package can use the key: sign as your service, decrypt its traffic,
    log in where the key is trusted.

    ## How to fix
    Store the key in AWS Secrets Manager (or SSM Parameter Store) and read it at run time; treat
    the shipped key as leaked and replace it. A test fixture: exclude the tests from the package,
    or ignore LP131 for that path (`per-path-ignores`).
    """
    if s.reader is None:
        return
    from lpack.analysis import secrets  # only a package read entry by entry is scanned

    for entry, text in _own_text_files(s, s.reader):
        for key in secrets.private_keys(text):
            what = f"{key.kind} private key" if key.kind else "private key"
            if key.encrypted:
                what = f"passphrase-protected {what}"
            yield r.finding(
                f"{what} on line {key.line}", s.where(entry.name), line=key.line, function=s.function,
                fix="move it to Secrets Manager and read it at run time; replace the key",
            )


@rule("LP132", "dotenv-credentials", Severity.ERROR, subject=PackageSubject, source=SECRETS_URL)
def dotenv_credentials(r: Rule, s: PackageSubject) -> Iterator[Finding]:
    """## What it does
    Reads `.env` and `.env.*` files anywhere in the package and flags assignments of
    credential-looking names (`*PASSWORD`, `*TOKEN`, `*_SECRET`, `*_API_KEY`, other `*_KEY`s
    when the value looks generated) to real-looking values, and URLs with a password in them
    (`postgres://app:...@db.example.com/orders`). The value is never shown.

    Placeholders are not secrets: empty values, `${OTHER}`, `<your-key>`, `changeme`, `xxxx`,
    ARNs and `{{resolve:...}}` references, URLs to `localhost`. Templates (`.env.example`,
    `.env.sample`, `.env.template`) are not read. Names that are not credentials
    (`PARTITION_KEY`, `S3_KEY`, `PUBLIC_KEY`, `KMS_KEY`) are not flagged.

    ## Why is this bad?
    A `.env` file is meant to stay on the machine that has it; in the package, its secrets go
    to everyone who can read the code, and rotate only when someone remembers the file.

    ## How to fix
    Exclude `.env` files (`exclude = [".env", ".env.*"]`) and set the values as the function's
    environment (encrypted with KMS) or, for secrets, in AWS Secrets Manager. A value that is not
    a secret despite its name: ignore LP132 for that file (`per-path-ignores`).
    """
    if s.reader is None:
        return
    from lpack.analysis import secrets  # only a package read entry by entry is scanned

    for entry in package_files(s):
        if not secrets.is_dotenv(entry.name) or entry.size > SCAN_MAX_FILE_BYTES or entry.symlink:
            continue
        text = _text(s.reader, entry)
        if text is None:
            continue
        taken = frozenset(line for k in secrets.aws_keys(text) for line in (k.line, k.secret_line) if line)
        found = secrets.dotenv_credentials(text, skip_lines=taken)
        if found:
            named = [f"{f.name} (line {f.line})" for f in found]
            yield r.finding(
                f"{some(named)} set to values that look like real credentials (not shown)",
                s.where(entry.name), line=found[0].line, function=s.function,
                fix='exclude = [".env", ".env.*"]; set the values in the function\'s environment or Secrets Manager',
            )
