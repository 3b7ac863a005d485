"""Human output with rich: progress on stderr, the artifact table, largest packages, findings."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from lpack.analysis.package import display_path
from lpack.core import limits
from lpack.core.findings import Finding, Location, Severity
from lpack.core.select import describe_left_out
from lpack.core.units import human_bytes

if TYPE_CHECKING:
    from rich.console import Console

_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def console(stderr: bool = False, file: TextIO | None = None, color: str = "auto") -> Console:
    from rich.console import Console

    # rich honours NO_COLOR and FORCE_COLOR, and drops styling when the stream is not a terminal;
    # --color always/never overrides both.
    stream = file or (sys.stderr if stderr else sys.stdout)
    return Console(stderr=stderr, file=file, highlight=False, soft_wrap=False,
                   width=None if stream.isatty() else 200, no_color=True if color == "never" else None,
                   force_terminal={"always": True, "never": False}.get(color))


class ProgressPrinter:
    """Progress on stderr: a spinner on a terminal, one plain line per step otherwise."""

    def __init__(self, quiet: bool = False) -> None:
        self.err = console(stderr=True)
        self.quiet = quiet
        self.status: Any = None

    def __enter__(self) -> ProgressPrinter:  # noqa: PYI034
        if not self.quiet and self.err.is_terminal:
            self.status = self.err.status("lpack: starting")
            self.status.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.status is not None:
            self.status.__exit__(*exc)

    def __call__(self, unit: str, message: str) -> None:
        if self.quiet:
            return
        if self.status is not None:
            self.status.update(f"[bold]{unit}[/]: {message}")
        else:
            self.err.print(f"{unit}: {message}", markup=False)


def _percent(size: int, limit: int) -> str:
    return f"{human_bytes(size)} {size / limit:>4.0%}"


def _zipped(artifact: Any) -> str:
    """The zip's size against the 50 MB direct-upload quota, which an S3 upload does not have
    (LP101 says the same): there, only the 250 MB unzipped quota applies."""
    if getattr(artifact, "upload", "direct") == "s3":
        return f"{human_bytes(artifact.size_zipped)} (S3)"
    return _percent(artifact.size_zipped, limits.ZIPPED_SIZE.value)


NEAR_FRACTION = 0.8  # of a limit: the text report points at the size map


def near_limit(artifact: Any) -> bool:
    """Whether the package is over 80% of a limit that applies to it."""
    zipped = getattr(artifact, "upload", "direct") != "s3" and \
        artifact.size_zipped > NEAR_FRACTION * limits.ZIPPED_SIZE.value
    return bool(zipped or artifact.size_unzipped > NEAR_FRACTION * limits.UNZIPPED_SIZE.value)


def _slim_line(artifact: Any) -> str:
    """``--slim saved 12.3 MB unzipped: numpy 8.0 MB, pandas 4.3 MB``."""
    saved = getattr(artifact, "slimmed", ())
    total = sum(s.size for s in saved)
    biggest = ", ".join(f"{s.package} {human_bytes(s.size)}" for s in saved[:6])
    more = f" and {len(saved) - 6} more" if len(saved) > 6 else ""
    return f"--slim saved {human_bytes(total)} unzipped: {biggest}{more}"


def render_build(out: Console, artifacts: Sequence[Any], findings: Sequence[Finding], verbose: bool = False,
                 report: Path | None = None) -> None:
    from rich.markup import escape
    from rich.table import Table

    for artifact in artifacts:
        out.print(f"{artifact.name}: target {artifact.target.label} ({escape(_target_origin(artifact))})",
                  soft_wrap=True, highlight=False)
    if artifacts:
        table = Table(show_edge=False, pad_edge=False, box=None, header_style="bold")
        table.add_column("artifact", no_wrap=True)
        table.add_column("target", no_wrap=True)
        s3 = all(getattr(a, "upload", "direct") == "s3" for a in artifacts)
        table.add_column("zipped" if s3 else f"zipped / {human_bytes(limits.ZIPPED_SIZE.value)}", justify="right",
                         no_wrap=True)
        table.add_column(f"unzipped / {human_bytes(limits.UNZIPPED_SIZE.value)}", justify="right", no_wrap=True)
        table.add_column("files", justify="right", no_wrap=True)
        table.add_column("deps", no_wrap=True)
        for a in artifacts:
            kind = " (layer)" if a.kind == "layer" else ""
            table.add_row(escape(a.name) + kind, a.target.label,
                          _zipped(a),
                          _percent(a.size_unzipped, limits.UNZIPPED_SIZE.value),
                          f"{a.files:,}", a.dependencies)
        out.print(table)
        for a in artifacts:
            # two lines that fit 80 columns; the base64 form is the source_code_hash after the build
            out.print(f"{a.name}: {escape(display_path(a.path))}\n  sha256 {a.sha256}", soft_wrap=True)
            if a.dependency_source:
                out.print(f"{a.name}: dependencies from {escape(a.dependency_source)}", soft_wrap=True, highlight=False)
            if verbose:
                out.print(f"{a.name}: dependencies: {_dependency_state(a)}", soft_wrap=True, highlight=False)
            if a.left_out and verbose:
                out.print(f"{a.name}: left out by default: {escape(describe_left_out(a.left_out))}; "
                          "include = \\[...] brings them back", soft_wrap=True, highlight=False)
            if len(a.largest) > 1 or verbose:
                biggest = ", ".join(f"{escape(name)} {human_bytes(size)}" for name, size in a.largest[:6])
                out.print(f"{a.name}: largest (unzipped): {biggest}", soft_wrap=True)
            if getattr(a, "slimmed", ()):
                out.print(f"{a.name}: {escape(_slim_line(a))}", soft_wrap=True, highlight=False)
            if near_limit(a):
                where = escape(display_path(report)) if report is not None else "lpack build --report size.html"
                out.print(f"{a.name}: over 80% of a limit: see what takes the room in {where}",
                          soft_wrap=True, highlight=False)
    render_findings(out, findings)


def _dependency_state(artifact: Any) -> str:
    """Under -v: whether this build installed the dependencies or reused the cache's install."""
    if getattr(artifact, "fetched", False):
        return "in the package from the remote cache (built elsewhere from the same inputs; nothing built here)"
    if artifact.dependencies == "cached":
        return "cached (nothing installed)"
    if artifact.dependencies == "remote":
        return "from the remote cache (nothing installed)"
    if artifact.dependencies == "installed":
        return f"installed {_plural(artifact.packages, 'package')}"
    return "none"


def _target_origin(artifact: Any) -> str:
    """Where the build's runtime came from, and why the project's Python settings did not decide it."""
    if artifact.target_defaulted:
        origin = "the default"
        advice = ["set runtime and architecture in [tool.lpack] or pass --runtime/--arch"]
    else:
        origin, advice = f"from {artifact.target_source}", []
    return "; ".join([origin, *artifact.target_passed_over, *advice])


def next_steps(artifacts: Sequence[Any], elapsed_s: float | None) -> str:
    """After a build: how long it took, how to run it, and the hash a deploy tool wants
    (Terraform's ``source_code_hash``, CloudFormation's ``CodeSha256``: the sha256 in base64)."""
    if not artifacts:
        return ""
    lines = [f"built {_plural(len(artifacts), 'artifact')} in {elapsed_s:.1f} s"] if elapsed_s is not None else []
    functions = [a.name for a in artifacts if a.kind == "function"]
    if functions:
        lines.append(f"next: lpack invoke {functions[0]} -e events/EVENT.json (a sample: lpack events)")
    lines += [f'{a.name}: source_code_hash = "{a.sha256_base64}"' for a in artifacts]
    return "".join(line + "\n" for line in lines)


def render_findings(out: Console, findings: Sequence[Finding]) -> None:
    """Findings after a build, as `lpack check` prints them, coloured when the console is."""
    from rich.text import Text

    for f in sorted(findings, key=_check_order):
        out.print(Text.from_ansi(finding_line(f, color=True)), soft_wrap=True)


def _where(where: Location) -> str:
    """``file:line:col`` as linters print it (clickable in editors and CI logs); a zip's entry
    follows the zip, ``dist/fn.zip:app.py:3``."""
    return ":".join(str(part) for part in (where.file, where.entry, where.line, where.column) if part)


def finding_line(f: Finding, color: bool = False) -> str:
    """``path:line:col: LP301 error message (fix: ...)``: the severity is a word, colour or not."""
    from lpack.report._style import paint

    head = paint(f"{f.code} {f.severity.value}", _STYLE[f.severity], color)
    fix = paint(f" (fix: {f.fix})", "dim", color) if f.fix else ""
    return f"{paint(_where(f.location), 'bold', color)}: {head} {f.message}{fix}"


def _check_order(f: Finding) -> tuple[str, str, int, int, str]:
    """By file (a zip's entries right after the zip), line and column, then code."""
    return (f.location.file, f.location.entry or "", f.line or 0, f.column or 0, f.code)


def findings_text(findings: Sequence[Finding], color: bool = False) -> str:
    return "".join(finding_line(f, color) + "\n" for f in sorted(findings, key=_check_order))


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 or word == "info" else f"{count} {word}s"


def counts_text(findings: Sequence[Finding]) -> str:
    """``2 errors, 1 warning``: only the severities present; ``no findings`` when there are none."""
    counts = [(sum(1 for f in findings if f.severity is s), s.value) for s in Severity]
    return ", ".join(_plural(n, word) for n, word in counts if n) or "no findings"


_LOOKED = {("package", "zip"): ("package .zip", "package .zips"), ("policy", "json"): ("IAM policy", "IAM policies"),
           ("role", "json"): ("execution role", "execution roles")}


def _looked_at(what: str, origins: list[str]) -> str:
    """``3 functions: 2 from dist/*.zip, 1 from source``, or ``1 layer from source``."""
    singular, plural = _LOOKED.get((what, origins[0]), (what, what + "s"))
    noun = singular if len(origins) == 1 else plural
    if (what, origins[0]) in _LOOKED:
        return f"{len(origins)} {noun}"
    counts = {origin: origins.count(origin) for origin in origins}
    if len(counts) == 1:
        return f"{len(origins)} {noun} from {origins[0]}"
    return f"{len(origins)} {noun}: " + ", ".join(f"{n} from {origin}" for origin, n in counts.items())


def summary(findings: Sequence[Finding], looked: Sequence[tuple[str, str]]) -> str:
    """What was looked at, then what was found: ``checked 3 functions: 2 from dist/*.zip, 1 from
    source; 2 errors, 1 warning``. Nothing looked at is never "no findings"."""
    if not looked:
        return counts_text(findings) if findings else "nothing was checked"
    kinds: dict[str, list[str]] = {}
    for what, origin in looked:
        kinds.setdefault(what, []).append(origin)
    return "checked " + "; ".join(_looked_at(w, o) for w, o in kinds.items()) + "; " + counts_text(findings)


def _lenient(out: TextIO) -> TextIO:
    """``out``, made to escape what its encoding cannot show (``caf\\xe9.py`` under
    ``PYTHONIOENCODING=ascii`` or a C locale) instead of failing after the work is done."""
    reconfigure = getattr(out, "reconfigure", None)
    if reconfigure is not None and getattr(out, "errors", "strict") == "strict":
        try:
            reconfigure(errors="backslashreplace")
        except (ValueError, OSError):  # io.UnsupportedOperation: a stream that cannot change
            pass
    return out


class TextReporter:
    """What people read: plain lines for findings (coloured on a terminal, the severity always a
    word), rich for build tables. ``color`` is ``--color``: auto, always or never."""

    def __init__(self, color: str = "auto") -> None:
        self.color = color

    def check(self, out: TextIO, findings: Sequence[Finding], quiet: int,
              looked: Sequence[tuple[str, str]] = ()) -> None:
        """``quiet`` 1 (``-q``): findings only; 2 (``-qq``): nothing. Rich is never imported here:
        `lpack check` in a pre-commit hook starts fast."""
        out = _lenient(out)
        if quiet >= 2:
            return
        from lpack.report._style import wants_color

        out.write(findings_text(findings, wants_color(out, self.color)))
        if not quiet:
            out.write(summary(findings, looked) + "\n")

    def nothing_to_check(self, out: TextIO, quiet: int) -> None:
        if not quiet:
            out.write("lpack check: no Lambda project or IAM policy among these files\n")

    def build(self, out: TextIO, result: Any, findings: Sequence[Finding], verbose: bool,
              quiet: int = 0, elapsed_s: float | None = None) -> None:
        out = _lenient(out)
        if quiet:  # -q: the findings alone, as check prints them; -qq: nothing
            if quiet == 1:
                from lpack.report._style import wants_color

                out.write(findings_text(findings, wants_color(out, self.color)))
            return
        render_build(console(file=out, color=self.color), result.artifacts, findings, verbose=verbose,
                     report=getattr(result, "size_report", None))
        out.write(next_steps(result.artifacts, elapsed_s))

    def rules(self, out: TextIO, rules: Sequence[Any]) -> None:
        out.writelines(f"{r.code}  {r.name:<28} {r.severity.value}\n" for r in rules)

    def rule(self, out: TextIO, rule: Any) -> None:
        out.write(f"{rule.code} {rule.name} ({rule.severity.value})\n\n{rule.doc}\n")
        if rule.source:
            out.write(f"\nSource: {rule.source}\n")

    def locked(self, out: TextIO, results: Sequence[Any]) -> None:
        out = _lenient(out)
        for result in results:
            state = "updated" if result.changed else "unchanged"
            out.write(f"{display_path(result.output)}: {result.packages} package(s) for {result.target} "
                      f"from {display_path(result.input)} ({state})\n")

    def events(self, out: TextIO, samples: Sequence[Any]) -> None:
        out.writelines(f"{s.name:<32} {s.invocation:<5}  {s.summary}\n" for s in samples)

    def validated(self, out: TextIO, project: Any) -> None:
        out = _lenient(out)
        if isinstance(project, Path):  # a pyproject.toml that is not lpack's
            out.write(f"{project}: no [tool.lpack] table; nothing to validate\n")
            return
        functions = sum(1 for u in project.units if u.kind == "function")
        out.write(f"{project.describe()}: valid ({functions} function(s), {len(project.units) - functions} layer(s))\n")
