"""Credentials out of every report: a token the scanned repository carries in a dependency's URL
(``pkg @ git+https://user:token@host/…``, ``https://host/x.whl?token=…``), a remote or a warning is
never copied into a report (README: threat model). Applied by :func:`ddkit.report.write` to the tables
reports show, for every format, so they all say the same; a cell changes only when it held one."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import pandas as pd

from ..gitutil import strip_credentials

# The tables that carry text from the repository's files (evidence, versions, license texts); people and
# ownership hold names and paths only, and cost a tenth of a second on pip for nothing.
SHOWN_TABLES = ("findings", "remediation", "dependencies", "licenses", "security", "rewrite_scope", "retention",
                "bus_factor", "simulations")


def _clean(v: Any) -> Any:
    # Text cells only: the lists and dicts in cells hold paths, names and periods (a roll-up's thousands
    # of files cost 30 ms on pip), never text quoted from a file. A credential in a file's text comes as
    # user information ("@"), a query parameter ("?") or an assignment ("="): the quick test first.
    if isinstance(v, str) and ("@" in v or "?" in v or "=" in v):
        return strip_credentials(v)
    return v


def frame(df: pd.DataFrame | None) -> pd.DataFrame | None:
    """*df* with credentials stripped from its text cells; *df* itself when none held one."""
    if df is None or not isinstance(df, pd.DataFrame) or df.empty:
        return df
    out = None
    for c in df.columns:
        col = df[c]
        if not (pd.api.types.is_object_dtype(col.dtype) or pd.api.types.is_string_dtype(col.dtype)):
            continue
        values = col.tolist()
        new = [_clean(v) for v in values]
        if new != values:
            if out is None:
                out = df.copy()
            out[c] = pd.Series(new, index=df.index, dtype=col.dtype if col.dtype != object else object)
    return df if out is None else out


def scan(s: Any) -> Any:
    changed: dict[str, Any] = {}
    for name in SHOWN_TABLES:
        df = getattr(s, name, None)
        new = frame(df)
        if new is not df:
            changed[name] = new
    warnings = [strip_credentials(w) for w in s.warnings]
    if warnings != s.warnings:
        changed["warnings"] = warnings
    return dataclasses.replace(s, **changed) if changed else s


def portfolio(p: Any) -> Any:
    results = []
    for r in p.results:
        r2 = copy.copy(r)
        for name in ("findings", "remediation", "dependencies", "people"):
            setattr(r2, name, frame(getattr(r, name)))
        r2.warnings = [strip_credentials(w) for w in r.warnings]
        results.append(r2)
    return dataclasses.replace(p, results=results)
