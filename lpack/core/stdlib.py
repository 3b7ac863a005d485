"""The standard library of each Lambda Python runtime, as data: top-level module names, built-in
modules, modules the runtime has imported before it loads a handler, and documented removals.

Sources:
- ``sys.stdlib_module_names`` of CPython 3.10.13, 3.11.7, 3.12.1 and 3.13.0 (every name, including
  platform-specific and private ones: a name in the table is never reported as missing).
- 3.14: 3.13 plus the modules "What's new in Python 3.14" adds (annotationlib, PEP 749;
  compression, PEP 784) and the private ones in CPython's ``Python/stdlib_module_names.h``
  (_hmac, _remote_debugging, _zstd); 3.14 removed no top-level module.
- Removals: "What's new" of 3.11 (binhex), 3.12 (distutils, PEP 632; imp; asynchat, asyncore and
  smtpd, PEP 594) and 3.13 (the rest of PEP 594, and lib2to3).
- ``sys.builtin_module_names`` of the same interpreters (3.14: 3.13's, not yet verified); awslambdaric
  ``bootstrap.py`` refuses a handler module with one of these names (``Runtime.BuiltInModuleConflict``).

``differences()`` compares a row with a running interpreter, so the table can be re-checked (and
regenerated) when a runtime is added: ``python3.X -c "import sys, lpack.core.stdlib as s;
print(s.differences((3, X), sys.stdlib_module_names))"``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

Python = tuple[int, int]


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


# sys.stdlib_module_names of CPython 3.10.13.
_PY310 = _names("""
__future__ _abc _aix_support _ast _asyncio _bisect _blake2 _bootsubprocess _bz2 _codecs
_codecs_cn _codecs_hk _codecs_iso2022 _codecs_jp _codecs_kr _codecs_tw _collections
_collections_abc _compat_pickle _compression _contextvars _crypt _csv _ctypes _curses
_curses_panel _datetime _dbm _decimal _elementtree _frozen_importlib _frozen_importlib_external
_functools _gdbm _hashlib _heapq _imp _io _json _locale _lsprof _lzma _markupbase _md5 _msi
_multibytecodec _multiprocessing _opcode _operator _osx_support _overlapped _pickle _posixshmem
_posixsubprocess _py_abc _pydecimal _pyio _queue _random _scproxy _sha1 _sha256 _sha3 _sha512
_signal _sitebuiltins _socket _sqlite3 _sre _ssl _stat _statistics _string _strptime _struct
_symtable _thread _threading_local _tkinter _tracemalloc _uuid _warnings _weakref _weakrefset
_winapi _zoneinfo abc aifc antigravity argparse array ast asynchat asyncio asyncore atexit
audioop base64 bdb binascii binhex bisect builtins bz2 cProfile calendar cgi cgitb chunk cmath
cmd code codecs codeop collections colorsys compileall concurrent configparser contextlib
contextvars copy copyreg crypt csv ctypes curses dataclasses datetime dbm decimal difflib dis
distutils doctest email encodings ensurepip enum errno faulthandler fcntl filecmp fileinput
fnmatch fractions ftplib functools gc genericpath getopt getpass gettext glob graphlib grp gzip
hashlib heapq hmac html http idlelib imaplib imghdr imp importlib inspect io ipaddress itertools
json keyword lib2to3 linecache locale logging lzma mailbox mailcap marshal math mimetypes mmap
modulefinder msilib msvcrt multiprocessing netrc nis nntplib nt ntpath nturl2path numbers opcode
operator optparse os ossaudiodev pathlib pdb pickle pickletools pipes pkgutil platform plistlib
poplib posix posixpath pprint profile pstats pty pwd py_compile pyclbr pydoc pydoc_data pyexpat
queue quopri random re readline reprlib resource rlcompleter runpy sched secrets select
selectors shelve shlex shutil signal site smtpd smtplib sndhdr socket socketserver spwd sqlite3
sre_compile sre_constants sre_parse ssl stat statistics string stringprep struct subprocess
sunau symtable sys sysconfig syslog tabnanny tarfile telnetlib tempfile termios textwrap this
threading time timeit tkinter token tokenize trace traceback tracemalloc tty turtle turtledemo
types typing unicodedata unittest urllib uu uuid venv warnings wave weakref webbrowser winreg
winsound wsgiref xdrlib xml xmlrpc zipapp zipfile zipimport zlib zoneinfo
""")

# Each version against the one before: (version, added, removed).
_CHANGES: tuple[tuple[Python, str, str], ...] = (
    ((3, 11), "_tokenize _typing tomllib", "binhex"),
    ((3, 12), "_pydatetime _pylong _sha2",
     "_bootsubprocess _sha256 _sha512 asynchat asyncore distutils imp smtpd"),
    ((3, 13), ("_android_support _colorize _interpchannels _interpqueues _interpreters _ios_support "
               "_opcode_metadata _pyrepl _suggestions _sysconfig _wmi"),
     ("_crypt _msi aifc audioop cgi cgitb chunk crypt imghdr lib2to3 mailcap msilib nis nntplib "
      "ossaudiodev pipes sndhdr spwd sunau telnetlib uu xdrlib")),
    ((3, 14), "_hmac _remote_debugging _zstd annotationlib compression", ""),
)

# Modules Python 3.10 removed: runtimes older than 3.10 (deprecated) use the 3.10 row widened with
# these, so the check can miss there but never reports a module that existed.
_BEFORE_310 = _names("_bootlocale _dummy_thread _peg_parser dummy_threading formatter parser symbol")


def _rows() -> dict[Python, frozenset[str]]:
    rows = {(3, 10): _PY310}
    names = _PY310
    for version, added, removed in _CHANGES:
        names = (names | _names(added)) - _names(removed)
        rows[version] = names
    return rows


STDLIB: dict[Python, frozenset[str]] = _rows()

# sys.builtin_module_names (compiled into the interpreter, found before any sys.path entry).
_BUILTIN_310 = _names("""
_abc _ast _codecs _collections _functools _imp _io _locale _operator _signal _sre _stat _string
_symtable _thread _tracemalloc _warnings _weakref atexit builtins errno faulthandler gc itertools
marshal posix pwd sys time xxsubtype
""")
BUILTIN: dict[Python, frozenset[str]] = {
    (3, 10): _BUILTIN_310,
    (3, 11): _BUILTIN_310 | {"_tokenize"},
    (3, 12): (_BUILTIN_310 | {"_tokenize", "_typing"}) - {"xxsubtype"},
    (3, 13): (_BUILTIN_310 | {"_tokenize", "_typing", "_suggestions", "_sysconfig"}) - {"xxsubtype"},
}
BUILTIN[(3, 14)] = BUILTIN[(3, 13)]

# Standard-library modules already in sys.modules when awslambdaric's bootstrap.py imports the
# handler: what the interpreter loads at startup plus what bootstrap.py imports at module level
# (importlib, json, logging, os, sys, time, traceback; decimal and math via its marshaller), and
# everything those import -- the intersection over CPython 3.10-3.13 of ``python -I -S -c "import
# importlib, json, logging, os, time, traceback, decimal, math; print(sys.modules)"``. A file of the
# same name in the package is never imported: the module already loaded is used.
PRELOADED = _names("""
_abc _codecs _collections _collections_abc _decimal _frozen_importlib _frozen_importlib_external
_functools _imp _io _json _operator _signal _sre _stat _string _thread _warnings _weakref
_weakrefset abc atexit builtins codecs collections copyreg decimal encodings enum functools
genericpath importlib io itertools json keyword linecache logging marshal math numbers operator os
posix posixpath re reprlib stat string sys threading time traceback types warnings weakref zipimport
""")


class Removal(NamedTuple):
    name: str
    removed: Python
    reference: str
    instead: str


_PEP594 = "PEP 594"
REMOVALS: dict[str, Removal] = {
    r.name: r
    for r in (
        Removal("binhex", (3, 11), "bpo-45085", "base64 or binascii"),
        Removal("asynchat", (3, 12), _PEP594, "asyncio"),
        Removal("asyncore", (3, 12), _PEP594, "asyncio"),
        Removal("smtpd", (3, 12), _PEP594, "the aiosmtpd package"),
        Removal("distutils", (3, 12), "PEP 632", "setuptools (which still provides distutils) or packaging"),
        Removal("imp", (3, 12), "gh-98040", "importlib"),
        Removal("lib2to3", (3, 13), "gh-104780", "the parso or libcst package"),
        Removal("cgi", (3, 13), _PEP594, "email.message and urllib.parse, or the legacy-cgi package"),
        Removal("crypt", (3, 13), _PEP594, "hashlib, or the passlib package"),
        Removal("pipes", (3, 13), _PEP594, "shlex.quote and subprocess"),
        Removal("telnetlib", (3, 13), _PEP594, "the telnetlib3 package"),
        *(Removal(name, (3, 13), _PEP594, "a maintained package from PyPI (see PEP 594)")
          for name in ("aifc", "audioop", "cgitb", "chunk", "imghdr", "mailcap", "msilib", "nis",
                       "nntplib", "ossaudiodev", "sndhdr", "spwd", "sunau", "uu", "xdrlib")),
    )
}

# A PyPI distribution that provides a newer standard-library module under another name.
BACKPORTS = {"tomllib": "tomli (import tomli as tomllib)"}


def _row(table: dict[Python, frozenset[str]], python: Python) -> frozenset[str]:
    """The row for ``python``: the oldest row for an older Python, the newest for a newer one."""
    return table.get(python) or table[min(table) if python < min(table) else max(table)]


def stdlib_modules(python: Python) -> frozenset[str]:
    """Top-level module names of the standard library of Python ``python``."""
    return _row(STDLIB, python) | (_BEFORE_310 if python < (3, 10) else frozenset())


def builtin_modules(python: Python) -> frozenset[str]:
    return _row(BUILTIN, python)


def removal(name: str, python: Python) -> Removal | None:
    """How ``name`` left the standard library, if it had by Python ``python``."""
    found = REMOVALS.get(name)
    return found if found and python >= found.removed else None


def added_in(name: str, python: Python) -> Python | None:
    """The first Python newer than ``python`` whose standard library has ``name``."""
    return next((v for v in sorted(STDLIB) if v > python and name in STDLIB[v]), None)


def differences(python: Python, names: Iterable[str]) -> tuple[list[str], list[str]]:
    """(missing from the table, only in the table) for an interpreter's sys.stdlib_module_names."""
    actual, table = frozenset(names), stdlib_modules(python)
    return sorted(actual - table), sorted(table - actual)
