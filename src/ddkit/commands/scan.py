"""``ddkit scan``: one repository, the reports asked for, a summary on the terminal."""

from __future__ import annotations

import functools
import sys

import click

from ..severity import count_at_or_above
from .common import (
    EXIT_FINDINGS,
    EXIT_OK,
    RunOptions,
    check_run_paths,
    progress_for,
    scan_options,
    warn_cache_writes,
    write_reports,
)


@click.command()
@click.argument("repo", type=click.Path())
@scan_options
def scan(repo: str, **kw) -> None:
    """Scan one repository and write the reports asked for."""
    sys.exit(run_scan(repo, RunOptions.from_flags(kw)))


def run_scan(repo: str, o: RunOptions) -> int:
    """Scan *repo*, write the reports and print the summary; the exit code (``scan`` and ``demo``)."""
    from . import common
    if common.OWN_PROCESS:
        # The command line's own process (cli.run), for one scan: the cyclic garbage collector is off from
        # here, for the imports and the scan, whose tables hold few reference cycles, and what the imports
        # built is frozen (scan-many keeps the collector on: one process scans many repositories there).
        # Kept by #26 because it alone measured about 10-12% of a re-scan's CPU (docs/performance.md,
        # "Process tricks removed (#26)").
        import gc
        gc.disable()
    from ..pipeline import scan as do_scan
    from ..report import write
    if common.OWN_PROCESS:
        gc.freeze()
    check_run_paths(o)
    progress = progress_for(o.quiet)
    try:
        s = do_scan(repo, progress=progress, **o.inputs)
    finally:
        progress.close()
    write_reports(o, functools.partial(write, reuse=True), s)
    if not o.quiet:
        from ..report.console import print_summary
        shown = s
        if o.pseudonymize:     # the console too: it ends up in CI logs and screen shares
            import dataclasses

            from ..report.pseudonym import console_lines
            shown = dataclasses.replace(s, warnings=console_lines(s, s.warnings))
        print_summary(shown, out=o.outputs.get("xlsx"), json_path=o.outputs.get("json"), sarif=o.outputs.get("sarif"))
        _print_roster_gaps(s, o.pseudonymize)
    warn_cache_writes()
    from ..triage import counted
    if o.fail_on and count_at_or_above(counted(s.findings), o.fail_on.lower()):
        return EXIT_FINDINGS
    return EXIT_OK


def _print_roster_gaps(s, pseudonymize: bool = False) -> None:
    """After a scan with a roster: the rows and cells still to fill in, most material first."""
    from ..roster import format_gaps, roster_gaps
    if s.roster is not None and len(s.roster):
        lines = format_gaps(roster_gaps(s.roster, s.people))
        if pseudonymize and lines:
            from ..report.pseudonym import console_lines
            lines = console_lines(s, lines)
        for line in lines:
            click.echo(line)
