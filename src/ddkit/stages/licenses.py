"""Licenses and third-party notices (collect/licenses.py with ScanCode, analyze/licenses.py); switched off
with licenses=False (--no-licenses)."""

from __future__ import annotations

import dataclasses

from ..analyze import licenses as lic_mod
from ..collect.licenses import license_db_summary, scan_licenses, scancode_version
from .interface import Needs, Stage, StageResult


def run(c: Needs) -> StageResult:
    info, rules, files, company = c["info"], c["rules"], c["files"], c["profile"]
    excludes = [(e["glob"], e.get("reason", "excluded by rules"))
                for e in rules.get("licenses", {}).get("excludes", [])]
    excludes += [(e["glob"], e["reason"]) for e in company.excludes]
    lic_scan, not_scanned, warnings, stats = scan_licenses(
        info.path, info.commit, files, rules.get("licenses", {}), excludes, jobs=c["jobs"], progress=c["progress"])
    # No company profile names the product's license: the repository's own root license does
    # (a GPL project is judged by the copyleft policy, not as a closed product; README: Licenses).
    if company.outbound_license_source == "default":
        own_lic = lic_mod.project_license(lic_scan, rules)
        if own_lic is not None:
            company = dataclasses.replace(company, outbound_license=own_lic[0],
                                          outbound_license_source=f"{own_lic[1]} (the repository's license)")
    versions = {"scancode": scancode_version()}
    db = license_db_summary() if len(lic_scan) else {}
    intro = lic_mod.introductions(c["changes"], c["commits"], c["people"])
    table = lic_mod.license_table(lic_scan, files, rules, company, db, intro)
    return StageResult(tables={"licenses": table, "not_scanned": not_scanned, "company": company},
                       findings=lic_mod.license_findings(rules, company, table, files, set(files["path"])),
                       warnings=warnings, stats=stats, versions=versions)


def skipped(c: Needs) -> dict:
    """Without the license stage: no table (the later stages see None) and the profile as given."""
    return {"licenses": None, "not_scanned": None, "company": c["profile"]}


LICENSES = Stage("licenses", needs=("info", "rules", "profile", "files", "changes", "commits", "people", "jobs",
                                    "progress"),
                 produces=("licenses", "not_scanned", "company"), run=run, when="licenses_on", skipped=skipped)
