"""Values safe for a report: no formula from repository text, no illegal XML, no silent truncation."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

# Excel's cell limit is 32,767 characters; keep well under it and say so when cutting.
MAX_CELL = 32000
CUT_MARKER = " … [cut: {n} more characters]"
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def clean_text(s: str, limit: int = MAX_CELL) -> str:
    """Replace characters XML cannot hold with U+FFFD; cut long text with a visible marker."""
    s = _ILLEGAL_XML.sub("\ufffd", s)
    if len(s) > limit:
        rest = len(s) - limit
        s = s[:limit] + CUT_MARKER.format(n=rest)
    return s


def is_formula_like(s: str) -> bool:
    return s.startswith(_FORMULA_START)


def plain(v: Any) -> Any:
    """A Python value for a cell or JSON: lists joined, NaN/NaT to None, numpy scalars unwrapped."""
    t = type(v)
    if t is str or t is int or t is bool:   # most values: the checks below would return them unchanged
        return v
    if t is float:                          # the same answers as the checks below, for the other common types
        return None if v != v else v
    if t is dt.date:
        return v
    if t is dt.datetime:
        return v if v.tzinfo is None else v.replace(tzinfo=None)
    if v is None:
        return None
    if isinstance(v, (list, tuple, set)):
        return "; ".join(str(plain(x)) for x in v)
    if isinstance(v, dict):
        return "; ".join(f"{k}: {plain(x)}" for k, x in v.items())
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and math.isnan(v):
        return None
    if v is pd.NaT:
        return None
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime().replace(tzinfo=None)
    if isinstance(v, dt.datetime) and v.tzinfo is not None:
        return v.replace(tzinfo=None)
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):   # a list or an array: not a missing value
        pass
    return v


def json_value(v: Any) -> Any:
    """A JSON-ready value: dates as ISO strings, lists kept as lists."""
    t = type(v)   # the common cases first (the JSON report converts ~60,000 values on pip)
    if t is str:
        return v if v.isascii() else v.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    if t is int or t is bool or v is None:
        return v
    if isinstance(v, (list, tuple, set)):
        return [json_value(x) for x in v]
    if isinstance(v, dict):
        return {json_value(str(k)): json_value(x) for k, x in v.items()}
    if isinstance(v, np.ndarray):
        return [json_value(x) for x in v.tolist()]
    if isinstance(v, np.generic):
        v = v.item()
    if v is None or v is pd.NaT or v is pd.NA:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    if isinstance(v, str):
        return v.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return v


def json_bytes(data: Any) -> bytes:
    """UTF-8 JSON for a report. Every string goes through :func:`json_value` first: paths and names from
    git may hold undecodable bytes (kept as surrogates), which UTF-8 cannot encode; they become U+FFFD."""
    return (json.dumps(json_value(data), indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def write_json(data: dict[str, Any], path: Path | None) -> dict[str, Any]:
    """Write a JSON report atomically when *path* is given; return the document either way."""
    if path is not None:
        from ..fsutil import atomic_write
        atomic_write(path, json_bytes(data))   # any path bytes (undecodable ones become U+FFFD)
    return data
