"""The remediation list: one row per person or vendor that needs paperwork (counsel's tracking sheet)."""

from __future__ import annotations

import pandas as pd

REMEDIATION_COLUMNS = ["subject", "subject_type", "document", "period_start", "period_end", "lines_at_stake",
                       "files_at_stake", "top_files", "rules", "severity", "ip_document", "finding_ids", "status"]

DOCUMENTS = {
    "ip.pre-incorporation-work": "Technology assignment (confirmatory, nunc pro tunc) covering pre-incorporation work",
    "ip.pre-assignment-work": "Confirmatory IP assignment (nunc pro tunc) covering work before the assignment date",
    "ip.contractor-no-assignment": "Written IP assignment (present assignment)",
    "ip.missing-assignment": "Signed PIIA with present assignment, plus confirmatory assignment of past work",
    "ip.unknown-contributor": "Identify the contributor; IP assignment or licence confirmation",
    "ip.unverified-identity": "Identify the contributor; record relationship and IP paperwork",
    "ip.work-after-end-date": "Confirmatory IP assignment covering work after the end date",
}


WHOLE_WORK = ("ip.contractor-no-assignment", "ip.missing-assignment", "ip.unknown-contributor",
              "ip.unverified-identity")


def remediation_table(findings: pd.DataFrame, people: pd.DataFrame, blame_files: dict | None = None) -> pd.DataFrame:
    ip = findings[findings["rule"].isin(DOCUMENTS)] if len(findings) else findings
    if ip.empty:
        return pd.DataFrame(columns=REMEDIATION_COLUMNS)
    docs = people.set_index("person")["ip_document"].to_dict() if "ip_document" in people else {}
    types = people.set_index("person")["type"].to_dict() if len(people) else {}
    rank = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}
    groups: dict[str, list[dict]] = {}
    for rec in ip.to_dict(orient="records"):
        groups.setdefault(rec["subject"], []).append(rec)
    rows = []
    for subject, g in groups.items():
        files: dict[str, None] = {}
        for f in g:
            for path in (f["files"] if isinstance(f["files"], list) else []):
                files[path] = None
        is_vendor = any(isinstance(f["vendor"], str) for f in g) and not any(isinstance(f["person"], str) for f in g)
        # Lines at stake, counted once: a rule about all of the subject's work covers the others; the
        # dated rules (before incorporation, before the assignment, after the end date) never overlap.
        whole = [int(f["lines_at_stake"]) for f in g if f["rule"] in WHOLE_WORK]
        lines = max(whole) if whole else sum(int(f["lines_at_stake"]) for f in g)
        firsts = [f["first_commit"] for f in g if f["first_commit"] is not None and not pd.isna(f["first_commit"])]
        lasts = [f["last_commit"] for f in g if f["last_commit"] is not None and not pd.isna(f["last_commit"])]
        doc = docs.get(subject)
        rules_ = list(dict.fromkeys(f["rule"] for f in g))
        rows.append(dict(
            subject=subject, subject_type="vendor" if is_vendor else types.get(subject, "unknown"),
            document="; ".join(dict.fromkeys(DOCUMENTS[r] for r in rules_)) + f" — from {subject}",
            period_start=min(firsts) if firsts else None, period_end=max(lasts) if lasts else None,
            lines_at_stake=lines, files_at_stake=len(files), top_files="; ".join(list(files)[:5]),
            rules=", ".join(rules_), severity=min((f["severity"] for f in g), key=lambda x: rank.get(x, 5)),
            ip_document=doc if isinstance(doc, str) else None, finding_ids=", ".join(f["id"] for f in g),
            status="Open"))
    df = pd.DataFrame(rows, columns=REMEDIATION_COLUMNS)
    df["_r"] = df["severity"].map(rank)
    df = df.sort_values(["_r", "lines_at_stake", "subject"], ascending=[True, False, True], kind="stable")
    return df.drop(columns="_r").reset_index(drop=True)
