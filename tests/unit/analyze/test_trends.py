"""trends_table (one pass over plain lists) against the pandas formulation it replaced, on edge cases."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from ddkit.analyze.trends import CLASSES, trends_table


def _pandas_trends(commits: pd.DataFrame, people: pd.DataFrame) -> pd.DataFrame:
    """The join / period / grouped-unstack formulation (the oracle)."""
    cols = ["quarter", "commits", "added_lines"] + [f"{c}_{k}" for c in CLASSES for k in ("commits", "lines")] + \
        ["outsourced_share"]
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


def _frames():
    rng = np.random.default_rng(7)
    n = 400
    pids = [f"id:p{i}" for i in range(12)]
    days = [dt.date(2019, 1, 1) + dt.timedelta(days=int(d)) for d in rng.integers(0, 2000, n)]
    commits = pd.DataFrame({"sha": [f"{i:040x}" for i in range(n)],
                            "person_id": pd.array([pids[i] for i in rng.integers(0, 12, n)], dtype="str"),
                            "author_day": pd.Series(days, dtype=object),
                            "added": rng.integers(0, 500, n)})
    commits.loc[[3, 4], "person_id"] = np.nan            # no person
    commits.loc[[5, 6], "author_day"] = pd.NaT           # no day: left out, as a grouping leaves it
    commits.loc[7, "person_id"] = "id:stranger"          # not among the people
    people = pd.DataFrame({
        "person_id": pd.array(pids, dtype="str"),
        "type": ["employee", "contractor", "vendor", "founder", "weird", np.nan, "intern", "advisor",
                 "bot", "contractor", "unknown", "vendor"],
        "is_bot": pd.Series([False, False, False, np.nan, False, False, False, False, True, False, np.nan, False],
                            dtype=object)})
    return commits, people


def test_trends_equal_the_pandas_formulation():
    commits, people = _frames()
    got = trends_table(commits, people)
    pd.testing.assert_frame_equal(got, _pandas_trends(commits, people))
    assert got["contractor_lines"].sum() > 0 and got["vendor_commits"].sum() > 0
    assert got["commits"].sum() == len(commits) - 2 - (commits["person_id"] == "id:p8").sum()   # no day, bot


def test_trends_all_bots_or_empty():
    commits, people = _frames()
    bots = people.assign(is_bot=True)
    pd.testing.assert_frame_equal(trends_table(commits[commits["person_id"].notna()
                                                       & (commits["person_id"] != "id:stranger")], bots),
                                  _pandas_trends(commits[commits["person_id"].notna()
                                                         & (commits["person_id"] != "id:stranger")], bots))
    assert list(trends_table(commits.iloc[0:0], people).columns) == list(_pandas_trends(commits.iloc[:1], bots).columns)
