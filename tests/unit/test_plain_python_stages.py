"""Stages of a re-scan counted in plain Python instead of pandas merges and group-bys: each equals the
pandas version it replaced, on random inputs with missing values, repeats and no matches."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd

from ddkit.analyze import people as P
from ddkit.analyze import security as S


def _old_suppression_counts(history: pd.DataFrame, tree: pd.DataFrame) -> dict[str, dict[str, int]]:
    both = pd.concat([d for d in (history, tree) if len(d)], ignore_index=True) if (len(history) or len(tree)) \
        else pd.DataFrame(columns=["action", "reason", "fingerprint"])
    out: dict[str, dict[str, int]] = {}
    for action, key in (("suppress", "suppressed"), ("downgrade", "downgraded")):
        sub = both[both["action"] == action]
        out[key] = {str(r): int(n) for r, n in sub.groupby("reason")["fingerprint"].size().items()}
        reported = set(both.loc[both["action"] == "report", "fingerprint"])
        only = sub[~sub["fingerprint"].isin(reported)]
        out[key + "_secrets"] = {str(r): int(n) for r, n in only.groupby("reason")["fingerprint"].nunique().items()}
    return out


def test_suppression_counts_equal_the_group_bys():
    rng = random.Random(5)

    def frame() -> pd.DataFrame:
        n = rng.randint(0, 8)
        df = pd.DataFrame({"action": [rng.choice(["report", "suppress", "downgrade", None]) for _ in range(n)],
                           "reason": [rng.choice(["a", "b", "", None, "c d"]) for _ in range(n)],
                           "fingerprint": [rng.choice(["f1", "f2", "f3", None]) for _ in range(n)]})
        return df.astype(pd.StringDtype("python", na_value=np.nan)) if n and rng.random() < .5 else df
    for _ in range(1000):
        history, tree = frame(), frame()
        assert repr(S.suppression_counts(history, tree)) == repr(_old_suppression_counts(history, tree))


def _old_attach_coauthors(co: pd.DataFrame, commits: pd.DataFrame, identities: pd.DataFrame) -> pd.DataFrame:
    if co.empty or commits.empty:
        return commits.iloc[0:0].assign(coauthor=pd.Series(dtype=bool))
    ids = identities[["name_raw", "email_raw", "person_id"]].rename(
        columns={"name_raw": "author_name_raw", "email_raw": "author_email_raw", "person_id": "co_person_id"})
    c = co.merge(ids, on=["author_name_raw", "author_email_raw"], how="left")
    base = commits.drop(columns=["person_id"]).merge(c[["sha", "co_person_id"]], on="sha", how="inner")
    base = base.rename(columns={"co_person_id": "person_id"})
    own = base["person_id"] == base["sha"].map(dict(zip(commits["sha"].tolist(), commits["person_id"].tolist())))
    out = base[~own & base["person_id"].notna()].drop_duplicates(["sha", "person_id"])
    return out.assign(coauthor=True).reset_index(drop=True)


def test_attach_coauthors_equals_the_merges():
    rng = random.Random(7)
    text = pd.StringDtype("python", na_value=np.nan)
    names = [("Ann", "ann@x"), ("Bob", "bob@x"), ("Cy", "cy@x"), ("Dee", "dee@x"), ("Eve", "eve@x")]
    for _ in range(300):
        known = rng.sample(names, rng.randint(0, len(names)))
        identities = pd.DataFrame({"name_raw": [n for n, _ in known], "email_raw": [e for _, e in known],
                                   "person_id": [rng.choice(["p1", "p2", "p3", None]) for _ in known]}).astype(text)
        n = rng.randint(1, 8)
        commits = pd.DataFrame({"sha": [f"s{i}" for i in range(n)],
                                "person_id": [rng.choice(["p1", "p2", None]) for _ in range(n)],
                                "lines": [rng.randint(0, 9) for _ in range(n)],
                                "day": [f"2021-01-0{rng.randint(1, 9)}" for _ in range(n)]})
        commits = commits.astype({"sha": text, "person_id": text})
        co_rows = [(f"s{rng.randint(0, n + 1)}", *rng.choice(names)) for _ in range(rng.randint(0, 10))]
        co = pd.DataFrame(co_rows, columns=["sha", "author_name_raw", "author_email_raw"]).astype(text)
        got, want = P.attach_coauthors(co, commits, identities), _old_attach_coauthors(co, commits, identities)
        pd.testing.assert_frame_equal(got, want, check_exact=True)
        assert [type(v) for v in got["person_id"].tolist()] == [type(v) for v in want["person_id"].tolist()]
