"""Dates: the one format ddkit reads from its users, ISO ``YYYY-MM-DD``, and the one way it writes a day
and a period.

Every input that carries a date (roster cells, the company profile's ``incorporation_date``, triage
decisions, ``--as-of``) goes through :func:`parse_iso_date`, so that ``26/11/2026`` (day first or month
first?), ``20261126`` or an Excel serial number such as ``46352`` is refused with the value quoted instead of
being read one way or another. ``datetime.date.fromisoformat`` alone is not enough: since Python 3.11 it also
accepts ``20261126`` and week dates (``2026-W48-4``).

A real date value (a spreadsheet's date cell, a YAML date, a pandas ``Timestamp``) is a date already and is
taken as it is; a time of day of midnight (what a spreadsheet or ``pd.to_datetime`` adds) is accepted.

:func:`parse_date` is what an input reader calls: the same parse, and a bad value is an :class:`InputError`
naming where it was found (the file, and the row, key or line) and quoting it.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[ T]00:00(?::00(?:\.0+)?)?)?")
# A date and any time of day (a date cell written back as text by a spreadsheet: "2026-11-26 14:05:00").
_ISO_TIME = re.compile(r"(\d{4}-\d{2}-\d{2})[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?")


def parse_date(value: Any, what: str, where: str = "", any_time: bool = False) -> dt.date | None:
    """:func:`parse_iso_date` for an input: None for an empty value, else the date, else an
    :class:`~ddkit.errors.InputError` ``"<where>: <what> '<value>' is not an ISO date (YYYY-MM-DD)"``
    (*where*: the file with the row, key or line; *what*: the column, key or option). *any_time*: text with
    a time of day other than midnight is that day (a spreadsheet's date cell written back as text)."""
    from .errors import InputError
    try:
        if any_time and isinstance(value, str):
            m = _ISO_TIME.fullmatch(value.strip())
            if m is not None:
                return parse_iso_date(m.group(1))
        return parse_iso_date(value)
    except ValueError:
        raise InputError(f"{where}: {what} '{value}' is not an ISO date (YYYY-MM-DD)" if where else
                         f"{what} '{value}' is not an ISO date (YYYY-MM-DD)") from None


def format_day(value: Any) -> str | None:
    """A day as ``YYYY-MM-DD`` (a date, a datetime or a pandas ``Timestamp``: its day; ISO text: its first ten
    characters), None for a missing value."""
    t = type(value)   # the common types first (an analysis formats a day per row)
    if t is str:
        return value[:10]
    if t is dt.date:
        return value.isoformat()
    if value is None:
        return None
    if isinstance(value, dt.datetime):                   # (and pandas' Timestamp; NaT is missing)
        return None if value != value else value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    import pandas as pd
    try:
        if pd.isna(value):                               # NaN, pandas NA, numpy NaT
            return None
    except (TypeError, ValueError):
        pass
    return str(value)[:10]


def format_period(start: Any, end: Any) -> str | None:
    """A period of days as the reports write it: ``"START to END"``, one day alone when both are the same
    day, the known one when the other is missing, None when neither is known."""
    a, b = format_day(start), format_day(end)
    if a and b:
        return a if a == b else f"{a} to {b}"
    return a or b


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
