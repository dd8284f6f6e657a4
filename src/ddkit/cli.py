"""The ``ddkit`` command line.

Exit codes (contract): 0 scan done and nothing at or above --fail-on; 1 findings at or above --fail-on;
2 usage or input error, with one clear line on stderr and no traceback.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from . import __version__
from .config import SEVERITIES, severity_rank
from .errors import DdkitError
from .gitutil import GitError

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT = 0, 1, 2


def _fail(msg: str, code: int = EXIT_INPUT) -> "click.exceptions.Exit":
    click.echo(f"ddkit: error: {msg}", err=True)
    return click.exceptions.Exit(code)


def _progress(quiet: bool):
    from .progress import Progress
    if quiet or not sys.stderr.isatty():
        return Progress()
    from .report.console import RichProgress
    return RichProgress()


def count_at_or_above(findings, severity: str) -> int:
    if findings is None or findings.empty:
        return 0
    limit = severity_rank(severity)
    return int(sum(severity_rank(s) <= limit for s in findings["severity"]))


_scan_options = [
    click.option("--roster", type=click.Path(dir_okay=False), help="Contributor roster (CSV or XLSX)."),
    click.option("--company", type=click.Path(dir_okay=False), help="Company profile (YAML)."),
    click.option("--rules", "rules_dir", type=click.Path(file_okay=False), help="Folder of rules YAML overriding the defaults."),
    click.option("--ref", default="HEAD", show_default=True, help="Ref to scan."),
    click.option("--as-of", "as_of", help="Reference date (YYYY-MM-DD); default today."),
    click.option("--out", type=click.Path(dir_okay=False), help="Write the workbook here (.xlsx)."),
    click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Write the JSON report here."),
    click.option("--sarif", type=click.Path(dir_okay=False), help="Write SARIF 2.1.0 here."),
    click.option("--fail-on", type=click.Choice(SEVERITIES, case_sensitive=False),
                 help="Exit 1 when a finding is at or above this severity."),
    click.option("--no-licenses", is_flag=True, help="Skip the license scan (fast look)."),
    click.option("--no-secrets", is_flag=True, help="Skip the secrets scan of the history (fast look)."),
    click.option("--jobs", type=click.IntRange(min=1), help="Worker processes (default: up to 2)."),
    click.option("--quiet", is_flag=True, help="Print only results and errors."),
    click.option("--pseudonymize", is_flag=True, help="Replace people by stable pseudonyms in the reports."),
    click.option("--pseudonym-key", type=click.Path(dir_okay=False),
                 help="With --pseudonymize: also write the pseudonym-to-person key to this CSV file."),
    # deps: dependency licenses from the user's SBOMs and installed environments; a CycloneDX SBOM out
    click.option("--sbom", "sbom", multiple=True, type=click.Path(dir_okay=False),
                 help="CycloneDX or SPDX JSON to take dependency licenses from (repeatable)."),
    click.option("--environment", "environment", multiple=True, type=click.Path(),
                 help="A virtualenv or node_modules tree to read installed package licenses from (repeatable)."),
    click.option("--sbom-out", "sbom_out", type=click.Path(dir_okay=False),
                 help="Write a CycloneDX 1.6 JSON SBOM here."),
]


def scan_options(f):
    for opt in reversed(_scan_options):
        f = opt(f)
    return f


class _Group(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (DdkitError, GitError) as e:
            raise _fail(str(e)) from None
        except KeyboardInterrupt:
            raise _fail("interrupted", 130) from None
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort):
            raise
        except Exception as e:  # a bug: one line unless DDKIT_DEBUG asks for the traceback
            if os.environ.get("DDKIT_DEBUG"):
                raise
            raise _fail(f"internal error: {type(e).__name__}: {e} (set DDKIT_DEBUG=1 for details)", 3) from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ddkit")
def main() -> None:
    """Technical due diligence of git repositories: who wrote the code, and does the company own it?"""


def run_scan(repo, roster, company, rules_dir, ref, as_of, out, json_path, sarif, fail_on, no_licenses,
             jobs, quiet, pseudonymize, pseudonym_key=None, no_secrets=False, sbom=(), environment=(), sbom_out=None):
    from .scan import scan as do_scan
    progress = _progress(quiet)
    try:
        s = do_scan(repo, roster=roster, company=company, rules=rules_dir, ref=ref, as_of=as_of,
                    licenses=not no_licenses, jobs=jobs, progress=progress, secrets=not no_secrets,
                    sbom=list(sbom or ()), environment=list(environment or ()))   # deps
    finally:
        progress.close()
    if sbom_out:   # deps
        s.to_sbom(sbom_out)
    if out:
        s.to_excel(out, pseudonymize=pseudonymize)
    if json_path:
        s.to_json(json_path, pseudonymize=pseudonymize)
    if sarif:
        s.to_sarif(sarif, pseudonymize=pseudonymize)
    if pseudonym_key:
        if not pseudonymize:
            raise _fail("--pseudonym-key goes with --pseudonymize")
        from .report.pseudonym import write_key
        write_key(s, pseudonym_key)
    if not quiet:
        from .report.console import print_summary
        print_summary(s, out=out, json_path=json_path, sarif=sarif)
    if fail_on and count_at_or_above(s.findings, fail_on.lower()):
        return EXIT_FINDINGS
    return EXIT_OK


@main.command()
@click.argument("repo", type=click.Path())
@scan_options
def scan(**kw) -> None:
    """Scan one repository and write the reports asked for."""
    sys.exit(run_scan(**kw))


@main.command("scan-many")
@click.argument("repo_list", type=click.Path())
@scan_options
@click.option("--dask", help="Run on a Dask cluster: a scheduler ADDRESS, or 'local' for a local cluster.")
def scan_many_cmd(repo_list, roster, company, rules_dir, ref, as_of, out, json_path, sarif, fail_on, no_licenses,
                  no_secrets, jobs, quiet, pseudonymize, pseudonym_key, dask, sbom=(), environment=(),
                  sbom_out=None) -> None:
    """Scan every repository listed in REPO_LIST (one path or URL per line, optionally a ref)."""
    from .portfolio import read_list, scan_many
    if pseudonym_key and not pseudonymize:
        raise _fail("--pseudonym-key goes with --pseudonymize")
    specs = read_list(repo_list)
    if ref != "HEAD":
        specs = [(r, ref if rf == "HEAD" else rf) for r, rf in specs]
    progress = _progress(quiet)
    with progress.stage("repositories", total=len(specs)):
        try:
            p = scan_many(specs, roster=roster, company=company, rules=rules_dir, as_of=as_of,
                          licenses=not no_licenses, secrets=not no_secrets, jobs=jobs, dask=dask, progress=progress,
                          sbom=list(sbom or ()), environment=list(environment or ()))   # deps
        finally:
            progress.close()
    report = p.pseudonymized() if pseudonymize else p
    if sbom_out:   # deps: one CycloneDX document for the portfolio
        from .report.sbom import write_portfolio_sbom
        write_portfolio_sbom(p, Path(sbom_out))
    if out:
        report.to_excel(out)
    if json_path:
        report.to_json(json_path)
    if sarif:
        report.to_sarif(sarif)
    if pseudonym_key:
        from .report.pseudonym import mapping
        import csv
        Path(pseudonym_key).parent.mkdir(parents=True, exist_ok=True)
        with open(pseudonym_key, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["pseudonym", "person", "emails"])
            people = p.people
            for person, pseudo in mapping(people).items():
                row = people[people["person"] == person].iloc[0]
                w.writerow([pseudo, person, "; ".join(row["emails"])])
    repos = p.repositories
    if not quiet:
        ok = int((repos.status == "ok").sum())
        click.echo(f"ddkit: {len(repos)} repositories, {ok} scanned, {len(repos) - ok} failed")
        for r, e in zip(repos.loc[repos.status == "failed", "repo"], repos.loc[repos.status == "failed", "error"]):
            click.echo(f"  failed: {r}: {e}")
        for label, path in (("workbook", out), ("json", json_path)):
            if path:
                click.echo(f"  {label}: {path}")
    if len(repos) and (repos.status == "failed").all():
        raise _fail("no repository could be scanned")
    if fail_on and count_at_or_above(p.findings, fail_on.lower()):
        sys.exit(EXIT_FINDINGS)
    sys.exit(EXIT_OK)


@main.command()
@click.argument("before", type=click.Path())
@click.argument("after", type=click.Path())
@click.option("--out", type=click.Path(dir_okay=False), help="Write the comparison workbook here (.xlsx).")
@click.option("--fail-on", type=click.Choice(SEVERITIES, case_sensitive=False),
              help="Exit 1 when a NEW finding is at or above this severity.")
@click.option("--quiet", is_flag=True)
def diff(before, after, out, fail_on, quiet) -> None:
    """Bring-down comparison of two JSON reports: new, resolved and changed findings."""
    from .report.diff import diff_reports, load_report, write_diff_workbook
    b, a = load_report(before), load_report(after)
    df = diff_reports(b, a)
    if out:
        write_diff_workbook(df, b, a, Path(out))
    if not quiet:
        counts = df["change"].value_counts().to_dict() if len(df) else {}
        click.echo(f"ddkit diff: {counts.get('new', 0)} new, {counts.get('changed', 0)} changed, "
                   f"{counts.get('resolved', 0)} resolved findings")
        for r in df.head(20).itertuples():
            click.echo(f"  {r.change:<8} {r.severity:<8} {r.rule:<30} {r.subject}")
    new = df[df["change"] == "new"] if len(df) else df
    if fail_on and count_at_or_above(new, fail_on.lower()):
        sys.exit(EXIT_FINDINGS)
    sys.exit(EXIT_OK)


@main.command()
@click.option("--out-dir", type=click.Path(file_okay=False), default="reports", show_default=True)
@click.option("--name", default="acme", show_default=True, help="Which bundled sample to build.")
@click.option("--quiet", is_flag=True)
def demo(out_dir: str, name: str, quiet: bool) -> None:
    """Build the bundled sample company repository and write reports/<name>.xlsx."""
    from .samples import build_sample
    paths = build_sample(name)
    out = Path(out_dir) / f"{name}.xlsx"
    code = run_scan(str(paths.repo), str(paths.roster), str(paths.company), None, "HEAD", paths.as_of,
                    str(out), str(Path(out_dir) / f"{name}.json"), str(Path(out_dir) / f"{name}.sarif"),
                    None, False, None, quiet, False)
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    main()
