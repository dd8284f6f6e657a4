"""``ddkit diff``: the bring-down comparison of two JSON reports."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..severity import SEVERITIES, count_at_or_above
from ..text import printable
from .common import EXIT_FINDINGS, EXIT_OK, check_outputs


@click.command()
@click.argument("before", type=click.Path())
@click.argument("after", type=click.Path())
@click.option("--out", type=click.Path(dir_okay=False), help="Write the comparison workbook here (.xlsx).")
@click.option("--fail-on", type=click.Choice(SEVERITIES, case_sensitive=False),
              help="Exit 1 when a NEW finding is at or above this severity.")
@click.option("--quiet", is_flag=True)
def diff(before, after, out, fail_on, quiet) -> None:
    """Bring-down comparison of two JSON reports: new, resolved and changed findings."""
    from ..report.diff import diff_reports, load_report, write_diff_workbook
    from ..report.paths import check_paths
    check_outputs(out)
    check_paths({"xlsx": out} if out else {}, [("BEFORE", before), ("AFTER", after)])
    b, a = load_report(before), load_report(after)
    df = diff_reports(b, a)
    if out:
        from ..fsutil import unwritable_as_input_error
        with unwritable_as_input_error(out, "the comparison workbook"):
            write_diff_workbook(df, b, a, Path(out))
    if not quiet:
        counts = df["change"].value_counts().to_dict() if len(df) else {}
        click.echo(f"ddkit diff: {counts.get('new', 0)} new, {counts.get('changed', 0)} changed, "
                   f"{counts.get('resolved', 0)} resolved findings, {counts.get('status', 0)} triage status changes")
        for r in df.head(20).itertuples():
            st = f" ({r.status_before} -> {r.status_after})" if r.change == "status" else ""
            click.echo(f"  {r.change:<8} {r.severity:<8} {r.rule:<30} {printable(r.subject)}{st}")
    new = df[df["change"] == "new"] if len(df) else df
    if fail_on and count_at_or_above(new, fail_on.lower()):
        sys.exit(EXIT_FINDINGS)
    sys.exit(EXIT_OK)
