"""ddkit.schema.typed: a column's dtype comes from its declaration, never from what it holds; missing values
become pd.NA / NaT; values.records gives the analyses' plain values back (what the reports write)."""

import datetime as dt

import numpy as np
import pandas as pd

from ddkit.schema import DTYPES, KIND_DTYPES, SEVERITY_TYPE, typed
from ddkit.values import records


def _findings(rows):
    return pd.DataFrame(rows, columns=["id", "severity", "commits", "first_commit", "files", "person", "rolled_up"])


def test_dtype_does_not_depend_on_contents():
    full = typed(_findings([["a", "high", 3.0, dt.date(2024, 1, 2), ["x.py"], "Ann", True]]), "findings")
    missing = typed(_findings([["b", "low", None, None, None, None, None]]), "findings")
    nan = typed(_findings([["c", "info", float("nan"), float("nan"), float("nan"), float("nan"), float("nan")]]), "findings")
    empty = typed(_findings([]), "findings")
    for c in ["severity", "commits", "first_commit", "files", "person", "rolled_up"]:
        assert full[c].dtype == missing[c].dtype == nan[c].dtype == empty[c].dtype == \
            KIND_DTYPES[DTYPES["findings"][c]], c
    assert set(DTYPES["findings"]) <= set(empty.columns)     # an empty table has every declared column
    assert missing["commits"].iloc[0] is pd.NA and nan["person"].iloc[0] is pd.NA
    assert missing["first_commit"].iloc[0] is pd.NaT and missing["files"].iloc[0] is pd.NA
    assert full["commits"].iloc[0] == 3 and str(full["commits"].dtype) == "Int64"


def test_severity_order_reads_as_written():
    df = typed(_findings([[str(i), s, 1, None, None, None, None]
                          for i, s in enumerate(["low", "critical", "info", "high", "medium"])]), "findings")
    assert df["severity"].dtype == SEVERITY_TYPE
    assert sorted(df.loc[df["severity"] >= "high", "severity"].astype(str)) == ["critical", "high"]
    assert list(df.sort_values("severity", ascending=False)["severity"].astype(str)) == \
        ["critical", "high", "medium", "low", "info"]


def test_out_of_range_dates_are_nat_and_counted():
    oor: list = []
    df = typed(_findings([["a", "high", 1, dt.date(2500, 1, 1), None, None, None],
                          ["b", "high", 1, dt.date(2020, 5, 6), None, None, None]]), "findings", oor)
    assert sum(oor) == 1 and df["first_commit"].iloc[0] is pd.NaT
    assert df["first_commit"].iloc[1] == pd.Timestamp("2020-05-06")


def test_records_give_the_plain_values_back():
    df = typed(_findings([["a", "high", 3, dt.date(2024, 1, 2), ["x.py"], "Ann", True],
                          ["b", "low", None, None, None, None, None]]), "findings")
    recs = records(df[["id", "severity", "commits", "first_commit", "files", "person", "rolled_up"]])
    assert recs[0] == {"id": "a", "severity": "high", "commits": 3, "first_commit": dt.date(2024, 1, 2),
                       "files": ["x.py"], "person": "Ann", "rolled_up": True}
    assert type(recs[0]["commits"]) is int and type(recs[0]["first_commit"]) is dt.date
    assert recs[1] == {"id": "b", "severity": "low", "commits": None, "first_commit": None, "files": None,
                       "person": None, "rolled_up": None}


def test_instants_are_utc_nanoseconds():
    df = typed(pd.DataFrame({"sha": ["a"], "author_date": pd.to_datetime([1_700_000_000], unit="s", utc=True)}), "commits")
    assert str(df["author_date"].dtype) == "datetime64[ns, UTC]"
    assert df["author_date"].iloc[0] == pd.Timestamp(1_700_000_000, unit="s", tz="UTC")
    assert np.dtype("datetime64[ns]") == KIND_DTYPES["day"]
