"""The pipeline, in one sitting: collect → resolve → analyze → score → report.

``scan()`` is the whole of it; each step is a small function in its own module that takes and
returns DataFrames. The :class:`Scan` it returns holds every table and writes the reports.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import time
from typing import Any

import pandas as pd

from . import gitutil
from . import triage as triage_mod
from ._version import __version__, installed_version
from .analyze import bus_factor, ip, materiality, ownership
from .analyze import dependencies as dep_mod
from .analyze import licenses as lic_mod
from .analyze import people as people_mod
from .analyze.findings import findings_frame
from .analyze.remediation import remediation_table, whole_work_rules
from .analyze.trends import trends_table
from .collect.blame import BlameJob
from .collect.history import PatchFeed, collect_history, follow_renames, forget_renames, implausible_dates
from .collect.history import plan as history_plan
from .collect.incremental import save_soon
from .collect.licenses import license_db_summary, scan_licenses, scancode_version
from .collect.tree import list_files
from .config import Company, Rules, load_company, load_rules
from .errors import InputError
from .model import Scan, StageStats, public_tables
from .progress import Progress
from .resolve.identities import resolve_identities
from .resolve.mailmap import read_mailmap
from .roster import gaps_warning, load_roster, roster_gaps
from .score import not_assessed, readiness
from .severity import SEVERITIES

# git dates start in 1970; the analyses subtract windows from as_of and pandas stops at 2262.
AS_OF_RANGE = (dt.date(1970, 1, 1), dt.date(2200, 12, 31))


def _as_of(value: str | dt.date | None) -> dt.date:
    from .isodate import parse_iso_date
    if value is None:
        return dt.date.today()
    try:
        d = parse_iso_date(value)
    except ValueError:
        d = None
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
    # What a stage could not assess, and why: (the words for summary.not_assessed, the areas it leaves
    # unscored). A stage that lacks its input appends here; the inputs' own gaps are added at the end.
    unassessed: list[tuple[str, tuple[str, ...]]] = []
    if info.commit is None:
        warnings.append("the repository is empty: nothing has been committed yet")
    if info.is_shallow:
        warnings.append("shallow clone: history is truncated, so first commits, commit counts, "
                        "pre-incorporation work and departed authors may be wrong; fetch the full history "
                        "(git fetch --unshallow) for a complete scan")

    # Three things wait on git and run beside the main thread (README: Speed): the secrets in history,
    # read in a thread from the start (it needs nothing the other stages compute); one `git log -p` that
    # feeds both history and secrets when both must read the same range (a cold scan, a scan after new
    # commits: git computes each diff once); and blame, whose workers start as soon as the files at the
    # ref are listed. On a cold scan they blame beside the history read; otherwise they wait for the
    # history, which gives their cache keys. The stages after identities that do not need blame
    # (knowledge, licenses, dependencies) run while blame finishes; their findings and warnings are
    # put together in the order of the stages as listed in the README, whatever order they ran in.
    # The secrets' cache first: when it has history to read, the secrets engine's compiled rules start
    # loading now (a native load beside the main thread: about 0.2 s, which a one-commit re-scan of pip
    # otherwise waited for at the secrets stage once the other stages got faster).
    sec_plan = None
    if secrets and info.commit:
        from .collect import secrets as secrets_mod
        sec_plan = secrets_mod.plan(info.path, info.commit, rules=rules_o)
        if _OVERLAP and sec_plan.reads(info.commit) is not None:
            secrets_mod.kingfisher_engine.preload()
    hist_plan = history_plan(info.path, info.commit) if info.commit else None
    feed = None
    sec_hist = None
    if secrets:
        if (_OVERLAP and info.commit and hist_plan is not None and sec_plan is not None
                and hist_plan.reads(info.commit) is not None
                and hist_plan.reads(info.commit) == sec_plan.reads(info.commit)):
            feed = PatchFeed()
        sec_hist = _start_secrets_history(info, rules_o, jobs, sec_plan, feed)

    # The commit messages (AI markers, bulk-import subjects): one light `git log` beside the main thread.
    msg_bg = _Background(_messages, info.path, info.commit) if info.commit else None

    # -- collect
    with progress.stage("files"):
        files = list_files(info.path, info.commit, rules_o, company_o)
    blamer = BlameJob(info.path, info.commit, files, jobs=jobs,
                      speculate=_OVERLAP and hist_plan is not None and hist_plan.base is None)
    with progress.stage("history"):
        try:
            hist = collect_history(info.path, info.commit, plan_=hist_plan,
                                   on_patch=feed.put if feed is not None else None)
        except BaseException as e:
            if feed is not None:
                feed.close(e)
            blamer.cancel()
            raise
        if feed is not None:
            feed.close()
        warnings += hist.warnings + implausible_dates(hist.commits, as_of_d)
    blamer.know(hist.changes, hist.commits["sha"])

    # -- resolve
    with progress.stage("identities"):
        # Co-authors (Co-authored-by: trailers) are authors for copyright: resolved like commit authors.
        co = people_mod.coauthor_rows(hist.commits)
        idents = pd.concat([hist.commits[["author_name_raw", "author_email_raw"]],
                            co[["author_name_raw", "author_email_raw"]]], ignore_index=True)
        # Plain lists: iterating the string columns themselves cost 5 ms on pip's 17k rows. Where the
        # .mailmap is, the files stage has listed (no git process asked again).
        mm = files[files["path"] == ".mailmap"]
        mailmap = read_mailmap(info.path, info.commit,
                               zip(idents["author_name_raw"].tolist(), idents["author_email_raw"].tolist()),
                               tree={".mailmap": ("commit" if mm["category"].iloc[0] == "submodule" else "blob",
                                                  mm["blob"].iloc[0])} if len(mm) else {})
        warnings += mailmap.warnings
        res = resolve_identities(idents, roster_df, company_o, rules_o, mailmap)
        warnings += res.warnings
        commits = people_mod.attach_people(hist.commits, res.identities)
        coauthored = people_mod.attach_coauthors(co, commits, res.identities)
        inactivity = int(rules_o.get("identities", {}).get("inactivity_days", 365))
        people = people_mod.people_table(res.people, commits, as_of_d, inactivity)
    company_ip = company_o     # the profile as given (the license stage may fill in the product's license)

    stats = StageStats()
    late_warnings: list[str] = []

    # -- analyze: knowledge (degree of authorship, truck factor, concentration) and trends
    with progress.stage("knowledge"):
        doa = bus_factor.degree_of_authorship(hist.changes, commits, people, files)
        bus = bus_factor.bus_factor_table(doa, files, people)
        found_knowledge = bus_factor.knowledge_findings(rules_o, bus)
        trends = trends_table(commits, people)
        repo_row = bus[bus["scope"] == "(repository)"]
        truck_factors = {
            "repository": int(repo_row["truck_factor"].iloc[0]) if len(repo_row) else None,
            "modules": {r.scope: (int(r.truck_factor) if r.truck_factor is not None else None)
                        for r in bus.itertuples() if r.scope != "(repository)"}}

    # -- collect and analyze: licenses and third-party notices (skipped entirely with licenses=False)
    lic_table = pd.DataFrame(columns=lic_mod.LICENSE_COLUMNS)
    found_licenses: list[dict] = []
    not_scanned = None
    versions = {"ddkit": __version__, "git": gitutil.git_version()}
    if licenses:
        with progress.stage("licenses"):
            excludes = [(e["glob"], e.get("reason", "excluded by rules"))
                        for e in rules_o.get("licenses", {}).get("excludes", [])]
            excludes += [(e["glob"], e["reason"]) for e in company_o.excludes]
            lic_scan, not_scanned, lic_warn, stats.licenses = scan_licenses(
                info.path, info.commit, files, rules_o.get("licenses", {}), excludes, jobs=jobs, progress=progress)
            late_warnings += lic_warn
            # No company profile names the product's license: the repository's own root license does
            # (a GPL project is judged by the copyleft policy, not as a closed product; README: Licenses).
            if company_o.outbound_license_source == "default":
                own_lic = lic_mod.project_license(lic_scan, rules_o)
                if own_lic is not None:
                    company_o = dataclasses.replace(company_o, outbound_license=own_lic[0],
                                                    outbound_license_source=f"{own_lic[1]} (the repository's license)")
            versions["scancode"] = scancode_version()
            db = license_db_summary() if len(lic_scan) else {}
            intro = lic_mod.introductions(hist.changes, commits, people)
            lic_table = lic_mod.license_table(lic_scan, files, rules_o, company_o, db, intro)
            found_licenses = lic_mod.license_findings(rules_o, company_o, lic_table, files, set(files["path"]))

    # -- dependencies: manifests and lockfiles at the ref, their licenses, who added them (deps)
    with progress.stage("dependencies"):
        deps, dep_found, dep_warn = dep_mod.analyze(info.path, files, hist.changes, commits, people, rules_o,
                                                    company_o, lic_table if licenses else None, dep_inputs)
        late_warnings += dep_warn

    # -- vulnerabilities: the dependencies against the offline OSV database, with their exposure history (vulns)
    with progress.stage("vulnerabilities"):
        vulns, vuln_found, vuln_warn, vuln_info = _vulnerabilities(rules_o, company_o, vdb, info, deps, hist.changes,
                                                                   commits, people, as_of_d, files)
        late_warnings += vuln_warn

    # -- collect: blame at the ref; analyze: ownership, departed authors, IP
    with progress.stage("blame"):
        blame, blame_warnings, stats.blame = blamer.result(progress)
    progress.timings["blame (overlapped)"] = blamer.seconds
    warnings += blame_warnings + late_warnings
    found: list[dict] = []   # finding records from every analysis, in stage order
    with progress.stage("ownership"):
        own = ownership.ownership_table(blame, commits, people, files)
        totals = own.groupby("person_id")["lines"].sum() if len(own) else pd.Series(dtype=int)
        people["surviving_lines"] = people["person_id"].map(totals).fillna(0).astype(int)
        found += ownership.departed_findings(rules_o, own, people)
        found += ownership.orphaned_module_findings(rules_o, own)
        found += ip.ip_findings(rules_o, company_ip, people, commits, blame, roster_given=len(roster_df) > 0,
                                coauthored=coauthored)
        own_by_module, own_by_class = ownership.by_module(own), ownership.by_classification(own)
    found += found_knowledge + found_licenses
    # -- provenance: the AI-assisted code ledger (analyze/ai.py)
    with progress.stage("ai"):
        from .analyze import ai as ai_mod
        from .analyze.provenance import excluded_paths
        messages = msg_bg.result() if msg_bg is not None else None
        ai_ledger = ai_mod.ledger(rules_o, commits, messages, blame, files, hist.changes, res.identities, people,
                                  as_of_d, excluded_paths(rules_o, company_o, files))
        found += ai_mod.ai_findings(rules_o, ai_ledger, people, roster_given=len(roster_df) > 0)
    with progress.stage("bulk imports"):
        from .analyze.provenance import bulk_imports
        found += bulk_imports(rules_o, company_o, commits, hist.changes, blame, files, people,
                              lic_table if licenses else None, messages, repo=info.path, roster_given=len(roster_df) > 0)
    copied = None
    if corpora:
        with progress.stage("references"):
            from .analyze.provenance import copied_code
            copied_found, copied = copied_code(rules_o, corpora, info.path, files, blame, commits)
            found += copied_found
    found = dep_mod.fold_vendored(found, deps) + dep_found + vuln_found

    # -- security: secrets in history and at the ref, security-policy checklist
    sec_table = None
    if secrets:
        assert sec_hist is not None
        with progress.stage("secrets"):
            sec_findings, sec_table, stats.secrets = _security(info, files, hist.changes, commits, rules_o, jobs,
                                                               progress, sec_hist, secrets_strict)
        progress.timings["secrets history (overlapped)"] = sec_hist.seconds
        found += sec_findings
        versions["kingfisher-secret-scanner"] = installed_version("kingfisher-secret-scanner")
        warnings += stats.secrets.get("warnings", [])

    # -- the analyses after the stages: materiality, triage, remediation, retention, summary, score
    with progress.stage("analyses"):
        # Materiality: de-minimis people roll up into one finding per rule (nothing is dropped).
        total_lines = int(own["lines"].sum()) if len(own) else 0
        found = materiality.roll_up(rules_o, found, people, total_lines)
        module_lines = own.groupby("module")["lines"].sum().to_dict() if len(own) else {}
        found = materiality.roll_up_modules(rules_o, found, module_lines, total_lines)
        found = materiality.roll_up_subjects(rules_o, found, total_lines)

        gaps = roster_gaps(roster_df, people) if len(roster_df) else None
        if gaps is not None:  # one line: which roster rows still have blank cells that matter
            gap_line = gaps_warning(gaps)
            if gap_line:
                warnings.append(gap_line)
        s = Scan(repo=info, as_of=as_of_d, rules=rules_o, company=company_o, roster=roster_df,
                 commits=commits, changes=hist.changes, files=files, identities=res.identities,
                 people=people, warnings=[gitutil.strip_credentials(w) for w in warnings], findings=findings_frame(found),
                 ownership=own, bus_factor=bus, trends=trends, licenses=lic_table,
                 options=dict(licenses=licenses, jobs=jobs, ref=ref, secrets=secrets,
                              references=[c.name for c in corpora],
                              triage=str(triage_path) if triage_path is not None else None,
                              # where the roster and profile came from (SARIF points repository-level results there)
                              roster_path=str(roster) if isinstance(roster, (str, os.PathLike)) else None,
                              company_path=str(company) if isinstance(company, (str, os.PathLike)) else None,
                              **({"secrets_strict": True} if secrets_strict else {})),
                 blame=blame, doa=doa, truck_factors=truck_factors, ownership_by_module=own_by_module,
                 ownership_by_classification=own_by_class, security=sec_table, not_scanned_for_licenses=not_scanned,
                 stats=stats, versions=versions,
                 dependencies=dep_mod.public(deps),   # deps
                 ai=ai_ledger, copied_code=copied,
                 vulnerabilities=vulns)   # vulns
        s.findings, stale = triage_mod.apply_triage(s.findings, decisions)
        s.triage_stale = stale
        s.triage_claims = triage_mod.annotate_claims(claims, s.findings)
        if stale:
            s.warnings.append(f"triage: {len(stale)} decision{'s' if len(stale) != 1 else ''} in {triage_path} name "
                              f"findings that no longer occur (stale): " + ", ".join(e["id"] for e in stale[:10])
                              + (" …" if len(stale) > 10 else ""))
        s.remediation = _remediation_status(remediation_table(s.findings, people, catalogue=rules_o.catalogue),
                                           s.findings)
        # What every departure scenario shares (the source files' authors, the truck factors before), once
        # for the off-boarding simulations and for whom to retain.
        departures = bus_factor.Departures(doa, files, people) if len(doa) else None
        s.simulations = _simulations(s, departures)
        # -- the buyer's next questions: whom to retain, and the rewrite scope of each remediation subject
        from .analyze.retention import retention_table, rewrite_scope_table
        s.retention = retention_table(doa, files, people, departures)
        s.rewrite_scope = rewrite_scope_table(s.remediation, s.findings, blame, commits, people, doa, files,
                                              whole_work=whole_work_rules(rules_o.catalogue))
        s.summary = _summary(s)
        # What was not assessed, and why: an area whose stage did not run is not scored (never scored as
        # clean), and any gap makes the score partial, which is never green (README: Readiness score).
        unassessed += not_assessed(company_ip, roster_df, people, licenses=licenses, secrets=secrets,
                                   roster_rows_to_complete=len(gaps) if gaps is not None else 0)
        if not vuln_info.get("assessed"):   # (the vulnerability stage without a database; _vuln_summary says it too)
            from .analyze.vulnerabilities import NOT_ASSESSED as VULNS_NOT_ASSESSED
            unassessed.append((VULNS_NOT_ASSESSED, ()))
        skipped = {a for _, areas in unassessed for a in areas}
        sc = readiness(triage_mod.counted(s.findings), rules_o, [a for a in rules_o.areas() if a not in skipped],
                       partial=bool(unassessed), areas_not_assessed=[a for a in rules_o.areas() if a in skipped])
        s.summary.update(readiness_score=sc["readiness_score"], rating=sc["rating"],
                         areas=sc["areas"], score_capped_by=sc["capped_by"],
                         not_assessed=list(dict.fromkeys(what for what, _ in unassessed)), partial=bool(unassessed))
        _vuln_summary(s.summary, vuln_info, rules_o)
        s.summary["sbom_ntia"] = _ntia(s)
        public_tables(s)   # the public tables' one vocabulary and declared dtypes (docs/outputs.md: Tables)
    forget_renames()
    s.timings = dict(progress.timings)
    if store is not None and info.commit:
        s.cache_key = store.params
        save_soon(store, info.commit, s)   # nothing changes a finished result
    return s


def _vulnerabilities(rules, company, vdb, info, deps, changes, commits, people, as_of, files):
    """The vulnerability stage (analyze/vulnerabilities.py): nothing assessed without a database."""
    from . import globs
    from .analyze import vulnerabilities as vuln_mod
    vglobs = [g["glob"] for g in rules.get("paths", {}).get("vendored", [])] + list(company.vendored)
    return vuln_mod.run(rules, vdb, info.path, deps, changes, commits, people, as_of,
                        lambda p: any(globs.match(p, g) for g in vglobs), files, info.commit)


def _vuln_summary(summary: dict[str, Any], info: dict[str, Any], rules: Rules) -> None:
    """The Summary's vulnerabilities entry; without a database, said in ``not_assessed`` (never "none found")
    and the score marked partial."""
    from .analyze.vulnerabilities import NOT_ASSESSED
    summary["vulnerabilities"] = info
    if not info.get("assessed"):
        na = summary.setdefault("not_assessed", [])
        if NOT_ASSESSED not in na:
            na.append(NOT_ASSESSED)
    # The contract: a score over assessed areas only is partial, and a partial score is never green (the
    # number capped below the green threshold too, so that number and rating agree).
    summary["partial"] = bool(summary.get("partial")) or bool(summary.get("not_assessed"))
    if summary["partial"] and summary.get("rating") == "green":
        import math
        green = (rules.get("score", {}).get("rating", {}) or {}).get("green", 80)
        summary["readiness_score"] = min(int(summary.get("readiness_score") or 0), math.ceil(float(green)) - 1)
        summary["rating"] = "amber"
        summary["score_capped_by"] = summary.get("score_capped_by") or "partial"


def _ntia(s: Scan) -> dict[str, Any]:
    """The NTIA minimum elements the components of --sbom-out and --spdx-out miss (counts, first 50 names)."""
    from .analyze.components import ntia_minimum_elements, spdx_components
    got = ntia_minimum_elements(spdx_components(s.dependencies, s.licenses))
    return {k: (v[:50] if isinstance(v, list) else v) for k, v in got.items()} | {
        f"{k}_count": len(v) for k, v in got.items() if isinstance(v, list)}


def _digest(obj: Any) -> str | None:
    """A digest of loaded inputs (the user's SBOMs and environments); None (no caching) if they cannot be pickled."""
    import hashlib
    import pickle
    try:
        return hashlib.sha256(pickle.dumps(obj, protocol=4)).hexdigest()
    except Exception:
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


class _Background:
    """A call run in a thread: ``result()`` waits for it (and re-raises what it raised)."""

    def __init__(self, fn, *args, **kw):
        import threading
        self.seconds = 0.0
        self._out = self._err = None

        def target():
            import time
            t0 = time.perf_counter()
            try:
                self._out = fn(*args, **kw)
            except BaseException as e:  # handed to the caller
                self._err = e
            self.seconds = time.perf_counter() - t0
        self._t = threading.Thread(target=target, name="ddkit-secrets-history", daemon=True)
        self._target = target
        if _OVERLAP:
            self._t.start()

    def result(self):
        if self._t.ident is not None:      # started (DDKIT_OVERLAP): wait for it
            self._t.join()
        elif self._target is not None:     # DDKIT_OVERLAP=0: run it now, after the other stages
            self._target()
            self._target = None
        if self._err is not None:
            raise self._err
        return self._out


# Set DDKIT_OVERLAP=0 to run one thing at a time (benchmarks compare): history and secrets each read their
# own `git log -p`, blame starts after the history, and the secrets history runs after the other stages.
_OVERLAP = os.environ.get("DDKIT_OVERLAP", "1") != "0"


def _start_secrets_history(info, rules, jobs, plan, feed) -> _Background:
    from .collect import secrets as secrets_mod

    def run():
        try:
            return secrets_mod.scan_history(info.path, info.commit, jobs=jobs, progress=None, rules=rules,
                                            plan_=plan, patches=feed)
        finally:
            if feed is not None:   # stopped early (an error): the history read must not wait for it
                feed.abandon()
    return _Background(run)


def _security(info, files, changes, commits, rules, jobs, progress, sec_hist, strict=False):
    from .analyze import security
    from .collect import secrets as secrets_mod
    hist, stats = sec_hist.result()
    # Credential files known by their name alone (binary key stores): no line of theirs is ever scanned.
    named_hist, named_tree = secrets_mod.credential_files_by_name(changes, files, info.commit, rules)
    if len(named_hist):
        hist = pd.concat([hist, named_hist], ignore_index=True)
    if strict:
        hist = security.strict(hist)
    # Where is each file that once held a secret now? The history's own rename-following says, per
    # (commit, path): the path of that file at the ref, if it is still there.
    # (Plain lists: iterating the string columns themselves cost 0.5 ms on pip's files, 2 ms on requests' changes.)
    live = hist[hist["action"] != "suppress"]
    paths: set[str] = set()
    if len(live) and len(changes):
        at_ref = set(files["path"].tolist())
        ev = follow_renames(changes, commits, [])
        where = dict(zip(zip(ev["sha"].tolist(), ev["path"].tolist()), ev["path_at_ref"].tolist()))
        for key in set(zip(live["sha"].tolist(), live["path"].tolist())):
            now = where.get(key, key[1])      # a line git showed without a change record: its own path
            if isinstance(now, str) and now in at_ref:
                paths.add(now)
    tree, tstats = secrets_mod.scan_tree(info.path, info.commit, sorted(paths), rules=rules)
    if len(named_tree):
        tree = pd.concat([tree, named_tree], ignore_index=True)
    if strict:
        tree = security.strict(tree)
    stats.update(security.suppression_counts(hist, tree))
    stats["set_aside"], stats["set_aside_counts"] = security.set_aside(hist, tree)
    if tstats["long_lines"] and not stats["long_lines"]:
        max_line = secrets_mod.settings(rules)["max_line_bytes"]
        stats["warnings"] += secrets_mod.long_line_warning(tstats["long_lines"], max_line)
    recs, rows = security.secret_findings(rules, hist, tree, commits)
    recs2, rows2 = security.checklist(rules, files)
    return recs + recs2, security.security_table(rows + rows2), stats


def _references(reference, jobs: int = 1) -> list:
    """The reference corpora (--reference, repeatable): a path or a list of paths; each checked and loaded."""
    if not reference:
        return []
    from .collect.fingerprints import load_corpus
    specs = [reference] if isinstance(reference, (str, os.PathLike)) else list(reference)
    return [load_corpus(str(x), jobs) for x in specs]


def _messages(repo, commit):
    from .collect.messages import collect_messages
    return collect_messages(repo, commit)


def _remediation_status(rem: pd.DataFrame, findings: pd.DataFrame) -> pd.DataFrame:
    """A subject whose findings counsel has all triaged shows it: Signed (resolved) or Not needed."""
    if rem.empty or "status" not in findings:
        return rem
    status = dict(zip(findings["id"], findings["status"]))
    out = []
    for ids in rem["finding_ids"]:
        st = {status.get(i.strip(), "open") for i in str(ids).split(",") if i.strip()}
        out.append("Signed" if st == {"resolved"} else "Not needed" if st and st <= {"accepted", "false-positive"}
                   else "Open")
    return rem.assign(status=out)


def _simulations(s: Scan, departures: bus_factor.Departures | None, n_people: int = 3) -> pd.DataFrame:
    """The off-boarding simulation for each vendor and for the people whose departure orphans most files
    (*departures*: of the scan's tables; None when it has no degree of authorship)."""
    doa = s.doa
    if departures is None or doa.empty:
        return pd.DataFrame()
    scenarios = sorted(v for v in s.people["vendor"].dropna().unique() if isinstance(v, str))
    authors = doa[doa["author"]].groupby("person")["path"].nunique().sort_values(ascending=False, kind="stable")
    scenarios += [p for p in authors.index[:n_people] if p not in scenarios]
    frames = [departures.simulate([x]) for x in scenarios]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()   # orphaned: a list of paths


def _outsourced_share(s: Scan) -> float | None:
    own = s.ownership
    if own is None or own.empty:
        return None
    human = own[~own["type"].isin(["bot", "ai-assistant"])]
    total = int(human["lines"].sum())
    out = int(human.loc[human["type"].isin(["contractor", "vendor"]), "lines"].sum())
    return round(out / total, 4) if total else None


def _summary(s: Scan) -> dict[str, Any]:
    humans = s.people[~s.people["is_bot"]] if len(s.people) else s.people
    counted = triage_mod.counted(s.findings)
    sev = counted["severity"].value_counts().to_dict() if len(counted) else {}
    return {
        "company": s.company.name,
        "outbound_license": s.company.outbound_license,
        "outbound_license_source": s.company.outbound_license_source,
        "commits": int(len(s.commits)),
        "contributors": int(len(humans)),
        "bots": int(len(s.people) - len(humans)),
        "departed": int(humans["departed"].sum()) if len(humans) else 0,
        "unresolved_identities": int((~s.people["resolved"]).sum()) if len(s.people) else 0,
        "files": int(len(s.files)),
        "scanned_files": int((s.files["category"] == "text").sum()) if len(s.files) else 0,
        "findings": int(len(counted)),
        "findings_triaged": int(len(s.findings) - len(counted)),
        "truck_factor": s.truck_factors.get("repository"),
        "outsourced_share": _outsourced_share(s),
        "findings_by_severity": {k: int(sev.get(k, 0)) for k in SEVERITIES},
        # the AI ledger's headline (analyze/ai.py): share of surviving lines still as marked commits left them
        "ai_share": s.ai.share if s.ai is not None else None,
        "ai_commits": int(len(s.ai.commits)) if s.ai is not None else 0,
    }
