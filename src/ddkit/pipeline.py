"""The pipeline: collect → resolve → analyze → score → report.

``scan()`` checks and loads every input before any work starts, answers from the cache when the same
commit was scanned with the same inputs, and otherwise walks the list of stages (``ddkit.stages``: one
module per stage or group, each step's computation in its own collect/resolve/analyze module). The
:class:`Scan` it returns holds every table and writes the reports.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from typing import Any

import pandas as pd

from . import gitutil
from . import triage as triage_mod
from ._version import __version__, installed_version
from .analyze import dependencies as dep_mod
from .collect.history import forget_renames
from .config import Company, Rules, load_company, load_rules
from .errors import InputError
from .model import Scan
from .progress import Progress
from .roster import load_roster
from .stages import INPUTS, STAGES, overlap, runner

# git dates start in 1970; the analyses subtract windows from as_of and pandas stops at 2262.
AS_OF_RANGE = (dt.date(1970, 1, 1), dt.date(2200, 12, 31))


def _as_of(value: str | dt.date | None) -> dt.date:
    from .isodate import parse_date
    if value is None:
        return dt.date.today()
    d = parse_date(value, "--as-of")
    if d is None:
        raise InputError(f"--as-of '{value}' is not an ISO date (YYYY-MM-DD)")
    if not AS_OF_RANGE[0] <= d <= AS_OF_RANGE[1]:
        raise InputError(f"--as-of {d.isoformat()} is out of range: give a date from {AS_OF_RANGE[0]} to {AS_OF_RANGE[1]}")
    return d


def scan(repo: str | os.PathLike, roster: str | os.PathLike | pd.DataFrame | list | dict | None = None,
         company: str | os.PathLike | dict | Company | None = None, rules: str | os.PathLike | Rules | None = None,
         ref: str = "HEAD", as_of: str | dt.date | None = None, licenses: bool = True,
         jobs: int | None = None, progress: Progress | bool | None = None, secrets: bool = True,
         triage: str | os.PathLike | None = None, sbom=None, environment=None, reference=None,
         vuln_db=None, allow_other_owner: bool = False,
         secrets_strict: bool = False) -> Scan:
    """Scan one repository. Inputs are validated before any work starts.

    *progress*: ``True`` shows stage names and bars (in Jupyter, in the cell), ``False`` nothing, ``None``
    (default) shows them in a notebook only; or a :class:`ddkit.progress.Progress` (README: In a notebook).

    *roster*: a CSV or XLSX path, or the same table as a DataFrame, a list of dicts or a dict of columns;
    *company*: a YAML path, or the same mapping as a dict. Each goes through one validation whatever its
    kind, so a file and its data give the same answer (anything else is an InputError).
    *secrets_strict*: report every secret match the context filter would set aside as a low finding
    (``--secrets-strict``) instead of listing it in ``secrets_set_aside``.
    *triage*: counsel's decisions (YAML); by default ``.ddkit/triage.yaml`` in the current folder when
    present and outside the scanned repository (a triage file inside the repository is applied only when
    named here; otherwise it is listed as the repository's claims).
    *sbom*, *environment*: where dependency licenses may come from (deps).
    *vuln_db*: OSV data offline (an ``all.zip``, a folder of OSV JSON files, or a list of them); without it
    vulnerabilities are not assessed (``summary.not_assessed``).
    *allow_other_owner*: scan a repository another user owns (git refuses it by default).
    """
    if not isinstance(progress, Progress):    # True, False or None: the display is ours to stop at the end
        from .report.console import make_progress
        shown = make_progress(progress)
        try:
            return scan(repo, roster=roster, company=company, rules=rules, ref=ref, as_of=as_of, licenses=licenses,
                        jobs=jobs, progress=shown, secrets=secrets, triage=triage, sbom=sbom,
                        environment=environment, reference=reference, vuln_db=vuln_db,
                        allow_other_owner=allow_other_owner, secrets_strict=secrets_strict)
        finally:
            shown.close()
    as_of_d = _as_of(as_of)
    rules_o = rules if isinstance(rules, Rules) else load_rules(rules)
    company_o = load_company(company)
    roster_df = load_roster(roster)
    dep_inputs = dep_mod.load_inputs(sbom, environment)   # deps: user's SBOMs and environments, checked first
    corpora = _references(reference, jobs or min(2, os.cpu_count() or 1))   # provenance: fingerprinted (or cached) first
    from .collect import vulndb
    vdb = vulndb.load(vuln_db)                            # vulns: read and validated before any scanning
    info = gitutil.open_repo(repo, ref, allow_other_owner=allow_other_owner)
    # The user's triage file is applied; the repository's own (committed or in its work tree) never is
    # unless named: it is the other side's claim, listed as such (README: Threat model).
    committed = (gitutil.read_blob(info.path, f"{info.commit}:{triage_mod.DEFAULT_PATH.as_posix()}",
                                   max_size=triage_mod.CLAIMS_MAX_BYTES) if info.commit else None)
    triage_path, own_triage = triage_mod.locate(triage, info.path, info.is_bare, committed)
    decisions = triage_mod.load_triage(triage_path)
    claims, claim_warnings = triage_mod.claims(own_triage)
    jobs = jobs or min(2, os.cpu_count() or 1)
    store = _result_store(info, ref, as_of_d, rules_o, company_o, roster_df, triage_path, [decisions, own_triage],
                          licenses=licenses, secrets=secrets, jobs=jobs, deps=_digest(dep_inputs),
                          references=[c.identity for c in corpora],
                          vulns=vdb.digest if vdb is not None else None,
                          **({"secrets_strict": True} if secrets_strict else {})) if info.commit else None
    if store is not None:
        t0 = time.perf_counter()
        hit = store.load(info.commit)
        if hit is not None:   # the same commit and the same inputs: the same result (README: Caches)
            hit.timings = {"cached result": time.perf_counter() - t0}
            return hit
    warnings: list[str] = [*info.notes, *claim_warnings]
    if info.commit is None:
        warnings.append("the repository is empty: nothing has been committed yet")
    if info.is_shallow:
        warnings.append("shallow clone: history is truncated, so first commits, commit counts, "
                        "pre-incorporation work and departed authors may be wrong; fetch the full history "
                        "(git fetch --unshallow) for a complete scan")

    # What reads git beside the stages starts now (stages/overlap.py); then the stages, as listed in
    # ddkit/stages/__init__.py (stages/runner.py: in which order they run and how results are put together).
    readers = overlap.start(info, rules_o, jobs, secrets)
    options = dict(licenses=licenses, jobs=jobs, ref=ref, secrets=secrets, references=[c.name for c in corpora],
                   triage=str(triage_path) if triage_path is not None else None,
                   # where the roster and profile came from (SARIF points repository-level results there)
                   roster_path=str(roster) if isinstance(roster, (str, os.PathLike)) else None,
                   company_path=str(company) if isinstance(company, (str, os.PathLike)) else None,
                   **({"secrets_strict": True} if secrets_strict else {}))
    inputs = dict(info=info, as_of=as_of_d, rules=rules_o, profile=company_o, roster=roster_df, jobs=jobs,
                  progress=progress, readers=readers, licenses_on=licenses, secrets_on=secrets,
                  secrets_strict=secrets_strict, corpora=corpora, dep_inputs=dep_inputs, vuln_db=vdb,
                  decisions=decisions, claims=claims, triage_path=triage_path, options=options)
    assert set(inputs) == set(INPUTS)
    s: Scan = runner.walk(STAGES, inputs, progress, warnings,
                          versions={"ddkit": __version__, "git": gitutil.git_version()})["scan"]
    forget_renames()
    s.timings = dict(progress.timings)
    if store is not None and info.commit:
        s.cache_key = store.params
        store.save(info.commit, s)   # nothing changes a finished result
    return s


def _digest(obj: Any) -> str | None:
    """A digest of loaded inputs (the user's SBOMs and environments); None (no caching) if they cannot be pickled."""
    import hashlib
    import pickle
    try:
        return hashlib.sha256(pickle.dumps(obj, protocol=4)).hexdigest()
    except Exception:   # an input that cannot be pickled: not cached, only costs time
        return None


def _result_store(info, ref, as_of, rules, company, roster, triage_path, decisions, **options):
    """Where the whole result of a scan is kept: per (repository, commit) and every input that shapes it."""
    import dataclasses

    from .collect import incremental
    params = {"repo": [info.path, ref, info.is_bare, info.is_shallow, info.remote, info.notes],
              "as_of": as_of.isoformat(),
              "rules": [rules.sha256, rules.sources], "company": dataclasses.asdict(company),
              "roster": [list(map(str, roster.columns)), list(map(str, roster.dtypes)), roster.to_csv(),
                         repr(sorted(roster.attrs.items()))],
              "triage": [str(triage_path), decisions], "options": options, "git": gitutil.git_version(),
              "kingfisher": installed_version("kingfisher-secret-scanner") if options["secrets"] else None,
              "scancode": installed_version("scancode-toolkit") if options["licenses"] else None}
    if options.get("deps", "") is None:
        return None
    return incremental.Store("scan", info.path, params,
                             lambda v: isinstance(v, Scan) and v.repo.commit == info.commit and v.as_of == as_of)


def _references(reference, jobs: int = 1) -> list:
    """The reference corpora (--reference, repeatable): a path or a list of paths; each checked and loaded."""
    if not reference:
        return []
    from .collect.fingerprints import load_corpus
    specs = [reference] if isinstance(reference, (str, os.PathLike)) else list(reference)
    return [load_corpus(str(x), jobs) for x in specs]
