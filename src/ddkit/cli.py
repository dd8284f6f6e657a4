"""The ``ddkit`` command line.

Exit codes (contract): 0 scan done and nothing at or above --fail-on; 1 findings at or above --fail-on;
2 usage or input error, with one clear line on stderr and no traceback.
"""

from __future__ import annotations

import functools
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from ._version import __version__
from .errors import DdkitError
from .gitutil import GitError, strip_credentials
from .progress import Progress
from .severity import SEVERITIES, count_at_or_above
from .text import printable

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT = 0, 1, 2


def _fail(msg: str, code: int = EXIT_INPUT) -> click.exceptions.Exit:
    # Messages quote paths, refs and git's stderr: one line, no control characters reach the terminal, and
    # no credential a URL or path carried (README: threat model).
    click.echo(f"ddkit: error: {printable(strip_credentials(msg) or msg)}", err=True)
    return click.exceptions.Exit(code)


def _progress(quiet: bool):
    if quiet or not sys.stderr.isatty():
        return Progress()
    from .report.console import RichProgress
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
        from .report import REGISTRY
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
            raise _fail("--pseudonym-key goes with --pseudonymize")
        return opts


def _dest(option: str) -> str:
    return option.lstrip("-").replace("-", "_") + ("_path" if option in ("--json",) else "")


def _output_options() -> list:
    from .report import REGISTRY
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


def check_outputs(*paths) -> None:
    """Refuse, before any scanning, report paths that cannot be written: a scan can take an hour, and
    its results must not be lost to a typo or a read-only folder at the very end."""
    import tempfile
    for p in paths:
        if not p:
            continue
        path = Path(p)
        if path.is_dir():
            raise _fail(f"{p}: is a folder; give a file name for the report")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, probe = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".probe", dir=path.parent)
            os.close(fd)
            os.unlink(probe)
        except OSError as e:
            raise _fail(f"{p}: cannot write the report there ({e.strerror or e})") from None


def check_run_paths(o: RunOptions, *extra: tuple[str, Any]) -> None:
    """Before scanning: every output can be written (:func:`check_outputs`), and none is an input, another
    output or under another format's extension (ddkit.report.paths)."""
    from .report.paths import check_paths
    i = o.inputs
    ins = [("--roster", i.get("roster")), ("--company", i.get("company")), ("--rules", i.get("rules")),
           ("--triage", i.get("triage")), *(("--sbom", x) for x in i.get("sbom") or ()),
           *(("--environment", x) for x in i.get("environment") or ()),
           *(("--reference", x) for x in i.get("reference") or ()), *(("--vuln-db", x) for x in i.get("vuln_db") or ()),
           *extra]
    check_outputs(*o.outputs.values(), o.pseudonym_key)
    check_paths(o.outputs, [(opt, p) for opt, p in ins if isinstance(p, (str, os.PathLike))], key=o.pseudonym_key)


def _write_reports(o: RunOptions, writer, result, skip: tuple[str, ...] = ()) -> None:
    """Every format asked for (but *skip*), then the pseudonym key when asked (a scan's or a portfolio's
    people)."""
    from .fsutil import unwritable_as_input_error
    for fmt, path in o.outputs.items():
        if fmt not in skip:
            # A full disk (or a folder made read-only during the scan): exit 2 naming the report.
            with unwritable_as_input_error(path):
                writer(fmt, result, Path(path), pseudonymize=o.pseudonymize)
    if o.pseudonym_key:
        from .report.pseudonym import write_key
        with unwritable_as_input_error(o.pseudonym_key, "the pseudonym key"):
            write_key(result.people, o.pseudonym_key)


def _fork_allowed() -> bool:
    """Whether this process may fork a report writer: the command line's own process (not a library caller
    or a test calling main()), on Linux (fork is not safe on macOS once libraries have started threads),
    with no other Python thread alive, and DDKIT_OVERLAP not 0."""
    import threading

    from .stages import overlap
    return (_ENTRY and sys.platform.startswith("linux") and hasattr(os, "fork") and overlap.ENABLED
            and threading.active_count() == 1)


def _write_scan_reports(o: RunOptions, writer, s, pending: list, child: _WorkbookChild | None = None) -> None:
    """Keep the result in the cache (*pending*: the deferred saves, the history's and the result's) and
    write the reports.

    Both are single-threaded Python, so where it is safe (*child*, forked before the scan) the workbook, the
    longest report, is written by that child while this process saves the result and writes the other
    formats; what it raises is raised here once both are done. A cached result (nothing pending) has its
    reports' bytes kept: the child is not needed then."""
    if child is None or not pending:
        if child is not None:
            child.cancel()
        for save in pending:
            save()
        _write_reports(o, writer, s)
        return
    child.write(s)
    try:
        for save in pending:
            save()
        _write_reports(o, writer, s, skip=("xlsx",))
    finally:
        err = child.wait()
    if isinstance(err, OSError):
        from .fsutil import unwritable_as_input_error
        with unwritable_as_input_error(o.outputs["xlsx"]):
            raise err
    if err is not None:
        raise err


class _WorkbookChild:
    """A process that writes the workbook, forked before the scan (:func:`_fork_allowed`).

    The workbook is written beside the result's saves and the other reports, at the end of the command.
    Its writer's imports (openpyxl: about 0.05 s) are done before that: the child waits until :meth:`ready`
    (called when the scan's last stage starts, when the threads that read git have finished and the other
    core is free) and then imports, so that neither the scan nor the end of the command waits for them.
    It is then sent the scan without the tables no sheet reads (:func:`_for_workbook`): 0.66 MB,
    pickled and read in about 3 ms each on pip. It ignores Ctrl-C (the command handles it) and
    ends when its pipes close unsent, so it never outlives the command."""

    def __init__(self, pid: int, go: int, send: int, answer: int):
        self.pid, self._go, self._send, self._answer = pid, go, send, answer

    @classmethod
    def start(cls, o: RunOptions, writer) -> _WorkbookChild | None:
        """Fork the child where :func:`_fork_allowed` and a workbook is asked for; else None."""
        if "xlsx" not in o.outputs or not _fork_allowed():
            return None
        sys.stdout.flush()
        sys.stderr.flush()
        r_go, w_go = os.pipe()
        r_scan, w_scan = os.pipe()
        r_answer, w_answer = os.pipe()
        pid = os.fork()
        if pid == 0:
            for fd in (w_go, w_scan, r_answer):
                os.close(fd)
            cls._child(o, writer, r_go, r_scan, w_answer)     # never returns
        for fd in (r_go, r_scan, w_answer):
            os.close(fd)
        return cls(pid, w_go, w_scan, r_answer)

    @staticmethod
    def _child(o: RunOptions, writer, r_go: int, r_scan: int, w_answer: int) -> None:
        import pickle
        import signal
        code = 0
        msg = b""
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            if os.read(r_go, 1):     # nothing: the command ended before its scan's last stage
                from .report import reporter
                reporter("xlsx")
                if o.pseudonymize:
                    from .report import pseudonym  # noqa: F401
                with os.fdopen(r_scan, "rb") as fh:
                    data = fh.read()
                if data:             # nothing: a cached result, or the command failed
                    writer("xlsx", pickle.loads(data), Path(o.outputs["xlsx"]), pseudonymize=o.pseudonymize)
        except BaseException as e:
            code = 1
            try:
                msg = pickle.dumps(e)
            except Exception:
                msg = pickle.dumps(RuntimeError(f"{type(e).__name__}: {e}"))
        try:
            _write_all(w_answer, msg)
        finally:
            os._exit(code)

    def ready(self) -> None:
        """Let the child import its writer now (once)."""
        if self._go >= 0:
            try:
                os.write(self._go, b"1")
            finally:
                os.close(self._go)
                self._go = -1

    def write(self, s) -> None:
        """Send the scan; the child writes the workbook from it."""
        import pickle
        self.ready()
        try:
            _write_all(self._send, pickle.dumps(_for_workbook(s), protocol=pickle.HIGHEST_PROTOCOL))
        finally:
            os.close(self._send)

    def wait(self) -> BaseException | None:
        """Wait for the child: what it raised, or None."""
        import pickle
        with os.fdopen(self._answer, "rb") as fh:
            data = fh.read()          # (to the end: the child's exit closes the pipe)
        _, status = os.waitpid(self.pid, 0)
        if status == 0:
            return None
        err = pickle.loads(data) if data else None
        if isinstance(err, BaseException):
            return err
        return RuntimeError(f"the process writing the workbook stopped ({_wait_text(status)})")

    def cancel(self) -> None:
        """End the child unsent (a cached result, or the scan failed): it has at most imported modules."""
        import signal
        for fd in (self._go, self._send, self._answer):
            if fd >= 0:
                os.close(fd)
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)


def _write_all(fd: int, data: bytes) -> None:
    """All of *data* to the pipe *fd* (os.write may take part of it)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _for_workbook(s):
    """The scan as the workbook child needs it: without its commits' columns (the workbook counts the rows)
    and without the tables no sheet reads (the changes, blame, degree of authorship and raw identities;
    the sheets show their analyses): 0.66 MB to send instead of 9 MB on pip. (The tests compare the
    child's workbook with one written from the whole scan, part by part.)"""
    import dataclasses

    from .model import Scan
    if not isinstance(s, Scan):
        return s
    return dataclasses.replace(s, commits=s.commits.iloc[:, :0],
                               **{name: getattr(s, name).iloc[:0] for name in _UNREAD_BY_WORKBOOK})


_UNREAD_BY_WORKBOOK = ("changes", "blame", "doa", "identities")


class _OnStage(Progress):
    """A progress display (*inner*) that also calls *fn* once, when stage *name* starts."""

    def __init__(self, inner: Progress, name: str, fn):
        super().__init__()
        self._inner, self._name, self._fn = inner, name, fn

    def start(self, name: str, total: int | None) -> None:
        if name == self._name and self._fn is not None:
            fn, self._fn = self._fn, None
            fn()
        self._inner.start(name, total)

    def advance(self, n: int = 1) -> None:
        self._inner.advance(n)

    def set_total(self, total: int) -> None:
        self._inner.set_total(total)

    def end(self, name: str) -> None:
        self._inner.end(name)

    def close(self) -> None:
        self._inner.close()


def _wait_text(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {os.WTERMSIG(status)}"
    return f"exit status {os.WEXITSTATUS(status)}"


def run_scan(repo: str, o: RunOptions) -> int:
    if _ENTRY:
        # The process is the command line's own (run()), for one scan: the cyclic garbage collector is off
        # from here, for the imports (pandas: collections of what they build cost about 15 ms) and for the
        # scan, whose tables hold few reference cycles: its collections were about 8% of a one-commit
        # re-scan of pip (alternating: 1.10 s -> 1.01 s), and a whole scan of git/git peaked at the same
        # 651 MB without them. What the imports built is frozen, so that a collection that does run (a
        # library's own gc.collect()) need not walk it. (scan-many keeps the collector on: one process scans
        # many repositories there.)
        import gc
        gc.disable()
    from .collect.incremental import deferred_saves
    from .pipeline import scan as do_scan
    from .report import write
    if _ENTRY:
        gc.freeze()
    check_run_paths(o)
    writer = functools.partial(write, reuse=True)
    child = _WorkbookChild.start(o, writer)    # before the progress display's thread and the scan's
    try:
        progress = _progress(o.quiet)
        if child is not None:
            # The scan's last stage: the threads reading git (blame, the secrets history) are done.
            from .stages import LAST
            progress = _OnStage(progress, LAST, child.ready)
        with deferred_saves() as pending:
            try:
                s = do_scan(repo, progress=progress, **o.inputs)
            finally:
                progress.close()
    except BaseException:
        if child is not None:
            child.cancel()
        raise
    _write_scan_reports(o, writer, s, pending, child)
    if not o.quiet:
        from .report.console import print_summary
        shown = s
        if o.pseudonymize:     # the console too: it ends up in CI logs and screen shares
            import dataclasses

            from .report.pseudonym import console_lines
            shown = dataclasses.replace(s, warnings=console_lines(s, s.warnings))
        print_summary(shown, out=o.outputs.get("xlsx"), json_path=o.outputs.get("json"), sarif=o.outputs.get("sarif"))
        _print_roster_gaps(s, o.pseudonymize)
    _warn_cache_writes()
    from .triage import counted
    if o.fail_on and count_at_or_above(counted(s.findings), o.fail_on.lower()):
        return EXIT_FINDINGS
    return EXIT_OK


def _warn_cache_writes() -> None:
    """One line on stderr when cache entries could not be written (a full disk): the command went on."""
    from .cache import take_write_failures
    msg = take_write_failures()
    if msg:
        click.echo(f"ddkit: warning: {printable(msg)}", err=True)


def _print_roster_gaps(s, pseudonymize: bool = False) -> None:
    """After a scan with a roster: the rows and cells still to fill in, most material first."""
    from .roster import format_gaps, roster_gaps
    if s.roster is not None and len(s.roster):
        lines = format_gaps(roster_gaps(s.roster, s.people))
        if pseudonymize and lines:
            from .report.pseudonym import console_lines
            lines = console_lines(s, lines)
        for line in lines:
            click.echo(line)


@main.command()
@click.argument("repo", type=click.Path())
@scan_options
def scan(repo: str, **kw) -> None:
    """Scan one repository and write the reports asked for."""
    sys.exit(run_scan(repo, RunOptions.from_flags(kw)))


@main.command("scan-many")
@click.argument("repo_list", type=click.Path())
@scan_options
@click.option("--dask", help="Run on a Dask cluster: a scheduler ADDRESS, or 'local' for a local cluster.")
def scan_many_cmd(repo_list: str, dask: str | None, **kw) -> None:
    """Scan every repository listed in REPO_LIST (one path or URL per line, optionally a ref and company=FILE)."""
    from .portfolio import read_list, scan_many
    from .report import write_portfolio
    o = RunOptions.from_flags(kw)
    for fmt in ("spdx", "notices"):   # per repository only: refused before any scanning
        if fmt in o.outputs:
            raise _fail(f"--{fmt.replace('spdx', 'spdx-out').replace('notices', 'notices-out')} is written per "
                        "repository: use ddkit scan (scan-many writes one CycloneDX document with --sbom-out)")
    check_run_paths(o, ("REPO_LIST", repo_list))
    specs = read_list(repo_list)
    inputs = dict(o.inputs)
    ref = inputs.pop("ref")
    if ref != "HEAD":
        specs = [(sp[0], ref if sp[1] == "HEAD" else sp[1], *sp[2:]) for sp in specs]
    progress = _progress(o.quiet)
    with progress.stage("repositories", total=len(specs)):
        try:
            p = scan_many(specs, dask=dask, progress=progress, **inputs)
        finally:
            progress.close()
    _write_reports(o, write_portfolio, p)
    _warn_cache_writes()
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
        raise _fail("no repository could be scanned")
    from .triage import counted
    if o.fail_on and count_at_or_above(counted(p.findings), o.fail_on.lower()):
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
    from .report.paths import check_paths
    check_outputs(out)
    check_paths({"xlsx": out} if out else {}, [("BEFORE", before), ("AFTER", after)])
    b, a = load_report(before), load_report(after)
    df = diff_reports(b, a)
    if out:
        from .fsutil import unwritable_as_input_error
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


@main.command()
@click.option("--out-dir", type=click.Path(file_okay=False), default="reports", show_default=True)
@click.option("--name", default="acme", show_default=True, help="Which bundled sample to build.")
@click.option("--quiet", is_flag=True)
def demo(out_dir: str, name: str, quiet: bool) -> None:
    """Build the bundled sample company repository and write reports/<name>.xlsx."""
    from .samples import build_sample
    paths = build_sample(name)
    out = Path(out_dir) / f"{name}.xlsx"
    inputs: dict[str, Any] = dict(roster=str(paths.roster), company=str(paths.company), as_of=paths.as_of)
    if paths.reference is not None:      # hooli: compared with the previous employer's code it copied from
        inputs["reference"] = [str(paths.reference)]
    o = RunOptions(inputs=inputs,
                   outputs={"xlsx": str(out), "json": str(Path(out_dir) / f"{name}.json"),
                            "sarif": str(Path(out_dir) / f"{name}.sarif")}, quiet=quiet)
    code = run_scan(str(paths.repo), o)
    sys.exit(code)


@main.group()
def triage() -> None:
    """Counsel's decisions about findings (accepted, false positive, resolved), kept across re-scans."""


@triage.command("import")
@click.argument("workbook", type=click.Path(dir_okay=False))
@click.option("--triage", "triage_path", type=click.Path(dir_okay=False),
              help="The triage file to update (created when missing); default .ddkit/triage.yaml in the current "
                   "folder, which a scan run from here reads by default.")
def triage_import(workbook: str, triage_path: str | None) -> None:
    """Read the statuses typed into WORKBOOK's Findings, Triaged and Remediation sheets into the triage file."""
    from .triage import default_path, import_workbook, load_triage, write_triage
    if not Path(workbook).is_file():
        raise _fail(f"{workbook}: no such file")
    target = Path(triage_path) if triage_path else default_path()
    existing = load_triage(target) if target.is_file() else {}
    entries, n = import_workbook(workbook, existing)
    write_triage(target, entries)
    shown = target if triage_path else target.resolve()
    click.echo(f"ddkit triage: {n} decision{'s' if n != 1 else ''} read from {printable(workbook)}; "
               f"{len(entries)} in {printable(str(shown))}")
    from .gitutil import work_tree_of
    repo = work_tree_of(target.parent)
    if repo:
        # A triage file inside a repository is that repository's own as far as a scan of it is concerned.
        click.echo(f"  note: {printable(str(shown))} is inside the git repository {printable(repo)}: a scan of that "
                   f"repository applies it only when named: --triage {printable(str(shown))}")
    elif not triage_path:
        click.echo("  a scan run from this folder applies them (or name the file: --triage FILE)")


# -- roster: a first roster to fill in, and a check that lists every problem at once -------------------

@main.group(cls=_Group)
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
    from .roster_init import init_roster
    if Path(out).suffix.lower() not in (".csv", ".xlsx"):
        raise _fail(f"{out}: the roster must be written as .csv or .xlsx")
    progress = _progress(quiet)
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
    from .roster import check_roster, format_gaps, roster_gaps
    df, problems = check_roster(file)
    if problems:
        for line in problems:
            click.echo(line)
        raise _fail(f"{file}: {len(problems)} problem{'s' if len(problems) != 1 else ''} in the roster")
    if not quiet:
        click.echo(f"roster OK: {len(df)} people")
        for line in format_gaps(roster_gaps(df)):
            click.echo(line)
    sys.exit(EXIT_OK)


if __name__ == "__main__":  # pragma: no cover
    main()


_ENTRY = False     # set by run(): this process is the command line's, not a library caller's


def run() -> None:
    """The command line's entry point (``ddkit``, ``python -m ddkit``): :func:`main`, then a prompt exit.

    When the command is done its reports are written and closed; the interpreter's own shutdown would
    then free every object one by one (a scan's tables: about 0.2 s of a 2 s re-scan). So the exit
    handlers run (thread pools joined, temporary files removed), the output is flushed, and the process
    ends with the command's exit status. Library callers and tests calling :func:`main` are not affected.
    """
    global _ENTRY
    _ENTRY = True
    sys.stdout, sys.stderr = _ClosedPipeSafe(sys.stdout), _ClosedPipeSafe(sys.stderr)
    import gc
    gc.set_threshold(10000, 20, 20)      # fewer collections of young objects: a scan makes millions
    try:
        main()
        code: Any = 0
    except SystemExit as e:
        code = e.code
    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    import atexit
    import threading
    shutdown = getattr(threading, "_shutdown", None)
    if shutdown is not None:
        shutdown()                       # what the interpreter does first at exit: join non-daemon threads
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


class _ClosedPipeSafe:
    """A standard stream whose reader may stop reading (``ddkit roster check FILE | head -1``, a pager that
    is quit): a closed pipe is not an error of the command. The rest of what it writes there goes to
    /dev/null (the file descriptor itself, so a child process's writes too), the command finishes, and
    the exit status is the one it would have had (README, "Decisions": a closed pipe)."""

    def __init__(self, stream: Any):
        self._stream = stream

    def write(self, s: Any) -> int:
        try:
            return self._stream.write(s)
        except BrokenPipeError:
            self._discard()
            return len(s)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._discard()

    def _discard(self) -> None:
        try:
            null = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(null, self._stream.fileno())
            finally:
                os.close(null)
        except (OSError, ValueError):
            pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)
