"""The remediation list: counsel's tracking sheet, one row per gap in the chain of title.

A subject (person or vendor) gets one row per document needed: a person whose gaps need different
documents or cover different periods (work before the assignment was signed, and work after the
engagement ended) gets one row per gap, each with only the period that gap covers, so that nobody asks
for an assignment of months an agreement already covers. Gaps that need the same document from the same
subject are one row.
"""

from __future__ import annotations

import pandas as pd

from ..severity import SEVERITIES

REMEDIATION_COLUMNS = ["subject", "subject_type", "contact", "gap", "document", "period_start", "period_end",
                       "lines_at_stake", "files_at_stake", "top_files", "rules", "severity", "ip_document",
                       "finding_ids", "status"]

# A rule's words (the document needed, the gap, whether it covers the subject's whole work) are in the rule
# catalogue, rules/findings.yaml: the rules that name a document_needed are the gaps listed here.


def documents(catalogue: dict) -> dict[str, str]:
    """Rule id -> the document that closes its gap, for every catalogue rule that names one."""
    return {r: str(e["document_needed"]) for r, e in catalogue.items() if e.get("document_needed")}


def whole_work_rules(catalogue: dict) -> frozenset[str]:
    """Rules about all of a subject's work (no period of their own): they cover the subject's whole history."""
    return frozenset(r for r, e in catalogue.items() if e.get("whole_work"))


RANK = {s: i for i, s in enumerate(SEVERITIES)}


def _date(v):
    return None if v is None or (not isinstance(v, str) and pd.isna(v)) else v


def _contacts(people: pd.DataFrame) -> tuple[dict[str, str], dict[str, str]]:
    """Roster e-mail per person, and per vendor (its staff's addresses), for the contact column."""
    person: dict[str, str] = {}
    vendor: dict[str, str] = {}
    if people is None or people.empty:
        return person, vendor
    # The columns used, as lists (to_dict(orient="records") of every column cost 7 ms on pip's 868 people).
    def col(name: str) -> list:
        return people[name].tolist() if name in people else [None] * len(people)
    for name, roster_emails, in_roster, all_emails, v in zip(people["person"].tolist(), col("roster_emails"),
                                                           col("in_roster"), col("emails"), col("vendor")):
        emails = list(roster_emails) if isinstance(roster_emails, (list, tuple)) and len(roster_emails) else []
        if not emails and not in_roster:
            emails = list(all_emails or [])
        if emails:
            person[name] = "; ".join(emails)
        if isinstance(v, str) and emails:
            vendor[v] = "; ".join(x for x in [vendor.get(v), emails[0]] if x)
    return person, vendor


def remediation_table(findings: pd.DataFrame, people: pd.DataFrame, blame_files: dict | None = None, *,
                      catalogue: dict) -> pd.DataFrame:
    """One row per (subject, document needed), from the findings of the catalogue's rules that name one."""
    docs_needed = documents(catalogue)
    whole_work = whole_work_rules(catalogue)
    ip = findings[findings["rule"].isin(list(docs_needed))] if len(findings) else findings
    if ip.empty:
        return pd.DataFrame(columns=REMEDIATION_COLUMNS)
    docs = people.set_index("person")["ip_document"].to_dict() if "ip_document" in people else {}
    types = people.set_index("person")["type"].to_dict() if len(people) else {}
    contact_p, contact_v = _contacts(people)
    # One group per (subject, document): a subject's gaps that need different documents stay apart.
    groups: dict[tuple[str, str], list[dict]] = {}
    for rec in ip.to_dict(orient="records"):
        groups.setdefault((rec["subject"], docs_needed[rec["rule"]]), []).append(rec)
    rows = []
    for (subject, document), g in groups.items():
        files: dict[str, None] = {}
        for f in g:
            for path in (f["files"] if isinstance(f["files"], list) else []):
                files[path] = None
        is_vendor = any(isinstance(f["vendor"], str) for f in g) and not any(isinstance(f["person"], str) for f in g)
        whole = [int(f["lines_at_stake"]) for f in g if f["rule"] in whole_work]
        lines = max(whole) if whole else sum(int(f["lines_at_stake"]) for f in g)
        firsts = [_date(f["first_commit"]) for f in g if _date(f["first_commit"]) is not None]
        lasts = [_date(f["last_commit"]) for f in g if _date(f["last_commit"]) is not None]
        doc = docs.get(subject)
        rules_ = list(dict.fromkeys(f["rule"] for f in g))
        rows.append(dict(
            subject=subject, subject_type="vendor" if is_vendor else types.get(subject, "unknown"),
            contact=(contact_v if is_vendor else contact_p).get(subject),
            gap="; ".join(str(catalogue[r]["gap"]) for r in rules_),
            document=document + f" — from {subject}",
            period_start=min(firsts) if firsts else None, period_end=max(lasts) if lasts else None,
            lines_at_stake=lines, files_at_stake=len(files), top_files="; ".join(list(files)[:5]),
            rules=", ".join(rules_), severity=min((str(f["severity"]) for f in g), key=lambda x: RANK.get(x, 5)),
            ip_document=doc if isinstance(doc, str) else None, finding_ids=", ".join(f["id"] for f in g),
            status="Open"))
    df = pd.DataFrame(rows, columns=REMEDIATION_COLUMNS)
    df["_r"] = df["severity"].map(RANK)
    df = df.sort_values(["_r", "lines_at_stake", "subject", "period_start"], ascending=[True, False, True, True],
                        kind="stable", na_position="first")
    return df.drop(columns="_r").reset_index(drop=True)
