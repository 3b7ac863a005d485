"""The `lpack` command's entry point: a `check` whose inputs have not changed replays its output.

`lpack check` runs over and over on the same files (a pre-commit hook on every commit, an editor
on every save, CI steps), and most of its time is Python importing lpack, not checking. So a
check records what it read, and an identical check of unchanged inputs prints the recorded
output and exit code without importing lpack at all (this module imports only what the
interpreter has already loaded, plus json and zlib).

What "identical" and "unchanged" mean, so that a replay can never differ from a real run:
- the same command line, working folder, local date (runtime lifecycles change with it), Python,
  environment (hashed: values are never stored) and, at a terminal, the same terminal size;
- every file the recorded run opened (its project files, templates, policies, zips, lpack's and
  Python's own modules as they were imported) has the same size, mtime, inode and mode;
- every folder it listed has the same entries, each with the same size, mtime and mode; the
  folder of every file it opened, and each folder above each path on the command line, has the
  same mtime (a file created beside them, such as a new lock, changes it).
A file with a new mtime or inode but the same size and mode (pre-commit's stash and unstash, a
git checkout or a rebase rewrite files that way) still counts as unchanged when its bytes have
the digest recorded for them (project files up to 1 MiB; never lpack's or Python's modules),
and a folder with a new mtime when it holds the same names: no check reads a file's mtime.
A run that wrote a file outside lpack's cache, started a process, opened a socket, or ended in
an error (exit 2 or 3) is not recorded. `LPACK_CHECK_CACHE=0` turns replays off.
"""

from __future__ import annotations

import json
import os
import stat  # imported by os already
import sys
import time
import zlib

from lpack import __version__

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import, and a replay needs nothing else from lpack
    from typing import Any

FORMAT = 2
_KEEP_SECONDS = 7 * 24 * 3600  # entries unused this long are removed when a new one is written
# environment variables that change between identical runs and cannot change a check
_VOLATILE_ENV = ("PWD", "OLDPWD", "SHLVL", "_", "TERM_SESSION_ID", "WINDOWID", "SSH_CLIENT", "SSH_CONNECTION",
                 "SSH_TTY", "TMUX_PANE", "PS1", "PROMPT_COMMAND", "LPACK_CHECK_CACHE_DEBUG")
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
_DIGEST_MAX_BYTES = 1 << 20  # a larger file is told apart by its stamp alone (no digest recorded)


def main() -> int:
    argv = sys.argv[1:]
    if argv == ["--version"]:
        version = _version()
        if version is not None:
            sys.stdout.write(version)
            return 0
    if argv[:1] == ["check"]:
        import gc  # built in

        # a check allocates ~16,000 objects that live until it ends, mostly as its ~130 modules
        # are imported: the default threshold (700) had the collector walk them ~24 times, ~5 ms
        gc.set_threshold(100_000)
        _leave_at_exit()
        code = _check(argv)
        _exit_code.append(code)
        return code
    from lpack.cli import main as run

    if argv[:1] == ["build"]:  # as a check: ~25 ms of teardown, a tenth of a no-op build of 200 functions
        _leave_at_exit()
        code = run(argv)
        _exit_code.append(code)
        return code
    return run(argv)


def _check(argv: list[str]) -> int:
    if not _replayable(argv):
        from lpack.cli import main as run

        return run(argv)
    folder = _folder()
    key = _key(argv)
    name = os.path.join(folder, f"{zlib.crc32(key.encode()):08x}.json")
    replayed = _replay(name, key)
    if replayed is not None:
        return replayed
    return _record(argv, folder, name, key)


def _leave_at_exit() -> None:
    """End a check's (or a build's) process as soon as Python has run its exit functions, skipping the teardown
    of the ~180 modules and ~16,000 objects a check leaves (~10 ms, a sixth of a small check):
    nothing is left to do then but flush the output. Registered before the check runs, so that
    it runs after every exit function registered later (they run last first), and after the
    threads still running were waited for, as Python does before its exit functions. Not when
    an exit function was registered before (coverage measuring the process, say): it would run
    after this one, that is never."""
    import atexit  # built in

    registered = getattr(atexit, "_ncallbacks", None)
    if registered is not None and registered() == 0:
        atexit.register(_end)


_exit_code: list[int] = []  # what main() returned, once it has: the process's exit status


def _end() -> None:
    if not _exit_code or hasattr(sys, "last_value"):  # main() raised, or the caller's code did
        return
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe: Python's own exit says so, with its exit code
        return
    os._exit(_exit_code[-1])


def _version() -> str | None:
    """What argparse's version action prints for ``lpack --version`` (the text, wrapped to the
    terminal's width less 2, argparse's, plus a newline) when it fits on one line, without
    importing the command line; None when argparse would wrap it (a very narrow terminal)."""
    from lpack._terminal import columns
    from lpack._version import describe

    text = " ".join(describe().split())
    return f"{text}\n" if len(text) <= max(columns() - 2, 11) else None


def _replayable(argv: list[str]) -> bool:
    """A `check` that writes nothing but its output (``-o FILE`` writes a file, ``--help`` is cheap)."""
    if not argv or argv[0] != "check" or os.environ.get("LPACK_CHECK_CACHE", "1") in ("0", "false", "no", "off"):
        return False
    return not any(arg in ("-o", "--output-file", "-h", "--help") or arg.startswith(("--output-file=", "-o"))
                   for arg in argv[1:])


def _folder() -> str:
    """lpack's cache folder (``lpack.core.cache.default_root``) and, in it, the replays' own."""
    root = os.environ.get("LPACK_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "lpack")
    return os.path.join(root, "check")


def _key(argv: list[str]) -> str:
    environment = sorted((k, v) for k, v in os.environ.items() if k not in _VOLATILE_ENV)
    terminal: Any = None
    if sys.stdout.isatty() or sys.stderr.isatty():
        try:
            terminal = list(os.get_terminal_size())
        except OSError:
            terminal = "tty"
    return json.dumps({
        "format": FORMAT, "lpack": __version__, "argv": argv, "cwd": os.getcwd(), "date": time.strftime("%Y-%m-%d"),
        "python": [sys.executable, sys.version, sys.flags.optimize],
        "env": _digest(json.dumps(environment)), "tty": [sys.stdout.isatty(), sys.stderr.isatty(), terminal],
    }, sort_keys=True)


def _digest(data: str | bytes) -> str:
    """A digest of what must not be stored as it is (the environment, a file: either may hold secrets)."""
    try:
        from _blake2 import blake2b  # what hashlib wraps, without loading OpenSSL
    except ImportError:  # pragma: no cover - a Python built without it
        from hashlib import blake2b
    return blake2b(data.encode() if isinstance(data, str) else data, digest_size=32).hexdigest()


# -- replaying -----------------------------------------------------------------------------------

def _replay(name: str, key: str) -> int | None:
    try:
        with open(name, encoding="utf-8") as handle:
            entry = json.load(handle)
    except (OSError, ValueError):
        return None
    if not isinstance(entry, dict) or entry.get("key") != key:
        return None
    unchanged = _unchanged(entry)
    if not unchanged:
        return None
    sys.stdout.write(entry["stdout"])
    sys.stdout.flush()
    sys.stderr.write(entry["stderr"])
    sys.stderr.flush()
    if unchanged is _RESTAMPED:  # the new stamps, so that the next replay need not read the files again
        _write(name, entry)
    else:
        try:
            os.utime(name)  # in use: kept by the clean-up of old entries
        except OSError:
            pass
    return int(entry["code"])


_RESTAMPED = "restamped"  # unchanged, but some files and folders only by their digests


def _unchanged(entry: dict[str, Any]) -> bool | str:
    """Whether every input is as recorded: True; ``_RESTAMPED`` when some only by their digests
    (``entry``'s stamps and listings are then updated); False on the first change."""
    restamped = False
    try:
        digests = entry.get("digests") or {}
        files = entry["files"]
        for path, stamp in files.items():
            if (now := _stamp(path)) != stamp:
                if not _same_content(path, stamp, now, digests):
                    return _changed(path)
                files[path], restamped = now, True
        folders = entry["folders"]
        for path, listing in folders.items():
            if (now_listed := _listing(path)) != listing:
                if not _same_listing(path, listing, now_listed, digests, folders):
                    return _changed(f"{path}{os.sep} (its entries)")
                folders[path], restamped = now_listed, True
    except (KeyError, TypeError, AttributeError, IndexError):
        return False
    return _RESTAMPED if restamped else True


def _same_content(path: str, stamp: list[Any], now: list[Any] | None, digests: dict[str, str]) -> bool:
    """A file rewritten with the same bytes (same size and mode, new mtime or inode), or a folder
    that holds the same names (new mtime or size): what a check reads of it is the same."""
    if now is None or stamp is None or path not in digests or now[3] != stamp[3]:
        return False
    folder = stat.S_ISDIR(now[3])
    return (folder or now[0] == stamp[0]) and _content_digest(path, folder) == digests[path]


def _same_listing(path: str, listing: list[list[Any]], now: list[list[Any]] | None, digests: dict[str, str],
                  folders: dict[str, Any]) -> bool:
    """A listed folder whose entries differ from the recorded ones only by mtimes: each such
    file's bytes have their recorded digest; each such folder is itself compared (listed or stamped)."""
    if now is None or len(now) != len(listing):
        return False
    for old, new in zip(listing, now):
        if old == new:
            continue
        if old[:2] != new[:2] or old[4:] != new[4:]:  # name and kind, mode
            return False
        inner = os.path.join(path, new[0])
        if new[1]:  # a folder: its own listing or stamp says whether what it holds changed
            if inner not in folders and inner not in digests:
                return False
        elif old[2] != new[2] or inner not in digests or _content_digest(inner, False) != digests[inner]:
            return False
    return True


def _content_digest(path: str, folder: bool) -> str | None:
    """What a check depends on in a file (its bytes) or a folder (its entries' names and kinds)."""
    try:
        if folder:
            with os.scandir(path) as entries:
                names = sorted(f"{e.name}/" if e.is_dir() else e.name for e in entries if e.name != "__pycache__")
            return _digest("\0".join(names))
        with open(path, "rb") as handle:
            data = handle.read(_DIGEST_MAX_BYTES + 1)
    except OSError:
        return None
    return _digest(data) if len(data) <= _DIGEST_MAX_BYTES else None


def _changed(what: str) -> bool:
    """A miss; with LPACK_CHECK_CACHE_DEBUG=1, says which input changed."""
    if os.environ.get("LPACK_CHECK_CACHE_DEBUG"):
        sys.stderr.write(f"lpack: check cache: {what} changed since the recorded check\n")
    return False


def _stamp(path: str) -> list[int] | None:
    """What changes when a file or folder changes: size, mtime, inode and mode (None: it is gone)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns, st.st_ino, st.st_mode]


def _listing(path: str) -> list[list[Any]] | None:
    """A folder's entries, each with its kind, size, mtime and mode (None: it cannot be listed)."""
    try:
        with os.scandir(path) as entries:
            found: list[list[Any]] = []
            for item in entries:
                if item.name == "__pycache__":  # written by imports; follows the sources listed beside it
                    continue
                if item.name == ".git":  # its existence marks a repository's root; what it holds is git's
                    found.append([item.name, item.is_dir()])
                    continue
                try:
                    st = item.stat()
                except OSError:
                    found.append([item.name, None])
                    continue
                found.append([item.name, item.is_dir(), st.st_size, st.st_mtime_ns, st.st_mode])
    except OSError:
        return None
    return sorted(found, key=lambda row: row[0])


# -- recording -------------------------------------------------------------------------------------

class _Recorder:
    """What a check reads, as Python's audit events report it (``open``, ``os.scandir``,
    ``os.listdir``), and whether it did anything a replay could not repeat."""

    def __init__(self, cache_root: str) -> None:
        self.files: set[str] = set()
        self.folders: set[str] = set()
        self.spoiled = ""  # why the run cannot be replayed
        self.cache_root = os.path.abspath(cache_root) + os.sep
        self.active = True

    def __call__(self, event: str, args: tuple[Any, ...]) -> None:
        if not self.active:
            return
        if event == "open":
            self._open(args)
        elif event in ("os.scandir", "os.listdir"):
            if _importing():
                return
            path = args[0] if args else "."
            if isinstance(path, (str, bytes, os.PathLike)) and not isinstance(path, int):
                self.folders.add(os.path.abspath(os.fsdecode(path)))
        else:  # one of _SPOILERS
            self.spoiled = self.spoiled or event

    def _open(self, args: tuple[Any, ...]) -> None:
        path, mode, flags = (tuple(args) + (None, None, None))[:3]
        if isinstance(path, int) or path is None:
            return  # an already open descriptor (stdout)
        full = os.path.abspath(os.fsdecode(path))
        writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            isinstance(flags, int) and mode is None and flags & _WRITE_FLAGS)
        if writing:
            if not full.startswith(self.cache_root) and not _bytecode(full):
                self.spoiled = self.spoiled or f"wrote {full}"
            return
        self.files.add(full)  # lpack's own modules too (their .pyc when compiled): a new lpack is a new check


def _importing() -> bool:
    """Whether the folder being listed is one the import system looks through for a module (a
    folder of sys.path, the working folder with ``python -m``): what it finds is recorded as the
    code imported, not as what the check read. (From _Recorder.__call__, called by _hook, called
    by the frame that lists the folder.)"""
    try:
        caller = sys._getframe(3)
    except ValueError:  # listed by C code with no Python frame above the hook
        return False
    return caller.f_code.co_filename.startswith("<frozen importlib")


def _bytecode(path: str) -> bool:
    """Whether an import is writing ``path``: a ``.pyc``, or the temporary file importlib writes it
    through (``name.pyc.<number>``, renamed into place), as every first import of a module does."""
    stem, dot, tail = path.rpartition(".")
    return tail == "pyc" or (bool(dot) and tail.isdigit() and stem.endswith(".pyc"))


_recorder: _Recorder | None = None


# audit events that start another program or reach the network: what they do is not recorded
_SPOILERS = frozenset({"subprocess.Popen", "os.system", "os.exec", "os.spawn", "os.posix_spawn", "os.fork",
                       "os.forkpty", "pty.spawn", "socket.connect"})
_WATCHED = frozenset({"open", "os.scandir", "os.listdir"}) | _SPOILERS


def _hook(event: str, args: tuple[Any, ...]) -> None:
    # called for every audit event of the run (imports compile and exec ~1,000 times): the set
    # lookup turns the others away at once
    if event in _WATCHED and _recorder is not None:
        _recorder(event, args)


class _Tee:
    """A text stream that keeps a copy of what is written to it; everything else (isatty,
    encoding, fileno) is the real stream's, so output looks the same as without it."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.copy: list[str] = []
        self.broken = False  # the reader went away (`lpack check | head`): the copy is not the output

    def write(self, text: str) -> int:
        self.copy.append(text)
        try:
            return int(self._stream.write(text))
        except BrokenPipeError:
            self.broken = True
            raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _record(argv: list[str], folder: str, name: str, key: str) -> int:
    global _recorder
    recorder = _recorder = _Recorder(os.path.dirname(folder))
    sys.addaudithook(_hook)
    out, err = sys.stdout, sys.stderr
    tee_out, tee_err = _Tee(out), _Tee(err)
    sys.stdout, sys.stderr = tee_out, tee_err
    try:
        from lpack.cli import main as run

        code = run(argv)
    finally:
        recorder.active = False
        _recorder = None
        sys.stdout, sys.stderr = out, err
    if code in (0, 1) and not recorder.spoiled and not (tee_out.broken or tee_err.broken):
        _save(name, key, argv, recorder, code, "".join(tee_out.copy), "".join(tee_err.copy))
    return code


def _save(name: str, key: str, argv: list[str], recorder: _Recorder, code: int, stdout: str, stderr: str) -> None:
    cache_root = recorder.cache_root
    mine = os.path.dirname(name) + os.sep
    files = {p for p in recorder.files if not p.startswith(mine)}
    folders = {p for p in recorder.folders if not p.startswith(mine)}
    stamped = set(files)
    code_folders = _code_folders()
    for path in files:  # a file created beside one the run read (a new lock) changes its folder
        if not path.startswith(code_folders):  # but __pycache__ appearing beside imported code does not count
            stamped.add(os.path.dirname(path))
    for arg in argv[1:]:
        if not arg.startswith("-") and os.path.exists(arg):
            stamped.update(_probed(os.path.abspath(arg)))
    stamped.add(os.getcwd())
    stamps = {p: _stamp(p) for p in sorted(stamped) if _depends(p, cache_root)}
    entry = {
        "key": key, "code": code, "stdout": stdout, "stderr": stderr, "files": stamps,
        # folders the import system listed (sys.path, packages) are not inputs: the code imported is
        "folders": {p: _listing(p) for p in sorted(folders)
                    if _depends(p, cache_root) and not (p + os.sep).startswith(code_folders)},
        "digests": _digests(stamps, code_folders),
    }
    if _write(name, entry):
        _clean(os.path.dirname(name))


def _digests(stamps: dict[str, list[int] | None], code_folders: tuple[str, ...]) -> dict[str, str]:
    """The digests of the project's files and folders the check read, by which a replay still
    knows them after a rewrite that changed only their mtime (not lpack's or Python's code)."""
    found = {}
    for path, stamp in stamps.items():
        if stamp is None or path.startswith(code_folders) or stamp[0] > _DIGEST_MAX_BYTES:
            continue
        digest = _content_digest(path, stat.S_ISDIR(stamp[3]))
        if digest is not None:
            found[path] = digest
    return found


def _write(name: str, entry: dict[str, Any]) -> bool:
    try:
        os.makedirs(os.path.dirname(name), exist_ok=True)
        partial = f"{name}.{os.getpid()}.tmp"
        with open(partial, "w", encoding="utf-8") as handle:
            json.dump(entry, handle, separators=(",", ":"))
        os.replace(partial, name)
    except OSError:
        return False  # a cache that cannot be written only costs speed
    return True


def _probed(path: str) -> list[str]:
    """The folders a check may look through from a path on its command line for the project
    holding it (pre-commit's changed files): up to the repository's root or the working folder,
    whichever comes first; otherwise only the path's own folder (never /tmp or /, which other
    programs change all the time)."""
    up, here, stop = [path], path, os.getcwd()
    while (parent := os.path.dirname(here)) != here:
        up.append(parent)
        if parent == stop or os.path.exists(os.path.join(parent, ".git")):
            return up
        here = parent
    return up[:2]


def _code_folders() -> tuple[str, ...]:
    """Where Python imports code from (lpack's own, the standard library, site-packages): those
    files are inputs, but the folders they sit in change whenever bytecode is written there."""
    folders = {os.path.dirname(os.path.dirname(os.path.abspath(__file__)))}
    folders.update(os.path.abspath(p) for p in sys.path if p and os.path.isdir(p) and os.path.abspath(p) != os.getcwd())
    return tuple(folder + os.sep for folder in folders)


def _depends(path: str, cache_root: str) -> bool:
    """Whether a replay depends on ``path``: not on lpack's cache, which lpack fills as it goes
    (memos, this folder), except the records of what each built zip was built from."""
    inside = (path + os.sep).startswith(cache_root)
    return not inside or (path + os.sep).startswith(os.path.join(cache_root, "inputs") + os.sep)


def _clean(folder: str) -> None:
    """Remove replays nobody has used for a week (each day's date makes new keys)."""
    cutoff = time.time() - _KEEP_SECONDS
    with os.scandir(folder) as entries:
        for item in entries:
            try:
                if item.stat().st_mtime < cutoff:
                    os.unlink(item.path)
            except OSError:
                pass
