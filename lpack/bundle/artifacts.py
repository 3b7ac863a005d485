"""Finished packages in the remote cache (issue #16): a unit whose inputs another machine has
built already is downloaded, not built, as Bazel's and Turborepo's remote caches do.

The key of a unit's package (`artifact_key`) is everything that shapes its bytes: lpack's version,
the unit's inputs digest (its source files' paths and contents, its dependency declaration's
bytes, the settings and target `inputs_digest` covers), the packaged files' modes, the dependency
cache key (the declaration's files and local wheelhouses, the installer and its version and
environment, pip's configuration), every setting of the unit (paths relative to the project, so
two checkouts in different folders agree), the build options that shape a zip (--as-layer, the
installer, build isolation) and the zip's timestamp (SOURCE_DATE_EPOCH). A unit whose package is a
Python project's wheel (built by its backend) is never shared this way; its dependencies still are.

Each package is two objects under ``PREFIX/artifacts/v{ARTIFACT_FORMAT}/``: ``KEY.zip``, the zip's
bytes (with the record as its ``x-amz-meta-lpack-record`` when it fits in S3's 2 KB of user
metadata: one request downloads both), and ``KEY.json``, a small record (the zip's sha256 and size, the unit's name and kind, its
distribution count, the inputs digest, lpack's version; its sizes, largest entries and the package
checks' findings, with the zip's path left out; the distributions dist/lpack-manifest.json lists),
written last. A downloaded zip is checked against the record's sha256 and size before it is
renamed into dist/; a mismatch or any remote failure is one warning (the remote is off for the
rest of the run) and a local build.

Findings: the package checks see the zip, the unit's settings and target (all in the key) and the
layers the function is deployed with (not in it). So a function without layers reports the
findings its record holds (re-pointed at this machine's zip and source files), which is what the
checks give on the same bytes (measured: judging each downloaded zip again cost B about a third of
its time); a layer, or a function with layers, is judged again here on the downloaded zip.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from lpack.core.cache import make_key
from lpack.core.findings import Finding

if TYPE_CHECKING:
    from lpack.bundle.remote import RemoteCache
    from lpack.plan import Plan

ARTIFACT_FORMAT = 1
# the record also rides on the zip object as user metadata when it fits (S3 allows 2 KB of it in
# all), so a download is one request; a record too long for it is read from KEY.json
_RECORD_META = "lpack-record"
_MAX_META_BYTES = 1800
_ZIP = "\u2063zip\u2063"  # where a finding named the zip's path, in a record (an invisible separator around it)


class Judged(NamedTuple):
    """What a build learns from its zip: sizes, largest top-level entries and the package checks'
    findings (as they name the zip's entries, before they are pointed at source files)."""

    size_zipped: int
    size_unzipped: int
    files: int
    largest: list[tuple[str, int]]
    findings: list[Finding]


def artifact_key(unit_plan: Plan, files: list[tuple[str, Path]], inputs_sha256: str, deps_key: str | None,
                 options: Mapping[str, Any], settings: Any = None) -> str:
    """The key of the package a unit builds into: the same on every machine whose build would
    write the same bytes (make_key adds lpack's version). ``settings``: the unit's, as
    ``stamps.canonical`` gives them, when the caller has them already."""
    from lpack.bundle import zipwriter
    from lpack.bundle.stamps import canonical

    root = unit_plan.project.root
    return make_key({
        "artifact": ARTIFACT_FORMAT, "inputs": inputs_sha256, "deps": deps_key, "target": unit_plan.target.label,
        "unit": portable(canonical(unit_plan.unit) if settings is None else settings, str(root)), "options": portable(canonical(dict(options)), str(root)),
        "modes": [zipwriter.file_mode(path) for _rel, path in files], "date": list(zipwriter.source_date()),
    })


def portable(value: Any, root: str) -> Any:
    """``value`` (canonical JSON) with the paths under ``root`` made relative to it."""
    if isinstance(value, str) and (value == root or value.startswith(root + os.sep)):
        # os.path.relpath's answer for a path under root, without the two getcwd() calls it makes
        return Path(os.path.normpath(value[len(root):].lstrip(os.sep) or ".")).as_posix()
    if isinstance(value, dict):
        return {k: portable(v, root) for k, v in value.items()}
    if isinstance(value, list):
        return [portable(v, root) for v in value]
    return value


def _object(remote: RemoteCache, key: str, ext: str) -> str:
    return f"{remote.prefix}artifacts/v{ARTIFACT_FORMAT}/{key}.{ext}"


def fetch(remote: RemoteCache, key: str, dest: Path) -> dict[str, Any] | None:
    """The package stored under ``key``, verified and renamed into ``dest``; its record, or None
    when the remote has none (or is off, or its zip is not what the record says)."""
    from lpack.bundle.remote import MAX_RECORD_BYTES, matches, remote_errors

    if remote.failed is not None:
        return None
    try:
        found = remote.get_with_metadata(_object(remote, key, "zip"))
        if found is None:
            return None
        data, metadata = found
        text = metadata.get(_RECORD_META) or remote.get(_object(remote, key, "json"), MAX_RECORD_BYTES)
        if text is None:
            return None  # its record is not written yet (or was not): as if it were not there
        record = json.loads(text)
        if not isinstance(record, dict) or record.get("version") != ARTIFACT_FORMAT:
            raise ValueError
    except remote_errors() as exc:
        remote.fail(exc)
        return None
    except ValueError:
        remote.fail(f"{_object(remote, key, 'json')} is not an lpack artifact record")
        return None
    if not matches(data, record):
        remote.fail(f"{_object(remote, key, 'zip')} does not match its recorded sha256; not used")
        return None
    from lpack.core.files import atomic_writer

    with atomic_writer(dest, durable=False, tip=f"{dest.parent} must be a folder you can write to") as out:
        out.write(data)  # not flushed to disk: see lpack.bundle.builder.PACKAGES_DURABLE
    return record


def judged(record: Mapping[str, Any], zip_path: Path) -> Judged | None:
    """What the record says the build that made the zip learnt from it, its findings naming
    ``zip_path`` as this machine shows it; None when the record has none (or another shape)."""
    from lpack.analysis.package import display_path
    from lpack.bundle.stamps import finding_from_json

    data = record.get("judged")
    try:
        shown = display_path(zip_path) if data["findings"] else ""  # type: ignore[index]
        return Judged(int(data["size_zipped"]), int(data["size_unzipped"]), int(data["files"]),  # type: ignore[index]
                      [(str(n), int(size)) for n, size in data["largest"]],  # type: ignore[index]
                      [finding_from_json(_swapped(f, _ZIP, shown)) for f in data["findings"]])  # type: ignore[index]
    except (KeyError, TypeError, ValueError):
        return None


def installed(record: Mapping[str, Any]) -> list[dict[str, str]] | None:
    """The distributions the record lists in the zip (manifest.installed), or None."""
    found = record.get("installed")
    if not isinstance(found, list) or not all(isinstance(d, dict) and set(d) == {"name", "version"} for d in found):
        return None
    return [{"name": str(d["name"]), "version": str(d["version"])} for d in found]


def _swapped(value: Any, old: str, new: str) -> Any:
    """A finding's JSON with ``old`` (the zip's path, or its stand-in) written ``new``."""
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, list):
        return [_swapped(v, old, new) for v in value]
    return value


def store(remote: RemoteCache, key: str, zip_path: Path, record: Mapping[str, Any],
          judgement: Judged | None) -> dict[str, Any] | None:
    """Share a built package (in the background: `RemoteCache.finish` waits for it): its zip,
    then its record; nothing when the zip on disk is no longer the one built. Returns the record
    (without the distributions, which the upload reads), or None when read-only."""
    if remote.read_only:
        return None
    from lpack.analysis.package import display_path
    from lpack.bundle.stamps import finding_to_json

    record = dict(record)
    if judgement is not None:
        shown = display_path(zip_path)
        record["judged"] = {**judgement._asdict(), "findings": [_swapped(finding_to_json(f), shown, _ZIP)
                                                                for f in judgement.findings]}
    remote.submit(_upload, remote, key, zip_path, dict(record))
    return record


def _upload(remote: RemoteCache, key: str, zip_path: Path, record: dict[str, Any]) -> None:
    from lpack.bundle.remote import matches, remote_errors

    if remote.failed is not None:
        return
    try:
        data = zip_path.read_bytes()
    except OSError:
        return
    if not matches(data, record):
        return  # rewritten since (another build): not the bytes this key's inputs made
    record = full_record(record, zip_path, None)
    compact = json.dumps(record, sort_keys=True, separators=(",", ":"))  # ASCII: an HTTP header can carry it
    metadata = {"sha256": record["sha256"], **({_RECORD_META: compact} if len(compact) <= _MAX_META_BYTES else {})}
    try:
        remote.put(_object(remote, key, "zip"), data, metadata)
        remote.put(_object(remote, key, "json"), json.dumps(record, indent=2, sort_keys=True).encode() + b"\n", {})
    except remote_errors() as exc:
        remote.fail(exc)


# -- one archive per build: every unit's package in one object -----------------------------------
#
# A cold machine whose build is one another machine has finished (CI's next job, a new runner)
# downloads its packages in one request instead of one per unit: ``PREFIX/builds/v{SET_FORMAT}/
# SETKEY.tar.zst``, a tar compressed with Zstandard whose first member, ``index.json``, maps each
# package's key to its record (as KEY.json holds it), followed by one ``KEY.zip`` per unit. SETKEY
# is a digest of the sorted (unit name, package key) pairs of the units built, so `-f fn`, another
# target or a changed function names another archive; such a build falls back to each unit's own
# object.
#
# Why compressed: the zips are deflated already, but the functions that share a dependency set
# each carry the same deflated bytes of it. Zstandard's window (_WINDOW_LOG) reaches back over
# those, so 200 functions over 5 sets (41 MB of zips) are a 0.75 MB archive, made in ~20 ms and
# read back in ~20 ms: a CI runner's download is of the sets once, not once per function. The
# compressor is the s3 extra's `zstandard`; where it is missing, no archive is read or written
# (`archives`) and each package comes from its own object.

SET_FORMAT = 2  # 1: an uncompressed SETKEY.tar
_INDEX = "index.json"
_CHUNK = 1 << 20
_MAX_TRAILER = 64 * 1024  # what may follow an archive's end marker: tar pads to 10 KB records
_STAGED_AHEAD = 16  # packages read and waiting for a thread to write them, at most
_LEVEL = 3  # Zstandard's default: higher levels took 2-5x as long for 1-2% less
_WINDOW_LOG = 27  # 128 MB back: a function's zip may be 50 MB and the next with the same set further on
_READ = 128 * 1024  # what is decompressed at a time: a read waits for that much of the download
_MAX_INDEX = 64 << 20  # the archive's index.json, decompressed, at most (a record is ~1 KB a package)


@functools.cache
def archives() -> bool:
    """Whether this Python reads and writes build archives: the s3 extra's `zstandard` is there
    (looked for, not imported: only the process that downloads or uploads one imports it)."""
    import importlib.util

    return importlib.util.find_spec("zstandard") is not None


class SetMember(NamedTuple):
    """A unit of the build, its package's key and where its zip goes."""
    name: str
    key: str
    dest: Path


def set_key(members: list[SetMember]) -> str:
    """The key of the archive of exactly these units' packages."""
    return make_key({"set": SET_FORMAT, "artifact": ARTIFACT_FORMAT, "units": sorted([m.name, m.key] for m in members)})


def set_object(remote: RemoteCache, key: str) -> str:
    return f"{remote.prefix}builds/v{SET_FORMAT}/{key}.tar.zst"


def fetch_set(remote: RemoteCache, members: list[SetMember]) -> dict[str, dict[str, Any]] | None:
    """Every member's package from its build's archive, each checked against its record's sha256
    and size and only then renamed into place (all or none); their records by unit name. None
    when the remote has no such archive; an archive that is not whole is one warning and None
    (each unit then fetches its own package, the remote stays on)."""
    staged = staged_set(remote, members)
    if staged is None:
        return None
    records, files = staged
    for tmp, dest in files:
        os.replace(tmp, dest)
    return records


Staged = tuple[dict[str, dict[str, Any]], list[tuple[Path, Path]]]  # records by unit name; (temporary file, destination)


def staged_set(remote: RemoteCache, members: list[SetMember]) -> Staged | None:
    """`fetch_set` up to the renames: the records and each (temporary file, destination), every
    file checked and written whole; None (nothing left behind) as `fetch_set`."""
    if remote.failed is not None or not members:
        return None
    by_key = {m.key: m for m in members}
    return _staged(remote, set_object(remote, set_key(members)), lambda _records: by_key)


def _staged(remote: RemoteCache, name: str, members_of: Callable[[dict[str, Any]], dict[str, SetMember]],
            cancelled: threading.Event | None = None, quiet: bool = False) -> Staged | None:
    """The archive ``name`` downloaded and staged, its members (by key) those ``members_of``
    says for its index's records; None, nothing left behind, when there is none, it is not whole
    (a warning, unless ``quiet``), or ``cancelled`` is set while it downloads."""
    import tarfile
    from concurrent.futures import ThreadPoolExecutor

    import zstandard

    from lpack.bundle.remote import remote_errors
    from lpack.core.files import WriteError

    staged: list[tuple[Path, Path]] = []
    try:
        # each zip is checked and written on threads while the next ones arrive
        with ThreadPoolExecutor(8, thread_name_prefix="lpack-stage") as writers:
            try:
                with remote.stream(name) as body:
                    if body is None:
                        return None
                    records = _unpack(_TarStream(decompressed(body)), members_of, cancelled=cancelled, staging=_Staging(
                        staged, writers, threading.BoundedSemaphore(_STAGED_AHEAD), set()))
                    if body.read(1):  # decompressed to its end, all of it read (its length checked)
                        raise ValueError("more than an archive")
            except BaseException:
                _drop(staged, writers)  # whatever went wrong, nothing staged is left behind
                raise
    except _Cancelled:
        return None
    except WriteError:
        if quiet:
            return None  # a guess: the build's own fetch meets it again and says so
        raise
    except remote_errors() as exc:
        if not quiet:
            remote.fail(exc)
        return None
    except (tarfile.TarError, ValueError, KeyError, TypeError, EOFError, zstandard.ZstdError) as exc:
        if not quiet:
            remote.warn(f"{name} is not a whole archive of this build ({exc or type(exc).__name__}); "
                        "fetching each package on its own")
        return None
    return records, staged


# -- a fresh machine's guess: the archive the last build of the same units shared ---------------
#
# The archive's name needs every unit's key, which a build of 200 functions works out in ~0.1 s
# (reading and hashing every source file). store_set also writes ``PREFIX/builds/v{SET_FORMAT}/
# latest/KEY.json``, naming the archive, under a key of the units' names and targets alone, which
# the build knows as soon as it has read its configuration. The download process fetches that
# archive at once and stages it (every zip checked against its index) while the keys are worked
# out; only if the keys then name that same archive are its files used (`_Speculation.take`),
# else they are removed and the right archive is fetched as before. A guess never decides what
# goes into dist/: the keys do.

class _Cancelled(Exception):
    """The archive being staged is not wanted any more."""


def latest_key(units: list[tuple[str, str]]) -> str:
    """The key of the pointer to the last archive of these (unit name, target) pairs."""
    return make_key({"latest": SET_FORMAT, "units": sorted([name, target] for name, target in units)})


def _latest_object(remote: RemoteCache, key: str) -> str:
    return f"{remote.prefix}builds/v{SET_FORMAT}/latest/{key}.json"


class _Speculation:
    """The archive the remote's pointer ``latest`` names, downloaded and staged into ``folder``
    on a thread of the download process while the build works out its keys."""

    def __init__(self, remote: RemoteCache, latest: str, folder: Path) -> None:
        self.cancelled = threading.Event()
        self._set: str | None = None  # the archive the pointer names
        self._result: Staged | None = None
        self._thread = threading.Thread(target=self._run, args=(remote, latest, folder), name="lpack-guess", daemon=True)
        self._thread.start()

    def _run(self, remote: RemoteCache, latest: str, folder: Path) -> None:
        from lpack.bundle.remote import MAX_RECORD_BYTES

        try:
            pointer = json.loads(remote.get(_latest_object(remote, latest), MAX_RECORD_BYTES) or "null")
            if not isinstance(pointer, dict) or pointer.get("version") != SET_FORMAT or \
                    not isinstance(pointer.get("set"), str) or not _is_key(pointer["set"]):
                return
            self._set = pointer["set"]
            self._result = _staged(remote, set_object(remote, self._set), lambda records: _guessed(records, folder),
                                   self.cancelled, quiet=True)
        except Exception:  # noqa: BLE001  a guess that fails is no guess: the build fetches as before
            return

    def take(self, members: list[SetMember]) -> Staged | None:
        """What was staged, when it is these members' archive (each staged file paired with its
        member's destination, in the same folder); else None, every staged file removed."""
        wanted = set_key(members)
        if self._set is not None and self._set != wanted:
            self.cancelled.set()  # another archive: stop downloading this one
        self._thread.join()
        result, self._result = self._result, None
        if result is None:
            return None
        records, files = result
        by_key = {Path(dest).stem: tmp for tmp, dest in files}
        if self._set != wanted or any(m.name not in records or m.key not in by_key or
                                      by_key[m.key].parent != m.dest.parent for m in members):
            _remove(files)
            return None
        return records, [(by_key[m.key], m.dest) for m in members]

    def cancel(self) -> None:
        self.cancelled.set()
        self._thread.join()
        if self._result is not None:
            _remove(self._result[1])
            self._result = None


def _guessed(records: dict[str, Any], folder: Path) -> dict[str, SetMember]:
    """The members a guessed archive's index names, staged in ``folder`` under their keys."""
    members = {}
    for key, record in records.items():
        if not isinstance(record, dict) or not isinstance(record.get("name"), str) or not _is_key(key):
            raise ValueError(f"{key}: not a package's record")
        members[key] = SetMember(record["name"], key, folder / f"{key}.zip")
    return members


def _is_key(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdef" for c in text)


def _remove(files: list[tuple[Path, Path]]) -> None:
    for tmp, _dest in files:
        tmp.unlink(missing_ok=True)


class SetFetcher:
    """`fetch_set` in a process of its own, started before the members' keys are known: it opens
    the remote's connection (or makes botocore's client, ~0.25 s of CPU, where lpack does not sign
    its own reads) and starts on a guessed archive (`expect`) on the other core while this one
    works out the keys, then downloads, checks and stages the archive; the renames are this
    process's. Anything unexpected of that process (it could not start, it died, it answered
    nothing readable) is not an error: `fetch` then does it all here, as before."""

    def __init__(self, url: str, endpoint: str | None, read_only: bool) -> None:
        """Start the process for the remote cache at ``url`` (as `RemoteCache` takes them):
        forked where that is safe (Linux), as it is ready at once with the modules this one has
        (a new interpreter and its imports were ~0.08 s, half a fresh machine's head start),
        else ``python -m lpack.bundle._set_fetcher``."""
        import subprocess
        import sys

        self._process: subprocess.Popen[bytes] | _Forked | None = None
        self.guessed = False  # the archive it staged was the one `expect` guessed
        self._asked = False  # the members sent (``meanwhile`` has run)
        self._folders: set[Path] = set()  # where the members go: where its staged files are
        try:
            self._process = _Forked.start() if sys.platform.startswith("linux") else None
            if self._process is None:
                self._process = subprocess.Popen(
                    [sys.executable, "-m", "lpack.bundle._set_fetcher"], stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            assert self._process.stdin is not None
            self._process.stdin.write(json.dumps({"url": url, "endpoint": endpoint, "read_only": read_only}).encode()
                                      + b"\n")
            self._process.stdin.flush()
        except OSError:
            self.close()

    @classmethod
    def of(cls, remote: RemoteCache) -> SetFetcher:
        return cls(remote.given_url, remote.endpoint, remote.read_only)

    def __enter__(self) -> SetFetcher:  # noqa: PYI034
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def fetch(self, remote: RemoteCache, members: list[SetMember],
              meanwhile: Callable[[], None] = lambda: None) -> dict[str, dict[str, Any]] | None:
        """As `fetch_set` (``remote`` hears what the process found, and is what a fallback uses);
        ``meanwhile`` runs here while the process downloads."""
        answer = self._ask(members, meanwhile) if self._process is not None else None
        if answer is None:
            if self._process is None and not self._asked:
                meanwhile()
            return fetch_set(remote, members)
        remote.adopt(answer["failed"], answer["warnings"])
        if answer["write_error"] is not None:
            from lpack.core.files import WriteError

            message, tip = answer["write_error"]
            raise WriteError(message, tip=tip)
        if answer["records"] is None:
            return None
        self.guessed = answer.get("guessed") is True
        for tmp, dest in answer["staged"]:
            os.replace(tmp, dest)
        return cast("dict[str, dict[str, Any]]", answer["records"])

    def expect(self, units: list[tuple[str, str]], folder: Path) -> None:
        """Tell the process the build's units (name, target) before their keys: it fetches and
        stages the archive their last build shared (into ``folder``, where their zips go) while
        the keys are worked out, and uses it if the keys name that archive (`_Speculation`)."""
        if self._process is None or self._process.stdin is None:
            return
        self._folders.add(folder)
        try:
            self._process.stdin.write(json.dumps({"latest": latest_key(units), "folder": str(folder)}).encode() + b"\n")
            self._process.stdin.flush()
        except OSError:
            self.close()

    def _ask(self, members: list[SetMember], meanwhile: Callable[[], None]) -> dict[str, Any] | None:
        process = self._process
        assert process is not None and process.stdin is not None and process.stdout is not None
        self._folders |= {m.dest.parent for m in members}
        try:
            process.stdin.write(json.dumps({"members": [[m.name, m.key, str(m.dest)] for m in members]}).encode()
                                + b"\n")
            process.stdin.close()
            self._asked = True
            meanwhile()
            answer = json.loads(process.stdout.read())
            process.wait()
        except (OSError, ValueError):
            return None
        finally:
            self.close()
        if process.returncode != 0 or not isinstance(answer, dict) or answer.get("version") != SET_FORMAT:
            return None
        return answer

    def close(self) -> None:
        """The process stopped, whatever it was doing; stopped while it wrote (Ctrl-C, an error
        here), the files it staged are removed (their names carry its process id)."""
        process, self._process = self._process, None
        if process is None:
            return
        for pipe in (process.stdin, process.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()
        if process.poll() is None:
            process.kill()
        process.wait()
        if process.returncode != 0:
            for folder in self._folders:
                for staged in folder.glob(f".*.{process.pid}.*.tmp"):
                    staged.unlink(missing_ok=True)


class _Forked:
    """A forked `serve_set_fetch`, with what `SetFetcher` uses of a subprocess.Popen: its pipes,
    process id, ``poll``, ``send_signal``, ``kill``, ``wait`` and ``returncode``."""

    def __init__(self, pid: int, stdin: Any, stdout: Any) -> None:
        self.pid, self.stdin, self.stdout = pid, stdin, stdout
        self.returncode: int | None = None

    @classmethod
    def start(cls) -> _Forked | None:
        """The process, or None where it cannot fork."""
        import signal

        from lpack.core.forking import ready_for_stop_signals, stop_signals_held

        to_child, from_parent = os.pipe()[::-1]
        from_child, to_parent = os.pipe()
        try:
            with stop_signals_held():  # a Ctrl-C now ends the child once it takes the default action
                pid = os.fork()
                if pid == 0:
                    signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C at a terminal: the build says so
                    signal.signal(signal.SIGTERM, signal.SIG_DFL)
                    ready_for_stop_signals()
        except OSError:
            for fd in (to_child, from_parent, from_child, to_parent):
                os.close(fd)
            return None
        if pid == 0:  # the child: serve, and end without going back into the build's code
            code = 1
            try:
                os.close(to_child)
                os.close(from_child)
                os.dup2(os.open(os.devnull, os.O_WRONLY), 2)  # as the started one's: nothing of it on the terminal
                with open(from_parent, encoding="utf-8") as stdin, open(to_parent, "w", encoding="utf-8") as stdout:
                    code = serve_set_fetch(stdin, stdout)
            finally:
                os._exit(code)  # noqa: PLW0150  nothing of the build's (its buffers, atexit) runs twice
        os.close(from_parent)
        os.close(to_parent)
        return cls(pid, open(to_child, "wb"), open(from_child, "rb"))

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def send_signal(self, number: int) -> None:
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, number)

    def kill(self) -> None:
        import signal

        self.send_signal(signal.SIGKILL)

    def wait(self) -> int:
        if self.returncode is None:
            _pid, status = os.waitpid(self.pid, 0)
            self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode


def serve_set_fetch(stdin: Any, stdout: Any) -> int:
    """`SetFetcher`'s other end (``python -m lpack.bundle._set_fetcher``): the remote from the
    first line, its client made at once; then, perhaps, the build's units (`SetFetcher.expect`:
    their last archive is guessed and staged meanwhile); then the members (none: the parent no
    longer needs it); the answer as one JSON object."""
    from lpack.bundle.remote import RemoteCache
    from lpack.core.files import WriteError

    settings = json.loads(stdin.readline())
    warnings: list[str] = []
    remote = RemoteCache(settings["url"], endpoint=settings["endpoint"], read_only=settings["read_only"],
                         warn=warnings.append)
    try:
        remote.warm_up()  # now, while the parent works out the keys
    except Exception as exc:  # noqa: BLE001  as any remote failure: off, one warning (the parent's)
        remote.fail(exc)
    if archives():
        import zstandard  # noqa: F401  (~5 ms) now too, not once the archive's first bytes are in
    request, guess = json.loads(stdin.readline() or "null"), None
    if isinstance(request, dict) and "latest" in request:  # the build's units, before their keys
        if remote.failed is None:
            guess = _Speculation(remote, request["latest"], Path(request["folder"]))
        request = json.loads(stdin.readline() or "null")
    if not isinstance(request, dict):  # the parent no longer needs it
        if guess is not None:
            guess.cancel()
        return 0
    members = [SetMember(name, key, Path(dest)) for name, key, dest in request["members"]]
    answer: dict[str, Any] = {"version": SET_FORMAT, "records": None, "staged": [], "write_error": None}
    try:
        staged = guess.take(members) if guess is not None else None
        answer["guessed"] = staged is not None
        if staged is None:
            staged = staged_set(remote, members)
    except WriteError as exc:
        answer["write_error"] = [str(exc), exc.tip]
    else:
        if staged is not None:
            answer["records"], answer["staged"] = staged[0], [[str(tmp), str(dest)] for tmp, dest in staged[1]]
    answer["failed"], answer["warnings"] = remote.failed, warnings
    stdout.write(json.dumps(answer))
    stdout.flush()
    return 0


def decompressed(body: Any) -> Any:
    """The archive ``body`` as it decompresses (every frame, so nothing may follow but frames)."""
    import zstandard

    return zstandard.ZstdDecompressor(max_window_size=1 << _WINDOW_LOG).stream_reader(
        body, read_size=_READ, read_across_frames=True, closefd=False)


class _TarStream:
    """The members of an uncompressed tar read as it arrives, with the interface of tarfile's
    stream mode that `_unpack` uses (``next``, ``extractfile(...).read``). tarfile's own ("r|")
    keeps a buffer it copies the rest of after each member it hands out: 0.09 s of CPU for a
    41 MB archive of 200 zips, more than its download on loopback. A member's bytes are read here
    straight from the body. Only what `_archive` writes is read: regular files under ustar
    headers; any other member (a pax or GNU header, a link) is an error, as is a cut-short body."""

    def __init__(self, body: Any) -> None:
        self._body = body
        self._data = 0  # the current member's bytes not read yet
        self._padding = 0  # and the zeros after them, to the next block

    def next(self) -> Any:
        """The next member's header (a tarfile.TarInfo), or None at the archive's end."""
        import tarfile

        self._skip(self._data + self._padding)  # what the last member left unread
        self._data = self._padding = 0
        block = self._exactly(tarfile.BLOCKSIZE)
        if block.count(0) == tarfile.BLOCKSIZE:  # the end-of-archive marker
            self._drain()
            return None
        info = tarfile.TarInfo.frombuf(block, "utf-8", "surrogateescape")  # a bad checksum raises
        if info.type not in (tarfile.REGTYPE, tarfile.AREGTYPE):
            raise tarfile.ReadError(f"{info.name} is not a plain file (type {info.type!r})")
        self._data, self._padding = info.size, -info.size % tarfile.BLOCKSIZE
        return info

    def extractfile(self, _info: Any) -> _TarStream:
        return self  # the member `next` gave: read through this

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` of the current member's bytes (all that are left, without a size)."""
        size = self._data if size < 0 else min(size, self._data)
        data = self._exactly(size)
        self._data -= size
        return data

    def _exactly(self, size: int) -> bytes:
        chunks, left = [], size
        while left > 0:
            chunks.append(chunk := self._body.read(left))
            if not chunk:
                raise EOFError(f"the archive ends {left} bytes short")
            left -= len(chunk)
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def _drain(self) -> None:
        """The body read to its end: the marker's second block and tar's padding to a 10 KB
        record follow it, and a body read whole is one whose length (and S3 checksum, where the
        reader checks one) is checked, and whose connection can serve the next GET."""
        left = _MAX_TRAILER
        while chunk := self._body.read(min(left, _CHUNK) or 1):
            left -= len(chunk)
            if left < 0:
                raise ValueError("more than an archive's padding after its end")

    def _skip(self, size: int) -> None:
        while size > 0:
            size -= len(self._exactly(min(size, _CHUNK)))


class _Staging(NamedTuple):
    files: list[tuple[Path, Path]]  # (temporary file, destination)
    writers: Any  # the threads that check and write each
    room: Any  # a semaphore: how many read packages may wait for those threads (memory stays bounded)
    folders: set[Path]  # the destinations' folders, made once each


def _unpack(archive: Any, members_of: Callable[[dict[str, Any]], dict[str, SetMember]], staging: _Staging,
            cancelled: threading.Event | None = None) -> dict[str, dict[str, Any]]:
    """Stage (beside its destination) each member's zip, checked against the index's record;
    the records by unit name, once all are written and closed. The members, by key, are what
    ``members_of`` says for the index's records; ``cancelled``, once set, stops it (`_Cancelled`)."""
    first = archive.next()
    if first is None or first.name != _INDEX or not first.isreg() or first.size > _MAX_INDEX:
        raise ValueError(f"its first member is not {_INDEX}")
    index = json.loads(archive.extractfile(first).read())
    records = index["packages"]
    if index.get("version") != SET_FORMAT or not isinstance(records, dict):
        raise ValueError("its index is not an lpack archive's")
    members = members_of(records)
    if set(records) != set(members):
        raise ValueError("its index lists other packages")
    by_name: dict[str, dict[str, Any]] = {}
    flushed = []
    while (info := archive.next()) is not None:  # (iterating the archive would start again at the index)
        if cancelled is not None and cancelled.is_set():
            raise _Cancelled
        key = info.name.removesuffix(".zip")
        member, record = members.get(key), records.get(key)
        if member is None or record is None or member.name in by_name or not info.isreg():
            raise ValueError(f"unexpected member {info.name}")
        if not isinstance(record, dict) or record.get("version") != ARTIFACT_FORMAT or record.get("name") != member.name:
            raise ValueError(f"{info.name}'s record is not {member.name}'s")
        flushed.append(_stage(archive.extractfile(info), member.dest, record, staging))
        by_name[member.name] = record
    if len(by_name) != len(members):
        raise ValueError(f"{len(members) - len(by_name)} packages missing")
    for done in flushed:
        done.result()
    return by_name


def _stage(source: Any, dest: Path, record: Mapping[str, Any], staging: _Staging) -> Any:
    """``source``'s bytes read, then on ``staging``'s threads checked against the record's size
    and sha256 (a ValueError, nothing written, when they differ), written as a temporary file
    beside ``dest`` and closed; the Future of that. Creating a file is ~0.3 ms of system
    calls on an overlay file system, and a fresh machine's build stages hundreds: on threads,
    they overlap each other and the download."""
    import time

    from lpack.core.files import cannot_write

    size = record.get("size")
    data = source.read(size + 1) if isinstance(size, int) and size >= 0 else b""
    if len(data) != size:
        raise ValueError(f"{dest.name} is not its recorded size")
    if dest.parent not in staging.folders:
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise cannot_write(dest, exc) from exc
        staging.folders.add(dest.parent)
    tmp = dest.parent / f".{dest.name}.{os.getpid()}.{time.monotonic_ns()}.tmp"
    staging.files.append((tmp, dest))  # removed, should anything fail, once the threads are done
    staging.room.acquire()
    try:
        return staging.writers.submit(_write_checked, data, tmp, dest, record, staging.room)
    except BaseException:
        staging.room.release()
        raise


def _write_checked(data: bytes, tmp: Path, dest: Path, record: Mapping[str, Any], room: Any) -> None:
    import hashlib

    try:
        if hashlib.sha256(data).hexdigest() != record.get("sha256"):
            raise ValueError(f"{dest.name} does not match its recorded sha256")
        from lpack.core.files import cannot_write

        try:
            out = open(tmp, "xb")  # noqa: SIM115  closed by _close
        except OSError as exc:
            raise cannot_write(dest, exc) from exc
        try:
            out.write(data)
        except OSError as exc:
            out.close()
            raise cannot_write(dest, exc) from exc
        _close(out, dest)
    finally:
        room.release()


def _close(out: Any, dest: Path) -> None:
    """Close a staged zip (not flushed to disk: see `lpack.bundle.builder.PACKAGES_DURABLE`)."""
    from lpack.core.files import cannot_write

    try:
        out.close()
        os.chmod(out.name, 0o644)
    except OSError as exc:
        raise cannot_write(dest, exc) from exc


def _drop(staged: list[tuple[Path, Path]], writers: Any) -> None:
    writers.shutdown(wait=True)  # every staged file closed
    _remove(staged)


def store_set(remote: RemoteCache, members: list[tuple[SetMember, dict[str, Any]]], scratch: Path,
              latest: str | None = None) -> None:
    """Share this build's packages as one archive (their records as each unit's KEY.json has
    them), written in ``scratch`` first, then the pointer ``latest`` (`latest_key`) to it;
    nothing when read-only, when a zip is no longer the one its record names, or when
    ``scratch`` cannot hold it (the archive only saves requests)."""
    import tempfile

    from lpack.bundle.remote import remote_errors

    if remote.read_only or remote.failed is not None or not members:
        return
    try:
        scratch.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=scratch, prefix="set-") as folder:
            path = Path(folder) / "set.tar.zst"
            if not _archive(path, members):
                return
            try:
                key = set_key([m for m, _r in members])
                remote.put_file(set_object(remote, key), path)
                if latest is not None:
                    remote.put(_latest_object(remote, latest), json.dumps({"version": SET_FORMAT, "set": key}).encode(), {})
            except remote_errors() as exc:
                remote.fail(exc)
    except OSError:
        return


def _archive(path: Path, members: list[tuple[SetMember, dict[str, Any]]]) -> bool:
    """The archive of ``members`` at ``path``; False when a zip is not what its record says."""
    import tarfile

    import zstandard

    from lpack.bundle.remote import matches

    index = {"version": SET_FORMAT, "packages": {m.key: record for m, record in members}}
    params = zstandard.ZstdCompressionParameters.from_level(_LEVEL, window_log=_WINDOW_LOG, write_checksum=True)
    with open(path, "wb") as raw, \
            zstandard.ZstdCompressor(compression_params=params).stream_writer(raw, closefd=False) as compressed, \
            tarfile.open(fileobj=compressed, mode="w|", format=tarfile.PAX_FORMAT) as archive:
        _add(archive, _INDEX, json.dumps(index, sort_keys=True).encode())
        for member, record in members:
            data = member.dest.read_bytes()
            if not matches(data, record):
                return False  # rewritten since (another build)
            _add(archive, f"{member.key}.zip", data)
    return True


def _add(archive: Any, name: str, data: bytes) -> None:
    import io
    import tarfile

    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), 0o644
    archive.addfile(info, io.BytesIO(data))


def full_record(record: Mapping[str, Any], zip_path: Path, installed_: list[dict[str, str]] | None) -> dict[str, Any]:
    """A built package's record as its KEY.json holds it: with the distributions in it."""
    from lpack.bundle.manifest import installed as read_installed

    return {**record, "installed": read_installed(zip_path) if installed_ is None else installed_,
            "version": ARTIFACT_FORMAT}
