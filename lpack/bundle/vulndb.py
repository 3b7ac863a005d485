"""Ask a vulnerability service about exact (name, version) pairs: OSV's API, or PyPI's JSON API.

- ``osv``: a POST to ``/v1/querybatch`` with every package (its answer names the advisories'
  ids; up to 1,000 queries a request, OSV's limit, and a result that says ``next_page_token`` is
  asked again with it as ``page_token`` until none does), then ``GET /v1/vulns/ID`` for each
  advisory found (the whole record: aliases, fixed versions).
  https://google.github.io/osv.dev/post-v1-querybatch/
- ``pypi``: ``GET /pypi/NAME/VERSION/json`` per package; its ``vulnerabilities`` are OSV's
  records for that release. A 404 means PyPI does not know the release (a private or local
  package): that package is not checked, and the audit says so.
- ``auto`` (the default): OSV, else PyPI when OSV cannot be reached.

A service that cannot be reached, or answers anything but JSON, is an error naming it (exit 2):
the audit never reports "no known vulnerabilities" for what it could not check.
LPACK_OSV_URL and LPACK_PYPI_JSON_URL point at another deployment (a mirror, a test server).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

from lpack.analysis.advisories import Advisory, from_osv, from_pypi, merged
from lpack.core.errors import LpackError

OSV_URL = "https://api.osv.dev"
PYPI_JSON_URL = "https://pypi.org/pypi"
_TIMEOUT_S = 20
_OSV_BATCH = 1000  # queries in one querybatch request, at most (OSV's limit)
_OSV_MAX_PAGES = 100  # a service still paging after this many is not answering
_THREADS = 8


class Unreachable(LpackError):
    """The vulnerability service could not answer: nothing was checked."""


def lookup(packages: Sequence[tuple[str, str]], service: str = "auto") -> tuple[str, dict[str, tuple[Advisory, ...] | None]]:
    """The service that answered, and for each normalised name its advisories for the version
    given (None: the service does not know that release)."""
    if not packages:
        return ("OSV" if service != "pypi" else "PyPI"), {}
    if service == "pypi":
        return "PyPI", pypi(packages)
    try:
        return "OSV", osv(packages)
    except Unreachable as first:
        if service == "osv":
            raise
        try:
            return "PyPI", pypi(packages)
        except Unreachable as second:
            raise Unreachable(f"{first}\n{second}", tip=second.tip) from None


def osv(packages: Sequence[tuple[str, str]]) -> dict[str, tuple[Advisory, ...] | None]:
    base = os.environ.get("LPACK_OSV_URL") or OSV_URL
    wanted = _osv_ids(base, packages)
    ids = sorted({i for found in wanted for i in found})
    records = dict(zip(ids, _parallel(lambda i: _json(_request(f"{base}/v1/vulns/{i}"), base), ids)))
    return {name: merged(a for i in found if (a := from_osv(records[i], name)) is not None)
            for (name, _version), found in zip(packages, wanted)}


def _osv_ids(base: str, packages: Sequence[tuple[str, str]]) -> list[list[str]]:
    """Each package's advisory ids from querybatch: at most _OSV_BATCH queries a request, and a
    query whose result has a ``next_page_token`` asked again with it, until none has one."""
    ids: list[list[str]] = [[] for _ in packages]
    pending = [(n, {"package": {"name": name, "ecosystem": "PyPI"}, "version": version})
               for n, (name, version) in enumerate(packages)]
    for _page in range(_OSV_MAX_PAGES):
        more = []
        for start in range(0, len(pending), _OSV_BATCH):
            batch = pending[start:start + _OSV_BATCH]
            answer = _json(_request(f"{base}/v1/querybatch", json.dumps({"queries": [q for _n, q in batch]}).encode()),
                           base)
            results = answer.get("results")
            if not isinstance(results, list) or len(results) != len(batch):
                raise Unreachable(f"{base}: the querybatch answer does not list one result per package; nothing was "
                                  "checked")
            for (n, query), result in zip(batch, results):
                result = result if isinstance(result, dict) else {}
                ids[n] += [str(v["id"]) for v in result.get("vulns") or [] if isinstance(v, dict) and "id" in v]
                if token := result.get("next_page_token"):
                    more.append((n, {**query, "page_token": str(token)}))
        if not (pending := more):
            return ids
    raise Unreachable(f"{base}: querybatch was still paging after {_OSV_MAX_PAGES} pages; nothing was checked")


def pypi(packages: Sequence[tuple[str, str]]) -> dict[str, tuple[Advisory, ...] | None]:
    base = os.environ.get("LPACK_PYPI_JSON_URL") or PYPI_JSON_URL

    def one(package: tuple[str, str]) -> tuple[Advisory, ...] | None:
        name, version = package
        body = _request(f"{base}/{name}/{version}/json", missing_ok=True)
        if body is None:
            return None
        data = _json(body, base)
        entries = data.get("vulnerabilities") if isinstance(data, dict) else None
        if not isinstance(entries, list):
            raise Unreachable(f"{base}/{name}/{version}/json: the answer has no 'vulnerabilities' list; nothing was "
                              "checked", tip="point LPACK_PYPI_JSON_URL at PyPI's JSON API, or use --service osv")
        return merged(a for e in entries if isinstance(e, dict) and (a := from_pypi(e)) is not None)

    found = dict(zip((n for n, _v in packages), _parallel(one, packages)))
    if all(v is None for v in found.values()):
        raise Unreachable(f"{base}: answered 404 for every release ({len(found)}), so none could be checked; "
                          "a mirror or proxy that does not serve PyPI's JSON API per release answers so",
                          tip="run lpack audit where pypi.org (or api.osv.dev) is reachable, or set LPACK_PYPI_JSON_URL")
    return found


def _parallel(func: Any, items: Sequence[Any]) -> list[Any]:
    if len(items) <= 1:
        return [func(i) for i in items]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(_THREADS, len(items))) as pool:
        return list(pool.map(func, items))


def _request(url: str, data: bytes | None = None, missing_ok: bool = False) -> bytes | None:
    import urllib.error
    import urllib.request

    from lpack.bundle._downloads import tls_context

    headers = {"Accept": "application/json", "User-Agent": "lpack-audit"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, headers=headers, method="POST" if data is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=_TIMEOUT_S,
                                    context=tls_context() if url.startswith("https:") else None) as answer:
            return bytes(answer.read())
    except urllib.error.HTTPError as exc:
        exc.close()
        if missing_ok and exc.code == 404:
            return None
        raise Unreachable(f"{url}: answered HTTP {exc.code}; nothing was checked") from None
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise Unreachable(f"{url}: cannot be reached ({reason}); nothing was checked",
                          tip="run lpack audit where the service is reachable, or choose one with --service") from None


def _json(body: bytes | None, base: str) -> Mapping[str, Any]:
    try:
        data = json.loads(body or b"")
    except ValueError:
        raise Unreachable(f"{base}: answered something that is not JSON; nothing was checked") from None
    return data if isinstance(data, dict) else {}
