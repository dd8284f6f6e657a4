"""``ddkit scan-many``: a portfolio of repositories, one workbook and one JSON for all of them."""

from __future__ import annotations

import sys

import click

from ..gitutil import strip_credentials
from ..severity import count_at_or_above
from ..text import printable
from .common import (
    EXIT_FINDINGS,
    EXIT_OK,
    RunOptions,
    check_run_paths,
    fail,
    progress_for,
    scan_options,
    warn_cache_writes,
    write_reports,
)


@click.command("scan-many")
@click.argument("repo_list", type=click.Path())
@scan_options
@click.option("--dask", help="Run on a Dask cluster: a scheduler ADDRESS, or 'local' for a local cluster.")
def scan_many_cmd(repo_list: str, dask: str | None, **kw) -> None:
    """Scan every repository listed in REPO_LIST (one path or URL per line, optionally a ref and company=FILE)."""
    from ..portfolio import read_list, scan_many
    from ..report import write_portfolio
    o = RunOptions.from_flags(kw)
    for fmt in ("spdx", "notices"):   # per repository only: refused before any scanning
        if fmt in o.outputs:
            raise fail(f"--{fmt.replace('spdx', 'spdx-out').replace('notices', 'notices-out')} is written per "
                       "repository: use ddkit scan (scan-many writes one CycloneDX document with --sbom-out)")
    check_run_paths(o, ("REPO_LIST", repo_list))
    specs = read_list(repo_list)
    inputs = dict(o.inputs)
    ref = inputs.pop("ref")
    if ref != "HEAD":
        specs = [(sp[0], ref if sp[1] == "HEAD" else sp[1], *sp[2:]) for sp in specs]
    progress = progress_for(o.quiet)
    with progress.stage("repositories", total=len(specs)):
        try:
            p = scan_many(specs, dask=dask, progress=progress, **inputs)
        finally:
            progress.close()
    write_reports(o, write_portfolio, p)
    warn_cache_writes()
    repos = p.repositories
    if not o.quiet:
        ok = int((repos.status == "ok").sum())
        click.echo(f"ddkit: {len(repos)} repositories, {ok} scanned, {len(repos) - ok} failed")
        shown = p.pseudonymized().repositories if o.pseudonymize and ok < len(repos) else repos  # messages may name people
        for r, e in zip(shown.loc[shown.status == "failed", "repo"], shown.loc[shown.status == "failed", "error"]):
            click.echo(f"  failed: {printable(strip_credentials(r) or r)}: {printable(strip_credentials(e) or e)}")
        for label, fmt in (("workbook", "xlsx"), ("json", "json")):
            if fmt in o.outputs:
                click.echo(f"  {label}: {printable(o.outputs[fmt])}")
    if len(repos) and (repos.status == "failed").all():
        raise fail("no repository could be scanned")
    from ..triage import counted
    if o.fail_on and count_at_or_above(counted(p.findings), o.fail_on.lower()):
        sys.exit(EXIT_FINDINGS)
    sys.exit(EXIT_OK)
