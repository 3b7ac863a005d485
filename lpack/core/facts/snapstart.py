"""Lambda SnapStart for Python: the settings Lambda accepts with it, and the module-level calls whose
results a snapshot freezes. Read in the AWS Lambda developer guide on 2026-12-05.

Where the guide is silent (Managed Instances, tenant isolation, SDK clients made at init), lpack
stays quiet: a linter in a pre-commit hook must not raise an alarm the documentation does not back.
"""

from __future__ import annotations

from lpack.core.dates import dt

READ = dt.date(2026, 12, 5)

SNAPSTART_URL = "https://docs.aws.amazon.com/lambda/latest/dg/snapstart.html"
ACTIVATE_URL = "https://docs.aws.amazon.com/lambda/latest/dg/snapstart-activate.html"
UNIQUENESS_URL = "https://docs.aws.amazon.com/lambda/latest/dg/snapstart-uniqueness.html"
HOOKS_URL = "https://docs.aws.amazon.com/lambda/latest/dg/snapstart-runtime-hooks-python.html"
BEST_PRACTICES_URL = "https://docs.aws.amazon.com/lambda/latest/dg/snapstart-best-practices.html"
API_URL = "https://docs.aws.amazon.com/lambda/latest/api/API_SnapStart.html"

# SnapStart.ApplyOn (API_SnapStart): the only two values the API takes.
APPLY_ON = ("PublishedVersions", "None")
ON = "PublishedVersions"

# "Supported features and limitations" (SNAPSTART_URL): Python 3.12 and later managed runtimes.
MIN_PYTHON = (3, 12)
# Same section: no provisioned concurrency, no Amazon EFS, no ephemeral storage over 512 MB.
MAX_EPHEMERAL_STORAGE_MB = 512

# HOOKS_URL: the Snapshot Restore for Python library, included in the Python managed runtimes.
HOOK_MODULE = "snapshot_restore_py"
AFTER_RESTORE = "register_after_restore"
BEFORE_SNAPSHOT = "register_before_snapshot"

# UNIQUENESS_URL: unique IDs, unique secrets and the entropy of pseudorandom generators made during
# init are shared by every environment resumed from the snapshot. Call (module.name) -> what it makes.
UNIQUE_CALLS = {
    "uuid.uuid1": "a UUID", "uuid.uuid4": "a random UUID",
    "os.urandom": "random bytes", "os.getrandom": "random bytes",
    "random.seed": "a seed for the random module", "random.Random": "a seeded random generator",
    "random.random": "a random number", "random.randint": "a random number",
    "random.randrange": "a random number", "random.uniform": "a random number",
    "random.getrandbits": "random bits", "random.randbytes": "random bytes",
    "random.choice": "a random choice", "random.choices": "a random choice",
    "random.sample": "a random sample", "random.shuffle": "a random order",
    "secrets.token_bytes": "a secret token", "secrets.token_hex": "a secret token",
    "secrets.token_urlsafe": "a secret token", "secrets.randbelow": "a secret number",
    "secrets.randbits": "secret bits", "secrets.choice": "a secret choice",
    "numpy.random.seed": "a seed for numpy's random generator",
    "numpy.random.default_rng": "a seeded numpy random generator",
}

# SNAPSTART_URL "Compatibility considerations", ephemeral data: timestamps taken during init are
# stale in every resumed environment. Flagged when kept in a module-level name.
TIME_CALLS = frozenset({
    "time.time", "time.time_ns", "datetime.datetime.now", "datetime.datetime.utcnow",
    "datetime.datetime.today", "datetime.date.today",
})

# SNAPSTART_URL "Compatibility considerations", network connections: a connection opened during init
# is not guaranteed to survive the restore. Only calls that open one there and then: the AWS SDK's
# clients (boto3.client/resource) reconnect by themselves, and pools such as requests.Session or
# redis.Redis connect on first use, so they are not listed.
CONNECTION_CALLS = frozenset({
    "socket.create_connection", "psycopg2.connect", "psycopg.connect", "pymysql.connect",
    "mysql.connector.connect", "pg8000.connect", "pg8000.native.Connection", "pymssql.connect",
    "cx_Oracle.connect", "oracledb.connect",
})

# Same section, ephemeral data: temporary credentials fetched during init expire while the snapshot
# waits (methods of any boto3 client or session, matched by their name).
CREDENTIAL_METHODS = frozenset({
    "assume_role", "assume_role_with_web_identity", "assume_role_with_saml", "get_session_token",
    "get_federation_token", "get_frozen_credentials", "generate_db_auth_token",
})
