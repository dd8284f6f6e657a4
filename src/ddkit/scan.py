"""The pipeline, in one sitting: collect → resolve → analyze → score → report.

``scan()`` is the whole of it; each step is a small function in its own module that takes and
returns DataFrames. The :class:`Scan` it returns holds every table and writes the reports.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from . import __version__, gitutil
from .analyze import people as people_mod
from .analyze import bus_factor, ip, ownership
from .analyze import licenses as lic_mod
from .analyze import dependencies as dep_mod
from .analyze.trends import trends_table
from .collect.licenses import license_db_summary, scan_licenses
from .analyze.findings import findings_frame
from .analyze.remediation import remediation_table
from .collect.blame import blame_files
from .collect.history import collect_history
from .collect.tree import list_files
from .config import Company, Rules, load_company, load_rules
from .errors import InputError
from .progress import Progress
from .score import readiness
from .resolve.identities import resolve_identities
from .resolve.mailmap import read_mailmap
from .roster import empty_roster, load_roster


@dataclass
class Scan:
    """Everything one scan found. DataFrames for notebooks; ``to_*`` methods for reports."""

    repo: gitutil.RepoInfo
    as_of: dt.date
    rules: Rules
    company: Company
    roster: pd.DataFrame
    commits: pd.DataFrame
    changes: pd.DataFrame
    files: pd.DataFrame
    identities: pd.DataFrame
    people: pd.DataFrame
    ownership: pd.DataFrame = field(default_factory=pd.DataFrame)
    findings: pd.DataFrame = field(default_factory=lambda: findings_frame([]))
    remediation: pd.DataFrame = field(default_factory=pd.DataFrame)
    licenses: pd.DataFrame = field(default_factory=pd.DataFrame)
    bus_factor: pd.DataFrame = field(default_factory=pd.DataFrame)
    trends: pd.DataFrame = field(default_factory=pd.DataFrame)
    dependencies: pd.DataFrame = field(default_factory=pd.DataFrame)   # deps: one row per (manifest, dependency)
    summary: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)

    # -- reports
    def to_excel(self, path: str | os.PathLike, pseudonymize: bool = False) -> Path:
        from .report.xlsx import write_workbook
        return write_workbook(self, Path(path), pseudonymize=pseudonymize)

    def to_json(self, path: str | os.PathLike | None = None, pseudonymize: bool = False) -> dict:
        from .report.json_report import to_dict, write_json
        if path is None:
            return to_dict(self, pseudonymize=pseudonymize)
        return write_json(self, Path(path), pseudonymize=pseudonymize)

    def to_sarif(self, path: str | os.PathLike, pseudonymize: bool = False) -> dict:
        from .report.sarif import write_sarif
        if pseudonymize:
            from .report.pseudonym import pseudonymized
            return write_sarif(pseudonymized(self), Path(path))
        return write_sarif(self, Path(path))

    def to_sbom(self, path: str | os.PathLike) -> dict:   # deps: CycloneDX 1.6 JSON
        from .report.sbom import write_sbom
        return write_sbom(self, Path(path))

    def simulate_departure(self, people_or_vendors) -> pd.DataFrame:
        """Per module: the files left without an author, and the truck factor before and after, if these
        people (or all staff of these vendors) left."""
        from .analyze.bus_factor import simulate_departure
        return simulate_departure(self.extras.get("doa", pd.DataFrame(columns=["path", "person_id", "author"])),
                                  self.files, self.people, people_or_vendors)

    def __repr__(self) -> str:  # a short, useful line in a notebook
        return (f"<ddkit.Scan {self.repo.path} @ {self.repo.commit and self.repo.commit[:12]} as_of {self.as_of}: "
                f"{len(self.commits)} commits, {len(self.people)} people, {len(self.findings)} findings>")


def _as_of(value: str | dt.date | None) -> dt.date:
    if value is None:
        return dt.date.today()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise InputError(f"--as-of '{value}' is not an ISO date (YYYY-MM-DD)") from None


def scan(repo: str | os.PathLike, roster: str | os.PathLike | pd.DataFrame | None = None,
         company: str | os.PathLike | Company | None = None, rules: str | os.PathLike | Rules | None = None,
         ref: str = "HEAD", as_of: str | dt.date | None = None, licenses: bool = True,
         jobs: int | None = None, progress: Progress | None = None, secrets: bool = True,
         sbom=None, environment=None) -> Scan:
    """Scan one repository. Inputs are validated before any work starts."""
    progress = progress or Progress()
    as_of_d = _as_of(as_of)
    rules_o = rules if isinstance(rules, Rules) else load_rules(rules)
    company_o = company if isinstance(company, Company) else load_company(company)
    roster_df = roster if isinstance(roster, pd.DataFrame) else (load_roster(roster) if roster else empty_roster())
    dep_inputs = dep_mod.load_inputs(sbom, environment)   # deps: user's SBOMs and environments, checked first
    info = gitutil.open_repo(repo, ref)
    jobs = jobs or min(2, os.cpu_count() or 1)
    warnings: list[str] = []
    if info.commit is None:
        warnings.append("the repository is empty: nothing has been committed yet")
    if info.is_shallow:
        warnings.append("shallow clone: history is truncated, so first commits, commit counts, "
                        "pre-incorporation work and departed authors may be wrong; fetch the full history "
                        "(git fetch --unshallow) for a complete scan")

    # -- collect
    with progress.stage("history"):
        hist = collect_history(info.path, info.commit)
    with progress.stage("files"):
        files = list_files(info.path, info.commit, rules_o, company_o)

    # -- resolve
    with progress.stage("identities"):
        mailmap = read_mailmap(info.path, info.commit)
        warnings += mailmap.warnings
        res = resolve_identities(hist.commits, roster_df, company_o, rules_o, mailmap)
        warnings += res.warnings
        commits = people_mod.attach_people(hist.commits, res.identities)
        inactivity = int(rules_o.get("identities", {}).get("inactivity_days", 365))
        people = people_mod.people_table(res.people, commits, as_of_d, inactivity)

    found: list[dict] = []   # finding records from every analysis
    extras: dict[str, Any] = {"sheet_tables": {}}

    # -- collect: blame at the ref; analyze: ownership, departed authors, IP
    with progress.stage("blame"):
        blame, blame_warnings, extras["blame_stats"] = blame_files(info.path, info.commit, files, hist.changes,
                                                                   jobs=jobs, progress=progress)
    warnings += blame_warnings
    with progress.stage("ownership"):
        own = ownership.ownership_table(blame, commits, people, files)
        totals = own.groupby("person_id")["lines"].sum() if len(own) else pd.Series(dtype=int)
        people["surviving_lines"] = people["person_id"].map(totals).fillna(0).astype(int)
        found += ownership.departed_findings(rules_o, own, people)
        found += ownership.orphaned_module_findings(rules_o, own)
        found += ip.ip_findings(rules_o, company_o, people, commits, blame, roster_given=len(roster_df) > 0)
        extras["blame"] = blame
        extras["sheet_tables"]["Ownership"] = {"By module": ownership.by_module(own),
                                               "By classification": ownership.by_classification(own)}

    # -- analyze: knowledge (degree of authorship, truck factor, concentration) and trends
    with progress.stage("knowledge"):
        doa = bus_factor.degree_of_authorship(hist.changes, commits, people, files)
        bus = bus_factor.bus_factor_table(doa, files, people)
        found += bus_factor.knowledge_findings(rules_o, bus)
        trends = trends_table(commits, people)
        extras["doa"] = doa
        repo_row = bus[bus["scope"] == "(repository)"]
        extras["bus_factor_json"] = {
            "repository": int(repo_row["truck_factor"].iloc[0]) if len(repo_row) else None,
            "modules": {r.scope: (int(r.truck_factor) if r.truck_factor is not None else None)
                        for r in bus.itertuples() if r.scope != "(repository)"}}

    # -- collect and analyze: licenses and third-party notices (skipped entirely with licenses=False)
    lic_table = pd.DataFrame(columns=lic_mod.LICENSE_COLUMNS)
    if licenses:
        with progress.stage("licenses"):
            excludes = [(e["glob"], e.get("reason", "excluded by rules")) for e in rules_o.get("licenses", {}).get("excludes", [])]
            excludes += [(e["glob"], e["reason"]) for e in company_o.excludes]
            lic_scan, not_scanned, lic_warn, extras["license_stats"] = scan_licenses(
                info.path, info.commit, files, rules_o.get("licenses", {}), excludes, jobs=jobs, progress=progress)
            warnings += lic_warn
            extras["not_scanned_for_licenses"] = not_scanned
            db = license_db_summary() if len(lic_scan) else {}
            intro = lic_mod.introductions(hist.changes, commits, people)
            lic_table = lic_mod.license_table(lic_scan, files, rules_o, company_o, db, intro)
            found += lic_mod.license_findings(rules_o, company_o, lic_table, files, set(files["path"]))

    # -- dependencies: manifests and lockfiles at the ref, their licenses, who added them (deps)
    with progress.stage("dependencies"):
        deps, dep_found, dep_warn = dep_mod.analyze(info.path, files, hist.changes, commits, people, rules_o,
                                                    company_o, lic_table if licenses else None, dep_inputs)
        warnings += dep_warn
        found = dep_mod.fold_vendored(found, deps) + dep_found

    # -- security: secrets in history and at the ref, security-policy checklist
    if secrets:
        with progress.stage("secrets"):
            sec_findings, sec_table, sec_stats = _security(info, files, hist.changes, commits, rules_o, jobs, progress)
        found += sec_findings
        extras["security"] = sec_table
        extras["secrets_stats"] = sec_stats

    s = Scan(repo=info, as_of=as_of_d, rules=rules_o, company=company_o, roster=roster_df,
             commits=commits, changes=hist.changes, files=files, identities=res.identities,
             people=people, warnings=warnings, findings=findings_frame(found), extras=extras,
             ownership=own.drop(columns=["person_id"]), bus_factor=bus, trends=trends, licenses=lic_table,
             dependencies=dep_mod.public(deps),
             options=dict(licenses=licenses, jobs=jobs, ref=ref, secrets=secrets))
    s.remediation = remediation_table(s.findings, people)
    s.extras["sheet_tables"]["Bus Factor"] = {"Off-boarding simulation": _simulations(s)}
    s.summary = _summary(s)
    areas = ["ip", "ownership", "knowledge", "dependencies"] + (["license"] if licenses else []) + (["security"] if secrets else [])
    sc = readiness(s.findings, rules_o, areas)
    s.summary.update(readiness_score=sc["readiness_score"], rating=sc["rating"],
                     areas=sc["areas"], score_capped_by=sc["capped_by"])
    s.timings = dict(progress.timings)
    return s


def _security(info, files, changes, commits, rules, jobs, progress):
    from .analyze import security
    from .collect import secrets as secrets_mod
    hist, stats = secrets_mod.scan_history(info.path, info.commit, jobs=jobs, progress=progress)
    # Where is each file that once held a secret now? Follow renames forward to the ref.
    renamed = dict(zip(changes.loc[changes["status"] == "R", "old_path"], changes.loc[changes["status"] == "R", "path"]))
    at_ref = set(files["path"])
    paths = set()
    for p in set(hist["path"]):
        for _ in range(100):
            if p in at_ref or p not in renamed:
                break
            p = renamed[p]
        if p in at_ref:
            paths.add(p)
    tree = secrets_mod.scan_tree(info.path, info.commit, sorted(paths))
    recs, rows = security.secret_findings(rules, hist, tree, commits)
    recs2, rows2 = security.checklist(rules, files)
    return recs + recs2, security.security_table(rows + rows2), stats


def _simulations(s: Scan, n_people: int = 3) -> pd.DataFrame:
    """The off-boarding simulation for each vendor and for the people whose departure orphans most files."""
    doa = s.extras.get("doa")
    if doa is None or doa.empty:
        return pd.DataFrame()
    scenarios = sorted(v for v in s.people["vendor"].dropna().unique() if isinstance(v, str))
    authors = doa[doa["author"]].groupby("person")["path"].nunique().sort_values(ascending=False, kind="stable")
    scenarios += [p for p in authors.index[:n_people] if p not in scenarios]
    frames = [s.simulate_departure([x]) for x in scenarios]
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if len(df):
        df["orphaned"] = df["orphaned"].map(lambda x: "; ".join(x))
    return df


def _outsourced_share(s: Scan) -> float | None:
    own = s.ownership
    if own is None or own.empty:
        return None
    human = own[own["type"] != "bot"]
    total = int(human["lines"].sum())
    out = int(human.loc[human["type"].isin(["contractor", "vendor"]), "lines"].sum())
    return round(out / total, 4) if total else None


def _summary(s: Scan) -> dict[str, Any]:
    humans = s.people[~s.people["is_bot"]] if len(s.people) else s.people
    sev = s.findings["severity"].value_counts().to_dict() if len(s.findings) else {}
    return {
        "company": s.company.name,
        "commits": int(len(s.commits)),
        "contributors": int(len(humans)),
        "bots": int(len(s.people) - len(humans)),
        "departed": int(humans["departed"].sum()) if len(humans) else 0,
        "unresolved_identities": int((~s.people["resolved"]).sum()) if len(s.people) else 0,
        "files": int(len(s.files)),
        "scanned_files": int((s.files["category"] == "text").sum()) if len(s.files) else 0,
        "findings": int(len(s.findings)),
        "truck_factor": (s.extras.get("bus_factor_json") or {}).get("repository"),
        "outsourced_share": _outsourced_share(s),
        "findings_by_severity": {k: int(sev.get(k, 0)) for k in ("critical", "high", "medium", "low", "info")},
    }
