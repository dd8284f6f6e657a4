"""Ownership of the code at the ref: surviving lines per file and person, rolled up per module and per
classification; departed authors and orphaned modules."""

from __future__ import annotations

import pandas as pd

from ..config import Rules
from .findings import finding

OWNERSHIP_COLUMNS = ["path", "module", "person", "type", "vendor", "classification", "departed", "lines",
                     "share_of_file"]


def classification(type_: str, vendor) -> str:
    if type_ == "vendor" and isinstance(vendor, str) and vendor:
        return f"vendor: {vendor}"
    return type_


def ownership_table(blame: pd.DataFrame, commits: pd.DataFrame, people: pd.DataFrame,
                    files: pd.DataFrame) -> pd.DataFrame:
    """One row per (path, person): surviving lines and their share of the file."""
    if blame.empty:
        return pd.DataFrame(columns=OWNERSHIP_COLUMNS + ["person_id"])
    who = commits[["sha", "person_id"]]
    b = blame.merge(who, on="sha", how="left")
    b["person_id"] = b["person_id"].fillna("unknown:commit-not-in-history")
    per = b.groupby(["path", "person_id"], sort=False)["lines"].sum().reset_index()
    meta = people[["person_id", "person", "type", "vendor", "departed"]]
    per = per.merge(meta, on="person_id", how="left")
    per["person"] = per["person"].fillna("(unknown commit)")
    per["type"] = per["type"].fillna("unknown")
    per["departed"] = per["departed"].fillna(False).astype(bool)
    per["classification"] = [classification(t, v) for t, v in zip(per["type"], per["vendor"])]
    per = per.merge(files[["path", "module", "lines"]].rename(columns={"lines": "file_lines"}), on="path", how="left")
    per["share_of_file"] = (per["lines"] / per["file_lines"]).round(4)
    per = per.sort_values(["path", "lines", "person"], ascending=[True, False, True], kind="stable")
    return per[OWNERSHIP_COLUMNS + ["person_id"]].reset_index(drop=True)


def by_module(own: pd.DataFrame) -> pd.DataFrame:
    if own.empty:
        return pd.DataFrame(columns=["module", "person", "classification", "departed", "lines", "share_of_module"])
    m = own.groupby(["module", "person", "classification", "departed"], sort=False)["lines"].sum().reset_index()
    m["share_of_module"] = (m["lines"] / m.groupby("module")["lines"].transform("sum")).round(4)
    return m.sort_values(["module", "lines"], ascending=[True, False], kind="stable").reset_index(drop=True)


def by_classification(own: pd.DataFrame) -> pd.DataFrame:
    if own.empty:
        return pd.DataFrame(columns=["module", "classification", "lines", "share_of_module"])
    c = own.groupby(["module", "classification"], sort=False)["lines"].sum().reset_index()
    total = own.groupby("classification")["lines"].sum().reset_index().assign(module="(all modules)")
    c = pd.concat([total[["module", "classification", "lines"]], c], ignore_index=True)
    c["share_of_module"] = (c["lines"] / c.groupby("module")["lines"].transform("sum")).round(4)
    return c.sort_values(["module", "lines"], ascending=[True, False], kind="stable").reset_index(drop=True)


def fmt_files(files: list[tuple[str, int]]) -> str:
    return "; ".join(f"{p} ({n})" for p, n in files)


def departed_findings(rules: Rules, own: pd.DataFrame, people: pd.DataFrame) -> list[dict]:
    recs: list[dict] = []
    if own.empty:
        return recs
    per_person: dict[str, list[tuple[str, int]]] = {}
    for pid, path, n in zip(own["person_id"].tolist(), own["path"].tolist(), own["lines"].tolist()):
        per_person.setdefault(pid, []).append((path, int(n)))
    for p in people.itertuples():
        if not p.departed or p.is_bot:
            continue
        held = per_person.get(p.person_id, [])
        n = sum(k for _, k in held)
        if n <= 0:
            continue
        tf = sorted(held, key=lambda kv: (-kv[1], kv[0]))[:5]
        why = (f"left on {p.end_date}" if p.in_roster and p.end_date is not None and not pd.isna(p.end_date)
               else f"no commit since {p.last_commit}")
        evidence = (f"{p.person} ({p.type}) {why}, and still owns {n} surviving lines "
                    f"({p.commits} commits, {p.first_commit} to {p.last_commit}). Files with most lines: {fmt_files(tf)}")
        remediation = (f"Make sure the company holds the rights to {p.person}'s work (assignment on file), and plan "
                       f"who now maintains these {n} lines.")
        recs.append(finding(rules, "own.departed-author", p.person, evidence, remediation, lines_at_stake=n,
                            person=p.person, commits=int(p.commits), first_commit=p.first_commit,
                            last_commit=p.last_commit, files=[f for f, _ in tf]))
    return recs


def orphaned_module_findings(rules: Rules, own: pd.DataFrame) -> list[dict]:
    share_min = float(rules.threshold("orphaned_module_share"))
    min_lines = int(rules.threshold("module_min_lines"))
    recs: list[dict] = []
    if own.empty:
        return recs
    for module, g in own.groupby("module", sort=True):
        total = int(g["lines"].sum())
        gone = int(g.loc[g["departed"], "lines"].sum())
        if total < min_lines or gone / total <= share_min:
            continue
        holders = g[g["departed"]].groupby("person")["lines"].sum().sort_values(ascending=False)
        evidence = (f"{gone} of {total} surviving lines ({gone / total:.0%}) of module {module} belong to people who "
                    f"have left: " + "; ".join(f"{p} ({int(n)})" for p, n in holders.items()))
        remediation = (f"Assign an owner for module {module} among current staff and document it; confirm the "
                       f"departed authors' IP assignments are on file.")
        recs.append(finding(rules, "own.orphaned-module", module, evidence, remediation, lines_at_stake=gone))
    return recs
