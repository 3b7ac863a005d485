"""Human output with rich: progress on stderr, the artifact table, largest packages, findings."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

from lpack.analysis.package import display_path
from lpack.core import limits
from lpack.core.findings import Finding, Location, Severity
from lpack.core.select import describe_left_out
from lpack.core.units import human_bytes

if TYPE_CHECKING:
    from rich.console import Console

_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def console(stderr: bool = False, file: TextIO | None = None) -> Console:
    from rich.console import Console

    # rich honours NO_COLOR and FORCE_COLOR, and drops styling when the stream is not a terminal.
    stream = file or (sys.stderr if stderr else sys.stdout)
    return Console(stderr=stderr, file=file, highlight=False, soft_wrap=False,
                   width=None if stream.isatty() else 200)


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


def render_build(out: Console, artifacts: Sequence[Any], findings: Sequence[Finding], verbose: bool = False) -> None:
    from rich.markup import escape
    from rich.table import Table

    for artifact in artifacts:
        out.print(f"{artifact.name}: target {artifact.target.label} ({escape(_target_origin(artifact))})",
                  soft_wrap=True, highlight=False)
    if artifacts:
        table = Table(show_edge=False, pad_edge=False, box=None, header_style="bold")
        table.add_column("artifact", no_wrap=True)
        table.add_column("target", no_wrap=True)
        table.add_column(f"zipped / {human_bytes(limits.ZIPPED_SIZE.value)}", justify="right", no_wrap=True)
        table.add_column(f"unzipped / {human_bytes(limits.UNZIPPED_SIZE.value)}", justify="right", no_wrap=True)
        table.add_column("files", justify="right", no_wrap=True)
        table.add_column("deps", no_wrap=True)
        for a in artifacts:
            kind = " (layer)" if a.kind == "layer" else ""
            table.add_row(escape(a.name) + kind, a.target.label,
                          _percent(a.size_zipped, limits.ZIPPED_SIZE.value),
                          _percent(a.size_unzipped, limits.UNZIPPED_SIZE.value),
                          f"{a.files:,}", a.dependencies)
        out.print(table)
        for a in artifacts:
            out.print(f"{a.name}: {escape(display_path(a.path))} sha256 {a.sha256} (base64 {a.sha256_base64})",
                      soft_wrap=True)
            if a.dependency_source:
                out.print(f"{a.name}: dependencies from {escape(a.dependency_source)}", soft_wrap=True, highlight=False)
            if a.left_out and verbose:
                out.print(f"{a.name}: left out by default: {escape(describe_left_out(a.left_out))}; "
                          "include = \\[...] brings them back", soft_wrap=True, highlight=False)
            if len(a.largest) > 1 or verbose:
                biggest = ", ".join(f"{escape(name)} {human_bytes(size)}" for name, size in a.largest[:6])
                out.print(f"{a.name}: largest (unzipped): {biggest}", soft_wrap=True)
    render_findings(out, findings)


def _target_origin(artifact: Any) -> str:
    """Where the build's runtime came from, and why the project's Python settings did not decide it."""
    if artifact.target_defaulted:
        origin = "the default"
        advice = ["set runtime and architecture in [tool.lpack] or pass --runtime/--arch"]
    else:
        origin, advice = f"from {artifact.target_source}", []
    return "; ".join([origin, *artifact.target_passed_over, *advice])


def render_findings(out: Console, findings: Sequence[Finding]) -> None:
    from rich.markup import escape

    for f in sorted(findings, key=lambda f: (-f.severity.rank, f.path, f.code)):
        where = ":".join(_parts(f.path, f.location))
        out.print(f"{escape(where)}: [{_STYLE[f.severity]}]{f.code} {f.severity.value}[/] {escape(f.message)}"
                  + (f" [dim](fix: {escape(f.fix)})[/]" if f.fix else ""), highlight=False, soft_wrap=True)


def _parts(name: str, where: Location) -> list[str]:
    """``name:line:column``, each part only when known."""
    return [str(part) for part in (name, where.line, where.column) if part]


def _check_order(f: Finding) -> tuple[str, str, int, str]:
    """As lpack has always listed them: a zip's entries before the findings on the zip itself."""
    file, entry = f.location.file, f.location.entry
    return (file.removesuffix(".zip") if entry is not None else file, f.path, f.line or 0, f.code)


def render_check(out: Console, findings: Sequence[Finding]) -> None:
    """Findings grouped by file (a zip's entries under the zip), one line each, then a summary."""
    from rich.markup import escape

    groups: dict[str, list[Finding]] = {}
    for f in sorted(findings, key=_check_order):
        groups.setdefault(f.location.file, []).append(f)
    for file, items in groups.items():
        out.print(f"[bold]{escape(file)}[/]", soft_wrap=True)
        for f in items:
            where = ":".join(_parts(f.location.entry or "", f.location))
            out.print(f"  {escape(where) + ': ' if where else ''}[{_STYLE[f.severity]}]{f.code}[/] "
                      f"{escape(f.message)}" + (f" [dim](fix: {escape(f.fix)})[/]" if f.fix else ""),
                      highlight=False, soft_wrap=True)
    counts = {s: sum(1 for f in findings if f.severity is s) for s in Severity}
    out.print(f"{counts[Severity.ERROR]} error(s), {counts[Severity.WARNING]} warning(s), "
              f"{counts[Severity.INFO]} info in {len(groups)} file(s)")



class TextReporter:
    """What people read: rich for findings and tables (styled on a terminal), plain lines else."""

    def check(self, out: TextIO, findings: Sequence[Finding], quiet: bool) -> None:
        if findings:
            render_check(console(file=out), findings)
        elif not quiet:
            out.write("lpack check: no findings\n")  # the pre-commit path: rich is not even imported

    def nothing_to_check(self, out: TextIO, quiet: bool) -> None:
        if not quiet:
            out.write("lpack check: no Lambda project or IAM policy among these files\n")

    def build(self, out: TextIO, result: Any, findings: Sequence[Finding], verbose: bool) -> None:
        render_build(console(file=out), result.artifacts, findings, verbose=verbose)

    def rules(self, out: TextIO, rules: Sequence[Any]) -> None:
        out.writelines(f"{r.code}  {r.name:<28} {r.severity.value}\n" for r in rules)

    def rule(self, out: TextIO, rule: Any) -> None:
        out.write(f"{rule.code} {rule.name} ({rule.severity.value})\n\n{rule.doc}\n")
        if rule.source:
            out.write(f"\nSource: {rule.source}\n")

    def locked(self, out: TextIO, results: Sequence[Any]) -> None:
        for result in results:
            state = "updated" if result.changed else "unchanged"
            out.write(f"{display_path(result.output)}: {result.packages} package(s) for {result.target} "
                      f"from {display_path(result.input)} ({state})\n")

    def events(self, out: TextIO, samples: Sequence[Any]) -> None:
        out.writelines(f"{s.name:<32} {s.invocation:<5}  {s.summary}\n" for s in samples)

    def validated(self, out: TextIO, project: Any) -> None:
        functions = sum(1 for u in project.units if u.kind == "function")
        out.write(f"{project.describe()}: valid ({functions} function(s), {len(project.units) - functions} layer(s))\n")
