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
    rows = []
    for subject, g in ip.groupby("subject", sort=False):
        g = g.sort_values("first_commit", kind="stable")
        files: dict[str, None] = {}
        for lst in g["files"]:
            for f in (lst if isinstance(lst, list) else []):
                files[f] = None
        is_vendor = g["vendor"].notna().any() and g["person"].isna().all()
        # Lines at stake, counted once: a rule about all of the subject's work covers the others; the
        # dated rules (before incorporation, before the assignment, after the end date) never overlap.
        whole = g["rule"].isin(WHOLE_WORK)
        lines = int(g.loc[whole, "lines_at_stake"].max()) if whole.any() else int(g["lines_at_stake"].sum())
        rank = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}
        sev = min(g["severity"], key=lambda s: rank.get(s, 5))
        doc = docs.get(subject)
        rows.append(dict(
            subject=subject, subject_type="vendor" if is_vendor else types.get(subject, "unknown"),
            document="; ".join(dict.fromkeys(DOCUMENTS[r] for r in g["rule"])) + f" — from {subject}",
            period_start=min(x for x in g["first_commit"] if x is not None),
            period_end=max(x for x in g["last_commit"] if x is not None),
            lines_at_stake=lines, files_at_stake=len(files), top_files="; ".join(list(files)[:5]),
            rules=", ".join(dict.fromkeys(g["rule"])), severity=sev,
            ip_document=doc if isinstance(doc, str) else None, finding_ids=", ".join(g["id"]), status="Open"))
    df = pd.DataFrame(rows, columns=REMEDIATION_COLUMNS)
    rank = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}
    df["_r"] = df["severity"].map(rank)
    df = df.sort_values(["_r", "lines_at_stake", "subject"], ascending=[True, False, True], kind="stable")
    return df.drop(columns="_r").reset_index(drop=True)
