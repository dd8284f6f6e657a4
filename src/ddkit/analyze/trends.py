"""Quarterly trends: commits and added lines by classification, and the outsourced share."""

from __future__ import annotations

import pandas as pd

CLASSES = ["employee", "founder", "contractor", "vendor", "intern", "advisor", "unknown"]


def trends_table(commits: pd.DataFrame, people: pd.DataFrame) -> pd.DataFrame:
    cols = ["quarter", "commits", "added_lines"] + [f"{c}_{k}" for c in CLASSES for k in ("commits", "lines")] + \
        ["outsourced_share"]
    if commits.empty:
        return pd.DataFrame(columns=cols)
    meta = people.set_index("person_id")[["type", "is_bot"]]
    c = commits.join(meta, on="person_id")
    c = c[~c["is_bot"].fillna(False).astype(bool)]
    if c.empty:
        return pd.DataFrame(columns=cols)
    c = c.assign(quarter=pd.PeriodIndex(pd.to_datetime(c["author_day"]), freq="Q").astype(str),
                 cls=c["type"].where(c["type"].isin(CLASSES), "unknown"))
    g = c.groupby(["quarter", "cls"]).agg(commits=("sha", "size"), lines=("added", "sum")).unstack("cls", fill_value=0)
    out = pd.DataFrame(index=g.index)
    out["commits"] = g["commits"].sum(axis=1)
    out["added_lines"] = g["lines"].sum(axis=1)
    for cl in CLASSES:
        out[f"{cl}_commits"] = g["commits"][cl] if cl in g["commits"] else 0
        out[f"{cl}_lines"] = g["lines"][cl] if cl in g["lines"] else 0
    outsourced = out["contractor_lines"] + out["vendor_lines"]
    out["outsourced_share"] = (outsourced / out["added_lines"].where(out["added_lines"] > 0)).fillna(0).round(4)
    out = out.reset_index().rename(columns={"index": "quarter"})
    return out[cols].sort_values("quarter").reset_index(drop=True)
