"""Plain values taken out of DataFrames (``.tolist()``): what counts as a missing one."""

from __future__ import annotations

from typing import Any

import pandas as pd


def is_missing(v: Any) -> bool:
    """None, NaN (how a missing value of a float or string column comes out of ``.tolist()``) or pandas'
    NA (a nullable column): what ``pd.isna`` says of a scalar, without its cost per call."""
    return v is None or v is pd.NA or (isinstance(v, float) and v != v)
