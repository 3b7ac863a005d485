"""The command line: parse, call the core inside one error handler, render, return an exit code.

Exit codes: 0 no error-severity findings; 1 error findings (or warnings with --strict);
2 usage, configuration or input error; 3 internal error; 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from lpack import __version__
from lpack.core.errors import LpackError, UsageError, redact
from lpack.core.findings import Finding, Severity
from lpack.report import reporter

EPILOG = "Exit codes: 0 ok, 1 error findings (or warnings with --strict), 2 usage/config/input error, 3 internal error."


def _epilog(*examples: str, exits: str = EPILOG) -> str:
    """An "Examples:" section (kept line for line by the formatter), then the exit codes."""
    return "Examples:\n" + "\n".join(f"  {example}" for example in examples) + "\n\n" + exits

CHECK_DESCRIPTION = """\
Check, without building or deploying, what would make Lambda or the Python runtime reject or
break a function: package sizes and layout, native code for the wrong target, unreadable or
unsafe entries, secrets, the handler and its imports, environment variables, test events,
memory/timeout/storage, and the runtime's lifecycle.

A PATH is a project (as `lpack build` reads it: its config, handlers, environment and events,
and dist/NAME.zip when built, else the source) or any package .zip, built by lpack or anything
else. Findings print as `path:line:col: CODE severity message`, then what was checked.

Silence a finding with --ignore CODE, `ignore`/`per-path-ignores` in [tool.lpack], or a
`# lpack: ignore[CODE] reason` comment on the line it points at.

A check that is run again with nothing changed (the same command line, folder, day and
environment; every file it read and every folder it listed as it was) prints the recorded output
and exit code without running again: a pre-commit hook or an editor pays for start-up, not for
the check. LPACK_CHECK_CACHE=0 turns this off; LPACK_CHECK_CACHE_DEBUG=1 says what changed.
"""

BUILD_DESCRIPTION = """\
Build every function and layer of the project into dist/NAME.zip: dependencies installed for the
target runtime and architecture (binary wheels only; not for this machine), the function's source,
safe default excludes, and a byte-reproducible zip (sorted entries, fixed timestamps from
SOURCE_DATE_EPOCH or 1980-01-01, normalized permissions), written atomically. Installed
dependencies are cached, so a rebuild after a source-only edit installs nothing.

Dependencies: exactly what the project's lock pins for the target (uv.lock, poetry.lock,
pdm.lock, Pipfile.lock, pylock.toml, or a requirements.txt), installed with nothing re-resolved;
else [project].dependencies. Two competing declarations, a lock older than its manifest, or a
manifest without its lock stop the build (exit 2): `lock = "..."` in the config chooses.
Zero config: a folder with lambda_function.py (handler lambda_function.lambda_handler). Otherwise
[tool.lpack] in pyproject.toml, or lpack.toml; a folder with a SAM template.yaml, a CDK app's
cdk.out or a Serverless serverless.yml builds its Python functions. Target: --runtime/--arch, else the config, else the newest runtime on x86_64.
After writing, the handler and its imports are checked on the zip: a package that cannot start
exits 1 (the zip stays, to inspect).
"""


INVOKE_DESCRIPTION = """\
Run a function's handler locally against test events, as the Lambda console's Test button does,
from the built package: the project is built first (a rebuild that changes nothing installs
nothing), its zip and layers are extracted, and the handler runs in a child Python process with
the runtime's sys.path, environment variables, working folder, context object, logging format,
timeout and error types. Prints the response, the function's logs and Lambda's START / END /
REPORT lines. Several events run in one warm process, as Lambda reuses an execution environment:
only the first has an Init Duration.

TARGET is a project folder (default: .), a function's name in this folder's project, a SAM or
CloudFormation template (with --function LOGICALID when it has several), or any function .zip
(with --handler). Events: --event FILE (repeatable; a folder runs every .json in
it; - reads stdin), --payload JSON, --sample NAME (see `lpack events`), else the function's
configured `events`. The function's memory, timeout and environment come from the config unless
given here. Runs under python3.X for the target runtime when one is installed (PATH, pyenv, uv),
else under this Python, and says so. Nothing here talks to AWS.
"""

SERVE_DESCRIPTION = """\
Serve the project's HTTP routes on one local port, as API Gateway (REST or HTTP API), a function
URL or an ALB would call the functions: each request becomes that integration's event, runs in a
warm execution environment of its function (built first, as `lpack invoke` does: the package that
runs is the one that ships), and the result becomes that integration's HTTP response.

Routes come from the SAM template's Api, HttpApi, FunctionUrlConfig and ALB events; a project
without HTTP events (lpack.toml, pyproject.toml) needs --event-shape, which serves each function at
/NAME/... (and at / when there is one). Matching is API Gateway's: exact paths, then {param},
then {proxy+}; an unmatched path gets the integration's own 403/404.

Warm environments: one per function, reused across requests (init runs once; the first request's
REPORT has the Init Duration), up to --concurrency per function, each running one request at a
time, as Lambda does. A request that finds them all busy waits for one (Lambda would throttle
at once: 429); after max(30 s, the timeout) it gets 429. The function's timeout is enforced
(the integration's 504) and the environment restarts. Each request prints its access line, then
the function's START/END/REPORT lines and logs.

Reload on save: the project's files are polled every 0.25 s; a change rebuilds (a source-only
edit installs nothing) and new requests run in fresh environments while in-flight ones finish on
the old. A change that does not build is printed, and every request answers 502 with the error
until it is fixed; the server keeps running.

Binds to 127.0.0.1. Another host (e.g. 0.0.0.0) needs --allow-remote: anyone who reaches it can
run your functions with your environment. Ctrl-C (or SIGTERM) ends every environment's process.
"""

SERVE_EPILOG = ("Exit codes: 130 stopped with Ctrl-C or SIGTERM, 2 usage/config/build error at start (or "
                "--debug-port without debugpy, or the port in use), 3 internal error.")

INVOKE_EPILOG = ("Exit codes: 0 every invocation succeeded, 1 a handler error, runtime error or timeout, "
                 "2 usage/config/input error, 3 internal error.")

TERRAFORM_DESCRIPTION = """\
A program for Terraform's `external` data source. Reads the query, a JSON object of strings, on
stdin: "project" (folder, default .), "function" (needed when the project has several), "runtime",
"architecture", "template", "config", "dist", "cache_dir" ("" is the same as leaving a key out).
Builds that function as `lpack build --function NAME` does (the cache makes a rebuild with nothing
changed fast; only the zip is written, never the source) and prints one JSON object of strings on
stdout: filename (relative to the folder the program runs in, where Terraform resolves it),
source_code_hash and output_base64sha256 (both base64 of the zip's sha256), output_sha256 (hex),
output_size, function, kind, handler, runtime and architecture. Nothing else goes to stdout.
"""


class _Formatter(argparse.HelpFormatter):
    """Wraps to the terminal (argparse reads COLUMNS): descriptions and epilogs are paragraphs,
    wrapped whole; a paragraph with indented lines (examples) is kept line for line. Words
    are never split, not even at a hyphen."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        from lpack._terminal import columns

        # argparse's own default width imports shutil (with bz2 and lzma): ~2 ms of every start-up
        super().__init__(prog, indent_increment, max_help_position, columns() - 2 if width is None else width)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        import textwrap

        paragraphs = textwrap.dedent(text).strip().split("\n\n")
        return "\n\n".join(
            "\n".join(indent + line for line in paragraph.splitlines()) if "\n " in paragraph
            else textwrap.fill(" ".join(paragraph.split()), width, initial_indent=indent, subsequent_indent=indent,
                               break_long_words=False, break_on_hyphens=False)
            for paragraph in paragraphs)

    def _format_args(self, action: argparse.Action, default_metavar: str) -> str:
        if isinstance(action, _LayerZip):  # its ZIP is optional only to explain a bare --layer
            return str(action.metavar)
        return super()._format_args(action, default_metavar)

    def _split_lines(self, text: str, width: int) -> list[str]:
        import textwrap

        return textwrap.wrap(" ".join(text.split()), width, break_long_words=False, break_on_hyphens=False)


class _Parser(argparse.ArgumentParser):
    """No prefix matching (``--selec`` is not ``--select``), the subcommand's own usage on its
    errors, and "did you mean" for a mistyped command or option."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def parse_args(self, args: Sequence[str] | None = None,  # type: ignore[override]
                   namespace: argparse.Namespace | None = None) -> argparse.Namespace:
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:  # reported by the subcommand that was given them, with its usage
            self._command(parsed).error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed

    def _command(self, parsed: argparse.Namespace) -> argparse.ArgumentParser:
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction) and getattr(parsed, "command", None):
                return action.choices[parsed.command]  # type: ignore[no-any-return]
        return self

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        sys.stderr.write(f"lpack: error: {message}\n")
        hint = self._did_you_mean(message)
        if hint:
            sys.stderr.write(f"lpack: tip: did you mean {hint}?\n")
        raise SystemExit(2)

    def _did_you_mean(self, message: str) -> str | None:
        import difflib
        import re

        if m := re.search(r"invalid choice: '([^']*)'", message):
            choices = [str(c) for a in self._actions if a.choices for c in a.choices]
            word = m.group(1)
        elif m := re.search(r"unrecognized arguments: (-\S+)", message):
            choices, word = list(self._option_string_actions), m.group(1).split("=")[0]
        else:
            return None
        close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
        return f"'{close[0]}'" if close else None


def _version() -> str:
    """lpack's version and the date of its offline IAM action data (read without loading it)."""
    from lpack._version import describe

    return describe()


def _common(parser: argparse.ArgumentParser, formats: tuple[str, ...] = ("text", "json")) -> None:
    parser.add_argument("--format", choices=formats, default="text",
                        help="output format (default: text); json is a versioned report on stdout"
                        + ("; sarif is SARIF 2.1.0 for code scanning; github prints workflow annotations"
                           if "sarif" in formats else ""))
    parser.add_argument("--select", action="append", default=[], metavar="CODES",
                        help="only report findings whose code starts with these (comma-separated)")
    parser.add_argument("--ignore", action="append", default=[], metavar="CODES",
                        help="do not report findings whose code starts with these (comma-separated)")
    parser.add_argument("--strict", action="store_true", help="exit 1 on warnings too")
    _config(parser, which=True)
    _output(parser, "-q: findings only (no progress, no summary); -qq: nothing, only the exit code")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="show what lpack decided: the target and where it came from, where the dependencies "
                        "came from and whether the cache had them, the files left out")


def _output(parser: argparse.ArgumentParser, quiet: str, file: bool = True) -> None:
    """-q/-qq/--silent, --color and (for commands with --format) -o/--output-file."""
    parser.add_argument("-q", "--quiet", action="count", default=0, help=quiet)
    parser.add_argument("--silent", dest="quiet", action="store_const", const=2, help="the same as -qq")
    parser.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                        help="colour the output: auto (a terminal, unless NO_COLOR is set or FORCE_COLOR is) "
                        "(default: auto)")
    if file:
        _output_file(parser, "the output (any --format)")


def _config(parser: argparse.ArgumentParser, which: bool = False) -> None:
    parser.add_argument("--config", type=Path, metavar="FILE", help="read [tool.lpack] from FILE"
                        + (" (pyproject.toml or lpack.toml)" if which else ""))


def _project(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", nargs="?", type=Path, default=Path("."),
                        help="the project folder, its pyproject.toml/lpack.toml, or a SAM/CloudFormation template "
                        "(default: .)")


def _output_file(parser: argparse.ArgumentParser, what: str = "the output") -> None:
    parser.add_argument("-o", "--output-file", type=Path, metavar="FILE",
                        help=f"write {what} to FILE, whole or not at all, instead of stdout")


class _LayerZip(argparse.Action):
    """``--layer ZIP`` (repeatable); given no ZIP, say which option does what the bare switch did."""

    def __init__(self, *args: Any, switch: str, **kwargs: Any) -> None:
        self.switch = switch
        super().__init__(*args, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        if values is None:
            parser.error(f"--layer takes a layer .zip the function is deployed with; to package the "
                         f"functions' dependencies as a layer, use {self.switch}")
        setattr(namespace, self.dest, [*getattr(namespace, self.dest), values])


def _layer_zips(parser: argparse.ArgumentParser, more: str = "", switch: str = "") -> None:
    """``--layer ZIP``, the same meaning in every command: a layer .zip the function is deployed with."""
    help = f"a layer .zip the function is deployed with (repeatable, in order){more}"
    if switch:  # `lpack build --layer` alone was once the switch now spelt `switch`
        parser.add_argument("--layer", dest="layers", action=_LayerZip, switch=switch, nargs="?", default=[],
                            type=Path, metavar="ZIP", help=help)
    else:
        parser.add_argument("--layer", dest="layers", action="append", default=[], type=Path, metavar="ZIP", help=help)


def _jobs(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"{value!r}: give a number of jobs, 1 or more")
    return int(value)


def _target(parser: argparse.ArgumentParser) -> None:
    from lpack.core.targets import ARCHITECTURES, DEFAULT_RUNTIME, RUNTIMES

    parser.add_argument("--runtime", choices=sorted(RUNTIMES, key=lambda r: RUNTIMES[r].python), metavar="python3.X",
                        help=f"target runtime (default: config, else {DEFAULT_RUNTIME})")
    parser.add_argument("--arch", "--architecture", dest="architecture", choices=sorted(ARCHITECTURES),
                        help="target architecture: x86_64 or arm64 (default: config, else x86_64)")


def _parser(command: str | None = None) -> argparse.ArgumentParser:
    """lpack's command line; with ``command``, only that subcommand's parser is added: what
    parsing ``lpack COMMAND ...`` needs (every argument after a command is its parser's), and
    ~5 ms less CPU for the pre-commit hook's `lpack check` than building all twelve."""
    parser = _Parser(
        prog="lpack",
        description="Build AWS Lambda Python deployment packages that are right the first time: "
        "dependencies for the target runtime and architecture, byte-reproducible zips and layers, "
        "and Lambda's limits checked before you deploy.",
        epilog=EPILOG,
    )
    parser.add_argument("--version", action="version", version=_version())
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    for name, add in _SUBPARSERS.items():
        if command is None or name == command:
            add(commands)
    return parser


def _build_parser(commands: Any) -> None:
    build = commands.add_parser(
        "build", help="build functions and layers into dist/NAME.zip",
        description=BUILD_DESCRIPTION,
        epilog=_epilog("lpack build", "lpack build --runtime python3.12 --arch arm64",
                       "lpack build template.yaml --function Api", "lpack build -q --format json -o build.json"),
    )
    build.add_argument("project", nargs="?", type=Path, default=Path("."),
                       help="project folder, its pyproject.toml/lpack.toml, a SAM/CloudFormation template or a "
                            "serverless.yml (default: .)")
    build.add_argument("--function", "-f", action="append", default=[], metavar="NAME",
                       help="build only this function or layer (repeatable)")
    _target(build)
    build.add_argument("--as-layer", action="store_true",
                       help="package the functions' dependencies as a Lambda layer (python/ prefix) in dist/NAME-layer.zip, "
                       "and each function's code alone in dist/NAME.zip")
    _layer_zips(build, "; counted in the size and layer limits and searched for the handler's imports, "
                "after the layers the configuration names", switch="--as-layer")
    build.add_argument("--installer", choices=("uv", "pip"),
                       help="installer (default: uv, or pip when uv is unavailable)")
    build.add_argument("--slim", action="store_true",
                       help="leave out of the dependencies what is provably unneeded at run time (as slim = true): "
                       "tests, docs, caches, *.pyi stubs (RECORD fixed, every *.dist-info kept) and shared "
                       "libraries' debug symbols where the strip is proved safe; the bytes saved are reported per package")
    build.add_argument("--report", type=Path, metavar="FILE.html", dest="size_report",
                       help="also write a self-contained HTML size map of the built zips (package, folder, file; "
                       "zipped and unzipped sizes; what --slim would save)")
    build.add_argument("--refresh", action="store_true",
                       help="reinstall dependencies even if the cache has them (e.g. to pick up new releases of unpinned requirements)")
    build.add_argument("--cache-dir", type=Path, metavar="DIR",
                       help="dependency cache (default: $LPACK_CACHE_DIR, else ~/.cache/lpack)")
    _remote_cache(build)
    build.add_argument("--jobs", "-j", type=_jobs, metavar="N",
                       help="build up to N functions and layers at once (default: $LPACK_JOBS, else the CPUs "
                       "lpack may use; 1 builds one after another): on N worker processes when there are 16 or "
                       "more to build (Linux), else on N threads that overlap their installs. The zips and the "
                       "report are the same whatever N; units with the same dependencies install them once")
    build.add_argument("--template", type=Path, metavar="TEMPLATE",
                       help="build the Python functions and layers of a SAM or CloudFormation template "
                       "(CodeUri, Handler, Runtime, Architectures, Layers) into dist/LOGICALID.zip")
    build.add_argument("--no-build-isolation", dest="build_isolation", action="store_false",
                       help="build a source folder that is a Python project without an isolated environment")
    build.add_argument("--out", type=Path, metavar="DIR",
                       help="also write each built package's files, unzipped (bytes and permissions as in its zip), "
                       "into DIR: with exactly one --function, DIR holds that package's files; otherwise DIR/NAME/ "
                       "per function and layer. Each folder is replaced whole, atomically (other entries of DIR are "
                       "left alone); dist/NAME.zip is written as always. In a SAM Makefile target: "
                       "--out \"$(ARTIFACTS_DIR)\"")
    build.add_argument("--sam-build-dir", type=Path, metavar="DIR",
                       help="with a SAM/CloudFormation template, write what `sam build` writes: DIR/LOGICALID/ per "
                       "function and layer (unzipped) and DIR/template.yaml with their CodeUri/Code/ContentUri "
                       "pointing there and other local paths re-pointed, for `sam deploy` (e.g. .aws-sam/build)")
    build.add_argument("--changed-since", metavar="REF",
                       help="build only the functions and layers whose inputs changed since the git ref REF (its "
                       "merge base with HEAD; committed, staged, unstaged or untracked), or whose zip dist/ lacks; "
                       "the others are reported unchanged and their zips kept (see `lpack plan`)")
    build.add_argument("--sbom", nargs="?", const="cyclonedx", choices=("cyclonedx", "spdx"), metavar="FORMAT",
                       help="also write each zip's SBOM beside it: dist/NAME.cdx.json (cyclonedx, the default) or "
                       "dist/NAME.spdx.json (spdx); see `lpack sbom`. Needs pip install 'lpack-lambda[sbom]' for CycloneDX")
    build.add_argument("--provenance", action="store_true",
                       help="also write each zip's SLSA provenance (an unsigned in-toto statement) beside it: "
                       "dist/NAME.provenance.json (docs/supply-chain.md)")
    _common(build)


def _check_parser(commands: Any) -> None:
    check = commands.add_parser(
        "check", help="check projects and packages for what would fail on Lambda, without building",
        description=CHECK_DESCRIPTION,
        epilog=_epilog("lpack check", "lpack check fn.zip --handler app.handler --runtime python3.12 --arch arm64",
                       "lpack check -q --files app/handler.py   (pre-commit: findings only)",
                       "lpack check --format sarif -o lpack.sarif"),
    )
    check.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                       help="project folders, pyproject.toml/lpack.toml files, SAM/CloudFormation templates, "
                       "cdk.out folders (or a CDK app's folder), package .zip files, container images "
                       "(a `docker save` .tar or an OCI layout folder), or IAM policy .json files (default: .)")
    check.add_argument("--handler", metavar="MODULE.FUNCTION",
                       help="handler of a .zip (Lambda's Handler setting; '/' reads as '.')")
    _target(check)
    check.add_argument("--kind", choices=("function", "layer"), help="what a .zip is (default: function)")
    check.add_argument("--report", type=Path, metavar="FILE.html", dest="size_report",
                       help="also write a self-contained HTML size map of the .zip files given (as lpack build --report)")
    _layer_zips(check)
    check.add_argument("--env", type=Path, metavar="JSON",
                       help='environment variables: {"K": "V"} or {"Variables": {...}}')
    check.add_argument("--event", dest="events", action="append", default=[], type=Path, metavar="JSON",
                       help="a test event for synchronous invocation (6 MB limit; repeatable)")
    check.add_argument("--async-event", dest="async_events", action="append", default=[], type=Path,
                       metavar="JSON", help="a test event for asynchronous invocation (1 MB limit; repeatable)")
    check.add_argument("--function", "-f", action="append", default=[], metavar="NAME",
                       help="check only this function or layer of a project (repeatable)")
    check.add_argument("--role", nargs="+", type=Path, default=[], metavar="JSON",
                       help="one execution role's complete set of permission policies (checked together)")
    check.add_argument("--role-inline", nargs="+", type=Path, default=[], metavar="JSON",
                       help="that role's inline policies (their sizes add up to IAM's 10,240 per role)")
    check.add_argument("--policy-kind", choices=("identity", "resource", "trust"),
                       help="what the .json policy files are (default: inferred from each document)")
    check.add_argument("--files", action="store_true",
                       help="the PATHs are changed files, as pre-commit passes them: check the projects that "
                       "hold them (their source, not dist/) and the IAM policies among them; skip the rest")
    check.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    _common(check, formats=("text", "json", "sarif", "github"))


def _lock_parser(commands: Any) -> None:
    lock = commands.add_parser(
        "lock", help="pin dependencies with hashes for the target runtime and architecture",
        description="Resolve each function's and layer's requirements.in, or the [project].dependencies "
        "of its pyproject.toml (with the configured groups and extras), for its target runtime and "
        "architecture (environment markers evaluated for the target, binary wheels only) and write "
        "requirements.txt beside it in pip-tools' format, with hashes, or pylock.toml (--format); "
        "`lpack build` then installs it with hashes required. A uv.lock, poetry.lock, pdm.lock or "
        "Pipfile.lock belongs to its own tool: update it with that tool. "
        "Existing pins are kept unless --upgrade or --upgrade-package asks. "
        "The lock records its input's sha256: `lpack check` and `lpack build` warn (LP331) when "
        "requirements.in changed since.",
        epilog=_epilog("lpack lock", "lpack lock --upgrade-package boto3", "lpack lock --format pylock.toml",
                       exits="Exit codes: 0 locked, 2 usage/config/input error (a requirement that cannot be "
                       "resolved for the target), 3 internal error."))
    lock.add_argument("project", nargs="?", type=Path, default=Path("."),
                      help="project folder or its pyproject.toml/lpack.toml (default: .)")
    lock.add_argument("--function", "-f", action="append", default=[], metavar="NAME",
                      help="lock only this function's or layer's requirements (repeatable)")
    _target(lock)
    lock.add_argument("--upgrade", "-U", action="store_true", help="upgrade every package to the newest allowed")
    lock.add_argument("--upgrade-package", "-P", action="append", default=[], metavar="NAME",
                      help="upgrade this package, keeping the other pins (repeatable)")
    lock.add_argument("--format", choices=("requirements.txt", "pylock.toml"),
                      help="write pip-tools' requirements.txt (with --hash lines) or a PEP 751 pylock.toml "
                      "(default: what the function already uses, else requirements.txt)")
    _config(lock)
    _output(lock, "no progress output", file=False)


def _validate_parser(commands: Any) -> None:
    validate = commands.add_parser(
        "validate-config", help="validate [tool.lpack] or lpack.toml against lpack's schema",
        description="Validate the configuration against schemas/lpack.schema.json and resolve it as a build would "
        "(paths exist, layers named by functions exist). Exit 0 when valid, 2 with one line naming the file, "
        "the key and what to do. A pyproject.toml without [tool.lpack] has nothing to validate.",
        epilog=_epilog("lpack validate-config", "lpack validate-config services/*/pyproject.toml",
                       exits="Exit codes: 0 valid, 2 invalid (one line naming the file and key), 3 internal error."))
    validate.add_argument("files", nargs="*", type=Path, metavar="FILE",
                          help="pyproject.toml or lpack.toml files, or project folders (default: .)")
    _output(validate, "print nothing when valid", file=False)


def _events_parser(commands: Any) -> None:
    events = commands.add_parser("events", help="list sample test events, or print one",
                                 description="Sample test events for common triggers, as the Lambda console's event "
                                 "templates give them: start from a realistic shape and edit it.",
                                 epilog=_epilog("lpack events", "lpack events api -o events/api.json",
                                                exits="Exit codes: 0 ok, 2 unknown sample, 3 internal error."))
    events.add_argument("name", nargs="?", help="a sample's name, e.g. s3-put; without one, list them")
    events.add_argument("-o", "--output", type=Path, metavar="FILE", help="write the event to FILE instead of stdout")


def _rules_parser(commands: Any) -> None:
    rules = commands.add_parser("rules", help="list the rules, or show one rule's doc",
                                description="List every rule with its code, name and severity, or show one rule's "
                                "documentation.",
                                epilog=_epilog("lpack rules", "lpack rules LP209", "lpack rules --format json",
                                               exits="Exit codes: 0 ok, 2 unknown rule, 3 internal error."))
    rules.add_argument("code", nargs="?", help="a rule code, e.g. LP101, or a rule name")
    rules.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    _output_file(rules)


def _remote_cache(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--remote-cache", metavar="s3://BUCKET/PREFIX",
                        help="a cache shared on S3 (default: $LPACK_REMOTE_CACHE) of dependency installs and finished "
                        "packages: a package built elsewhere from the same inputs, or an install the local cache lacks, "
                        "is downloaded from it, verified by sha256, and what this build makes is uploaded; "
                        "if it fails (credentials, network, 403), one warning and the build goes on locally. "
                        "Credentials, region and endpoint from the standard AWS environment or profile. "
                        "Needs boto3: pip install 'lpack-lambda[s3]'")
    parser.add_argument("--remote-cache-endpoint", metavar="URL",
                        help="the address of an S3-compatible store (MinIO, R2, ...) for --remote-cache "
                        "(default: $AWS_ENDPOINT_URL_S3, else $AWS_ENDPOINT_URL, else AWS)")
    parser.add_argument("--remote-cache-read-only", action="store_true",
                        help="read the remote cache but never write it, e.g. for pull requests from forks "
                        "(also $LPACK_REMOTE_CACHE_READ_ONLY=1)")


CACHE_DESCRIPTION = """\
The dependency cache: installed, compressed dependency sets, keyed on what shapes an install (the
requirements or lock as read for the target, the runtime and architecture, the installer and its
settings, lpack's version), never on where the project is. `lpack cache key` prints those keys
for a CI cache step; `lpack cache prune` keeps a long-lived cache small; `lpack cache dir` prints
its folder. See docs/integrations.md, "Sharing the cache in CI", for actions/cache and --remote-cache.
"""


def _cache_parser(commands: Any) -> None:
    cache = commands.add_parser("cache", help="the dependency cache: its keys for a CI cache step, its folder, pruning",
                                description=CACHE_DESCRIPTION,
                                epilog=_epilog("lpack cache key", "lpack cache key --combined",
                                               "lpack cache prune --older-than 30d --max-size 5G", "lpack cache dir"))
    verbs = cache.add_subparsers(dest="cache_command", metavar="COMMAND", parser_class=_Parser, required=True)
    key = verbs.add_parser(
        "key", help="print each function's and layer's dependency cache key, and one combined key",
        description="Print, for each function and layer, the key of its dependencies in the cache, as `lpack "
        "build` computes it (nothing is installed; a lock is read for the target), then one combined key: the "
        "same on every machine for the same locks and target, different as soon as an install would be. Use "
        "the combined key for a CI cache of $LPACK_CACHE_DIR (actions/cache: key).",
        epilog=_epilog("lpack cache key", "echo \"key=$(lpack cache key --combined)\" >> \"$GITHUB_OUTPUT\"",
                       "lpack cache key --format json", exits="Exit codes: 0 printed, 2 usage or configuration error."))
    key.add_argument("project", nargs="?", type=Path, default=Path("."),
                     help="project folder, its pyproject.toml/lpack.toml, a SAM/CloudFormation template or a "
                            "serverless.yml (default: .)")
    key.add_argument("--function", "-f", action="append", default=[], metavar="NAME",
                     help="only this function or layer (repeatable)")
    _target(key)
    key.add_argument("--as-layer", action="store_true", help="the keys of `lpack build --as-layer`")
    key.add_argument("--installer", choices=("uv", "pip"), help="installer (default: uv, or pip when uv is unavailable)")
    key.add_argument("--template", type=Path, metavar="TEMPLATE", help="a SAM or CloudFormation template's functions")
    _config(key)
    key.add_argument("--combined", action="store_true", help="print only the combined key")
    key.add_argument("--format", choices=("text", "json"), default="text",
                     help="output format (default: text); json: {version, units: [{name, kind, runtime, "
                     "architecture, key, dependencies}], combined}")
    prune = verbs.add_parser(
        "prune", help="remove dependency sets not used lately, or the least recently used beyond a size",
        description="Remove the cache's dependency sets that no build used for --older-than, then the least "
        "recently used until the rest fit --max-size. A build records each use (access times are unreliable). "
        "An entry a build holds, or used in the last 10 minutes, is never removed. With --older-than, the small "
        "records not written since (stamps, memos, check's replays) go too; lpack works them out again. "
        "Prints what was freed.",
        epilog=_epilog("lpack cache prune --older-than 30d", "lpack cache prune --max-size 5G --dry-run",
                       exits="Exit codes: 0 pruned (or nothing to), 2 usage error."))
    prune.add_argument("--older-than", metavar="AGE", help="remove what no build used for AGE: 30d, 12h, 2w, 90m")
    prune.add_argument("--max-size", metavar="SIZE", help="then remove the least recently used until the cache fits "
                       "SIZE: 5G, 500M (powers of 1024)")
    prune.add_argument("--dry-run", action="store_true", help="say what would be removed; remove nothing")
    prune.add_argument("--cache-dir", type=Path, metavar="DIR",
                       help="dependency cache (default: $LPACK_CACHE_DIR, else ~/.cache/lpack)")
    where = verbs.add_parser("dir", help="print the cache's folder",
                             description="Print the dependency cache's folder ($LPACK_CACHE_DIR, else "
                             "$XDG_CACHE_HOME/lpack, else ~/.cache/lpack).")
    where.add_argument("--cache-dir", type=Path, metavar="DIR", help="the folder --cache-dir would use")


def _plan_parser(commands: Any) -> None:
    plan = commands.add_parser(
        "plan", help="list what a build would make, its inputs' digest and whether dist/ has it (for CI matrices)",
        description="For each function and layer: its target, source, artifact, the sha256 of its inputs (what "
        "`lpack check` compares with dist/lpack-manifest.json), whether dist/ has a zip built from them (current), "
        "and with --changed-since REF whether git says its inputs changed since REF: its source files as packaged, "
        "its lock or requirements and the local folders they install from, its settings (lpack.toml or "
        "[tool.lpack] compared as parsed with REF's; any change to a template counts for all its units), and "
        "lpack's version. Nothing is built. "
        "The JSON form is described by schemas/plan.schema.json.",
        epilog=_epilog("lpack plan", "lpack plan --changed-since origin/main",
                       "lpack plan --format json --changed-since origin/main   (a CI matrix: docs/ci.md)",
                       exits="Exit codes: 0 the plan printed; 2 a usage or configuration error, not a git "
                       "repository, or an unknown REF."),
    )
    _project(plan)
    plan.add_argument("--function", "-f", action="append", default=[], metavar="NAME",
                      help="only this function or layer (repeatable)")
    _target(plan)
    plan.add_argument("--changed-since", metavar="REF",
                      help="say whether each unit's inputs changed since the git ref REF (its merge base with HEAD; "
                      "committed, staged, unstaged or untracked)")
    plan.add_argument("--format", choices=("text", "json"), default="text",
                      help="output format (default: text); json is a versioned document on stdout")
    _config(plan, which=True)
    _output_file(plan)


def _policy_parser(commands: Any) -> None:
    policy = commands.add_parser(
        "policy", help="print the least-privilege IAM policy a function's code needs",
        description="Follow the AWS SDK calls of one function's handler and the package modules it imports "
        "(boto3 clients and resources, as `lpack check` does for LP570) and print the identity policy they "
        "need, one statement per resource the code names (a literal, or an environment variable the "
        "configuration or template sets), plus what Lambda itself needs: its log group, and what the "
        "configuration adds (an event source's reads, VPC interfaces, tracing). Calls lpack cannot follow "
        "are left out and counted on stderr. Text output is the policy document itself; json wraps it with "
        "the call sites.",
        epilog=_epilog("lpack policy", "lpack policy template.yaml -f OrdersFunction > iam/orders.json",
                       exits="Exit codes: 0 the policy printed; 2 a usage or configuration error, or a handler "
                       "lpack cannot read."),
    )
    _project(policy)
    policy.add_argument("--function", "-f", metavar="NAME", help="the function (needed when there are several)")
    policy.add_argument("--format", choices=("text", "json"), default="text",
                        help="output format (default: text, the policy document); json adds the call sites")
    _config(policy, which=True)
    _output_file(policy)


def _sam_makefile_parser(commands: Any) -> None:
    sam = commands.add_parser(
        "sam-makefile", help="write the Makefile targets that make `sam build` build with lpack",
        description="For each Python function of a SAM template, write a build-LOGICALID target into the "
        "Makefile `sam build` runs for `Metadata: BuildMethod: makefile` (in the function's CodeUri folder, or its "
        "Metadata's ContextPath): it runs `lpack build TEMPLATE --function LOGICALID --out \"$(ARTIFACTS_DIR)\"`, "
        "so `sam build` puts lpack's package, unzipped, in .aws-sam/build/LOGICALID/ and `sam deploy` works "
        "unchanged. The targets live in a marked block: a new Makefile holds only it; an existing one keeps "
        "everything outside it; running again rewrites the block and nothing else. A Makefile with a "
        "build-LOGICALID target of its own is refused. The template is not edited: lpack prints the exact "
        "Metadata lines each function still needs. Set LPACK (make LPACK=... or the environment) to run "
        "another lpack.",
        epilog=_epilog("lpack sam-makefile", "lpack sam-makefile template.yaml --function Api",
                       exits="Exit codes: 0 written (or already up to date), 2 usage/input error, 3 internal error."))
    sam.add_argument("template", nargs="?", type=Path, default=Path("template.yaml"),
                     help="the SAM template (default: template.yaml)")
    sam.add_argument("--function", "-f", action="append", default=[], metavar="LOGICALID",
                     help="only this function (repeatable)")
    _output(sam, "print nothing but errors", file=False)


def _function_settings(parser: argparse.ArgumentParser, enforce_memory: bool = False) -> None:
    """What a local run may set over the function's configuration: memory, timeout, environment."""
    parser.add_argument("--memory", dest="memory_mb", type=int, metavar="MB",
                        help="memory size in MB (default: config, else 128)")
    parser.add_argument("--timeout", dest="timeout_s", type=float, metavar="SECONDS",
                        help="timeout in seconds (default: config, else 3)")
    if enforce_memory:
        parser.add_argument("--enforce-memory", action="store_true",
                            help="stop the function when it uses more than its memory size (Runtime.OutOfMemory)")
    parser.add_argument("--env", type=Path, metavar="JSON",
                        help='environment variables over the configured ones: {"K": "V"} or {"Variables": {...}}')
    parser.add_argument("--pass-env", action="append", default=[], metavar="NAME",
                        help="copy this variable from your shell, e.g. AWS_PROFILE and HOME to call AWS (repeatable)")


def _invoke_parser(commands: Any) -> None:

    invoke = commands.add_parser(
        "invoke", help="run a function's built package locally against test events",
        description=INVOKE_DESCRIPTION,
        epilog=_epilog("lpack invoke -e events/api.json", "lpack invoke orders --sample s3-put",
                       "lpack invoke dist/fn.zip --handler app.handler --payload '{\"id\": 1}'",
                       exits=INVOKE_EPILOG),
    )
    invoke.add_argument("target", nargs="?", metavar="TARGET",
                        help="project folder, function name, or function .zip (default: the project in .)")
    invoke.add_argument("--function", "-f", metavar="NAME", help="the function to run, in a project with several")
    invoke.add_argument("--event", "-e", dest="events", action="append", default=[], metavar="FILE",
                        help="a JSON test event file, a folder of them, or - for stdin (repeatable)")
    invoke.add_argument("--payload", metavar="JSON", help="the event as inline JSON, e.g. '{\"length\": 6}'")
    invoke.add_argument("--sample", metavar="NAME", help="a sample event for a trigger (see `lpack events`)")
    invoke.add_argument("--invocation", choices=("sync", "async"),
                        help="RequestResponse (sync, 6 MB payload) or Event (async, 1 MB) (default: config, else sync)")
    invoke.add_argument("--handler", metavar="MODULE.FUNCTION", help="the handler of a .zip")
    _layer_zips(invoke)
    _target(invoke)
    _function_settings(invoke, enforce_memory=True)
    invoke.add_argument("--python", metavar="PATH", help="the interpreter to run the handler under")
    invoke.add_argument("--region", help="AWS_REGION the function sees (default: $AWS_REGION, else us-east-1)")
    invoke.add_argument("--no-build", dest="build", action="store_false",
                        help="run dist/NAME.zip as it is instead of building first")
    invoke.add_argument("--snapstart", action=argparse.BooleanOptionalAction, default=None,
                        help="run as a SnapStart version: init, the before-snapshot hooks, the after-restore hooks, "
                             "then the events (default: on when the function's SnapStart ApplyOn is PublishedVersions)")
    invoke.add_argument("--tenant-id", metavar="ID",
                        help="the tenant ID of the invoke (context.tenant_id, and tenantId in JSON logs); "
                        "required for tenant isolation")
    invoke.add_argument("--cache-dir", type=Path, metavar="DIR", help="dependency and extraction cache")
    invoke.add_argument("--format", choices=("text", "json"), default="text",
                        help="text: the console's test result per event; json: one document on stdout")
    _config(invoke)
    _output(invoke, "no progress output")


def _serve_parser(commands: Any) -> None:
    from lpack.serve.routes import SHAPES  # light: lpack.commands.serve loads the runtime emulation

    serve = commands.add_parser(
        "serve", help="serve the project's HTTP routes locally: warm functions, reload on save",
        description=SERVE_DESCRIPTION,
        epilog=_epilog("lpack serve", "lpack serve examples/serve-api --port 8080 --concurrency 4",
                       "lpack serve --event-shape api-gateway-v2", "lpack serve --debug-port 5678",
                       exits=SERVE_EPILOG),
    )
    serve.add_argument("target", nargs="?", metavar="TARGET",
                       help="project folder or SAM template (default: the project in .)")
    serve.add_argument("--port", "-p", type=int, default=3000, help="the port to listen on; 0 picks a free one "
                       "(default: 3000)")
    serve.add_argument("--host", default="127.0.0.1", help="the address to bind (default: 127.0.0.1)")
    serve.add_argument("--allow-remote", action="store_true",
                       help="allow a --host other machines can reach (e.g. 0.0.0.0); prints a warning")
    serve.add_argument("--concurrency", "-c", type=_jobs, default=1, metavar="N",
                       help="warm environments per function, each one request at a time (default: 1)")
    serve.add_argument("--event-shape", choices=SHAPES,
                       help="the integration whose events functions without HTTP events get, served at /NAME/...")
    serve.add_argument("--debug-port", type=int, metavar="PORT",
                       help="run the handler under debugpy, waiting on 127.0.0.1:PORT for a debugger to attach "
                       "(needs debugpy: pip install 'lpack-lambda[debug]'; docs/serve.md)")
    serve.add_argument("--no-reload", dest="reload", action="store_false",
                       help="do not watch the project's files for changes")
    _target(serve)
    _function_settings(serve)
    serve.add_argument("--python", metavar="PATH", help="the interpreter to run the handlers under")
    serve.add_argument("--region", help="AWS_REGION the functions see (default: $AWS_REGION, else us-east-1)")
    serve.add_argument("--cache-dir", type=Path, metavar="DIR", help="dependency and extraction cache")
    _config(serve)
    serve.add_argument("-q", "--quiet", action="count", default=0,
                       help="print the access lines only (-qq: nothing but errors)")


SBOM_DESCRIPTION = """\
Print the software bill of materials of exactly what one package ships, read from the zip's own
*.dist-info folders: each distribution's name, version, purl, licence, the files it owns (with
RECORD's sha256) and the wheel's sha256 where the lock lists it; the function's own code as the
root; the target; Requires-Dist edges inside the zip; and the packages the Lambda runtime provides
(boto3, botocore ...) that the code uses without shipping them, marked as provided, not shipped.
CycloneDX 1.6 JSON (the default; needs pip install 'lpack-lambda[sbom]') or SPDX 2.3 JSON.

TARGET is a .zip (built by lpack or anything else; its target from --runtime/--arch, else
dist/lpack-manifest.json) or a project, which is built first as `lpack build` builds it (a zip
whose inputs are unchanged is kept). The same zip gives the same bytes: the serial number comes
from the zip's sha256, the timestamp from SOURCE_DATE_EPOCH, else the zip's entries.
"""

AUDIT_DESCRIPTION = """\
Look up every distribution a package ships, at its exact version, in a vulnerability database
(OSV's API, else PyPI's JSON API, which serves the same advisories) and report each known
vulnerability as a finding (LP601): the advisory id and aliases, the fixed versions, and the
requirement that pulled the package in. TARGET is read as `lpack sbom` reads it: a .zip, or a
project that is built first. Only what ships is audited; the runtime's boto3 is AWS's to update.

When the service cannot be reached (offline, a proxy), lpack audit says it could not check and
exits 2: it never reports "no known vulnerabilities" for what it did not check.
"""


def _sbom_parser(commands: Any) -> None:
    sbom = commands.add_parser(
        "sbom", help="print the SBOM (CycloneDX or SPDX) of exactly what a package ships",
        description=SBOM_DESCRIPTION,
        epilog=_epilog("lpack sbom dist/orders.zip", "lpack sbom -f orders --format spdx -o orders.spdx.json",
                       "lpack build --sbom   (dist/NAME.cdx.json beside each zip)",
                       exits="Exit codes: 0 written, 2 usage/config/input error (or the sbom extra missing), "
                       "3 internal error."))
    _package_target(sbom)
    sbom.add_argument("--format", choices=("cyclonedx", "spdx"), default="cyclonedx",
                      help="CycloneDX 1.6 JSON or SPDX 2.3 JSON (default: cyclonedx)")
    _output_file(sbom, "the SBOM")


# lpack.bundle.vulndb.lookup's services, spelled here so that `lpack --help` does not import it
AUDIT_SERVICES = ("auto", "osv", "pypi")


def _audit_parser(commands: Any) -> None:
    audit = commands.add_parser(
        "audit", help="report known vulnerabilities of exactly what a package ships (OSV, PyPI)",
        description=AUDIT_DESCRIPTION,
        epilog=_epilog("lpack audit", "lpack audit dist/orders.zip --format sarif -o audit.sarif",
                       exits="Exit codes: 0 no known vulnerability, 1 known vulnerabilities (error findings), "
                       "2 usage/config/input error or the service could not be reached (nothing was checked), "
                       "3 internal error."))
    _package_target(audit, config=False)
    audit.add_argument("--service", choices=AUDIT_SERVICES, default="auto",
                       help="where to look: osv (api.osv.dev), pypi (pypi.org's JSON API), or auto: OSV, else PyPI "
                       "(default: auto)")
    _common(audit, formats=("text", "json", "sarif", "github"))


def _package_target(parser: argparse.ArgumentParser, config: bool = True) -> None:
    parser.add_argument("target", nargs="?", type=Path, default=Path("."), metavar="TARGET",
                        help="a package .zip, or a project folder, its pyproject.toml/lpack.toml or a SAM template "
                        "(built first) (default: .)")
    parser.add_argument("--function", "-f", action="append", default=[], metavar="NAME",
                        help="the function or layer of a project (repeatable for audit)")
    _target(parser)
    if config:  # else _common adds it
        _config(parser)


def _sbom(args: argparse.Namespace) -> int:
    from lpack.commands.sbom import sbom

    sys.stdout.write(sbom(args.target, args.format, tuple(args.function), args.runtime, args.architecture,
                          args.config))
    return 0


def _audit(args: argparse.Namespace) -> int:
    from lpack.commands.audit import audit

    done = audit(args.target, tuple(args.function), args.runtime, args.architecture, args.config, args.service,
                 _codes(args.select), _codes(args.ignore))
    reporter(args.format, args.color).check(sys.stdout, done.findings, max(args.quiet, 1) if args.format == "text"
                                            else args.quiet)
    if args.format == "text" and not args.quiet:
        from lpack.report.text import counts_text

        packages = f"{done.packages} package{'s' * (done.packages != 1)}"
        sys.stdout.write(f"audited {done.distributions} distributions in {packages} against {done.service}; "
                         f"{counts_text(done.findings)}\n")
    return _exit_code(done.findings, args.strict)


def _terraform_parser(commands: Any) -> None:
    commands.add_parser(
        "terraform-external", help="build one function for Terraform's external data source (query on stdin)",
        description=TERRAFORM_DESCRIPTION,
        epilog=_epilog("echo '{\"project\": \"functions/orders\"}' | lpack terraform-external",
                       "data \"external\" \"orders\" { program = [\"lpack\", \"terraform-external\"] ... }",
                       exits="Exit codes: 0 built (the result on stdout), 2 a bad query, a configuration or build "
                       "error, or an error finding on the package (one line on stderr, which Terraform shows), "
                       "3 internal error."))


# each subcommand's parser, in the order `lpack --help` lists them
_SUBPARSERS: dict[str, Callable[[Any], None]] = {
    "build": _build_parser, "plan": _plan_parser, "policy": _policy_parser, "cache": _cache_parser,
    "check": _check_parser,
    "lock": _lock_parser, "invoke": _invoke_parser, "serve": _serve_parser, "validate-config": _validate_parser,
    "events": _events_parser, "rules": _rules_parser, "terraform-external": _terraform_parser,
    "sam-makefile": _sam_makefile_parser, "sbom": _sbom_parser, "audit": _audit_parser,
}


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = _hook_args(argv)
    if args is None:
        parser = _parser(argv[0] if argv and argv[0] in _SUBPARSERS else None)
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 2
    try:
        if getattr(args, "output_file", None) is not None:
            return _to_file(args.output_file, _COMMANDS[args.command], args)
        return _COMMANDS[args.command](args)
    except LpackError as exc:
        _error(exc)
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("lpack: interrupted\n")
        return 130
    except BrokenPipeError:  # `lpack rules | head`: the reader has what it wanted
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 1
    except Exception as exc:  # the one place that turns a bug into a report
        sys.stderr.write(
            f"lpack: internal error: {type(exc).__name__}: {redact(str(exc))}\n"
            f"lpack: please report this with the command you ran (lpack {__version__}, "
            f"Python {_platform()})\n"
        )
        if getattr(args, "verbose", False):
            raise
        return 3


# What argparse gives ``lpack check`` for each option not on the command line (a test holds the two
# to the same namespaces).
_CHECK_DEFAULTS: dict[str, Any] = {
    "command": "check", "paths": [], "handler": None, "runtime": None, "architecture": None, "kind": None,
    "size_report": None, "layers": [], "env": None, "events": [], "async_events": [], "function": [], "role": [],
    "role_inline": [], "policy_kind": None, "files": False, "exit_zero": False, "format": "text", "select": [],
    "ignore": [], "strict": False, "config": None, "quiet": 0, "color": "auto", "output_file": None,
    "verbose": False,
}
_QUIET = {"-q": 1, "--quiet": 1, "-qq": 2}


def _hook_args(argv: Sequence[str]) -> argparse.Namespace | None:
    """What the check parser makes of the pre-commit hook's ``check [-q] --files PATH...``: its
    options set, every other one at its default; None for any other command line (another
    option, a path that begins with '-'), which argparse parses. Building the check parser (~30
    options and their help) and its translations was ~4 ms of every run of the hook."""
    if argv[:1] != ["check"]:
        return None
    values = {**_CHECK_DEFAULTS, "paths": []}
    closed = False  # the PATHs are one run of arguments: argparse refuses a second run after an option
    for arg in argv[1:]:
        if arg in _QUIET or arg == "--files":
            values["quiet"] += _QUIET.get(arg, 0)
            values["files"] = values["files"] or arg == "--files"
            closed = bool(values["paths"])
        elif arg and not arg.startswith("-") and not closed:
            values["paths"].append(Path(arg))
        else:
            return None
    return argparse.Namespace(**{k: list(v) if isinstance(v, list) and k != "paths" else v for k, v in values.items()})


def _to_file(path: Path, command: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """``-o FILE``: what the command prints on stdout becomes FILE, written whole (atomically) once
    the command has finished, findings or not; an error leaves FILE as it was."""
    import contextlib
    import io

    from lpack.core.files import atomic_write_text

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = command(args)
    atomic_write_text(path, buffer.getvalue())
    return code


def _error(exc: LpackError, prefix: str = "") -> None:
    """One error as the user reads it: what went wrong, then what to do."""
    for line in str(exc).splitlines() or [""]:  # several mistakes at once: one line each
        sys.stderr.write(f"lpack: error: {prefix}{line}\n")
    if exc.tip:
        sys.stderr.write(f"lpack: tip: {exc.tip}\n")


def _codes(values: list[str]) -> list[str]:
    return [code.strip() for value in values for code in value.split(",") if code.strip()]


def _exit_code(findings: Sequence[Finding], strict: bool) -> int:
    failing = {Severity.ERROR, Severity.WARNING} if strict else {Severity.ERROR}
    return 1 if any(f.severity in failing for f in findings) else 0


def _build(args: argparse.Namespace) -> int:
    from lpack.bundle.builder import BuildOptions, default_jobs
    options = BuildOptions(
        runtime=args.runtime, architecture=args.architecture, installer=args.installer,
        remote_cache=args.remote_cache, remote_endpoint=args.remote_cache_endpoint,
        remote_read_only=args.remote_cache_read_only,
        as_layer=args.as_layer, layers=tuple(args.layers), functions=tuple(args.function), refresh=args.refresh,
        cache_dir=args.cache_dir, build_isolation=args.build_isolation, jobs=args.jobs or default_jobs(),
        slim=args.slim, find_python=_target_python,
    )
    codes = _codes(args.select), _codes(args.ignore)
    started = time.monotonic()
    run = _build_runner(args, options, codes)
    if args.format == "json" or args.quiet:  # no progress: rich is not even imported
        result, findings, wrote = run(None)
    else:
        from lpack.report.text import ProgressPrinter

        with ProgressPrinter() as progress:
            result, findings, wrote = run(progress)
    if args.size_report is not None and result.artifacts:
        from lpack.report.size_html import write_size_report

        result.size_report = write_size_report(args.size_report, result.artifacts)
        wrote = [*wrote, str(result.size_report)]
    reporter(args.format, args.color).build(sys.stdout, result, findings, args.verbose, args.quiet,
                                            time.monotonic() - started)
    for warning in result.warnings:  # -q too: the build was slower than it had to be
        sys.stderr.write(f"lpack: warning: {warning}\n")
    if not args.quiet:
        for name, why in result.skipped:
            sys.stderr.write(f"lpack: note: {name}: not built: {why}\n")
        for name, why in result.unchanged:
            sys.stderr.write(f"lpack: note: {name}: {why}\n")
        for line in wrote:
            sys.stderr.write(f"lpack: wrote {line}\n")
    for name, error in result.failures:  # the others were built: say which could not be, and why
        _error(error, f"{name}: ")
    if result.failures:
        return 2
    return _exit_code(findings, args.strict)


def _target_python(target: Any) -> str | None:
    """A Python of ``target`` installed here (lpack invoke's finder), for --slim's import check."""
    from lpack.invoke.interpreter import find_interpreter, normalize_machine

    found = find_interpreter(target.runtime)
    same_machine = normalize_machine(found.machine) == ("aarch64" if target.architecture == "arm64" else "x86_64")
    return found.path if found.matches and found.system == "Linux" and same_machine else None


def _build_runner(args: argparse.Namespace, options: Any,
                  codes: tuple[list[str], list[str]]) -> Callable[[Any], tuple[Any, list[Finding], list[str]]]:
    """`lpack build` as asked: plain, with --out DIR, or with --sam-build-dir DIR; each returns the
    result, its findings and what it wrote besides dist/."""
    from lpack.commands.build import build_out

    if args.sam_build_dir is not None:
        if args.changed_since is not None:
            raise UsageError("--changed-since and --sam-build-dir: sam deploy needs every function in the build "
                             "folder; give one", tip="build with --changed-since, then check with `lpack plan`")
        if args.out is not None:
            raise UsageError("--out and --sam-build-dir both say where the unzipped packages go; give one")
        template = args.template or args.project
        if not template.is_file():
            raise UsageError(f"--sam-build-dir needs a SAM/CloudFormation template; {template} is not a file",
                             tip="lpack build template.yaml --sam-build-dir .aws-sam/build")

        def sam(progress: Any) -> tuple[Any, list[Finding], list[str]]:
            from lpack.commands.sam import build_sam_dir

            result, findings, out = build_sam_dir(template, args.sam_build_dir, options, *codes, progress,
                                                  config=args.config)
            wrote = [f"{u.folder} ({u.files} files)" for u in out.unpacked]
            return result, findings, wrote + ([f"{out.template} (for sam deploy)"] if out.template else []) + \
                _attest(args, options, result)
        return sam

    def plain(progress: Any) -> tuple[Any, list[Finding], list[str]]:
        result, findings, unpacked = build_out(args.project, args.template, args.config, options, *codes,
                                               progress, out=args.out, changed_since=args.changed_since)
        return result, findings, [f"{u.folder} ({u.files} files)" for u in unpacked] + _attest(args, options, result)
    return plain


def _attest(args: argparse.Namespace, options: Any, result: Any) -> list[str]:
    """--sbom / --provenance: what `lpack build` wrote beside each zip in dist/."""
    if args.sbom is None and not args.provenance:
        return []
    from lpack.commands.build import load_project
    from lpack.commands.sbom import attest

    dist = load_project(args.project, args.template, args.config, options).dist
    built = [a for a in result.artifacts if a.path.is_relative_to(dist)]
    parameters = {"installer": options.installer, "as_layer": options.as_layer, "slim": options.slim,
                  "layers": [p.name for p in options.layers]}
    return attest(built, dist, args.sbom, args.provenance, parameters)


def _cache(args: argparse.Namespace) -> int:
    from lpack.core.cache import default_root

    if args.cache_command == "dir":
        print(args.cache_dir or default_root())
        return 0
    if args.cache_command == "prune":
        return _cache_prune(args)
    import json

    from lpack.bundle.builder import BuildOptions
    from lpack.commands.cache import keys

    options = BuildOptions(runtime=args.runtime, architecture=args.architecture, installer=args.installer,
                           as_layer=args.as_layer, functions=tuple(args.function))
    found = keys(args.project, args.template, args.config, options)
    if args.combined:
        print(found["combined"])
    elif args.format == "json":
        print(json.dumps(found, indent=2))
    else:
        width = max((len(u["name"]) for u in found["units"]), default=0)
        for unit in found["units"]:
            target = f"{unit['runtime']} {unit['architecture']}"
            print(f"{unit['name']:<{width}}  {target:<18}  {unit['key'] or '- (no dependencies)'}")
        print(f"{'combined':<{width}}  {'':<18}  {found['combined']}")
    return 0


def _cache_prune(args: argparse.Namespace) -> int:
    from lpack.commands.cache import parse_age, parse_size, prune
    from lpack.core.units import human_bytes

    if args.older_than is None and args.max_size is None:
        raise UsageError("lpack cache prune: say what to remove", tip="--older-than 30d, --max-size 5G, or both")
    older = parse_age(args.older_than) if args.older_than is not None else None
    size = parse_size(args.max_size) if args.max_size is not None else None
    done = prune(args.cache_dir, older, size, dry_run=args.dry_run)
    verb = "would remove" if args.dry_run else "removed"
    for entry in done.removed:
        print(f"{verb} {entry.key[:16]}  {human_bytes(entry.size_bytes)}")
    for entry in done.kept_in_use:
        print(f"kept {entry.key[:16]}  {human_bytes(entry.size_bytes)} (in use)")
    freed = sum(e.size_bytes for e in done.removed)
    wheels = len(done.wheels_removed)
    also = f" and {wheels} downloaded wheel{'s' * (wheels != 1)}, {human_bytes(sum(e.size_bytes for e in done.wheels_removed))}" \
        if wheels else ""
    if records := len(done.records_removed):
        also += f" and {records} record{'s' * (records != 1)} (stamps, memos), " \
                f"{human_bytes(sum(e.size_bytes for e in done.records_removed))}"
    print(f"{verb} {len(done.removed)} dependency set{'s' * (len(done.removed) != 1)}, {human_bytes(freed)}{also}; "
          f"{human_bytes(done.remaining_bytes)} left")
    return 0


def _plan(args: argparse.Namespace) -> int:
    from lpack.commands.plan import plan_project

    sys.stdout.write(plan_project(args.project, args.config, tuple(args.function), args.runtime,
                                  args.architecture, args.changed_since, args.format))
    return 0


def _policy(args: argparse.Namespace) -> int:
    from lpack.commands.policy import policy, render

    suggested = policy(args.project, args.function, args.config)
    sys.stdout.write(render(suggested, args.format))
    if suggested.unresolved and args.format == "text":
        sys.stderr.write(f"lpack: {suggested.unresolved} AWS calls lpack could not follow are not in the policy "
                         "(`lpack policy --format json` lists them)\n")
    if suggested.unscoped and args.format == "text":
        sys.stderr.write(f"lpack: the code names no resource for {', '.join(suggested.unscoped)}: its Resource is every "
                         "resource of the type; replace it with the ARNs the function uses\n")
    return 0


def _sam_makefile(args: argparse.Namespace) -> int:
    from lpack.commands.sam import sam_makefile

    results, edits = sam_makefile(args.template, tuple(args.function))
    if args.quiet:
        return 0
    for made in results:
        state = "wrote" if made.changed else "up to date:"
        targets = ", ".join(f"build-{name}" for name in made.functions)
        sys.stdout.write(f"lpack: {state} {made.makefile} ({targets})\n")
    for edit in edits:
        sys.stdout.write(f"{args.template}:{edit.line}: Resources.{edit.function}: {edit.advice}\n")
    if edits:
        sys.stdout.write("then `sam build` builds these functions with lpack, and `sam deploy` deploys them as before\n")
    return 0


def _check(args: argparse.Namespace) -> int:
    from lpack.commands.check import CheckOptions, check_and_decide

    options = CheckOptions(
        handler=args.handler, runtime=args.runtime, architecture=args.architecture, kind=args.kind,
        layers=tuple(args.layers), env=args.env, events=tuple(args.events),
        async_events=tuple(args.async_events), functions=tuple(args.function), config=args.config,
        policy_kind=args.policy_kind, role=tuple(args.role), role_inline=tuple(args.role_inline),
        source=args.files, note=_noter(args.quiet), looked=lambda what, origin: looked.append((what, origin)),
    )
    looked: list[tuple[str, str]] = [("role", "json")] if args.role else []
    paths = args.paths
    if args.files:
        from lpack.inputs.changed import targets

        found = targets(args.paths)
        paths = [*found.projects, *found.policies]
        options = options._replace(changed=tuple(args.paths))  # only the functions the files belong to
        if not paths:
            reporter(args.format, args.color).nothing_to_check(sys.stdout, args.quiet)
            return 0
    mapped = None
    if args.size_report is not None:  # refused before anything is checked when no .zip is given
        from lpack.report.size_html import of_zips, write_size_report

        mapped = of_zips(paths, args.kind or "function")
    findings = check_and_decide(paths, options, _codes(args.select), _codes(args.ignore))
    if args.size_report is not None and mapped is not None:
        write_size_report(args.size_report, mapped)
    reporter(args.format, args.color).check(sys.stdout, findings, args.quiet, looked)
    return 0 if args.exit_zero else _exit_code(findings, args.strict)


def _noter(quiet: bool) -> Callable[[str], None]:
    def note(message: str) -> None:
        if not quiet:
            sys.stderr.write(f"lpack: note: {message}\n")

    return note


def _invoke(args: argparse.Namespace) -> int:
    from lpack.invoke.runner import InvokeOptions, invoke
    from lpack.report import invocation as report

    options = InvokeOptions(
        function=args.function, events=tuple(args.events), payload=args.payload, sample=args.sample,
        invocation=args.invocation, handler=args.handler, layers=tuple(args.layers), runtime=args.runtime,
        architecture=args.architecture, memory_mb=args.memory_mb, timeout_s=args.timeout_s, env=args.env,
        pass_env=tuple(args.pass_env), python=args.python, enforce_memory=args.enforce_memory,
        build=args.build, config=args.config, region=args.region, cache_dir=args.cache_dir,
        snapstart=args.snapstart, tenant_id=args.tenant_id,
    )

    def note(message: str) -> None:
        sys.stderr.write(f"lpack: note: {message}\n")

    if args.format == "json":
        run = invoke(args.target, options, note=note)
        sys.stdout.write(report.render_json(run) + "\n")
        return 0 if run.ok else 1
    from lpack.report.text import ProgressPrinter

    shown: list[Any] = []

    def show(plan: Any, interpreter: Any, invocation: Any) -> None:
        sys.stdout.write(("\n" if shown else "") + report.render_text(invocation, plan, interpreter.full_version) + "\n")
        sys.stdout.flush()
        shown.append(invocation)

    with ProgressPrinter(quiet=args.quiet) as progress:
        run = invoke(args.target, options, progress, note, on_result=show)
    return 0 if run.ok else 1


def _serve(args: argparse.Namespace) -> int:
    from lpack.commands.serve import ServeOptions, serve
    from lpack.invoke.runner import InvokeOptions
    from lpack.report import serving
    from lpack.report.text import ProgressPrinter

    invoke = InvokeOptions(
        runtime=args.runtime, architecture=args.architecture, memory_mb=args.memory_mb, timeout_s=args.timeout_s,
        env=args.env, pass_env=tuple(args.pass_env), python=args.python, config=args.config, region=args.region,
        cache_dir=args.cache_dir)
    options = ServeOptions(host=args.host, port=args.port, allow_remote=args.allow_remote,
                           concurrency=args.concurrency, event_shape=args.event_shape, debug_port=args.debug_port,
                           reload=args.reload, invoke=invoke)
    note = _noter(args.quiet >= 2)

    def served(record: Any) -> None:
        if args.quiet >= 2:
            return
        text = serving.access_line(record) if args.quiet else serving.served_text(record)
        sys.stdout.write(text + "\n")
        sys.stdout.flush()

    def ready(what: Any) -> None:
        sys.stdout.write(serving.ready_text(what) + "\n")
        sys.stdout.flush()

    with ProgressPrinter(quiet=args.quiet > 0) as progress:
        starting = [True]

        def progress_while_starting(unit: str, message: str) -> None:
            if starting[0]:
                progress(unit, message)

        def ready_then_quiet(what: Any) -> None:
            starting[0] = False
            if progress.status is not None:
                progress.status.stop()
            ready(what)

        serve(args.target, options, served, ready_then_quiet, progress_while_starting, note)
    return 0


def _lock(args: argparse.Namespace) -> int:
    from lpack.commands.lock import LockOptions, lock_project
    from lpack.inputs.detect import load
    from lpack.report.text import ProgressPrinter

    project = load(args.project, args.config)[0]  # a project, or a SAM/CloudFormation template's functions
    options = LockOptions(runtime=args.runtime, architecture=args.architecture, functions=tuple(args.function),
                          upgrade=args.upgrade, upgrade_packages=tuple(args.upgrade_package), format=args.format)
    with ProgressPrinter(quiet=args.quiet) as progress:
        results = lock_project(project, options, progress)
    reporter("text").locked(sys.stdout, results)
    return 0


def _validate_config(args: argparse.Namespace) -> int:
    from lpack.commands.validate import validate

    for project in validate(args.files):
        if not args.quiet:
            reporter("text").validated(sys.stdout, project)
    return 0


def _events(args: argparse.Namespace) -> int:
    from lpack.inputs.events import names, sample, sample_json

    if args.name is None:
        reporter("text").events(sys.stdout, [sample(name) for name in names()])
        return 0
    text = sample_json(args.name)
    if args.output is None:
        sys.stdout.write(text)
        return 0
    from lpack.core.files import atomic_write_text

    atomic_write_text(args.output, text)
    sys.stderr.write(f"lpack: wrote {args.output} ({sample(args.name).summary})\n")
    return 0


def _rules(args: argparse.Namespace) -> int:
    from lpack.commands.rules import all_rules, find_rule

    if args.code:
        reporter(args.format).rule(sys.stdout, find_rule(args.code))
    else:
        reporter(args.format).rules(sys.stdout, all_rules())
    return 0


def _platform() -> str:
    import platform  # only an internal error report needs it

    return f"{platform.python_version()}, {platform.platform()}"


def _terraform_external(args: argparse.Namespace) -> int:
    import json
    import os

    from lpack.commands.terraform import run

    if sys.stdin.isatty():
        raise UsageError("terraform-external reads the query on stdin, as Terraform's external data source "
                         "sends it: echo '{\"project\": \".\"}' | lpack terraform-external")
    text = sys.stdin.read()
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)  # stdout is the result alone: whatever an installer prints goes to stderr
    try:
        result, findings = run(text, Path.cwd())
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
    for f in findings:  # Terraform shows stderr only on failure (and in its TRACE log)
        sys.stderr.write(f"lpack: {f.severity.value}: {f.code} {f.message}\n")
    sys.stdout.write(json.dumps(result, sort_keys=True) + "\n")
    return 0


_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "build": _build, "plan": _plan, "check": _check, "invoke": _invoke, "events": _events,
    "validate-config": _validate_config, "lock": _lock, "rules": _rules, "sam-makefile": _sam_makefile,
    "terraform-external": _terraform_external, "cache": _cache, "serve": _serve, "policy": _policy,
    "sbom": _sbom, "audit": _audit,
}
