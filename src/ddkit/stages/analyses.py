"""The analyses after the stages, on everything they found: materiality roll-ups, the Scan itself, triage,
remediation, off-boarding simulations, retention and rewrite scope, the summary and the readiness score."""

from __future__ import annotations

from typing import Any

import pandas as pd

from .. import gitutil
from .. import triage as triage_mod
from ..analyze import bus_factor, materiality
from ..analyze import dependencies as dep_mod
from ..analyze import licenses as lic_mod
from ..analyze.findings import findings_frame
from ..analyze.remediation import remediation_table, whole_work_rules
from ..config import Rules
from ..model import Scan, public_tables
from ..roster import gaps_warning, roster_gaps
from ..score import not_assessed, readiness
from ..severity import SEVERITIES
from .interface import Needs, Stage, StageResult


def run(c: Needs) -> StageResult:
    rules, roster, own = c["rules"], c["roster"], c["ownership"]
    people = c["people"].assign(surviving_lines=c["people"]["person_id"].map(c["surviving_lines"]).fillna(0).astype(int))
    warnings = list(c["warnings"])
    # Materiality: de-minimis people roll up into one finding per rule (nothing is dropped).
    total_lines = int(own["lines"].sum()) if len(own) else 0
    found = materiality.roll_up(rules, c["findings"], people, total_lines)
    module_lines = own.groupby("module")["lines"].sum().to_dict() if len(own) else {}
    found = materiality.roll_up_modules(rules, found, module_lines, total_lines)
    found = materiality.roll_up_subjects(rules, found, total_lines)

    gaps = roster_gaps(roster, people) if len(roster) else None
    if gaps is not None:  # one line: which roster rows still have blank cells that matter
        gap_line = gaps_warning(gaps)
        if gap_line:
            warnings.append(gap_line)
    licenses = c["licenses"] if c["licenses"] is not None else pd.DataFrame(columns=lic_mod.LICENSE_COLUMNS)
    doa, files, blame, commits = c["doa"], c["files"], c["blame"], c["commits"]
    s = Scan(repo=c["info"], as_of=c["as_of"], rules=rules, company=c["company"], roster=roster,
             commits=commits, changes=c["changes"], files=files, identities=c["identities"],
             people=people, warnings=[gitutil.strip_credentials(w) for w in warnings], findings=findings_frame(found),
             ownership=own, bus_factor=c["bus_factor"], trends=c["trends"], licenses=licenses,
             options=c["options"], blame=blame, doa=doa, truck_factors=c["truck_factors"],
             ownership_by_module=c["ownership_by_module"], ownership_by_classification=c["ownership_by_classification"],
             security=c["security"], not_scanned_for_licenses=c["not_scanned"], stats=c["stats"], versions=c["versions"],
             dependencies=dep_mod.public(c["dependencies"]), ai=c["ai"], copied_code=c["copied_code"],
             vulnerabilities=c["vulnerabilities"])
    decisions, triage_path = c["decisions"], c["triage_path"]
    s.findings, stale = triage_mod.apply_triage(s.findings, decisions)
    s.triage_stale = stale
    s.triage_claims = triage_mod.annotate_claims(c["claims"], s.findings)
    if stale:
        s.warnings.append(f"triage: {len(stale)} decision{'s' if len(stale) != 1 else ''} in {triage_path} name "
                          f"findings that no longer occur (stale): " + ", ".join(e["id"] for e in stale[:10])
                          + (" …" if len(stale) > 10 else ""))
    s.remediation = _remediation_status(remediation_table(s.findings, people, catalogue=rules.catalogue), s.findings)
    # What every departure scenario shares (the source files' authors, the truck factors before), once
    # for the off-boarding simulations and for whom to retain.
    departures = bus_factor.Departures(doa, files, people) if len(doa) else None
    s.simulations = _simulations(s, departures)
    # -- the buyer's next questions: whom to retain, and the rewrite scope of each remediation subject
    from ..analyze.retention import retention_table, rewrite_scope_table
    s.retention = retention_table(doa, files, people, departures)
    s.rewrite_scope = rewrite_scope_table(s.remediation, s.findings, blame, commits, people, doa, files,
                                          whole_work=whole_work_rules(rules.catalogue))
    s.summary = _summary(s)
    # What was not assessed, and why: an area whose stage did not run is not scored (never scored as
    # clean), and any gap makes the score partial, which is never green (README: Readiness score).
    # (The words for summary.not_assessed, the areas each leaves unscored.)
    vuln_info = c["vuln_info"]
    unassessed = list(not_assessed(c["profile"], roster, people, licenses=c["licenses_on"], secrets=c["secrets_on"],
                              roster_rows_to_complete=len(gaps) if gaps is not None else 0))
    if not vuln_info.get("assessed"):   # (the vulnerability stage without a database; _vuln_summary says it too)
        from ..analyze.vulnerabilities import NOT_ASSESSED as VULNS_NOT_ASSESSED
        unassessed.append((VULNS_NOT_ASSESSED, ()))
    skipped = {a for _, areas in unassessed for a in areas}
    sc = readiness(triage_mod.counted(s.findings), rules, [a for a in rules.areas() if a not in skipped],
                   partial=bool(unassessed), areas_not_assessed=[a for a in rules.areas() if a in skipped])
    s.summary.update(readiness_score=sc["readiness_score"], rating=sc["rating"],
                     areas=sc["areas"], score_capped_by=sc["capped_by"],
                     not_assessed=list(dict.fromkeys(what for what, _ in unassessed)), partial=bool(unassessed))
    _vuln_summary(s.summary, vuln_info, rules)
    s.summary["sbom_ntia"] = _ntia(s)
    public_tables(s)   # the public tables' one vocabulary and declared dtypes (docs/outputs.md: Tables)
    return StageResult(tables={"scan": s})


ANALYSES = Stage("analyses", needs=(
    "info", "as_of", "rules", "profile", "company", "roster", "options", "decisions", "claims", "triage_path",
    "licenses_on", "secrets_on", "files", "commits", "changes", "identities", "people", "surviving_lines",
    "ownership", "ownership_by_module", "ownership_by_classification", "blame", "doa", "bus_factor", "trends",
    "truck_factors", "licenses", "not_scanned", "ai", "copied_code", "dependencies", "vulnerabilities", "vuln_info",
    "security", "findings", "warnings", "stats", "versions"), produces=("scan",), run=run)


def _vuln_summary(summary: dict[str, Any], info: dict[str, Any], rules: Rules) -> None:
    """The Summary's vulnerabilities entry; without a database, said in ``not_assessed`` (never "none found")
    and the score marked partial."""
    from ..analyze.vulnerabilities import NOT_ASSESSED
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
    from ..analyze.components import ntia_minimum_elements, spdx_components
    got = ntia_minimum_elements(spdx_components(s.dependencies, s.licenses))
    return {k: (v[:50] if isinstance(v, list) else v) for k, v in got.items()} | {
        f"{k}_count": len(v) for k, v in got.items() if isinstance(v, list)}


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
