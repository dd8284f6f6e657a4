"""Quarterly trends: commits and added lines by classification, and the outsourced share."""

from __future__ import annotations

import datetime as dt

import pandas as pd

CLASSES = ["employee", "founder", "contractor", "vendor", "intern", "advisor", "unknown"]


def _quarter(day) -> str | None:
    """The quarter as a quarterly Period names it ("2024Q1"), without a Period each; None for a missing day
    (which a grouping by quarter leaves out)."""
    if not isinstance(day, dt.date) or pd.isna(day):      # (pd.NaT is a datetime)
        return None
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def trends_table(commits: pd.DataFrame, people: pd.DataFrame) -> pd.DataFrame:
    cols = ["quarter", "commits", "added_lines"] + [f"{c}_{k}" for c in CLASSES for k in ("commits", "lines")] + \
        ["outsourced_share"]
    if commits.empty:
        return pd.DataFrame(columns=cols)
    # One pass over plain lists (a join, a period per commit and a grouped unstack cost about 12 ms on pip's
    # 16k commits): commits and added lines per (quarter, class), bots and commits without a day left out;
    # a commit whose person is not among the people counts as "unknown", as does any type outside CLASSES.
    kind = dict(zip(people["person_id"].tolist(), people["type"].tolist()))
    bots = {pid for pid, bot in zip(people["person_id"].tolist(), people["is_bot"].tolist())
            if not pd.isna(bot) and bool(bot)}
    quarter_of: dict[object, str | None] = {}
    acc: dict[str, dict[str, list[int]]] = {}
    for pid, day, added in zip(commits["person_id"].tolist(), commits["author_day"].tolist(),
                               commits["added"].tolist()):
        if pid in bots:
            continue
        if day in quarter_of:
            q = quarter_of[day]
        else:
            q = quarter_of[day] = _quarter(day)
        if q is None:
            continue
        cls = kind.get(pid)
        if cls not in CLASSES:
            cls = "unknown"
        cell = acc.setdefault(q, {}).setdefault(cls, [0, 0])
        cell[0] += 1
        cell[1] += added
    if not acc:
        return pd.DataFrame(columns=cols)
    quarters = sorted(acc)
    data: dict[str, list] = {"quarter": quarters,
                             "commits": [sum(v[0] for v in acc[q].values()) for q in quarters],
                             "added_lines": [sum(v[1] for v in acc[q].values()) for q in quarters]}
    for cl in CLASSES:
        data[f"{cl}_commits"] = [acc[q].get(cl, (0, 0))[0] for q in quarters]
        data[f"{cl}_lines"] = [acc[q].get(cl, (0, 0))[1] for q in quarters]
    out = pd.DataFrame(data)
    out["quarter"] = out["quarter"].astype(str)
    outsourced = out["contractor_lines"] + out["vendor_lines"]
    out["outsourced_share"] = (outsourced / out["added_lines"].where(out["added_lines"] > 0)).fillna(0).round(4)
    return out[cols]
