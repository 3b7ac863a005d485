"""Credential rules (LP130-LP132): secrets shipped in the package.

Secrets are searched only in the function's own text files: files that a ``*.dist-info/RECORD``
lists belong to an installed distribution and are not read, so a 250 MB package costs a few
small reads.
"""

from __future__ import annotations

import csv
import posixpath
import weakref
from collections.abc import Iterator

from lpack.analysis import secrets
from lpack.analysis.package import Entry, PackageReader
from lpack.analysis.subjects import PackageSubject
from lpack.core.findings import Finding, Severity
from lpack.rules import Rule, rule
from lpack.rules._package import handler_module, in_metadata, package_files, some

# Rules cite Lambda's own pages (the project's convention); LP130's doc names IAM's page on keys.
EXECUTION_ROLE_URL = "https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html"
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

_OWNED: weakref.WeakKeyDictionary[PackageReader, tuple[str | None, frozenset[str]]] = weakref.WeakKeyDictionary()


def _record_paths(text: str, prefix: str) -> set[str]:
    paths = set()
    try:
        for row in csv.reader(text.splitlines()):
            if row and row[0]:
                path = posixpath.normpath(posixpath.join(prefix, row[0]))
                if not path.startswith("../"):
                    paths.add(path)
    except csv.Error:
        pass  # a damaged RECORD owns what was read before the damage; the rest is searched
    return paths


def _distributions(s: PackageSubject, reader: PackageReader) -> Iterator[tuple[str, set[str]]]:
    """(prefix, files) for each installed distribution: from ``*.dist-info/RECORD`` (paths
    relative to the folder holding the dist-info) or ``*.egg-info/installed-files.txt``."""
    for entry in s.package.entries:
        if entry.name.endswith(".dist-info/RECORD"):
            prefix = posixpath.dirname(posixpath.dirname(entry.name))
            yield prefix, _record_paths(reader.text(entry.name), prefix)
        elif entry.name.endswith(".egg-info/installed-files.txt"):
            folder = posixpath.dirname(entry.name)
            lines = reader.text(entry.name).splitlines()
            paths = {posixpath.normpath(posixpath.join(folder, line.strip())) for line in lines if line.strip()}
            yield posixpath.dirname(folder), {p for p in paths if not p.startswith("../")}


def _owned(s: PackageSubject, reader: PackageReader) -> frozenset[str]:
    """Files installed by a distribution, except the one that holds the handler's module (the
    function's own project, installed from its wheel): its files are the function's own."""
    cached = _OWNED.get(reader)
    if cached is not None and cached[0] == s.handler:
        return cached[1]
    module = handler_module(s)
    owned: set[str] = set()
    for prefix, paths in _distributions(s, reader):
        top = posixpath.join(prefix, module.split("/", 1)[0]) if module else None
        if top and (f"{top}.py" in paths or any(p.startswith(top + "/") for p in paths)):
            continue
        owned |= paths
    result = frozenset(owned)
    _OWNED[reader] = (s.handler, result)
    return result


def _text(reader: PackageReader, entry: Entry) -> str | None:
    data = reader.read(entry.name)
    return None if b"\0" in data[:8192] else data.decode("utf-8", errors="replace")


def _own_text_files(s: PackageSubject, reader: PackageReader) -> Iterator[tuple[Entry, str]]:
    """The function's own text files (not installed by a distribution, at most 1 MB each, at
    most ``SCAN_BUDGET_BYTES`` in all), with their text."""
    owned = _owned(s, reader)
    budget = SCAN_BUDGET_BYTES
    for entry in package_files(s):
        suffix = posixpath.splitext(entry.name)[1].lower()
        if (entry.symlink or entry.size > SCAN_MAX_FILE_BYTES or suffix in _BINARY_SUFFIXES
                or entry.name in owned or in_metadata(entry.name)):
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
    are not secrets. Files a `*.dist-info/RECORD` lists belong to installed libraries and are
    not searched, nor binaries, nor files over 1 MB.

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
    Test keys inside installed libraries (files a `*.dist-info/RECORD` lists) are not searched.

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
