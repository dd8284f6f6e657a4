"""``ddkit roster``: a first roster to fill in, and a check that lists every problem at once."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .common import EXIT_OK, Group, fail, progress_for


@click.group(cls=Group)
def roster() -> None:
    """Write a roster to fill in (init) and check a roster (check)."""


@roster.command("init")
@click.argument("repo", type=click.Path())
@click.option("--company", type=click.Path(dir_okay=False), help="Company profile (YAML): its domains suggest the type.")
@click.option("--rules", "rules_dir", type=click.Path(file_okay=False), help="Folder of rules YAML overriding the defaults.")
@click.option("--ref", default="HEAD", show_default=True, help="Ref whose history to read.")
@click.option("-o", "--out", "out", required=True, type=click.Path(dir_okay=False), help="roster.xlsx or roster.csv")
@click.option("--quiet", is_flag=True, help="Print only errors.")
@click.option("--allow-other-owner", is_flag=True, help="Read a repository another user owns (see scan).")
def roster_init_cmd(repo: str, company: str | None, rules_dir: str | None, ref: str, out: str, quiet: bool,
                    allow_other_owner: bool) -> None:
    """One row per person in REPO's history (bots left out), most surviving lines first, to fill in."""
    from ..roster_init import init_roster
    if Path(out).suffix.lower() not in (".csv", ".xlsx"):
        raise fail(f"{out}: the roster must be written as .csv or .xlsx")
    progress = progress_for(quiet)
    try:
        df, notes = init_roster(repo, out, company=company, ref=ref, rules=rules_dir, progress=progress,
                                allow_other_owner=allow_other_owner)
    finally:
        progress.close()
    if not quiet:
        unknown = int((df["type"] == "unknown").sum()) if len(df) else 0
        click.echo(f"ddkit: roster of {len(df)} people written to {out} ({unknown} of unknown type); "
                   f"fill in type, dates and ip_assignment, then: ddkit roster check {out}")
        if not company:
            click.echo("  note: no --company profile: no type could be suggested from company or vendor domains")
        for n in notes:
            click.echo(f"  note: {n}")
    sys.exit(EXIT_OK)


@roster.command("check")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--quiet", is_flag=True, help="Print only errors.")
def roster_check_cmd(file: str, quiet: bool) -> None:
    """Validate a roster and list every problem (all rows); exit 2 if there is any."""
    from ..roster import check_roster, format_gaps, roster_gaps
    df, problems = check_roster(file)
    if problems:
        for line in problems:
            click.echo(line)
        raise fail(f"{file}: {len(problems)} problem{'s' if len(problems) != 1 else ''} in the roster")
    if not quiet:
        click.echo(f"roster OK: {len(df)} people")
        for line in format_gaps(roster_gaps(df)):
            click.echo(line)
    sys.exit(EXIT_OK)
