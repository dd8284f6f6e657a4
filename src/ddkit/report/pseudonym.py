"""Pseudonymized reports for data rooms: people become "Contributor 07", e-mail addresses disappear.

Types and vendors are kept (they are what the reader needs); the mapping is stable for the same input
(ordered by surviving lines, then commits, then name) and written to a separate key file only when asked.
"""

from __future__ import annotations

import copy
import csv
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from ..scan import Scan

_EMAIL = re.compile(r"[\w.+\-\[\]]+@[\w\-]+(?:\.[\w\-]+)+")


def mapping(people: pd.DataFrame) -> dict[str, str]:
    humans = people[~people["is_bot"]] if len(people) else people
    order = humans.sort_values(["surviving_lines", "commits", "person"], ascending=[False, False, True], kind="stable")
    width = max(2, len(str(len(order))))
    return {p: f"Contributor {i:0{width}d}" for i, p in enumerate(order["person"], start=1)}


def _replacer(people: pd.DataFrame, names: dict[str, str]):
    aliases: dict[str, str] = {}
    for r in people.itertuples():
        if r.person not in names:
            continue
        aliases[r.person] = names[r.person]
        for n in (r.names if isinstance(r.names, list) else []):
            if len(n) >= 3:
                aliases.setdefault(n, names[r.person])
    keys = sorted(aliases, key=len, reverse=True)
    rx = re.compile("|".join(re.escape(k) for k in keys)) if keys else None

    def fix(v: Any) -> Any:
        if isinstance(v, str):
            v = _EMAIL.sub("[e-mail removed]", v)
            return rx.sub(lambda m: aliases[m.group(0)], v) if rx else v
        if isinstance(v, list):
            return [fix(x) for x in v]
        return v
    return fix


def frame(df: pd.DataFrame, fix) -> pd.DataFrame:
    """Every text cell of *df* with names replaced and e-mail addresses removed."""
    if df is None or df.empty:
        return df
    df = df.copy()
    for c in df.columns:
        if df[c].dtype == object or str(df[c].dtype).startswith("str"):
            df[c] = df[c].map(fix)
    return df


def people_frame(people: pd.DataFrame, names: dict[str, str], fix) -> pd.DataFrame:
    out = people.copy()
    out["person"] = out["person"].map(lambda p: names.get(p, p))
    for c in ("emails", "names", "roster_emails"):
        if c in out:
            out[c] = [[] for _ in range(len(out))]
    for col in [c for c in out.columns if c not in ("person", "emails", "names", "roster_emails")]:
        if out[col].dtype == object:
            out[col] = out[col].map(fix)
    return out


def pseudonymized(s: "Scan") -> "Scan":
    names = mapping(s.people)
    fix = _replacer(s.people, names)
    out = copy.copy(s)
    out.people = people_frame(s.people, names, fix)
    out.findings = frame(s.findings, fix)
    out.remediation = frame(s.remediation, fix)
    out.ownership = frame(s.ownership, fix)
    out.licenses = frame(s.licenses, fix)
    out.dependencies = frame(s.dependencies, fix)   # deps
    out.bus_factor = frame(s.bus_factor, fix)
    out.identities = frame(s.identities.drop(columns=["email_raw", "email", "email_key"], errors="ignore"), fix)
    out.commits = frame(s.commits.drop(columns=["author_email_raw", "committer_email_raw", "author_email"],
                                       errors="ignore"), fix)
    out.extras = dict(s.extras)
    out.extras["sheet_tables"] = {sheet: {t: frame(df, fix) for t, df in tables.items()}
                                  for sheet, tables in s.extras.get("sheet_tables", {}).items()}
    if "security" in s.extras:
        out.extras["security"] = frame(s.extras["security"], fix)
    out.warnings = [fix(w) for w in s.warnings]
    return out


def write_key(s: "Scan", path: str | Path) -> Path:
    names = mapping(s.people)
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    with open(p, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["pseudonym", "person", "emails"])
        for r in s.people.itertuples():
            if r.person in names:
                w.writerow([names[r.person], r.person, "; ".join(r.emails)])
    return p
