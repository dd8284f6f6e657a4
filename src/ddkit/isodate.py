"""The one date format ddkit reads from its users: ISO ``YYYY-MM-DD``.

Every input that carries a date (roster cells, the company profile's ``incorporation_date``, triage
decisions, ``--as-of``) goes through :func:`parse_iso_date`, so that ``26/11/2026`` (day first or month
first?), ``20261126`` or an Excel serial number such as ``46352`` is refused with the value quoted instead of
being read one way or another. ``datetime.date.fromisoformat`` alone is not enough: since Python 3.11 it also
accepts ``20261126`` and week dates (``2026-W48-4``).

A real date value (a spreadsheet's date cell, a YAML date, a pandas ``Timestamp``) is a date already and is
taken as it is; a time of day of midnight (what a spreadsheet or ``pd.to_datetime`` adds) is accepted.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[ T]00:00(?::00(?:\.0+)?)?)?")


def parse_iso_date(value: Any) -> dt.date | None:
    """A date from *value*, None for an empty value; ``ValueError`` for anything that is not an ISO date.

    Accepted: ``datetime.date``/``datetime.datetime`` (and pandas ``Timestamp``, a datetime), numpy
    ``datetime64``, and text ``YYYY-MM-DD`` (optionally followed by a midnight time, as spreadsheets write
    dates). Missing values (None, NaN, NaT, pandas NA, empty or blank text) are None.
    """
    if value is None or value is _pd_na():
        return None
    if isinstance(value, float) and value != value:      # NaN: a blank cell of a float column
        return None
    if isinstance(value, dt.datetime):                   # (pandas' NaT is a datetime subclass: missing)
        return None if value != value else value.date()
    if isinstance(value, dt.date):
        return value
    if type(value).__name__ == "datetime64":             # numpy, without importing it here
        import numpy as np
        if np.isnat(value):
            return None
        return dt.date.fromisoformat(str(value.astype("datetime64[D]")))
    if isinstance(value, bool) or not isinstance(value, str):
        # A number is no date: an Excel serial (46352), 20261126 or 2026 must not be guessed at.
        raise ValueError(f"'{value}' is not an ISO date (YYYY-MM-DD)")
    text = value.strip()
    if not text:
        return None
    m = _ISO.fullmatch(text)
    if m is None:
        raise ValueError(f"'{text}' is not an ISO date (YYYY-MM-DD)")
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise ValueError(f"'{text}' is not a calendar date") from None


def _pd_na() -> Any:
    try:
        import pandas as pd
    except ImportError:   # pragma: no cover (pandas is a dependency)
        return object()
    return pd.NA
