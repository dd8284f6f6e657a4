"""ddkit.isodate: the one parser of the dates users give (with where in the error) and the one way a day
and a period are written."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from ddkit.errors import InputError
from ddkit.isodate import format_day, format_period, parse_date

D = dt.date(2026, 11, 26)


@pytest.mark.parametrize("value", ["2026-11-26", " 2026-11-26 ", "2026-11-26 00:00:00", "2026-11-26T00:00",
                                   D, dt.datetime(2026, 11, 26), pd.Timestamp("2026-11-26"),
                                   np.datetime64("2026-11-26")])
def test_parse_date_accepts_iso_days_and_date_values(value):
    assert parse_date(value, "start_date", "roster.csv, row 3") == D


@pytest.mark.parametrize("value", [None, "", "  ", float("nan"), pd.NaT, pd.NA])
def test_parse_date_missing_is_none(value):
    assert parse_date(value, "start_date", "roster.csv, row 3") is None


@pytest.mark.parametrize("value", ["26/11/2026", "20261126", "2026-W48-4", "2026-02-30", 46352, "2026-11-26 14:05"])
def test_parse_date_names_where_and_quotes_the_value(value):
    with pytest.raises(InputError) as e:
        parse_date(value, "start_date", "roster.csv, row 3")
    assert str(e.value) == f"roster.csv, row 3: start_date '{value}' is not an ISO date (YYYY-MM-DD)"
    with pytest.raises(InputError) as e:
        parse_date(value, "--as-of")
    assert str(e.value) == f"--as-of '{value}' is not an ISO date (YYYY-MM-DD)"


def test_any_time_takes_the_day_of_a_date_and_time():
    assert parse_date("2026-11-26 14:05:00", "triage date", "w.xlsx", any_time=True) == D
    assert parse_date("2026-11-26T14:05:00+01:00", "triage date", "w.xlsx", any_time=True) == D
    with pytest.raises(InputError):      # still ISO only
        parse_date("26/11/2026 14:05", "triage date", "w.xlsx", any_time=True)


@pytest.mark.parametrize("value, want", [(D, "2026-11-26"), (dt.datetime(2026, 11, 26, 13), "2026-11-26"),
                                         (pd.Timestamp("2026-11-26 13:00", tz="UTC"), "2026-11-26"),
                                         ("2026-11-26 13:00:00", "2026-11-26"), (None, None), (pd.NaT, None),
                                         (float("nan"), None), (np.datetime64("NaT"), None),
                                         (np.datetime64("2026-11-26T13:00"), "2026-11-26")])
def test_format_day(value, want):
    assert format_day(value) == want
    # the same as the reports' str(value)[:10] wherever a value is present
    if want is not None:
        assert format_day(value) == str(value)[:10]


def test_format_period():
    a, b = dt.date(2024, 1, 2), dt.date(2025, 3, 4)
    assert format_period(a, b) == "2024-01-02 to 2025-03-04"
    assert format_period(a, a) == "2024-01-02"
    assert format_period(a, None) == "2024-01-02" and format_period(None, b) == "2025-03-04"
    assert format_period(None, None) is None
