"""What the commands share: the scan options (the report formats' flags generated from the registry), the
checks on report paths made before any scanning, the writing of reports, and the error handling that
turns any failure into one line on stderr and an exit code (contract: 0 done; 1 findings at or above
--fail-on; 2 usage or input error; 3 an internal error, traceback only with DDKIT_DEBUG)."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from ..errors import DdkitError
from ..gitutil import GitError, strip_credentials
from ..progress import Progress
from ..severity import SEVERITIES
from ..text import printable

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT = 0, 1, 2
OWN_PROCESS = False     # set by cli.run(): this process is the command line's, not a library caller's or a test's


def fail(msg: str, code: int = EXIT_INPUT) -> click.exceptions.Exit:
    # Messages quote paths, refs and git's stderr: one line, no control characters reach the terminal, and
    # no credential a URL or path carried (README: threat model).
    click.echo(f"ddkit: error: {printable(strip_credentials(msg) or msg)}", err=True)
    return click.exceptions.Exit(code)


def progress_for(quiet: bool):
    if quiet or not sys.stderr.isatty():
        return Progress()
    from ..report.console import RichProgress
    return RichProgress()


@dataclass
class RunOptions:
    """Everything one `scan` or `scan-many` invocation asked for: built once from the flags."""

    inputs: dict[str, Any]                 # roster, company, rules, ref, as_of, licenses, secrets, jobs
    outputs: dict[str, str]                # report format (ddkit.report.REGISTRY key) -> path
    fail_on: str | None = None
    quiet: bool = False
    pseudonymize: bool = False
    pseudonym_key: str | None = None

    @classmethod
    def from_flags(cls, kw: dict[str, Any]) -> RunOptions:
        from ..report import REGISTRY
        outputs = {fmt: kw.pop(_dest(f.option)) for fmt, f in REGISTRY.items()}
        opts = cls(inputs=dict(roster=kw.pop("roster"), company=kw.pop("company"), rules=kw.pop("rules_dir"),
                               ref=kw.pop("ref"), as_of=kw.pop("as_of"), licenses=not kw.pop("no_licenses"),
                               secrets=not kw.pop("no_secrets"), secrets_strict=kw.pop("secrets_strict"),
                               jobs=kw.pop("jobs"), triage=kw.pop("triage"),
                               allow_other_owner=kw.pop("allow_other_owner"),
                               sbom=list(kw.pop("sbom")), environment=list(kw.pop("environment")),   # deps
                               reference=list(kw.pop("reference")),
                               vuln_db=list(kw.pop("vuln_db")) or None),   # vulns
                   outputs={k: v for k, v in outputs.items() if v}, fail_on=kw.pop("fail_on"),
                   quiet=kw.pop("quiet"), pseudonymize=kw.pop("pseudonymize"), pseudonym_key=kw.pop("pseudonym_key"))
        if opts.pseudonym_key and not opts.pseudonymize:
            raise fail("--pseudonym-key goes with --pseudonymize")
        return opts


def _dest(option: str) -> str:
    return option.lstrip("-").replace("-", "_") + ("_path" if option in ("--json",) else "")


def _output_options() -> list:
    from ..report import REGISTRY
    return [click.option(f.option, _dest(f.option), type=click.Path(dir_okay=False), help=f.help)
            for f in REGISTRY.values()]


_scan_options = [
    click.option("--roster", type=click.Path(dir_okay=False), help="Contributor roster (CSV or XLSX)."),
    click.option("--company", type=click.Path(dir_okay=False), help="Company profile (YAML)."),
    click.option("--rules", "rules_dir", type=click.Path(file_okay=False), help="Folder of rules YAML overriding the defaults."),
    click.option("--ref", default="HEAD", show_default=True, help="Ref to scan."),
    click.option("--as-of", "as_of", help="Reference date (YYYY-MM-DD); default today."),
    *_output_options(),
    click.option("--fail-on", type=click.Choice(SEVERITIES, case_sensitive=False),
                 help="Exit 1 when a finding is at or above this severity."),
    click.option("--no-licenses", is_flag=True, help="Skip the license scan (fast look)."),
    click.option("--no-secrets", is_flag=True, help="Skip the secrets scan of the history (fast look)."),
    click.option("--secrets-strict", is_flag=True,
                 help="Report every secret match the context filter sets aside (placeholders, hashes, test and "
                      "docs paths) as a low finding, instead of listing it in the set-aside list."),
    click.option("--jobs", type=click.IntRange(min=1), help="Worker processes (default: up to 2)."),
    click.option("--triage", type=click.Path(dir_okay=False),
                 help="Triage decisions (YAML); default .ddkit/triage.yaml in the current folder when present "
                      "(where `triage import` writes). A triage file inside the scanned repository is applied "
                      "only when named here."),
    click.option("--allow-other-owner", is_flag=True,
                 help="Scan a repository another user owns (git refuses it by default): git's safe.directory "
                      "for that path only."),
    click.option("--quiet", is_flag=True, help="Print only results and errors."),
    click.option("--pseudonymize", is_flag=True, help="Replace people by stable pseudonyms in the reports."),
    click.option("--pseudonym-key", type=click.Path(dir_okay=False),
                 help="With --pseudonymize: also write the pseudonym-to-person key to this CSV file."),
    # deps: dependency licenses from the user's SBOMs and installed environments (--sbom-out is a report)
    click.option("--sbom", "sbom", multiple=True, type=click.Path(dir_okay=False),
                 help="CycloneDX or SPDX JSON to take dependency licenses from (repeatable)."),
    click.option("--environment", "environment", multiple=True, type=click.Path(),
                 help="A virtualenv or node_modules tree to read installed package licenses from (repeatable)."),
    click.option("--reference", "reference", multiple=True, type=click.Path(),
                 help="Code owned by someone else to compare against: a directory, a git repository (PATH or "
                      "PATH@REF) or a zip/tar archive (repeatable)."),
    # vulns: OSV data offline
    click.option("--vuln-db", "vuln_db", multiple=True, type=click.Path(),
                 help="OSV vulnerability data: an all.zip or a folder of OSV JSON files (repeatable); "
                      "without it vulnerabilities are not assessed."),
]


def scan_options(f):
    for opt in reversed(_scan_options):
        f = opt(f)
    return f


class Group(click.Group):
    """A command group whose failures end the command with one line and an exit code (module docstring)."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (DdkitError, GitError) as e:
            raise fail(str(e)) from None
        except KeyboardInterrupt:
            raise fail("interrupted", 130) from None
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort):
            raise
        except Exception as e:  # a bug: one line unless DDKIT_DEBUG asks for the traceback
            if os.environ.get("DDKIT_DEBUG"):
                raise
            raise fail(f"internal error: {type(e).__name__}: {e} (set DDKIT_DEBUG=1 for details)", 3) from None


def check_outputs(*paths) -> None:
    """Refuse, before any scanning, report paths that cannot be written: a scan can take an hour, and
    its results must not be lost to a typo or a read-only folder at the very end."""
    import tempfile
    for p in paths:
        if not p:
            continue
        path = Path(p)
        if path.is_dir():
            raise fail(f"{p}: is a folder; give a file name for the report")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, probe = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".probe", dir=path.parent)
            os.close(fd)
            os.unlink(probe)
        except OSError as e:
            raise fail(f"{p}: cannot write the report there ({e.strerror or e})") from None


def check_run_paths(o: RunOptions, *extra: tuple[str, Any]) -> None:
    """Before scanning: every output can be written (:func:`check_outputs`), and none is an input, another
    output or under another format's extension (ddkit.report.paths)."""
    from ..report.paths import check_paths
    i = o.inputs
    ins = [("--roster", i.get("roster")), ("--company", i.get("company")), ("--rules", i.get("rules")),
           ("--triage", i.get("triage")), *(("--sbom", x) for x in i.get("sbom") or ()),
           *(("--environment", x) for x in i.get("environment") or ()),
           *(("--reference", x) for x in i.get("reference") or ()), *(("--vuln-db", x) for x in i.get("vuln_db") or ()),
           *extra]
    check_outputs(*o.outputs.values(), o.pseudonym_key)
    check_paths(o.outputs, [(opt, p) for opt, p in ins if isinstance(p, (str, os.PathLike))], key=o.pseudonym_key)


def write_reports(o: RunOptions, writer, result) -> None:
    """Every format asked for, then the pseudonym key when asked (a scan's or a portfolio's people)."""
    from ..fsutil import unwritable_as_input_error
    for fmt, path in o.outputs.items():
        # A full disk (or a folder made read-only during the scan): exit 2 naming the report.
        with unwritable_as_input_error(path):
            writer(fmt, result, Path(path), pseudonymize=o.pseudonymize)
    if o.pseudonym_key:
        from ..report.pseudonym import write_key
        with unwritable_as_input_error(o.pseudonym_key, "the pseudonym key"):
            write_key(result.people, o.pseudonym_key)


def warn_cache_writes() -> None:
    """One line on stderr when cache entries could not be written (a full disk): the command went on."""
    from ..cache import take_write_failures
    msg = take_write_failures()
    if msg:
        click.echo(f"ddkit: warning: {printable(msg)}", err=True)
