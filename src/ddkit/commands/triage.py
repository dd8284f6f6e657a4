"""``ddkit triage``: counsel's decisions about findings, read from a workbook into the triage file."""

from __future__ import annotations

from pathlib import Path

import click

from ..text import printable
from .common import fail


@click.group()
def triage() -> None:
    """Counsel's decisions about findings (accepted, false positive, resolved), kept across re-scans."""


@triage.command("import")
@click.argument("workbook", type=click.Path(dir_okay=False))
@click.option("--triage", "triage_path", type=click.Path(dir_okay=False),
              help="The triage file to update (created when missing); default .ddkit/triage.yaml in the current "
                   "folder, which a scan run from here reads by default.")
def triage_import(workbook: str, triage_path: str | None) -> None:
    """Read the statuses typed into WORKBOOK's Findings, Triaged and Remediation sheets into the triage file."""
    from ..triage import default_path, import_workbook, load_triage, write_triage
    if not Path(workbook).is_file():
        raise fail(f"{workbook}: no such file")
    target = Path(triage_path) if triage_path else default_path()
    existing = load_triage(target) if target.is_file() else {}
    entries, n = import_workbook(workbook, existing)
    write_triage(target, entries)
    shown = target if triage_path else target.resolve()
    click.echo(f"ddkit triage: {n} decision{'s' if n != 1 else ''} read from {printable(workbook)}; "
               f"{len(entries)} in {printable(str(shown))}")
    from ..gitutil import work_tree_of
    repo = work_tree_of(target.parent)
    if repo:
        # A triage file inside a repository is that repository's own as far as a scan of it is concerned.
        click.echo(f"  note: {printable(str(shown))} is inside the git repository {printable(repo)}: a scan of that "
                   f"repository applies it only when named: --triage {printable(str(shown))}")
    elif not triage_path:
        click.echo("  a scan run from this folder applies them (or name the file: --triage FILE)")
