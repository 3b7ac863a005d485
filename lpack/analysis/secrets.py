"""Secret detectors for a package's own text files: AWS access keys, private keys, ``.env`` values.

Each detector takes a file's text and returns where it found something and what kind, never the
value: findings name the file and line, and at most a masked key ID (``AKIA************ABCD``).
The patterns favour precision: AWS's documented example keys, PEM markers in code that parses
keys, and placeholder values in ``.env`` files are not secrets.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from lpack.core.patterns import lazy

# Access key IDs: AKIA (long-term, an IAM user's) or ASIA (temporary, from STS), then 16 characters.
_KEY_ID = lazy(r"(?<![A-Z0-9])((?:AKIA|ASIA)[A-Z0-9]{16})(?![A-Z0-9])")
# A secret access key: 40 characters of base64's alphabet, not part of a longer run.
_SECRET = lazy(r"(?<![A-Za-z0-9/+])([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])")
# A secret access key named as one on its line (``aws_secret_access_key = ...``, ``SecretAccessKey``).
_SECRET_NAME = lazy(r"secret_?access_?key|aws_?secret", re.IGNORECASE)
NEARBY_LINES = 5  # a key ID and its secret within this many lines make a pair

_PRIVATE_KEY = lazy(r"-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY(?: BLOCK)?-----")
# What follows a real key's BEGIN line, in a .pem file or a string literal: optional quotes,
# escaped or real line breaks, optional PEM headers (Proc-Type, DEK-Info, Version), then a
# base64 body. Code that only looks for the marker (``if pem.startswith(...)``) has no body.
_PEM_BODY = lazy(
    r"""(?:\\[rn]|\s|["'+(,])*(?:[A-Za-z-]+:[^\n\\]*(?:\\n|\n)(?:\\[rn]|\s|["'+,])*)*[A-Za-z0-9+/=]{40,}"""
)

# A URL with a password in it: ``postgres://app:s3cret@db.example.com/orders``.
_URL_PASSWORD = lazy(r"^[A-Za-z][A-Za-z0-9+.-]*://[^:/?#@\s]*:([^@/?#\s]+)@([^:/?#\s]*)")
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "0.0.0.0", "::1", "host.docker.internal"})
_ASSIGNMENT = lazy(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*?)\s*$")
# Names whose value is a credential whatever it looks like.
_CREDENTIAL_NAME = lazy(
    r"(?:PASSWORD|PASSWD|PASSPHRASE|TOKEN|SECRET|(?:^|_)(?:SECRET|PRIVATE|API|ACCESS|AUTH|SIGNING|"
    r"ENCRYPTION|MASTER)_?KEY)$"
)
# ``*_KEY`` names that are not credentials: table keys, object keys, public keys, KMS key names.
_PLAIN_KEY_NAME = lazy(
    r"(?:^|_)(?:PUBLIC|PUBLISHABLE|SITE|PARTITION|SORT|HASH|RANGE|PRIMARY|FOREIGN|CACHE|S3|OBJECT|"
    r"BUCKET|KMS|IDEMPOTENCY|ROUTING|LOOKUP|GROUP|DEDUPLICATION|MESSAGE_GROUP)_KEY$"
)
_PLACEHOLDER_WORDS = lazy(
    r"change_?-?me|your[_-]|replace|placeholder|example|dummy|todo|fixme|redacted|sample|fake|xxx|insert",
    re.IGNORECASE,
)
_PLACEHOLDER_VALUES = frozenset({
    "none", "null", "nil", "false", "true", "test", "secret", "password", "token", "key", "foo",
    "bar", "default", "empty", "tbd", "n/a", "na", "-", "unset", "required",
})


class AwsKey(NamedTuple):
    line: int
    masked: str  # AKIA************ABCD
    temporary: bool  # ASIA: from STS, needs a session token too
    secret_line: int | None  # the line of the secret access key found with it, if any


class NamedSecret(NamedTuple):
    line: int
    name: str  # the variable's name; its value is never kept


def mask(key_id: str) -> str:
    return key_id[:4] + "*" * (len(key_id) - 8) + key_id[-4:]


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _is_example(value: str) -> bool:
    """AWS's documentation marks every example credential with EXAMPLE (AKIAIOSFODNN7EXAMPLE);
    ``AKIAXXXXXXXXXXXXXXXX`` and ``AKIA0000000000000000`` are placeholders."""
    return "EXAMPLE" in value or len(set(value[4:])) < 4


def _looks_random(value: str) -> bool:
    return any(c.islower() for c in value) and any(c.isupper() for c in value) and any(c.isdigit() for c in value)


def aws_secret_lines(text: str) -> dict[int, bool]:
    """Lines with a secret access key: line -> whether the line also names it as one."""
    lines: dict[int, bool] = {}
    for match in _SECRET().finditer(text):
        value = match.group(1)
        if _looks_random(value) and not _is_example(value):
            line = _line_of(text, match.start())
            start = text.rfind("\n", 0, match.start()) + 1
            end = text.find("\n", match.end())
            named = bool(_SECRET_NAME().search(text[start:end if end >= 0 else len(text)]))
            lines[line] = lines.get(line, False) or named
    return lines


def aws_keys(text: str) -> list[AwsKey]:
    """Access key IDs (with the secret found near each, if any); a secret access key that its
    line names as one counts even without an ID (``masked`` is then empty)."""
    if "AKIA" not in text and "ASIA" not in text and not _SECRET_NAME().search(text):
        return []
    secrets = aws_secret_lines(text)
    found: list[AwsKey] = []
    paired: set[int] = set()
    for match in _KEY_ID().finditer(text):
        key_id = match.group(1)
        if _is_example(key_id):
            continue
        line = _line_of(text, match.start())
        near = sorted((abs(s - line), s) for s in secrets if abs(s - line) <= NEARBY_LINES)
        secret_line = near[0][1] if near else None
        if secret_line is not None:
            paired.add(secret_line)
        found.append(AwsKey(line, mask(key_id), key_id.startswith("ASIA"), secret_line))
    for line, named in sorted(secrets.items()):
        if named and line not in paired:
            found.append(AwsKey(line, "", False, line))
    return sorted(found)


class PrivateKey(NamedTuple):
    line: int
    kind: str  # "RSA", "OPENSSH", "EC", "" (PKCS#8), ...
    encrypted: bool


def private_keys(text: str) -> list[PrivateKey]:
    if "PRIVATE KEY" not in text:
        return []
    found = []
    for match in _PRIVATE_KEY().finditer(text):
        if not _PEM_BODY().match(text, match.end()):
            continue
        kind = match.group(1).strip()
        encrypted = kind == "ENCRYPTED" or "ENCRYPTED" in text[match.end():match.end() + 120]
        found.append(PrivateKey(_line_of(text, match.start()), kind.replace("ENCRYPTED", "").strip(), encrypted))
    return found


def is_dotenv(name: str) -> bool:
    """``.env`` and ``.env.production``, not the templates (``.env.example``, ``.env.sample``)."""
    base = name.rsplit("/", 1)[-1]
    if base == ".env":
        return True
    templates = (".example", ".sample", ".template", ".tmpl", ".tpl", ".dist", ".default", ".defaults", ".schema")
    return base.startswith(".env.") and not base.lower().endswith(templates)


def dotenv_value(raw: str) -> str:
    """The value of a dotenv assignment: quotes removed, a trailing `` # comment`` dropped."""
    if raw[:1] in ("'", '"'):
        end = raw.find(raw[0], 1)
        return raw[1:end] if end > 0 else raw[1:]
    return re.split(r"\s+#", raw, maxsplit=1)[0].strip()


def is_placeholder(value: str) -> bool:
    v = value.strip()
    if not v or v.startswith("$") or "{{" in v or v[0] + v[-1] in ("<>", "[]", "{}"):
        return True  # empty, ${OTHER} / $OTHER interpolation, <your key>, {{resolve:...}}
    if v.lower() in _PLACEHOLDER_VALUES or len(set(v)) == 1:
        return True  # "none", "xxxxxxxx", "********"
    if v.startswith(("arn:", "ssm:", "resolve:", "secretsmanager:")):
        return True  # a reference to where the secret lives, not the secret
    return bool(_PLACEHOLDER_WORDS().search(v))


def _credential(name: str, value: str) -> bool:
    upper = name.upper()
    if _CREDENTIAL_NAME().search(upper):
        return True
    if upper.endswith("_KEY") and not _PLAIN_KEY_NAME().search(upper):
        # Any other ``*_KEY`` only when its value looks like a generated key, not a word or path.
        return len(value) >= 16 and not re.search(r"[\s/.:]", value) and any(c.isdigit() for c in value) \
            and any(c.isalpha() for c in value)
    return False


def dotenv_credentials(text: str, skip_lines: frozenset[int] = frozenset()) -> list[NamedSecret]:
    """Assignments of credential-looking names to real-looking values (not placeholders)."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = _ASSIGNMENT().match(line)
        if not match or number in skip_lines or line.lstrip().startswith("#"):
            continue
        name, value = match.group(1), dotenv_value(match.group(2))
        if _url_password(value) or (_credential(name, value) and not is_placeholder(value)):
            found.append(NamedSecret(number, name))
    return found


def _url_password(value: str) -> bool:
    """A URL with a real password for a host that is not the developer's own machine."""
    match = _URL_PASSWORD().match(value)
    if match is None:
        return False
    return not is_placeholder(match.group(1)) and match.group(2).lower() not in _LOCAL_HOSTS
